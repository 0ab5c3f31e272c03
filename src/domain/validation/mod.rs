//! Validation of what callers send, decided from the input alone: an order as recorded (`order`), a breach report
//! (`breach`), a notification (`notification`), an agency (`agency`). Rules that need stored data (agencies, the
//! order replaced, the order's dates) live in the service.
//!
//! Messages never contain personal data: they name fields, types and dates of the order, never a person's name.

use crate::codes;
use chrono::{Datelike, NaiveDate};

mod agency;
mod breach;
mod notification;
mod order;

pub use agency::*;
pub use breach::*;
pub use notification::*;
pub use order::*;

pub const MAX_NAME_LEN: usize = 200;
pub const MAX_NAMES: usize = 20;
pub const MAX_PROTECTED_PERSONS: usize = 20;
pub const MAX_CONDITIONS: usize = 100;
pub const MAX_CONDITION_TEXT_LEN: usize = 4000;
pub const MAX_CONTACT_LEN: usize = 500;
pub const MAX_REFERENCE_LEN: usize = 64;
pub const MAX_NOTE_LEN: usize = 4000;

/// One broken rule: a stable code a client can match on, the input field it concerns, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

/// Every rule an input breaks, in a stable order (so the first is always the same one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    pub fn push(
        &mut self,
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.0.push(Violation {
            code,
            field: field.into(),
            message: message.into(),
        });
    }
    /// Whether a violation already names `field`: a later rule about the same field is then not worth saying.
    pub fn names_field(&self, field: &str) -> bool {
        self.0.iter().any(|v| v.field == field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn codes(&self) -> Vec<&'static str> {
        self.0.iter().map(|v| v.code).collect()
    }
    /// `Ok(())` when nothing was broken.
    pub fn into_result(self) -> Result<(), Violations> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

/// Whole years of age on `on`.
pub fn age_on(date_of_birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - date_of_birth.year();
    if (on.month(), on.day()) < (date_of_birth.month(), date_of_birth.day()) {
        age -= 1;
    }
    age
}

/// The stored form of a case reference: trimmed and upper-case, so `wmc/spo/1` finds `WMC/SPO/1` and the two can
/// never be recorded as different orders.
pub fn canonical_reference(reference: &str) -> String {
    reference.trim().to_ascii_uppercase()
}

/// A case reference: 1 to 64 characters of letters, digits and `/ - _ .`, starting with a letter or digit.
pub fn validate_reference(reference: &str, field: &str, out: &mut Violations) {
    let ok = !reference.is_empty()
        && reference.len() <= MAX_REFERENCE_LEN
        && reference
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && reference
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.".contains(c));
    if !ok {
        out.push(
            codes::INVALID_REFERENCE,
            field,
            format!(
                "a reference is 1 to {MAX_REFERENCE_LEN} characters of letters, digits and / - _ . starting with a letter or digit"
            ),
        );
    }
}

/// References belong to the agency that issues them: a new order's reference begins with the issuing agency's code
/// and a `/` (`WMC/SPO/1` for Westminster Magistrates' Court, `MET/DVPN/77` for the Metropolitan Police). So no
/// agency can take, or learn of, another's reference: `REFERENCE_TAKEN` only ever speaks of the caller's own.
/// `reference` is in canonical form.
pub fn validate_reference_namespace(reference: &str, issuer: &str, out: &mut Violations) {
    let in_namespace = reference
        .strip_prefix(issuer)
        .is_some_and(|rest| rest.len() > 1 && rest.starts_with('/'));
    if !in_namespace {
        out.push(
            codes::REFERENCE_OUTSIDE_NAMESPACE,
            "reference",
            format!("a reference recorded by {issuer} begins with {issuer}/ (for example {issuer}/SPO/1)"),
        );
    }
}

/// A free-text note or reason: optional, bounded.
pub fn check_note(note: Option<&str>, field: &str, out: &mut Violations) {
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_LEN) {
        out.push(
            codes::TEXT_TOO_LONG,
            field,
            format!("at most {MAX_NOTE_LEN} characters"),
        );
    }
}

pub(crate) fn check_name(name: &str, field: &str, out: &mut Violations) {
    let len = name.trim().chars().count();
    if len == 0
        || len > MAX_NAME_LEN
        || name.chars().any(char::is_control)
        || super::name_key(name).is_empty()
    {
        out.push(
            codes::INVALID_NAME,
            field,
            format!("a name is 1 to {MAX_NAME_LEN} characters with at least one letter or digit"),
        );
    }
}

pub(crate) fn check_date_of_birth(
    dob: Option<NaiveDate>,
    field: &str,
    today: NaiveDate,
    out: &mut Violations,
) {
    if let Some(dob) = dob {
        if dob > today {
            out.push(
                codes::DATE_OF_BIRTH_IN_FUTURE,
                field,
                "a date of birth cannot be in the future",
            );
        } else if age_on(dob, today) > 130 {
            out.push(
                codes::DATE_OF_BIRTH_IMPLAUSIBLE,
                field,
                "a date of birth more than 130 years ago is not plausible",
            );
        }
    }
}
