-- Nothing on SQLite. PostgreSQL's migration 000023 adds the function its audit writer calls to append a batch in
-- one statement (docs/decisions/0012-a-lookup-in-one-statement-and-the-audit-head-kept.md); an embedded database
-- has no round trips to save.
SELECT 1;
