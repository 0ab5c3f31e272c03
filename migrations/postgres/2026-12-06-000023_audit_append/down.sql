DROP FUNCTION orderwatch_audit_newest();
