-- What statistics read, kept where a query can reach it without reading every order (docs/statistics.md).
--
-- The day an order stopped being in force before its term ran out (discharged, replaced, ceased, quashed, lapsed):
-- the court's decision date, or the London date the change was recorded when it has none. Written with the change
-- from now on; here taken from each order's first such version (recorded_at is UTC without a zone).
ALTER TABLE orders ADD COLUMN ended_on DATE;
UPDATE orders SET ended_on = (
  SELECT COALESCE(v.decided_on,
    ((v.recorded_at AT TIME ZONE 'UTC') AT TIME ZONE 'Europe/London')::date)
  FROM order_versions v
  WHERE v.order_id = orders.id AND v.status NOT IN ('IN_FORCE', 'EXPIRED')
  ORDER BY v.version LIMIT 1);

-- A breach carries its order's force and type (neither changes once the order is made) and when its current
-- outcome was recorded, so that a period's breaches and outcomes are counted from the breaches alone.
ALTER TABLE breaches ADD COLUMN force_agency TEXT NOT NULL DEFAULT '';
ALTER TABLE breaches ADD COLUMN order_type TEXT NOT NULL DEFAULT '';
ALTER TABLE breaches ADD COLUMN outcome_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE breaches SET
  force_agency = (SELECT o.applicant_agency FROM orders o WHERE o.id = breaches.order_id),
  order_type = (SELECT o.order_type FROM orders o WHERE o.id = breaches.order_id),
  outcome_at = COALESCE((SELECT MAX(bo.recorded_at) FROM breach_outcomes bo WHERE bo.breach_id = breaches.id),
                        breaches.created_at);
-- Written with every breach from now on: no default to fall back on.
ALTER TABLE breaches ALTER COLUMN force_agency DROP DEFAULT, ALTER COLUMN order_type DROP DEFAULT,
  ALTER COLUMN outcome_at DROP DEFAULT;
-- An application granted carries the day its order was made (which does not change).
ALTER TABLE applications ADD COLUMN order_made_on DATE;
UPDATE applications SET order_made_on = (SELECT o.made_on FROM orders o WHERE o.id = applications.order_id)
  WHERE order_id IS NOT NULL;

-- Each index below holds every column its statistics query reads, so the query reads no table row.
CREATE INDEX orders_statistics ON orders (made_on, applicant_agency, order_type, expires_on, ended_on, served_at);
CREATE INDEX order_versions_decided_on ON order_versions (event, decided_on);
CREATE INDEX order_versions_recorded_at ON order_versions (event, recorded_at);
CREATE INDEX breaches_statistics_occurred ON breaches (occurred_at, force_agency, order_type, recorded_as_crime);
CREATE INDEX breaches_statistics_outcome ON breaches (outcome_at, outcome, force_agency, order_type, occurred_at);
CREATE INDEX deadlines_statistics ON deadlines (due_at, kind, status, order_id);
CREATE INDEX applications_statistics_force ON applications
  (internal_decision_on, force_agency, order_type, internal_decision, internal_refusal_reason);
CREATE INDEX applications_statistics_to_court ON applications (made_to_court_on, force_agency, order_type, reported_on);
CREATE INDEX applications_statistics_court ON applications
  (court_outcome_on, force_agency, order_type, court_outcome, court_refusal_reason, made_to_court_on, order_made_on);
