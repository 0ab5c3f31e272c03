-- A police force's applications for orders, from the report that prompted them to the court's decision: the stages
-- that per-force statistics count. Dates only, no narrative: the crime report's date, not its content.
CREATE TABLE applications (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    force_agency TEXT NOT NULL REFERENCES agencies (code),
    order_type TEXT NOT NULL,
    reported_on DATE,
    internal_decision TEXT,
    internal_decision_on DATE,
    internal_refusal_reason TEXT,
    made_to_court_on DATE,
    court_agency TEXT REFERENCES agencies (code),
    court_outcome TEXT,
    court_outcome_on DATE,
    court_refusal_reason TEXT,
    order_id TEXT UNIQUE REFERENCES orders (id),
    note TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX applications_force_agency ON applications (force_agency);
CREATE INDEX applications_court_agency ON applications (court_agency);
