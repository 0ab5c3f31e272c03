//! Reading orders whole: by reference, id or search, with their parts and the histories asked for, in a fixed number
//! of statements whatever the number of orders. The top of `db`: it uses the table modules.

mod assemble;
mod page;

pub use page::{search, search_on, PageAsk};

use crate::db::models::*;
use crate::db::schema::orders;
use crate::db::DbConnection;
use crate::domain::order::*;
use crate::error::AppResult;
use assemble::hydrate_parts;
use diesel::prelude::*;
use std::collections::HashMap;

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
    match assemble::assemble_all(vec![row], loaded, parts, |code| db.known_agency(code))? {
        Ok(order) => Ok(order.into_iter().next()),
        Err((rows, loaded)) => {
            db.run(move |conn| Ok(assemble::hydrate_loaded(conn, rows, Some(loaded), parts)?.pop()))
                .await
        }
    }
}

/// Loads everything the rows' orders carry, in a fixed number of statements whatever the number of rows.
fn hydrate(conn: &mut DbConnection, rows: Vec<OrderRow>) -> AppResult<Vec<OrderRecord>> {
    hydrate_parts(conn, rows, OrderParts::ALL)
}
