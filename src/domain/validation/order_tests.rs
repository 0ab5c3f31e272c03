//! The checks of a new order and its terms, each at its boundary.

use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn draft(order_type: OrderType, made_on: &str, expires_on: Option<&str>) -> OrderDraft {
    OrderDraft {
        without_notice: false,
        soa_notification: None,
        until_event: None,
        reference: "MC/2026/0001".into(),
        order_type,
        subject_names: vec!["Sam Subject".into()],
        subject_date_of_birth: Some(d("1990-01-01")),
        protected_persons: vec![PersonDraft {
            name: "Pat Person".into(),
            date_of_birth: Some(d("1992-02-02")),
            contact: None,
        }],
        made_on: d(made_on),
        expires_on: expires_on.map(d),
        conditions: vec![],
    }
}

fn codes(draft: &OrderDraft) -> Vec<&'static str> {
    match validate_order(draft, d("2026-11-29")) {
        Ok(()) => vec![],
        Err(v) => v.codes(),
    }
}

#[test]
fn spo_of_exactly_two_years_beginning_with_the_day_made_is_accepted() {
    assert!(codes(&draft(OrderType::Spo, "2026-01-10", Some("2028-01-09"))).is_empty());
    assert!(codes(&draft(OrderType::Spo, "2026-01-10", None)).is_empty());
}

#[test]
fn spo_one_day_short_of_two_years_is_rejected() {
    assert_eq!(
        codes(&draft(OrderType::Spo, "2026-01-10", Some("2028-01-08"))),
        ["TERM_TOO_SHORT"]
    );
}

#[test]
fn interim_spo_needs_an_end_date() {
    assert_eq!(
        codes(&draft(OrderType::InterimSpo, "2026-01-10", None)),
        ["END_DATE_REQUIRED"]
    );
    assert!(codes(&draft(
        OrderType::InterimSpo,
        "2026-01-10",
        Some("2026-02-10")
    ))
    .is_empty());
}

#[test]
fn dvpo_term_is_fourteen_to_twenty_eight_days_beginning_with_the_day_made() {
    assert_eq!(
        codes(&draft(OrderType::Dvpo, "2026-03-01", Some("2026-03-13"))),
        ["TERM_TOO_SHORT"]
    );
    assert!(codes(&draft(OrderType::Dvpo, "2026-03-01", Some("2026-03-14"))).is_empty());
    assert!(codes(&draft(OrderType::Dvpo, "2026-03-01", Some("2026-03-28"))).is_empty());
    assert_eq!(
        codes(&draft(OrderType::Dvpo, "2026-03-01", Some("2026-03-29"))),
        ["TERM_TOO_LONG"]
    );
    assert_eq!(
        codes(&draft(OrderType::Dvpo, "2026-03-01", None)),
        ["END_DATE_REQUIRED"]
    );
}

#[test]
fn notices_need_an_adult_subject_and_dapn_a_protected_person_of_sixteen() {
    let mut n = draft(OrderType::Dvpn, "2026-03-01", Some("2026-03-03"));
    n.subject_date_of_birth = Some(d("2008-03-02")); // 17 on the day made
    assert_eq!(codes(&n), ["SUBJECT_UNDER_MINIMUM_AGE"]);
    n.subject_date_of_birth = Some(d("2008-03-01")); // 18 that day
    assert!(codes(&n).is_empty());
    n.subject_date_of_birth = None;
    assert_eq!(codes(&n), ["SUBJECT_DATE_OF_BIRTH_REQUIRED"]);

    let mut a = draft(OrderType::Dapn, "2026-03-01", None);
    a.protected_persons[0].date_of_birth = Some(d("2010-03-02")); // 15
    assert_eq!(codes(&a), ["PROTECTED_PERSON_UNDER_MINIMUM_AGE"]);
    a.protected_persons[0].date_of_birth = Some(d("2010-03-01")); // 16
    assert!(codes(&a).is_empty());
}

#[test]
fn end_before_made_and_conditions_outlasting_their_order_are_rejected() {
    assert_eq!(
        codes(&draft(
            OrderType::RestrainingOrder,
            "2026-03-01",
            Some("2026-02-28")
        )),
        ["END_BEFORE_MADE"]
    );
    let mut o = draft(
        OrderType::RestrainingOrder,
        "2026-03-01",
        Some("2027-03-01"),
    );
    o.conditions.push(ConditionDraft {
        kind: ConditionKind::Prohibition,
        text: "No contact".into(),
        expires_on: Some(d("2027-03-02")),
    });
    assert_eq!(codes(&o), ["CONDITION_ENDS_AFTER_ORDER"]);
    o.conditions[0].expires_on = Some(d("2027-03-01"));
    assert!(codes(&o).is_empty());
}

#[test]
fn every_broken_rule_is_reported_in_a_stable_order() {
    let mut o = draft(OrderType::Spo, "2026-12-01", Some("2027-01-01"));
    o.subject_names = vec![];
    o.reference = "".into();
    assert_eq!(
        codes(&o),
        [
            "INVALID_REFERENCE",
            "SUBJECT_NAME_REQUIRED",
            "MADE_ON_IN_FUTURE",
            "TERM_TOO_SHORT"
        ]
    );
}

#[test]
fn ages_count_whole_years_including_leap_day_birthdays() {
    assert_eq!(age_on(d("2008-02-29"), d("2026-02-28")), 17);
    assert_eq!(age_on(d("2008-02-29"), d("2026-03-01")), 18);
}

#[test]
fn a_dapos_electronic_monitoring_requirement_lasts_at_most_12_months_beginning_with_the_day_made() {
    // Domestic Abuse Act 2021 s38(5): made on 1 March 2026, the requirement may run to 28 February 2027.
    let em = |end: Option<&str>| ConditionDraft {
        kind: ConditionKind::ElectronicMonitoring,
        text: "Wear an electronic tag".into(),
        expires_on: end.map(d),
    };
    let mut o = draft(OrderType::Dapo, "2026-03-01", None);
    o.conditions.push(em(Some("2027-02-28")));
    assert!(codes(&o).is_empty());
    o.conditions[0] = em(Some("2027-03-01"));
    assert_eq!(codes(&o), ["ELECTRONIC_MONITORING_TOO_LONG"]);
    o.conditions[0] = em(None);
    assert_eq!(codes(&o), ["ELECTRONIC_MONITORING_TOO_LONG"]);
    // A leap day: made on 29 February 2024, to 28 February 2025.
    let mut leap = draft(OrderType::Dapo, "2024-02-29", None);
    leap.conditions.push(em(Some("2025-02-28")));
    assert!(codes(&leap).is_empty());
    leap.conditions[0] = em(Some("2025-03-01"));
    assert_eq!(codes(&leap), ["ELECTRONIC_MONITORING_TOO_LONG"]);
    // Only a DAPO imposes one.
    let mut spo = draft(OrderType::Spo, "2026-03-01", None);
    spo.conditions.push(em(Some("2026-06-01")));
    assert_eq!(codes(&spo), ["ELECTRONIC_MONITORING_NOT_APPLICABLE"]);
}
