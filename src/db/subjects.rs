//! The orders of one subject, by the match rule of `domain::subject`, and what a history needs of them.

use super::schema::{breaches, orders, protected_persons, subject_names};
use super::DbConnection;
use crate::error::AppResult;
use chrono::NaiveDate;
use diesel::prelude::*;

/// The ids of the orders whose subject has this date of birth and one of these normalised names.
pub fn matching_orders(
    conn: &mut DbConnection,
    date_of_birth: NaiveDate,
    name_keys: &[String],
) -> AppResult<Vec<String>> {
    Ok(orders::table
        .filter(orders::subject_date_of_birth.eq(date_of_birth))
        .filter(
            orders::id.eq_any(
                subject_names::table
                    .filter(subject_names::name_key.eq_any(name_keys))
                    .select(subject_names::order_id),
            ),
        )
        .order(orders::id)
        .select(orders::id)
        .load(conn)?)
}

/// How many breaches these orders have.
pub fn breach_count(conn: &mut DbConnection, order_ids: &[String]) -> AppResult<usize> {
    let n: i64 = breaches::table
        .filter(breaches::order_id.eq_any(order_ids))
        .count()
        .get_result(conn)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// The people these orders protect: name and date of birth, nothing else.
pub fn protected_people(
    conn: &mut DbConnection,
    order_ids: &[String],
) -> AppResult<Vec<(String, Option<NaiveDate>)>> {
    Ok(protected_persons::table
        .filter(protected_persons::order_id.eq_any(order_ids))
        .select((protected_persons::name, protected_persons::date_of_birth))
        .load(conn)?)
}
