//! The events of a period: decisions on orders, breaches, outcomes, missed notification deadlines and applications'
//! stages, each from one index range and, but for the few decisions on orders, counted by the database.

use super::dialect::Dialect;
use super::{Group, Grouping, NONE, NO_SPAN};
use crate::db::codec::parse_code;
use crate::db::schema::{order_versions, orders};
use crate::db::DbConnection;
use crate::domain::alert::BreachOutcome;
use crate::domain::application::{
    CourtOutcome, CourtRefusalReason, InternalDecision, InternalRefusalReason,
};
use crate::domain::calendar::{end_of_day, london_date};
use crate::domain::schedule::{DeadlineKind, DeadlineStatus};
use crate::domain::statistics::{
    ApplicationFact, ApplicationStage, BreachFact, ChangeFact, MissedFact, OutcomeFact, Period,
};
use crate::domain::OrderEvent;
use crate::error::AppResult;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::connection::Connection;
use diesel::prelude::*;

type Db = <DbConnection as Connection>::Backend;

/// The first and the last moment of a period, as stored times (UTC): from the start of its first London day to the
/// end of its last.
fn bounds(period: Period) -> (NaiveDateTime, NaiveDateTime) {
    // The moment the first day begins is the moment the day before it ends.
    let from = end_of_day(period.from.pred_opt().unwrap_or(period.from)).naive_utc();
    (from, end_of_day(period.to).naive_utc())
}

/// The decisions on orders taken within the period: on the court's decision date, or on the day recorded when the
/// decision has none. Few, so read one by one.
pub(super) fn changes(conn: &mut DbConnection, d: &Dialect) -> AppResult<Vec<ChangeFact>> {
    let (from, until) = bounds(d.period);
    let counted = [
        OrderEvent::Varied,
        OrderEvent::Renewed,
        OrderEvent::Discharged,
        OrderEvent::Quashed,
        OrderEvent::Ceased,
    ]
    .map(OrderEvent::as_str);
    let select = || {
        order_versions::table
            .inner_join(orders::table)
            .filter(order_versions::event.eq_any(counted))
            .select((
                orders::applicant_agency,
                orders::court_agency,
                orders::order_type,
                order_versions::event,
                order_versions::recorded_at,
                order_versions::decided_on,
            ))
            .into_boxed::<Db>()
    };
    // Two ranges, one per index: decided within the period, or recorded within it with no decision date.
    let mut decided =
        select().filter(order_versions::decided_on.between(d.period.from, d.period.to));
    let mut recorded = select()
        .filter(order_versions::decided_on.is_null())
        .filter(order_versions::recorded_at.ge(from))
        .filter(order_versions::recorded_at.lt(until));
    if let Some(force) = d.force_asked() {
        decided = decided.filter(orders::applicant_agency.eq(force.to_string()));
        recorded = recorded.filter(orders::applicant_agency.eq(force.to_string()));
    }
    type Found = (
        String,
        Option<String>,
        String,
        String,
        NaiveDateTime,
        Option<NaiveDate>,
    );
    let mut rows: Vec<Found> = decided.load(conn)?;
    rows.extend(recorded.load::<Found>(conn)?);
    rows.into_iter()
        .map(|(force, court, kind, event, recorded_at, decided_on)| {
            Ok(ChangeFact {
                force,
                court,
                order_type: parse_code(&kind, "orders.order_type")?,
                event: parse_code(&event, "order_versions.event")?,
                on: decided_on.unwrap_or_else(|| london_date(recorded_at.and_utc())),
            })
        })
        .collect()
}

/// The breaches that occurred within the period, by quarter, with those also recorded as a crime.
pub(super) fn breaches(conn: &mut DbConnection, d: &Dialect) -> AppResult<Vec<BreachFact>> {
    let (from, until) = bounds(d.period);
    let sql = Grouping {
        force: "force_agency",
        court: "court_agency",
        order_type: "order_type",
        quarter: d.quarter_of_time("occurred_at"),
        detail: NONE,
        reason: NONE,
        span: NO_SPAN.into(),
        marked: "CASE WHEN recorded_as_crime THEN 1 ELSE 0 END",
        from: "breaches",
        range: format!(
            "occurred_at >= {} AND occurred_at < {}",
            d.time(from),
            d.time(until)
        ),
    }
    .sql(d);
    d.load::<Group>(conn, &sql)?
        .into_iter()
        .map(|g| {
            Ok(BreachFact {
                quarter: d.quarter(g.quarter)?,
                order_type: parse_code(&g.order_type, "breaches.order_type")?,
                force: g.force,
                court: g.court,
                count: g.events as u64,
                recorded_as_crime: g.marked as u64,
            })
        })
        .collect()
}

/// The breaches whose current outcome was recorded within the period, by quarter, outcome and whole hours from the
/// breach to the outcome.
pub(super) fn outcomes(conn: &mut DbConnection, d: &Dialect) -> AppResult<Vec<OutcomeFact>> {
    let (from, until) = bounds(d.period);
    let outcomes: Vec<String> = [
        BreachOutcome::NoFurtherAction,
        BreachOutcome::Charged,
        BreachOutcome::Convicted,
        BreachOutcome::Acquitted,
        BreachOutcome::ContemptFound,
    ]
    .iter()
    .map(|o| format!("'{}'", o.as_str()))
    .collect();
    let sql = Grouping {
        force: "force_agency",
        court: "court_agency",
        order_type: "order_type",
        quarter: d.quarter_of_time("outcome_at"),
        detail: "outcome",
        reason: NONE,
        span: d.hours_between("occurred_at", "outcome_at"),
        marked: "0",
        from: "breaches",
        range: format!(
            "outcome_at >= {} AND outcome_at < {} AND outcome IN ({})",
            d.time(from),
            d.time(until),
            outcomes.join(", ")
        ),
    }
    .sql(d);
    d.load::<Group>(conn, &sql)?
        .into_iter()
        .map(|g| {
            Ok(OutcomeFact {
                quarter: d.quarter(g.quarter)?,
                order_type: parse_code(&g.order_type, "breaches.order_type")?,
                outcome: parse_code(g.detail.as_deref().unwrap_or_default(), "breaches.outcome")?,
                hours: g.span.unwrap_or_default(),
                force: g.force,
                court: g.court,
                count: g.events as u64,
            })
        })
        .collect()
}

