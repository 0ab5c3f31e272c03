//! The alert outbox: insert exactly once per dedup key, read by cursor for an audience, acknowledge per agency.
//!
//! Ordering: on PostgreSQL a sequence value is taken at insert time, not at commit, so two transactions could commit
//! their alerts out of `seq` order and a reader that saw the later one would skip the earlier for ever. Every
//! transaction that inserts alerts therefore takes one transaction-scoped advisory lock first; the next such
//! transaction waits for the commit, so `seq` order is commit order. (SQLite has one writer at a time already.)
//! Alert inserts must be the last writes of their transaction, so the lock is held briefly and never waits on rows.

use super::codec::{parse_code, truncate_micros};
use super::models::{AlertAckRow, AlertRow};
use super::schema::{alert_acks, alerts, order_shares, orders};
use super::DbConnection;
use crate::domain::alert::{dedup_key, is_late, AlertKind, AlertRecord};
use crate::domain::scope::{AlertAudience, AlertFilter};
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::collections::HashMap;

mod feed;
pub use feed::{feed_after, FeedAlert};

type Db = <DbConnection as Connection>::Backend;

/// Advisory lock key serialising alert-writing transactions on PostgreSQL ("alerts").
pub const ALERT_LOCK_KEY: i64 = 0x616c_6572_7473;
/// The PostgreSQL channel told of new alerts; payload-free, it only wakes listeners, who read the table.
pub const ALERT_CHANNEL: &str = "orderwatch_alerts";
/// The channel told of revoked consent, so every replica re-checks consent before its next delivery.
pub const SHARE_CHANNEL: &str = "orderwatch_shares";
/// `NOTIFY` channel of acknowledgements: other replicas then stop answering deliveries from an acknowledgement read
/// before it (`service::alerts::AckReads`).
pub const ACK_CHANNEL: &str = "orderwatch_acks";

/// An alert to raise: its kind, order, due moment, and what tells it apart from others of its kind due then.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub kind: AlertKind,
    pub order_id: String,
    pub breach_id: Option<String>,
    pub due_at: DateTime<Utc>,
    pub occasion: String,
    /// When it should have been raised: the event itself, or the scheduled moment. Lateness counts from here.
    pub fire_at: DateTime<Utc>,
}

/// Rows of one multi-row alert insert on PostgreSQL (11 parameters a row, far under its limit of 65,535).
const INSERT_CHUNK: usize = 500;

