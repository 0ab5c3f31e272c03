//! Order use cases: grant, look up, list, record service, vary, renew, discharge, replace an interim order.

use super::audit;
use super::grant_checks::{check_grant, require_applicant_force};
use super::page::{Page, PageRequest};
use super::schedule::sync_schedule;
use super::Services;
use super::{known_own_agency, recorded, require_own_agency};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::codes;
use crate::db::alerts::NewAlert;
use crate::db::orders::{NewOrder, Recorded, TermsChange};
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::alert::AlertKind;
use crate::domain::application::CourtMotion;
use crate::domain::audit::AuditOperation;
use crate::domain::calendar::london_date;
use crate::domain::order::{OrderParts, OrderRecord};
use crate::domain::scope::{OrderCursor, OrderSearch, OrderSort};
use crate::domain::status::effective_status;
use crate::domain::validation::{canonical_reference, ConditionDraft, OrderDraft};
use crate::domain::{same_subject, OrderEvent, OrderStatus, ServiceMethod};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// How far in the future a `servedAt` may be, for clock skew between systems.
pub const SERVED_AT_FUTURE_TOLERANCE: Duration = Duration::minutes(5);

/// A request to record a new order.
#[derive(Debug, Clone)]
pub struct GrantRequest {
    pub draft: OrderDraft,
    pub applicant_agency: String,
    /// The court making the order; defaults to the caller's court. Must be absent for police notices.
    pub court: Option<String>,
    pub replaces_reference: Option<String>,
    /// An SPO made by the court of its own motion (no police application), where the deployment allows it.
    pub court_motion: Option<CourtMotion>,
    pub note: Option<String>,
}

/// A variation: a new expiry (`Some(None)` = until further order), a new set of conditions, or both.
#[derive(Debug, Clone)]
pub struct VaryRequest {
    pub reference: String,
    /// The day the court decided (default: today).
    pub decided_on: Option<NaiveDate>,
    pub expires_on: Option<Option<NaiveDate>>,
    pub conditions: Option<Vec<ConditionDraft>>,
    pub note: Option<String>,
    /// A DAPO varied without notice to the subject (Domestic Abuse Act 2021 s45(8)).
    pub without_notice: bool,
}

pub(super) fn not_found() -> AppError {
    AppError::NotFound { what: "order" }
}

impl Services {
    /// The order with this reference, with the histories `parts` asks for, if it exists and the caller may see it
    /// (otherwise `None`: the caller cannot tell an order it may not see from one that does not exist).
    pub async fn order(
        &self,
        who: &Caller,
        reference: String,
        parts: OrderParts,
    ) -> AppResult<Option<OrderRecord>> {
        policy::require(who, Operation::ReadOrders)?;
        let parts = parts.for_scope(&policy::order_scope(who));
        let reference = canonical_reference(&reference);
        // One statement on this thread's own connection (`db::reader`) when the caller's agency is known.
        if let (Some(reader), Some(fits)) = (self.db.reader(), known_own_agency(&self.db, who)) {
            fits?;
            let order =
                db::loader::find_parts_by_reference_on(&self.db, reader, &reference, parts).await?;
            return Ok(order.filter(|o| policy::may_see_order(who, o)));
        }
        let who = who.clone();
        self.db
            .run(move |conn| {
                require_own_agency(conn, &who)?;
                let order = db::loader::find_parts_by_reference(conn, &reference, parts)?;
                Ok(order.filter(|o| policy::may_see_order(&who, o)))
            })
            .await
    }

    /// A page of the orders the caller may see, newest first.
    pub async fn orders(
        &self,
        who: &Caller,
        filter: OrderSearch,
        sort: OrderSort,
        page: PageRequest,
        parts: OrderParts,
    ) -> AppResult<Page<OrderRecord>> {
        policy::require(who, Operation::ReadOrders)?;
        let cursor = order_cursor(sort, page.after.as_deref())?;
        if let Some(key) = &filter.subject_name_key {
            if key.is_empty() {
                return Err(AppError::validation(
                    codes::INVALID_NAME,
                    "filter.subjectName",
                    "a name to search for needs a letter or digit",
                ));
            }
        }
        if let (Some(before), Some(after)) = (filter.expires_before, filter.expires_after) {
            if before <= after {
                return Err(AppError::validation(
                    codes::INVALID_RANGE,
                    "filter.expiresBefore",
                    "expiresBefore must be after expiresAfter",
                ));
            }
        }
        let scope = policy::order_scope(who);
        let ask = db::loader::PageAsk {
            parts: parts.for_scope(&scope),
            scope,
            filter,
            today: london_date(self.now()),
            cursor,
            limit: page.limit + 1,
        };
        // The page in one statement on this thread's own connection (`db::reader`) when the caller's agency is known.
        let items = if let (Some(reader), Some(fits)) =
            (self.db.reader(), known_own_agency(&self.db, who))
        {
            fits?;
            db::loader::search_on(&self.db, reader, ask).await?
        } else {
            let who = who.clone();
            self.db
                .run(move |conn| {
                    require_own_agency(conn, &who)?;
                    db::loader::search(conn, &ask)
                })
                .await?
        };
        Ok(Page::from_fetched(items, page.limit))
    }

