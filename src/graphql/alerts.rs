//! Alerts: the list, acknowledgement, and the live subscription.

use super::delivery::{AlertStream, Handover};
use super::enums::AlertKind;
use super::error::to_graphql;
use super::objects::alert::*;
use super::objects::connection::AlertConnection;
use super::{caller, consulted, services, Audited};
use crate::domain::scope::AlertFilter as DbAlertFilter;
use crate::domain::validation::canonical_reference;
use crate::service::alerts::{AlertView, ALERT_CURSOR};
use crate::service::page::encode_cursor;
use async_graphql::{Context, InputObject, Object, Result, Subscription, ID};
use futures_util::{Stream, StreamExt};

/// Filters of `alerts`.
#[derive(InputObject, Default)]
pub struct AlertFilter {
    pub kinds: Option<Vec<AlertKind>>,
    pub order_reference: Option<String>,
    /// Only alerts the caller's agency has not acknowledged.
    #[graphql(default)]
    pub unacknowledged: bool,
}

/// The order of `alerts`.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertOrder {
    /// Oldest first; `after` is the cursor of the last alert seen (the stream's own order, as subscriptions replay).
    #[default]
    OldestFirst,
    /// Newest first; `after` is the cursor of the oldest alert seen, and the page holds those raised before it.
    NewestFirst,
}

#[derive(Default)]
pub struct AlertQuery;

#[Object]
impl AlertQuery {
    /// The alerts the caller receives, oldest first after the cursor `after` (or, with `order: NEWEST_FIRST`, newest
    /// first before it). `first` is 1 to 100 (default 20).
    #[graphql(visible = "super::visibility::read_alerts")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        filter: Option<AlertFilter>,
        #[graphql(default)] order: AlertOrder,
    ) -> Result<AlertConnection> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let f = filter.unwrap_or_default();
        let filter = DbAlertFilter {
            kinds: f.kinds.map(|ks| ks.into_iter().map(Into::into).collect()),
            order_reference: f.order_reference.as_deref().map(canonical_reference),
            unacknowledged_only: f.unacknowledged,
            newest_first: order == AlertOrder::NewestFirst,
        };
        let (page, resume) = svc
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
        let mut connection =
            AlertConnection::build(ALERT_CURSOR, page, |v| v.alert.seq.to_string(), Alert::new);
        connection.resume_cursor = encode_cursor(ALERT_CURSOR, &resume.to_string());
        Ok(connection)
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
