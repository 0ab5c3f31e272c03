//! Applications for orders: one row each, its stages filled in as they are recorded.

use super::codec::{parse_code, truncate_micros};
use super::schema::{applications, orders};
use super::DbConnection;
use crate::domain::application::{ApplicationRecord, CourtDecision, ForceStages};
use crate::error::AppResult;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = applications)]
pub struct ApplicationRow {
    pub id: String,
    pub reference: String,
    pub force_agency: String,
    pub order_type: String,
    pub reported_on: Option<NaiveDate>,
    pub internal_decision: Option<String>,
    pub internal_decision_on: Option<NaiveDate>,
    pub internal_refusal_reason: Option<String>,
    pub made_to_court_on: Option<NaiveDate>,
    pub court_agency: Option<String>,
    pub court_outcome: Option<String>,
    pub court_outcome_on: Option<NaiveDate>,
    pub court_refusal_reason: Option<String>,
    pub order_id: Option<String>,
    pub note: Option<String>,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The day the order granted on it was made, kept with it for statistics.
    pub order_made_on: Option<NaiveDate>,
    /// For an interim SPO's application, the main application it is pending (Stalking Protection Act 2019 s5(1)).
    pub main_application_id: Option<String>,
}

/// A new application; `None` when its reference is taken.
pub fn insert(
    conn: &mut DbConnection,
    record: &ApplicationRecord,
    main_application_id: Option<String>,
    note: Option<String>,
    recorded_by: &str,
) -> AppResult<Option<String>> {
    let at = truncate_micros(record.recorded_at).naive_utc();
    let s = &record.stages;
    let row = ApplicationRow {
        id: record.id.clone(),
        reference: record.reference.clone(),
        force_agency: record.force.clone(),
        order_type: record.order_type.as_str().into(),
        reported_on: s.reported_on,
        internal_decision: s.internal_decision.map(|d| d.as_str().into()),
        internal_decision_on: s.internal_decision_on,
        internal_refusal_reason: s.internal_refusal_reason.map(|r| r.as_str().into()),
        made_to_court_on: s.made_to_court_on,
        court_agency: s.court.clone(),
        court_outcome: None,
        court_outcome_on: None,
        court_refusal_reason: None,
        order_id: None,
        note,
        recorded_by: recorded_by.into(),
        recorded_at: at,
        updated_at: at,
        order_made_on: None,
        main_application_id,
    };
    match diesel::insert_into(applications::table)
        .values(&row)
        .execute(conn)
    {
        Ok(_) => Ok(Some(row.id)),
        Err(e) if super::is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The application with this reference, with the reference of the order granted on it.
pub fn find_by_reference(
    conn: &mut DbConnection,
    reference: &str,
) -> AppResult<Option<ApplicationRecord>> {
    let found: Option<(ApplicationRow, Option<String>)> = applications::table
        .left_join(orders::table)
        .filter(applications::reference.eq(reference))
        .select((ApplicationRow::as_select(), orders::reference.nullable()))
        .first(conn)
        .optional()?;
    let Some((row, order)) = found else {
        return Ok(None);
    };
    let main = match &row.main_application_id {
        Some(id) => Some(
            applications::table
                .find(id)
                .select(applications::reference)
                .first::<String>(conn)?,
        ),
        None => None,
    };
    record(row, order, main).map(Some)
}

/// Locks the application's row until the transaction ends (PostgreSQL; SQLite's writer already holds the database),
/// so a main application's decision and a grant on an interim application pending it are checked one after the other.
pub fn lock(conn: &mut DbConnection, id: &str) -> AppResult<()> {
    if let DbConnection::Pg(c) = conn {
        applications::table
            .find(id)
            .select(applications::id)
            .for_update()
            .load::<String>(c)?;
    }
    Ok(())
}

/// The orders granted on the interim applications pending the main application `main_id`.
pub fn interim_orders(conn: &mut DbConnection, main_id: &str) -> AppResult<Vec<String>> {
    Ok(applications::table
        .filter(applications::main_application_id.eq(main_id))
        .filter(applications::order_id.is_not_null())
        .select(applications::order_id.assume_not_null())
        .order(applications::id)
        .load(conn)?)
}

/// The application with this id.
pub fn find_by_id(conn: &mut DbConnection, id: &str) -> AppResult<Option<ApplicationRecord>> {
    let reference: Option<String> = applications::table
        .find(id)
        .select(applications::reference)
        .first(conn)
        .optional()?;
    match reference {
        Some(r) => find_by_reference(conn, &r),
        None => Ok(None),
    }
}

/// Writes the force's stages.
pub fn set_stages(
    conn: &mut DbConnection,
    id: &str,
    s: &ForceStages,
    at: DateTime<Utc>,
) -> AppResult<()> {
    diesel::update(applications::table.find(id))
        .set((
            applications::reported_on.eq(s.reported_on),
            applications::internal_decision.eq(s.internal_decision.map(|d| d.as_str())),
            applications::internal_decision_on.eq(s.internal_decision_on),
            applications::internal_refusal_reason.eq(s.internal_refusal_reason.map(|r| r.as_str())),
            applications::made_to_court_on.eq(s.made_to_court_on),
            applications::court_agency.eq(s.court.clone()),
            applications::updated_at.eq(truncate_micros(at).naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes the court's decision and the order granted on it. False when the order is already linked to another
/// application.
pub fn set_decision(
    conn: &mut DbConnection,
    id: &str,
    d: &CourtDecision,
    order_id: Option<&str>,
    at: DateTime<Utc>,
) -> AppResult<bool> {
    let order_made_on = match order_id {
        Some(order) => orders::table
            .find(order)
            .select(orders::made_on)
            .first::<NaiveDate>(conn)
            .optional()?,
        None => None,
    };
    let done = diesel::update(applications::table.find(id))
        .set((
            applications::court_outcome.eq(Some(d.outcome.as_str())),
            applications::court_outcome_on.eq(Some(d.decided_on)),
            applications::court_refusal_reason.eq(d.refusal_reason.map(|r| r.as_str())),
            applications::order_id.eq(order_id),
            applications::order_made_on.eq(order_made_on),
            applications::updated_at.eq(truncate_micros(at).naive_utc()),
        ))
        .execute(conn);
    match done {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub fn record(
    row: ApplicationRow,
    order_reference: Option<String>,
    main_application: Option<String>,
) -> AppResult<ApplicationRecord> {
    let court_outcome = match (&row.court_outcome, row.court_outcome_on) {
        (Some(outcome), Some(on)) => Some(CourtDecision {
            outcome: parse_code(outcome, "applications.court_outcome")?,
            decided_on: on,
            refusal_reason: row
                .court_refusal_reason
                .as_deref()
                .map(|r| parse_code(r, "applications.court_refusal_reason"))
                .transpose()?,
        }),
        _ => None,
    };
    Ok(ApplicationRecord {
        order_type: parse_code(&row.order_type, "applications.order_type")?,
        stages: ForceStages {
            reported_on: row.reported_on,
            internal_decision: row
                .internal_decision
                .as_deref()
                .map(|d| parse_code(d, "applications.internal_decision"))
                .transpose()?,
            internal_decision_on: row.internal_decision_on,
            internal_refusal_reason: row
                .internal_refusal_reason
                .as_deref()
                .map(|r| parse_code(r, "applications.internal_refusal_reason"))
                .transpose()?,
            made_to_court_on: row.made_to_court_on,
            court: row.court_agency,
        },
        court_outcome,
        order_reference,
        main_application,
        recorded_at: row.recorded_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        id: row.id,
        reference: row.reference,
        force: row.force_agency,
    })
}
