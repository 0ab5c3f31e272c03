//! A page of orders, whole: the page and the parts asked for in one statement (`db::parts::PageQuery`), on a pooled
//! connection ([`search`]) or on the request thread's own (`search_on`, `db::reader`).

use super::assemble;
use crate::db::models::OrderRow;
use crate::db::parts::{fold_page, PageOrder, PageQuery, PageRow, Parts};
use crate::db::schema::{hearings, order_shares, orders, subject_names};
use crate::db::DbConnection;
use crate::domain::order::*;
use crate::domain::scope::{OrderCursor, OrderSearch, RowScope};
use crate::domain::OrderStatus;
use crate::error::AppResult;
use chrono::NaiveDate;
use diesel::prelude::*;

/// What a page asks for: who sees, what matches, where it starts and how many.
#[derive(Debug, Clone)]
pub struct PageAsk {
    pub scope: RowScope,
    pub filter: OrderSearch,
    /// Today in London, for the status filter.
    pub today: NaiveDate,
    pub cursor: OrderCursor,
    pub limit: i64,
    pub parts: OrderParts,
}

/// The page's statement for one backend, or `None` when nothing can match (a scope that sees nothing, or a cursor
/// past the dated orders with a filter on the last day). Written once for both backends, as
/// diesel types a boxed query by its backend.
///
/// Newest first reads by the primary key (ids are time-ordered UUIDv7); ending soonest reads the `orders_ending`
/// index on `(expires_on, id)` (or `orders_agency_ending` with a force), the dated orders and the undated ones each
/// in index order, of which the statement keeps the first `limit`. A cursor past the dated orders reads only the
/// undated; a filter on the last day reads only the dated (an order without one matches no such filter).
macro_rules! page_query {
    ($name:ident, $db:ty) => {
        fn $name(ask: &PageAsk) -> Option<PageQuery<$db>> {
            type Branch = Box<dyn diesel::query_builder::QueryFragment<$db> + Send>;
            let mut branches: Vec<Branch> = vec![];
            let limit = ask.limit;
            match &ask.cursor {
                OrderCursor::Newest(before) => {
                    let mut q = filtered!($db, ask)?;
                    if let Some(id) = before {
                        q = q.filter(orders::id.lt(id.clone()));
                    }
                    let q = q.order(orders::id.desc()).select(OrderRow::as_select());
                    branches.push(Box::new(crate::db::limit_written(q, limit)));
                }
                OrderCursor::EndingSoonest(after) => {
                    if !matches!(after, Some((None, _))) {
                        let mut dated =
                            filtered!($db, ask)?.filter(orders::expires_on.is_not_null());
                        if let Some((Some(day), id)) = after {
                            dated =
                                dated.filter(orders::expires_on.gt(*day).or(
                                    orders::expires_on.eq(*day).and(orders::id.gt(id.clone())),
                                ));
                        }
                        let q = dated
                            .order((orders::expires_on.asc(), orders::id.asc()))
                            .select(OrderRow::as_select());
                        branches.push(Box::new(crate::db::limit_written(q, limit)));
                    }
                    if ask.filter.expires_before.is_none() && ask.filter.expires_after.is_none() {
                        let mut undated = filtered!($db, ask)?.filter(orders::expires_on.is_null());
                        if let Some((None, id)) = after {
                            undated = undated.filter(orders::id.gt(id.clone()));
                        }
                        let q = undated
                            .order(orders::id.asc())
                            .select(OrderRow::as_select());
                        branches.push(Box::new(crate::db::limit_written(q, limit)));
                    }
                }
            }
            // A cursor past the dated orders with a filter on the last day: nothing can follow it.
            if branches.is_empty() {
                return None;
            }
            Some(PageQuery {
                branches,
                order: page_order(&ask.cursor),
                limit,
                parts: ask.parts,
            })
        }
    };
}

