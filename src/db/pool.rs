//! The connection pool's parts: how a connection is opened and set up for each backend, when a pooled one is
//! trusted without a ping, the gate that stops new connections at shutdown, and the statement counter.

use super::*;

/// Counts SQL statements sent, across every pooled connection: exposed on `/metrics`, and how tests prove that a
/// list costs a constant number of statements. Also marks its connection when a statement fails, so the pool pings
/// it before trusting it again.
#[derive(Clone, Default)]
pub(super) struct StatementCounter {
    pub(super) sent: Arc<AtomicU64>,
    pub(super) failed: Arc<AtomicBool>,
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
pub(super) struct Pooled {
    pub(super) conn: DbConnection,
    /// When it last went back to the pool.
    pub(super) returned_at: Option<Instant>,
    /// Set when one of its statements failed (its server may have gone); cleared by the next checkout's ping.
    pub(super) failed: Arc<AtomicBool>,
}

#[derive(Debug, Clone)]
pub(super) struct ConnectionSetup {
    pub(super) counter: Arc<AtomicU64>,
    pub(super) busy_timeout_ms: u64,
    pub(super) pg_session: PgSession,
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
pub(super) struct QuietPoolErrors;

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for QuietPoolErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        tracing::debug!(error = %error, "a database connection attempt failed");
    }
}

/// Opens connections to exactly the backend the URL named. (The derived `DbConnection::establish` tries each
/// backend in turn and discards the errors, which would hide why PostgreSQL refused, or open an odd SQLite file.)
#[derive(Debug, Clone)]
pub(super) struct Manager {
    pub(super) target: DbTarget,
    /// For PostgreSQL, the URL with keepalives ([`with_keepalives`]).
    pub(super) pg_url: String,
    /// Connection checks sent at checkout (each is also one of the statements counted).
    pub(super) pings: Arc<AtomicU64>,
    pub(super) gate: Arc<ConnectGate>,
}

/// Connections being opened, and whether the process has stopped opening them ([`Database::stop_connecting`]).
///
/// A process must not exit while a thread is inside libpq's connect. A core dump of a graceful stop that aborted
/// (2 of 3,966 stops) showed the pool's connection thread in `PQconnectdb`, inside GSSAPI's `gss_acquire_cred` (libpq
/// asks for Kerberos credentials on every connection unless `gssencmode=disable`), while the main thread, returning
/// from `main`, ran the libraries' destructors: Kerberos's mutex was gone under it, and it asserted.
#[derive(Debug, Default)]
pub(super) struct ConnectGate {
    pub(super) stopped: AtomicBool,
    pub(super) opening: AtomicUsize,
}

/// One connection being opened; dropped when it is open or has failed.
pub(super) struct Opening<'a>(&'a ConnectGate);

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
    pub(super) fn stop(&self, wait: Duration) -> bool {
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

#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: u32,
    pub connect_timeout: Duration,
    /// Bounds on every PostgreSQL session of the server.
    pub pg_session: PgSession,
    /// One-statement reads on each worker's own connection (`db::reader`; on PostgreSQL where the URL allows).
    pub worker_reads: bool,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_size: 10,
            connect_timeout: Duration::from_secs(5),
            pg_session: PgSession::default(),
            worker_reads: true,
        }
    }
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
}