    /// Records a new order: a court order by its court, or a police notice by the issuing force.
    pub async fn grant_order(&self, who: &Caller, mut req: GrantRequest) -> AppResult<OrderRecord> {
        policy::require(who, Operation::GrantOrder)?;
        req.draft.reference = canonical_reference(&req.draft.reference);
        req.replaces_reference = req.replaces_reference.as_deref().map(canonical_reference);
        let now = self.now();
        let order_type = req.draft.order_type;
        let court = check_grant(who, &req, now, self.court_made_spo)?;

        let who = who.clone();
        let reference = req.draft.reference.clone();
        let feed = self.feed.clone();
        let rules = self.rules.clone();
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    require_applicant_force(conn, &req.applicant_agency)?;
                    let recorded = recorded(&who, now, req.note.clone());
                    let replaces_order_id = match &req.replaces_reference {
                        None => None,
                        Some(r) => Some(replace(conn, &who, r, &req.draft, &req.applicant_agency, &req.draft.reference, &recorded)?),
                    };
                    let new = NewOrder {
                        reference: req.draft.reference.clone(),
                        order_type,
                        made_on: req.draft.made_on,
                        expires_on: req.draft.expires_on,
                        applicant_agency: req.applicant_agency.clone(),
                        court_agency: court.clone(),
                        subject_names: req.draft.subject_names.clone(),
                        subject_date_of_birth: req.draft.subject_date_of_birth,
                        protected_persons: req.draft.protected_persons.clone(),
                        conditions: req.draft.conditions.clone(),
                        replaces_order_id,
                        without_notice: req.draft.without_notice,
                        soa_notification: req.draft.soa_notification,
                        until_event: req.draft.until_event.clone(),
                        court_motion: req.court_motion,
                        recorded,
                    };
                    let Some(new_id) = db::orders::insert(conn, &new)? else {
                        return Err(AppError::conflict(codes::REFERENCE_TAKEN, format!("an order with reference {} already exists", new.reference)));
                    };
                    sync_schedule(conn, &new_id, &rules, now)?;
                    let fields = audit::grant_fields(new.without_notice, new.soa_notification.is_some());
                    let mut trail = vec![audit::entry(&who, now, AuditOperation::Collect, "grantOrder", "order", vec![new_id.clone()], &fields)];
                    if let Some(old_id) = &new.replaces_order_id {
                        sync_schedule(conn, old_id, &rules, now)?;
                        trail.push(audit::entry(&who, now, AuditOperation::Alter, "grantOrder", "order", vec![old_id.clone()], &["status"]));
                    }
                    db::audit::append(conn, &trail)?;
                    // Alerts last: their lock is then held only to commit.
                    if let Some(old_id) = new.replaces_order_id {
                        let alert = NewAlert { kind: AlertKind::OrderReplaced, order_id: old_id, breach_id: None, due_at: now, occasion: new.reference.clone() , fire_at: now };
                        db::alerts::insert(conn, &[alert], now)?;
                    }
                    Ok(())
                })?;
                tracing::info!(order.reference = %reference, order.type = order_type.as_str(), "order granted");
                feed.wake();
                db::loader::find_by_reference(conn, &reference)?.ok_or_else(not_found)
            })
            .await
    }

    /// Records that the subject was served (POLICE, any force: the serving force is recorded).
    pub async fn record_service(
        &self,
        who: &Caller,
        reference: String,
        served_at: DateTime<Utc>,
        method: ServiceMethod,
    ) -> AppResult<OrderRecord> {
        let reference = canonical_reference(&reference);
        policy::require(who, Operation::RecordService)?;
        let now = self.now();
        if served_at > now + SERVED_AT_FUTURE_TOLERANCE {
            return Err(AppError::validation(
                codes::SERVED_AT_IN_FUTURE,
                "servedAt",
                "servedAt is in the future",
            ));
        }
        let who = who.clone();
        let feed = self.feed.clone();
        let rules = self.rules.clone();
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    let order = db::loader::find_by_reference(conn, &reference)?.ok_or_else(not_found)?;
                    if !policy::may_see_order(&who, &order) {
                        return Err(not_found());
                    }
                    let status = effective_status(order.status, order.expires_on, now);
                    if status != OrderStatus::InForce {
                        return Err(AppError::conflict(codes::ORDER_NOT_IN_FORCE, format!("the order is {}, so it cannot be served", status.as_str())));
                    }
                    if london_date(served_at) < order.made_on {
                        return Err(AppError::validation(codes::SERVED_BEFORE_MADE, "servedAt", format!("servedAt is before the day the order was made ({})", order.made_on)));
                    }
                    if !db::orders::record_service(conn, &order.id, served_at, method, &recorded(&who, now, None))? {
                        return Err(AppError::conflict(codes::ALREADY_SERVED, "service of this order is already recorded"));
                    }
                    sync_schedule(conn, &order.id, &rules, now)?;
                    let fields = ["serviceStatus", "servedAt", "serviceMethod", "servedByAgency"];
                    db::audit::append(conn, &[audit::entry(&who, now, AuditOperation::Alter, "recordService", "order", vec![order.id.clone()], &fields)])?;
                    let alert = NewAlert { kind: AlertKind::OrderServed, order_id: order.id.clone(), breach_id: None, due_at: now, occasion: "served".into() , fire_at: now };
                    db::alerts::insert(conn, &[alert], now)?;
                    Ok(())
                })?;
                tracing::info!(order.reference = %reference, service.method = method.as_str(), "service recorded");
                feed.wake();
                db::loader::find_by_reference(conn, &reference)?.ok_or_else(not_found)
            })
            .await
    }
}

