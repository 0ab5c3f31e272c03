-- Deadlines and scheduled checks: the subject's notifications, hearings, the deadlines each order carries, and the
-- alerts scheduled to fire. Keep in step with migrations/postgres (same names, same columns).

CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    kind TEXT NOT NULL,
    notified_at TIMESTAMP NOT NULL,
    changed_on DATE,
    -- The name or address notified: shown to the managing force only.
    details TEXT,
    recorded_by_agency TEXT NOT NULL REFERENCES agencies (code),
    recorded_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notifications_order_id ON notifications (order_id);

CREATE TABLE hearings (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    court_agency TEXT NOT NULL REFERENCES agencies (code),
    scheduled_for TIMESTAMP NOT NULL,
    outcome TEXT,
    held_at TIMESTAMP,
    note TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX hearings_order_id ON hearings (order_id);

-- Re-planned from the order's facts on every change (domain::schedule::plan).
CREATE TABLE deadlines (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    kind TEXT NOT NULL,
    occasion TEXT NOT NULL,
    due_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    met_at TIMESTAMP,
    rule TEXT NOT NULL,
    statute TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (order_id, kind, occasion, due_at)
);
CREATE INDEX deadlines_order_id ON deadlines (order_id);
CREATE INDEX deadlines_due_at ON deadlines (due_at);

-- One row per alert the schedule will raise; the checks read only the pending ones that are due (partial index),
-- so a run costs what is due, not the number of orders.
CREATE TABLE scheduled_alerts (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    kind TEXT NOT NULL,
    occasion TEXT NOT NULL,
    due_at TIMESTAMP NOT NULL,
    fire_at TIMESTAMP NOT NULL,
    state TEXT NOT NULL,
    done_at TIMESTAMP,
    UNIQUE (order_id, kind, due_at, occasion)
);
CREATE INDEX scheduled_alerts_pending ON scheduled_alerts (fire_at) WHERE state = 'PENDING';

-- How late an alert was raised after it should have been (0 when on time).
ALTER TABLE alerts ADD COLUMN late_by_seconds INTEGER NOT NULL DEFAULT 0;
