//! An interim SPO pending its main application (Stalking Protection Act 2019 s5): the interim application names the
//! force's own SPO application, made only while that is pending (s5(1)-(2)), and the interim order ceases when the
//! main application is determined (s5(6)(b)).

use super::hearings::cease_with_application;
use super::schedule::sync_schedule;
use crate::auth::Caller;
use crate::codes;
use crate::db::{self, DbConnection};
use crate::domain::application::{ApplicationRecord, CourtDecision, CourtOutcome, ForceStages};
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

/// The id of the caller's own application for an SPO with this reference: made to court and still to be determined
/// (an adjourned one is), the interim application going to the same court no earlier (SPA 2019 s5(2): made with the
/// main application, or after it by the chief officer who made it). Another force's is answered as a missing one.
pub(super) fn pending_main_application(
    conn: &mut DbConnection,
    who: &Caller,
    reference: &str,
    interim: &ForceStages,
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
    db::applications::lock(conn, &main.id)?;
    let main = db::applications::find_by_reference(conn, reference)?.ok_or(AppError::NotFound {
        what: "application",
    })?;
    if main.stages.made_to_court_on.is_none() {
        return Err(AppError::validation(
            codes::MAIN_APPLICATION_NOT_MADE,
            "mainApplication",
            "the main application has not been made to court: record that it was (madeToCourtOn) first",
        ));
    }
    check_with_main(&main, interim).into_result()?;
    match &main.court_outcome {
        Some(d) if d.outcome != CourtOutcome::Adjourned => Err(main_determined(d)),
        _ => Ok(main.id),
    }
}

/// An interim application's stages against its main application's: made to the same court, not before it.
pub(super) fn check_with_main(main: &ApplicationRecord, interim: &ForceStages) -> Violations {
    let mut v = Violations::default();
    if interim.court.is_some() && interim.court != main.stages.court {
        v.push(
            codes::MAIN_APPLICATION_OTHER_COURT,
            "court",
            "an interim SPO is applied for to the court hearing the main application",
        );
    }
    if let (Some(interim_on), Some(main_on)) =
        (interim.made_to_court_on, main.stages.made_to_court_on)
    {
        if interim_on < main_on {
            v.push(
                codes::STAGES_OUT_OF_ORDER,
                "madeToCourtOn",
                format!(
                    "madeToCourtOn is before the main application was made to court ({main_on})"
                ),
            );
        }
    }
    v
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
        // It was made pending the main application, so not after its determination.
        if order.made_on > decision.decided_on {
            return Err(AppError::validation(
                codes::STAGES_OUT_OF_ORDER,
                "decidedOn",
                format!(
                    "an interim SPO was made on this application's behalf on {}, after decidedOn",
                    order.made_on
                ),
            ));
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
