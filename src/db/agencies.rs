//! Agencies: police forces, courts and advocacy services.

use super::models::AgencyRow;
use super::schema::agencies;
use super::DbConnection;
use crate::domain::order::AgencyRecord;
use crate::error::AppResult;
use diesel::prelude::*;
use std::collections::HashMap;

pub(super) fn to_record(row: AgencyRow) -> AppResult<AgencyRecord> {
    Ok(AgencyRecord {
        kind: super::orders::parse_code(&row.kind, "agencies.kind")?,
        code: row.code,
        name: row.name,
        created_at: row.created_at.and_utc(),
    })
}

/// Inserts an agency; `Ok(false)` when the code is taken.
pub fn insert(conn: &mut DbConnection, record: &AgencyRecord) -> AppResult<bool> {
    let row = AgencyRow {
        code: record.code.clone(),
        name: record.name.clone(),
        kind: record.kind.as_str().to_string(),
        created_at: record.created_at.naive_utc(),
    };
    match diesel::insert_into(agencies::table)
        .values(&row)
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub fn find(conn: &mut DbConnection, code: &str) -> AppResult<Option<AgencyRecord>> {
    agencies::table
        .find(code)
        .select(AgencyRow::as_select())
        .first(conn)
        .optional()?
        .map(to_record)
        .transpose()
}

/// The agencies with these codes, in one statement.
pub fn find_many(
    conn: &mut DbConnection,
    codes: &[String],
) -> AppResult<HashMap<String, AgencyRecord>> {
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    agencies::table
        .filter(agencies::code.eq_any(codes))
        .select(AgencyRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| to_record(r).map(|a| (a.code.clone(), a)))
        .collect()
}

/// A page of agencies ordered by code, after `after` (exclusive).
pub fn list(
    conn: &mut DbConnection,
    after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<AgencyRecord>> {
    let mut q = agencies::table
        .select(AgencyRow::as_select())
        .order(agencies::code.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(agencies::code.gt(after.to_string()));
    }
    q.load(conn)?.into_iter().map(to_record).collect()
}
