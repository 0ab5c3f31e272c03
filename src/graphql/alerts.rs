//! Alerts: the list, acknowledgement, and the live subscription.

use super::delivery::{AlertStream, Handover};
use super::enums::{AlertKind, Severity};
use super::error::to_graphql;
use super::scalars::DateTime;
use super::types::{AlertConnection, ProtectionOrder};
use super::{caller, consulted, services, Audited};
use crate::domain::scope::AlertFilter as DbAlertFilter;
use crate::domain::validation::canonical_reference;
use crate::service::alerts::{AlertView, ALERT_CURSOR};
use crate::service::page::encode_cursor;
use async_graphql::{Context, InputObject, Object, Result, Subscription, ID};
use futures_util::{Stream, StreamExt};

/// Something someone must know about an order: a breach, service, an approaching end, a missed deadline.
pub struct Alert {
    view: AlertView,
}

impl Alert {
    pub fn new(view: AlertView) -> Self {
        Alert { view }
    }
}

#[Object]
impl Alert {
    async fn id(&self) -> ID {
        ID(self.view.alert.id.clone())
    }
    /// Where this alert stands in the stream: pass it as `after` to resume just after it.
    async fn cursor(&self) -> String {
        encode_cursor(ALERT_CURSOR, &self.view.alert.seq.to_string())
    }
    async fn kind(&self) -> AlertKind {
        self.view.alert.kind.into()
    }
    async fn severity(&self) -> Severity {
        self.view.alert.severity.into()
    }
    async fn order_reference(&self) -> &str {
        &self.view.alert.order_reference
    }
    /// The order, as the caller may see it now (null if the caller can no longer see it).
    async fn order(&self, ctx: &Context<'_>) -> Result<Option<ProtectionOrder>> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let now = svc.now();
        let order = match &self.view.order {
            Some(o) if crate::auth::policy::may_see_order(who, o) => Some(o.clone()),
            Some(_) => None,
            None => svc
                .order(
                    who,
                    self.view.alert.order_reference.clone(),
                    super::types::parts_selected(&ctx.look_ahead()),
                )
                .await
                .audited(ctx)
                .await?
                .map(Into::into),
        };
        consulted(
            ctx,
            "order",
            order.iter().map(|o| o.id.clone()).collect(),
            None,
        )
        .await?;
        Ok(order.map(|o| ProtectionOrder::new(o, now, who)))
    }
    /// The breach this alert is about (for `BREACH_REPORTED`).
    async fn breach_id(&self) -> Option<ID> {
        self.view.alert.breach_id.clone().map(ID)
    }
    async fn created_at(&self) -> DateTime {
        self.view.alert.created_at.into()
    }
    /// The moment the alert was due (the event, or the deadline or threshold it is about).
    async fn due_at(&self) -> DateTime {
        self.view.alert.due_at.into()
    }
    /// True when the alert was raised well after it was due (the server was down); it is raised, never dropped.
    async fn late(&self) -> bool {
        self.view.alert.late
    }
    /// How many seconds after its scheduled moment the alert was raised (0 when on time).
    async fn late_by(&self) -> i64 {
        self.view.alert.late_by_seconds
    }
    /// When the caller's agency acknowledged it.
    async fn acknowledged_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime>> {
        Ok(self.ack(ctx).await?.map(|(at, _)| at.into()))
    }
    /// Who in the caller's agency acknowledged it.
    async fn acknowledged_by(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.ack(ctx).await?.map(|(_, by)| by))
    }
}

impl Alert {
    async fn ack(&self, ctx: &Context<'_>) -> Result<Option<crate::service::alerts::Ack>> {
        if let Some(loaded) = &self.view.ack {
            return Ok(loaded.clone());
        }
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        svc.alert_ack(who, self.view.alert.seq)
            .await
            .audited(ctx)
            .await
    }
}

/// Filters of `alerts`.
#[derive(InputObject, Default)]
pub struct AlertFilter {
    pub kinds: Option<Vec<AlertKind>>,
    pub order_reference: Option<String>,
    /// Only alerts the caller's agency has not acknowledged.
    #[graphql(default)]
    pub unacknowledged: bool,
}

