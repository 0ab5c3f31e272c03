//! The parts an order carries (subject names, protected persons, conditions, live shares and hearings), read for a
//! set of orders in **one statement** instead of one per table, and for a lookup by reference in the same statement
//! as the order's row (docs/decisions/0009-an-orders-parts-read-in-one-statement.md,
//! docs/decisions/0012-a-lookup-in-one-statement-and-the-audit-head-kept.md).
//!
//! The tables are read as one `UNION ALL` of rows of a single shape ([`PartRow`]): the table the row comes from
//! (`part`), its id and order, and that table's other columns in generic slots (`i1`.., `t1`.., `d1`, `ts1`..). Only
//! the tables of the parts asked for ([`OrderParts`]) are read. Each branch binds the order ids as one value whatever
//! their number: PostgreSQL as a text array, SQLite as a JSON array read with `json_each`. A statement's text
//! depends only on the parts asked for, so diesel keeps each prepared per connection.

use super::models::{ConditionRow, HearingRow, ProtectedPersonRow, ShareRow, SubjectNameRow};
use super::DbConnection;
use crate::domain::order::OrderParts;
use crate::error::{AppError, AppResult};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text, Timestamp};

mod lookup;
mod page;
pub use lookup::{
    fold, order_by_reference, order_by_reference_pg, order_by_reference_sqlite, LookupRow,
};
pub use page::{fold_page, PageOrder, PageQuery, PageRow};

/// The parts of some orders, each kind in the order the API lists it (by order, then position, version or time).
#[derive(Debug, Default)]
pub struct Parts {
    pub subject_names: Vec<SubjectNameRow>,
    pub protected_persons: Vec<ProtectedPersonRow>,
    pub conditions: Vec<ConditionRow>,
    /// Live shares only (not revoked).
    pub shares: Vec<ShareRow>,
    pub hearings: Vec<HearingRow>,
}

/// One row of any of the five tables. Which slot holds which column is set by the statement below, per `part`.
#[derive(QueryableByName)]
struct PartRow {
    #[diesel(sql_type = Text)]
    part: String,
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    order_id: String,
    #[diesel(embed)]
    s: Slots,
}

/// The generic slots of a [`PartRow`]: read by name in the parts' statement, by position ([`SlotTypes`]) where they
/// follow an order's row.
#[derive(QueryableByName, Queryable)]
pub struct Slots {
    #[diesel(sql_type = Nullable<BigInt>)]
    i1: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    i2: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    i3: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    t1: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    t2: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    t3: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    t4: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    t5: Option<String>,
    #[diesel(sql_type = Nullable<Date>)]
    d1: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    ts1: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    ts2: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    ts3: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    ts4: Option<NaiveDateTime>,
}

/// The SQL types of [`Slots`], in their order.
pub type SlotTypes = (
    Nullable<BigInt>,
    Nullable<BigInt>,
    Nullable<BigInt>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Date>,
    Nullable<Timestamp>,
    Nullable<Timestamp>,
    Nullable<Timestamp>,
    Nullable<Timestamp>,
);

/// The statement is a typed branch of no rows (PostgreSQL takes a `UNION`'s column names and types from its first
/// branch), then a branch per part asked for, with `{ids}` standing for the backend's test of `order_id` against
/// the bound ids. It has no `ORDER BY`: [`collect`] puts the rows in the API's order. PostgreSQL's sort of these wide
/// rows found each key by walking the columns before it, a tenth of its work on a list page.
const PARTS_TYPES: &str = "\
SELECT CAST(NULL AS TEXT) AS part, CAST(NULL AS TEXT) AS id, CAST(NULL AS TEXT) AS order_id, \
CAST(NULL AS BIGINT) AS i1, CAST(NULL AS BIGINT) AS i2, CAST(NULL AS BIGINT) AS i3, CAST(NULL AS TEXT) AS t1, \
CAST(NULL AS TEXT) AS t2, CAST(NULL AS TEXT) AS t3, CAST(NULL AS TEXT) AS t4, CAST(NULL AS TEXT) AS t5, \
CAST(NULL AS DATE) AS d1, CAST(NULL AS TIMESTAMP) AS ts1, CAST(NULL AS TIMESTAMP) AS ts2, \
CAST(NULL AS TIMESTAMP) AS ts3, CAST(NULL AS TIMESTAMP) AS ts4 WHERE 1 = 0";
const NAMES: &str =
    " UNION ALL SELECT 'n', id, order_id, position, NULL, NULL, name, name_key, NULL, NULL, NULL, \
NULL, NULL, NULL, NULL, NULL FROM subject_names WHERE order_id {ids}";
const PERSONS: &str =
    " UNION ALL SELECT 'p', id, order_id, position, NULL, NULL, name, contact, NULL, NULL, NULL, \
date_of_birth, NULL, NULL, NULL, NULL FROM protected_persons WHERE order_id {ids}";
const CONDITIONS: &str =
    " UNION ALL SELECT 'c', id, order_id, position, added_in_version, removed_in_version, kind, \
text, NULL, NULL, NULL, expires_on, NULL, NULL, NULL, NULL FROM conditions WHERE order_id {ids}";
const SHARES: &str = " UNION ALL SELECT 's', id, order_id, NULL, NULL, NULL, protected_person_id, advocacy_agency, \
recorded_by_agency, recorded_by, revoked_by_agency, NULL, created_at, revoked_at, NULL, NULL FROM order_shares \
WHERE order_id {ids} AND revoked_at IS NULL";
const HEARINGS: &str = " UNION ALL SELECT 'h', id, order_id, NULL, NULL, NULL, court_agency, outcome, note, NULL, NULL, \
NULL, scheduled_for, held_at, created_at, updated_at FROM hearings WHERE order_id {ids}";

