//! An order as the rest of the service sees it: plain records, loaded whole (subject, protected persons,
//! conditions, history), so that reading one never needs another query.

use super::alert::BreachOutcome;
use super::application::CourtMotion;
use super::schedule::{
    DeadlineKind, DeadlineStatus, HearingOutcome, NotificationKind, NotificationSource,
};
use super::{
    AgencyKind, ConditionKind, OrderEvent, OrderStatus, OrderType, ServiceMethod, ServiceStatus,
};
use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyRecord {
    pub code: String,
    pub name: String,
    pub kind: AgencyKind,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct ProtectedPersonRecord {
    pub id: String,
    pub name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub contact: Option<String>,
}

/// A condition and the versions of its order it belongs to (`added_in_version..removed_in_version`).
#[derive(Debug, Clone)]
pub struct ConditionRecord {
    pub id: String,
    pub kind: ConditionKind,
    pub text: String,
    pub expires_on: Option<NaiveDate>,
    pub added_in_version: i64,
    pub removed_in_version: Option<i64>,
}

impl ConditionRecord {
    /// Whether the condition is part of the order's terms as of `version`.
    pub fn in_version(&self, version: i64) -> bool {
        self.added_in_version <= version && self.removed_in_version.is_none_or(|r| version < r)
    }
}

/// One entry of an order's history: the terms as they stood after an event.
#[derive(Debug, Clone)]
pub struct VersionRecord {
    pub version: i64,
    pub event: OrderEvent,
    pub status: OrderStatus,
    pub expires_on: Option<NaiveDate>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
    pub recorded_by_agency: String,
    pub note: Option<String>,
    /// The day the court decided (vary, renew, discharge, quash), which may be before the day it was recorded.
    pub decided_on: Option<NaiveDate>,
    /// A DAPO varied without notice to the subject (Domestic Abuse Act 2021 s45(8)), and when police record the
    /// subject became aware of the variation.
    pub without_notice: bool,
    pub aware_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct ServiceRecord {
    pub status: ServiceStatus,
    pub served_at: Option<DateTime<Utc>>,
    pub method: Option<ServiceMethod>,
    pub served_by_agency: Option<String>,
    pub served_by: Option<String>,
    /// When the subject became aware of the order other than by service, as police recorded it.
    pub aware_at: Option<DateTime<Utc>>,
}

/// The subject of an SPO or interim SPO was, when it was made, subject to notification requirements under Part 2 of
/// the Sexual Offences Act 2003: the order's own do not apply while those last, and apply from the day they end
/// (Stalking Protection Act 2019 s9(5)-(7)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoaNotification {
    /// The day the subject ceases to be subject to them (the "final day"); `None` while they last indefinitely.
    pub final_day: Option<NaiveDate>,
    /// The day they began, when after the order was made; `None` when the subject was already subject to them then.
    pub start_day: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct OrderRecord {
    pub id: String,
    pub reference: String,
    pub order_type: OrderType,
    /// As stored; see [`super::status::effective_status`] for what to show.
    pub status: OrderStatus,
    pub made_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub applicant: AgencyRecord,
    /// The court that made the order; `None` for police-issued notices.
    pub court: Option<AgencyRecord>,
    pub subject_names: Vec<String>,
    pub subject_date_of_birth: Option<NaiveDate>,
    pub protected_persons: Vec<ProtectedPersonRecord>,
    /// Every condition the order has ever had; [`OrderRecord::current_conditions`] gives the ones in force.
    pub conditions: Vec<ConditionRecord>,
    pub versions: Vec<VersionRecord>,
    pub version: i64,
    pub service: ServiceRecord,
    /// Made without notice to the subject.
    pub without_notice: bool,
    /// The subject's Sexual Offences Act 2003 Part 2 notification when the order was made (SPOs only).
    pub soa_notification: Option<SoaNotification>,
    /// A DAPO having effect until an event occurs (DA Act 2021 s38(3)), as the order words it.
    pub until_event: Option<String>,
    /// An SPO the court made of its own motion, on conviction or acquittal, with no police application.
    pub court_motion: Option<CourtMotion>,
    pub replaces_reference: Option<String>,
    pub replaced_by_reference: Option<String>,
    /// Live consents to share the order with advocacy services.
    pub shares: Vec<ShareRecord>,
    /// Breaches reported, oldest first.
    pub breaches: Vec<BreachRecord>,
    /// The subject's notifications to the police, oldest first.
    pub notifications: Vec<NotificationRecord>,
    pub hearings: Vec<HearingRecord>,
    /// Deadlines as last planned, by due moment.
    pub deadlines: Vec<DeadlineRecord>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Which of the parts above were loaded; one not loaded is empty here, not empty in the record.
    pub loaded: OrderParts,
}

/// Which of an order's parts a read loads. Changes, checks and any reader that does not say what it needs load the
/// parts every order has (subject names, protected persons, conditions, consents to share, hearings) and the
/// histories they need. A GraphQL read loads only what its selection shows, plus what the access policy needs to
/// decide on the caller's sight of the order (`for_scope`): a read of a few fields then skips the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderParts {
    pub versions: bool,
    pub breaches: bool,
    pub notifications: bool,
    pub deadlines: bool,
    pub names: bool,
    pub persons: bool,
    pub conditions: bool,
    pub shares: bool,
    pub hearings: bool,
}

impl OrderParts {
    /// None of the histories, every other part: for a change that checks only the order's own facts and parts.
    pub const NONE: OrderParts = OrderParts {
        versions: false,
        breaches: false,
        notifications: false,
        deadlines: false,
        names: true,
        persons: true,
        conditions: true,
        shares: true,
        hearings: true,
    };

    /// Everything: for changes, checks and any reader that does not say what it needs.
    pub const ALL: OrderParts = OrderParts {
        versions: true,
        breaches: true,
        notifications: true,
        deadlines: true,
        names: true,
        persons: true,
        conditions: true,
        shares: true,
        hearings: true,
    };

    /// These parts and those the access policy reads to decide whether a caller of `scope` sees an order and which
    /// of its protected persons: a court's sight rests on hearings, an advocacy service's on consents to share.
    pub fn for_scope(self, scope: &super::scope::RowScope) -> OrderParts {
        use super::scope::RowScope;
        let mut parts = self;
        match scope {
            RowScope::All | RowScope::Nothing => {}
            RowScope::Court(_) => parts.hearings = true,
            RowScope::SharedWith(_) => parts.shares = true,
        }
        parts
    }
}

/// A protected person's consent to share an order with an advocacy service.
#[derive(Debug, Clone)]
pub struct ShareRecord {
    pub id: String,
    pub order_id: String,
    pub protected_person_id: String,
    pub advocacy_agency: String,
    pub recorded_by_agency: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A notification the subject made to the police (initial, new name, new home address).
#[derive(Debug, Clone)]
pub struct NotificationRecord {
    pub id: String,
    pub kind: NotificationKind,
    pub source: NotificationSource,
    pub notified_at: DateTime<Utc>,
    pub changed_on: Option<NaiveDate>,
    /// The name or address notified: for the managing force only.
    pub details: Option<String>,
    pub recorded_by_agency: String,
    pub created_at: DateTime<Utc>,
}

/// A hearing listed by a court.
#[derive(Debug, Clone)]
pub struct HearingRecord {
    pub id: String,
    pub court_agency: String,
    pub scheduled_for: DateTime<Utc>,
    pub outcome: Option<HearingOutcome>,
    pub held_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A deadline as stored (its shown status also depends on the time: see `schedule::effective_deadline_status`).
#[derive(Debug, Clone)]
pub struct DeadlineRecord {
    pub id: String,
    pub order_id: String,
    pub kind: DeadlineKind,
    pub occasion: String,
    pub due_at: DateTime<Utc>,
    pub status: DeadlineStatus,
    pub met_at: Option<DateTime<Utc>>,
    pub rule: String,
    pub statute: String,
}

/// One outcome of a breach, as recorded.
#[derive(Debug, Clone)]
pub struct OutcomeRecord {
    pub outcome: BreachOutcome,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by_agency: String,
    pub note: Option<String>,
}

/// A reported breach of an order. A breach is an event on an order; it never ends the order.
#[derive(Debug, Clone)]
pub struct BreachRecord {
    pub id: String,
    pub order_id: String,
    pub reported_by_agency: String,
    pub external_ref: String,
    pub occurred_at: DateTime<Utc>,
    pub description: String,
    pub outcome: BreachOutcome,
    pub condition_ids: Vec<String>,
    /// Every outcome, oldest first (the first is `REPORTED`).
    pub outcomes: Vec<OutcomeRecord>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether the force also recorded it as a crime.
    pub recorded_as_crime: bool,
    /// Which breach of its order it is, by when it occurred: 1 for the first.
    pub ordinal: i64,
}

impl OrderRecord {
    /// Since when the subject has known of the order: the earlier of service and the awareness police recorded.
    pub fn subject_aware_since(&self) -> Option<DateTime<Utc>> {
        match (self.service.served_at, self.service.aware_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The latest the order can have stopped being in force, as its history shows (`None` while it is): the end of
    /// its last day for an expired order; otherwise when the version that ended it was recorded, or the end of the day
    /// decided if that was earlier. A breach after this moment was after the order ended. Needs the versions loaded.
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        match self.status {
            OrderStatus::InForce => None,
            OrderStatus::Expired => self.expires_on.map(crate::domain::calendar::end_of_day),
            // A decision recorded after the day it was made ended the order by the end of that day.
            _ => self
                .versions
                .iter()
                .find(|v| v.status != OrderStatus::InForce)
                .map(|v| match v.decided_on {
                    Some(day) => v.recorded_at.min(crate::domain::calendar::end_of_day(day)),
                    None => v.recorded_at,
                }),
        }
    }

    /// The earliest the order can have stopped being in force, as its history shows (`None` while it is): for a
    /// decision recorded after the day it was made, the start of that day. A deadline due after this moment was not
    /// yet due when the order ended, so it is waived, never counted as missed.
    pub fn ended_from(&self) -> Option<DateTime<Utc>> {
        match self.status {
            OrderStatus::InForce => None,
            OrderStatus::Expired => self.expires_on.map(crate::domain::calendar::end_of_day),
            _ => self
                .versions
                .iter()
                .find(|v| v.status != OrderStatus::InForce)
                .map(|v| match v.decided_on {
                    Some(day) => v.recorded_at.min(crate::domain::calendar::end_of_day(
                        day - chrono::Duration::days(1),
                    )),
                    None => v.recorded_at,
                }),
        }
    }

    /// Whether the order is shared with this advocacy service (for any protected person).
    pub fn is_shared_with(&self, agency: &str) -> bool {
        self.shares.iter().any(|s| s.advocacy_agency == agency)
    }

    pub fn current_conditions(&self) -> impl Iterator<Item = &ConditionRecord> {
        self.conditions
            .iter()
            .filter(|c| c.in_version(self.version))
    }
}
