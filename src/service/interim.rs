//! An interim SPO pending its main application (Stalking Protection Act 2019 s5): the interim application names the
//! force's own SPO application, made only while that is pending (s5(1)-(2)), and the interim order ceases when the
//! main application is determined (s5(6)(b)).

use super::hearings::cease_with_application;
use super::schedule::sync_schedule;
use crate::auth::Caller;
use crate::codes;
use crate::db::{self, DbConnection};
use crate::domain::application::{ApplicationRecord, CourtDecision, CourtOutcome};
use crate::domain::schedule::ScheduleRules;
use crate::domain::status::effective_status;
use crate::domain::validation::validate_reference;
use crate::domain::{OrderStatus, OrderType, Violations};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};

/// `mainApplication` is given for an interim SPO's application, and only for it: an interim SPO is applied for
/// pending the determination of a main application for an SPO (SPA 2019 s5(1)-(2)).
pub(super) fn check_main_given(order_type: OrderType, main: Option<&str>, v: &mut Violations) {
    match (order_type == OrderType::InterimSpo, main) {
        (true, None) => v.push(
            codes::MAIN_APPLICATION_REQUIRED,
            "mainApplication",
            "an interim SPO is applied for pending a main application for an SPO: give its reference",
        ),
        (false, Some(_)) => v.push(
            codes::MAIN_APPLICATION_NOT_APPLICABLE,
            "mainApplication",
            "only an interim SPO's application names a main application",
        ),
        (true, Some(r)) => validate_reference(r, "mainApplication", v),
        (false, None) => {}
    }
}

/// The id of the caller's own application for an SPO with this reference, still to be determined (an adjourned
/// one is). Another force's is answered as a missing one.
pub(super) fn pending_main_application(
    conn: &mut DbConnection,
    who: &Caller,
    reference: &str,
) -> AppResult<String> {
    let main = db::applications::find_by_reference(conn, reference)?
        .filter(|m| m.force == who.agency && m.order_type == OrderType::Spo)
        .ok_or_else(|| {
            AppError::validation(
                codes::MAIN_APPLICATION_NOT_FOUND,
                "mainApplication",
                "no application of this force for an SPO has that reference",
            )
        })?;
    match &main.court_outcome {
        Some(d) if d.outcome != CourtOutcome::Adjourned => Err(main_determined(d)),
        _ => Ok(main.id),
    }
}

/// An interim SPO is made only pending the main application (SPA 2019 s5(1)): granting one is refused when the main
/// application was determined on a day before the interim's decision. When it was determined that same day (the
/// hour is not recorded), the grant stands and the interim order ceases with it: the main application's id and
/// decision are returned for that. `None` for any other decision.
pub(super) fn main_determined_before(
    conn: &mut DbConnection,
    app: &ApplicationRecord,
    decision: &CourtDecision,
) -> AppResult<Option<(String, CourtDecision)>> {
    let Some(main_ref) = &app.main_application else {
        return Ok(None);
    };
    if decision.outcome != CourtOutcome::Granted {
        return Ok(None);
    }
    let main = db::applications::find_by_reference(conn, main_ref)?.ok_or(AppError::NotFound {
        what: "application",
    })?;
    match main.court_outcome {
        Some(d) if d.outcome == CourtOutcome::Adjourned => Ok(None),
        Some(d) if d.decided_on < decision.decided_on => Err(main_determined(&d)),
        Some(d) => Ok(Some((main.id, d))),
        None => Ok(None),
    }
}

/// After the court's `decision` on `app`: a decided SPO application ends the interim orders pending it; an interim
/// order granted the day its main application was determined (`main_determined`) ends with it. How many ceased.
pub(super) fn end_with_determination(
    conn: &mut DbConnection,
    who: &Caller,
    now: DateTime<Utc>,
    app: &ApplicationRecord,
    decision: &CourtDecision,
    main_determined: Option<(String, CourtDecision)>,
    rules: &ScheduleRules,
) -> AppResult<usize> {
    if app.order_type == OrderType::Spo && decision.outcome != CourtOutcome::Adjourned {
        return cease_interim_orders(conn, who, now, &app.id, decision, rules);
    }
    match main_determined {
        Some((main_id, main_decision)) => {
            cease_interim_orders(conn, who, now, &main_id, &main_decision, rules)
        }
        None => Ok(0),
    }
}

fn main_determined(d: &CourtDecision) -> AppError {
    AppError::conflict(
        codes::MAIN_APPLICATION_DETERMINED,
        format!(
            "the main application was determined ({}) on {}: an interim SPO is made only while it is pending",
            d.outcome.as_str(),
            d.decided_on
        ),
    )
}

/// The interim SPOs granted pending the main application `main_id`, and still in force, cease on its determination
/// (SPA 2019 s5(6)(b)) on the day decided; one the full order already replaced is left as it is. How many ceased.
fn cease_interim_orders(
    conn: &mut DbConnection,
    who: &Caller,
    now: DateTime<Utc>,
    main_id: &str,
    decision: &CourtDecision,
    rules: &ScheduleRules,
) -> AppResult<usize> {
    let mut ceased = 0;
    for order_id in db::applications::interim_orders(conn, main_id)? {
        let Some(order) = db::loader::find_by_id(conn, &order_id)? else {
            continue;
        };
        if effective_status(order.status, order.expires_on, now) != OrderStatus::InForce {
            continue;
        }
        let note = format!(
            "main application {}",
            decision.outcome.as_str().to_ascii_lowercase()
        );
        cease_with_application(
            conn,
            who,
            now,
            &order,
            "recordApplicationOutcome",
            note,
            Some(decision.decided_on),
        )?;
        sync_schedule(conn, &order.id, rules, now)?;
        ceased += 1;
    }
    Ok(ceased)
}
