//! Whose figures a row holds, and the row each fact counts in.

use super::{OrderType, Quarter, Row};
use std::collections::HashMap;

/// Whose figures a row holds: a force's (the force that applied for the orders), or a court's (the court that made
/// them or that an application went to).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GroupBy {
    #[default]
    Force,
    Court,
}

/// A row's force or court (none: an application no court has seen), order type and quarter.
pub(in crate::domain::statistics) type Key<'a> = (Option<&'a str>, &'static str, Quarter);

impl GroupBy {
    /// The force or court a fact of `force` and `court` is counted under.
    fn agency<'a>(self, force: &'a str, court: &'a Option<String>) -> Option<&'a str> {
        match self {
            GroupBy::Force => Some(force),
            GroupBy::Court => court.as_deref(),
        }
    }

    pub(in crate::domain::statistics) fn key<'a>(
        self,
        force: &'a str,
        court: &'a Option<String>,
        t: OrderType,
        q: Quarter,
    ) -> Key<'a> {
        (self.agency(force, court), t.as_str(), q)
    }
}

/// The row of a key, made empty when first asked for.
pub(in crate::domain::statistics) fn row<'r, 'a>(
    rows: &'r mut HashMap<Key<'a>, Row>,
    by: GroupBy,
    key: Key<'a>,
) -> &'r mut Row {
    let order_type = key.1;
    let quarter = key.2;
    let agency = key.0.map(String::from);
    rows.entry(key).or_insert_with(|| Row {
        force: agency.clone().filter(|_| by == GroupBy::Force),
        court: agency.filter(|_| by == GroupBy::Court),
        order_type: order_type.parse().ok(),
        quarter: quarter.to_string(),
        ..Row::default()
    })
}
