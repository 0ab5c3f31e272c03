//! SQL helpers shared by the table modules: a limit written into the text, the write transaction, unique-key
//! violations, and the macros that run one expression on the concrete connection.

use super::*;

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
