//! GraphQL enums, each mirroring a domain or auth enum (`remote` generates the conversions both ways), so the API
//! names and the stored codes are one list.

use async_graphql::Enum;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "OrderType", remote = "crate::domain::OrderType")]
pub enum OrderType {
    Spo,
    InterimSpo,
    Dvpn,
    Dvpo,
    Dapn,
    Dapo,
    RestrainingOrder,
    NonMolestationOrder,
    Shpo,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "OrderStatus", remote = "crate::domain::OrderStatus")]
pub enum OrderStatus {
    InForce,
    Expired,
    Discharged,
    Replaced,
    Ceased,
    Quashed,
    Lapsed,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ServiceStatus", remote = "crate::domain::ServiceStatus")]
pub enum ServiceStatus {
    Unserved,
    Served,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ServiceMethod", remote = "crate::domain::ServiceMethod")]
pub enum ServiceMethod {
    Personal,
    InCourt,
    Post,
    OtherAuthorised,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ConditionKind", remote = "crate::domain::ConditionKind")]
pub enum ConditionKind {
    Prohibition,
    Requirement,
    /// An electronic monitoring requirement of a DAPO: it must end within 12 months of the day the order is made
    /// (Domestic Abuse Act 2021 s38(5)).
    ElectronicMonitoring,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "OrderEvent", remote = "crate::domain::OrderEvent")]
pub enum OrderEvent {
    Granted,
    Varied,
    Renewed,
    Discharged,
    Replaced,
    Expired,
    Lapsed,
    /// The application a notice or interim SPO waited on was refused or withdrawn.
    Ceased,
    /// Quashed on appeal by the Crown Court.
    Quashed,
    /// The event a DAPO lasted until occurred: its last day is the day it did.
    EventOccurred,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AgencyKind", remote = "crate::domain::AgencyKind")]
pub enum AgencyKind {
    PoliceForce,
    Court,
    /// A court that hears appeals (and may quash orders made by other courts); its officers use the COURT role.
    CrownCourt,
    AdvocacyService,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Role", remote = "crate::auth::Role")]
pub enum Role {
    Court,
    Police,
    Advocate,
    Admin,
    Auditor,
    /// Aggregate statistics across forces, and nothing else.
    Analyst,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AlertKind", remote = "crate::domain::alert::AlertKind")]
pub enum AlertKind {
    BreachReported,
    OrderServed,
    NotificationOverdue,
    UnservedOrder,
    OrderExpiring,
    OrderExpired,
    OrderDischarged,
    /// A notice or interim SPO ended because the application it waited on was refused or withdrawn.
    OrderCeased,
    /// The order was quashed on appeal.
    OrderQuashed,
    OrderVaried,
    OrderRenewed,
    OrderReplaced,
    HearingDeadline,
    InterimExpiringMainPending,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Severity", remote = "crate::domain::alert::Severity")]
pub enum Severity {
    Info,
    Warning,
    Urgent,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "BreachOutcome", remote = "crate::domain::alert::BreachOutcome")]
pub enum BreachOutcome {
    Reported,
    UnderInvestigation,
    NoFurtherAction,
    Charged,
    Convicted,
    Acquitted,
    ContemptFound,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "DeadlineKind",
    remote = "crate::domain::schedule::DeadlineKind"
)]
pub enum DeadlineKind {
    NotificationInitial,
    NotificationNewName,
    NotificationHomeAddress,
    /// A DAPO subject who ceased to have any home address (Domestic Abuse Act 2021 s41(6)).
    NotificationNoHomeAddress,
    HearingWindow,
    OrderEnd,
    ConditionEnd,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "DeadlineStatus",
    remote = "crate::domain::schedule::DeadlineStatus"
)]
pub enum DeadlineStatus {
    Open,
    Met,
    Missed,
    Waived,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "NotificationKind",
    remote = "crate::domain::schedule::NotificationKind"
)]
pub enum NotificationKind {
    Initial,
    NewName,
    HomeAddress,
    /// The subject of a DAPO ceased to have any home address (Domestic Abuse Act 2021 s41(6)); `changedOn` is the
    /// day that happened.
    NoHomeAddress,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "NotificationSource",
    remote = "crate::domain::schedule::NotificationSource"
)]
pub enum NotificationSource {
    /// The subject notified the police.
    Subject,
    /// The police learnt of the change from elsewhere; the subject has still to notify it.
    Police,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "HearingOutcome",
    remote = "crate::domain::schedule::HearingOutcome"
)]
pub enum HearingOutcome {
    /// The application was heard and decided (for a notice: the order is then recorded with `replacesReference`).
    Heard,
    /// The hearing began and was adjourned: a notice stays in force until the application is determined or
    /// withdrawn (CSA 2010 s27(9), DA Act 2021 s29(7)).
    Adjourned,
    /// The listing was cancelled before the hearing began.
    Vacated,
    /// The application was refused: a notice, or an interim SPO awaiting it, ceases (`CEASED`).
    Refused,
    /// The application was withdrawn: a notice, or an interim SPO awaiting it, ceases (`CEASED`).
    Withdrawn,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "AuditOperation",
    remote = "crate::domain::audit::AuditOperation"
)]
pub enum AuditOperation {
    Collect,
    Alter,
    Consult,
    Disclose,
    Combine,
    Erase,
    AuthFailure,
    Denied,
}

/// Why a court made an SPO with no police application.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "CourtMotion",
    remote = "crate::domain::application::CourtMotion"
)]
pub enum CourtMotion {
    /// Of its own motion, on convicting the subject of an offence.
    OnConviction,
    /// Of its own motion, on acquitting the subject.
    OnAcquittal,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "InternalDecision",
    remote = "crate::domain::application::InternalDecision"
)]
pub enum InternalDecision {
    Authorised,
    Refused,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "InternalRefusalReason",
    remote = "crate::domain::application::InternalRefusalReason"
)]
pub enum InternalRefusalReason {
    InsufficientEvidence,
    /// The statutory test for the order is not met.
    TestNotMet,
    OtherMeasuresInPlace,
    VictimDoesNotSupport,
    SubjectInCustody,
    Other,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "CourtOutcome",
    remote = "crate::domain::application::CourtOutcome"
)]
pub enum CourtOutcome {
    Granted,
    Refused,
    Withdrawn,
    /// Not a decision: a later outcome follows.
    Adjourned,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "CourtRefusalReason",
    remote = "crate::domain::application::CourtRefusalReason"
)]
pub enum CourtRefusalReason {
    TestNotMet,
    InsufficientEvidence,
    NotNecessary,
    ProceduralDefect,
    Other,
}

/// Whose figures each statistics row holds.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "StatisticsBy", remote = "crate::domain::statistics::GroupBy")]
pub enum StatisticsBy {
    /// The force that applied for the orders (or issued the notices).
    Force,
    /// The court that made the orders, or that the applications went to.
    Court,
}
