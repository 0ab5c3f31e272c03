ALTER TABLE orders DROP COLUMN court_motion;
