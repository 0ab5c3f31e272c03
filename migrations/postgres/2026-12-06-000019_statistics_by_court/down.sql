DROP INDEX applications_statistics_court;
CREATE INDEX applications_statistics_court ON applications
  (court_outcome_on, force_agency, order_type, court_outcome, court_refusal_reason, made_to_court_on, order_made_on);
DROP INDEX applications_statistics_to_court;
CREATE INDEX applications_statistics_to_court ON applications (made_to_court_on, force_agency, order_type, reported_on);
DROP INDEX applications_statistics_force;
CREATE INDEX applications_statistics_force ON applications
  (internal_decision_on, force_agency, order_type, internal_decision, internal_refusal_reason);
DROP INDEX breaches_statistics_outcome;
CREATE INDEX breaches_statistics_outcome ON breaches (outcome_at, outcome, force_agency, order_type, occurred_at);
DROP INDEX breaches_statistics_occurred;
CREATE INDEX breaches_statistics_occurred ON breaches (occurred_at, force_agency, order_type, recorded_as_crime);
DROP INDEX orders_statistics;
CREATE INDEX orders_statistics ON orders (made_on, applicant_agency, order_type, expires_on, ended_on, served_at);
ALTER TABLE breaches DROP COLUMN court_agency;
