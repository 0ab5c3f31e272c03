//! Appending a batch of audit records on PostgreSQL: the rows as one array per column, written by one insert in a
//! change's transaction after it has read the newest hash under the append lock, or by the audit writer in one
//! statement of its own, from the newest hash the writer keeps.

use super::{chain, keys, AuditRow, NewestHashRow, AUDIT_LOCK_KEY, NEWEST_HASH_SQL};
use crate::db::{write_transaction, DbConnection};
use crate::domain::audit::{AuditEntry, GENESIS_HASH};
use crate::error::AppResult;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};

/// The chain's newest hash as the audit writer last knew it: `None` before it knows, `Some(None)` for an empty log.
pub type Head = Option<Option<String>>;

/// How [`append_batch`] wrote a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// In one statement (PostgreSQL), after chaining it again `rechained` times because another appender had moved
    /// the head.
    OneStatement { rechained: usize },
    /// In a transaction, as a change appends: on SQLite always, on PostgreSQL after the head moved
    /// [`MOVED_TRIES`] times.
    Transaction { rechained: usize },
}

impl Appended {
    /// Times the batch was chained again because another appender had moved the head.
    pub fn rechained(self) -> usize {
        match self {
            Appended::OneStatement { rechained } | Appended::Transaction { rechained } => rechained,
        }
    }
}

/// Times the writer chains a batch again because another appender (a change, another replica) moved the head
/// meanwhile, before it takes the lock in a transaction of its own as a change does.
const MOVED_TRIES: usize = 3;

/// Appends the audit writer's batch, outside any transaction, and keeps `head` up to date. On PostgreSQL the batch
/// is chained from `head` in memory and written in one statement, which takes the append lock and writes the batch
/// only if `head` is still the newest hash (one round trip in place of five). If another appender (a change, another
/// replica's writer) moved it meanwhile, nothing is written, and the batch is chained again from the newest hash. On
/// SQLite, where statements cost no round trip, the batch is appended in a transaction as a change appends. On an
/// error `head` is forgotten: whether the batch committed is unknown.
pub fn append_batch(
    conn: &mut DbConnection,
    head: &mut Head,
    entries: &[&AuditEntry],
) -> AppResult<Appended> {
    let result = try_append_batch(conn, head, entries);
    if result.is_err() {
        *head = None;
    }
    result
}

fn try_append_batch(
    conn: &mut DbConnection,
    head: &mut Head,
    entries: &[&AuditEntry],
) -> AppResult<Appended> {
    if entries.is_empty() {
        return Ok(Appended::OneStatement { rechained: 0 });
    }
    let rechained = if let DbConnection::Pg(c) = conn {
        for rechained in 0..MOVED_TRIES {
            if head.is_none() {
                let newest = diesel::sql_query(NEWEST_HASH_SQL)
                    .get_result::<NewestHashRow>(c)
                    .optional()?;
                *head = Some(newest.map(|r| r.hash));
            }
            let keys = keys::current()?;
            let prev = head
                .clone()
                .flatten()
                .unwrap_or_else(|| GENESIS_HASH.to_string());
            let rows = chain(entries.iter().copied(), prev, keys.current());
            let newest = rows.last().map(|r| r.hash.clone());
            let mut columns = AppendColumns::default();
            rows.into_iter().for_each(|r| columns.push(r));
            let append = LockedAppend {
                expected: head.clone().flatten(),
                columns,
            };
            if append.execute(c)? == entries.len() {
                *head = Some(newest);
                return Ok(Appended::OneStatement { rechained });
            }
            *head = None;
        }
        MOVED_TRIES
    } else {
        0
    };
    *head = Some(write_transaction(conn, |c| {
        super::append(c, entries.iter().copied())
    })?);
    Ok(Appended::Transaction { rechained })
}

/// [`AppendColumns`]' insert in one statement of its own: it takes the append lock, reads the newest hash after
/// the lock is granted (`orderwatch_audit_newest`, migrations 000023 and 000024), and inserts the rows only if that
/// is `expected` (`NULL` for an empty log). A change appending meanwhile waits for the lock, then reads the newest
/// hash after this batch.
struct LockedAppend {
    expected: Option<String>,
    columns: AppendColumns,
}

