DROP INDEX audit_events_prev_hash;
