//! The alerts scheduled to fire for each order: kept what the plan says, claimed by a check run (rows another
//! replica holds are skipped), and marked fired or cancelled.

use super::codec::new_id as id;
use super::codec::{parse_code, truncate_micros};
use super::models::ScheduledRow;
use super::schedule::plan_key;
use super::schema::scheduled_alerts;
use super::DbConnection;
use crate::domain::alert::AlertKind;
use crate::domain::schedule::TriggerSpec;
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::collections::HashSet;

const PENDING: &str = "PENDING";
const DONE: &str = "DONE";
const CANCELLED: &str = "CANCELLED";

/// Makes the pending alerts of an order what the plan says: new ones scheduled, ones no longer planned cancelled.
/// One already fired stays fired (it is never scheduled again).
pub fn sync_triggers(
    conn: &mut DbConnection,
    order_id: &str,
    specs: &[TriggerSpec],
) -> AppResult<()> {
    let existing = scheduled_alerts::table
        .filter(scheduled_alerts::order_id.eq(order_id))
        .select(ScheduledRow::as_select())
        .load(conn)?;
    let mut planned = HashSet::new();
    for s in specs {
        let due = truncate_micros(s.due_at).naive_utc();
        let fire = truncate_micros(s.fire_at).naive_utc();
        let k = plan_key(s.kind.as_str(), &s.occasion, due);
        planned.insert(k.clone());
        match existing
            .iter()
            .find(|e| plan_key(&e.kind, &e.occasion, e.due_at) == k)
        {
            Some(e) if e.state == DONE || (e.state == PENDING && e.fire_at == fire) => {}
            Some(e) => {
                diesel::update(scheduled_alerts::table.find(&e.id))
                    .set((
                        scheduled_alerts::state.eq(PENDING),
                        scheduled_alerts::fire_at.eq(fire),
                    ))
                    .execute(conn)?;
            }
            None => {
                let row = ScheduledRow {
                    id: id(),
                    order_id: order_id.into(),
                    kind: s.kind.as_str().into(),
                    occasion: s.occasion.clone(),
                    due_at: due,
                    fire_at: fire,
                    state: PENDING.into(),
                    done_at: None,
                };
                diesel::insert_into(scheduled_alerts::table)
                    .values(&row)
                    .execute(conn)?;
            }
        }
    }
    for e in existing.iter().filter(|e| e.state == PENDING) {
        if !planned.contains(&plan_key(&e.kind, &e.occasion, e.due_at)) {
            diesel::update(scheduled_alerts::table.find(&e.id))
                .set(scheduled_alerts::state.eq(CANCELLED))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// A scheduled alert that is due.
#[derive(Debug, Clone)]
pub struct DueTrigger {
    pub id: String,
    pub order_id: String,
    pub spec: TriggerSpec,
}

/// Claims up to `limit` pending alerts due by `now`, most overdue first. On PostgreSQL the rows are locked and
/// rows another server has claimed are skipped, so replicas share the work instead of repeating it; SQLite's single
/// writer (the caller holds `BEGIN IMMEDIATE`) does the same.
pub fn claim_due(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> AppResult<Vec<DueTrigger>> {
    let now = truncate_micros(now).naive_utc();
    macro_rules! due {
        () => {
            scheduled_alerts::table
                .filter(scheduled_alerts::state.eq(PENDING))
                .filter(scheduled_alerts::fire_at.le(now))
                .order((scheduled_alerts::fire_at, scheduled_alerts::id))
                .limit(limit)
                .select(ScheduledRow::as_select())
        };
    }
    let rows = match conn {
        DbConnection::Pg(c) => due!().for_update().skip_locked().load(c)?,
        DbConnection::Sqlite(c) => due!().load(c)?,
    };
    rows.into_iter()
        .map(|r| {
            Ok(DueTrigger {
                spec: TriggerSpec {
                    kind: parse_code::<AlertKind>(&r.kind, "scheduled_alerts.kind")?,
                    fire_at: r.fire_at.and_utc(),
                    due_at: r.due_at.and_utc(),
                    occasion: r.occasion,
                },
                id: r.id,
                order_id: r.order_id,
            })
        })
        .collect()
}

/// Marks claimed alerts fired (`done`) or no longer due (`cancelled`): one statement for each list that has any.
pub fn finish(
    conn: &mut DbConnection,
    fired: &[&str],
    cancelled: &[&str],
    at: DateTime<Utc>,
) -> AppResult<()> {
    let at = Some(truncate_micros(at).naive_utc());
    for (ids, state) in [(fired, DONE), (cancelled, CANCELLED)] {
        if ids.is_empty() {
            continue;
        }
        diesel::update(scheduled_alerts::table.filter(scheduled_alerts::id.eq_any(ids)))
            .set((
                scheduled_alerts::state.eq(state),
                scheduled_alerts::done_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}
