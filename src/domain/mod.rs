//! Pure types and rules of the domain: order types and their statutory rules, the statutory calendar, validation
//! of a recorded order, and lifecycle status. Nothing here knows about a database, HTTP or GraphQL.

/// Declares an enum of stable codes (stored in the database, used on the API) with `as_str`, `FromStr` and `ALL`.
macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stable code stored in the database and used on the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($code => Ok($name::$variant),)+
                    other => Err(format!(concat!("unknown ", stringify!($name), " {:?}"), other)),
                }
            }
        }
    };
}

pub mod alert;
pub mod audit;
pub mod calendar;
pub mod order;
pub mod order_type;
pub mod schedule;
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
