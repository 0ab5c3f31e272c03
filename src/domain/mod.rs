//! Pure types and rules of the domain: order types and their statutory rules, the statutory calendar, validation
//! of a recorded order, and lifecycle status. Nothing here knows about a database, HTTP or GraphQL.

pub mod calendar;
pub mod order;
pub mod order_type;
pub mod status;
pub mod validation;

pub use order_type::{Issuer, OrderType, Term, TypeRules, SPO_EARLY_DISCHARGE_NEEDS_CONSENT};
pub use status::{
    AgencyKind, ConditionKind, OrderEvent, OrderStatus, ServiceMethod, ServiceStatus,
};
pub use validation::{Violation, Violations};

/// Normalises a personal name for matching: case-folded, punctuation treated as a space, spaces collapsed.
/// "O'Brien,  Sam" and "o brien sam" match; the stored display name is kept as given.
pub fn name_key(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .flat_map(char::to_lowercase)
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::name_key;

    #[test]
    fn name_keys_ignore_case_punctuation_and_spacing() {
        assert_eq!(name_key("  O'Brien,  Sam "), "o brien sam");
        assert_eq!(name_key("ZOË  Smith-Jones"), "zoë smith jones");
        assert_eq!(name_key("!!!"), "");
    }
}
