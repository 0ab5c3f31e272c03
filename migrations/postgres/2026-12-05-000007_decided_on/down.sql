ALTER TABLE order_versions DROP COLUMN decided_on;
