//! The only module that names diesel: the connection enum for both backends, the pool, migrations, transactions,
//! and the queries (in submodules) that turn rows into domain records.
//!
//! This file holds the connection type and the [`Database`] (the pool, the unit of work, migrations); where the
//! database is (`target`), the pool's parts (`pool`), SQL helpers (`sql`), session bounds (`session`) and SQLite
//! upkeep (`upkeep`) have files of their own, and each table its module.

pub mod agencies;
pub mod alerts;
pub mod applications;
pub mod audit;
pub mod breaches;
pub mod codec;
pub mod endpoints;
pub mod listen;
pub mod loader;
pub mod models;
pub mod orders;
pub mod parts;
mod pool;
pub mod reader;
pub mod schedule;
pub mod schema;
pub mod session;
pub mod shares;
mod sql;
pub mod statistics;
pub mod subjects;
pub mod synthetic;
mod target;
pub mod triggers;
pub mod upkeep;

pub use pool::{before_libpq, PoolSettings};
use pool::{ConnectionSetup, Manager, QuietPoolErrors};
pub(crate) use sql::{insert_batch, with_backend};
pub use sql::{is_unique_violation, limit_written, write_transaction, LimitWritten};
pub use target::{Backend, DbTarget, ACCEPTED_URL_FORMS};

use session::with_keepalives;
pub use session::PgSession;

use crate::error::{AppError, AppResult};
use diesel::connection::TransactionManager;
use diesel::connection::{
    AnsiTransactionManager, Instrumentation, InstrumentationEvent, SimpleConnection,
};
use diesel::prelude::*;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Key of the PostgreSQL advisory lock held while migrating, so replicas starting together migrate one at a time.
const MIGRATION_LOCK_KEY: i64 = 0x6f72_6465_7277_6174; // "orderwat"

/// How long an SQLite connection waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 5_000;

/// A pooled PostgreSQL connection that went back to the pool less than this long ago, with every statement it
/// sent answered, is handed out again without a ping (one round trip saved on every busy request). One idle
/// longer, or whose last use had a statement fail, is pinged first, and replaced if the ping fails.
const TRUSTED_AFTER_USE: Duration = Duration::from_secs(1);

/// One connection to either backend; the backend is chosen from the URL scheme.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(diesel::SqliteConnection),
    Pg(diesel::PgConnection),
}

/// The pool and what is known about the backend behind it. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool<Manager>,
    /// The pool's own opener and set-up (r2d2 does not hand them back), for connections outside it: they share its
    /// target, counters and [`ConnectGate`].
    manager: Manager,
    setup: ConnectionSetup,
    /// Registered agencies already read (they never change): see `agencies::AgencyCache`.
    agencies: Arc<agencies::AgencyCache>,
    /// The keys the audit chain is written and verified with (`audit::keys`).
    audit_keys: Arc<crate::domain::audit::AuditKeys>,
    /// The connections of the threads that read without the pool (`reader`), unless turned off.
    reader: Option<Arc<reader::Reader>>,
}

impl Database {
    /// Builds the pool. Connects lazily, so a server can start while the database is briefly down.
    pub fn connect(target: &DbTarget, settings: &PoolSettings) -> anyhow::Result<Database> {
        let manager = Manager {
            target: target.clone(),
            pg_url: with_keepalives(&target.connect),
            pings: Arc::default(),
            gate: Arc::default(),
        };
        let setup = ConnectionSetup {
            counter: Arc::default(),
            busy_timeout_ms: SQLITE_BUSY_TIMEOUT_MS,
            pg_session: settings.pg_session,
        };
        let pool = Pool::builder()
            .max_size(settings.max_size)
            .min_idle(Some(0))
            // `Manager::is_valid` decides which checkouts need a ping (few do).
            .test_on_check_out(true)
            .connection_timeout(settings.connect_timeout)
            .connection_customizer(Box::new(setup.clone()))
            // r2d2 logs every failed attempt at error level; the caller reports the one failure that matters,
            // once, with its cause (a start-up against an unreachable server printed it four times).
            .error_handler(Box::new(QuietPoolErrors))
            .build_unchecked(manager.clone());
        let reader = match target.backend {
            _ if !settings.worker_reads => None,
            Backend::Postgres => reader::PgReader::new(
                &target.connect,
                settings.pg_session,
                settings.connect_timeout,
                setup.counter.clone(),
            )
            .map(|r| reader::Reader::Postgres(Box::new(r))),
            Backend::Sqlite => Some(reader::Reader::Sqlite(Box::new(reader::SqliteReader::new(
                &target.connect,
                setup.counter.clone(),
            )))),
        }
        .map(Arc::new);
        Ok(Database {
            pool,
            manager,
            setup,
            agencies: Arc::default(),
            audit_keys: Arc::default(),
            reader,
        })
    }

    /// The same database, its audit chain written and verified with `keys` (without, entries are unkeyed).
    pub fn with_audit_keys(mut self, keys: crate::domain::audit::AuditKeys) -> Database {
        self.audit_keys = Arc::new(keys);
        self
    }