/// The branches `parts` asks for.
fn branches(parts: OrderParts) -> impl Iterator<Item = &'static str> {
    [
        (parts.names, NAMES),
        (parts.persons, PERSONS),
        (parts.conditions, CONDITIONS),
        (parts.shares, SHARES),
        (parts.hearings, HEARINGS),
    ]
    .into_iter()
    .filter_map(|(wanted, sql)| wanted.then_some(sql))
}

/// Whether `parts` asks for any of the parts read here.
fn any(parts: OrderParts) -> bool {
    branches(parts).next().is_some()
}

/// The statement as a query diesel keeps prepared: its text depends only on the parts asked for (only the binds
/// change), so unlike `sql_query` it is marked safe to cache, and each connection parses and plans each text once
/// (diesel's statement cache keys it by its text).
///
/// `ONE` is the text for a single order, which tests `order_id = $1`. The text for several binds them
/// as one array, and PostgreSQL cannot know an array parameter's length when it plans: its generic plan assumes
/// ten ids a branch and costs five times the plan for the ids at hand, so it plans that text afresh on every run
/// (`pg_prepared_statements` shows only custom plans). One order's read then paid for planning the union each time
/// (docs/decisions/0007-statements-shaped-for-plans-that-stay-good.md).
struct PartsQuery<'a, const ONE: bool> {
    /// The order ids: bound as a text array on PostgreSQL, or as the one id when `ONE`.
    ids: &'a [String],
    /// The same ids as a JSON array: bound for `json_each` on SQLite when not `ONE` (empty otherwise).
    json: String,
    parts: OrderParts,
}

impl<const ONE: bool> QueryId for PartsQuery<'_, ONE> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<const ONE: bool> Query for PartsQuery<'_, ONE> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<C, const ONE: bool> RunQueryDsl<C> for PartsQuery<'_, ONE> {}

impl<const ONE: bool> QueryFragment<diesel::pg::Pg> for PartsQuery<'_, ONE> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        walk_parts(out, self.parts, |out| {
            if ONE {
                out.push_sql("= ");
                out.push_bind_param::<Text, String>(&self.ids[0])
            } else {
                out.push_sql("= ANY(");
                out.push_bind_param::<Array<Text>, [String]>(self.ids)?;
                out.push_sql(")");
                Ok(())
            }
        })
    }
}

impl<const ONE: bool> QueryFragment<diesel::sqlite::Sqlite> for PartsQuery<'_, ONE> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, diesel::sqlite::Sqlite>) -> QueryResult<()> {
        walk_parts(out, self.parts, |out| {
            if ONE {
                out.push_sql("= ");
                out.push_bind_param::<Text, String>(&self.ids[0])
            } else {
                out.push_sql("IN (SELECT value FROM json_each(");
                out.push_bind_param::<Text, String>(&self.json)?;
                out.push_sql("))");
                Ok(())
            }
        })
    }
}

/// Writes the statement for `parts` with `ids_test` in place of each `{ids}`.
fn walk_parts<'b, DB: diesel::backend::Backend>(
    mut out: AstPass<'_, 'b, DB>,
    parts: OrderParts,
    ids_test: impl FnMut(&mut AstPass<'_, 'b, DB>) -> QueryResult<()>,
) -> QueryResult<()> {
    walk_union(&mut out, parts, ids_test)
}

