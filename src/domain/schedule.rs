//! What is due for an order, as pure functions of its facts: the statutory deadlines (DOMAIN.md, Deadlines) with
//! their status, and the alerts to raise and when (DOMAIN.md, Alerts). The service stores both and re-plans on every
//! change; the scheduled checks only fire what this says is due.
//!
//! Past 400 lines, about half of it unit tests: `plan` still holds every rule in one function; splitting it into
//! named rules, one per deadline kind, is the next step.

use super::alert::AlertKind;
use super::calendar::{
    end_of_day, end_of_period_beginning_with, hours_excluding, london_date, ExcludedDays,
};
use super::{OrderStatus, OrderType};
use chrono::{DateTime, Duration, NaiveDate, Utc};

code_enum!(
    /// A statutory deadline or end date watched for an order.
    DeadlineKind {
        NotificationInitial => "NOTIFICATION_INITIAL",
        NotificationNewName => "NOTIFICATION_NEW_NAME",
        NotificationHomeAddress => "NOTIFICATION_HOME_ADDRESS",
        HearingWindow => "HEARING_WINDOW",
        OrderEnd => "ORDER_END",
        ConditionEnd => "CONDITION_END",
    }
);

code_enum!(
    /// Where a deadline stands. `MISSED` is also shown for an open deadline whose moment has passed.
    DeadlineStatus {
        Open => "OPEN",
        Met => "MET",
        Missed => "MISSED",
        Waived => "WAIVED",
    }
);

code_enum!(
    /// What the subject told the police (SPA s9, DA Act s41).
    NotificationKind {
        Initial => "INITIAL",
        NewName => "NEW_NAME",
        HomeAddress => "HOME_ADDRESS",
    }
);

code_enum!(
    /// What happened at a hearing.
    HearingOutcome {
        Heard => "HEARD",
        Adjourned => "ADJOURNED",
        Vacated => "VACATED",
    }
);

/// Whether a DVPN's 48-hour hearing window skips Sundays and bank holidays as a DAPN's does. DOMAIN.md marks this
/// *unverified* for CSA 2010; until it is checked the window is 48 clock hours from service.
pub const DVPN_WINDOW_EXCLUDES_DAYS: bool = false;
/// Hours after the notice within which the hearing must begin (DVPN and DAPN).
pub const NOTICE_HEARING_HOURS: i64 = 48;

/// The tunable parts of the schedule (configuration), and the calendar.
#[derive(Debug, Clone)]
pub struct ScheduleRules {
    /// Days before an order's (or condition's) end at which `ORDER_EXPIRING` is raised.
    pub expiry_warning_days: Vec<u32>,
    /// How long an order may stay unserved after it is recorded before `UNSERVED_ORDER`.
    pub unserved_after: Duration,
    /// Days before an interim SPO ends at which `INTERIM_EXPIRING_MAIN_PENDING` is raised.
    pub interim_warning_days: u32,
    /// How long before a notice's hearing window closes `HEARING_DEADLINE` is raised.
    pub hearing_warnings: Vec<Duration>,
    pub excluded: ExcludedDays,
}

