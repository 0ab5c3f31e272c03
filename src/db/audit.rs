//! The audit log: append (chained, under one lock so the chain has one order), read by filters, verify.

use super::orders::{parse_code, truncate_micros};
use super::schema::audit_events;
use super::DbConnection;
use crate::domain::audit::{chain_hash, AuditEntry, AuditOperation, GENESIS_HASH};
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

type Db = <DbConnection as Connection>::Backend;

/// Advisory lock key serialising appends on PostgreSQL ("auditlog"). Taken before the alert lock, never after it.
const AUDIT_LOCK_KEY: i64 = 0x6175_6469_746c_6f67;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = audit_events)]
struct AuditRow {
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
    })
}

/// Appends entries to the chain, in the caller's transaction: if the transaction fails, so does the record of it.
pub fn append<'a>(
    conn: &mut DbConnection,
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> AppResult<()> {
    let mut entries = entries.into_iter().peekable();
    if entries.peek().is_none() {
        return Ok(());
    }
    if let DbConnection::Pg(c) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({AUDIT_LOCK_KEY})")).execute(c)?;
    }
    let mut prev: String = audit_events::table
        .order(audit_events::seq.desc())
        .select(audit_events::hash)
        .first(conn)
        .optional()?
        .unwrap_or_else(|| GENESIS_HASH.to_string());
    // The chain is computed in memory, then written a few hundred rows to a statement (in chain order: `seq`
    // follows the order of the rows, and the lock keeps other writers out meanwhile).
    let mut rows = Vec::with_capacity(entries.size_hint().0);
    for e in entries {
        let e = AuditEntry {
            at: truncate_micros(e.at),
            ..e.clone()
        };
        let hash = chain_hash(&prev, &e);
        let row = AuditRow {
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
        };
        rows.push(row);
        prev = hash;
    }
    for chunk in rows.chunks(500) {
        super::insert_batch!(conn, audit_events::table, chunk)?;
    }
    Ok(())
}

/// Filters of the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_sub: Option<String>,
    pub actor_agency: Option<String>,
    pub object_id: Option<String>,
    pub operation: Option<AuditOperation>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
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

/// What walking the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    Intact {
        events: u64,
    },
    /// The first entry whose link or hash does not hold, and why.
    Broken {
        seq: i64,
        id: String,
        problem: String,
    },
}

/// Walks the whole chain in `seq` order, a page at a time.
pub fn verify(conn: &mut DbConnection) -> AppResult<Verified> {
    let mut prev = GENESIS_HASH.to_string();
    let mut after = 0i64;
    let mut count = 0u64;
    loop {
        let rows: Vec<AuditRow> = audit_events::table
            .select(AuditRow::as_select())
            .filter(audit_events::seq.gt(after))
            .order(audit_events::seq.asc())
            .limit(1000)
            .load(conn)?;
        if rows.is_empty() {
            return Ok(Verified::Intact { events: count });
        }
        for r in &rows {
            let broken = |problem: &str| Verified::Broken {
                seq: r.seq,
                id: r.id.clone(),
                problem: problem.into(),
            };
            if r.prev_hash != prev {
                return Ok(broken("its previous-hash does not match the entry before it (an entry was removed, inserted or reordered)"));
            }
            let entry = match to_entry(r) {
                Ok(e) => e,
                Err(_) => return Ok(broken("it holds a value no entry can have")),
            };
            if chain_hash(&prev, &entry) != r.hash {
                return Ok(broken(
                    "its contents do not match its hash (the entry was edited)",
                ));
            }
            prev = r.hash.clone();
            after = r.seq;
            count += 1;
        }
    }
}
