ALTER TABLE orders DROP COLUMN soa_notification_final_day;
ALTER TABLE orders DROP COLUMN soa_notification;