/// The orders `ask.scope` may see that match `ask.filter`, as a boxed query on `$db` to order and page; `None` when
/// the scope sees none. One clause for each filter present.
macro_rules! filtered {
    ($db:ty, $ask:expr) => {{
        let (scope, filter, today) = (&$ask.scope, &$ask.filter, $ask.today);
        let mut q = orders::table.into_boxed::<$db>();
        match scope {
            RowScope::All => {}
            RowScope::Court(code) => {
                q = q.filter(
                    orders::court_agency.eq(code.clone()).or(orders::id.eq_any(
                        hearings::table
                            .filter(hearings::court_agency.eq(code.clone()))
                            .select(hearings::order_id),
                    )),
                )
            }
            RowScope::SharedWith(code) => {
                q = q.filter(
                    orders::id.eq_any(
                        order_shares::table
                            .filter(order_shares::advocacy_agency.eq(code.clone()))
                            .filter(order_shares::revoked_at.is_null())
                            .select(order_shares::order_id),
                    ),
                )
            }
            RowScope::Nothing => return None,
        }
        if let Some(key) = &filter.subject_name_key {
            q = q.filter(
                orders::id.eq_any(
                    subject_names::table
                        .filter(subject_names::name_key.eq(key.clone()))
                        .select(subject_names::order_id),
                ),
            );
        }
        if let Some(dob) = filter.subject_date_of_birth {
            q = q.filter(orders::subject_date_of_birth.eq(dob));
        }
        if let Some(t) = filter.order_type {
            q = q.filter(orders::order_type.eq(t.as_str()));
        }
        if let Some(status) = filter.status {
            let in_force = OrderStatus::InForce.as_str();
            q = match status {
                OrderStatus::InForce => q.filter(
                    orders::status.eq(in_force).and(
                        orders::expires_on
                            .is_null()
                            .or(orders::expires_on.ge(today)),
                    ),
                ),
                OrderStatus::Expired => q.filter(
                    orders::status
                        .eq(OrderStatus::Expired.as_str())
                        .or(orders::status
                            .eq(in_force)
                            .and(orders::expires_on.lt(today))),
                ),
                other => q.filter(orders::status.eq(other.as_str())),
            };
        }
        if let Some(a) = &filter.applicant_agency {
            q = q.filter(orders::applicant_agency.eq(a.clone()));
        }
        if let Some(c) = &filter.court_agency {
            q = q.filter(orders::court_agency.eq(c.clone()));
        }
        if let Some(d) = filter.expires_before {
            q = q.filter(orders::expires_on.lt(d));
        }
        if let Some(d) = filter.expires_after {
            q = q.filter(orders::expires_on.gt(d));
        }
        if let Some(s) = filter.service_status {
            q = q.filter(orders::service_status.eq(s.as_str()));
        }
        Some(q)
    }};
}

/// The order of the pages a cursor walks.
fn page_order(cursor: &OrderCursor) -> PageOrder {
    match cursor {
        OrderCursor::Newest(_) => PageOrder::Newest,
        OrderCursor::EndingSoonest(_) => PageOrder::EndingSoonest,
    }
}

page_query!(page_pg, diesel::pg::Pg);
page_query!(page_sqlite, diesel::sqlite::Sqlite);

/// One page of orders in the order `ask.cursor` asks for, strictly after it, whole: the page with its parts in one
/// statement, then the histories asked for, if any.
pub fn search(conn: &mut DbConnection, ask: &PageAsk) -> AppResult<Vec<OrderRecord>> {
    let rows: Vec<PageRow> = match conn {
        DbConnection::Pg(c) => match page_pg(ask) {
            Some(q) => q.load(c)?,
            None => return Ok(vec![]),
        },
        DbConnection::Sqlite(c) => match page_sqlite(ask) {
            Some(q) => q.load(c)?,
            None => return Ok(vec![]),
        },
    };
    let (rows, loaded) = fold_page(rows, page_order(&ask.cursor))?;
    assemble::hydrate_loaded(conn, rows, Some(loaded), ask.parts)
}

/// As [`search`], without the blocking pool on PostgreSQL (as `find_parts_by_reference_on`): the statement on this
/// thread's connection (`db::reader`), pipelined with the worker's other reads, then, only for a page that needs
/// more (a history asked for, a replaced or replacing order, an agency not read yet), the rest on the pool. Without
/// such a connection now, and on SQLite, the whole page is read on the pool.
pub async fn search_on(
    db: &crate::db::Database,
    reader: &crate::db::reader::Reader,
    ask: PageAsk,
) -> AppResult<Vec<OrderRecord>> {
    use crate::db::reader::Reader;
    let rows = match reader {
        Reader::Postgres(r) => r
            .read(|conn| {
                let query = page_pg(&ask);
                async move {
                    match query {
                        Some(q) => diesel_async::RunQueryDsl::load(q, &mut &*conn).await,
                        None => Ok(vec![]),
                    }
                }
            })
            .await
            .transpose()?,
        // On SQLite a page stays on the pool: the statement would run on the worker's thread, and a page can read
        // far more than a lookup, holding up the worker's other requests meanwhile.
        Reader::Sqlite(_) => None,
    };
    let Some(rows) = rows else {
        return db.run(move |conn| search(conn, &ask)).await;
    };
    let (rows, loaded): (Vec<OrderRow>, Parts) = fold_page(rows, page_order(&ask.cursor))?;
    let parts = ask.parts;
    match assemble::assemble_all(rows, loaded, parts, |code| db.known_agency(code))? {
        Ok(orders) => Ok(orders),
        Err((rows, loaded)) => {
            db.run(move |conn| assemble::hydrate_loaded(conn, rows, Some(loaded), parts))
                .await
        }
    }
}
