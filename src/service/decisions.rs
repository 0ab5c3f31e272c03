//! A court's decisions on an order it made, recorded as new versions: vary, renew, discharge; and a Crown Court's
//! quashing on appeal. Each carries the day the court decided.

use super::audit;
use super::orders::{not_found, VaryRequest};
use super::schedule::sync_schedule;
use super::Services;
use super::{recorded, require_own_agency};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::codes;
use crate::db::alerts::NewAlert;
use crate::db::orders::{Recorded, TermsChange};
use crate::db::{self, write_transaction};
use crate::domain::alert::AlertKind;
use crate::domain::audit::AuditOperation;
use crate::domain::calendar::london_date;
use crate::domain::order::OrderRecord;
use crate::domain::order_type::OrderType;
use crate::domain::status::effective_status;
use crate::domain::validation::{canonical_reference, check_note, validate_terms, ConditionDraft};
use crate::domain::{OrderEvent, OrderStatus, Term, Violations, SPO_EARLY_DISCHARGE_NEEDS_CONSENT};
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;

impl Services {
    /// What every decision checks first: the caller's role, the note, and the day decided (default today).
    fn decision(
        &self,
        who: &Caller,
        note: Option<&str>,
        decided_on: Option<NaiveDate>,
    ) -> AppResult<NaiveDate> {
        policy::require(who, Operation::ChangeOrder)?;
        let mut v = Violations::default();
        check_note(note, "note", &mut v);
        v.into_result()?;
        Ok(decided_on.unwrap_or(london_date(self.now())))
    }

    /// Varies an order's expiry or conditions (the court that made it). Keeps the old terms as history.
    pub async fn vary_order(&self, who: &Caller, req: VaryRequest) -> AppResult<OrderRecord> {
        policy::require(who, Operation::ChangeOrder)?;
        if req.expires_on.is_none() && req.conditions.is_none() {
            return Err(AppError::validation(
                codes::NOTHING_TO_CHANGE,
                "expiresOn",
                "a variation changes expiresOn, conditions, or both",
            ));
        }
        let mut v = Violations::default();
        check_note(req.note.as_deref(), "note", &mut v);
        v.into_result()?;
        let today = london_date(self.now());
        let reference = req.reference.clone();
        let decided_on = req.decided_on.unwrap_or(today);
        self.change(who, reference, Change::Terms, move |order| {
            let expires_on = req.expires_on.unwrap_or(order.expires_on);
            Ok(TermsChangeDraft {
                event: OrderEvent::Varied,
                decided_on,
                decided_on_field: "decidedOn",
                status: OrderStatus::InForce,
                expires_on,
                conditions: req.conditions.clone(),
                note: req.note.clone(),
                without_notice: req.without_notice,
            })
        })
        .await
    }

    /// Renews a fixed-term order to a later end date (the court that made it).
    pub async fn renew_order(
        &self,
        who: &Caller,
        reference: String,
        expires_on: NaiveDate,
        decided_on: Option<NaiveDate>,
        note: Option<String>,
        without_notice: bool,
    ) -> AppResult<OrderRecord> {
        let decided_on = self.decision(who, note.as_deref(), decided_on)?;
        self.change(who, reference, Change::Terms, move |order| {
            match order.expires_on {
                None => {
                    return Err(AppError::conflict(
                        codes::NOT_FIXED_TERM,
                        "the order runs until further order; there is no end date to renew",
                    ))
                }
                Some(current) if expires_on <= current => {
                    return Err(AppError::validation(
                        codes::RENEWAL_NOT_LATER,
                        "expiresOn",
                        format!("a renewal must end after the current end date ({current})"),
                    ))
                }
                Some(_) => {}
            }
            Ok(TermsChangeDraft {
                event: OrderEvent::Renewed,
                decided_on,
                decided_on_field: "decidedOn",
                status: OrderStatus::InForce,
                expires_on: Some(expires_on),
                conditions: None,
                note: note.clone(),
                without_notice,
            })
        })
        .await
    }