    /// The keys the audit chain is written and verified with.
    pub fn audit_keys(&self) -> Arc<crate::domain::audit::AuditKeys> {
        self.audit_keys.clone()
    }

    /// While the returned scope lives, the audit log on this thread uses this database's keys: for work on a
    /// connection outside [`Database::run`] (the audit writer's own).
    pub fn audit_key_scope(&self) -> audit::keys::KeyScope {
        audit::keys::KeyScope::enter(self.audit_keys.clone())
    }

    /// For a process about to exit: no new connection is opened from here on (asking for one fails at once), and
    /// this waits, up to `wait`, for those being opened. True if none is left. See [`ConnectGate`].
    pub fn stop_connecting(&self, wait: Duration) -> bool {
        self.manager.gate.stop(wait)
    }

    /// Reads of one statement without the blocking pool (`reader`); `None` when turned off or, on PostgreSQL, when
    /// the URL asks for what its connections do not do.
    pub fn reader(&self) -> Option<&reader::Reader> {
        self.reader.as_deref()
    }

    /// The agency with this code if it has been read before (`agencies::AgencyCache`); `None` says only that it
    /// must be read from the database.
    pub fn known_agency(&self, code: &str) -> Option<crate::domain::order::AgencyRecord> {
        self.agencies.get(code)
    }

    pub fn backend(&self) -> Backend {
        self.manager.target.backend
    }

    /// A connection of its own, outside the pool, set up like pooled ones: for a long-lived writer that should
    /// neither wait for a pooled connection nor hold one from other requests.
    pub fn dedicated_connection(&self) -> AppResult<DbConnection> {
        let mut pooled = self
            .manager
            .connect()
            .map_err(|e| AppError::Unavailable(e.into()))?;
        self.setup
            .on_acquire(&mut pooled)
            .map_err(|e| AppError::Unavailable(e.into()))?;
        Ok(pooled.conn)
    }

    /// Connections open in the pool, and how many of them are idle.
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections)
    }

    /// SQL statements sent since the pool was built.
    pub fn statements_sent(&self) -> u64 {
        self.setup.counter.load(Ordering::Relaxed)
    }

    /// Of those, the connection checks at checkout (a PostgreSQL connection idle for over a second, or whose last
    /// use had a statement fail): what a request costs is the statements less these.
    pub fn pings_sent(&self) -> u64 {
        self.manager.pings.load(Ordering::Relaxed)
    }

    /// Applies pending migrations of this backend's tree; returns the versions applied.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut pooled = self.pool.get()?;
        let applied = match &mut pooled.conn {
            DbConnection::Sqlite(c) => c
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
                .iter()
                .map(|v| v.to_string())
                .collect(),
            DbConnection::Pg(c) => {
                // Unbounded while migrating: another replica may hold the migration lock, and a migration of a
                // large table may take its time. The session's bounds come back afterwards.
                c.batch_execute(
                    &PgSession {
                        lock_timeout_ms: 0,
                        statement_timeout_ms: 0,
                        idle_in_transaction_timeout_ms: 0,
                    }
                    .set_statements(),
                )?;
                diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                    .execute(c)?;
                let result = c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|vs| vs.iter().map(|v| v.to_string()).collect::<Vec<_>>())
                    .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                    .execute(c)?;
                c.batch_execute(&self.setup.pg_session.set_statements())?;
                result?
            }
        };
        Ok(applied)
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, keeping the caller's tracing span.
    pub async fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let agencies = self.agencies.clone();
        let audit_keys = self.audit_keys.clone();
        let span = tracing::Span::current();
        let asked = Instant::now();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let _agencies = agencies::CacheScope::enter(agencies);
            let _keys = audit::keys::KeyScope::enter(audit_keys);
            let mut pooled = pool.get().map_err(|e| AppError::Unavailable(e.into()))?;
            crate::metrics::global().db_wait.observe(asked.elapsed());
            f(&mut pooled.conn)
        })
        .await
        .map_err(AppError::internal)?
    }

    /// True when the database answers a trivial query within `timeout` (readiness probes must answer quickly).
    pub async fn ping(&self, timeout: Duration) -> bool {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            pool.get_timeout(timeout)
                .is_ok_and(|mut p| diesel::sql_query("SELECT 1").execute(&mut p.conn).is_ok())
        })
        .await
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_that_has_stopped_connecting_gives_no_new_connection() {
        let dir = tempfile::tempdir().unwrap();
        let target =
            DbTarget::parse(&format!("sqlite://{}", dir.path().join("t.db").display())).unwrap();
        let db = Database::connect(
            &target,
            &PoolSettings {
                max_size: 2,
                connect_timeout: Duration::from_millis(200),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(db.dedicated_connection().is_ok());
        assert!(db.stop_connecting(Duration::from_secs(1)));
        assert!(db.dedicated_connection().is_err());
    }
}
