DROP TRIGGER agencies_no_truncate ON agencies;
DROP TRIGGER agencies_no_change ON agencies;
DROP FUNCTION agencies_fixed();
