ALTER TABLE orders DROP COLUMN aware_at;
ALTER TABLE orders DROP COLUMN without_notice;
