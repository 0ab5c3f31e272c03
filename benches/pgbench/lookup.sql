-- The 11 statements orderwatch sends for one audited control-room lookup by reference (captured with log_statement =
-- 'all' from the `order(reference:)` query of benches/load.rs, which selects no history: no versions, breaches,
-- notifications or deadlines; the caller's and the order's agencies come from memory once read, and a connection
-- used a moment ago is not pinged), for pgbench in the same run: the ratio of the server's lookups/s to this
-- script's tps is how much of PostgreSQL's own throughput on the same SQL the server delivers. (pgbench runs the
-- audit transaction once a lookup; the server commits one for a whole batch of lookups.)
-- Run by benches/load.rs as: pgbench -n -M prepared -f benches/pgbench/lookup.sql -D orders=N -c C -j 2 -T S URL
\set n random(1, :orders)
SELECT id, reference, order_type, status, made_on, expires_on, applicant_agency, court_agency, subject_date_of_birth, replaces_order_id, version, service_status, served_at, service_method, served_by_agency, served_by, created_at, updated_at FROM orders WHERE reference = 'LOAD/' || :n LIMIT 1;
SELECT id, order_id, position, name, name_key FROM subject_names WHERE order_id = ANY(ARRAY['seed-' || lpad(:n::text, 8, '0')]) ORDER BY order_id, position;
SELECT id, order_id, position, name, date_of_birth, contact FROM protected_persons WHERE order_id = ANY(ARRAY['seed-' || lpad(:n::text, 8, '0')]) ORDER BY order_id, position;
SELECT id, order_id, position, kind, text, expires_on, added_in_version, removed_in_version FROM conditions WHERE order_id = ANY(ARRAY['seed-' || lpad(:n::text, 8, '0')]) ORDER BY order_id, added_in_version, position;
SELECT id, order_id, protected_person_id, advocacy_agency, recorded_by_agency, recorded_by, created_at, revoked_at, revoked_by_agency FROM order_shares WHERE order_id = ANY(ARRAY['seed-' || lpad(:n::text, 8, '0')]) AND revoked_at IS NULL ORDER BY order_id, created_at;
SELECT id, order_id, court_agency, scheduled_for, outcome, held_at, note, created_at, updated_at FROM hearings WHERE order_id = ANY(ARRAY['seed-' || lpad(:n::text, 8, '0')]) ORDER BY order_id, scheduled_for;
BEGIN;
SELECT pg_advisory_xact_lock(7022629598041763687);
SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1;
INSERT INTO audit_events (id, at, request_id, actor_sub, actor_agency, actor_role, operation, action, object_type, object_ids, fields, recipient, outcome, reason, prev_hash, hash) VALUES (gen_random_uuid()::text, now(), gen_random_uuid()::text, 'pgbench', 'MET', 'POLICE', 'CONSULT', 'order', 'order', 'seed-' || lpad(:n::text, 8, '0'), 'conditions.kind,conditions.text,expiresOn,protectedPersons.name,reference,serviceStatus,status,subject.dateOfBirth,subject.names,type', NULL, 'OK', NULL, md5(random()::text) || md5(random()::text), md5(random()::text) || md5(random()::text));
COMMIT;
