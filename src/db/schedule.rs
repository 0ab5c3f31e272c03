//! Notifications, hearings, and the deadlines each order carries (the alerts scheduled to fire are `triggers`).

use super::codec::{parse_code, truncate_micros};
use super::models::{DeadlineRow, HearingRow, NotificationRow};
use super::orders::Recorded;
use super::schema::{deadlines, hearings, notifications, orders};
use super::DbConnection;
use crate::domain::order::{DeadlineRecord, HearingRecord, NotificationRecord};
use crate::domain::schedule::{
    DeadlineKind, DeadlineSpec, DeadlineStatus, HearingOutcome, NotificationDraft,
};
use crate::domain::scope::{DeadlineFilter, DeadlineScope};
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::collections::{HashMap, HashSet};

type Db = <DbConnection as Connection>::Backend;

fn id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn insert_notification(
    conn: &mut DbConnection,
    order_id: &str,
    n: NotificationDraft,
    recorded: &Recorded,
) -> AppResult<()> {
    let NotificationDraft {
        kind,
        source,
        notified_at,
        changed_on,
        details,
    } = n;
    let row = NotificationRow {
        source: source.as_str().into(),
        id: id(),
        order_id: order_id.into(),
        kind: kind.as_str().into(),
        notified_at: truncate_micros(notified_at).naive_utc(),
        changed_on,
        details,
        recorded_by_agency: recorded.agency.clone(),
        recorded_by: recorded.by.clone(),
        created_at: truncate_micros(recorded.at).naive_utc(),
    };
    diesel::insert_into(notifications::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

pub fn insert_hearing(
    conn: &mut DbConnection,
    order_id: &str,
    court: &str,
    scheduled_for: DateTime<Utc>,
    note: Option<String>,
    at: DateTime<Utc>,
) -> AppResult<String> {
    let at = truncate_micros(at).naive_utc();
    let row = HearingRow {
        id: id(),
        order_id: order_id.into(),
        court_agency: court.into(),
        scheduled_for: truncate_micros(scheduled_for).naive_utc(),
        outcome: None,
        held_at: None,
        note,
        created_at: at,
        updated_at: at,
    };
    diesel::insert_into(hearings::table)
        .values(&row)
        .execute(conn)?;
    Ok(row.id)
}

/// The hearing and the id of its order.
pub fn find_hearing(
    conn: &mut DbConnection,
    hearing_id: &str,
) -> AppResult<Option<(String, HearingRecord)>> {
    hearings::table
        .find(hearing_id)
        .select(HearingRow::as_select())
        .first(conn)
        .optional()?
        .map(|r| Ok((r.order_id.clone(), hearing_record(r)?)))
        .transpose()
}

pub fn set_hearing_outcome(
    conn: &mut DbConnection,
    hearing_id: &str,
    outcome: HearingOutcome,
    held_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> AppResult<()> {
    diesel::update(hearings::table.find(hearing_id))
        .set((
            hearings::outcome.eq(Some(outcome.as_str())),
            hearings::held_at.eq(held_at.map(|t| truncate_micros(t).naive_utc())),
            hearings::updated_at.eq(truncate_micros(at).naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn hearing_record(r: HearingRow) -> AppResult<HearingRecord> {
    Ok(HearingRecord {
        outcome: r
            .outcome
            .as_deref()
            .map(|o| parse_code(o, "hearings.outcome"))
            .transpose()?,
        id: r.id,
        court_agency: r.court_agency,
        scheduled_for: r.scheduled_for.and_utc(),
        held_at: r.held_at.map(|t| t.and_utc()),
        note: r.note,
        created_at: r.created_at.and_utc(),
        updated_at: r.updated_at.and_utc(),
    })
}

fn deadline_record(r: DeadlineRow) -> AppResult<DeadlineRecord> {
    Ok(DeadlineRecord {
        kind: parse_code(&r.kind, "deadlines.kind")?,
        status: parse_code(&r.status, "deadlines.status")?,
        id: r.id,
        order_id: r.order_id,
        occasion: r.occasion,
        due_at: r.due_at.and_utc(),
        met_at: r.met_at.map(|t| t.and_utc()),
        rule: r.rule,
        statute: r.statute,
    })
}

/// Notifications and deadlines of these orders, each only when `parts` asks for it (hearings come with the
/// order's other parts, `db::parts`).
#[allow(clippy::type_complexity)]
pub fn for_orders(
    conn: &mut DbConnection,
    order_ids: &[String],
    parts: crate::domain::order::OrderParts,
) -> AppResult<(
    HashMap<String, Vec<NotificationRecord>>,
    HashMap<String, Vec<DeadlineRecord>>,
)> {
    let mut ns: HashMap<String, Vec<NotificationRecord>> = HashMap::new();
    let notification_rows = if parts.notifications {
        notifications::table
            .filter(notifications::order_id.eq_any(order_ids))
            .order((notifications::order_id, notifications::notified_at))
            .select(NotificationRow::as_select())
            .load(conn)?
    } else {
        vec![]
    };
    for r in notification_rows {
        ns.entry(r.order_id.clone())
            .or_default()
            .push(NotificationRecord {
                kind: parse_code(&r.kind, "notifications.kind")?,
                source: parse_code(&r.source, "notifications.source")?,
                id: r.id,
                notified_at: r.notified_at.and_utc(),
                changed_on: r.changed_on,
                details: r.details,
                recorded_by_agency: r.recorded_by_agency,
                created_at: r.created_at.and_utc(),
            });
    }
    let mut ds: HashMap<String, Vec<DeadlineRecord>> = HashMap::new();
    let deadline_rows = if parts.deadlines {
        deadlines::table
            .filter(deadlines::order_id.eq_any(order_ids))
            .order((deadlines::order_id, deadlines::due_at, deadlines::kind))
            .select(DeadlineRow::as_select())
            .load(conn)?
    } else {
        vec![]
    };
    for r in deadline_rows {
        ds.entry(r.order_id.clone())
            .or_default()
            .push(deadline_record(r)?);
    }
    Ok((ns, ds))
}

/// What identifies a planned deadline or alert of an order across re-plans: its kind, occasion and due moment.
pub(super) fn plan_key(kind: &str, occasion: &str, due: chrono::NaiveDateTime) -> String {
    format!("{kind}|{occasion}|{}", due.and_utc().timestamp_micros())
}

/// Makes the stored deadlines of an order what the plan says: new ones inserted, changed ones updated, an open one
/// now due at another moment moved there, ones no longer planned at all waived (kept for the record).
pub fn sync_deadlines(
    conn: &mut DbConnection,
    order_id: &str,
    specs: &[DeadlineSpec],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let now = truncate_micros(now).naive_utc();
    let existing = deadlines::table
        .filter(deadlines::order_id.eq(order_id))
        .select(DeadlineRow::as_select())
        .load(conn)?;
    let mut planned = HashSet::new();
    let moved: HashSet<(&str, &str)> = specs
        .iter()
        .map(|s| (s.kind.as_str(), s.occasion.as_str()))
        .collect();
    for s in specs {
        let due = truncate_micros(s.due_at).naive_utc();
        let k = plan_key(s.kind.as_str(), &s.occasion, due);
        planned.insert(k.clone());
        let met_at = s.met_at.map(|t| truncate_micros(t).naive_utc());
        match existing
            .iter()
            .find(|e| plan_key(&e.kind, &e.occasion, e.due_at) == k)
        {
            Some(e) if e.status == s.status.as_str() && e.met_at == met_at => {}
            Some(e) => {
                diesel::update(deadlines::table.find(&e.id))
                    .set((
                        deadlines::status.eq(s.status.as_str()),
                        deadlines::met_at.eq(met_at),
                        deadlines::updated_at.eq(now),
                    ))
                    .execute(conn)?;
            }
            None => {
                let row = DeadlineRow {
                    id: id(),
                    order_id: order_id.into(),
                    kind: s.kind.as_str().into(),
                    occasion: s.occasion.clone(),
                    due_at: due,
                    status: s.status.as_str().into(),
                    met_at,
                    rule: s.rule.clone(),
                    statute: s.statute.into(),
                    updated_at: now,
                };
                diesel::insert_into(deadlines::table)
                    .values(&row)
                    .execute(conn)?;
            }
        }
    }
    for e in existing
        .iter()
        .filter(|e| e.status == DeadlineStatus::Open.as_str())
    {
        if planned.contains(&plan_key(&e.kind, &e.occasion, e.due_at)) {
            continue;
        }
        if moved.contains(&(e.kind.as_str(), e.occasion.as_str())) {
            // The same deadline, now due at another moment (a notice's window once service is recorded, an end
            // once renewed): one deadline, at its new moment, not a second one waived.
            diesel::delete(deadlines::table.find(&e.id)).execute(conn)?;
        } else {
            diesel::update(deadlines::table.find(&e.id))
                .set((
                    deadlines::status.eq(DeadlineStatus::Waived.as_str()),
                    deadlines::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// A page of deadlines, soonest first, after the key `(due_at, id)`, with their order references. Longer than 80
/// lines: one query built from the scope and each optional filter, a clause each.
pub fn page(
    conn: &mut DbConnection,
    scope: &DeadlineScope,
    filter: &DeadlineFilter,
    now: DateTime<Utc>,
    after: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> AppResult<Vec<(DeadlineRecord, String)>> {
    let notification_kinds = [
        DeadlineKind::NotificationInitial,
        DeadlineKind::NotificationNewName,
        DeadlineKind::NotificationHomeAddress,
        DeadlineKind::NotificationNoHomeAddress,
    ]
    .map(|k| k.as_str());
    let mut q = deadlines::table
        .inner_join(orders::table)
        .select((DeadlineRow::as_select(), orders::reference))
        .into_boxed::<Db>();
    q = match scope {
        DeadlineScope::Nothing => return Ok(vec![]),
        DeadlineScope::Force(agency) => q.filter(orders::applicant_agency.eq(agency.clone())),
        DeadlineScope::Court(agency) => q
            .filter(orders::court_agency.eq(agency.clone()))
            .filter(deadlines::kind.ne_all(notification_kinds)),
        DeadlineScope::SharedWith(agency) => {
            q.filter(deadlines::kind.ne_all(notification_kinds)).filter(
                orders::id.eq_any(
                    super::schema::order_shares::table
                        .filter(super::schema::order_shares::advocacy_agency.eq(agency.clone()))
                        .filter(super::schema::order_shares::revoked_at.is_null())
                        .select(super::schema::order_shares::order_id),
                ),
            )
        }
    };
    if let Some(kinds) = &filter.kinds {
        q = q.filter(deadlines::kind.eq_any(kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>()));
    }
    let now_n = truncate_micros(now).naive_utc();
    if let Some(status) = filter.status {
        let open = DeadlineStatus::Open.as_str();
        let missable: Vec<&str> = DeadlineKind::ALL
            .iter()
            .filter(|k| k.missable())
            .map(|k| k.as_str())
            .collect();
        q = match status {
            DeadlineStatus::Open => q
                .filter(deadlines::status.eq(open))
                .filter(deadlines::due_at.gt(now_n)),
            DeadlineStatus::Missed => q.filter(
                deadlines::status
                    .eq(DeadlineStatus::Missed.as_str())
                    .or(deadlines::status
                        .eq(open)
                        .and(deadlines::due_at.le(now_n))
                        .and(deadlines::kind.eq_any(missable.clone()))),
            ),
            DeadlineStatus::Met => q.filter(
                deadlines::status
                    .eq(DeadlineStatus::Met.as_str())
                    .or(deadlines::status
                        .eq(open)
                        .and(deadlines::due_at.le(now_n))
                        .and(deadlines::kind.ne_all(missable))),
            ),
            DeadlineStatus::Waived => {
                q.filter(deadlines::status.eq(DeadlineStatus::Waived.as_str()))
            }
        };
    }
    if let Some(t) = filter.due_before {
        q = q.filter(deadlines::due_at.lt(truncate_micros(t).naive_utc()));
    }
    if let Some(t) = filter.due_after {
        q = q.filter(deadlines::due_at.gt(truncate_micros(t).naive_utc()));
    }
    if let Some(r) = &filter.order_reference {
        q = q.filter(orders::reference.eq(r.clone()));
    }
    if let Some((due, id)) = after {
        let due = truncate_micros(due).naive_utc();
        q = q.filter(
            deadlines::due_at
                .gt(due)
                .or(deadlines::due_at.eq(due).and(deadlines::id.gt(id))),
        );
    }
    q.order((deadlines::due_at.asc(), deadlines::id.asc()))
        .limit(limit)
        .load::<(DeadlineRow, String)>(conn)?
        .into_iter()
        .map(|(d, reference)| Ok((deadline_record(d)?, reference)))
        .collect()
}