impl QueryId for LockedAppend {
    type QueryId = LockedAppend;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<C> RunQueryDsl<C> for LockedAppend {}

impl QueryFragment<Pg> for LockedAppend {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH append_lock AS (SELECT pg_advisory_xact_lock(");
        out.push_bind_param::<BigInt, _>(&AUDIT_LOCK_KEY)?;
        out.push_sql(
            ")), newest AS (SELECT orderwatch_audit_newest() AS newest_hash FROM append_lock) ",
        );
        out.push_sql(APPEND_PG_SQL);
        self.columns.walk_columns(&mut out)?;
        out.push_sql(APPEND_PG_SQL_ROWS);
        out.push_sql(" CROSS JOIN newest WHERE newest_hash IS NOT DISTINCT FROM ");
        out.push_bind_param::<Nullable<Text>, _>(&self.expected)?;
        out.push_sql(APPEND_PG_SQL_END);
        Ok(())
    }
}

/// The insert of a batch on PostgreSQL: one array per column, unnested into rows in their order. Its text is the
/// same whatever the number of rows, so diesel keeps it prepared and PostgreSQL parses and plans it once per
/// connection, where a multi-row `VALUES` with 16 parameters a row is a new statement of thousands of parameters
/// for every batch size. `WITH ORDINALITY ... ORDER BY` keeps the rows in chain order, so `seq` follows the chain.
const APPEND_PG_SQL: &str = "\
INSERT INTO audit_events (id, at, request_id, actor_sub, actor_agency, actor_role, operation, action, object_type, \
object_ids, fields, recipient, outcome, reason, prev_hash, hash, key_id, correlation_id) \
SELECT id, at, request_id, actor_sub, actor_agency, actor_role, operation, action, object_type, object_ids, fields, \
recipient, outcome, reason, prev_hash, hash, key_id, correlation_id FROM unnest(";
const APPEND_PG_SQL_ROWS: &str = ") WITH ORDINALITY AS r(id, at, request_id, actor_sub, actor_agency, actor_role, \
operation, action, object_type, object_ids, fields, recipient, outcome, reason, prev_hash, hash, key_id, correlation_id, \
n)";
const APPEND_PG_SQL_END: &str = " ORDER BY n";

/// The rows of a batch as columns, for [`APPEND_PG_SQL`].
#[derive(Default)]
pub(super) struct AppendColumns {
    id: Vec<String>,
    at: Vec<chrono::NaiveDateTime>,
    request_id: Vec<String>,
    actor_sub: Vec<String>,
    actor_agency: Vec<String>,
    actor_role: Vec<String>,
    operation: Vec<String>,
    action: Vec<String>,
    object_type: Vec<String>,
    object_ids: Vec<String>,
    fields: Vec<String>,
    recipient: Vec<Option<String>>,
    outcome: Vec<String>,
    reason: Vec<Option<String>>,
    prev_hash: Vec<String>,
    hash: Vec<String>,
    key_id: Vec<String>,
    correlation_id: Vec<Option<String>>,
}

impl AppendColumns {
    pub(super) fn push(&mut self, r: AuditRow) {
        self.id.push(r.id);
        self.at.push(r.at);
        self.request_id.push(r.request_id);
        self.actor_sub.push(r.actor_sub);
        self.actor_agency.push(r.actor_agency);
        self.actor_role.push(r.actor_role);
        self.operation.push(r.operation);
        self.action.push(r.action);
        self.object_type.push(r.object_type);
        self.object_ids.push(r.object_ids);
        self.fields.push(r.fields);
        self.recipient.push(r.recipient);
        self.outcome.push(r.outcome);
        self.reason.push(r.reason);
        self.prev_hash.push(r.prev_hash);
        self.hash.push(r.hash);
        self.key_id.push(r.key_id);
        self.correlation_id.push(r.correlation_id);
    }
}

impl QueryId for AppendColumns {
    type QueryId = AppendColumns;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<C> RunQueryDsl<C> for AppendColumns {}

impl QueryFragment<Pg> for AppendColumns {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(APPEND_PG_SQL);
        self.walk_columns(&mut out)?;
        out.push_sql(APPEND_PG_SQL_ROWS);
        out.push_sql(APPEND_PG_SQL_END);
        Ok(())
    }
}

impl AppendColumns {
    /// The arrays, one bind each, comma-separated, in the table's column order.
    fn walk_columns<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<Array<Text>, _>(&self.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.at)?;
        for column in [
            &self.request_id,
            &self.actor_sub,
            &self.actor_agency,
            &self.actor_role,
            &self.operation,
            &self.action,
            &self.object_type,
            &self.object_ids,
            &self.fields,
        ] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(column)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.recipient)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.outcome)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.reason)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.prev_hash)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.hash)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.key_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.correlation_id)
    }
}
