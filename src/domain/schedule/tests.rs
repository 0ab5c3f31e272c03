//! The schedule's rules, each at its boundaries.
//!
//! Past 400 lines: one test file for all the rules, so they share the facts they start from (`spo`, `dapn_served`)
//! and the helpers that read a plan; each test names the rule and statute it checks.

use super::*;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}
fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn spo() -> OrderFacts {
    OrderFacts {
        order_type: OrderType::Spo,
        status: OrderStatus::InForce,
        made_on: d("2026-03-20"),
        expires_on: Some(d("2028-03-19")),
        recorded_at: t("2026-03-20T10:00:00Z"),
        served_at: Some(t("2026-03-27T15:00:00Z")),
        conditions: vec![],
        replaces_interim: false,
        soa_notification: None,
        other_orders: None,
        ended_at: None,
        notifications: vec![],
        hearings: vec![],
    }
}

fn deadline(f: &OrderFacts, kind: DeadlineKind) -> DeadlineSpec {
    plan(f, &ScheduleRules::default())
        .0
        .into_iter()
        .find(|d| d.kind == kind)
        .expect("deadline planned")
}

fn triggers(f: &OrderFacts, kind: AlertKind) -> Vec<TriggerSpec> {
    plan(f, &ScheduleRules::default())
        .1
        .into_iter()
        .filter(|t| t.kind == kind)
        .collect()
}

#[test]
fn spo_initial_notification_is_due_at_the_end_of_service_day_plus_two_across_the_clock_change() {
    // Served Friday 27 March 2026; the period ends at the end of Sunday 29 March, the day BST starts.
    let dl = deadline(&spo(), DeadlineKind::NotificationInitial);
    assert_eq!(dl.due_at, t("2026-03-29T23:00:00Z"));
    assert_eq!(dl.status, DeadlineStatus::Open);
    assert_eq!(dl.statute, "Stalking Protection Act 2019 s9");
    let overdue = triggers(&spo(), AlertKind::NotificationOverdue);
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].fire_at, t("2026-03-29T23:00:00Z"));
}

#[test]
fn october_clock_change_and_a_leap_day() {
    let mut f = spo();
    f.served_at = Some(t("2026-10-23T09:00:00Z"));
    assert_eq!(
        deadline(&f, DeadlineKind::NotificationInitial).due_at,
        t("2026-10-26T00:00:00Z")
    );
    f.served_at = Some(t("2028-02-28T09:00:00Z"));
    assert_eq!(
        deadline(&f, DeadlineKind::NotificationInitial).due_at,
        t("2028-03-02T00:00:00Z")
    );
}

#[test]
fn a_notification_meets_its_deadline_only_before_the_moment() {
    let mut f = spo();
    f.notifications.push(NotificationFact {
        source: NotificationSource::Subject,
        kind: NotificationKind::Initial,
        notified_at: t("2026-03-29T22:59:59Z"),
        changed_on: None,
    });
    let dl = deadline(&f, DeadlineKind::NotificationInitial);
    assert_eq!(
        (dl.status, dl.met_at),
        (DeadlineStatus::Met, Some(t("2026-03-29T22:59:59Z")))
    );
    assert!(triggers(&f, AlertKind::NotificationOverdue).is_empty());
    f.notifications[0].notified_at = t("2026-03-29T23:00:00Z");
    assert_eq!(
        deadline(&f, DeadlineKind::NotificationInitial).status,
        DeadlineStatus::Missed
    );
}

#[test]
fn no_initial_notification_is_due_until_service_or_when_a_notified_interim_is_replaced() {
    let mut f = spo();
    f.served_at = None;
    assert!(plan(&f, &ScheduleRules::default())
        .0
        .iter()
        .all(|d| d.kind != DeadlineKind::NotificationInitial));
    assert_eq!(
        triggers(&f, AlertKind::UnservedOrder)[0].fire_at,
        t("2026-03-21T10:00:00Z")
    );
    let mut g = spo();
    g.replaces_interim = true;
    assert!(plan(&g, &ScheduleRules::default())
        .0
        .iter()
        .all(|d| d.kind != DeadlineKind::NotificationInitial));
}

#[test]
fn dapo_notification_runs_from_the_day_made() {
    let mut f = spo();
    f.order_type = OrderType::Dapo;
    f.served_at = None;
    assert_eq!(
        deadline(&f, DeadlineKind::NotificationInitial).due_at,
        t("2026-03-23T00:00:00Z")
    );
}

