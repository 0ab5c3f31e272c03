DROP TRIGGER agencies_no_delete;
DROP TRIGGER agencies_no_update;
