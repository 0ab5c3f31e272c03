//! The figures of a small period, computed by hand.

use super::*;
use crate::domain::application::{CourtOutcome, CourtRefusalReason};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The quarter of a day.
fn q(day: &str) -> Quarter {
    Quarter::of(d(day))
}

fn spo(force: &str, made: &str) -> OrderFact {
    OrderFact {
        force: force.into(),
        court: None,
        order_type: OrderType::Spo,
        quarter: q(made),
        days_to_service: None,
        count: 1,
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
    // Values counted together spread as if listed one by one: five 1s and five 10s.
    let counted = Spread::of_counted(vec![(10.0, 5), (1.0, 5)]);
    assert_eq!(
        (counted.count, counted.median, counted.p90),
        (10, Some(1.0), Some(10.0))
    );
    let listed = Spread::of([1.0; 5].into_iter().chain([10.0; 5]).collect());
    assert_eq!(counted, listed);
}

#[test]
fn orders_in_force_are_counted_at_each_quarters_end_or_the_periods_if_sooner() {
    let ends = Quarter::ends(Period {
        from: d("2025-12-15"),
        to: d("2026-05-20"),
    });
    let ends: Vec<(String, NaiveDate)> = ends.iter().map(|(q, e)| (q.to_string(), *e)).collect();
    assert_eq!(
        ends,
        [
            ("2025-Q4".to_string(), d("2025-12-31")),
            ("2026-Q1".to_string(), d("2026-03-31")),
            ("2026-Q2".to_string(), d("2026-05-20")),
        ]
    );
}

fn app(force: &str, on: &str, stage: ApplicationStage) -> ApplicationFact {
    ApplicationFact {
        force: force.into(),
        court: None,
        order_type: OrderType::Spo,
        quarter: q(on),
        stage,
        count: 1,
    }
}

fn in_force(force: &str, quarter: &str, count: u64) -> InForceFact {
    InForceFact {
        force: force.into(),
        court: None,
        order_type: OrderType::Spo,
        quarter: q(quarter),
        count,
    }
}

/// Longer than 80 lines: one small history, and each figure read from it.
#[test]
fn each_event_counts_in_its_quarter() {
    let period = Period {
        from: d("2026-01-01"),
        to: d("2026-06-30"),
    };
    // As the database reads them, within the period: MET's orders of 1 February (served three days later) and
    // 2 April, GMP's of 5 May. Changes are read one by one, with their day.
    let mut served = spo("MET", "2026-02-01");
    served.days_to_service = Some(3);
    let facts = Facts {
        orders: vec![served, spo("MET", "2026-04-02"), spo("GMP", "2026-05-05")],
        changes: vec![ChangeFact {
            force: "MET".into(),
            court: None,
            order_type: OrderType::Spo,
            event: OrderEvent::Varied,
            on: d("2026-03-31"),
        }],
        // As the database counts them: MET's orders of 31 December and 1 February at the end of March, and with the
        // order of 2 April at the end of June; GMP's of 5 May.
        in_force: vec![
            in_force("MET", "2026-03-31", 2),
            in_force("MET", "2026-06-30", 3),
            in_force("GMP", "2026-06-30", 1),
        ],
        breaches: vec![
            BreachFact {
                force: "MET".into(),
                court: None,
                order_type: OrderType::Spo,
                quarter: q("2026-04-01"),
                count: 1,
                recorded_as_crime: 1,
            },
            BreachFact {
                force: "MET".into(),
                court: None,
                order_type: OrderType::Spo,
                quarter: q("2026-02-01"),
                count: 1,
                recorded_as_crime: 0,
            },
        ],
        outcomes: vec![
            OutcomeFact {
                force: "MET".into(),
                court: None,
                order_type: OrderType::Spo,
                quarter: q("2026-04-04"),
                outcome: BreachOutcome::Charged,
                hours: 72,
                count: 1,
            },
            OutcomeFact {
                force: "MET".into(),
                court: None,
                order_type: OrderType::Spo,
                quarter: q("2026-02-02"),
                outcome: BreachOutcome::UnderInvestigation,
                hours: 24,
                count: 1,
            },
        ],
        missed: vec![MissedFact {
            force: "GMP".into(),
            court: None,
            order_type: OrderType::Spo,
            quarter: q("2026-05-08"),
            count: 1,
        }],
        applications: vec![
            // MET: reported on 5 January, authorised on the 20th, made to court on the 25th, granted (and made) on
            // 1 February; another refused inside the force on 1 February.
            app(
                "MET",
                "2026-01-20",
                ApplicationStage::Force {
                    decision: InternalDecision::Authorised,
                    reason: None,
                },
            ),
            app(
                "MET",
                "2026-01-25",
                ApplicationStage::ToCourt {
                    days_from_report: Some(20),
                },
            ),
            app(
                "MET",
                "2026-02-01",
                ApplicationStage::Court {
                    outcome: CourtOutcome::Granted,
                    reason: None,
                    days_to_order: Some(7),
                },
            ),
            app(
                "MET",
                "2026-02-01",
                ApplicationStage::Force {
                    decision: InternalDecision::Refused,
                    reason: Some("INSUFFICIENT_EVIDENCE"),
                },
            ),
            // GMP: made to court on 1 April with no report date, refused on the 10th.
            app(
                "GMP",
                "2026-04-01",
                ApplicationStage::ToCourt {
                    days_from_report: None,
                },
            ),
            app(
                "GMP",
                "2026-04-10",
                ApplicationStage::Court {
                    outcome: CourtOutcome::Refused,
                    reason: Some(CourtRefusalReason::TestNotMet.as_str()),
                    days_to_order: None,
                },
            ),
        ],
    };
    let rows = aggregate(period, &facts, GroupBy::Force);
    let find = |force: &str, q: &str| {
        rows.iter()
            .find(|r| r.force.as_deref() == Some(force) && r.quarter == q)
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
            .any(|r| r.force.as_deref() == Some("GMP") && r.quarter == "2026-Q1"),
        "nothing to count"
    );
}

#[test]
fn by_court_each_fact_counts_under_its_court_and_applications_no_court_saw_under_none() {
    let period = Period {
        from: d("2026-01-01"),
        to: d("2026-03-31"),
    };
    let at = |force: &str, court: &str| OrderFact {
        court: Some(court.into()),
        ..spo(force, "2026-02-01")
    };
    let refused = app(
        "MET",
        "2026-02-01",
        ApplicationStage::Force {
            decision: InternalDecision::Refused,
            reason: Some("INSUFFICIENT_EVIDENCE"),
        },
    );
    let facts = Facts {
        orders: vec![at("MET", "WMC"), at("GMP", "WMC"), at("MET", "MMC")],
        applications: vec![refused],
        ..Facts::default()
    };
    let by_court = aggregate(period, &facts, GroupBy::Court);
    let seen: Vec<_> = by_court
        .iter()
        .map(|r| (r.force.clone(), r.court.clone(), r.orders_made))
        .collect();
    assert_eq!(
        seen,
        [
            (None, None, 0),
            (None, Some("MMC".into()), 1),
            (None, Some("WMC".into()), 2)
        ]
    );
    assert_eq!(by_court[0].applications.refused_by_force.len(), 1);
    let by_force = aggregate(period, &facts, GroupBy::Force);
    let seen: Vec<_> = by_force
        .iter()
        .map(|r| (r.force.clone(), r.court.clone(), r.orders_made))
        .collect();
    assert_eq!(
        seen,
        [(Some("GMP".into()), None, 1), (Some("MET".into()), None, 2)]
    );
}
