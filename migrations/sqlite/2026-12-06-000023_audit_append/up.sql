-- Nothing on SQLite. PostgreSQL's migration 000023 adds a unique index on audit_events.prev_hash, so its audit writer
-- can append a batch in one statement (docs/decisions/0012-a-lookup-in-one-statement-and-the-audit-head-kept.md). An
-- embedded database has no round trips to save, and the index's random keys would cost every commit pages.
SELECT 1;