#[test]
fn a_change_of_address_is_met_within_three_days_beginning_with_the_change() {
    let mut f = spo();
    f.notifications.push(NotificationFact {
        source: NotificationSource::Subject,
        kind: NotificationKind::HomeAddress,
        notified_at: t("2026-06-03T22:00:00Z"),
        changed_on: Some(d("2026-06-01")),
    });
    f.notifications.push(NotificationFact {
        source: NotificationSource::Subject,
        kind: NotificationKind::NewName,
        notified_at: t("2026-06-03T23:00:00Z"),
        changed_on: Some(d("2026-06-01")),
    });
    assert_eq!(
        deadline(&f, DeadlineKind::NotificationHomeAddress).status,
        DeadlineStatus::Met
    );
    assert_eq!(
        deadline(&f, DeadlineKind::NotificationNewName).status,
        DeadlineStatus::Missed
    );
}

#[test]
fn expiry_warnings_fire_at_the_end_of_the_day_thirty_and_seven_days_before_the_last() {
    let f = spo();
    let expiring = triggers(&f, AlertKind::OrderExpiring);
    assert_eq!(
        expiring
            .iter()
            .map(|t| (t.occasion.as_str(), t.fire_at))
            .collect::<Vec<_>>(),
        [
            ("30d", t("2028-02-19T00:00:00Z")),
            ("7d", t("2028-03-13T00:00:00Z")),
        ]
    );
    let expired = triggers(&f, AlertKind::OrderExpired);
    assert_eq!(expired[0].fire_at, t("2028-03-20T00:00:00Z"));
    assert_eq!(expired[0].effect(), TriggerEffect::Expire);
}

#[test]
fn warnings_before_an_order_was_recorded_are_not_planned() {
    let mut f = spo();
    f.order_type = OrderType::Dvpo;
    f.expires_on = Some(d("2026-04-02"));
    let occasions: Vec<String> = triggers(&f, AlertKind::OrderExpiring)
        .into_iter()
        .map(|t| t.occasion)
        .collect();
    assert_eq!(occasions, ["7d"]);
}

#[test]
fn an_order_recorded_inside_its_last_warning_period_is_warned_of_at_once() {
    let mut f = spo();
    f.order_type = OrderType::Dvpo;
    // Recorded on 20 March, ending on 23 March: both warning moments had passed.
    f.expires_on = Some(d("2026-03-23"));
    let expiring = triggers(&f, AlertKind::OrderExpiring);
    assert_eq!(
        expiring
            .iter()
            .map(|t| (t.occasion.as_str(), t.fire_at))
            .collect::<Vec<_>>(),
        [("7d", f.recorded_at)]
    );
    // Recorded after its end: nothing to warn of.
    f.expires_on = Some(d("2026-03-19"));
    assert!(triggers(&f, AlertKind::OrderExpiring).is_empty());
}

#[test]
fn an_interim_spo_warns_that_the_main_application_is_pending() {
    let mut f = spo();
    f.order_type = OrderType::InterimSpo;
    f.expires_on = Some(d("2026-04-20"));
    let t1 = triggers(&f, AlertKind::InterimExpiringMainPending);
    // 7 days before the end of 20 April is the end of 13 April (BST).
    assert_eq!(t1[0].fire_at, t("2026-04-13T23:00:00Z"));
    f.status = OrderStatus::Replaced;
    assert!(triggers(&f, AlertKind::InterimExpiringMainPending).is_empty());
}

#[test]
fn a_dapn_hearing_window_skips_excluded_days_and_warns_then_lapses() {
    let mut f = spo();
    f.order_type = OrderType::Dapn;
    f.expires_on = None;
    f.served_at = Some(t("2026-11-27T18:00:00Z"));
    let dl = deadline(&f, DeadlineKind::HearingWindow);
    assert_eq!(dl.due_at, t("2026-11-30T18:00:00Z"));
    let hd = triggers(&f, AlertKind::HearingDeadline);
    assert_eq!(
        hd.iter()
            .map(|t| (t.occasion.as_str(), t.fire_at))
            .collect::<Vec<_>>(),
        [
            ("12h", t("2026-11-30T06:00:00Z")),
            ("2h", t("2026-11-30T16:00:00Z")),
            ("lapsed", t("2026-11-30T18:00:00Z")),
        ]
    );
    assert_eq!(hd[2].effect(), TriggerEffect::Lapse);
    f.hearings.push(HearingFact {
        scheduled_for: t("2026-11-30T10:00:00Z"),
        outcome: Some(HearingOutcome::Heard),
        held_at: Some(t("2026-11-30T10:05:00Z")),
    });
    assert_eq!(
        deadline(&f, DeadlineKind::HearingWindow).status,
        DeadlineStatus::Met
    );
    assert!(triggers(&f, AlertKind::HearingDeadline).is_empty());
}

