//! The only module that names diesel: the connection enum for both backends, the pool, migrations, transactions,
//! and the queries (in submodules) that turn rows into domain records.
//!
//! Past 400 lines: the URL, the pool and its connection checks, and the unit of work still share this file; they are
//! the next to move out (session bounds and SQLite upkeep already have files of their own).

pub mod agencies;
pub mod alerts;
pub mod audit;
pub mod breaches;
pub mod models;
pub mod orders;
pub mod parts;
pub mod schedule;
pub mod schema;
pub mod session;
pub mod shares;
pub mod upkeep;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A parsed `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbTarget {
    pub backend: Backend,
    /// What diesel connects with: a file path for SQLite, the URL for PostgreSQL.
    pub connect: String,
}

pub const ACCEPTED_URL_FORMS: &str =
    "sqlite://RELATIVE/PATH.db, sqlite:///ABSOLUTE/PATH.db, postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE or postgresql://...";

impl DbTarget {
    /// Parses a database URL. The error names the accepted forms and never echoes the URL (it may hold a password).
    pub fn parse(url: &str) -> Result<DbTarget, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() || path == ":memory:" || path.starts_with("file:") {
                return Err(format!(
                    "DATABASE_URL for SQLite must name a file (an in-memory database is not shared between connections); accepted forms: {ACCEPTED_URL_FORMS}"
                ));
            }
            return Ok(DbTarget {
                backend: Backend::Sqlite,
                connect: path.to_string(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbTarget {
                backend: Backend::Postgres,
                connect: url.to_string(),
            });
        }
        let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("(none)");
        Err(format!(
            "unsupported DATABASE_URL scheme {scheme:?}; accepted forms: {ACCEPTED_URL_FORMS}"
        ))
    }

    /// Where the database is, for messages: the SQLite file, or PostgreSQL's host, port and database (never the
    /// user or password).
    pub fn describe(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("SQLite file {}", self.connect),
            Backend::Postgres => {
                let rest = self.connect.split_once("://").map(|(_, r)| r).unwrap_or("");
                let at = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
                let place = at.split('?').next().unwrap_or(at);
                format!("PostgreSQL database {place}")
            }
        }
    }

    /// The SQLite file path, when this is SQLite.
    pub fn sqlite_path(&self) -> Option<&str> {
        (self.backend == Backend::Sqlite).then_some(self.connect.as_str())
    }
}

/// Counts SQL statements sent, across every pooled connection: exposed on `/metrics`, and how tests prove that a
/// list costs a constant number of statements. Also marks its connection when a statement fails, so the pool pings
/// it before trusting it again.
#[derive(Clone, Default)]
struct StatementCounter {
    sent: Arc<AtomicU64>,
    failed: Arc<AtomicBool>,
}

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                self.sent.fetch_add(1, Ordering::Relaxed);
            }
            InstrumentationEvent::FinishQuery { error: Some(_), .. } => {
                self.failed.store(true, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

/// A connection in the pool, with what decides whether it needs a ping before its next use.
struct Pooled {
    conn: DbConnection,
    /// When it last went back to the pool.
    returned_at: Option<Instant>,
    /// Set when one of its statements failed (its server may have gone); cleared by the next checkout's ping.
    failed: Arc<AtomicBool>,
}

#[derive(Debug, Clone)]
struct ConnectionSetup {
    counter: Arc<AtomicU64>,
    busy_timeout_ms: u64,
    pg_session: PgSession,
}

impl CustomizeConnection<Pooled, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, pooled: &mut Pooled) -> Result<(), diesel::r2d2::Error> {
        let conn = &mut pooled.conn;
        if let DbConnection::Sqlite(c) = conn {
            // WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.
            c.batch_execute(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = {};",
                self.busy_timeout_ms,
                upkeep::WAL_SIZE_LIMIT
            ))
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        if let DbConnection::Pg(c) = conn {
            c.batch_execute(&self.pg_session.set_statements())
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        conn.set_instrumentation(StatementCounter {
            sent: self.counter.clone(),
            failed: pooled.failed.clone(),
        });
        Ok(())
    }
}

/// Logs the pool's failed connection attempts at debug level only.
#[derive(Debug)]
struct QuietPoolErrors;

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for QuietPoolErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        tracing::debug!(error = %error, "a database connection attempt failed");
    }
}

/// Opens connections to exactly the backend the URL named. (The derived `DbConnection::establish` tries each
/// backend in turn and discards the errors, which would hide why PostgreSQL refused, or open an odd SQLite file.)
#[derive(Debug, Clone)]
struct Manager {
    target: DbTarget,
    /// For PostgreSQL, the URL with keepalives ([`with_keepalives`]).
    pg_url: String,
    /// Connection checks sent at checkout (each is also one of the statements counted).
    pings: Arc<AtomicU64>,
    gate: Arc<ConnectGate>,
}

/// Connections being opened, and whether the process has stopped opening them ([`Database::stop_connecting`]).
///
/// A process must not exit while a thread is inside libpq's connect. A core dump of a graceful stop that aborted
/// (2 of 3,966 stops) showed the pool's connection thread in `PQconnectdb`, inside GSSAPI's `gss_acquire_cred` (libpq
/// asks for Kerberos credentials on every connection unless `gssencmode=disable`), while the main thread, returning
/// from `main`, ran the libraries' destructors: Kerberos's mutex was gone under it, and it asserted.
#[derive(Debug, Default)]
struct ConnectGate {
    stopped: AtomicBool,
    opening: AtomicUsize,
}

/// One connection being opened; dropped when it is open or has failed.
struct Opening<'a>(&'a ConnectGate);

impl Drop for Opening<'_> {
    fn drop(&mut self) {
        self.0.opening.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ConnectGate {
    /// `None` once the process has stopped opening connections. Counted before the check, so that
    /// [`ConnectGate::stop`] either sees this connection being opened or this sees the stop.
    fn enter(&self) -> Option<Opening<'_>> {
        self.opening.fetch_add(1, Ordering::SeqCst);
        let opening = Opening(self);
        (!self.stopped.load(Ordering::SeqCst)).then_some(opening)
    }

    /// Refuses new connections, then waits up to `wait` for those being opened; true if none is left.
    fn stop(&self, wait: Duration) -> bool {
        self.stopped.store(true, Ordering::SeqCst);
        let until = Instant::now() + wait;
        while self.opening.load(Ordering::SeqCst) > 0 {
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        let Some(_opening) = self.gate.enter() else {
            return Err(diesel::r2d2::Error::ConnectionError(
                diesel::ConnectionError::BadConnection("the process is stopping".into()),
            ));
        };
        let conn = match self.target.backend {
            Backend::Sqlite => {
                diesel::SqliteConnection::establish(&self.target.connect).map(DbConnection::Sqlite)
            }
            Backend::Postgres => {
                before_libpq();
                diesel::PgConnection::establish(&self.pg_url).map(DbConnection::Pg)
            }
        };
        conn.map(|conn| Pooled {
            conn,
            returned_at: None,
            failed: Arc::default(),
        })
        .map_err(diesel::r2d2::Error::ConnectionError)
    }

    /// Called at checkout. An SQLite connection is a local file handle that cannot go stale; a PostgreSQL one
    /// can (server restart, network), so it is pinged unless it was in use a moment ago without a failed statement.
    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), Self::Error> {
        let failed = pooled.failed.swap(false, Ordering::Relaxed);
        let recent = pooled
            .returned_at
            .is_some_and(|at| at.elapsed() < TRUSTED_AFTER_USE);
        if self.target.backend == Backend::Sqlite || (recent && !failed) {
            return Ok(());
        }
        self.pings.fetch_add(1, Ordering::Relaxed);
        pooled.conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    /// Called when a connection goes back to the pool.
    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.returned_at = Some(Instant::now());
        std::thread::panicking() || pooled.conn.is_broken()
    }
}

/// Call before a process first connects to PostgreSQL (every connection of the pool does).
///
/// libpq uses the system OpenSSL, and when libpq is first to initialise it, OpenSSL registers a handler that frees
/// its state as the process exits, while other threads (the pool's, the runtimes' blocking threads) may still be
/// ending and freeing their own TLS state: glibc then aborts with "double free or corruption", after a graceful
/// shutdown (docs/decisions/0011-openssl-initialised-first-and-connections-gated-at-exit.md).
/// Initialised here first, OpenSSL registers no such handler. Only the first initialisation counts, so a process
/// that connects by other means first (a bench or test creating its database) calls this before it does.
pub fn before_libpq() {
    openssl_sys::init();
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
}

#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: u32,
    pub connect_timeout: Duration,
    /// Bounds on every PostgreSQL session of the server.
    pub pg_session: PgSession,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_size: 10,
            connect_timeout: Duration::from_secs(5),
            pg_session: PgSession::default(),
        }
    }
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
        Ok(Database {
            pool,
            manager,
            setup,
            agencies: Arc::default(),
            audit_keys: Arc::default(),
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

/// `query LIMIT n` with `n` written into the statement's text, where diesel's `.limit(n)` binds it. PostgreSQL costs
/// a generic plan's `LIMIT $n` as if it returned a tenth of the rows, so for a list page it never kept a plan and
/// planned every run, which cost more than running it. Each limit a client
/// uses is then a statement of its own, kept per connection; limits are validated and few (a page holds at most a
/// hundred). Used for the orders page (docs/decisions/0007-statements-shaped-for-plans-that-stay-good.md). Other paged reads still bind theirs; the
/// alerts page walks `seq` from its cursor and keeps a generic plan with its limit bound (`tests/api/plans.rs`).
pub struct LimitWritten<Q> {
    query: Q,
    limit: i64,
}

/// `query` with its limit written in ([`LimitWritten`]).
pub fn limit_written<Q>(query: Q, limit: i64) -> LimitWritten<Q> {
    LimitWritten { query, limit }
}

impl<Q> diesel::query_builder::QueryId for LimitWritten<Q> {
    type QueryId = ();
    // Kept by its text, which holds the limit.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for LimitWritten<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, C> RunQueryDsl<C> for LimitWritten<Q> {}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for LimitWritten<Q>
where
    DB: diesel::backend::Backend,
    Q: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        // An integer, never text from a caller: nothing to escape.
        out.push_sql(&format!(" LIMIT {}", self.limit));
        Ok(())
    }
}

/// Runs one expression against the concrete connection, for what the multi-backend cannot express (batch inserts,
/// `ON CONFLICT DO NOTHING`). The expression is written once and compiled for each backend.
macro_rules! with_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Pg($c) => $body,
        }
    };
}
pub(crate) use with_backend;

/// Inserts many rows in one statement; rows are marked `treat_none_as_default_value = false` so SQLite needs no
/// DEFAULT keyword.
macro_rules! insert_batch {
    ($conn:expr, $table:expr, $rows:expr) => {
        $crate::db::with_backend!($conn, |c| diesel::insert_into($table)
            .values($rows)
            .execute(c))
    };
}
pub(crate) use insert_batch;

/// Runs `f` in a transaction that holds the write lock from its first statement: `BEGIN IMMEDIATE` on SQLite (a
/// read-then-write transaction started with a plain `BEGIN` can fail with `SQLITE_BUSY` despite the busy timeout),
/// a plain `BEGIN` on PostgreSQL. Rolls back on any error.
pub fn write_transaction<T, F>(conn: &mut DbConnection, f: F) -> AppResult<T>
where
    F: FnOnce(&mut DbConnection) -> AppResult<T>,
{
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Pg(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) =
                <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)
            {
                tracing::error!(error = %rollback, "rollback failed");
            }
            Err(e)
        }
    }
}

/// True when `e` is a unique-key violation (a taken reference, a retried insert).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stop waits for connections being opened, and none is opened after it.
    #[test]
    fn a_stop_waits_for_connections_being_opened_and_refuses_new_ones() {
        let gate = ConnectGate::default();
        let opening = gate.enter().expect("open before the stop");
        assert!(
            !gate.stop(Duration::from_millis(20)),
            "one is still being opened"
        );
        assert!(gate.enter().is_none(), "none is opened after the stop");
        drop(opening);
        assert!(gate.stop(Duration::ZERO));
        assert_eq!(gate.opening.load(Ordering::SeqCst), 0);
    }

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

    #[test]
    fn a_database_is_described_by_where_it_is_never_by_its_credentials() {
        let pg = DbTarget::parse(
            "postgres://user:secret-pw@db.internal:5432/orderwatch?sslmode=require",
        )
        .unwrap();
        assert_eq!(
            pg.describe(),
            "PostgreSQL database db.internal:5432/orderwatch"
        );
        let sqlite = DbTarget::parse("sqlite:///var/lib/ow.db").unwrap();
        assert_eq!(sqlite.describe(), "SQLite file /var/lib/ow.db");
    }

    #[test]
    fn urls_choose_the_backend_and_bad_ones_name_the_accepted_forms() {
        assert_eq!(
            DbTarget::parse("sqlite://orderwatch.db").unwrap().connect,
            "orderwatch.db"
        );
        assert_eq!(
            DbTarget::parse("sqlite:///var/lib/ow.db").unwrap().connect,
            "/var/lib/ow.db"
        );
        assert_eq!(
            DbTarget::parse("postgres://u@h/d").unwrap().backend,
            Backend::Postgres
        );
        assert_eq!(
            DbTarget::parse("postgresql://u@h/d").unwrap().backend,
            Backend::Postgres
        );
        let err = DbTarget::parse("mysql://root:hunter2@h/d").unwrap_err();
        assert!(
            err.contains("\"mysql\"") && err.contains("sqlite://") && err.contains("postgres://")
        );
        assert!(!err.contains("hunter2"));
        assert!(DbTarget::parse("orderwatch.db").is_err());
        assert!(DbTarget::parse("sqlite://:memory:").is_err());
    }
}
