-- The chain's newest hash, for the audit writer's one-statement append (src/db/audit/batch.rs). The writer chains a
-- batch in memory from the newest hash it knows and sends one statement that takes the append lock, then calls
-- this, then inserts the batch only if its first entry follows the hash returned. Called after the lock is granted,
-- a volatile function reads with a snapshot of its own, so it sees every append the lock waited for (the statement's
-- own snapshot, taken before the lock, may not).
--
-- Read by dynamic SQL, so it is planned afresh on each call: a plan kept from a small log's statistics would scan the
-- whole log (docs/decisions/0007-statements-shaped-for-plans-that-stay-good.md).
CREATE FUNCTION orderwatch_audit_newest() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    newest text;
BEGIN
    EXECUTE 'SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1' INTO newest;
    RETURN newest;
END
$$;
