//! Alerts for a caller: a page by cursor, acknowledgement, and the live stream that replays from a cursor and then
//! follows the feed with no gap and no duplicate.

use super::page::{decode_cursor, Page, PageRequest};
use super::{require_own_agency, Services};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::db::alerts::{AlertAudience, AlertFilter};
use crate::db::{self, Database};
use crate::domain::alert::AlertRecord;
use crate::domain::audit::AuditOperation;
use crate::domain::order::OrderRecord;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// An agency's acknowledgement of an alert: when, and by whom.
pub type Ack = (DateTime<Utc>, String);

/// Cursor kind of alerts; the key is the alert's `seq`.
pub const ALERT_CURSOR: &str = "alert";
/// Alerts read from the table in one go when a subscriber replays.
const REPLAY_BATCH: i64 = 200;
/// Alerts a subscriber's task may hold ready before the client takes them.
const SUBSCRIBER_BUFFER: usize = 32;
/// What a subscriber's task hands its stream: an alert and the consent epoch it was read under, or why the flow
/// stopped. Boxed, so the buffer each idle subscriber holds is 32 pointers rather than 32 alerts (heaptrack: 5.7 KB
/// per subscriber before).
type Delivery = Box<AppResult<(AlertRecord, u64)>>;

/// An alert with what a caller reads about it: its order, and the caller's agency's acknowledgement.
#[derive(Debug, Clone)]
pub struct AlertView {
    pub alert: AlertRecord,
    pub order: Option<Arc<OrderRecord>>,
    /// The caller's agency's acknowledgement, when it was loaded with the alert (`None`: not loaded, ask).
    pub ack: Option<Option<Ack>>,
}

/// Decodes an alert cursor into its `seq`.
pub fn alert_seq(cursor: &str) -> AppResult<i64> {
    decode_cursor(ALERT_CURSOR, cursor)?.parse().map_err(|_| {
        AppError::validation(
            "INVALID_CURSOR",
            "after",
            "after is not a cursor returned by this list",
        )
    })
}

impl Services {
    fn alert_access(&self, who: &Caller) -> AppResult<AlertAudience> {
        policy::require(who, Operation::ReadAlerts)?;
        Ok(policy::alert_audience(who))
    }

    /// A page of the alerts the caller receives, oldest first, with their orders and acknowledgements.
    pub async fn alerts(
        &self,
        who: &Caller,
        filter: AlertFilter,
        first: Option<i32>,
        after: Option<&str>,
    ) -> AppResult<Page<AlertView>> {
        let audience = self.alert_access(who)?;
        let page = PageRequest::new(first, None, ALERT_CURSOR)?;
        let after = after.map(alert_seq).transpose()?.unwrap_or(0);
        let who = who.clone();
        let limit = page.limit;
        let (items, orders, acks) = self
            .db
            .run(move |conn| {
                require_own_agency(conn, &who)?;
                let items = db::alerts::page(conn, &audience, &filter, after, limit + 1)?;
                let mut ids: Vec<String> = items.iter().map(|a| a.order_id.clone()).collect();
                ids.sort();
                ids.dedup();
                let orders = db::orders::find_by_ids(conn, &ids)?;
                let seqs: Vec<i64> = items.iter().map(|a| a.seq).collect();
                let acks = db::alerts::acks(conn, &seqs, &who.agency)?;
                Ok((items, orders, acks))
            })
            .await?;
        let orders: HashMap<String, Arc<OrderRecord>> = orders
            .into_iter()
            .map(|o| (o.id.clone(), Arc::new(o)))
            .collect();
        let mut acks = acks;
        let views = items
            .into_iter()
            .map(|a| AlertView {
                order: orders.get(&a.order_id).cloned(),
                ack: Some(acks.remove(&a.seq)),
                alert: a,
            })
            .collect();
        Ok(Page::from_fetched(views, limit))
    }

    /// Records that the caller's agency has seen an alert; the first acknowledgement stands.
    pub async fn acknowledge_alert(&self, who: &Caller, id: String) -> AppResult<AlertView> {
        let audience = self.alert_access(who)?;
        let who = who.clone();
        let now = self.now();
        self.db
            .run(move |conn| {
                require_own_agency(conn, &who)?;
                let alert = db::alerts::find_by_id(conn, &id)?
                    .ok_or(AppError::NotFound { what: "alert" })?;
                // Visible to the caller exactly when its own list would hold it.
                let visible =
                    db::alerts::page(conn, &audience, &AlertFilter::default(), alert.seq - 1, 1)?
                        .first()
                        .is_some_and(|a| a.seq == alert.seq);
                if !visible {
                    return Err(AppError::NotFound { what: "alert" });
                }
                db::write_transaction(conn, |conn| {
                    db::alerts::acknowledge(conn, alert.seq, &who.agency, &who.sub, now)?;
                    let acked = super::audit::entry(
                        &who,
                        now,
                        AuditOperation::Alter,
                        "acknowledgeAlert",
                        "alert",
                        vec![alert.id.clone()],
                        &["acknowledgedAt"],
                    );
                    db::audit::append(conn, &[acked])
                })?;
                let ack = db::alerts::acks(conn, &[alert.seq], &who.agency)?.remove(&alert.seq);
                Ok(AlertView {
                    alert,
                    order: None,
                    ack: Some(ack),
                })
            })
            .await
    }

