-- An agency, once registered, is never changed or removed: orders, breaches, shares and the audit log refer to it
-- by code, and every server keeps the agencies it has read in memory (src/db/agencies.rs, AgencyCache). A feature
-- that renames or retires an agency must drop these triggers and invalidate that cache on every replica.
CREATE TRIGGER agencies_no_update BEFORE UPDATE ON agencies
BEGIN
    SELECT RAISE(ABORT, 'agencies cannot be changed or removed once registered');
END;
CREATE TRIGGER agencies_no_delete BEFORE DELETE ON agencies
BEGIN
    SELECT RAISE(ABORT, 'agencies cannot be changed or removed once registered');
END;
