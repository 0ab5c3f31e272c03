-- The chain's newest hash, read by the audit writer's one-statement append (src/db/audit/batch.rs), now with a plan
-- each session keeps. Migration 000023 read it by dynamic SQL, parsed and planned on every call: 11% of
-- PostgreSQL's time in a run of lookups.
--
-- A kept plan must stay good as the log grows (docs/decisions/0007-statements-shaped-for-plans-that-stay-good.md):
-- planned while a new deployment's log holds a few rows, it would be a sequential scan. With sequential scans
-- disabled for the function, the plan is the walk back along the key whatever the log's size when it was made.
-- Like the insert beside it, the read finds `audit_events` through the caller's search_path.
CREATE OR REPLACE FUNCTION orderwatch_audit_newest() RETURNS text LANGUAGE plpgsql VOLATILE
    SET enable_seqscan = off
AS $$
BEGIN
    RETURN (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1);
END
$$;
