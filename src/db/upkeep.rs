//! Keeping the database writable and its files small: the write probe behind `/readyz`, and SQLite's deliberate
//! WAL checkpoints.
//!
//! SQLite checkpoints its write-ahead log on its own only past 1,000 pages, and never makes the file smaller, so on a
//! small volume the WAL alone can fill the disk, and refill it after space is freed. The server therefore truncates
//! the WAL at start-up, checkpoints it every [`CHECKPOINT_EVERY`] without waiting for anyone
//! ([`Database::keep_checkpointing`]), and `journal_size_limit` truncates the WAL to [`WAL_SIZE_LIMIT`] each time
//! it starts over after a complete checkpoint.

use super::{Backend, Database, DbConnection};
use diesel::connection::SimpleConnection;
use std::time::Duration;

/// Time between two checkpoints while the server runs.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

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

    /// Checkpoints SQLite's WAL every [`CHECKPOINT_EVERY`] until `stop` turns true (nothing on PostgreSQL).
    pub fn keep_checkpointing(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        if self.backend() != Backend::Sqlite {
            return;
        }
        let db = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(CHECKPOINT_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => db.checkpoint_now(Checkpoint::Passive).await,
                    _ = stop.changed() => return,
                }
            }
        });
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
