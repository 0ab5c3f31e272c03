//! The audit log: append (chained, under one lock so the chain has one order), read by filters, verify.

use super::codec::{parse_code, truncate_micros};
use super::schema::audit_events;
use super::DbConnection;
use crate::domain::audit::{entry_hash, AuditEntry, GENESIS_HASH};
use crate::domain::scope::AuditFilter;
use crate::error::AppResult;

use batch::AppendColumns;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::Text;

type Db = <DbConnection as Connection>::Backend;

/// Rows of one multi-row insert on SQLite; fewer go one prepared row at a time (see `append`). A lookup's
/// one-entry batch row by row costs 6.5% fewer server instructions than as a new multi-row statement (callgrind).
const SQLITE_CHUNK: usize = 64;

/// Advisory lock key serialising appends on PostgreSQL ("auditlog"). Taken before the alert lock, never after it.
pub const AUDIT_LOCK_KEY: i64 = 0x6175_6469_746c_6f67;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = audit_events)]
pub(super) struct AuditRow {
    #[diesel(skip_insertion)]
    seq: i64,
    id: String,
    at: chrono::NaiveDateTime,
    request_id: String,
    actor_sub: String,
    actor_agency: String,
    actor_role: String,
    operation: String,
    action: String,
    object_type: String,
    object_ids: String,
    fields: String,
    recipient: Option<String>,
    outcome: String,
    reason: Option<String>,
    prev_hash: String,
    hash: String,
    key_id: String,
    correlation_id: Option<String>,
}

fn to_entry(r: &AuditRow) -> AppResult<AuditEntry> {
    let split = |s: &str| {
        if s.is_empty() {
            vec![]
        } else {
            s.split(',').map(str::to_string).collect()
        }
    };
    Ok(AuditEntry {
        id: r.id.clone(),
        at: r.at.and_utc(),
        request_id: r.request_id.clone(),
        actor_sub: r.actor_sub.clone(),
        actor_agency: r.actor_agency.clone(),
        actor_role: r.actor_role.clone(),
        operation: parse_code(&r.operation, "audit_events.operation")?,
        action: r.action.clone(),
        object_type: r.object_type.clone(),
        object_ids: split(&r.object_ids),
        fields: split(&r.fields),
        recipient: r.recipient.clone(),
        outcome: r.outcome.clone(),
        reason: r.reason.clone(),
        correlation_id: r.correlation_id.clone(),
    })
}

/// Appends entries to the chain, in the caller's transaction: if the transaction fails, so does the record of it.
/// Returns the chain's newest hash after them (`None` when there were none to write).
pub fn append<'a>(
    conn: &mut DbConnection,
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> AppResult<Option<String>> {
    let mut entries = entries.into_iter().peekable();
    if entries.peek().is_none() {
        return Ok(None);
    }
    if let DbConnection::Pg(c) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({AUDIT_LOCK_KEY})")).execute(c)?;
    }
    let newest: Option<String> = match conn {
        // Planned afresh each time (diesel never keeps `sql_query` prepared): see [`NewestHash`].
        DbConnection::Pg(c) => diesel::sql_query(NEWEST_HASH_SQL)
            .get_result::<NewestHashRow>(c)
            .optional()?
            .map(|r| r.hash),
        DbConnection::Sqlite(c) => NewestHash.get_result(c).optional()?,
    };
    let keys = keys::current()?;
    let key = keys.current();
    let prev = newest.unwrap_or_else(|| GENESIS_HASH.to_string());
    // The chain is computed in memory, then written in chain order (`seq` follows the order of the rows, and the
    // lock keeps other writers out meanwhile): on PostgreSQL in one statement of one array per column
    // (`AppendColumns`), on SQLite in statements of a fixed number of rows (below).
    let rows = chain(entries, prev, key);
    let head = rows.last().map(|r| r.hash.clone());
    write_rows(conn, rows)?;
    Ok(head)
}

/// The rows of `entries` in chain order, each linked to the one before (the first to `prev`) and hashed with `key`.
pub(super) fn chain<'a>(
    entries: impl Iterator<Item = &'a AuditEntry>,
    mut prev: String,
    key: Option<&crate::domain::audit::AuditKey>,
) -> Vec<AuditRow> {
    let mut rows = Vec::with_capacity(entries.size_hint().0);
    for e in entries {
        let e = AuditEntry {
            at: truncate_micros(e.at),
            ..e.clone()
        };
        let hash = entry_hash(&prev, &e, key);
        rows.push(AuditRow {
            seq: 0,
            id: e.id.clone(),
            at: e.at.naive_utc(),
            request_id: e.request_id.clone(),
            actor_sub: e.actor_sub.clone(),
            actor_agency: e.actor_agency.clone(),
            actor_role: e.actor_role.clone(),
            operation: e.operation.as_str().into(),
            action: e.action.clone(),
            object_type: e.object_type.clone(),
            object_ids: e.object_ids.join(","),
            fields: e.fields.join(","),
            recipient: e.recipient.clone(),
            outcome: e.outcome.clone(),
            reason: e.reason.clone(),
            prev_hash: prev.clone(),
            hash: hash.clone(),
            key_id: key.map(|k| k.id.clone()).unwrap_or_default(),
            correlation_id: e.correlation_id.clone(),
        });
        prev = hash;
    }
    rows
}

