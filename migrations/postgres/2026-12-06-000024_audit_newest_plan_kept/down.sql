CREATE OR REPLACE FUNCTION orderwatch_audit_newest() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    newest text;
BEGIN
    EXECUTE 'SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1' INTO newest;
    RETURN newest;
END
$$;