/// Raises alerts in the current transaction, each at most once (a dedup key already present is skipped). Returns
/// the `seq` of each alert actually written.
pub fn insert(
    conn: &mut DbConnection,
    new: &[NewAlert],
    now: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    if new.is_empty() {
        return Ok(vec![]);
    }
    if let DbConnection::Pg(c) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({ALERT_LOCK_KEY})")).execute(c)?;
    }
    let now = truncate_micros(now);
    let rows: Vec<AlertRow> = new
        .iter()
        .map(|a| {
            let due = truncate_micros(a.due_at);
            AlertRow {
                seq: 0,
                id: uuid::Uuid::now_v7().to_string(),
                dedup_key: dedup_key(&a.order_id, a.kind, due, &a.occasion),
                kind: a.kind.as_str().into(),
                severity: a.kind.rule().severity.as_str().into(),
                order_id: a.order_id.clone(),
                breach_id: a.breach_id.clone(),
                due_at: due.naive_utc(),
                created_at: now.naive_utc(),
                late: is_late(a.fire_at, now),
                late_by_seconds: if is_late(a.fire_at, now) {
                    (now - a.fire_at).num_seconds()
                } else {
                    0
                },
            }
        })
        .collect();
    let mut written = vec![];
    match conn {
        // Many at once (a check run's batch) on PostgreSQL: one statement, where a row at a time cost two round
        // trips an alert (docs/decisions/0008-check-run-writes-a-batch-in-a-few-statements.md). `seq` follows the
        // order of the rows.
        DbConnection::Pg(c) if rows.len() > 1 => {
            for chunk in rows.chunks(INSERT_CHUNK) {
                written.extend(
                    diesel::insert_into(alerts::table)
                        .values(chunk)
                        .on_conflict_do_nothing()
                        .returning(alerts::seq)
                        .get_results::<i64>(c)?,
                );
            }
            written.sort_unstable();
        }
        // One alert (a breach, an order change), and SQLite's in-process statements: a row at a time, each a
        // statement kept prepared.
        _ => {
            for row in &rows {
                let inserted = super::with_backend!(conn, |c| diesel::insert_into(alerts::table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .execute(c))?;
                if inserted == 1 {
                    written.push(
                        alerts::table
                            .filter(alerts::id.eq(&row.id))
                            .select(alerts::seq)
                            .first(conn)?,
                    );
                }
            }
        }
    }
    if !written.is_empty() {
        notify(conn, ALERT_CHANNEL)?;
        // Counted when written; a rolled-back transaction may overcount, never undercount.
        crate::metrics::global()
            .alerts_raised
            .fetch_add(written.len() as u64, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(written)
}

/// Tells listeners on other replicas (PostgreSQL); delivered when the transaction commits, dropped on rollback.
pub fn notify(conn: &mut DbConnection, channel: &str) -> AppResult<()> {
    if let DbConnection::Pg(c) = conn {
        diesel::sql_query(format!("SELECT pg_notify('{channel}', '')")).execute(c)?;
    }
    Ok(())
}

/// The highest `seq` written so far (0 when none).
pub fn max_seq(conn: &mut DbConnection) -> AppResult<i64> {
    Ok(alerts::table
        .select(diesel::dsl::max(alerts::seq))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

fn to_record((a, reference, applicant): (AlertRow, String, String)) -> AppResult<AlertRecord> {
    Ok(AlertRecord {
        seq: a.seq,
        kind: parse_code(&a.kind, "alerts.kind")?,
        severity: parse_code(&a.severity, "alerts.severity")?,
        id: a.id,
        order_id: a.order_id,
        order_reference: reference,
        applicant_agency: applicant,
        breach_id: a.breach_id,
        due_at: a.due_at.and_utc(),
        created_at: a.created_at.and_utc(),
        late: a.late,
        late_by_seconds: a.late_by_seconds,
    })
}

/// Alerts after `after_seq` that `audience` receives now, in `seq` order; with `filter.newest_first`, those before
/// `after_seq` in reverse order.
pub fn page(
    conn: &mut DbConnection,
    audience: &AlertAudience,
    filter: &AlertFilter,
    after_seq: i64,
    limit: i64,
) -> AppResult<Vec<AlertRecord>> {
    let mut q = alerts::table
        .inner_join(orders::table)
        .select((
            AlertRow::as_select(),
            orders::reference,
            orders::applicant_agency,
        ))
        .into_boxed::<Db>();
    q = if filter.newest_first {
        q.filter(alerts::seq.lt(after_seq))
    } else {
        q.filter(alerts::seq.gt(after_seq))
    };
    let codes = |kinds: Vec<AlertKind>| kinds.into_iter().map(|k| k.as_str()).collect::<Vec<_>>();
    let agency = match audience {
        AlertAudience::Nothing => return Ok(vec![]),
        AlertAudience::Force(agency) => {
            q = q
                .filter(orders::applicant_agency.eq(agency.clone()))
                .filter(alerts::kind.eq_any(codes(AlertKind::for_force())));
            agency
        }
        AlertAudience::Advocate(agency) => {
            q = q
                .filter(alerts::kind.eq_any(codes(AlertKind::for_advocates())))
                .filter(diesel::dsl::exists(
                    order_shares::table
                        .filter(order_shares::order_id.eq(alerts::order_id))
                        .filter(order_shares::advocacy_agency.eq(agency.clone()))
                        .filter(order_shares::revoked_at.is_null()),
                ));
            agency
        }
    };
    if let Some(kinds) = &filter.kinds {
        q = q.filter(alerts::kind.eq_any(codes(kinds.clone())));
    }
    if let Some(reference) = &filter.order_reference {
        q = q.filter(orders::reference.eq(reference.clone()));
    }
    if filter.unacknowledged_only {
        q = q.filter(diesel::dsl::not(diesel::dsl::exists(
            alert_acks::table
                .filter(alert_acks::alert_seq.eq(alerts::seq))
                .filter(alert_acks::agency.eq(agency.clone())),
        )));
    }
    let q = if filter.newest_first {
        q.order(alerts::seq.desc())
    } else {
        q.order(alerts::seq.asc())
    };
    q.limit(limit)
        .load::<(AlertRow, String, String)>(conn)?
        .into_iter()
        .map(to_record)
        .collect()
}

pub fn find_by_id(conn: &mut DbConnection, id: &str) -> AppResult<Option<AlertRecord>> {
    alerts::table
        .inner_join(orders::table)
        .select((
            AlertRow::as_select(),
            orders::reference,
            orders::applicant_agency,
        ))
        .filter(alerts::id.eq(id))
        .first::<(AlertRow, String, String)>(conn)
        .optional()?
        .map(to_record)
        .transpose()
}

/// This agency's acknowledgements of these alerts: `seq -> (when, who)`.
pub fn acks(
    conn: &mut DbConnection,
    seqs: &[i64],
    agency: &str,
) -> AppResult<HashMap<i64, (DateTime<Utc>, String)>> {
    if seqs.is_empty() {
        return Ok(HashMap::new());
    }
    let query = alert_acks::table
        .filter(alert_acks::agency.eq(agency))
        .select(AlertAckRow::as_select())
        .into_boxed::<Db>();
    // One alert (a delivery's question) is asked with `=`: bound as an array, PostgreSQL would plan the statement
    // again on every run (see `parts::PartsQuery`).
    let rows: Vec<AlertAckRow> = match seqs {
        [seq] => query.filter(alert_acks::alert_seq.eq(*seq)),
        _ => query.filter(alert_acks::alert_seq.eq_any(seqs)),
    }
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|a| {
            (
                a.alert_seq,
                (a.acknowledged_at.and_utc(), a.acknowledged_by),
            )
        })
        .collect())
}

/// Records the agency's acknowledgement; the first one stands (a repeat changes nothing).
pub fn acknowledge(
    conn: &mut DbConnection,
    seq: i64,
    agency: &str,
    by: &str,
    at: DateTime<Utc>,
) -> AppResult<()> {
    let row = AlertAckRow {
        alert_seq: seq,
        agency: agency.into(),
        acknowledged_at: truncate_micros(at).naive_utc(),
        acknowledged_by: by.into(),
    };
    super::with_backend!(conn, |c| diesel::insert_into(alert_acks::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}
