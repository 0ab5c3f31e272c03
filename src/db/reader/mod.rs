//! Reads that run on the request's own thread, without the blocking pool: each thread that reads (an HTTP worker)
//! keeps one connection of its own (docs/decisions/0019-reads-on-the-request-thread.md). The pool hands each unit of
//! work to a blocking thread and wakes the request's worker again when it is done; a read here costs neither.
//!
//! Only a read of one statement uses it (an order looked up by reference, `db::loader::find_parts_by_reference_on`,
//! and a page of orders, `db::loader::search_on`);
//! everything else, and every write, runs on the pool (`Database::run`).
//! - PostgreSQL (`postgres`): the statements of a worker's requests in flight are pipelined on its connection.
//! - SQLite (`sqlite`): the statement runs in the request's future, on a read-only connection that never waits for
//!   a lock; a read that would wait, or fails, goes to the pool instead.

mod postgres;
mod sqlite;

pub use postgres::{PgReader, APPLICATION_NAME};
pub use sqlite::SqliteReader;

/// Each thread's connection for reads, for the backend the database is on.
pub enum Reader {
    Postgres(Box<PgReader>),
    Sqlite(Box<SqliteReader>),
}
