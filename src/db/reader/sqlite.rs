//! The SQLite side of `db::reader`: each thread that reads keeps a read-only connection of its own, and a statement
//! runs in the request's future. SQLite answers from the process's own memory and files, so a lookup costs tens of
//! microseconds there, less than handing it to a blocking thread and back.

use crate::db::pool::StatementCounter;
use diesel::connection::{Connection, SimpleConnection};
use diesel::SqliteConnection;
use std::sync::{Arc, Mutex};
use thread_local::ThreadLocal;

/// Each thread's read-only connection, opened on first use and dropped when a statement on it fails.
pub struct SqliteReader {
    path: String,
    counter: StatementCounter,
    connections: ThreadLocal<Mutex<Option<SqliteConnection>>>,
}

impl SqliteReader {
    /// For the database file at `path` (as the pool opens it); statements are counted with the pool's.
    pub(crate) fn new(path: &str, sent: Arc<std::sync::atomic::AtomicU64>) -> SqliteReader {
        SqliteReader {
            path: path.to_string(),
            counter: StatementCounter {
                sent,
                failed: Arc::default(),
            },
            connections: ThreadLocal::new(),
        }
    }

    /// Runs `read` on this thread's connection, opening one if there is none. It never waits for a lock (a busy
    /// database is an error at once, as the worker must not sleep), and `None` means the caller should read through
    /// the pool, which waits for locks and reports what is wrong.
    pub fn read<T>(
        &self,
        read: impl FnOnce(&mut SqliteConnection) -> diesel::QueryResult<T>,
    ) -> Option<T> {
        let slot = self.connections.get_or_default();
        let mut kept = slot.lock().unwrap_or_else(|e| e.into_inner());
        if kept.is_none() {
            *kept = Some(self.open().ok()?);
        }
        let answer = read(kept.as_mut()?);
        if answer.is_err() {
            *kept = None;
        }
        answer.ok()
    }

    fn open(&self) -> diesel::QueryResult<SqliteConnection> {
        let mut conn = SqliteConnection::establish(&self.path)
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.into()))?;
        // The pool's connections set WAL on the file, so reads here run beside the writer; `query_only` refuses any
        // write on this connection, and a zero busy timeout makes a lock an error instead of a wait.
        conn.batch_execute("PRAGMA query_only = ON; PRAGMA busy_timeout = 0;")?;
        conn.set_instrumentation(self.counter.clone());
        Ok(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;
    use std::sync::atomic::Ordering;

    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// A read answers and is counted; a write is refused, which sends the caller to the pool, and the next read
    /// has a new connection.
    #[test]
    fn reads_answer_and_anything_else_sends_the_caller_to_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let path = path.to_str().unwrap();
        let mut writer = SqliteConnection::establish(path).unwrap();
        writer
            .batch_execute(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (7);",
            )
            .unwrap();
        let sent = Arc::default();
        let reader = SqliteReader::new(path, Arc::clone(&sent));
        let n = |c: &mut SqliteConnection| {
            diesel::sql_query("SELECT n FROM t")
                .get_result::<N>(c)
                .map(|r| r.n)
        };
        assert_eq!(reader.read(n), Some(7));
        assert!(sent.load(Ordering::Relaxed) >= 1, "counted with the pool's");
        let write =
            |c: &mut SqliteConnection| diesel::sql_query("INSERT INTO t VALUES (8)").execute(c);
        assert_eq!(reader.read(write), None, "read-only");
        assert_eq!(
            reader.read(n),
            Some(7),
            "a new connection, and nothing was written"
        );
    }
}
