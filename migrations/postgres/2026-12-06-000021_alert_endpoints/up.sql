-- Where an agency's alerts are delivered besides live subscriptions: signed webhooks into its case or records
-- system, and email to a duty inbox (docs/integrations.md). Each endpoint follows the alerts outbox in seq order with
-- its own cursor (delivered_seq); the replica holding its lease (lease_owner until lease_until) is the only one
-- delivering to it. The signing secret is kept to sign with; rotating keeps the previous one until
-- previous_secret_until, and deliveries meanwhile carry both signatures.
CREATE TABLE alert_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    agency TEXT NOT NULL REFERENCES agencies (code),
    transport TEXT NOT NULL,
    target TEXT NOT NULL,
    kinds TEXT NOT NULL,
    secret TEXT,
    previous_secret TEXT,
    previous_secret_until TIMESTAMP,
    state TEXT NOT NULL,
    delivered_seq BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    failing_since TIMESTAMP,
    last_error TEXT,
    last_attempt_at TIMESTAMP,
    lease_owner TEXT,
    lease_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX alert_endpoints_agency ON alert_endpoints (agency);
CREATE INDEX alert_endpoints_state ON alert_endpoints (state);
