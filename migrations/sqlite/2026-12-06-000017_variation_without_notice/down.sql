ALTER TABLE order_versions DROP COLUMN aware_at;
ALTER TABLE order_versions DROP COLUMN without_notice;