#[test]
fn a_dvpn_window_disregards_good_friday_sunday_and_easter_monday() {
    // CSA 2010 s27(3),(4): served at 18:00 on Maundy Thursday 2026 (BST), 6 hours that day, Saturday's 24, and 18
    // on Tuesday 7 April; 48 clock hours would have ended on Saturday.
    let mut f = spo();
    f.order_type = OrderType::Dvpn;
    f.expires_on = None;
    f.served_at = Some(t("2026-04-02T17:00:00Z"));
    let window = deadline(&f, DeadlineKind::HearingWindow);
    assert_eq!(window.due_at, t("2026-04-07T17:00:00Z"));
    assert_eq!(window.statute, "Crime and Security Act 2010 s27(3),(4)");
    // One window, from service: before service is recorded it runs from the record, and is then replaced.
    f.served_at = None;
    f.recorded_at = t("2026-04-02T16:00:00Z");
    assert_eq!(
        deadline(&f, DeadlineKind::HearingWindow).due_at,
        t("2026-04-07T16:00:00Z")
    );
}

fn dapn_served(at: &str) -> OrderFacts {
    let mut f = spo();
    f.order_type = OrderType::Dapn;
    f.expires_on = None;
    f.served_at = Some(t(at));
    f
}

#[test]
fn a_hearing_begun_and_adjourned_in_time_keeps_the_notice_from_lapsing() {
    // DA Act 2021 s29(7), CSA 2010 s27(9): adjourned, the notice continues until the application is determined.
    let due = t("2026-11-30T18:00:00Z");
    for (held, met) in [
        (due - Duration::seconds(1), true),
        (due, true),
        (due + Duration::seconds(1), false),
    ] {
        let mut f = dapn_served("2026-11-27T18:00:00Z");
        f.hearings.push(HearingFact {
            scheduled_for: held,
            outcome: Some(HearingOutcome::Adjourned),
            held_at: Some(held),
        });
        let window = deadline(&f, DeadlineKind::HearingWindow);
        assert_eq!(window.due_at, due);
        if met {
            assert_eq!(window.status, DeadlineStatus::Met, "{held}");
            assert!(
                triggers(&f, AlertKind::HearingDeadline).is_empty(),
                "{held}: no lapse after an adjournment in time"
            );
        } else {
            assert_eq!(window.status, DeadlineStatus::Open, "{held}");
            assert!(triggers(&f, AlertKind::HearingDeadline)
                .iter()
                .any(|t| t.effect() == TriggerEffect::Lapse));
        }
    }
    // A notice ended by the refusal or withdrawal of its application: the window was dealt with.
    let mut f = dapn_served("2026-11-27T18:00:00Z");
    f.status = OrderStatus::Ceased;
    f.ended_at = Some(t("2026-11-28T10:00:00Z"));
    assert_eq!(
        deadline(&f, DeadlineKind::HearingWindow).status,
        DeadlineStatus::Met
    );
}

#[test]
fn a_notification_missed_while_in_force_stays_missed_after_the_order_ends() {
    // Served 27 March: due at the end of 29 March (BST from the 29th: 22:59:59 UTC... the end of the day in London).
    let due = deadline(&spo(), DeadlineKind::NotificationInitial).due_at;
    for (ended, want) in [
        (due - Duration::seconds(1), DeadlineStatus::Waived),
        (due, DeadlineStatus::Missed),
        (due + Duration::seconds(1), DeadlineStatus::Missed),
    ] {
        for status in [
            OrderStatus::Discharged,
            OrderStatus::Replaced,
            OrderStatus::Expired,
            OrderStatus::Quashed,
        ] {
            let mut f = spo();
            f.status = status;
            f.ended_at = Some(ended);
            assert_eq!(
                deadline(&f, DeadlineKind::NotificationInitial).status,
                want,
                "{status:?} at {ended}"
            );
        }
    }
}

