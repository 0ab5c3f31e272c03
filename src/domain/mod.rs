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
pub mod application;
pub mod audit;
pub mod calendar;
pub mod endpoint;
pub mod order;
pub mod order_type;
pub mod schedule;
pub mod scope;
pub mod statistics;
pub mod status;
pub mod subject;
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

/// Whether two orders' subjects are the same person, by the rule used wherever orders are matched to a person:
/// the same date of birth (or none on both) and at least one name in common once normalised by [`name_key`].
pub fn same_subject(
    (names_a, born_a): (&[String], Option<chrono::NaiveDate>),
    (names_b, born_b): (&[String], Option<chrono::NaiveDate>),
) -> bool {
    born_a == born_b
        && names_a
            .iter()
            .map(|n| name_key(n))
            .any(|a| !a.is_empty() && names_b.iter().any(|b| name_key(b) == a))
}

#[cfg(test)]
mod tests {
    use super::{name_key, same_subject};

    #[test]
    fn the_same_subject_shares_a_normalised_name_and_the_date_of_birth() {
        let born = chrono::NaiveDate::from_ymd_opt(1980, 5, 1);
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = names(&["Sam O'Brien", "Sam Smith"]);
        assert!(same_subject((&a, born), (&names(&["sam o brien"]), born)));
        assert!(!same_subject((&a, born), (&names(&["Sam O'Brien"]), None)));
        assert!(!same_subject((&a, born), (&names(&["Alex O'Brien"]), born)));
        assert!(!same_subject(
            (&names(&["  "]), None),
            (&names(&[""]), None)
        ));
    }

    #[test]
    fn name_keys_ignore_case_punctuation_and_spacing() {
        assert_eq!(name_key("  O'Brien,  Sam "), "o brien sam");
        assert_eq!(name_key("ZOË  Smith-Jones"), "zoë smith jones");
        assert_eq!(name_key("!!!"), "");
    }
}
