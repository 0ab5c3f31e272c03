-- Entries written with a key carry its id ('' for entries written before the chain was keyed). Keep in step with the other tree.
ALTER TABLE audit_events ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
-- The id a client gave its request (X-Request-Id); request_id is always the server's own.
ALTER TABLE audit_events ADD COLUMN correlation_id TEXT;