    /// This agency's acknowledgement of one alert.
    pub async fn alert_ack(&self, who: &Caller, seq: i64) -> AppResult<Option<Ack>> {
        let agency = who.agency.clone();
        self.db
            .run(move |conn| Ok(db::alerts::acks(conn, &[seq], &agency)?.remove(&seq)))
            .await
    }

    /// The alerts the caller receives, from just after `after` (a cursor; `None` means from now), replayed from the
    /// table and then live. The caller's right to each alert is checked again as the client takes it, so a revoked
    /// consent stops the flow at once.
    pub async fn alert_stream(
        &self,
        who: &Caller,
        after: Option<&str>,
    ) -> AppResult<impl Stream<Item = AppResult<AlertRecord>> + Send + 'static> {
        let audience = self.alert_access(who)?;
        let after = after.map(alert_seq).transpose()?;
        let principal = who.clone();
        // Subscribe before reading the start, so nothing committed from here on can be missed.
        let mut live = self.feed.subscribe();
        let start = self
            .db
            .run(move |conn| {
                require_own_agency(conn, &principal)?;
                match after {
                    Some(seq) => Ok(seq),
                    None => db::alerts::max_seq(conn),
                }
            })
            .await?;
        // Each alert travels with the consent epoch from before it was read (see `feed`).
        let (tx, rx) = tokio::sync::mpsc::channel::<Delivery>(SUBSCRIBER_BUFFER);
        let db = self.db.clone();
        let task_audience = audience.clone();
        let task_feed = self.feed.clone();
        // A subscription from now (no `after`) has nothing to replay: `start` was read after joining the feed, so
        // every later alert comes through the feed. Skipping the first read keeps a burst of new subscriptions from
        // queueing for pooled connections.
        let mut replay = after.is_some();
        tokio::spawn(async move {
            let mut cursor = start;
            loop {
                // Replay from the table until it has nothing more for this audience.
                while replay {
                    let read_at = task_feed.consent_epoch();
                    // Boxed so the task, idle in `live.recv()`, does not keep room for the replay read.
                    let batch = match Box::pin(read_after(&db, &task_audience, cursor)).await {
                        Some(b) => b,
                        None => {
                            let down = AppError::Unavailable(anyhow::anyhow!(
                                "alert replay failed repeatedly"
                            ));
                            let _ = tx.send(Box::new(Err(down))).await;
                            return;
                        }
                    };
                    if batch.is_empty() {
                        replay = false;
                    }
                    for alert in batch {
                        cursor = alert.seq;
                        if tx.send(Box::new(Ok((alert, read_at)))).await.is_err() {
                            return;
                        }
                    }
                }
                // Live, until this subscriber falls behind the feed; then back to the table.
                loop {
                    match live.recv().await {
                        Ok(batch) => {
                            for item in batch.iter() {
                                if item.alert.seq <= cursor {
                                    continue;
                                }
                                cursor = item.alert.seq;
                                if policy::receives_alert(&task_audience, item)
                                    && tx
                                        .send(Box::new(Ok((
                                            item.alert.clone(),
                                            item.consent_epoch,
                                        ))))
                                        .await
                                        .is_err()
                                {
                                    return;
                                }
                            }
                        }
                        Err(RecvError::Lagged(skipped)) => {
                            tracing::debug!(
                                feed.skipped = skipped,
                                "subscriber fell behind; resuming from the table"
                            );
                            replay = true;
                            break;
                        }
                        Err(RecvError::Closed) => return,
                    }
                }
            }
        });
        let db = self.db.clone();
        let feed = self.feed.clone();
        // The consent check is boxed: `filter_map` keeps room for its pending future inline, which an idle
        // subscriber need not carry.
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx).filter_map(move |item| {
            let db = db.clone();
            let audience = audience.clone();
            let current = feed.consent_epoch();
            Box::pin(async move {
                let (alert, read_at) = match *item {
                    Ok(pair) => pair,
                    Err(e) => return Some(Err(e)),
                };
                match &audience {
                    // Nothing revoked since this alert and its consent were read: the consent still holds.
                    AlertAudience::Advocate(_) if read_at == current => Some(Ok(alert)),
                    AlertAudience::Advocate(agency) => {
                        let (order_id, agency) = (alert.order_id.clone(), agency.clone());
                        match db
                            .run(move |conn| db::shares::is_shared_with(conn, &order_id, &agency))
                            .await
                        {
                            Ok(true) => Some(Ok(alert)),
                            Ok(false) => None,
                            Err(e) => {
                                tracing::warn!(
                                    error.code = e.code(),
                                    "consent check failed; alert withheld"
                                );
                                None
                            }
                        }
                    }
                    _ => Some(Ok(alert)),
                }
            })
        });
        Ok(stream)
    }
}

/// Alerts after `cursor` for an audience; `None` when the database has failed for long enough to give up on this
/// subscriber (the client reconnects with its cursor and loses nothing).
async fn read_after(
    db: &Database,
    audience: &AlertAudience,
    cursor: i64,
) -> Option<Vec<AlertRecord>> {
    for attempt in 0..5u32 {
        let audience = audience.clone();
        match db
            .run(move |c| {
                db::alerts::page(c, &audience, &AlertFilter::default(), cursor, REPLAY_BATCH)
            })
            .await
        {
            Ok(batch) => return Some(batch),
            Err(e) => {
                tracing::warn!(
                    error.code = e.code(),
                    attempt,
                    "subscriber could not read alerts; retrying"
                );
                tokio::time::sleep(std::time::Duration::from_millis(200 * 2u64.pow(attempt))).await;
            }
        }
    }
    None
}
