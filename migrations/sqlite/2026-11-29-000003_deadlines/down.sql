ALTER TABLE alerts DROP COLUMN late_by_seconds;
DROP TABLE scheduled_alerts;
DROP TABLE deadlines;
DROP TABLE hearings;
DROP TABLE notifications;
