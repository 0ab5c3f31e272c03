//! An order as a court (or, for notices, a police force) asks to record it, and the rules of DOMAIN.md ("Validation
//! when an order is recorded") that can be decided from it alone.

use super::*;
use crate::codes;
use crate::domain::order::SoaNotification;
use crate::domain::{ConditionKind, Issuer, OrderType, Term};

#[derive(Debug, Clone)]
pub struct PersonDraft {
    pub name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub contact: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ConditionDraft {
    pub kind: ConditionKind,
    pub text: String,
    pub expires_on: Option<NaiveDate>,
}

/// An order as a court (or, for notices, a police force) asks to record it.
#[derive(Debug, Clone)]
pub struct OrderDraft {
    pub reference: String,
    pub order_type: OrderType,
    pub subject_names: Vec<String>,
    pub subject_date_of_birth: Option<NaiveDate>,
    pub protected_persons: Vec<PersonDraft>,
    pub made_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub conditions: Vec<ConditionDraft>,
    /// Made without notice to the subject (a court's order only).
    pub without_notice: bool,
    /// The subject's Sexual Offences Act 2003 Part 2 notification (SPOs, interim SPOs, DAPOs and SHPOs).
    pub soa_notification: Option<SoaNotification>,
    /// A DAPO having effect until an event occurs (DA Act 2021 s38(3)), as the order words it.
    pub until_event: Option<String>,
}

/// Validates a whole new order. `today` is the current date in England and Wales.
pub fn validate_order(draft: &OrderDraft, today: NaiveDate) -> Result<(), Violations> {
    let mut out = Violations::default();
    validate_reference(&draft.reference, "reference", &mut out);

    check_subject(draft, today, &mut out);
    check_protected_persons(draft, today, &mut out);
    if draft.made_on > today {
        out.push(
            codes::MADE_ON_IN_FUTURE,
            "madeOn",
            format!("madeOn {} is after today ({today})", draft.made_on),
        );
    }
    check_soa_notification(
        draft.order_type,
        draft.made_on,
        draft.soa_notification,
        today,
        &mut out,
    );
    if draft.without_notice && draft.order_type.rules().issuer == Issuer::Police {
        out.push(
            codes::WITHOUT_NOTICE_NOT_APPLICABLE,
            "withoutNotice",
            "a police notice is given to the person: it is never made without notice",
        );
    }
    check_electronic_monitoring(draft, &mut out);
    check_until_event(draft, &mut out);
    validate_terms(
        draft.order_type,
        draft.made_on,
        draft.expires_on,
        &draft.conditions,
        &mut out,
    );
    out.into_result()
}

/// The rules on an order's term and conditions, shared by grant, variation and renewal.
pub fn validate_terms(
    order_type: OrderType,
    made_on: NaiveDate,
    expires_on: Option<NaiveDate>,
    conditions: &[ConditionDraft],
    out: &mut Violations,
) {
    let rules = order_type.rules();
    match expires_on {
        None if rules.end_date_required => out.push(
            codes::END_DATE_REQUIRED,
            "expiresOn",
            format!(
                "a {order_type} must have a fixed end date ({})",
                rules.statute
            ),
        ),
        None => {}
        Some(end) if end < made_on => out.push(
            codes::END_BEFORE_MADE,
            "expiresOn",
            format!("expiresOn {end} is before the day the order was made ({made_on})"),
        ),
        Some(end) => {
            if let Some(min) = rules.min_term {
                let shortest = min.last_day(made_on);
                if end < shortest {
                    out.push(
                        codes::TERM_TOO_SHORT,
                        "expiresOn",
                        format!(
                            "a {order_type} lasts at least {} beginning with the day made, so it cannot end before {shortest} ({})",
                            describe(min),
                            rules.statute
                        ),
                    );
                }
            }
            if let Some(max) = rules.max_term {
                let longest = max.last_day(made_on);
                if end > longest {
                    out.push(
                        codes::TERM_TOO_LONG,
                        "expiresOn",
                        format!(
                            "a {order_type} lasts at most {} beginning with the day made, so it must end by {longest} ({})",
                            describe(max),
                            rules.statute
                        ),
                    );
                }
            }
        }
    }

    check_conditions(made_on, expires_on, conditions, out);
    for (i, c) in conditions.iter().enumerate() {
        if c.kind == ConditionKind::ElectronicMonitoring && order_type != OrderType::Dapo {
            out.push(
                codes::ELECTRONIC_MONITORING_NOT_APPLICABLE,
                format!("conditions[{i}].kind"),
                "only a DAPO may impose an electronic monitoring requirement (Domestic Abuse Act 2021 s38)",
            );
        }
    }
}

/// A DAPO may not provide for an electronic monitoring requirement to have effect for more than 12 months (Domestic
/// Abuse Act 2021 s38(5), read in the Act's text): counted as 12 months beginning with the day the order is made. A
/// variation may provide otherwise (s38(6)), so this is checked when the order is made only.
fn check_electronic_monitoring(draft: &OrderDraft, out: &mut Violations) {
    // 12 months, as a year: to the day before the anniversary (a leap day's taken as 1 March, as `Term` does).
    let last = Term::Years(1).last_day(draft.made_on);
    for (i, c) in draft.conditions.iter().enumerate() {
        if c.kind != ConditionKind::ElectronicMonitoring || draft.order_type != OrderType::Dapo {
            continue;
        }
        if c.expires_on.is_none_or(|end| end > last) {
            out.push(
                codes::ELECTRONIC_MONITORING_TOO_LONG,
                format!("conditions[{i}].expiresOn"),
                format!("an electronic monitoring requirement has effect for at most 12 months: give an end on or before {last} (Domestic Abuse Act 2021 s38(5))"),
            );
        }
    }
}

fn describe(term: Term) -> String {
    match term {
        Term::Days(n) => format!("{n} days"),
        Term::Years(n) => format!("{n} years"),
    }
}

/// The subject: one to `MAX_NAMES` names, a plausible date of birth, and the minimum age the order type has.
fn check_subject(draft: &OrderDraft, today: NaiveDate, out: &mut Violations) {
    let rules = draft.order_type.rules();
    if draft.subject_names.is_empty() {
        out.push(
            codes::SUBJECT_NAME_REQUIRED,
            "subject.names",
            "the subject needs at least one name",
        );
    }
    if draft.subject_names.len() > MAX_NAMES {
        out.push(
            codes::TOO_MANY_ITEMS,
            "subject.names",
            format!("at most {MAX_NAMES} names"),
        );
    }
    for (i, name) in draft.subject_names.iter().enumerate() {
        check_name(name, &format!("subject.names[{i}]"), out);
    }
    check_date_of_birth(
        draft.subject_date_of_birth,
        "subject.dateOfBirth",
        today,
        out,
    );
    if let Some(min_age) = rules.subject_min_age {
        match draft.subject_date_of_birth {
            None => out.push(
                codes::SUBJECT_DATE_OF_BIRTH_REQUIRED,
                "subject.dateOfBirth",
                format!("a {} needs the subject's date of birth to check they are {min_age} or over", draft.order_type),
            ),
            Some(dob) if age_on(dob, draft.made_on) < min_age as i32 => out.push(
                codes::SUBJECT_UNDER_MINIMUM_AGE,
                "subject.dateOfBirth",
                format!("a {} can only be given to a subject aged {min_age} or over on the day it is made", draft.order_type),
            ),
            Some(_) => {}
        }
    }
}

/// The protected persons: one to `MAX_PROTECTED_PERSONS`, each with a name, a plausible date of birth, a short
/// contact note, and the minimum age the order type has.
fn check_protected_persons(draft: &OrderDraft, today: NaiveDate, out: &mut Violations) {
    let rules = draft.order_type.rules();
    if draft.protected_persons.is_empty() {
        out.push(
            codes::PROTECTED_PERSON_REQUIRED,
            "protectedPersons",
            "an order protects at least one person",
        );
    }
    if draft.protected_persons.len() > MAX_PROTECTED_PERSONS {
        out.push(
            codes::TOO_MANY_ITEMS,
            "protectedPersons",
            format!("at most {MAX_PROTECTED_PERSONS} protected persons"),
        );
    }
    for (i, person) in draft.protected_persons.iter().enumerate() {
        let field = format!("protectedPersons[{i}]");
        check_name(&person.name, &format!("{field}.name"), out);
        check_date_of_birth(
            person.date_of_birth,
            &format!("{field}.dateOfBirth"),
            today,
            out,
        );
        if person
            .contact
            .as_ref()
            .is_some_and(|c| c.chars().count() > MAX_CONTACT_LEN)
        {
            out.push(
                codes::TEXT_TOO_LONG,
                format!("{field}.contact"),
                format!("at most {MAX_CONTACT_LEN} characters"),
            );
        }
        if let Some(min_age) = rules.protected_person_min_age {
            match person.date_of_birth {
                None => out.push(
                    codes::PROTECTED_PERSON_DATE_OF_BIRTH_REQUIRED,
                    format!("{field}.dateOfBirth"),
                    format!("a {} needs each protected person's date of birth to check they are {min_age} or over", draft.order_type),
                ),
                Some(dob) if age_on(dob, draft.made_on) < min_age as i32 => out.push(
                    codes::PROTECTED_PERSON_UNDER_MINIMUM_AGE,
                    format!("{field}.dateOfBirth"),
                    format!("a {} can only protect a person aged {min_age} or over", draft.order_type),
                ),
                Some(_) => {}
            }
        }
    }
}

/// Conditions: at most `MAX_CONDITIONS`, each with text, ending neither before the order was made nor after it ends.
fn check_conditions(
    made_on: NaiveDate,
    expires_on: Option<NaiveDate>,
    conditions: &[ConditionDraft],
    out: &mut Violations,
) {
    if conditions.len() > MAX_CONDITIONS {
        out.push(
            codes::TOO_MANY_ITEMS,
            "conditions",
            format!("at most {MAX_CONDITIONS} conditions"),
        );
    }
    for (i, c) in conditions.iter().enumerate() {
        let field = format!("conditions[{i}]");
        let len = c.text.trim().chars().count();
        if len == 0 || len > MAX_CONDITION_TEXT_LEN {
            out.push(
                codes::INVALID_TEXT,
                format!("{field}.text"),
                format!("a condition's text is 1 to {MAX_CONDITION_TEXT_LEN} characters"),
            );
        }
        if let Some(c_end) = c.expires_on {
            if c_end < made_on {
                out.push(
                    codes::END_BEFORE_MADE,
                    format!("{field}.expiresOn"),
                    format!("condition ends {c_end}, before the order was made ({made_on})"),
                );
            }
            if let Some(end) = expires_on {
                if c_end > end {
                    out.push(
                        codes::CONDITION_ENDS_AFTER_ORDER,
                        format!("{field}.expiresOn"),
                        format!("condition ends {c_end}, after its order ends ({end})"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "order_tests.rs"]
mod tests;

/// A DAPO may have effect until the occurrence of a specified event (Domestic Abuse Act 2021 s38(3)): that event, in
/// the order's words, for a DAPO only, and instead of a last day.
fn check_until_event(draft: &OrderDraft, out: &mut Violations) {
    let Some(event) = &draft.until_event else {
        return;
    };
    if draft.order_type != OrderType::Dapo {
        out.push(
            codes::UNTIL_EVENT_NOT_APPLICABLE,
            "untilEvent",
            "only a DAPO may have effect until a specified event (Domestic Abuse Act 2021 s38(3))",
        );
    }
    if draft.expires_on.is_some() {
        out.push(
            codes::UNTIL_EVENT_WITH_END_DATE,
            "untilEvent",
            "an order lasting until an event has no last day: leave out expiresOn",
        );
    }
    if event.trim().is_empty() || event.chars().any(|c| c.is_control() && c != '\n') {
        out.push(
            codes::INVALID_TEXT,
            "untilEvent",
            "untilEvent names the event in words",
        );
    }
    check_note(Some(event), "untilEvent", out);
}