    /// Discharges an order (the court that made it). An SPO discharged before the end of 2 years beginning with the
    /// day it was made needs the consent of the subject and the chief officer (SPA 2019 s4(4)(b)), measured to the day
    /// the court decided.
    pub async fn discharge_order(
        &self,
        who: &Caller,
        reference: String,
        consent: bool,
        decided_on: Option<NaiveDate>,
        note: Option<String>,
    ) -> AppResult<OrderRecord> {
        let decided_on = self.decision(who, note.as_deref(), decided_on)?;
        self.change(who, reference, Change::Terms, move |order| {
            let early = decided_on <= Term::Years(2).last_day(order.made_on);
            if SPO_EARLY_DISCHARGE_NEEDS_CONSENT && order.order_type == OrderType::Spo && early && !consent {
                return Err(AppError::validation(
                    codes::DISCHARGE_NEEDS_CONSENT,
                    "consentOfSubjectAndChiefOfficer",
                    "an SPO discharged within 2 years of being made needs the consent of the subject and the chief officer (SPA s4)",
                ));
            }
            Ok(TermsChangeDraft { event: OrderEvent::Discharged, decided_on, decided_on_field: "decidedOn", status: OrderStatus::Discharged, expires_on: order.expires_on, conditions: None, note: note.clone(), without_notice: false })
        })
        .await
    }

    /// Records that the event a DAPO had effect until occurred on `occurred_on` (the court that made it): the order's
    /// last day becomes that day (Domestic Abuse Act 2021 s38(3)). The event's time is not recorded, so the order is
    /// taken to be in force to the end of that day.
    pub async fn record_ending_event(
        &self,
        who: &Caller,
        reference: String,
        occurred_on: NaiveDate,
        note: Option<String>,
    ) -> AppResult<OrderRecord> {
        let occurred_on = self.decision(who, note.as_deref(), Some(occurred_on))?;
        self.change(who, reference, Change::Terms, move |order| {
            if order.until_event.is_none() || order.expires_on.is_some() {
                return Err(AppError::validation(
                    codes::NOT_UNTIL_EVENT,
                    "reference",
                    "the order does not last until an event (or its event was already recorded)",
                ));
            }
            Ok(TermsChangeDraft {
                event: OrderEvent::EventOccurred,
                decided_on: occurred_on,
                decided_on_field: "occurredOn",
                status: OrderStatus::InForce,
                expires_on: Some(occurred_on),
                conditions: None,
                note: note.clone(),

                without_notice: false,
            })
        })
        .await
    }

    /// Quashes an order on appeal (SPA 2019 s7(4) and the equivalents): a Crown Court, for an order a court made. To
    /// any other caller the order does not exist.
    pub async fn quash_order(
        &self,
        who: &Caller,
        reference: String,
        decided_on: Option<NaiveDate>,
        note: Option<String>,
    ) -> AppResult<OrderRecord> {
        let decided_on = self.decision(who, note.as_deref(), decided_on)?;
        self.change(who, reference, Change::Quash, move |order| {
            Ok(TermsChangeDraft {
                event: OrderEvent::Quashed,
                decided_on,
                decided_on_field: "decidedOn",
                status: OrderStatus::Quashed,
                expires_on: order.expires_on,
                conditions: None,
                note: note.clone(),

                without_notice: false,
            })
        })
        .await
    }