#[test]
fn a_full_spo_replacing_an_interim_has_no_initial_notification_duty() {
    // SPA 2019 s9(1)(a), whether or not the interim's notification was made.
    let mut f = spo();
    f.replaces_interim = true;
    assert!(plan(&f, &ScheduleRules::default())
        .0
        .iter()
        .all(|d| d.kind != DeadlineKind::NotificationInitial));
}

#[test]
fn an_order_no_longer_in_force_plans_no_alerts_and_waives_what_is_open() {
    let mut f = spo();
    f.status = OrderStatus::Discharged;
    f.ended_at = Some(t("2026-03-28T10:00:00Z"));
    let (deadlines, triggers) = plan(&f, &ScheduleRules::default());
    assert!(triggers.is_empty());
    assert!(deadlines.iter().all(|d| d.status == DeadlineStatus::Waived));
}

#[test]
fn condition_ends_before_the_order_are_watched() {
    let mut f = spo();
    f.conditions = vec![
        ("c1".into(), Some(d("2027-01-31"))),
        ("c2".into(), None),
        ("c3".into(), Some(d("2028-03-19"))),
    ];
    let dls: Vec<DeadlineSpec> = plan(&f, &ScheduleRules::default())
        .0
        .into_iter()
        .filter(|d| d.kind == DeadlineKind::ConditionEnd)
        .collect();
    assert_eq!(dls.len(), 1);
    assert_eq!(dls[0].occasion, "c1");
    assert!(triggers(&f, AlertKind::OrderExpiring)
        .iter()
        .any(|t| t.occasion == "condition:c1:7d"));
}

#[test]
fn open_deadlines_show_missed_or_met_once_passed() {
    let due = t("2026-01-01T00:00:00Z");
    let after = due + Duration::seconds(1);
    assert_eq!(
        effective_deadline_status(
            DeadlineKind::NotificationInitial,
            DeadlineStatus::Open,
            due,
            after
        ),
        DeadlineStatus::Missed
    );
    assert_eq!(
        effective_deadline_status(DeadlineKind::OrderEnd, DeadlineStatus::Open, due, after),
        DeadlineStatus::Met
    );
    assert_eq!(
        effective_deadline_status(
            DeadlineKind::NotificationInitial,
            DeadlineStatus::Open,
            due,
            due - Duration::seconds(1)
        ),
        DeadlineStatus::Open
    );
}

#[test]
fn a_change_the_police_learnt_of_is_due_from_the_change_until_the_subject_notifies_it() {
    let changed = d("2026-04-01");
    let due = end_of_period_beginning_with(changed, 3);
    let police = NotificationFact {
        source: NotificationSource::Police,
        kind: NotificationKind::HomeAddress,
        notified_at: t("2026-04-01T12:00:00Z"),
        changed_on: Some(changed),
    };
    let mut f = spo();
    f.notifications.push(police.clone());
    let dl = deadline(&f, DeadlineKind::NotificationHomeAddress);
    assert_eq!((dl.due_at, dl.status), (due, DeadlineStatus::Open));
    let overdue = triggers(&f, AlertKind::NotificationOverdue);
    assert!(overdue
        .iter()
        .any(|t| t.fire_at == due && t.occasion.starts_with("NOTIFICATION_HOME_ADDRESS:")));
    // The subject's notification: a second before the end meets it, at the end is late.
    for (at, want) in [
        (due - Duration::seconds(1), DeadlineStatus::Met),
        (due, DeadlineStatus::Missed),
    ] {
        let mut g = f.clone();
        g.notifications.push(NotificationFact {
            source: NotificationSource::Subject,
            notified_at: at,
            ..police.clone()
        });
        let dls: Vec<DeadlineSpec> = plan(&g, &ScheduleRules::default())
            .0
            .into_iter()
            .filter(|d| d.kind == DeadlineKind::NotificationHomeAddress)
            .collect();
        assert_eq!(dls.len(), 1, "one deadline per change");
        assert_eq!(dls[0].status, want, "{at}");
    }
    // The order ended before it fell due: waived; after: missed.
    let mut ended = f.clone();
    ended.status = OrderStatus::Discharged;
    ended.ended_at = Some(due - Duration::seconds(1));
    assert_eq!(
        deadline(&ended, DeadlineKind::NotificationHomeAddress).status,
        DeadlineStatus::Waived
    );
    ended.ended_at = Some(due);
    assert_eq!(
        deadline(&ended, DeadlineKind::NotificationHomeAddress).status,
        DeadlineStatus::Missed
    );
}

