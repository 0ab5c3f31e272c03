//! An order looked up by reference with its parts, in one statement: the order's row joined to the parts union.

use super::{collect, walk_union, PartRow, Parts, SlotTypes, Slots};
use crate::db::models::OrderRow;
use crate::db::DbConnection;
use crate::domain::order::OrderParts;
use crate::error::AppResult;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Nullable, Text};

/// An order looked up by reference with its parts, in **one statement**: the order's row (in every row of the
/// answer) beside each of its parts, or alone when it has none. A control-room lookup is then one round trip.
///
/// PostgreSQL reads the parts in a `LATERAL` join on the order's id, and flattens the order's subquery into the
/// join: the plan is an index scan on the reference, then the parts' branches, with nothing in between to start on
/// every run (figures in docs/decisions/0012-a-lookup-in-one-statement-and-the-audit-head-kept.md). SQLite, which
/// has no `LATERAL`, reads the order as a common table expression and the parts test `order_id = (SELECT id FROM o)`.
const ORDER_COLUMNS: &str = "SELECT id, reference, order_type, status, made_on, expires_on, \
applicant_agency, court_agency, subject_date_of_birth, replaces_order_id, version, service_status, served_at, \
service_method, served_by_agency, served_by, created_at, updated_at, ended_on, without_notice, aware_at, \
soa_notification, soa_notification_final_day, until_event, court_motion, soa_notification_start_day \
FROM orders WHERE reference = ";
const PART_COLUMNS: &str =
    "SELECT o.*, p.part, p.id AS part_id, p.i1, p.i2, p.i3, p.t1, p.t2, p.t3, p.t4, p.t5, \
p.d1, p.ts1, p.ts2, p.ts3, p.ts4 FROM ";
const LOOKUP_END: &str = ") p ON TRUE";

/// A row of [`LookupQuery`] or of a page (`page::PageQuery`): an order, and one of its parts if it has any. Read by
/// position ([`LookupTypes`]): by name, each of its 41 columns was found by comparing names, which cost more than
/// the rest of reading the row.
#[derive(Queryable)]
pub struct LookupRow {
    pub(super) order: OrderRow,
    pub(super) part: Option<String>,
    pub(super) part_id: Option<String>,
    pub(super) s: Slots,
}

/// The SQL types of a [`LookupRow`], in the statement's order: the order's columns as the table lists them (which
/// is [`OrderRow`]'s order), then `part`, `part_id` and the slots.
pub(super) type LookupTypes = (
    crate::db::schema::orders::SqlType,
    Nullable<Text>,
    Nullable<Text>,
    SlotTypes,
);

/// The lookup's statement; its text depends only on the parts asked for, so diesel keeps each prepared.
struct LookupQuery<'a> {
    reference: &'a str,
    parts: OrderParts,
}

impl QueryId for LookupQuery<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for LookupQuery<'_> {
    type SqlType = LookupTypes;
}

impl<C> RunQueryDsl<C> for LookupQuery<'_> {}

impl QueryFragment<diesel::pg::Pg> for LookupQuery<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        out.push_sql(PART_COLUMNS);
        out.push_sql("(");
        out.push_sql(ORDER_COLUMNS);
        out.push_bind_param::<Text, str>(self.reference)?;
        out.push_sql(") o LEFT JOIN LATERAL (");
        walk_union(&mut out, self.parts, |out| {
            out.push_sql("= o.id");
            Ok(())
        })?;
        out.push_sql(LOOKUP_END);
        Ok(())
    }
}

impl QueryFragment<diesel::sqlite::Sqlite> for LookupQuery<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::sqlite::Sqlite>) -> QueryResult<()> {
        out.push_sql("WITH o AS MATERIALIZED (");
        out.push_sql(ORDER_COLUMNS);
        out.push_bind_param::<Text, str>(self.reference)?;
        out.push_sql(") ");
        out.push_sql(PART_COLUMNS);
        out.push_sql("o LEFT JOIN (");
        walk_union(&mut out, self.parts, |out| {
            out.push_sql("= (SELECT id FROM o)");
            Ok(())
        })?;
        out.push_sql(LOOKUP_END);
        Ok(())
    }
}

/// The order with this reference and the parts `parts` asks for, in one statement.
pub fn order_by_reference(
    conn: &mut DbConnection,
    reference: &str,
    parts: OrderParts,
) -> AppResult<Option<(OrderRow, Parts)>> {
    let query = LookupQuery { reference, parts };
    let rows: Vec<LookupRow> = crate::db::with_backend!(conn, |c| query.load(c))?;
    fold(rows)
}

/// As [`order_by_reference`], on PostgreSQL without blocking: the statement is sent on `conn`, pipelined with the
/// other requests' on it (`db::reader`).
pub async fn order_by_reference_pg(
    conn: &diesel_async::AsyncPgConnection,
    reference: &str,
    parts: OrderParts,
) -> diesel::QueryResult<Vec<LookupRow>> {
    diesel_async::RunQueryDsl::load(LookupQuery { reference, parts }, &mut &*conn).await
}

/// As [`order_by_reference`], on a connection of `db::reader` on SQLite.
pub fn order_by_reference_sqlite(
    conn: &mut diesel::SqliteConnection,
    reference: &str,
    parts: OrderParts,
) -> diesel::QueryResult<Vec<LookupRow>> {
    LookupQuery { reference, parts }.load(conn)
}

/// The order and its parts, out of the statement's rows.
pub fn fold(rows: Vec<LookupRow>) -> AppResult<Option<(OrderRow, Parts)>> {
    let mut order = None;
    let mut parts = Vec::with_capacity(rows.len());
    for r in rows {
        if let (Some(part), Some(id)) = (r.part, r.part_id) {
            let order_id = r.order.id.clone();
            parts.push(PartRow {
                part,
                id,
                order_id,
                s: r.s,
            });
        }
        order.get_or_insert(r.order);
    }
    match order {
        Some(order) => Ok(Some((order, collect(parts)?))),
        None => Ok(None),
    }
}
