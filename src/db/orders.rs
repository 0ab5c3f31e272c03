//! Writing orders: insert, and change with an optimistic version check so two concurrent changes never both apply.
//! Reading them whole is `loader`.

use super::codec::{new_id, truncate_micros};
use super::models::*;
use super::schema::{conditions, order_versions, orders, protected_persons, subject_names};
use super::DbConnection;
use crate::domain::application::CourtMotion;
use crate::domain::calendar::london_date;
use crate::domain::order::SoaNotification;
use crate::domain::validation::{ConditionDraft, PersonDraft};
use crate::domain::{name_key, OrderEvent, OrderStatus, OrderType, ServiceMethod, ServiceStatus};
use crate::error::AppResult;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

/// Who recorded a change, and when.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub by: String,
    pub agency: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
    /// The day the court decided, for a court's decision recorded later (vary, renew, discharge, quash).
    pub decided_on: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub reference: String,
    pub order_type: OrderType,
    pub made_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub applicant_agency: String,
    pub court_agency: Option<String>,
    pub subject_names: Vec<String>,
    pub subject_date_of_birth: Option<NaiveDate>,
    pub protected_persons: Vec<PersonDraft>,
    pub conditions: Vec<ConditionDraft>,
    pub replaces_order_id: Option<String>,
    /// Made without notice to the subject.
    pub without_notice: bool,
    pub soa_notification: Option<SoaNotification>,
    /// A DAPO having effect until an event occurs, as the order words it.
    pub until_event: Option<String>,
    /// Made by the court of its own motion, not on a police application.
    pub court_motion: Option<CourtMotion>,
    pub recorded: Recorded,
}

/// Who records what the scheduled checks change.
pub const CHECKS_ACTOR: &str = "orderwatch-checks";

/// Records a status reached on schedule (expired, lapsed) at `reached` as the next version, on behalf of the
/// managing force, recorded `at`. `Ok(false)` when the order moved on.
#[allow(clippy::too_many_arguments)]
pub fn set_status_on_schedule(
    conn: &mut DbConnection,
    order_id: &str,
    managing_agency: &str,
    expected_version: i64,
    event: OrderEvent,
    status: OrderStatus,
    expires_on: Option<NaiveDate>,
    reached: DateTime<Utc>,
    at: DateTime<Utc>,
) -> AppResult<bool> {
    let change = TermsChange {
        expected_version,
        event,
        status,
        expires_on,
        conditions: None,
        recorded: Recorded {
            by: CHECKS_ACTOR.into(),
            agency: managing_agency.into(),
            at,
            note: Some("recorded by the scheduled checks".into()),
            decided_on: None,
        },
        without_notice: false,
    };
    if !apply_change(conn, order_id, &change)? {
        return Ok(false);
    }
    if status != OrderStatus::Expired {
        // It stopped being in force when it lapsed, however late the checks ran.
        diesel::update(orders::table)
            .filter(orders::id.eq(order_id))
            .set(orders::ended_on.eq(london_date(reached)))
            .execute(conn)?;
    }
    Ok(true)
}

