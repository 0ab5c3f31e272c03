//! Consent records: an order shared with an advocacy service for a protected person, until revoked.

use super::codec::truncate_micros;
use super::models::ShareRow;
use super::orders::Recorded;
use super::schema::order_shares;
use super::DbConnection;
use crate::domain::order::ShareRecord;
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

pub(super) fn to_record(r: ShareRow) -> ShareRecord {
    ShareRecord {
        id: r.id,
        order_id: r.order_id,
        protected_person_id: r.protected_person_id,
        advocacy_agency: r.advocacy_agency,
        recorded_by_agency: r.recorded_by_agency,
        created_at: r.created_at.and_utc(),
        revoked_at: r.revoked_at.map(|t| t.and_utc()),
    }
}

/// Records a share; `None`, with nothing written, when the same live share exists.
pub fn insert(
    conn: &mut DbConnection,
    order_id: &str,
    person_id: &str,
    agency: &str,
    recorded: &Recorded,
) -> AppResult<Option<ShareRecord>> {
    let row = ShareRow {
        id: uuid::Uuid::now_v7().to_string(),
        order_id: order_id.into(),
        protected_person_id: person_id.into(),
        advocacy_agency: agency.into(),
        recorded_by_agency: recorded.agency.clone(),
        recorded_by: recorded.by.clone(),
        created_at: truncate_micros(recorded.at).naive_utc(),
        revoked_at: None,
        revoked_by_agency: None,
    };
    let inserted = super::with_backend!(conn, |c| diesel::insert_into(order_shares::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok((inserted == 1).then(|| to_record(row)))
}

/// The live share for (order, person, service).
pub fn find_active(
    conn: &mut DbConnection,
    order_id: &str,
    person_id: &str,
    agency: &str,
) -> AppResult<Option<ShareRecord>> {
    Ok(order_shares::table
        .filter(order_shares::order_id.eq(order_id))
        .filter(order_shares::protected_person_id.eq(person_id))
        .filter(order_shares::advocacy_agency.eq(agency))
        .filter(order_shares::revoked_at.is_null())
        .select(ShareRow::as_select())
        .first(conn)
        .optional()?
        .map(to_record))
}

/// Ends a live share and returns it as it now stands.
pub fn revoke(
    conn: &mut DbConnection,
    share_id: &str,
    at: DateTime<Utc>,
    agency: &str,
) -> AppResult<ShareRecord> {
    diesel::update(order_shares::table.find(share_id))
        .set((
            order_shares::revoked_at.eq(Some(truncate_micros(at).naive_utc())),
            order_shares::revoked_by_agency.eq(Some(agency)),
        ))
        .execute(conn)?;
    Ok(to_record(
        order_shares::table
            .find(share_id)
            .select(ShareRow::as_select())
            .first(conn)?,
    ))
}

/// Whether any live share of the order names this service: checked at each alert delivery.
pub fn is_shared_with(conn: &mut DbConnection, order_id: &str, agency: &str) -> AppResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        order_shares::table
            .filter(order_shares::order_id.eq(order_id))
            .filter(order_shares::advocacy_agency.eq(agency))
            .filter(order_shares::revoked_at.is_null()),
    ))
    .get_result(conn)?)
}
