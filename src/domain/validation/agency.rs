//! An agency as an administrator registers it.

use super::*;
use crate::codes;

/// Longest agency name.
pub const MAX_AGENCY_NAME_LEN: usize = 200;

/// An agency code: 2 to 32 characters of upper-case letters, digits and `-`, starting with a letter.
pub fn valid_agency_code(code: &str) -> bool {
    (2..=32).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
}

/// A new agency's code and name; the name trimmed.
pub fn validate_agency(code: &str, name: &str) -> Result<String, Violations> {
    let mut v = Violations::default();
    if !valid_agency_code(code) {
        v.push(
            codes::INVALID_AGENCY_CODE,
            "code",
            "an agency code is 2 to 32 characters of upper-case letters, digits and -, starting with a letter",
        );
    }
    let name = name.trim().to_string();
    if name.is_empty()
        || name.chars().count() > MAX_AGENCY_NAME_LEN
        || name.chars().any(char::is_control)
    {
        v.push(
            codes::INVALID_NAME,
            "name",
            format!("an agency name is 1 to {MAX_AGENCY_NAME_LEN} characters"),
        );
    }
    v.into_result().map(|()| name)
}