#[derive(Default)]
pub struct AlertQuery;

#[Object]
impl AlertQuery {
    /// The alerts the caller receives, oldest first, after the cursor `after`. `first` is 1 to 100 (default 20).
    #[graphql(visible = "super::visibility::read_alerts")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        filter: Option<AlertFilter>,
    ) -> Result<AlertConnection> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let f = filter.unwrap_or_default();
        let filter = DbAlertFilter {
            kinds: f.kinds.map(|ks| ks.into_iter().map(Into::into).collect()),
            order_reference: f.order_reference.as_deref().map(canonical_reference),
            unacknowledged_only: f.unacknowledged,
        };
        let page = svc
            .alerts(who, filter, first, after.as_deref())
            .await
            .audited(ctx)
            .await?;
        consulted(
            ctx,
            "alert",
            page.items.iter().map(|v| v.alert.id.clone()).collect(),
            None,
        )
        .await?;
        Ok(AlertConnection::build(
            ALERT_CURSOR,
            page,
            |v| v.alert.seq.to_string(),
            Alert::new,
        ))
    }
}

#[derive(Default)]
pub struct AlertMutation;

#[Object]
impl AlertMutation {
    /// Records that the caller's agency has seen the alert (its own acknowledgement; other recipients keep theirs).
    #[graphql(visible = "super::visibility::read_alerts")]
    async fn acknowledge_alert(&self, ctx: &Context<'_>, id: ID) -> Result<Alert> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        Ok(Alert::new(
            svc.acknowledge_alert(who, id.0).await.audited(ctx).await?,
        ))
    }
}

#[derive(Default)]
pub struct AlertSubscription;

#[Subscription]
impl AlertSubscription {
    /// Every alert the caller receives, live. With `after` (a cursor from an earlier alert) the alerts after it are
    /// replayed first, then live ones follow, with no gap and no duplicate; without it, from now on.
    #[graphql(visible = "super::visibility::read_alerts")]
    async fn alerts(&self, ctx: &Context<'_>, after: Option<String>) -> Result<AlertStream> {
        // Boxed: async-graphql keeps room for this future inline in the subscription's stream for as long as it
        // runs, though it runs only once, when the subscription starts.
        let alerts = Box::pin(alert_subscription(ctx, after)).await?.boxed();
        // A websocket transport that delivers alerts itself takes the stream here, and async-graphql's stream ends
        // (`super::delivery`).
        if let Some(handover) = ctx.data_opt::<Handover>() {
            handover.give(alerts);
            return Ok(futures_util::stream::empty().boxed());
        }
        Ok(alerts)
    }
}

/// Starts `alerts` for the caller: every delivery is audited as a disclosure before it is sent.
async fn alert_subscription(
    ctx: &Context<'_>,
    after: Option<String>,
) -> Result<impl Stream<Item = Result<Alert>>> {
    let (svc, who) = (services(ctx)?, caller(ctx)?);
    let stream = svc
        .alert_stream(who, after.as_deref())
        .await
        .audited(ctx)
        .await?;
    // Each delivery is a disclosure to the recipient agency, recorded before the alert is sent (fail closed),
    // retried with the alert held back (`crate::service::delivery`). After an error nothing follows: the client
    // resumes from its last cursor, so no alert is skipped.
    let (svc, who) = (svc.clone(), who.clone());
    // The per-item work is boxed: `then` keeps room for its pending future inline, and an idle subscription
    // (most of them, most of the time) should not carry that room.
    Ok(stream
        .then(move |item| {
            let (svc, who) = (svc.clone(), who.clone());
            Box::pin(async move {
                let alert = item.map_err(to_graphql)?;
                svc.record_delivery(&who, &alert)
                    .await
                    .map_err(to_graphql)?;
                crate::metrics::global()
                    .alerts_delivered
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(Alert::new(AlertView {
                    alert,
                    order: None,
                    ack: None,
                }))
            })
        })
        .scan(false, |failed, item: Result<Alert>| {
            let over = std::mem::replace(failed, item.is_err());
            futures_util::future::ready((!over).then_some(item))
        }))
}
