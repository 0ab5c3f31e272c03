//! What is due for an order, as pure functions of its facts: the statutory deadlines (DOMAIN.md, Deadlines) with
//! their status, and the alerts to raise and when (DOMAIN.md, Alerts). The service stores both and re-plans on every
//! change; the scheduled checks only fire what this says is due.
//!
//! One file per rule: the subject's notifications (`notification`), a notice's hearing window (`hearing`), the ends
//! of orders and conditions (`ends`), service (`service`). A new deadline or alert is a function in one of them (or
//! a new file) and a line in [`RULES`].

use super::alert::AlertKind;
use super::calendar::{
    end_of_day, end_of_period_beginning_with, hours_excluding, london_date, ExcludedDays,
};
use super::{OrderStatus, OrderType};
use chrono::{DateTime, Duration, NaiveDate, Utc};

mod ends;
mod hearing;
mod notification;
mod other_orders;
mod service;

pub use other_orders::other_order_cover;

code_enum!(
    /// A statutory deadline or end date watched for an order.
    DeadlineKind {
        NotificationInitial => "NOTIFICATION_INITIAL",
        NotificationNewName => "NOTIFICATION_NEW_NAME",
        NotificationHomeAddress => "NOTIFICATION_HOME_ADDRESS",
        NotificationNoHomeAddress => "NOTIFICATION_NO_HOME_ADDRESS",
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
        NoHomeAddress => "NO_HOME_ADDRESS",
    }
);

code_enum!(
    /// Who told the police: the subject, meeting the duty to notify, or someone else (the police learnt of a change
    /// the subject has still to notify).
    NotificationSource {
        Subject => "SUBJECT",
        Police => "POLICE",
    }
);

code_enum!(
    /// What happened at a hearing.
    HearingOutcome {
        Heard => "HEARD",
        Adjourned => "ADJOURNED",
        Refused => "REFUSED",
        Withdrawn => "WITHDRAWN",
        Vacated => "VACATED",
    }
);

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

/// A notification to record: what the police were told, by whom, when, and of which day's change.
#[derive(Debug, Clone)]
pub struct NotificationDraft {
    pub kind: NotificationKind,
    pub source: NotificationSource,
    pub notified_at: DateTime<Utc>,
    pub changed_on: Option<NaiveDate>,
    /// The name or address notified (for the managing force only).
    pub details: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NotificationFact {
    pub kind: NotificationKind,
    pub source: NotificationSource,
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
    /// A full SPO replacing an interim SPO: no initial notification is due for it (SPA 2019 s9(1)(a)), whether or
    /// not the interim's was made.
    pub replaces_interim: bool,
    /// The subject's Sexual Offences Act 2003 Part 2 notification when an SPO was made: its own requirements apply
    /// only from the day those end (SPA 2019 s9(5)-(7)).
    pub soa_notification: Option<crate::domain::order::SoaNotification>,
    /// For a DAPO: the notification requirements of other orders of its subject when it was made (another DAPO, an
    /// SPO or interim SPO), under which its own do not apply (DA Act 2021 s41(8)(a), (b)).
    pub other_orders: Option<OtherOrderCover>,
    /// The earliest the order can have stopped being in force (`None` while it is; `OrderRecord::ended_from`). A
    /// deadline that fell due before it stays missed.
    pub ended_at: Option<DateTime<Utc>>,
    pub notifications: Vec<NotificationFact>,
    pub hearings: Vec<HearingFact>,
}

/// Notification requirements under other orders of the subject that displace a DAPO's own while they last (Domestic
/// Abuse Act 2021 s41(8)(a), (b)): `final_day` is the day the last of them ceases, `None` while one lasts
/// indefinitely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtherOrderCover {
    pub final_day: Option<NaiveDate>,
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

/// What `plan` builds: the deadlines of an order and the triggers of its alerts.
#[derive(Debug, Default)]
pub(super) struct Plan {
    pub deadlines: Vec<DeadlineSpec>,
    pub triggers: Vec<TriggerSpec>,
}

impl OrderFacts {
    /// The status of a deadline due at `due_at` that nothing met: open while the order is in force; missed if it
    /// fell due while the order was in force (the evidence of an offence, SPA 2019 s11, DA Act 2021 s42); waived
    /// only if the order ended before it fell due.
    pub fn unmet(&self, due_at: DateTime<Utc>) -> DeadlineStatus {
        match self.ended_at {
            None if self.status == OrderStatus::InForce => DeadlineStatus::Open,
            Some(ended) if ended < due_at => DeadlineStatus::Waived,
            None => DeadlineStatus::Waived,
            Some(_) => DeadlineStatus::Missed,
        }
    }
}

/// The rules of the schedule, one function each; each adds what it finds due to the plan.
const RULES: &[fn(&OrderFacts, &ScheduleRules, &mut Plan)] = &[
    notification::initial_notification,
    notification::changes_notified,
    hearing::hearing_window,
    ends::order_end,
    ends::condition_ends,
    service::unserved,
];

/// The deadlines and alert triggers of an order.
pub fn plan(f: &OrderFacts, rules: &ScheduleRules) -> (Vec<DeadlineSpec>, Vec<TriggerSpec>) {
    let mut out = Plan::default();
    for rule in RULES {
        rule(f, rules, &mut out);
    }
    (out.deadlines, out.triggers)
}

#[cfg(test)]
mod tests;
