-- Breaches and their outcomes, consent to share an order with an advocacy service, and the alert outbox.
-- Keep in step with migrations/postgres (same names, same columns).

CREATE TABLE breaches (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    reported_by_agency TEXT NOT NULL REFERENCES agencies (code),
    reported_by TEXT NOT NULL,
    external_ref TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    description TEXT NOT NULL,
    outcome TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    -- A force's own incident reference identifies a report: a retry finds the breach it already made.
    UNIQUE (reported_by_agency, external_ref)
);
CREATE INDEX breaches_order_id ON breaches (order_id);

CREATE TABLE breach_conditions (
    breach_id TEXT NOT NULL REFERENCES breaches (id),
    condition_id TEXT NOT NULL REFERENCES conditions (id),
    PRIMARY KEY (breach_id, condition_id)
);

CREATE TABLE breach_outcomes (
    id TEXT PRIMARY KEY NOT NULL,
    breach_id TEXT NOT NULL REFERENCES breaches (id),
    outcome TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    recorded_by_agency TEXT NOT NULL REFERENCES agencies (code),
    recorded_by TEXT NOT NULL,
    note TEXT
);
CREATE INDEX breach_outcomes_breach_id ON breach_outcomes (breach_id);

CREATE TABLE order_shares (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    protected_person_id TEXT NOT NULL REFERENCES protected_persons (id),
    advocacy_agency TEXT NOT NULL REFERENCES agencies (code),
    recorded_by_agency TEXT NOT NULL REFERENCES agencies (code),
    recorded_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_by_agency TEXT REFERENCES agencies (code)
);
-- At most one live share per (order, protected person, service).
CREATE UNIQUE INDEX order_shares_active ON order_shares (order_id, protected_person_id, advocacy_agency) WHERE revoked_at IS NULL;
CREATE INDEX order_shares_agency_order ON order_shares (advocacy_agency, order_id);

-- The outbox: an alert exists because the transaction that caused it committed. seq is the cursor that replay and
-- live delivery share; alert-writing transactions take a lock first so that seq order is commit order.
CREATE TABLE alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    dedup_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    breach_id TEXT REFERENCES breaches (id),
    due_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    late BOOLEAN NOT NULL
);
CREATE INDEX alerts_order_id ON alerts (order_id);

CREATE TABLE alert_acks (
    alert_seq INTEGER NOT NULL REFERENCES alerts (seq),
    agency TEXT NOT NULL REFERENCES agencies (code),
    acknowledged_at TIMESTAMP NOT NULL,
    acknowledged_by TEXT NOT NULL,
    PRIMARY KEY (alert_seq, agency)
);
