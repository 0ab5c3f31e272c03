-- Core record: agencies, orders with their subject, protected persons, conditions and version history.
-- Keep in step with migrations/postgres (same names, same columns); tests/api/schema.rs checks both against
-- src/db/schema.rs. Integers are INTEGER here and BIGINT there (both i64); times are UTC TIMESTAMP.

CREATE TABLE agencies (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE orders (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    order_type TEXT NOT NULL,
    status TEXT NOT NULL,
    made_on DATE NOT NULL,
    expires_on DATE,
    applicant_agency TEXT NOT NULL REFERENCES agencies (code),
    court_agency TEXT REFERENCES agencies (code),
    subject_date_of_birth DATE,
    replaces_order_id TEXT REFERENCES orders (id),
    version INTEGER NOT NULL,
    service_status TEXT NOT NULL,
    served_at TIMESTAMP,
    service_method TEXT,
    served_by_agency TEXT REFERENCES agencies (code),
    served_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX orders_status_expires_on ON orders (status, expires_on);
CREATE INDEX orders_expires_on ON orders (expires_on);
CREATE INDEX orders_applicant_agency ON orders (applicant_agency);
CREATE INDEX orders_court_agency ON orders (court_agency);
CREATE INDEX orders_subject_date_of_birth ON orders (subject_date_of_birth);
CREATE INDEX orders_replaces_order_id ON orders (replaces_order_id);

CREATE TABLE subject_names (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL
);
CREATE INDEX subject_names_name_key ON subject_names (name_key);
CREATE INDEX subject_names_order_id ON subject_names (order_id);

CREATE TABLE protected_persons (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    date_of_birth DATE,
    contact TEXT
);
CREATE INDEX protected_persons_order_id ON protected_persons (order_id);

CREATE TABLE conditions (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    expires_on DATE,
    added_in_version INTEGER NOT NULL,
    removed_in_version INTEGER
);
CREATE INDEX conditions_order_id ON conditions (order_id);

CREATE TABLE order_versions (
    order_id TEXT NOT NULL REFERENCES orders (id),
    version INTEGER NOT NULL,
    event TEXT NOT NULL,
    status TEXT NOT NULL,
    expires_on DATE,
    recorded_at TIMESTAMP NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_by_agency TEXT NOT NULL REFERENCES agencies (code),
    note TEXT,
    PRIMARY KEY (order_id, version)
);
