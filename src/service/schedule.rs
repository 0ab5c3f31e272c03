//! Deadlines: re-planning an order's schedule inside every transaction that changes it, the subject's notifications,
//! and the deadline list. Hearings are in `hearings`, the check run that raises what is due in `checks`.

use super::page::{decode_cursor, encode_cursor, Page, PageRequest};
use super::subjects;
use super::{audit, recorded, require_own_agency, Services};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::codes;
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::audit::AuditOperation;
use crate::domain::calendar::london_date;
use crate::domain::order::{DeadlineRecord, OrderRecord};
use crate::domain::schedule::{
    other_order_cover, plan, HearingFact, NotificationDraft, NotificationFact, NotificationKind,
    OrderFacts, ScheduleRules,
};
use crate::domain::scope::DeadlineFilter;
use crate::domain::validation::canonical_reference;
use crate::domain::OrderType;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, Utc};

/// How far in the future a reported moment may be, for clock skew between systems.
pub(super) const FUTURE_TOLERANCE: Duration = Duration::minutes(5);
pub const DEADLINE_CURSOR: &str = "deadline";

/// What the schedule of an order depends on, read from the database: the order, and for a DAPO the other orders of
/// its subject whose notification requirements displace its own (DA Act 2021 s41(8)).
pub(crate) fn order_facts(conn: &mut DbConnection, order: &OrderRecord) -> AppResult<OrderFacts> {
    let mut f = facts(order)?;
    if order.order_type == OrderType::Dapo {
        f.other_orders = other_order_cover(order, &subjects::subject_orders(conn, order)?);
    }
    Ok(f)
}

/// What the schedule of an order depends on, from the order alone.
fn facts(order: &OrderRecord) -> AppResult<OrderFacts> {
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
        soa_notification: order.soa_notification,
        other_orders: None,
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
    sync_one(conn, &order, rules, now)?;
    // A DAPO's notification requirements depend on its subject's other DAPOs and SPOs (DA Act 2021 s41(8)): when
    // one of those changes, the subject's DAPOs are planned again.
    if matches!(
        order.order_type,
        OrderType::Dapo | OrderType::Spo | OrderType::InterimSpo
    ) {
        for other in subjects::subject_orders(conn, &order)? {
            if other.order_type == OrderType::Dapo {
                sync_one(conn, &other, rules, now)?;
            }
        }
    }
    Ok(())
}

fn sync_one(
    conn: &mut DbConnection,
    order: &OrderRecord,
    rules: &ScheduleRules,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (deadlines, triggers) = plan(&order_facts(conn, order)?, rules);
    db::schedule::sync_deadlines(conn, &order.id, &deadlines, now)?;
    db::triggers::sync_triggers(conn, &order.id, &triggers)
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
                    // An SHPO's subject who was already a relevant offender notifies under their own registration
                    // (Sexual Offences Act 2003 s103G(1)), not under the order.
                    if order.order_type == OrderType::Shpo && order.soa_notification.is_some() {
                        return Err(AppError::validation(
                            codes::NOTIFICATION_NOT_REQUIRED,
                            "reference",
                            "the subject was a relevant offender when the SHPO was made and notifies under that registration (Sexual Offences Act 2003 s103G(1))",
                        ));
                    }
                    if order.order_type.rules().notification.is_none() {
                        return Err(AppError::validation(
                            codes::NOTIFICATION_NOT_REQUIRED,
                            "reference",
                            format!("the subject of a {} has no duty to notify the police", order.order_type),
                        ));
                    }
                    if kind == NotificationKind::NoHomeAddress && order.order_type != OrderType::Dapo {
                        return Err(AppError::validation(
                            codes::NOTIFICATION_KIND_NOT_APPLICABLE,
                            "kind",
                            "only a DAPO's subject notifies that they have no home address (Domestic Abuse Act 2021 s41(6))",
                        ));
                    }
                    if london_date(notified_at) < order.made_on {
                        return Err(AppError::validation(codes::NOTIFIED_BEFORE_ORDER, "notifiedAt", "notifiedAt is before the order was made"));
                    }
                    // A change before the duty began is covered by the initial notification, not a deadline of its own.
                    if let Some(day) = changed_on {
                        let duty_from = match order.order_type.rules().notification {
                            Some(crate::domain::order_type::NotificationStart::Served | crate::domain::order_type::NotificationStart::SoaPart2) => {
                                order.service.served_at.map(london_date)
                            }
                            _ => Some(order.made_on),
                        };
                        if duty_from.is_none_or(|from| day < from) {
                            return Err(AppError::validation(
                                codes::CHANGED_ON_BEFORE_DUTY,
                                "changedOn",
                                "the change came before the duty to notify began (for an SPO, the day it was served; for a DAPO, the day it was made): the initial notification covers it",
                            ));
                        }
                    }
                    if kind == NotificationKind::Initial && order.notifications.iter().any(|n| n.kind == NotificationKind::Initial) {
                        return Err(AppError::conflict(codes::ALREADY_NOTIFIED, "the initial notification is already recorded"));
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
            codes::INVALID_CURSOR,
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