#[test]
fn a_notice_ended_after_its_window_closed_missed_it() {
    let mut f = dapn_served("2026-11-27T18:00:00Z");
    let due = deadline(&f, DeadlineKind::HearingWindow).due_at;
    for status in [OrderStatus::Ceased, OrderStatus::Replaced] {
        f.status = status;
        f.ended_at = Some(due);
        assert_eq!(
            deadline(&f, DeadlineKind::HearingWindow).status,
            DeadlineStatus::Met,
            "{status:?} at the window's end"
        );
        f.ended_at = Some(due + Duration::seconds(1));
        assert_eq!(
            deadline(&f, DeadlineKind::HearingWindow).status,
            DeadlineStatus::Missed,
            "{status:?} after the window"
        );
    }
}

#[test]
fn an_spo_subject_under_sex_offender_notification_notifies_from_the_final_day_of_it() {
    use crate::domain::order::SoaNotification;
    let planned = |f: &OrderFacts| {
        let (deadlines, _) = plan(f, &ScheduleRules::default());
        deadlines
            .into_iter()
            .filter(|d| {
                matches!(
                    d.kind,
                    DeadlineKind::NotificationInitial | DeadlineKind::NotificationNewName
                )
            })
            .map(|d| (d.kind, d.due_at))
            .collect::<Vec<_>>()
    };
    // SPA 2019 s9(5): no duty while the Sexual Offences Act 2003 Part 2 requirements last (here indefinitely).
    let mut f = spo();
    f.soa_notification = Some(SoaNotification {
        final_day: None,
        start_day: None,
    });
    assert_eq!(planned(&f), []);
    // s9(6)-(7): from the final day, as if the order had been served that day: 3 days beginning with 10 June.
    f.soa_notification = Some(SoaNotification {
        final_day: Some(d("2026-06-10")),
        start_day: None,
    });
    assert_eq!(
        planned(&f),
        [(DeadlineKind::NotificationInitial, t("2026-06-12T23:00:00Z"))]
    );
    // A new name used before the final day needs no notification under the order; one used on it does.
    for (changed_on, kept) in [("2026-06-09", false), ("2026-06-10", true)] {
        let mut g = f.clone();
        g.notifications.push(NotificationFact {
            source: NotificationSource::Police,
            kind: NotificationKind::NewName,
            notified_at: t("2026-06-11T10:00:00Z"),
            changed_on: Some(d(changed_on)),
        });
        let new_name = planned(&g)
            .iter()
            .any(|(k, _)| *k == DeadlineKind::NotificationNewName);
        assert_eq!(new_name, kept, "{changed_on}");
    }
    // s9(6)(d): only if the order is still in effect on the final day (its term ends on 19 March 2028).
    f.soa_notification = Some(SoaNotification {
        final_day: Some(d("2028-03-20")),
        start_day: None,
    });
    assert_eq!(planned(&f), []);
    f.soa_notification = Some(SoaNotification {
        final_day: Some(d("2028-03-19")),
        start_day: None,
    });
    assert_eq!(planned(&f).len(), 1);
    // Served after the final day: bound from service, so 3 days beginning with the day served.
    f.served_at = Some(t("2028-03-19T10:00:00Z"));
    f.soa_notification = Some(SoaNotification {
        final_day: Some(d("2028-03-01")),
        start_day: None,
    });
    assert_eq!(
        planned(&f),
        [(DeadlineKind::NotificationInitial, t("2028-03-22T00:00:00Z"))]
    );
    // Ended before the final day began (s9(6)(d)): no duty arises.
    f.served_at = Some(t("2026-03-27T15:00:00Z"));
    f.ended_at = Some(t("2028-02-29T23:59:59Z"));
    assert_eq!(planned(&f), []);
    f.ended_at = Some(t("2028-03-01T10:00:00Z"));
    assert_eq!(planned(&f).len(), 1);
    // Not yet served: not yet bound by the order.
    f.ended_at = None;
    f.served_at = None;
    assert_eq!(planned(&f), []);
}
