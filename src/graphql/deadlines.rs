//! Deadlines, notifications and hearings: types, the deadline list, and their mutations.

use super::enums::{
    DeadlineKind, DeadlineStatus, HearingOutcome, NotificationKind, NotificationSource,
};
use super::objects::connection::DeadlineConnection;
use super::objects::deadline::*;
use super::objects::order::ProtectionOrder;
use super::scalars::{Date, DateTime};
use super::{caller, consulted, services, Audited};
use crate::domain::scope::DeadlineFilter as DbDeadlineFilter;
use crate::domain::validation::canonical_reference;
use crate::service::schedule::deadline_cursor;
use async_graphql::{Context, InputObject, Object, Result, ID};

#[derive(InputObject, Default)]
pub struct DeadlineFilter {
    pub kinds: Option<Vec<DeadlineKind>>,
    /// The status as shown now.
    pub status: Option<DeadlineStatus>,
    pub due_before: Option<DateTime>,
    pub due_after: Option<DateTime>,
    pub order_reference: Option<String>,
}

#[derive(Default)]
pub struct DeadlineQuery;

#[Object]
impl DeadlineQuery {
    /// Deadlines of the orders the caller looks after, soonest first: a force's managed orders, a court's own
    /// orders, an advocacy service's shared orders (courts and advocates do not see notification deadlines).
    #[graphql(visible = "super::visibility::read_orders")]
    async fn deadlines(
        &self,
        ctx: &Context<'_>,
        filter: Option<DeadlineFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<DeadlineConnection> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let f = filter.unwrap_or_default();
        let filter = DbDeadlineFilter {
            kinds: f.kinds.map(|ks| ks.into_iter().map(Into::into).collect()),
            status: f.status.map(Into::into),
            due_before: f.due_before.map(|t| t.0),
            due_after: f.due_after.map(|t| t.0),
            order_reference: f.order_reference.as_deref().map(canonical_reference),
        };
        let now = svc.now();
        let page = svc
            .deadlines(who, filter, first, after.as_deref())
            .await
            .audited(ctx)
            .await?;
        let mut orders: Vec<String> = page.items.iter().map(|(d, _)| d.order_id.clone()).collect();
        orders.dedup();
        consulted(ctx, "order", orders, None).await?;
        Ok(DeadlineConnection::build_with(
            page,
            |(d, _)| deadline_cursor(d),
            |(d, r)| Deadline::new(d, r, now),
        ))
    }
}

#[derive(InputObject)]
pub struct RecordNotificationInput {
    pub reference: String,
    pub kind: NotificationKind,
    /// `SUBJECT` (the default): the subject notified, meeting the duty. `POLICE`: the police learnt of a change of
    /// name or home address elsewhere, so its 3-day deadline runs, and becomes overdue, until the subject notifies.
    #[graphql(default_with = "NotificationSource::Subject")]
    pub source: NotificationSource,
    /// When the subject notified (or, for `POLICE`, when the police learnt of the change).
    pub notified_at: DateTime,
    /// For a new name or home address: the day of the change.
    pub changed_on: Option<Date>,
    /// The name or address notified. Read back by the managing force only.
    pub details: Option<String>,
}

#[derive(InputObject)]
pub struct ScheduleHearingInput {
    pub reference: String,
    pub scheduled_for: DateTime,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct RecordHearingOutcomeInput {
    pub hearing_id: ID,
    pub outcome: HearingOutcome,
    /// When the hearing began; required for `HEARD`.
    pub held_at: Option<DateTime>,
}

#[derive(Default)]
pub struct DeadlineMutation;

#[Object]
impl DeadlineMutation {
    /// Records a notification the subject made to the police (POLICE). A notification meets its deadline when made
    /// before it falls due.
    #[graphql(visible = "super::visibility::record_notification")]
    async fn record_notification(
        &self,
        ctx: &Context<'_>,
        input: RecordNotificationInput,
    ) -> Result<ProtectionOrder> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let order = svc
            .record_notification(
                who,
                input.reference,
                crate::domain::schedule::NotificationDraft {
                    kind: input.kind.into(),
                    source: input.source.into(),
                    notified_at: input.notified_at.0,
                    changed_on: input.changed_on.map(|d| d.0),
                    details: input.details,
                },
            )
            .await
            .audited(ctx)
            .await?;
        super::returned_order(ctx, order).await
    }

    /// Lists a hearing (COURT: the court that made the order; any court for a DVPN or DAPN).
    #[graphql(visible = "super::visibility::schedule_hearing")]

    async fn schedule_hearing(
        &self,
        ctx: &Context<'_>,
        input: ScheduleHearingInput,
    ) -> Result<ProtectionOrder> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let order = svc
            .schedule_hearing(who, input.reference, input.scheduled_for.0, input.note)
            .await
            .audited(ctx)
            .await?;
        super::returned_order(ctx, order).await
    }

    /// Records what happened at a hearing (the court that listed it). A notice's application heard in time meets
    /// its hearing window.
    #[graphql(visible = "super::visibility::schedule_hearing")]

    async fn record_hearing_outcome(
        &self,
        ctx: &Context<'_>,
        input: RecordHearingOutcomeInput,
    ) -> Result<ProtectionOrder> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let order = svc
            .record_hearing_outcome(
                who,
                input.hearing_id.0,
                input.outcome.into(),
                input.held_at.map(|t| t.0),
            )
            .await
            .audited(ctx)
            .await?;
        super::returned_order(ctx, order).await
    }
}
