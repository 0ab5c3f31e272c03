-- Entries written with a key carry its id ('' for entries written before the chain was keyed). Keep in step with the other tree.
ALTER TABLE audit_events ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
