ALTER TABLE order_versions ADD COLUMN decided_on DATE;
