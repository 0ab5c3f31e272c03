//! Deadlines and the scheduled checks: re-planning an order's schedule inside every transaction that changes it,
//! the subject's notifications, hearings, the deadline list, and the check run that raises what is due.

use super::page::{decode_cursor, encode_cursor, Page, PageRequest};
use super::{audit, recorded, require_own_agency, Services};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::db::alerts::NewAlert;
use crate::db::orders::Recorded;
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::alert::AlertKind;
use crate::domain::audit::AuditOperation;
use crate::domain::calendar::london_date;
use crate::domain::order::{DeadlineRecord, OrderRecord};
use crate::domain::schedule::{
    plan, HearingFact, HearingOutcome, NotificationDraft, NotificationFact, NotificationKind,
    OrderFacts, ScheduleRules,
};
use crate::domain::scope::DeadlineFilter;
use crate::domain::status::effective_status;
use crate::domain::validation::{canonical_reference, check_note};
use crate::domain::{OrderEvent, OrderStatus, OrderType, Violations};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, Utc};

/// How far in the future a reported moment may be, for clock skew between systems.
const FUTURE_TOLERANCE: Duration = Duration::minutes(5);
pub const DEADLINE_CURSOR: &str = "deadline";

/// What the schedule of an order depends on, read from the database.
pub(crate) fn facts(order: &OrderRecord) -> AppResult<OrderFacts> {
    // An SPO replaces only an interim SPO (`TypeRules::may_replace`).
    let replaces_interim = order.order_type == OrderType::Spo && order.replaces_reference.is_some();
    let ended_at = order.ended_from();
    Ok(OrderFacts {
        order_type: order.order_type,
        status: order.status,
        made_on: order.made_on,
        expires_on: order.expires_on,
        recorded_at: order.created_at,
        served_at: order.service.served_at,
        conditions: order
            .current_conditions()
            .map(|c| (c.id.clone(), c.expires_on))
            .collect(),
        replaces_interim,
        ended_at,
        notifications: order
            .notifications
            .iter()
            .map(|n| NotificationFact {
                kind: n.kind,
                source: n.source,
                notified_at: n.notified_at,
                changed_on: n.changed_on,
            })
            .collect(),
        hearings: order
            .hearings
            .iter()
            .map(|h| HearingFact {
                scheduled_for: h.scheduled_for,
                outcome: h.outcome,
                held_at: h.held_at,
            })
            .collect(),
    })
}

/// Re-plans an order's deadlines and scheduled alerts from its current facts. Called inside every transaction that
/// changes an order, before its alerts are written.
pub(crate) fn sync_schedule(
    conn: &mut DbConnection,
    order_id: &str,
    rules: &ScheduleRules,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let order =
        db::loader::find_by_id(conn, order_id)?.ok_or(AppError::NotFound { what: "order" })?;
    let (deadlines, triggers) = plan(&facts(&order)?, rules);
    db::schedule::sync_deadlines(conn, order_id, &deadlines, now)?;
    db::triggers::sync_triggers(conn, order_id, &triggers)
}

