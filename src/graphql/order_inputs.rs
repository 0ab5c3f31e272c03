//! The input objects of the core mutations: agencies, and an order's grant and court decisions.

use super::enums::{AgencyKind, ConditionKind, CourtMotion, OrderType};
use super::scalars::Date;
use crate::domain::validation::ConditionDraft;
use async_graphql::{InputObject, MaybeUndefined};

#[derive(InputObject)]
pub struct CreateAgencyInput {
    /// 2 to 32 characters: upper-case letters, digits and `-`, starting with a letter (e.g. `MET`, `WMC-01`).
    pub code: String,
    pub name: String,
    pub kind: AgencyKind,
}

#[derive(InputObject)]
pub struct SubjectInput {
    /// Every name the subject is known by; at least one.
    pub names: Vec<String>,
    pub date_of_birth: Option<Date>,
}

#[derive(InputObject)]
pub struct ProtectedPersonInput {
    pub name: String,
    pub date_of_birth: Option<Date>,
    /// Contact details; only the managing force can read them back.
    pub contact: Option<String>,
}

#[derive(InputObject)]
pub struct ConditionInput {
    pub kind: ConditionKind,
    pub text: String,
    /// The condition's own last day, if it ends before the order.
    pub expires_on: Option<Date>,
}

impl From<ConditionInput> for ConditionDraft {
    fn from(c: ConditionInput) -> Self {
        ConditionDraft {
            kind: c.kind.into(),
            text: c.text,
            expires_on: c.expires_on.map(|d| d.0),
        }
    }
}

#[derive(InputObject)]
pub struct GrantOrderInput {
    /// The unique case reference.
    pub reference: String,
    #[graphql(name = "type")]
    pub order_type: OrderType,
    /// The police force that applied for the order or manages it.
    pub applicant_agency: String,
    /// The court making the order; defaults to the caller's court. Omit for police notices (DVPN, DAPN).
    pub court: Option<String>,
    pub subject: SubjectInput,
    pub protected_persons: Vec<ProtectedPersonInput>,
    pub made_on: Date,
    /// The last day of a fixed term; null for "until further order".
    pub expires_on: Option<Date>,
    #[graphql(default)]
    pub conditions: Vec<ConditionInput>,
    /// The interim order or notice this order replaces (e.g. the interim SPO a full SPO replaces).
    pub replaces_reference: Option<String>,
    /// Made without notice to the subject: a breach of a non-molestation order or DAPO is then an offence only once
    /// the subject was aware of it (service, or `recordAwareness`): Family Law Act 1996 s42A(2), Domestic Abuse Act
    /// 2021 s39(2).
    #[graphql(default)]
    pub without_notice: bool,
    /// For an SPO or interim SPO whose subject is subject to notification requirements under Part 2 of the Sexual
    /// Offences Act 2003: the order's own then apply only from the day those end (Stalking Protection Act 2019
    /// s9(5)-(7)), and likewise a DAPO's (Domestic Abuse Act 2021 s41(8)-(9)). For an SHPO, that its subject was a relevant offender when it was made, with no `finalDay`: they
    /// notify under that registration (s103G(1)); without it the SHPO makes them one, notifying within 3 days
    /// beginning with the day of service (s103G(2)-(3), s83(1)).
    pub soa_part2_notification: Option<SoaNotificationInput>,
    /// A DAPO having effect until an event occurs, as the order words it (Domestic Abuse Act 2021 s38(3)); then no
    /// `expiresOn`. When it occurs the court records it with `recordEndingEvent`.
    pub until_event: Option<String>,
    /// An SPO the court makes of its own motion on convicting or acquitting the subject, with no police
    /// application (the Crime and Policing Bill's provision; only where the deployment enables it with
    /// `ORDERWATCH_COURT_MADE_SPO`). `applicantAgency` then names the force that manages the order.
    pub court_motion: Option<CourtMotion>,
    pub note: Option<String>,
}

/// The subject's notification requirements under Part 2 of the Sexual Offences Act 2003.
#[derive(InputObject)]
pub struct SoaNotificationInput {
    /// The day the subject ceases to be subject to them (after the day the order is made); omit while they last
    /// indefinitely.
    pub final_day: Option<Date>,
    /// For an SPO or DAPO: the day they began, when the subject became subject to them after the order was made
    /// (their own requirements are then suspended from that day to `finalDay`: Stalking Protection Act 2019 s9(5),
    /// Domestic Abuse Act 2021 s41(8)(b)); omit when the subject was already subject to them when it was made.
    pub start_day: Option<Date>,
}

#[derive(InputObject)]
pub struct VaryOrderInput {
    pub reference: String,
    /// A new last day; null makes it run until further order; omit to keep it.
    pub expires_on: MaybeUndefined<Date>,
    /// The full new set of conditions; omit to keep them.
    pub conditions: Option<Vec<ConditionInput>>,
    /// The day the court decided (default: today); not after today, not before the order was made.
    pub decided_on: Option<Date>,
    pub note: Option<String>,
    /// A DAPO varied without notice of the proceedings to the subject (Domestic Abuse Act 2021 s45(8)): a breach of a
    /// requirement it adds, or in a period it extends, counts only once the subject is aware of the variation
    /// (`recordAwareness` with `variation`).
    #[graphql(default)]
    pub without_notice: bool,
}

#[derive(InputObject)]
pub struct RenewOrderInput {
    pub reference: String,
    /// The new last day; must be after the current one.
    pub expires_on: Date,
    /// The day the court decided (default: today); not after today, not before the order was made.
    pub decided_on: Option<Date>,
    pub note: Option<String>,
    /// A DAPO varied without notice of the proceedings to the subject (Domestic Abuse Act 2021 s45(8)): a breach of a
    /// requirement it adds, or in a period it extends, counts only once the subject is aware of the variation
    /// (`recordAwareness` with `variation`).
    #[graphql(default)]
    pub without_notice: bool,
}

#[derive(InputObject)]
pub struct DischargeOrderInput {
    pub reference: String,
    /// Needed to discharge an SPO before the end of 2 years beginning with the day it was made, counted to
    /// `decidedOn` (SPA 2019 s4(4)(b)).
    #[graphql(default)]
    pub consent_of_subject_and_chief_officer: bool,
    /// The day the court decided (default: today); not after today, not before the order was made.
    pub decided_on: Option<Date>,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct RecordEndingEventInput {
    /// A DAPO made to have effect until an event (`untilEvent`).
    pub reference: String,
    /// The day the event occurred: not after today, not before the order was made. The order is in force to the end
    /// of that day.
    pub occurred_on: Date,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct QuashOrderInput {
    pub reference: String,
    /// The day the court decided (default: today); not after today, not before the order was made.
    pub decided_on: Option<Date>,
    pub note: Option<String>,
}