/// Marks the order `reference` as replaced by the new order being recorded. An order the caller may not replace
/// (another court's or force's, a notice whose application this court did not hear), applied for by another force,
/// or whose subject is not the new order's is answered exactly as a missing one, so the answer reveals nothing of orders the caller cannot see; then
/// the new type must be allowed to replace the old one, which must be in force.
fn replace(
    conn: &mut DbConnection,
    who: &Caller,
    reference: &str,
    new: &OrderDraft,
    new_applicant: &str,
    new_reference: &str,
    recorded: &Recorded,
) -> AppResult<String> {
    let old = db::loader::find_by_reference(conn, reference)?
        .filter(|old| {
            policy::may_replace_order(who, old)
                && old.applicant.code == new_applicant
                && same_subject(
                    (&old.subject_names, old.subject_date_of_birth),
                    (&new.subject_names, new.subject_date_of_birth),
                )
        })
        .ok_or_else(|| {
            AppError::validation(
                codes::REPLACED_ORDER_NOT_FOUND,
                "replacesReference",
                "no order has that reference",
            )
        })?;
    let new_type = new.order_type;
    if !new_type.rules().may_replace.contains(&old.order_type) {
        return Err(AppError::validation(
            codes::REPLACEMENT_NOT_ALLOWED,
            "replacesReference",
            format!("a {new_type} cannot replace a {}", old.order_type),
        ));
    }
    let status = effective_status(old.status, old.expires_on, recorded.at);
    if status != OrderStatus::InForce {
        return Err(AppError::conflict(
            codes::REPLACED_ORDER_NOT_IN_FORCE,
            format!("the order to replace is {}", status.as_str()),
        ));
    }
    let change = TermsChange {
        expected_version: old.version,
        event: OrderEvent::Replaced,
        status: OrderStatus::Replaced,
        expires_on: old.expires_on,
        conditions: None,
        recorded: Recorded {
            note: Some(format!("replaced by {new_reference}")),
            // The replacing order was made that day.
            decided_on: Some(new.made_on),
            ..recorded.clone()
        },
        without_notice: false,
    };
    if !db::orders::apply_change(conn, &old.id, &change)? {
        return Err(AppError::conflict(
            codes::CONCURRENT_CHANGE,
            "the order to replace changed while this request was made; retry",
        ));
    }
    Ok(old.id)
}

/// The cursor kind of a list of orders in `sort`'s order (a cursor of one order is refused by the other).
pub fn order_cursor_kind(sort: OrderSort) -> &'static str {
    match sort {
        OrderSort::Newest => "order",
        OrderSort::EndingSoonest => "orderEnding",
    }
}

/// The key of `order`'s cursor in a list in `sort`'s order: its id, or its last day (empty when none) and its id.
pub fn order_cursor_key(sort: OrderSort, order: &OrderRecord) -> String {
    match sort {
        OrderSort::Newest => order.id.clone(),
        OrderSort::EndingSoonest => format!(
            "{}|{}",
            order.expires_on.map(|d| d.to_string()).unwrap_or_default(),
            order.id
        ),
    }
}

/// Where a page starts, from the key of a cursor of [`order_cursor_kind`].
fn order_cursor(sort: OrderSort, key: Option<&str>) -> AppResult<OrderCursor> {
    let bad = || {
        AppError::validation(
            codes::INVALID_CURSOR,
            "after",
            "after is not a cursor returned by this list",
        )
    };
    Ok(match sort {
        OrderSort::Newest => OrderCursor::Newest(key.map(str::to_string)),
        OrderSort::EndingSoonest => OrderCursor::EndingSoonest(
            key.map(|k| {
                let (day, id) = k.split_once('|').ok_or_else(bad)?;
                let day = match day {
                    "" => None,
                    d => Some(chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| bad())?),
                };
                Ok::<_, AppError>((day, id.to_string()))
            })
            .transpose()?,
        ),
    })
}
