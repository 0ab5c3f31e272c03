-- Statistics by court as well as by force (docs/statistics.md): a breach carries its order's court (which does not
-- change once the order is made), and each statistics index holds the court too, so that it still covers its query.
ALTER TABLE breaches ADD COLUMN court_agency TEXT;
UPDATE breaches SET court_agency = (SELECT o.court_agency FROM orders o WHERE o.id = breaches.order_id);

DROP INDEX orders_statistics;
CREATE INDEX orders_statistics ON orders
  (made_on, applicant_agency, court_agency, order_type, expires_on, ended_on, served_at);
DROP INDEX breaches_statistics_occurred;
CREATE INDEX breaches_statistics_occurred ON breaches
  (occurred_at, force_agency, court_agency, order_type, recorded_as_crime);
DROP INDEX breaches_statistics_outcome;
CREATE INDEX breaches_statistics_outcome ON breaches
  (outcome_at, outcome, force_agency, court_agency, order_type, occurred_at);
DROP INDEX applications_statistics_force;
CREATE INDEX applications_statistics_force ON applications
  (internal_decision_on, force_agency, court_agency, order_type, internal_decision, internal_refusal_reason);
DROP INDEX applications_statistics_to_court;
CREATE INDEX applications_statistics_to_court ON applications
  (made_to_court_on, force_agency, court_agency, order_type, reported_on);
DROP INDEX applications_statistics_court;
CREATE INDEX applications_statistics_court ON applications
  (court_outcome_on, force_agency, court_agency, order_type, court_outcome, court_refusal_reason, made_to_court_on,
   order_made_on);
