//! Hearings: listing one for an order, and recording its outcome. A refused or withdrawn application ends the notice
//! or interim order that waited on it.

use super::schedule::{sync_schedule, FUTURE_TOLERANCE};
use super::{audit, recorded, require_own_agency, Services};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::codes;
use crate::db::alerts::NewAlert;
use crate::db::orders::Recorded;
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::alert::AlertKind;
use crate::domain::audit::AuditOperation;
use crate::domain::calendar::london_date;
use crate::domain::order::OrderRecord;
use crate::domain::schedule::HearingOutcome;
use crate::domain::status::effective_status;
use crate::domain::validation::{canonical_reference, check_note};
use crate::domain::{OrderEvent, OrderStatus, OrderType, Violations};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};

impl Services {
    /// Lists a hearing (COURT: the court that made the order, or any court for a police notice).
    pub async fn schedule_hearing(
        &self,
        who: &Caller,
        reference: String,
        scheduled_for: DateTime<Utc>,
        note: Option<String>,
    ) -> AppResult<OrderRecord> {
        policy::require(who, Operation::ScheduleHearing)?;
        let mut v = Violations::default();
        check_note(note.as_deref(), "note", &mut v);
        v.into_result()?;
        let now = self.now();
        let who = who.clone();
        let reference = canonical_reference(&reference);
        let rules = self.rules.clone();
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    let order = db::loader::find_by_reference(conn, &reference)?
                        .ok_or(AppError::NotFound { what: "order" })?;
                    if !policy::may_list_hearing(&who, &order) {
                        return Err(AppError::NotFound { what: "order" });
                    }
                    let status = effective_status(order.status, order.expires_on, now);
                    if status != OrderStatus::InForce {
                        return Err(AppError::conflict(
                            codes::ORDER_NOT_IN_FORCE,
                            format!("the order is {}", status.as_str()),
                        ));
                    }
                    let listed = audit::entry(
                        &who,
                        now,
                        AuditOperation::Collect,
                        "scheduleHearing",
                        "order",
                        vec![order.id.clone()],
                        &["hearings"],
                    );
                    db::audit::append(conn, &[listed])?;
                    db::schedule::insert_hearing(
                        conn,
                        &order.id,
                        &who.agency,
                        scheduled_for,
                        note.clone(),
                        now,
                    )?;
                    sync_schedule(conn, &order.id, &rules, now)?;
                    db::loader::find_by_id(conn, &order.id)?
                        .ok_or(AppError::NotFound { what: "order" })
                })
            })
            .await
    }

    /// Records what happened at a hearing (the court that listed it). `HEARD` needs the time it began.
    pub async fn record_hearing_outcome(
        &self,
        who: &Caller,
        hearing_id: String,
        outcome: HearingOutcome,
        held_at: Option<DateTime<Utc>>,
    ) -> AppResult<OrderRecord> {
        policy::require(who, Operation::ScheduleHearing)?;
        let now = self.now();
        let determines = matches!(outcome, HearingOutcome::Refused | HearingOutcome::Withdrawn);
        check_held_at(outcome, held_at, now)?;
        let who = who.clone();
        let rules = self.rules.clone();
        let feed = self.feed.clone();
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    let (order_id, hearing) = db::schedule::find_hearing(conn, &hearing_id)?
                        .ok_or(AppError::NotFound { what: "hearing" })?;
                    if hearing.court_agency != who.agency {
                        return Err(AppError::NotFound { what: "hearing" });
                    }
                    let order = db::loader::find_by_id(conn, &order_id)?
                        .ok_or(AppError::NotFound { what: "order" })?;
                    if determines {
                        may_determine(conn, &who, &order, now)?;
                    }
                    db::schedule::set_hearing_outcome(conn, &hearing_id, outcome, held_at, now)?;
                    if determines {
                        let note = format!("application {}", outcome.as_str().to_ascii_lowercase());
                        let decided_on = held_at.map(london_date);
                        cease_with_application(
                            conn,
                            &who,
                            now,
                            &order,
                            "recordHearingOutcome",
                            note,
                            decided_on,
                        )?;
                    }
                    let heard = audit::entry(
                        &who,
                        now,
                        AuditOperation::Alter,
                        "recordHearingOutcome",
                        "hearing",
                        vec![hearing_id.clone(), order_id.clone()],
                        &["outcome", "heldAt"],
                    );
                    db::audit::append(conn, &[heard])?;
                    sync_schedule(conn, &order_id, &rules, now)?;
                    Ok(order_id)
                })
                .and_then(|order_id| {
                    if determines {
                        feed.wake();
                    }
                    db::loader::find_by_id(conn, &order_id)?
                        .ok_or(AppError::NotFound { what: "order" })
                })
            })
            .await
    }
}

