//! Keeping the database writable, its files small and its statistics current: the write probe behind
//! `/readyz`, SQLite's deliberate WAL checkpoints, and SQLite's planner statistics refreshed where stale.
//!
//! SQLite checkpoints its write-ahead log on its own only past 1,000 pages, and never makes the file smaller, so on a
//! small volume the WAL alone can fill the disk, and refill it after space is freed. The server therefore truncates
//! the WAL at start-up, checkpoints it every [`CHECKPOINT_EVERY`] without waiting for anyone
//! ([`Database::run_upkeep`]), and `journal_size_limit` truncates the WAL to [`WAL_SIZE_LIMIT`] each time
//! it starts over after a complete checkpoint.
//!
//! SQLite plans every statement from the statistics `ANALYZE` last left, and never refreshes them itself. Taken on a
//! new deployment, they describe empty tables for ever after, and plans built on them walk whole tables (an
//! advocate's page of alerts walked every order). The server therefore refreshes them at start-up and every
//! [`STATISTICS_EVERY`] ([`refresh_statistics`]); where nothing has moved, that costs a look at each table's size
//! (0 to 1 ms). The first refresh of a database never analyzed took 22 ms at 10,000 orders and 106 ms at 100,000
//! (release build, 2026-12-07).

use super::{Backend, Database, DbConnection};
use diesel::connection::SimpleConnection;
use std::time::Duration;

/// Time between two checkpoints while the server runs.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Time between two refreshes of SQLite's statistics while the server runs (the first is at start-up).
pub const STATISTICS_EVERY: Duration = Duration::from_secs(60 * 60);

/// What a reset WAL file keeps on disk at most, in bytes (`PRAGMA journal_size_limit`).
pub const WAL_SIZE_LIMIT: u64 = 1024 * 1024;

/// Written by the write probe: SQLite's header field for the application's id ("owat"). Writing it, even with the
/// value it has, commits one page, so the probe needs the space a real write needs.
const APPLICATION_ID: u32 = 0x6f77_6174;

/// How a checkpoint goes about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoint {
    /// Copies what it can without waiting for readers or writers (while serving).
    Passive,
    /// Waits for them, copies everything and truncates the WAL to nothing (at start-up).
    Truncate,
}

/// Copies the WAL into the database file (SQLite; nothing to do on PostgreSQL). A checkpoint that cannot finish
/// because readers are at work is not an error: the next one finishes it.
pub fn checkpoint(conn: &mut DbConnection, how: Checkpoint) -> diesel::QueryResult<()> {
    match (conn, how) {
        (DbConnection::Sqlite(c), Checkpoint::Passive) => {
            c.batch_execute("PRAGMA wal_checkpoint(PASSIVE);")
        }
        (DbConnection::Sqlite(c), Checkpoint::Truncate) => {
            c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")
        }
        (DbConnection::Pg(_), _) => Ok(()),
    }
}

/// Refreshes SQLite's planner statistics where they no longer describe the tables (nothing on PostgreSQL, whose
/// autovacuum analyzes tables as they change). `PRAGMA optimize` with mask `0x10012`: `0x10000` looks at every
/// table, not only those this connection has queried; `0x2` runs `ANALYZE` on a non-empty table that has an index
/// without statistics (never analyzed, or empty when it was) or that has grown or shrunk 10-fold since (SQLite
/// 3.50); `0x10` limits each `ANALYZE` to about 2,000 rows an index, so a large table costs a sample, not a read of
/// all of it, while it holds the write lock. The connection that ran it plans with the new statistics at once;
/// other connections load them when they open, and the pool replaces each connection within 30 minutes (r2d2's
/// `max_lifetime`).
pub fn refresh_statistics(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(c) => c.batch_execute("PRAGMA optimize=0x10012;"),
        DbConnection::Pg(_) => Ok(()),
    }
}

/// Whether a write can be committed now. On SQLite a tiny real write is committed (a full disk fails it, though
/// reads go on); a write lock held by another writer counts as writable, as that writer reports its own failures.
/// On PostgreSQL, the server is a primary taking writes on a new session (a standby after a failover, or a database
/// set read-only, answers queries but refuses writes).
pub(super) fn writable(conn: &mut DbConnection) -> bool {
    match conn {
        DbConnection::Sqlite(c) => {
            match c.batch_execute(&format!(
                "PRAGMA busy_timeout = 100; PRAGMA application_id = {APPLICATION_ID};"
            )) {
                Ok(()) => true,
                Err(diesel::result::Error::DatabaseError(_, info)) => {
                    info.message().starts_with("database is locked")
                }
                Err(_) => false,
            }
        }
        DbConnection::Pg(c) => {
            #[derive(diesel::QueryableByName)]
            struct Writable {
                #[diesel(sql_type = diesel::sql_types::Bool)]
                writable: bool,
            }
            use diesel::RunQueryDsl;
            diesel::sql_query("SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable")
                .get_result::<Writable>(c)
                .is_ok_and(|w| w.writable)
        }
    }
}

impl Database {
    /// True when the database can take a write within `timeout` (`/readyz`), probed on a connection of its own: it
    /// never waits behind the pool, and sees the database as a new session would.
    pub async fn writable(&self, timeout: Duration) -> bool {
        let db = self.clone();
        let probe = tokio::task::spawn_blocking(move || {
            db.dedicated_connection()
                .map(|mut c| writable(&mut c))
                .unwrap_or(false)
        });
        matches!(tokio::time::timeout(timeout, probe).await, Ok(Ok(true)))
    }

    /// Until `stop` turns true, checkpoints SQLite's WAL every [`CHECKPOINT_EVERY`] and refreshes its statistics now
    /// and every [`STATISTICS_EVERY`] (nothing on PostgreSQL).
    pub fn run_upkeep(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        if self.backend() != Backend::Sqlite {
            return;
        }
        let db = self.clone();
        tokio::spawn(async move {
            let mut checkpoints = tokio::time::interval(CHECKPOINT_EVERY);
            checkpoints.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut statistics = tokio::time::interval(STATISTICS_EVERY);
            statistics.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = checkpoints.tick() => db.checkpoint_now(Checkpoint::Passive).await,
                    _ = statistics.tick() => db.refresh_statistics_now().await,
                    _ = stop.changed() => return,
                }
            }
        });
    }

    /// Refreshes SQLite's statistics now ([`refresh_statistics`]), logging rather than failing when it cannot.
    pub async fn refresh_statistics_now(&self) {
        let started = std::time::Instant::now();
        match self.run(|c| Ok(refresh_statistics(c)?)).await {
            Ok(()) => tracing::debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "SQLite statistics refreshed where stale"
            ),
            Err(e) => tracing::warn!(
                error.code = e.code(),
                "SQLite statistics could not be refreshed; the next refresh tries again"
            ),
        }
    }

    /// Checkpoints SQLite's WAL now, logging rather than failing when it cannot.
    pub async fn checkpoint_now(&self, how: Checkpoint) {
        if self.backend() != Backend::Sqlite {
            return;
        }
        if let Err(e) = self.run(move |c| Ok(checkpoint(c, how)?)).await {
            tracing::debug!(
                error.code = e.code(),
                "WAL checkpoint did not finish; the next one will"
            );
        }
    }
}
