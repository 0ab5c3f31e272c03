ALTER TABLE orders DROP COLUMN until_event;