/// Writes the statement for `parts` with `ids_test` in place of each `{ids}`.
fn walk_union<'b, DB: diesel::backend::Backend>(
    out: &mut AstPass<'_, 'b, DB>,
    parts: OrderParts,
    mut ids_test: impl FnMut(&mut AstPass<'_, 'b, DB>) -> QueryResult<()>,
) -> QueryResult<()> {
    out.push_sql(PARTS_TYPES);
    for branch in branches(parts) {
        let mut pieces = branch.split("{ids}").peekable();
        while let Some(piece) = pieces.next() {
            out.push_sql(piece);
            if pieces.peek().is_some() {
                ids_test(out)?;
            }
        }
    }
    Ok(())
}

/// Runs [`PartsQuery`] in its one-order (`ONE`) or several-order text on the connection's backend.
fn load_parts<const ONE: bool>(
    conn: &mut DbConnection,
    ids: &[String],
    json: String,
    parts: OrderParts,
) -> QueryResult<Vec<PartRow>> {
    let query = PartsQuery::<ONE> { ids, json, parts };
    super::with_backend!(conn, |c| query.load(c))
}

/// The parts `parts` asks for of the orders with these ids, in one statement (none if it asks for none).
pub fn for_orders(
    conn: &mut DbConnection,
    order_ids: &[String],
    parts: OrderParts,
) -> AppResult<Parts> {
    if order_ids.is_empty() || !any(parts) {
        return Ok(Parts::default());
    }
    let rows: Vec<PartRow> = if let [_] = order_ids {
        load_parts::<true>(conn, order_ids, String::new(), parts)?
    } else {
        // SQLite reads several ids from a JSON array (`json_each`); PostgreSQL binds `ids` itself.
        let json = match conn {
            DbConnection::Sqlite(_) => serde_json::to_string(order_ids)
                .map_err(|e| AppError::internal(anyhow::anyhow!("order ids as JSON: {e}")))?,
            DbConnection::Pg(_) => String::new(),
        };
        load_parts::<false>(conn, order_ids, json, parts)?
    };
    collect(rows)
}

/// The parts in `rows`, each kind of each order in the order the API lists it: names and persons by position
/// (`i1`), conditions by version added (`i2`) then position, shares by creation and hearings by date (`ts1`). In
/// each kind the slots sorted on are never null.
/// Longer than 80 lines: one arm per table, naming each slot's column.
fn collect(mut rows: Vec<PartRow>) -> AppResult<Parts> {
    rows.sort_unstable_by(|a, b| {
        (&a.part, &a.order_id, a.s.i2, a.s.i1, a.s.ts1, &a.id).cmp(&(
            &b.part,
            &b.order_id,
            b.s.i2,
            b.s.i1,
            b.s.ts1,
            &b.id,
        ))
    });
    let mut parts = Parts::default();
    for r in rows {
        match r.part.as_str() {
            "n" => parts.subject_names.push(SubjectNameRow {
                position: present(r.s.i1)?,
                name: present(r.s.t1)?,
                name_key: present(r.s.t2)?,
                id: r.id,
                order_id: r.order_id,
            }),
            "p" => parts.protected_persons.push(ProtectedPersonRow {
                position: present(r.s.i1)?,
                name: present(r.s.t1)?,
                date_of_birth: r.s.d1,
                contact: r.s.t2,
                id: r.id,
                order_id: r.order_id,
            }),
            "c" => parts.conditions.push(ConditionRow {
                position: present(r.s.i1)?,
                added_in_version: present(r.s.i2)?,
                removed_in_version: r.s.i3,
                kind: present(r.s.t1)?,
                text: present(r.s.t2)?,
                expires_on: r.s.d1,
                id: r.id,
                order_id: r.order_id,
            }),
            "s" => parts.shares.push(ShareRow {
                protected_person_id: present(r.s.t1)?,
                advocacy_agency: present(r.s.t2)?,
                recorded_by_agency: present(r.s.t3)?,
                recorded_by: present(r.s.t4)?,
                revoked_by_agency: r.s.t5,
                created_at: present(r.s.ts1)?,
                revoked_at: r.s.ts2,
                id: r.id,
                order_id: r.order_id,
            }),
            "h" => parts.hearings.push(HearingRow {
                court_agency: present(r.s.t1)?,
                outcome: r.s.t2,
                note: r.s.t3,
                scheduled_for: present(r.s.ts1)?,
                held_at: r.s.ts2,
                created_at: present(r.s.ts3)?,
                updated_at: present(r.s.ts4)?,
                id: r.id,
                order_id: r.order_id,
            }),
            other => {
                return Err(AppError::internal(anyhow::anyhow!(
                    "order parts: unknown part {other:?}"
                )))
            }
        }
    }
    Ok(parts)
}

/// A slot the part's table declares NOT NULL.
fn present<T>(value: Option<T>) -> AppResult<T> {
    value.ok_or_else(|| {
        AppError::internal(anyhow::anyhow!("order parts: a required column is null"))
    })
}
