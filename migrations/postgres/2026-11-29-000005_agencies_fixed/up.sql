-- An agency, once registered, is never changed or removed: orders, breaches, shares and the audit log refer to it
-- by code, and every server keeps the agencies it has read in memory (src/db/agencies.rs, AgencyCache). A feature
-- that renames or retires an agency must drop these triggers and invalidate that cache on every replica.
CREATE FUNCTION agencies_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'agencies cannot be changed or removed once registered';
END;
$$;
CREATE TRIGGER agencies_no_change BEFORE UPDATE OR DELETE ON agencies
    FOR EACH ROW EXECUTE FUNCTION agencies_fixed();
CREATE TRIGGER agencies_no_truncate BEFORE TRUNCATE ON agencies
    FOR EACH STATEMENT EXECUTE FUNCTION agencies_fixed();
