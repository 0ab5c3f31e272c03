//! A breach as a police force reports it.

use super::*;
use crate::codes;
use chrono::{DateTime, Duration, Utc};

/// How far in the future a reported moment may be, for clock skew between systems.
pub const OCCURRED_AT_FUTURE_TOLERANCE: Duration = Duration::minutes(5);
/// Longest force incident reference.
pub const MAX_EXTERNAL_REF_LEN: usize = 64;

/// A breach report's own fields, trimmed and with its condition ids sorted and deduplicated.
#[derive(Debug, Clone)]
pub struct CheckedBreach {
    pub external_ref: String,
    pub description: String,
    pub condition_ids: Vec<String>,
}

/// The rules a breach report must meet on its own; `now` is the server's time.
pub fn validate_breach_report(
    external_ref: &str,
    description: &str,
    occurred_at: DateTime<Utc>,
    condition_ids: &[String],
    now: DateTime<Utc>,
) -> Result<CheckedBreach, Violations> {
    let mut v = Violations::default();
    let external_ref = external_ref.trim().to_string();
    if external_ref.is_empty()
        || external_ref.chars().count() > MAX_EXTERNAL_REF_LEN
        || external_ref.chars().any(char::is_control)
    {
        v.push(
            codes::INVALID_EXTERNAL_REF,
            "externalRef",
            format!("externalRef is 1 to {MAX_EXTERNAL_REF_LEN} characters"),
        );
    }
    let description = description.trim().to_string();
    if description.is_empty() || description.chars().count() > MAX_NOTE_LEN {
        v.push(
            codes::INVALID_TEXT,
            "description",
            format!("a description is 1 to {MAX_NOTE_LEN} characters"),
        );
    }
    if occurred_at > now + OCCURRED_AT_FUTURE_TOLERANCE {
        v.push(
            codes::OCCURRED_AT_IN_FUTURE,
            "occurredAt",
            "occurredAt is in the future",
        );
    }
    let mut condition_ids = condition_ids.to_vec();
    condition_ids.sort();
    condition_ids.dedup();
    if condition_ids.len() > MAX_CONDITIONS {
        v.push(
            codes::TOO_MANY_ITEMS,
            "conditionIds",
            format!("at most {MAX_CONDITIONS} conditions"),
        );
    }
    v.into_result().map(|()| CheckedBreach {
        external_ref,
        description,
        condition_ids,
    })
}
