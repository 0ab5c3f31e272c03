//! Reading orders whole: by reference, id or search, with their parts and the histories asked for, in a fixed number
//! of statements whatever the number of orders. The top of `db`: it uses the table modules.

mod assemble;

use crate::db::models::*;
use crate::db::schema::{order_shares, orders, subject_names};
use crate::db::DbConnection;
use crate::domain::order::*;
use crate::domain::scope::{OrderCursor, OrderSearch, RowScope};
use crate::domain::OrderStatus;
use crate::error::AppResult;
use assemble::hydrate_parts;
use chrono::NaiveDate;
use diesel::prelude::*;
use std::collections::HashMap;

type Db = <DbConnection as Connection>::Backend;
/// One page of orders in the order `cursor` asks for, strictly after it: newest first (ids are time-ordered
/// UUIDv7; the primary key), or ending soonest (the `orders_ending` index on `(expires_on, id)`: the orders with a
/// last day first, then those without one, each read in index order).
pub fn search(
    conn: &mut DbConnection,
    scope: &RowScope,
    filter: &OrderSearch,
    today: NaiveDate,
    cursor: &OrderCursor,
    limit: i64,
    parts: OrderParts,
) -> AppResult<Vec<OrderRecord>> {
    let Some(q) = filtered(scope, filter, today) else {
        return Ok(vec![]);
    };
    let rows = match cursor {
        OrderCursor::Newest(before) => {
            let mut q = q;
            if let Some(id) = before {
                q = q.filter(orders::id.lt(id.clone()));
            }
            super::limit_written(
                q.order(orders::id.desc()).select(OrderRow::as_select()),
                limit,
            )
            .load(conn)?
        }
        OrderCursor::EndingSoonest(after) => {
            let mut rows = vec![];
            // Past the dated orders already: only undated ones are left.
            if !matches!(after, Some((None, _))) {
                let mut dated = q.filter(orders::expires_on.is_not_null());
                if let Some((Some(day), id)) = after {
                    dated = dated.filter(
                        orders::expires_on
                            .gt(*day)
                            .or(orders::expires_on.eq(*day).and(orders::id.gt(id.clone()))),
                    );
                }
                let q = dated
                    .order((orders::expires_on.asc(), orders::id.asc()))
                    .select(OrderRow::as_select());
                rows = super::limit_written(q, limit).load(conn)?;
            }
            if (rows.len() as i64) < limit {
                let Some(q) = filtered(scope, filter, today) else {
                    return Ok(vec![]);
                };
                let mut undated = q.filter(orders::expires_on.is_null());
                if let Some((None, id)) = after {
                    undated = undated.filter(orders::id.gt(id.clone()));
                }
                let q = undated
                    .order(orders::id.asc())
                    .select(OrderRow::as_select());
                rows.extend(super::limit_written(q, limit - rows.len() as i64).load(conn)?);
            }
            rows
        }
    };
    hydrate_parts(conn, rows, parts)
}

/// The orders `scope` may see that match `filter`, as a query to order and page; `None` when the scope sees none.
/// Longer than 80 lines: one query built from each optional filter, a clause each.
fn filtered(
    scope: &RowScope,
    filter: &OrderSearch,
    today: NaiveDate,
) -> Option<orders::BoxedQuery<'static, Db>> {
    let mut q = orders::table.into_boxed::<Db>();
    match scope {
        RowScope::All => {}
        RowScope::Court(code) => {
            q = q.filter(
                orders::court_agency.eq(code.clone()).or(orders::id.eq_any(
                    super::schema::hearings::table
                        .filter(super::schema::hearings::court_agency.eq(code.clone()))
                        .select(super::schema::hearings::order_id),
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
}

/// The whole order with this id.
pub fn find_by_id(conn: &mut DbConnection, id: &str) -> AppResult<Option<OrderRecord>> {
    let row = orders::table
        .find(id)
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        Some(r) => hydrate(conn, vec![r])?.pop(),
        None => None,
    })
}

/// The whole orders with these ids, in the order given (missing ones left out).
pub fn find_by_ids(conn: &mut DbConnection, ids: &[String]) -> AppResult<Vec<OrderRecord>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let rows = orders::table
        .filter(orders::id.eq_any(ids))
        .select(OrderRow::as_select())
        .load(conn)?;
    let mut by_id: HashMap<String, OrderRecord> = hydrate(conn, rows)?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// The whole order with this reference.
pub fn find_by_reference(
    conn: &mut DbConnection,
    reference: &str,
) -> AppResult<Option<OrderRecord>> {
    find_parts_by_reference(conn, reference, OrderParts::ALL)
}

/// The order with this reference, with the histories `parts` asks for.
pub fn find_parts_by_reference(
    conn: &mut DbConnection,
    reference: &str,
    parts: OrderParts,
) -> AppResult<Option<OrderRecord>> {
    // The row and the parts asked for in one statement; the histories asked for, if any, after it.
    let Some((row, loaded)) = crate::db::parts::order_by_reference(conn, reference, parts)? else {
        return Ok(None);
    };
    Ok(assemble::hydrate_loaded(conn, vec![row], Some(loaded), parts)?.pop())
}

/// As [`find_parts_by_reference`], without the blocking pool: the statement on this thread's connection
/// (`db::reader`), then, only for an order that needs more (a history asked for, a replaced or replacing order, an
/// agency not read yet), the rest on the pool. Without such a connection now (on SQLite, also a statement that
/// would wait or fails), the whole lookup runs on the pool.
pub async fn find_parts_by_reference_on(
    db: &crate::db::Database,
    reader: &crate::db::reader::Reader,
    reference: &str,
    parts: OrderParts,
) -> AppResult<Option<OrderRecord>> {
    use crate::db::reader::Reader;
    let rows =
        match reader {
            Reader::Postgres(r) => r
                .read(|conn| {
                    let reference = reference.to_owned();
                    async move {
                        crate::db::parts::order_by_reference_pg(&conn, &reference, parts).await
                    }
                })
                .await
                .transpose()?,
            Reader::Sqlite(r) => {
                r.read(|c| crate::db::parts::order_by_reference_sqlite(c, reference, parts))
            }
        };
    // No connection of the thread's own now (or, on SQLite, a statement that would wait): the pool.
    let Some(rows) = rows else {
        let reference = reference.to_owned();
        return db
            .run(move |conn| find_parts_by_reference(conn, &reference, parts))
            .await;
    };
    let Some((row, loaded)) = crate::db::parts::fold(rows)? else {
        return Ok(None);
    };
    match assemble::assemble_loaded(row, loaded, parts, |code| db.known_agency(code))? {
        Ok(order) => Ok(Some(order)),
        Err((row, loaded)) => {
            db.run(move |conn| {
                Ok(assemble::hydrate_loaded(conn, vec![row], Some(loaded), parts)?.pop())
            })
            .await
        }
    }
}

/// Loads everything the rows' orders carry, in a fixed number of statements whatever the number of rows.
fn hydrate(conn: &mut DbConnection, rows: Vec<OrderRow>) -> AppResult<Vec<OrderRecord>> {
    hydrate_parts(conn, rows, OrderParts::ALL)
}