/// Writes chained rows in their order (`seq` follows it).
pub(super) fn write_rows(conn: &mut DbConnection, rows: Vec<AuditRow>) -> AppResult<()> {
    match conn {
        DbConnection::Pg(c) => {
            let mut columns = AppendColumns::default();
            rows.into_iter().for_each(|r| columns.push(r));
            columns.execute(c)?;
        }
        // Statements of a fixed number of rows, so each is compiled once and kept: a multi-row insert of any other
        // length would be a new statement, compiled every time. Full chunks of `SQLITE_CHUNK` rows as one statement
        // (a fixed-size array, which diesel keeps prepared), the rest (a lookup's batch) one prepared single-row
        // insert each (docs/decisions/0001-audit-records-written-in-group-commit-batches.md).
        DbConnection::Sqlite(c) => {
            // `as_chunks` would say this without the conversion, but needs Rust 1.88 (the MSRV is 1.82).
            let mut chunks = rows.chunks_exact(SQLITE_CHUNK);
            for chunk in &mut chunks {
                let chunk: &[AuditRow; SQLITE_CHUNK] = chunk.try_into().map_err(|_| {
                    crate::error::AppError::internal(anyhow::anyhow!(
                        "audit chunk of the wrong length"
                    ))
                })?;
                diesel::insert_into(audit_events::table)
                    .values(chunk)
                    .execute(c)?;
            }
            for row in chunks.remainder() {
                diesel::insert_into(audit_events::table)
                    .values(row)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// The chain's newest hash, read before each append: the last row by the primary key.
///
/// On SQLite, static text with the limit written in, which each connection keeps prepared: diesel's
/// `.order(seq.desc()).first()` binds its limit, and SQLite compiles a statement with a bound limit again on every
/// run (docs/decisions/0007-statements-shaped-for-plans-that-stay-good.md).
///
/// On PostgreSQL the same text is planned afresh on every append, never kept. A kept plan is made once per
/// connection from the statistics of that moment: on a new deployment's small log that is a sequential scan (for
/// `ORDER BY seq DESC LIMIT 1` as for the `seq = ANY(SELECT MAX(seq) ...)` used before), and PostgreSQL keeps it
/// while the log grows by thousands of rows a minute, until an autoanalyze comes round. Every append then read
/// the whole log (docs/decisions/0007-statements-shaped-for-plans-that-stay-good.md). Planning this statement
/// costs far less than the commit it precedes.
pub(super) struct NewestHash;

pub(super) const NEWEST_HASH_SQL: &str = "SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1";

#[derive(QueryableByName)]
pub(super) struct NewestHashRow {
    #[diesel(sql_type = Text)]
    pub(super) hash: String,
}

impl QueryId for NewestHash {
    type QueryId = NewestHash;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for NewestHash {
    type SqlType = Text;
}

impl<C> RunQueryDsl<C> for NewestHash {}

impl QueryFragment<diesel::sqlite::Sqlite> for NewestHash {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::sqlite::Sqlite>) -> QueryResult<()> {
        out.push_sql(NEWEST_HASH_SQL);
        Ok(())
    }
}

/// Entries after `after_seq`, oldest first, with their `seq`.
pub fn page(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    after_seq: i64,
    limit: i64,
) -> AppResult<Vec<(i64, AuditEntry)>> {
    let mut q = audit_events::table
        .select(AuditRow::as_select())
        .filter(audit_events::seq.gt(after_seq))
        .into_boxed::<Db>();
    if let Some(s) = &filter.actor_sub {
        q = q.filter(audit_events::actor_sub.eq(s.clone()));
    }
    if let Some(a) = &filter.actor_agency {
        q = q.filter(audit_events::actor_agency.eq(a.clone()));
    }
    if let Some(id) = &filter.object_id {
        // Ids are stored comma-joined; match a whole id.
        let id = id.replace(['%', '_', ','], "");
        q = q.filter(
            audit_events::object_ids
                .eq(id.clone())
                .or(audit_events::object_ids.like(format!("{id},%")))
                .or(audit_events::object_ids.like(format!("%,{id}")))
                .or(audit_events::object_ids.like(format!("%,{id},%"))),
        );
    }
    if let Some(op) = filter.operation {
        q = q.filter(audit_events::operation.eq(op.as_str()));
    }
    if let Some(t) = filter.from {
        q = q.filter(audit_events::at.ge(truncate_micros(t).naive_utc()));
    }
    if let Some(t) = filter.to {
        q = q.filter(audit_events::at.lt(truncate_micros(t).naive_utc()));
    }
    q.order(audit_events::seq.asc())
        .limit(limit)
        .load(conn)?
        .iter()
        .map(|r| Ok((r.seq, to_entry(r)?)))
        .collect()
}

mod batch;
pub mod guard;
pub mod keys;
pub mod verify;

pub use batch::{append_batch, Appended, Head};
pub use guard::{missing_protection, owner_problem, restore_protection};
pub use verify::{hash_of, head, newest_seq, verify, Verified};
