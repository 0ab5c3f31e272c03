//! A page of orders with their parts in one statement: the page's rows joined to the parts union, as a lookup by
//! reference joins one order's row (`lookup`). A list page is then one round trip, wherever it runs.

use super::{collect, walk_union, PartRow, Parts};
use crate::db::models::OrderRow;
use crate::error::AppResult;
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};

pub use super::lookup::LookupRow as PageRow;

/// The order a page is in, which the statement keeps when it joins the parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageOrder {
    /// Newest first: by id, descending (ids are time-ordered).
    Newest,
    /// By last day, earliest first, then the orders without one; ties by id.
    EndingSoonest,
}

/// The page's statement, its rows in no order ([`fold_page`] sorts them). Its text depends on the caller's kind of
/// scope, the filters present, the page's order, whether it has a cursor, its limit and the parts asked for (the
/// values are bound), so diesel keeps each prepared per connection.
///
/// PostgreSQL reads each order's parts in a `LATERAL` join on its id, after the page's limit: the plan is the page's
/// index scan, then the parts' branches for each of its orders. SQLite, which has no `LATERAL`, reads the page as a
/// common table expression and the parts of its orders by `order_id IN (SELECT id FROM o)`.
pub struct PageQuery<DB: Backend> {
    /// Each a `SELECT` of the order columns, ordered and limited (written in the text): one, or for
    /// [`PageOrder::EndingSoonest`] the dated orders and the undated ones, of which the first `limit` are kept.
    pub branches: Vec<Box<dyn QueryFragment<DB> + Send>>,
    pub order: PageOrder,
    pub limit: i64,
    pub parts: crate::domain::order::OrderParts,
}

impl<DB: Backend> QueryId for PageQuery<DB> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB: Backend> Query for PageQuery<DB> {
    type SqlType = super::lookup::LookupTypes;
}

impl<DB: Backend, C> RunQueryDsl<C> for PageQuery<DB> {}

const PART_COLUMNS: &str =
    "SELECT o.*, p.part, p.id AS part_id, p.i1, p.i2, p.i3, p.t1, p.t2, p.t3, p.t4, p.t5, \
p.d1, p.ts1, p.ts2, p.ts3, p.ts4 FROM ";

impl<DB: Backend> PageQuery<DB> {
    /// The page's sort keys on the rows of `table`.
    fn keys(&self, out: &mut AstPass<'_, '_, DB>, table: &str) {
        match self.order {
            PageOrder::Newest => out.push_sql(&format!("{table}.id DESC")),
            PageOrder::EndingSoonest => out.push_sql(&format!(
                "({table}.expires_on IS NULL), {table}.expires_on, {table}.id"
            )),
        }
    }

    /// The page's orders: its one branch, or the first `limit` of its branches' rows together.
    fn walk_page<'b>(&'b self, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if let [only] = self.branches.as_slice() {
            return only.walk_ast(out.reborrow());
        }
        out.push_sql("SELECT * FROM (");
        for (i, branch) in self.branches.iter().enumerate() {
            if i > 0 {
                out.push_sql(" UNION ALL ");
            }
            out.push_sql("SELECT * FROM (");
            branch.walk_ast(out.reborrow())?;
            out.push_sql(&format!(") AS b{i}"));
        }
        out.push_sql(") AS b ORDER BY ");
        self.keys(out, "b");
        out.push_sql(&format!(" LIMIT {}", self.limit));
        Ok(())
    }
}

impl QueryFragment<diesel::pg::Pg> for PageQuery<diesel::pg::Pg> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        out.push_sql(PART_COLUMNS);
        out.push_sql("(");
        self.walk_page(&mut out)?;
        out.push_sql(") o LEFT JOIN LATERAL (");
        walk_union(&mut out, self.parts, |out| {
            out.push_sql("= o.id");
            Ok(())
        })?;
        out.push_sql(") p ON TRUE");
        Ok(())
    }
}

impl QueryFragment<diesel::sqlite::Sqlite> for PageQuery<diesel::sqlite::Sqlite> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::sqlite::Sqlite>) -> QueryResult<()> {
        out.push_sql("WITH o AS MATERIALIZED (");
        self.walk_page(&mut out)?;
        out.push_sql(") ");
        out.push_sql(PART_COLUMNS);
        out.push_sql("o LEFT JOIN (");
        walk_union(&mut out, self.parts, |out| {
            out.push_sql("IN (SELECT id FROM o)");
            Ok(())
        })?;
        out.push_sql(") p ON p.order_id = o.id");
        Ok(())
    }
}

/// The page's orders in its order, and their parts, out of the statement's rows, which come in no order: sorting
/// them here costs less than PostgreSQL's sort of the joined rows did.
pub fn fold_page(rows: Vec<PageRow>, order: PageOrder) -> AppResult<(Vec<OrderRow>, Parts)> {
    let mut orders: Vec<OrderRow> = Vec::new();
    let mut parts = Vec::with_capacity(rows.len());
    for r in rows {
        if let (Some(part), Some(id)) = (r.part, r.part_id) {
            parts.push(PartRow {
                part,
                id,
                order_id: r.order.id.clone(),
                s: r.s,
            });
        }
        if !orders.iter().rev().any(|o| o.id == r.order.id) {
            orders.push(r.order);
        }
    }
    match order {
        PageOrder::Newest => orders.sort_unstable_by(|a, b| b.id.cmp(&a.id)),
        PageOrder::EndingSoonest => orders.sort_unstable_by(|a, b| {
            (a.expires_on.is_none(), a.expires_on, &a.id).cmp(&(
                b.expires_on.is_none(),
                b.expires_on,
                &b.id,
            ))
        }),
    }
    Ok((orders, collect(parts)?))
}
