//! The facts statistics are computed from (`domain::statistics`), read with plain selects that both backends answer
//! alike: orders made by the period's end, the decisions on them, their breaches with the time of each one's
//! current outcome, and their missed notification deadlines. Nothing personal is read.

use super::codec::parse_code;
use super::schema::{breach_outcomes, breaches, deadlines, order_versions, orders};
use super::DbConnection;
use diesel::connection::Connection;

type Db = <DbConnection as Connection>::Backend;
use crate::domain::application::InternalRefusalReason;
use crate::domain::calendar::{end_of_day, london_date};
use crate::domain::schedule::{DeadlineKind, DeadlineStatus};
use crate::domain::statistics::{
    ApplicationFact, BreachFact, ChangeFact, Facts, MissedFact, OrderFact, Period,
};
use crate::domain::{OrderEvent, OrderStatus, OrderType};
use crate::error::AppResult;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use std::collections::HashMap;

/// The facts of `period` for one force, or for every force when `force` is `None`. `now` decides whether an open
/// notification deadline has been missed.
pub fn facts(
    conn: &mut DbConnection,
    period: Period,
    force: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Facts> {
    // The moment the period's last day ends.
    let until = end_of_day(period.to).naive_utc();
    let mut q = orders::table
        .filter(orders::made_on.le(period.to))
        .select((
            orders::id,
            orders::applicant_agency,
            orders::order_type,
            orders::made_on,
            orders::expires_on,
            orders::served_at,
        ))
        .into_boxed::<Db>();
    if let Some(force) = force {
        q = q.filter(orders::applicant_agency.eq(force.to_string()));
    }
    type Row = (
        String,
        String,
        String,
        NaiveDate,
        Option<NaiveDate>,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = q.load(conn)?;
    let mut known: HashMap<String, (String, OrderType)> = HashMap::with_capacity(rows.len());
    let mut orders_found = Vec::with_capacity(rows.len());
    for (id, applicant, kind, made_on, expires_on, served_at) in rows {
        let order_type: OrderType = parse_code(&kind, "orders.order_type")?;
        known.insert(id.clone(), (applicant.clone(), order_type));
        orders_found.push((
            id,
            OrderFact {
                force: applicant,
                order_type,
                made_on,
                last_day: expires_on,
                ended_on: None,
                served_on: served_at.map(|t| london_date(t.and_utc())),
            },
        ));
    }
    let (changes, ended) = changes(conn, &known, until)?;
    let orders = orders_found
        .into_iter()
        .map(|(id, mut fact)| {
            fact.ended_on = ended.get(&id).copied();
            fact
        })
        .collect();
    Ok(Facts {
        orders,
        changes,
        breaches: breach_facts(conn, &known, until)?,
        missed: missed(conn, &known, period, now)?,
        applications: application_facts(conn, force)?,
    })
}

/// The decisions recorded on the known orders by the period's end, and the day each order that ended early ended.
fn changes(
    conn: &mut DbConnection,
    known: &HashMap<String, (String, OrderType)>,
    until: NaiveDateTime,
) -> AppResult<(Vec<ChangeFact>, HashMap<String, NaiveDate>)> {
    let rows: Vec<(String, String, String, NaiveDateTime, Option<NaiveDate>)> =
        order_versions::table
            .filter(order_versions::recorded_at.lt(until))
            .filter(order_versions::event.ne(OrderEvent::Granted.as_str()))
            .order((order_versions::order_id, order_versions::version))
            .select((
                order_versions::order_id,
                order_versions::event,
                order_versions::status,
                order_versions::recorded_at,
                order_versions::decided_on,
            ))
            .load(conn)?;
    let mut out = vec![];
    let mut ended: HashMap<String, NaiveDate> = HashMap::new();
    for (order_id, event, status, recorded_at, decided_on) in rows {
        let Some((force, order_type)) = known.get(&order_id) else {
            continue;
        };
        let event: OrderEvent = parse_code(&event, "order_versions.event")?;
        let status: OrderStatus = parse_code(&status, "order_versions.status")?;
        let on = decided_on.unwrap_or_else(|| london_date(recorded_at.and_utc()));
        // An order whose term ran out is counted by its last day, not by when the check recorded it.
        if !matches!(status, OrderStatus::InForce | OrderStatus::Expired) {
            ended.entry(order_id.clone()).or_insert(on);
        }
        out.push(ChangeFact {
            force: force.clone(),
            order_type: *order_type,
            event,
            on,
        });
    }
    Ok((out, ended))
}

/// The breaches of the known orders that occurred by the period's end, each with when its current outcome was
/// recorded.
fn breach_facts(
    conn: &mut DbConnection,
    known: &HashMap<String, (String, OrderType)>,
    until: NaiveDateTime,
) -> AppResult<Vec<BreachFact>> {
    let rows: Vec<(String, String, NaiveDateTime, String, bool)> = breaches::table
        .filter(breaches::occurred_at.lt(until))
        .select((
            breaches::id,
            breaches::order_id,
            breaches::occurred_at,
            breaches::outcome,
            breaches::recorded_as_crime,
        ))
        .load(conn)?;
    let decided: Vec<(String, NaiveDateTime)> = breach_outcomes::table
        .inner_join(breaches::table)
        .filter(breaches::occurred_at.lt(until))
        .select((breach_outcomes::breach_id, breach_outcomes::recorded_at))
        .load(conn)?;
    let mut latest: HashMap<String, NaiveDateTime> = HashMap::new();
    for (breach_id, at) in decided {
        let entry = latest.entry(breach_id).or_insert(at);
        *entry = (*entry).max(at);
    }
    let mut out = vec![];
    for (id, order_id, occurred_at, outcome, recorded_as_crime) in rows {
        let Some((force, order_type)) = known.get(&order_id) else {
            continue;
        };
        out.push(BreachFact {
            force: force.clone(),
            order_type: *order_type,
            occurred_at: occurred_at.and_utc(),
            outcome: parse_code(&outcome, "breaches.outcome")?,
            outcome_at: latest.get(&id).map(|t| t.and_utc()),
            recorded_as_crime,
        });
    }
    Ok(out)
}

/// The notification deadlines of the known orders due within the period and missed: recorded as missed, or still
/// open past their moment.
fn missed(
    conn: &mut DbConnection,
    known: &HashMap<String, (String, OrderType)>,
    period: Period,
    now: DateTime<Utc>,
) -> AppResult<Vec<MissedFact>> {
    let kinds = [
        DeadlineKind::NotificationInitial,
        DeadlineKind::NotificationNewName,
        DeadlineKind::NotificationHomeAddress,
    ]
    .map(DeadlineKind::as_str);
    // The moment the first day begins is the moment the day before it ends.
    let from = end_of_day(period.from.pred_opt().unwrap_or(period.from)).naive_utc();
    let until = end_of_day(period.to).naive_utc();
    let rows: Vec<(String, NaiveDateTime, String)> = deadlines::table
        .filter(deadlines::kind.eq_any(kinds))
        .filter(deadlines::due_at.ge(from))
        .filter(deadlines::due_at.lt(until))
        .select((deadlines::order_id, deadlines::due_at, deadlines::status))
        .load(conn)?;
    let now = now.naive_utc();
    let mut out = vec![];
    for (order_id, due_at, status) in rows {
        let Some((force, order_type)) = known.get(&order_id) else {
            continue;
        };
        let status: DeadlineStatus = parse_code(&status, "deadlines.status")?;
        let missed =
            status == DeadlineStatus::Missed || (status == DeadlineStatus::Open && due_at <= now);
        if missed {
            out.push(MissedFact {
                force: force.clone(),
                order_type: *order_type,
                due_on: london_date(due_at.and_utc()),
            });
        }
    }
    Ok(out)
}

/// The applications of one force (or of all), with the day the order granted on each was made.
fn application_facts(
    conn: &mut DbConnection,
    force: Option<&str>,
) -> AppResult<Vec<ApplicationFact>> {
    let mut out = vec![];
    for (row, order_made_on) in super::applications::for_statistics(conn, force)? {
        let record = super::applications::record(row, None)?;
        let s = &record.stages;
        let internal = match (s.internal_decision, s.internal_decision_on) {
            (Some(decision), Some(on)) => Some((
                decision,
                on,
                s.internal_refusal_reason.map(InternalRefusalReason::as_str),
            )),
            _ => None,
        };
        out.push(ApplicationFact {
            force: record.force,
            order_type: record.order_type,
            reported_on: s.reported_on,
            internal,
            made_to_court_on: s.made_to_court_on,
            court_outcome: record.court_outcome,
            order_made_on,
        });
    }
    Ok(out)
}
