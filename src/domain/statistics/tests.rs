//! The figures of a small period, computed by hand.

use super::*;
use crate::domain::application::{CourtOutcome, CourtRefusalReason};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn spo(force: &str, made: &str) -> OrderFact {
    OrderFact {
        force: force.into(),
        order_type: OrderType::Spo,
        made_on: d(made),
        last_day: None,
        ended_on: None,
        served_on: None,
    }
}

#[test]
fn quarters_are_calendar_quarters() {
    assert_eq!(Quarter::of(d("2026-03-31")).to_string(), "2026-Q1");
    assert_eq!(Quarter::of(d("2026-04-01")).to_string(), "2026-Q2");
    assert_eq!(Quarter::of(d("2026-12-31")).last_day(), d("2026-12-31"));
    let within = Quarter::within(Period {
        from: d("2025-11-15"),
        to: d("2026-04-01"),
    });
    let names: Vec<String> = within.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["2025-Q4", "2026-Q1", "2026-Q2"]);
}

#[test]
fn the_median_and_90th_percentile_are_nearest_ranks() {
    let s = Spread::of((1..=10).map(f64::from).collect());
    assert_eq!((s.count, s.median, s.p90), (10, Some(5.0), Some(9.0)));
    let one = Spread::of(vec![3.0]);
    assert_eq!((one.median, one.p90), (Some(3.0), Some(3.0)));
    assert_eq!(Spread::of(vec![]), Spread::default());
}

#[test]
fn an_order_is_in_force_at_a_quarters_end_until_its_last_day_and_not_on_the_day_it_ended() {
    let mut o = spo("MET", "2026-01-10");
    o.last_day = Some(d("2026-03-31"));
    assert!(o.in_force_on(d("2026-03-31")));
    assert!(!o.in_force_on(d("2026-04-01")));
    o.last_day = None;
    o.ended_on = Some(d("2026-03-31"));
    assert!(o.in_force_on(d("2026-03-30")));
    assert!(!o.in_force_on(d("2026-03-31")));
    assert!(!o.in_force_on(d("2026-01-09")));
}

/// Longer than 80 lines: one small history, and each figure read from it.
#[test]
fn each_event_counts_in_the_quarter_of_its_date_within_the_period() {
    let period = Period {
        from: d("2026-01-01"),
        to: d("2026-06-30"),
    };
    let mut served = spo("MET", "2026-02-01");
    served.served_on = Some(d("2026-02-04"));
    let facts = Facts {
        orders: vec![
            spo("MET", "2025-12-31"),
            served,
            spo("MET", "2026-04-02"),
            spo("GMP", "2026-05-05"),
            spo("MET", "2026-07-01"),
        ],
        changes: vec![ChangeFact {
            force: "MET".into(),
            order_type: OrderType::Spo,
            event: OrderEvent::Varied,
            on: d("2026-03-31"),
        }],
        breaches: vec![
            BreachFact {
                force: "MET".into(),
                order_type: OrderType::Spo,
                // 23:30 UTC on 31 March is 00:30 on 1 April in London: the second quarter.
                occurred_at: t("2026-03-31T23:30:00Z"),
                outcome: BreachOutcome::Charged,
                outcome_at: Some(t("2026-04-03T23:30:00Z")),
                recorded_as_crime: true,
            },
            BreachFact {
                force: "MET".into(),
                order_type: OrderType::Spo,
                occurred_at: t("2026-02-01T12:00:00Z"),
                outcome: BreachOutcome::UnderInvestigation,
                outcome_at: Some(t("2026-02-02T12:00:00Z")),
                recorded_as_crime: false,
            },
        ],
        missed: vec![MissedFact {
            force: "GMP".into(),
            order_type: OrderType::Spo,
            due_on: d("2026-05-08"),
        }],
        applications: vec![
            ApplicationFact {
                force: "MET".into(),
                order_type: OrderType::Spo,
                reported_on: Some(d("2026-01-05")),
                internal: Some((InternalDecision::Authorised, d("2026-01-20"), None)),
                made_to_court_on: Some(d("2026-01-25")),
                court_outcome: Some(CourtDecision {
                    outcome: CourtOutcome::Granted,
                    decided_on: d("2026-02-01"),
                    refusal_reason: None,
                }),
                order_made_on: Some(d("2026-02-01")),
            },
            ApplicationFact {
                force: "MET".into(),
                order_type: OrderType::Spo,
                reported_on: Some(d("2026-01-10")),
                internal: Some((
                    InternalDecision::Refused,
                    d("2026-02-01"),
                    Some("INSUFFICIENT_EVIDENCE"),
                )),
                made_to_court_on: None,
                court_outcome: None,
                order_made_on: None,
            },
            ApplicationFact {
                force: "GMP".into(),
                order_type: OrderType::Spo,
                reported_on: None,
                internal: None,
                made_to_court_on: Some(d("2026-04-01")),
                court_outcome: Some(CourtDecision {
                    outcome: CourtOutcome::Refused,
                    decided_on: d("2026-04-10"),
                    refusal_reason: Some(CourtRefusalReason::TestNotMet),
                }),
                order_made_on: None,
            },
        ],
    };
    let rows = aggregate(period, &facts);
    let find = |force: &str, q: &str| {
        rows.iter()
            .find(|r| r.force == force && r.quarter == q)
            .unwrap()
    };
    let q1 = find("MET", "2026-Q1");
    assert_eq!((q1.orders_made, q1.in_force_at_end, q1.varied), (1, 2, 1));
    assert_eq!(q1.breaches_reported, 1);
    assert_eq!(
        q1.outcomes,
        Outcomes::default(),
        "an investigation is not an outcome"
    );
    assert_eq!(q1.days_to_service.median, Some(3.0));
    let q2 = find("MET", "2026-Q2");
    assert_eq!(
        (q2.orders_made, q2.in_force_at_end, q2.breaches_reported),
        (1, 3, 1)
    );
    assert_eq!(q2.outcomes.charged, 1);
    assert_eq!(
        (q1.breaches_recorded_as_crime, q2.breaches_recorded_as_crime),
        (0, 1)
    );
    assert_eq!(q2.days_breach_to_outcome.median, Some(3.0));
    assert_eq!(q2.breaches_per_100_in_force(), Some(100.0 / 3.0));
    let a = &q1.applications;
    assert_eq!(
        (a.authorised, a.made_to_court, a.granted, a.withdrawn),
        (1, 1, 1, 0)
    );
    assert_eq!(a.refused_by_force.get("INSUFFICIENT_EVIDENCE"), Some(&1));
    // Reported on 5 January, made to court on the 25th, granted (and made) on 1 February.
    assert_eq!(a.days_report_to_court.median, Some(20.0));
    assert_eq!(a.days_court_to_order.median, Some(7.0));
    let gmp = find("GMP", "2026-Q2");
    assert_eq!(gmp.applications.made_to_court, 1);
    assert_eq!(
        gmp.applications.refused_by_court.get("TEST_NOT_MET"),
        Some(&1)
    );
    assert_eq!(gmp.applications.days_report_to_court.count, 0);
    assert_eq!((gmp.orders_made, gmp.notifications_missed), (1, 1));
    assert!(rows.iter().all(|r| r.quarter != "2026-Q3"));
    assert!(
        !rows
            .iter()
            .any(|r| r.force == "GMP" && r.quarter == "2026-Q1"),
        "nothing to count"
    );
}