/// A hearing's outcome needs the moment it began (a withdrawal: when the application was withdrawn), not in the
/// future.
fn check_held_at(
    outcome: HearingOutcome,
    held_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    match (outcome, held_at) {
        (
            HearingOutcome::Heard
            | HearingOutcome::Adjourned
            | HearingOutcome::Refused
            | HearingOutcome::Withdrawn,
            None,
        ) => {
            return Err(AppError::validation(
                codes::HELD_AT_REQUIRED,
                "heldAt",
                "give the time the hearing began (for a withdrawal, when the application was withdrawn)",
            ))
        }
        (_, Some(t)) if t > now + FUTURE_TOLERANCE => {
            return Err(AppError::validation(
                codes::HELD_AT_IN_FUTURE,
                "heldAt",
                "heldAt is in the future",
            ))
        }
        _ => {}
    }
    Ok(())
}

/// Whether `who` may record that the application `order` waits on was refused or withdrawn: a court of the kind
/// that determines it, for a notice or an interim SPO still in force.
fn may_determine(
    conn: &mut DbConnection,
    who: &Caller,
    order: &OrderRecord,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let kind = db::agencies::find(conn, &who.agency)?.map(|a| a.kind);
    if !kind.is_some_and(|k| policy::may_determine_application(who, k)) {
        return Err(AppError::NotFound { what: "hearing" });
    }
    if !matches!(
        order.order_type,
        OrderType::Dvpn | OrderType::Dapn | OrderType::InterimSpo
    ) {
        return Err(AppError::validation(
            codes::HEARING_OUTCOME_NOT_APPLICABLE,
            "outcome",
            "REFUSED and WITHDRAWN end a notice or an interim SPO awaiting the application heard; for another order record HEARD and the court's decision",
        ));
    }
    if effective_status(order.status, order.expires_on, now) != OrderStatus::InForce {
        return Err(AppError::conflict(
            codes::ORDER_NOT_IN_FORCE,
            "the order is no longer in force",
        ));
    }
    Ok(())
}

/// The notice, or the interim order, ceases with the application it waited on (CSA 2010 s27(9), DA Act 2021 s29(7),
/// SPA 2019 s5(6)(b)), on the day decided: a new version, its audit entry (under `operation`) and an
/// `ORDER_CEASED` alert.
pub(super) fn cease_with_application(
    conn: &mut DbConnection,
    who: &Caller,
    now: DateTime<Utc>,
    order: &OrderRecord,
    operation: &str,
    note: String,
    decided_on: Option<NaiveDate>,
) -> AppResult<()> {
    let change = db::orders::TermsChange {
        expected_version: order.version,
        event: OrderEvent::Ceased,
        status: OrderStatus::Ceased,
        expires_on: order.expires_on,
        conditions: None,
        recorded: Recorded {
            decided_on,
            ..recorded(who, now, Some(note))
        },
        without_notice: false,
    };
    if !db::orders::apply_change(conn, &order.id, &change)? {
        return Err(AppError::conflict(
            codes::CONCURRENT_CHANGE,
            "the order changed while this request was made; read it again and retry",
        ));
    }
    let ceased = audit::entry(
        who,
        now,
        AuditOperation::Alter,
        operation,
        "order",
        vec![order.id.clone()],
        &["status"],
    );
    db::audit::append(conn, &[ceased])?;
    db::alerts::insert(
        conn,
        &[NewAlert {
            kind: AlertKind::OrderCeased,
            order_id: order.id.clone(),
            breach_id: None,
            due_at: now,
            occasion: format!("v{}", order.version + 1),
            fire_at: now,
        }],
        now,
    )?;
    Ok(())
}
