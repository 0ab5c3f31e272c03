//! A statutory deadline, a notification by the subject and a court hearing, as each role may see them.

use crate::domain::order::{DeadlineRecord, HearingRecord, NotificationRecord};
use crate::domain::schedule::effective_deadline_status;
use crate::graphql::enums::{
    DeadlineKind, DeadlineStatus, HearingOutcome, NotificationKind, NotificationSource,
};
use crate::graphql::scalars::{Date, DateTime};
use async_graphql::{Object, ID};
use chrono_tz::Europe::London;

/// A statutory deadline or end date of an order, computed by the rules in the domain notes.
pub struct Deadline {
    rec: DeadlineRecord,
    order_reference: String,
    now: chrono::DateTime<chrono::Utc>,
}

impl Deadline {
    pub fn new(
        rec: DeadlineRecord,
        order_reference: String,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        Deadline {
            rec,
            order_reference,
            now,
        }
    }
}

#[Object]
impl Deadline {
    async fn id(&self) -> ID {
        ID(self.rec.id.clone())
    }
    async fn kind(&self) -> DeadlineKind {
        self.rec.kind.into()
    }
    async fn order_reference(&self) -> &str {
        &self.order_reference
    }
    /// The moment it falls due, UTC. A period "beginning with" a day ends at midnight London time.
    async fn due_at(&self) -> DateTime {
        self.rec.due_at.into()
    }
    /// The same moment in Europe/London time (RFC 3339 with the UK offset in force then).
    async fn due_local(&self) -> String {
        self.rec.due_at.with_timezone(&London).to_rfc3339()
    }
    /// `OPEN` until met or waived; an open notification or hearing deadline whose moment has passed is `MISSED`,
    /// an end date that has passed is `MET`.
    async fn status(&self) -> DeadlineStatus {
        effective_deadline_status(self.rec.kind, self.rec.status, self.rec.due_at, self.now).into()
    }
    async fn met_at(&self) -> Option<DateTime> {
        self.rec.met_at.map(Into::into)
    }
    /// How the moment is computed, in words.
    async fn rule(&self) -> &str {
        &self.rec.rule
    }
    async fn statute(&self) -> &str {
        &self.rec.statute
    }
}

/// A notification the subject made to the police.
pub struct Notification(pub NotificationRecord);

#[Object]
impl Notification {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn kind(&self) -> NotificationKind {
        self.0.kind.into()
    }
    /// Who told the police: the subject, or (`POLICE`) the police learnt of the change elsewhere.
    async fn source(&self) -> NotificationSource {
        self.0.source.into()
    }
    async fn notified_at(&self) -> DateTime {
        self.0.notified_at.into()
    }
    /// The day the name or home address changed.
    async fn changed_on(&self) -> Option<Date> {
        self.0.changed_on.map(Date)
    }
    /// The name or address notified.
    async fn details(&self) -> Option<&str> {
        self.0.details.as_deref()
    }
    async fn recorded_by_agency(&self) -> &str {
        &self.0.recorded_by_agency
    }
}

/// A hearing listed by a court.
pub struct Hearing(pub HearingRecord);

#[Object]
impl Hearing {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn court(&self) -> &str {
        &self.0.court_agency
    }
    async fn scheduled_for(&self) -> DateTime {
        self.0.scheduled_for.into()
    }
    async fn outcome(&self) -> Option<HearingOutcome> {
        self.0.outcome.map(Into::into)
    }
    /// When it began, for a hearing that was heard.
    async fn held_at(&self) -> Option<DateTime> {
        self.0.held_at.map(Into::into)
    }
}