impl Services {
    /// Records a notification the subject made (POLICE, any force).
    pub async fn record_notification(
        &self,
        who: &Caller,
        reference: String,
        draft: NotificationDraft,
    ) -> AppResult<OrderRecord> {
        let NotificationDraft {
            kind,
            source,
            notified_at,
            changed_on,
            ..
        } = draft.clone();
        policy::require(who, Operation::RecordNotification)?;
        let now = self.now();
        let details = crate::domain::validation::validate_notification(&draft, now)?;
        let who = who.clone();
        let reference = canonical_reference(&reference);
        let rules = self.rules.clone();
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    let order = db::loader::find_by_reference(conn, &reference)?.ok_or(AppError::NotFound { what: "order" })?;
                    if order.order_type.rules().notification.is_none() {
                        return Err(AppError::validation(
                            "NOTIFICATION_NOT_REQUIRED",
                            "reference",
                            format!("the subject of a {} has no duty to notify the police", order.order_type),
                        ));
                    }
                    if london_date(notified_at) < order.made_on {
                        return Err(AppError::validation("NOTIFIED_BEFORE_ORDER", "notifiedAt", "notifiedAt is before the order was made"));
                    }
                    // A change before the duty began is covered by the initial notification, not a deadline of its own.
                    if let Some(day) = changed_on {
                        let duty_from = match order.order_type.rules().notification {
                            Some(crate::domain::order_type::NotificationStart::Served) => order.service.served_at.map(london_date),
                            _ => Some(order.made_on),
                        };
                        if duty_from.is_none_or(|from| day < from) {
                            return Err(AppError::validation(
                                "CHANGED_ON_BEFORE_DUTY",
                                "changedOn",
                                "the change came before the duty to notify began (for an SPO, the day it was served; for a DAPO, the day it was made): the initial notification covers it",
                            ));
                        }
                    }
                    if kind == NotificationKind::Initial && order.notifications.iter().any(|n| n.kind == NotificationKind::Initial) {
                        return Err(AppError::conflict("ALREADY_NOTIFIED", "the initial notification is already recorded"));
                    }
                    let new = NotificationDraft { kind, source, notified_at, changed_on, details: details.clone() };
                    db::schedule::insert_notification(conn, &order.id, new, &recorded(&who, now, None))?;
                    let fields = ["notifications.kind", "notifications.notifiedAt", "notifications.changedOn", "notifications.details"];
                    db::audit::append(conn, &[audit::entry(&who, now, AuditOperation::Collect, "recordNotification", "order", vec![order.id.clone()], &fields)])?;
                    sync_schedule(conn, &order.id, &rules, now)?;
                    tracing::info!(order.reference = %reference, notification.kind = kind.as_str(), "notification recorded");
                    db::loader::find_by_id(conn, &order.id)?.ok_or(AppError::NotFound { what: "order" })
                })
            })
            .await
    }

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
                            "ORDER_NOT_IN_FORCE",
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
        match (outcome, held_at) {
            (
                HearingOutcome::Heard
                | HearingOutcome::Adjourned
                | HearingOutcome::Refused
                | HearingOutcome::Withdrawn,
                None,
            ) => {
                return Err(AppError::validation(
                    "HELD_AT_REQUIRED",
                    "heldAt",
                    "give the time the hearing began (for a withdrawal, when the application was withdrawn)",
                ))
            }
            (_, Some(t)) if t > now + FUTURE_TOLERANCE => {
                return Err(AppError::validation(
                    "HELD_AT_IN_FUTURE",
                    "heldAt",
                    "heldAt is in the future",
                ))
            }
            _ => {}
        }
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
                        let kind = db::agencies::find(conn, &who.agency)?.map(|a| a.kind);
                        if !kind.is_some_and(|k| policy::may_determine_application(&who, k)) {
                            return Err(AppError::NotFound { what: "hearing" });
                        }
                        if !matches!(
                            order.order_type,
                            OrderType::Dvpn | OrderType::Dapn | OrderType::InterimSpo
                        ) {
                            return Err(AppError::validation(
                                "HEARING_OUTCOME_NOT_APPLICABLE",
                                "outcome",
                                "REFUSED and WITHDRAWN end a notice or an interim SPO awaiting the application heard; for another order record HEARD and the court's decision",
                            ));
                        }
                        if effective_status(order.status, order.expires_on, now) != OrderStatus::InForce {
                            return Err(AppError::conflict(
                                "ORDER_NOT_IN_FORCE",
                                "the order is no longer in force",
                            ));
                        }
                    }
                    db::schedule::set_hearing_outcome(conn, &hearing_id, outcome, held_at, now)?;
                    if determines {
                        // The notice, or the interim order, ceases with the application it waited on (CSA 2010
                        // s27(9), DA Act 2021 s29(7), SPA 2019 s5(6)(b)).
                        let change = db::orders::TermsChange {
                            expected_version: order.version,
                            event: OrderEvent::Ceased,
                            status: OrderStatus::Ceased,
                            expires_on: order.expires_on,
                            conditions: None,
                            recorded: Recorded {
                                decided_on: held_at.map(london_date),
                                ..recorded(&who, now, Some(format!("application {}", outcome.as_str().to_ascii_lowercase())))
                            },
                        };
                        if !db::orders::apply_change(conn, &order_id, &change)? {
                            return Err(AppError::conflict("CONCURRENT_CHANGE", "the order changed while this request was made; read it again and retry"));
                        }
                        let ceased = audit::entry(&who, now, AuditOperation::Alter, "recordHearingOutcome", "order", vec![order_id.clone()], &["status"]);
                        db::audit::append(conn, &[ceased])?;
                        db::alerts::insert(
                            conn,
                            &[NewAlert {
                                kind: AlertKind::OrderCeased,
                                order_id: order_id.clone(),
                                breach_id: None,
                                due_at: now,
                                occasion: format!("v{}", order.version + 1),
                                fire_at: now,
                            }],
                            now,
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

    /// Deadlines the caller may see, soonest first, with their order references.
    pub async fn deadlines(
        &self,
        who: &Caller,
        filter: DeadlineFilter,
        first: Option<i32>,
        after: Option<&str>,
    ) -> AppResult<Page<(DeadlineRecord, String)>> {
        policy::require(who, Operation::ReadOrders)?;
        let page = PageRequest::new(first, None, DEADLINE_CURSOR)?;
        let after = after.map(decode_deadline_cursor).transpose()?;
        let scope = policy::deadline_scope(who);
        let now = self.now();
        let limit = page.limit;
        let who = who.clone();
        let items = self
            .db
            .run(move |conn| {
                require_own_agency(conn, &who)?;
                db::schedule::page(conn, &scope, &filter, now, after, limit + 1)
            })
            .await?;
        Ok(Page::from_fetched(items, limit))
    }
}

/// The cursor of a deadline in `Query.deadlines`.
pub fn deadline_cursor(d: &DeadlineRecord) -> String {
    encode_cursor(
        DEADLINE_CURSOR,
        &format!("{}:{}", d.due_at.timestamp_micros(), d.id),
    )
}

fn decode_deadline_cursor(cursor: &str) -> AppResult<(DateTime<Utc>, String)> {
    let invalid = || {
        AppError::validation(
            "INVALID_CURSOR",
            "after",
            "after is not a cursor returned by this list",
        )
    };
    let key = decode_cursor(DEADLINE_CURSOR, cursor)?;
    let (micros, id) = key.split_once(':').ok_or_else(invalid)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(invalid)?;
    Ok((at, id.to_string()))
}
