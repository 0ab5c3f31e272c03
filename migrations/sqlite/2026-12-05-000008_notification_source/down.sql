ALTER TABLE notifications DROP COLUMN source;
