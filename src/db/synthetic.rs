//! Writes a synthetic data set (`service::synthetic` makes it) in batches, each table in statements of a fixed number
//! of rows, inside one transaction per batch.

use super::applications::ApplicationRow;
use super::models::{
    AgencyRow, BreachOutcomeRow, BreachRow, DeadlineRow, OrderRow, ProtectedPersonRow,
    SubjectNameRow, VersionRow,
};
use super::schema::{
    agencies, applications, breach_outcomes, breaches, deadlines, order_versions, orders,
    protected_persons, subject_names,
};
use super::{insert_batch, DbConnection};
use crate::error::AppResult;
use diesel::prelude::*;

/// Rows a statement carries: below SQLite's 32,766 bound variables for the widest table (18 columns).
const ROWS_PER_STATEMENT: usize = 1000;

/// One batch of synthetic rows, written together.
#[derive(Default)]
pub struct Batch {
    pub orders: Vec<OrderRow>,
    pub versions: Vec<VersionRow>,
    pub names: Vec<SubjectNameRow>,
    pub persons: Vec<ProtectedPersonRow>,
    pub applications: Vec<ApplicationRow>,
    pub breaches: Vec<BreachRow>,
    pub outcomes: Vec<BreachOutcomeRow>,
    pub deadlines: Vec<DeadlineRow>,
}

/// Registers agencies not yet registered.
pub fn agencies(conn: &mut DbConnection, rows: &[AgencyRow]) -> AppResult<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        super::with_backend!(conn, |c| diesel::insert_into(agencies::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(())
}

/// Writes a batch, parents before children.
pub fn write(conn: &mut DbConnection, b: &Batch) -> AppResult<()> {
    for c in b.orders.chunks(ROWS_PER_STATEMENT) {
        insert_batch!(conn, orders::table, c)?;
    }
    for c in b.versions.chunks(ROWS_PER_STATEMENT) {
        insert_batch!(conn, order_versions::table, c)?;
    }
    for c in b.names.chunks(ROWS_PER_STATEMENT) {
        insert_batch!(conn, subject_names::table, c)?;
    }
    for c in b.persons.chunks(ROWS_PER_STATEMENT) {
        insert_batch!(conn, protected_persons::table, c)?;
    }
    for c in b.applications.chunks(ROWS_PER_STATEMENT) {
        insert_batch!(conn, applications::table, c)?;
    }
    for c in b.breaches.chunks(ROWS_PER_STATEMENT) {
        insert_batch!(conn, breaches::table, c)?;
    }
    for c in b.outcomes.chunks(ROWS_PER_STATEMENT) {
        insert_batch!(conn, breach_outcomes::table, c)?;
    }
    for c in b.deadlines.chunks(ROWS_PER_STATEMENT) {
        insert_batch!(conn, deadlines::table, c)?;
    }
    Ok(())
}