impl Default for ScheduleRules {
    fn default() -> Self {
        ScheduleRules {
            expiry_warning_days: vec![30, 7],
            unserved_after: Duration::hours(24),
            interim_warning_days: 7,
            hearing_warnings: vec![Duration::hours(12), Duration::hours(2)],
            excluded: ExcludedDays::england_and_wales(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NotificationFact {
    pub kind: NotificationKind,
    pub notified_at: DateTime<Utc>,
    /// The day of the change notified (new name, new home address).
    pub changed_on: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct HearingFact {
    pub scheduled_for: DateTime<Utc>,
    pub outcome: Option<HearingOutcome>,
    /// When the hearing began (for `HEARD`).
    pub held_at: Option<DateTime<Utc>>,
}

/// Everything about an order the schedule depends on.
#[derive(Debug, Clone)]
pub struct OrderFacts {
    pub order_type: OrderType,
    pub status: OrderStatus,
    pub made_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub recorded_at: DateTime<Utc>,
    pub served_at: Option<DateTime<Utc>>,
    /// Current conditions: (id, own last day).
    pub conditions: Vec<(String, Option<NaiveDate>)>,
    /// A full SPO replacing an interim SPO whose initial notification was made: no new initial notification is due.
    pub replaces_notified_interim: bool,
    pub notifications: Vec<NotificationFact>,
    pub hearings: Vec<HearingFact>,
}

/// A deadline as stored: its moment, the status it has from the facts alone, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineSpec {
    pub kind: DeadlineKind,
    /// Tells deadlines of one kind apart (a condition id, the day of a change).
    pub occasion: String,
    pub due_at: DateTime<Utc>,
    pub status: DeadlineStatus,
    pub met_at: Option<DateTime<Utc>>,
    pub rule: String,
    pub statute: &'static str,
}

/// An alert to raise at `fire_at` about the moment `due_at`. (order, kind, due_at, occasion) is its dedup key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerSpec {
    pub kind: AlertKind,
    pub fire_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub occasion: String,
}

/// What firing a trigger does to the order besides raising its alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerEffect {
    None,
    /// The order's fixed term ended: status `EXPIRED`.
    Expire,
    /// The notice's hearing window closed without a hearing: status `LAPSED`.
    Lapse,
}

/// The occasion of the trigger that ends an order at its last day.
pub const OCCASION_END: &str = "end";
/// The occasion of the trigger that lapses a notice when its window closes.
pub const OCCASION_LAPSED: &str = "lapsed";

impl TriggerSpec {
    pub fn effect(&self) -> TriggerEffect {
        match (self.kind, self.occasion.as_str()) {
            (AlertKind::OrderExpired, OCCASION_END) => TriggerEffect::Expire,
            (AlertKind::HearingDeadline, OCCASION_LAPSED) => TriggerEffect::Lapse,
            _ => TriggerEffect::None,
        }
    }
}

impl DeadlineKind {
    /// Whether passing the moment without it being met means it was missed (notifications, hearings), rather than
    /// reached (an end date).
    pub fn missable(self) -> bool {
        !matches!(self, DeadlineKind::OrderEnd | DeadlineKind::ConditionEnd)
    }
}

/// The status to show at `now`: an open deadline whose moment has passed is missed (or, for an end date, met).
pub fn effective_deadline_status(
    kind: DeadlineKind,
    stored: DeadlineStatus,
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DeadlineStatus {
    match stored {
        DeadlineStatus::Open if now >= due_at && kind.missable() => DeadlineStatus::Missed,
        DeadlineStatus::Open if now >= due_at => DeadlineStatus::Met,
        other => other,
    }
}

/// `ORDER_EXPIRING` at the end of the day each warning period before `last` (the last day of an order or a
/// condition). A warning that would fall before the order was recorded is not planned, but an order recorded inside
/// its last warning period (e.g. three days before its end, with warnings at 30 and 7 days) is warned of at once:
/// every end is warned of at least once while it is ahead.
fn expiry_warnings<'a>(
    rules: &'a ScheduleRules,
    recorded_at: DateTime<Utc>,
    last: NaiveDate,
    prefix: &'a str,
) -> impl Iterator<Item = TriggerSpec> + 'a {
    let due_at = end_of_day(last);
    let fire_at = move |days: u32| end_of_day(last - Duration::days(i64::from(days)));
    // The shortest warning period, when even its moment passed before the order was recorded.
    let at_once = rules
        .expiry_warning_days
        .iter()
        .copied()
        .min()
        .filter(|days| fire_at(*days) < recorded_at && recorded_at < due_at);
    rules.expiry_warning_days.iter().filter_map(move |days| {
        let planned = fire_at(*days);
        let fire_at = if at_once == Some(*days) {
            recorded_at
        } else if planned >= recorded_at {
            planned
        } else {
            return None;
        };
        Some(TriggerSpec {
            kind: AlertKind::OrderExpiring,
            fire_at,
            due_at,
            occasion: format!("{prefix}{days}d"),
        })
    })
}

/// The deadlines and alert triggers of an order.
pub fn plan(f: &OrderFacts, rules: &ScheduleRules) -> (Vec<DeadlineSpec>, Vec<TriggerSpec>) {
    let mut deadlines = vec![];
    let mut triggers = vec![];
    let in_force = f.status == OrderStatus::InForce;

    // Initial notification: SPA s9 (from service), DA Act s41 (from the day made).
    let initial_due = match f.order_type {
        OrderType::Spo | OrderType::InterimSpo
            if !(f.order_type == OrderType::Spo && f.replaces_notified_interim) =>
        {
            f.served_at.map(|s| {
                (
                    end_of_period_beginning_with(london_date(s), 3),
                    "end of the 3 days beginning with the day of service",
                    "Stalking Protection Act 2019 s9",
                )
            })
        }
        OrderType::Dapo => Some((
            end_of_period_beginning_with(f.made_on, 3),
            "end of the 3 days beginning with the day the order was made",
            "Domestic Abuse Act 2021 s41",
        )),
        _ => None,
    };
    if let Some((due_at, rule, statute)) = initial_due {
        let notified = f
            .notifications
            .iter()
            .filter(|n| n.kind == NotificationKind::Initial)
            .map(|n| n.notified_at)
            .min();
        let (status, met_at) = match notified {
            Some(at) if at < due_at => (DeadlineStatus::Met, Some(at)),
            Some(_) => (DeadlineStatus::Missed, None),
            None if !in_force => (DeadlineStatus::Waived, None),
            None => (DeadlineStatus::Open, None),
        };
        if status == DeadlineStatus::Open {
            triggers.push(TriggerSpec {
                kind: AlertKind::NotificationOverdue,
                fire_at: due_at,
                due_at,
                occasion: "initial".into(),
            });
        }
        deadlines.push(DeadlineSpec {
            kind: DeadlineKind::NotificationInitial,
            occasion: String::new(),
            due_at,
            status,
            met_at,
            rule: rule.into(),
            statute,
        });
    }

    // Changes of name or home address, once notified: met if notified within 3 days beginning with the change.
    for n in &f.notifications {
        let kind = match n.kind {
            NotificationKind::NewName => DeadlineKind::NotificationNewName,
            NotificationKind::HomeAddress => DeadlineKind::NotificationHomeAddress,
            NotificationKind::Initial => continue,
        };
        let Some(changed_on) = n.changed_on else {
            continue;
        };
        let statute = if f.order_type == OrderType::Dapo {
            "Domestic Abuse Act 2021 s41"
        } else {
            "Stalking Protection Act 2019 s9(3),(4)"
        };
        let due_at = end_of_period_beginning_with(changed_on, 3);
        let met = n.notified_at < due_at;
        deadlines.push(DeadlineSpec {
            kind,
            occasion: changed_on.to_string(),
            due_at,
            status: if met {
                DeadlineStatus::Met
            } else {
                DeadlineStatus::Missed
            },
            met_at: met.then_some(n.notified_at),
            rule: "end of the 3 days beginning with the day of the change".into(),
            statute,
        });
    }

    // A notice's hearing window: the DVPO/DAPO application must be heard within 48 hours.
    if matches!(f.order_type, OrderType::Dvpn | OrderType::Dapn) {
        let start = f.served_at.unwrap_or(f.recorded_at);
        let (due_at, rule, statute) = if f.order_type == OrderType::Dapn {
            (hours_excluding(start, NOTICE_HEARING_HOURS, &rules.excluded), "48 hours from the notice, not counting Sundays, Christmas Day, Good Friday or bank holidays", "Domestic Abuse Act 2021 s29")
        } else if DVPN_WINDOW_EXCLUDES_DAYS {
            (
                hours_excluding(start, NOTICE_HEARING_HOURS, &rules.excluded),
                "48 hours from service, not counting excluded days",
                "Crime and Security Act 2010 s27",
            )
        } else {
            (
                start + Duration::hours(NOTICE_HEARING_HOURS),
                "48 hours from service of the notice",
                "Crime and Security Act 2010 s27",
            )
        };
        let held = f
            .hearings
            .iter()
            .filter(|h| h.outcome == Some(HearingOutcome::Heard))
            .filter_map(|h| h.held_at)
            .filter(|at| *at <= due_at)
            .min();
        let (status, met_at) = match (held, f.status) {
            (Some(at), _) => (DeadlineStatus::Met, Some(at)),
            // Replaced by the order applied for: the application was determined.
            (None, OrderStatus::Replaced) => (DeadlineStatus::Met, None),
            (None, OrderStatus::Lapsed) => (DeadlineStatus::Missed, None),
            (None, OrderStatus::InForce) => (DeadlineStatus::Open, None),
            (None, _) => (DeadlineStatus::Waived, None),
        };
        if status == DeadlineStatus::Open {
            for w in &rules.hearing_warnings {
                triggers.push(TriggerSpec {
                    kind: AlertKind::HearingDeadline,
                    fire_at: due_at - *w,
                    due_at,
                    occasion: format!("{}h", w.num_hours()),
                });
            }
            triggers.push(TriggerSpec {
                kind: AlertKind::HearingDeadline,
                fire_at: due_at,
                due_at,
                occasion: OCCASION_LAPSED.into(),
            });
        }
        deadlines.push(DeadlineSpec {
            kind: DeadlineKind::HearingWindow,
            occasion: String::new(),
            due_at,
            status,
            met_at,
            rule: rule.into(),
            statute,
        });
    }

    // The order's end, and the ends of conditions that end before it.
    if let Some(last) = f.expires_on {
        let due_at = end_of_day(last);
        let status = match f.status {
            OrderStatus::InForce => DeadlineStatus::Open,
            OrderStatus::Expired => DeadlineStatus::Met,
            _ => DeadlineStatus::Waived,
        };
        if in_force {
            triggers.extend(expiry_warnings(rules, f.recorded_at, last, ""));
            triggers.push(TriggerSpec {
                kind: AlertKind::OrderExpired,
                fire_at: due_at,
                due_at,
                occasion: OCCASION_END.into(),
            });
            if f.order_type == OrderType::InterimSpo {
                let point =
                    end_of_day(last - Duration::days(i64::from(rules.interim_warning_days)));
                triggers.push(TriggerSpec {
                    kind: AlertKind::InterimExpiringMainPending,
                    fire_at: point.max(f.recorded_at),
                    due_at,
                    occasion: format!("{}d", rules.interim_warning_days),
                });
            }
        }
        deadlines.push(DeadlineSpec {
            kind: DeadlineKind::OrderEnd,
            occasion: String::new(),
            due_at,
            status,
            met_at: None,
            rule: "the end of the order's last day".into(),
            statute: f.order_type.rules().statute,
        });
    }
    for (id, c_last) in &f.conditions {
        let Some(c_last) = c_last else { continue };
        if f.expires_on.is_some_and(|last| *c_last >= last) {
            continue;
        }
        let due_at = end_of_day(*c_last);
        let status = if in_force {
            DeadlineStatus::Open
        } else {
            DeadlineStatus::Waived
        };
        if in_force {
            triggers.extend(expiry_warnings(
                rules,
                f.recorded_at,
                *c_last,
                &format!("condition:{id}:"),
            ));
        }
        deadlines.push(DeadlineSpec {
            kind: DeadlineKind::ConditionEnd,
            occasion: id.clone(),
            due_at,
            status,
            met_at: None,
            rule: "the end of the condition's last day".into(),
            statute: f.order_type.rules().statute,
        });
    }

    // An order nobody has served.
    if in_force && f.served_at.is_none() {
        let at = f.recorded_at + rules.unserved_after;
        triggers.push(TriggerSpec {
            kind: AlertKind::UnservedOrder,
            fire_at: at,
            due_at: at,
            occasion: "unserved".into(),
        });
    }
    (deadlines, triggers)
}

#[cfg(test)]
mod tests {
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
            replaces_notified_interim: false,
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
    fn spo_initial_notification_is_due_at_the_end_of_service_day_plus_two_across_the_clock_change()
    {
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
        g.replaces_notified_interim = true;
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
            kind: NotificationKind::HomeAddress,
            notified_at: t("2026-06-03T22:00:00Z"),
            changed_on: Some(d("2026-06-01")),
        });
        f.notifications.push(NotificationFact {
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
    fn a_dvpn_window_is_forty_eight_clock_hours_while_unverified() {
        let mut f = spo();
        f.order_type = OrderType::Dvpn;
        f.expires_on = None;
        f.served_at = Some(t("2026-11-27T18:00:00Z"));
        assert_eq!(
            deadline(&f, DeadlineKind::HearingWindow).due_at,
            t("2026-11-29T18:00:00Z")
        );
    }

    #[test]
    fn an_order_no_longer_in_force_plans_no_alerts_and_waives_what_is_open() {
        let mut f = spo();
        f.status = OrderStatus::Discharged;
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
}
