-- The floor under any lookup: the one indexed SELECT of the order row by reference and nothing else (no children,
-- no audit record). benches/load.rs runs it with pgbench at the same concurrency as the server's lookup row, so the
-- p99 it reports is what PostgreSQL alone achieves on this machine for the cheapest possible status lookup.
\set n random(1, :orders)
SELECT id, reference, order_type, status, made_on, expires_on, applicant_agency, court_agency, subject_date_of_birth, replaces_order_id, version, service_status, served_at, service_method, served_by_agency, served_by, created_at, updated_at FROM orders WHERE reference = 'LOAD/' || :n LIMIT 1;
