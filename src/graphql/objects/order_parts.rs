//! The parts of an order as GraphQL shows them: the people it protects, its conditions and its history.

use super::order::withheld;
use crate::auth::policy;
use crate::domain::calendar::end_of_day;
use crate::domain::order::{ConditionRecord, OrderRecord, ProtectedPersonRecord, VersionRecord};
use crate::graphql::enums::*;
use crate::graphql::scalars::{Date, DateTime};
use async_graphql::{Context, Object};
use std::sync::Arc;

/// A person the order protects.
pub struct ProtectedPerson {
    pub(super) rec: ProtectedPersonRecord,
    pub(super) may_see_contact: bool,
}

#[Object]
impl ProtectedPerson {
    async fn id(&self) -> &str {
        &self.rec.id
    }
    async fn name(&self) -> &str {
        &self.rec.name
    }
    async fn date_of_birth(&self) -> Option<Date> {
        self.rec.date_of_birth.map(Date)
    }
    /// Contact details: only the managing force may read them; for others this is null with `FORBIDDEN_FIELD`.
    #[graphql(visible = "crate::graphql::visibility::contact")]
    async fn contact(&self, ctx: &Context<'_>) -> Option<&str> {
        if self.may_see_contact {
            self.rec.contact.as_deref()
        } else {
            withheld(ctx, "contact")
        }
    }
}

/// A condition (prohibition or requirement) of an order.
pub struct Condition {
    pub(super) rec: ConditionRecord,
    pub(super) now: chrono::DateTime<chrono::Utc>,
}

#[Object]
impl Condition {
    /// Stable id, used to name the conditions a breach concerns.
    async fn id(&self) -> &str {
        &self.rec.id
    }
    async fn kind(&self) -> ConditionKind {
        self.rec.kind.into()
    }
    async fn text(&self) -> &str {
        &self.rec.text
    }
    /// The condition's own last day, when it ends before the order.
    async fn expires_on(&self) -> Option<Date> {
        self.rec.expires_on.map(Date)
    }
    /// False once the condition's own last day has ended (London time).
    async fn in_force(&self) -> bool {
        self.rec.expires_on.is_none_or(|d| self.now < end_of_day(d))
    }
}

/// One entry of an order's history: the terms after a grant, variation, renewal, discharge, replacement, quashing,
/// expiry, lapse or ceasing.
pub struct OrderVersion {
    pub(super) order: Arc<OrderRecord>,
    pub(super) index: usize,
    pub(super) now: chrono::DateTime<chrono::Utc>,
}

impl OrderVersion {
    fn rec(&self) -> &VersionRecord {
        &self.order.versions[self.index]
    }
}

#[Object]
impl OrderVersion {
    async fn version(&self) -> i64 {
        self.rec().version
    }
    async fn event(&self) -> OrderEvent {
        self.rec().event.into()
    }
    async fn status(&self) -> OrderStatus {
        self.rec().status.into()
    }
    async fn expires_on(&self) -> Option<Date> {
        self.rec().expires_on.map(Date)
    }
    async fn recorded_at(&self) -> DateTime {
        self.rec().recorded_at.into()
    }
    /// The day the court decided a variation, renewal, discharge or quashing (it may be before `recordedAt`).
    async fn decided_on(&self) -> Option<Date> {
        self.rec().decided_on.map(Date)
    }
    /// A DAPO varied or renewed without notice to the subject (Domestic Abuse Act 2021 s45(8)).
    async fn without_notice(&self) -> bool {
        self.rec().without_notice
    }
    /// For a variation without notice: when police recorded the subject became aware of it.
    async fn subject_aware_at(&self) -> Option<DateTime> {
        self.rec().aware_at.map(DateTime)
    }
    /// The agency that recorded this version.
    async fn recorded_by_agency(&self) -> &str {
        &self.rec().recorded_by_agency
    }
    /// The reason or note given with the change (not shown to advocacy services).
    #[graphql(visible = "crate::graphql::visibility::version_notes")]
    async fn note(&self, ctx: &Context<'_>) -> Option<&str> {
        let who = ctx.data::<crate::auth::Caller>().ok();
        if who.is_some_and(|w| !policy::may_see_version_notes(w.role)) {
            return withheld(ctx, "note");
        }
        self.rec().note.as_deref()
    }
    /// The conditions as they stood in this version.
    async fn conditions(&self) -> Vec<Condition> {
        let v = self.rec().version;
        self.order
            .conditions
            .iter()
            .filter(|c| c.in_version(v))
            .map(|c| Condition {
                rec: c.clone(),
                now: self.now,
            })
            .collect()
    }
}
