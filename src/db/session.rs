//! What every PostgreSQL session of the server is bounded by: lock, statement and idle-in-transaction timeouts, and
//! TCP keepalives on its connections; and the isolation its transactions run at.

/// How long any PostgreSQL session of the server may wait for a lock, run one statement, or sit idle inside a
/// transaction (0 = no bound). A replica frozen while it holds the alert or audit lock then costs the others at
/// most the idle bound (PostgreSQL ends its session and the lock goes with it), and a waiter gives up after the lock
/// bound with `UNAVAILABLE` instead of hanging. TCP keepalives end a half-open connection in about a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgSession {
    pub lock_timeout_ms: u64,
    pub statement_timeout_ms: u64,
    pub idle_in_transaction_timeout_ms: u64,
}

impl Default for PgSession {
    fn default() -> Self {
        PgSession {
            lock_timeout_ms: 5_000,
            statement_timeout_ms: 30_000,
            idle_in_transaction_timeout_ms: 10_000,
        }
    }
}

impl PgSession {
    /// Also READ COMMITTED whatever the database's default: the audit chain's appends read the newest hash in a
    /// statement after taking the append lock, and only at this level does that statement see the append the lock
    /// waited for (`db::audit::append`, `db::audit::append_batch`).
    pub(super) fn set_statements(&self) -> String {
        format!(
            "SET default_transaction_isolation = 'read committed'; SET lock_timeout = {}; SET statement_timeout = {}; SET idle_in_transaction_session_timeout = {};",
            self.lock_timeout_ms, self.statement_timeout_ms, self.idle_in_transaction_timeout_ms
        )
    }
}

/// libpq's TCP keepalive parameters, added to a PostgreSQL URL that does not set its own: a peer gone without a
/// word (a half-open connection) is noticed after 30 s idle and three unanswered probes 10 s apart.
const PG_KEEPALIVES: &[(&str, &str)] = &[
    ("keepalives", "1"),
    ("keepalives_idle", "30"),
    ("keepalives_interval", "10"),
    ("keepalives_count", "3"),
];

/// The URL diesel connects with: the configured one, with [`PG_KEEPALIVES`] it does not set itself.
pub(super) fn with_keepalives(url: &str) -> String {
    let mut out = url.to_string();
    for (key, value) in PG_KEEPALIVES {
        let query = out.split_once('?').map(|(_, q)| q).unwrap_or("");
        if query.split('&').any(|p| p.split('=').next() == Some(key)) {
            continue;
        }
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(&format!("{key}={value}"));
    }
    out
}