/// Inserts a new order at version 1 with its subject, protected persons, conditions and first history entry.
/// Returns the new order's id, or `None` when the reference is taken (nothing is written then).
pub fn insert(conn: &mut DbConnection, new: &NewOrder) -> AppResult<Option<String>> {
    let id = new_id();
    let at = truncate_micros(new.recorded.at).naive_utc();
    let row = OrderRow {
        id: id.clone(),
        reference: new.reference.clone(),
        order_type: new.order_type.as_str().into(),
        status: OrderStatus::InForce.as_str().into(),
        made_on: new.made_on,
        expires_on: new.expires_on,
        applicant_agency: new.applicant_agency.clone(),
        court_agency: new.court_agency.clone(),
        subject_date_of_birth: new.subject_date_of_birth,
        replaces_order_id: new.replaces_order_id.clone(),
        version: 1,
        service_status: ServiceStatus::Unserved.as_str().into(),
        served_at: None,
        service_method: None,
        served_by_agency: None,
        served_by: None,
        created_at: at,
        updated_at: at,
        ended_on: None,
        without_notice: new.without_notice,
        aware_at: None,
        soa_notification: new.soa_notification.is_some(),
        soa_notification_final_day: new.soa_notification.and_then(|s| s.final_day),
        soa_notification_start_day: new.soa_notification.and_then(|s| s.start_day),
        until_event: new.until_event.clone(),
        court_motion: new.court_motion.map(|m| m.as_str().into()),
    };
    match diesel::insert_into(orders::table)
        .values(&row)
        .execute(conn)
    {
        Ok(_) => {}
        Err(e) if super::is_unique_violation(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let names: Vec<SubjectNameRow> = new
        .subject_names
        .iter()
        .enumerate()
        .map(|(i, n)| SubjectNameRow {
            id: new_id(),
            order_id: id.clone(),
            position: i as i64,
            name: n.trim().to_string(),
            name_key: name_key(n),
        })
        .collect();
    super::insert_batch!(conn, subject_names::table, &names)?;
    let persons: Vec<ProtectedPersonRow> = new
        .protected_persons
        .iter()
        .enumerate()
        .map(|(i, p)| ProtectedPersonRow {
            id: new_id(),
            order_id: id.clone(),
            position: i as i64,
            name: p.name.trim().to_string(),
            date_of_birth: p.date_of_birth,
            contact: p.contact.clone(),
        })
        .collect();
    super::insert_batch!(conn, protected_persons::table, &persons)?;
    insert_conditions(conn, &id, 1, &new.conditions)?;
    insert_version(
        conn,
        &id,
        1,
        OrderEvent::Granted,
        OrderStatus::InForce,
        new.expires_on,
        &new.recorded,
        false,
    )?;
    Ok(Some(id))
}

fn insert_conditions(
    conn: &mut DbConnection,
    order_id: &str,
    version: i64,
    list: &[ConditionDraft],
) -> AppResult<()> {
    if list.is_empty() {
        return Ok(());
    }
    let rows: Vec<ConditionRow> = list
        .iter()
        .enumerate()
        .map(|(i, c)| ConditionRow {
            id: new_id(),
            order_id: order_id.to_string(),
            position: i as i64,
            kind: c.kind.as_str().into(),
            text: c.text.trim().to_string(),
            expires_on: c.expires_on,
            added_in_version: version,
            removed_in_version: None,
        })
        .collect();
    super::insert_batch!(conn, conditions::table, &rows)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn insert_version(
    conn: &mut DbConnection,
    order_id: &str,
    version: i64,
    event: OrderEvent,
    status: OrderStatus,
    expires_on: Option<NaiveDate>,
    recorded: &Recorded,
    without_notice: bool,
) -> AppResult<()> {
    let row = VersionRow {
        order_id: order_id.to_string(),
        version,
        event: event.as_str().into(),
        status: status.as_str().into(),
        expires_on,
        recorded_at: truncate_micros(recorded.at).naive_utc(),
        recorded_by: recorded.by.clone(),
        recorded_by_agency: recorded.agency.clone(),
        note: recorded.note.clone(),
        decided_on: recorded.decided_on,
        without_notice,
        aware_at: None,
    };
    diesel::insert_into(order_versions::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// A change of an order's terms or status that makes a new version.
#[derive(Debug, Clone)]
pub struct TermsChange {
    /// The version the caller read; the change applies only if the order is still at it.
    pub expected_version: i64,
    pub event: OrderEvent,
    pub status: OrderStatus,
    pub expires_on: Option<NaiveDate>,
    /// `Some` replaces the whole set of conditions from the new version on; `None` keeps them.
    pub conditions: Option<Vec<ConditionDraft>>,
    pub recorded: Recorded,
    /// A variation made without notice to the subject (Domestic Abuse Act 2021 s45(8)).
    pub without_notice: bool,
}

/// Applies a change as version `expected_version + 1`. `Ok(false)`, with nothing written, when the order moved on
/// in the meantime.
pub fn apply_change(
    conn: &mut DbConnection,
    order_id: &str,
    change: &TermsChange,
) -> AppResult<bool> {
    let next = change.expected_version + 1;
    let updated = diesel::update(orders::table)
        .filter(orders::id.eq(order_id))
        .filter(orders::version.eq(change.expected_version))
        .set((
            orders::version.eq(next),
            orders::status.eq(change.status.as_str()),
            orders::expires_on.eq(change.expires_on),
            orders::updated_at.eq(truncate_micros(change.recorded.at).naive_utc()),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Ok(false);
    }
    if !matches!(change.status, OrderStatus::InForce | OrderStatus::Expired) {
        // The first day it stopped being in force early, kept for statistics (`db::statistics`).
        let day = change
            .recorded
            .decided_on
            .unwrap_or_else(|| london_date(change.recorded.at));
        diesel::update(orders::table)
            .filter(orders::id.eq(order_id))
            .filter(orders::ended_on.is_null())
            .set(orders::ended_on.eq(day))
            .execute(conn)?;
    }
    if let Some(new_conditions) = &change.conditions {
        diesel::update(conditions::table)
            .filter(conditions::order_id.eq(order_id))
            .filter(conditions::removed_in_version.is_null())
            .set(conditions::removed_in_version.eq(Some(next)))
            .execute(conn)?;
        insert_conditions(conn, order_id, next, new_conditions)?;
    }
    insert_version(
        conn,
        order_id,
        next,
        change.event,
        change.status,
        change.expires_on,
        &change.recorded,
        change.without_notice,
    )?;
    Ok(true)
}

/// Records when the subject became aware of an order made without notice, other than by service. Keeps the
/// earliest: `Ok(false)`, with nothing written, when an awareness at or before `aware_at` is already recorded.
pub fn record_awareness(
    conn: &mut DbConnection,
    order_id: &str,
    aware_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> AppResult<bool> {
    let aware_at = truncate_micros(aware_at).naive_utc();
    let updated = diesel::update(orders::table)
        .filter(orders::id.eq(order_id))
        .filter(orders::aware_at.is_null().or(orders::aware_at.gt(aware_at)))
        .set((
            orders::aware_at.eq(Some(aware_at)),
            orders::updated_at.eq(truncate_micros(at).naive_utc()),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Records when the subject became aware of the variation that made `version`, keeping the earliest. False when an
/// earlier or equal time is already known.
pub fn record_version_awareness(
    conn: &mut DbConnection,
    order_id: &str,
    version: i64,
    aware_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> AppResult<bool> {
    let aware_at = truncate_micros(aware_at).naive_utc();
    let updated = diesel::update(order_versions::table)
        .filter(order_versions::order_id.eq(order_id))
        .filter(order_versions::version.eq(version))
        .filter(
            order_versions::aware_at
                .is_null()
                .or(order_versions::aware_at.gt(aware_at)),
        )
        .set(order_versions::aware_at.eq(Some(aware_at)))
        .execute(conn)?;
    if updated == 1 {
        diesel::update(orders::table.find(order_id))
            .set(orders::updated_at.eq(truncate_micros(at).naive_utc()))
            .execute(conn)?;
    }
    Ok(updated == 1)
}

/// Sets the subject's Sexual Offences Act 2003 Part 2 notification as it stood when the order was made (`None`:
/// none). `Ok(false)`, with nothing written, when it already reads so.
pub fn set_soa_notification(
    conn: &mut DbConnection,
    order_id: &str,
    soa: Option<SoaNotification>,
    at: DateTime<Utc>,
) -> AppResult<bool> {
    let final_day = soa.and_then(|s| s.final_day);
    let updated = diesel::update(orders::table)
        .filter(orders::id.eq(order_id))
        .set((
            orders::soa_notification.eq(soa.is_some()),
            orders::soa_notification_final_day.eq(final_day),
            orders::soa_notification_start_day.eq(soa.and_then(|s| s.start_day)),
            orders::updated_at.eq(truncate_micros(at).naive_utc()),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Records service of an unserved order. `Ok(false)`, with nothing written, when it was already served.
pub fn record_service(
    conn: &mut DbConnection,
    order_id: &str,
    served_at: DateTime<Utc>,
    method: ServiceMethod,
    recorded: &Recorded,
) -> AppResult<bool> {
    let updated = diesel::update(orders::table)
        .filter(orders::id.eq(order_id))
        .filter(orders::service_status.eq(ServiceStatus::Unserved.as_str()))
        .set((
            orders::service_status.eq(ServiceStatus::Served.as_str()),
            orders::served_at.eq(Some(truncate_micros(served_at).naive_utc())),
            orders::service_method.eq(Some(method.as_str())),
            orders::served_by_agency.eq(Some(recorded.agency.as_str())),
            orders::served_by.eq(Some(recorded.by.as_str())),
            orders::updated_at.eq(truncate_micros(recorded.at).naive_utc()),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}
