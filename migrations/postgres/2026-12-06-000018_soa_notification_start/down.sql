ALTER TABLE orders DROP COLUMN soa_notification_start_day;