/// The notification deadlines due within the period and missed (recorded as missed, or still open past their
/// moment), by quarter.
pub(super) fn missed(
    conn: &mut DbConnection,
    d: &Dialect,
    now: DateTime<Utc>,
) -> AppResult<Vec<MissedFact>> {
    let (from, until) = bounds(d.period);
    let kinds: Vec<String> = [
        DeadlineKind::NotificationInitial,
        DeadlineKind::NotificationNewName,
        DeadlineKind::NotificationHomeAddress,
        DeadlineKind::NotificationNoHomeAddress,
    ]
    .iter()
    .map(|k| format!("'{}'", k.as_str()))
    .collect();
    let sql = Grouping {
        force: "o.applicant_agency",
        court: "o.court_agency",
        order_type: "o.order_type",
        quarter: d.quarter_of_time("d.due_at"),
        detail: NONE,
        reason: NONE,
        span: NO_SPAN.into(),
        marked: "0",
        from: "deadlines d JOIN orders o ON o.id = d.order_id",
        range: format!(
            "d.due_at >= {from} AND d.due_at < {until} AND d.kind IN ({kinds}) \
             AND (d.status = '{missed}' OR (d.status = '{open}' AND d.due_at <= {now}))",
            from = d.time(from),
            until = d.time(until),
            kinds = kinds.join(", "),
            missed = DeadlineStatus::Missed.as_str(),
            open = DeadlineStatus::Open.as_str(),
            now = d.time(now.naive_utc()),
        ),
    }
    .sql(d);
    d.load::<Group>(conn, &sql)?
        .into_iter()
        .map(|g| {
            Ok(MissedFact {
                quarter: d.quarter(g.quarter)?,
                order_type: parse_code(&g.order_type, "orders.order_type")?,
                force: g.force,
                court: g.court,
                count: g.events as u64,
            })
        })
        .collect()
}

/// The applications' stages reached within the period: the force's decisions, the applications made to court and
/// the court's decisions, each by quarter.
pub(super) fn applications(
    conn: &mut DbConnection,
    d: &Dialect,
) -> AppResult<Vec<ApplicationFact>> {
    let stage = |on: &str, detail, reason, span: String| {
        Grouping {
            force: "force_agency",
            court: "court_agency",
            order_type: "order_type",
            quarter: d.quarter_of_date(on),
            detail,
            reason,
            span,
            marked: "0",
            from: "applications",
            range: format!(
                "{on} BETWEEN {} AND {}",
                d.date(d.period.from),
                d.date(d.period.to)
            ),
        }
        .sql(d)
    };
    let by_force = stage(
        "internal_decision_on",
        "internal_decision",
        "internal_refusal_reason",
        NO_SPAN.into(),
    );
    let to_court = stage(
        "made_to_court_on",
        NONE,
        NONE,
        d.days_between("reported_on", "made_to_court_on"),
    );
    let by_court = stage(
        "court_outcome_on",
        "court_outcome",
        "court_refusal_reason",
        d.days_between("made_to_court_on", "order_made_on"),
    );
    let mut out = vec![];
    for g in d.load::<Group>(conn, &by_force)? {
        let Some(decision) = &g.detail else { continue };
        let decision: InternalDecision = parse_code(decision, "applications.internal_decision")?;
        let reason = g
            .reason
            .as_deref()
            .map(|r| parse_code::<InternalRefusalReason>(r, "applications.internal_refusal_reason"))
            .transpose()?
            .map(InternalRefusalReason::as_str);
        out.push(fact(d, &g, ApplicationStage::Force { decision, reason })?);
    }
    for g in d.load::<Group>(conn, &to_court)? {
        let days_from_report = g.span;
        out.push(fact(d, &g, ApplicationStage::ToCourt { days_from_report })?);
    }
    for g in d.load::<Group>(conn, &by_court)? {
        let Some(outcome) = &g.detail else { continue };
        let outcome: CourtOutcome = parse_code(outcome, "applications.court_outcome")?;
        let reason = g
            .reason
            .as_deref()
            .map(|r| parse_code::<CourtRefusalReason>(r, "applications.court_refusal_reason"))
            .transpose()?
            .map(CourtRefusalReason::as_str);
        let days_to_order = g.span;
        let stage = ApplicationStage::Court {
            outcome,
            reason,
            days_to_order,
        };
        out.push(fact(d, &g, stage)?);
    }
    Ok(out)
}

fn fact(d: &Dialect, g: &Group, stage: ApplicationStage) -> AppResult<ApplicationFact> {
    Ok(ApplicationFact {
        force: g.force.clone(),
        court: g.court.clone(),
        order_type: parse_code(&g.order_type, "applications.order_type")?,
        quarter: d.quarter(g.quarter)?,
        stage,
        count: g.events as u64,
    })
}
