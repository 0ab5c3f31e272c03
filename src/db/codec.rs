//! How values are stored: codes parsed back into their enums, instants truncated to what both backends keep, new
//! ids. The bottom of `db`: every table module uses it.

use crate::error::{AppError, AppResult};
use chrono::{DateTime, SubsecRound, Utc};
use std::str::FromStr;

/// Parses a code stored in the database; a value the code does not know is data corruption, an internal error.
pub fn parse_code<T: FromStr<Err = String>>(value: &str, column: &str) -> AppResult<T> {
    value
        .parse()
        .map_err(|e: String| AppError::internal(anyhow::anyhow!("bad value in {column}: {e}")))
}

/// PostgreSQL keeps microseconds; SQLite keeps whatever it is given. Truncate so both return the same instant.
pub fn truncate_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

pub(super) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