    /// The shared path of vary, renew and discharge: load, check the caller made the order and it is in force,
    /// validate the new terms, and apply them as the next version, all in one transaction. Longer than 80 lines:
    /// its checks run in this order under the order's row lock, and read best as one sequence.
    async fn change<F>(
        &self,
        who: &Caller,
        reference: String,
        kind: Change,
        decide: F,
    ) -> AppResult<OrderRecord>
    where
        F: FnOnce(&OrderRecord) -> AppResult<TermsChangeDraft> + Send + 'static,
    {
        let reference = canonical_reference(&reference);
        let now = self.now();
        let who = who.clone();
        let feed = self.feed.clone();
        let rules = self.rules.clone();
        self.db
            .run(move |conn| {
                let event = write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    let order = db::loader::find_by_reference(conn, &reference)?.ok_or_else(not_found)?;
                    match kind {
                        Change::Terms => {
                            if !policy::may_see_order(&who, &order) {
                                return Err(not_found());
                            }
                            if !policy::may_change_order(&who, &order) {
                                return Err(AppError::forbidden(codes::NOT_ORDER_COURT, "only the court that made an order may change it"));
                            }
                        }
                        Change::Quash => {
                            let kind = db::agencies::find(conn, &who.agency)?.map(|a| a.kind);
                            if !kind.is_some_and(|k| policy::may_quash_order(&who, k, &order)) {
                                return Err(not_found());
                            }
                        }
                    }
                    let status = effective_status(order.status, order.expires_on, now);
                    if status != OrderStatus::InForce {
                        return Err(AppError::conflict(codes::ORDER_NOT_IN_FORCE, format!("the order is {}, so it cannot be changed", status.as_str())));
                    }
                    let draft = decide(&order)?;
                    let mut v = Violations::default();
                    // Only a DAPO's variation without notice changes when its breach counts (DA Act 2021 s45(8)-(9)).
                    if draft.without_notice && order.order_type != OrderType::Dapo {
                        v.push(codes::WITHOUT_NOTICE_NOT_APPLICABLE, "withoutNotice", format!("only a DAPO's variation is recorded as made without notice, not a {}'s", order.order_type));
                    }
                    if draft.decided_on > london_date(now) {
                        let field = draft.decided_on_field;
                        v.push(codes::DECIDED_ON_IN_FUTURE, field, format!("{field} is after today"));
                    } else if draft.decided_on < order.made_on {
                        let field = draft.decided_on_field;
                        v.push(codes::DECIDED_BEFORE_MADE, field, format!("{field} is before the order was made ({})", order.made_on));
                    }
                    let conditions: Vec<ConditionDraft> = match &draft.conditions {
                        Some(c) => c.clone(),
                        None => order
                            .current_conditions()
                            .map(|c| ConditionDraft { kind: c.kind, text: c.text.clone(), expires_on: c.expires_on })
                            .collect(),
                    };
                    validate_terms(order.order_type, order.made_on, draft.expires_on, &conditions, &mut v);
                    v.into_result()?;
                    let change = TermsChange {
                        expected_version: order.version,
                        event: draft.event,
                        status: draft.status,
                        expires_on: draft.expires_on,
                        conditions: draft.conditions,
                        recorded: Recorded { decided_on: Some(draft.decided_on), ..recorded(&who, now, draft.note) },
                        without_notice: draft.without_notice,
                    };
                    if !db::orders::apply_change(conn, &order.id, &change)? {
                        return Err(AppError::conflict(codes::CONCURRENT_CHANGE, "the order changed while this request was made; read it again and retry"));
                    }
                    sync_schedule(conn, &order.id, &rules, now)?;
                    let kind = match draft.event {
                        OrderEvent::Varied => AlertKind::OrderVaried,
                        OrderEvent::Renewed => AlertKind::OrderRenewed,
                        OrderEvent::Discharged => AlertKind::OrderDischarged,
                        OrderEvent::Quashed => AlertKind::OrderQuashed,
                        OrderEvent::Replaced => AlertKind::OrderReplaced,
                        // Its last day is now known: the order is ending.
                        OrderEvent::EventOccurred => AlertKind::OrderExpiring,
                        OrderEvent::Granted | OrderEvent::Expired | OrderEvent::Lapsed | OrderEvent::Ceased => {
                            return Err(AppError::internal(anyhow::anyhow!("not an event a court records")))
                        }
                    };
                    let (action, fields): (&str, &[&str]) = match draft.event {
                        OrderEvent::Varied => ("varyOrder", &["expiresOn", "conditions", "versions"]),
                        OrderEvent::Renewed => ("renewOrder", &["expiresOn", "versions"]),
                        OrderEvent::Quashed => ("quashOrder", &["status", "versions"]),
                        OrderEvent::EventOccurred => ("recordEndingEvent", &["expiresOn", "versions"]),
                        _ => ("dischargeOrder", &["status", "versions"]),
                    };
                    db::audit::append(conn, &[audit::entry(&who, now, AuditOperation::Alter, action, "order", vec![order.id.clone()], fields)])?;
                    let alert = NewAlert { kind, order_id: order.id.clone(), breach_id: None, due_at: now, occasion: format!("v{}", order.version + 1), fire_at: now };
                    db::alerts::insert(conn, &[alert], now)?;
                    Ok(draft.event)
                })?;
                tracing::info!(order.reference = %reference, order.event = event.as_str(), "order changed");
                feed.wake();
                db::loader::find_by_reference(conn, &reference)?.ok_or_else(not_found)
            })
            .await
    }
}

/// Which court may make a change: the one that made the order, or a Crown Court quashing it on appeal.
#[derive(Debug, Clone, Copy)]
enum Change {
    Terms,
    Quash,
}

/// What a vary, renew, discharge or quash decided to change.
struct TermsChangeDraft {
    event: OrderEvent,
    /// The day the court decided; validated by `change` (not in the future, not before the order was made).
    decided_on: NaiveDate,
    /// The input field that gave it, named in a refusal.
    decided_on_field: &'static str,
    status: OrderStatus,
    expires_on: Option<NaiveDate>,
    conditions: Option<Vec<ConditionDraft>>,
    note: Option<String>,
    /// Varied or renewed without notice to the subject (DA Act 2021 s45(8)).
    without_notice: bool,
}
