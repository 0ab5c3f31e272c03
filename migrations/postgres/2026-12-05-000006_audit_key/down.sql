ALTER TABLE audit_events DROP COLUMN correlation_id;
ALTER TABLE audit_events DROP COLUMN key_id;
