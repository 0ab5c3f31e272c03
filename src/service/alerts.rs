//! Alerts for a caller: a page by cursor, acknowledgement, and the live stream that replays from a cursor and then
//! follows the feed with no gap and no duplicate.
//!
//! Past 400 lines, 60 of them tests: the live stream's `Flow` (replay, feed, consent re-check, hand-over) is one
//! state machine, and splitting it would put the ordering guarantee in two places.

use super::page::{decode_cursor, Page, PageRequest};
use super::{require_own_agency, Services};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::codes;
use crate::db::{self, Database};
use crate::domain::alert::AlertRecord;
use crate::domain::audit::AuditOperation;
use crate::domain::order::OrderRecord;
use crate::domain::scope::{AlertAudience, AlertFilter};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use futures_util::Stream;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// An agency's acknowledgement of an alert: when, and by whom.
pub type Ack = (DateTime<Utc>, String);

type AckRead = Shared<BoxFuture<'static, Result<Option<Ack>, ()>>>;

/// Reads of acknowledgements, by alert `seq` and agency (see [`Services::alert_ack`]): each with when it started and
/// the acknowledgement epoch ([`crate::service::feed::AlertFeed::ack_epoch`]) read just before.
#[derive(Default)]
pub struct AckReads(std::sync::Mutex<HashMap<(i64, String), AckReadEntry>>);

struct AckReadEntry {
    started: std::time::Instant,
    epoch: u64,
    read: AckRead,
}

/// A read is shared for this long at most: in flight, its askers may all have gone, leaving it unfinished; answered,
/// it bounds how long an answer may stand if a notification of a new acknowledgement never arrives.
const ACK_READ_JOINABLE: std::time::Duration = std::time::Duration::from_millis(500);

impl AckReadEntry {
    /// Whether an asker at acknowledgement epoch `epoch` may take this read's answer: the read is young, and either
    /// still in flight, or answered with nothing acknowledged since it started (a failed read is not reused).
    fn joinable(&self, epoch: u64) -> bool {
        self.started.elapsed() < ACK_READ_JOINABLE
            && match self.read.peek() {
                None => true,
                Some(answer) => answer.is_ok() && self.epoch == epoch,
            }
    }
}

impl AckReads {
    /// The read to answer `key` for an asker at acknowledgement epoch `epoch` (read before calling): a joinable read
    /// already there, or a new one made by `start`.
    fn join<F, Fut>(&self, key: &(i64, String), epoch: u64, start: F) -> AckRead
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<Ack>, ()>> + Send + 'static,
    {
        let mut reads = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match reads.get(key) {
            Some(entry) if entry.joinable(epoch) => entry.read.clone(),
            _ => {
                if reads.len() > 1024 {
                    // Reads of past alerts, and reads whose askers all went away: drop those now.
                    reads.retain(|_, entry| entry.joinable(epoch));
                }
                let read = start().boxed().shared();
                let entry = AckReadEntry {
                    started: std::time::Instant::now(),
                    epoch,
                    read: read.clone(),
                };
                reads.insert(key.clone(), entry);
                read
            }
        }
    }
}

/// Cursor kind of alerts; the key is the alert's `seq`.
pub const ALERT_CURSOR: &str = "alert";
/// Alerts read from the table in one go when a subscriber replays.
const REPLAY_BATCH: i64 = 200;
/// How often a subscriber reads the table while its process's feed has not started yet (its database was not
/// reached at start-up), as nothing is broadcast until then.
const UNSTARTED_FEED_POLL: std::time::Duration = std::time::Duration::from_millis(250);

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
            codes::INVALID_CURSOR,
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

    /// A page of the alerts the caller receives, oldest first (or newest first), with their orders and
    /// acknowledgements, and the stream's head (the newest alert's `seq`, read before the page): a subscription from
    /// it misses nothing raised after the read.
    pub async fn alerts(
        &self,
        who: &Caller,
        filter: AlertFilter,
        first: Option<i32>,
        after: Option<&str>,
    ) -> AppResult<(Page<AlertView>, i64)> {
        let audience = self.alert_access(who)?;
        let page = PageRequest::new(first, None, ALERT_CURSOR)?;
        let start = if filter.newest_first { i64::MAX } else { 0 };
        let after = after.map(alert_seq).transpose()?.unwrap_or(start);
        let who = who.clone();
        let limit = page.limit;
        let (items, orders, acks, resume) = self
            .db
            .run(move |conn| {
                require_own_agency(conn, &who)?;
                // One indexed MAX, whatever the caller may see: searching for the newest alert this caller receives
                // would scan the whole stream for one that receives none.
                let resume = db::alerts::max_seq(conn)?;
                let items = db::alerts::page(conn, &audience, &filter, after, limit + 1)?;
                let mut ids: Vec<String> = items.iter().map(|a| a.order_id.clone()).collect();
                ids.sort();
                ids.dedup();
                let orders = db::loader::find_by_ids(conn, &ids)?;
                let seqs: Vec<i64> = items.iter().map(|a| a.seq).collect();
                let acks = db::alerts::acks(conn, &seqs, &who.agency)?;
                Ok((items, orders, acks, resume))
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
        Ok((Page::from_fetched(views, limit), resume))
    }

    /// Records that the caller's agency has seen an alert; the first acknowledgement stands.
    pub async fn acknowledge_alert(&self, who: &Caller, id: String) -> AppResult<AlertView> {
        let audience = self.alert_access(who)?;
        let who = who.clone();
        let now = self.now();
        let feed = self.feed.clone();
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
                    // Other replicas read this agency's acknowledgements afresh once it has committed.
                    db::alerts::notify(conn, db::alerts::ACK_CHANNEL)?;
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
                // Committed: deliveries here read acknowledgements afresh from now on.
                feed.acknowledged();
                let ack = db::alerts::acks(conn, &[alert.seq], &who.agency)?.remove(&alert.seq);
                Ok(AlertView {
                    alert,
                    order: None,
                    ack: Some(ack),
                })
            })
            .await
    }

    /// This agency's acknowledgement of one alert (asked by a delivery that selects it).
    ///
    /// A live alert goes to every subscriber of an agency within milliseconds, and each delivery that selects
    /// `acknowledgedAt` or `acknowledgedBy` asks. One read for the same alert and agency answers them all while it
    /// is under half a second old and nothing has been acknowledged since it started: an acknowledgement made here
    /// (after it commits) or on another replica (when its `NOTIFY` arrives, PostgreSQL) moves the acknowledgement
    /// epoch on, and the next asker reads afresh. A read for each delivery multiplied the breach-to-alert p99 with
    /// many subscribers (docs/decisions/0010-acknowledgement-reads-shared-per-alert-and-agency.md).
    pub async fn alert_ack(&self, who: &Caller, seq: i64) -> AppResult<Option<Ack>> {
        let key = (seq, who.agency.clone());
        // Read before the acknowledgement is: one committed after this moves the epoch on.
        let epoch = self.feed.ack_epoch();
        let read = self.ack_reads.join(&key, epoch, || {
            let (db, agency) = (self.db.clone(), who.agency.clone());
            async move {
                db.run(move |conn| Ok(db::alerts::acks(conn, &[seq], &agency)?.remove(&seq)))
                    .await
                    .map_err(|e| {
                        tracing::warn!(error.code = e.code(), "acknowledgement read failed");
                    })
            }
        });
        read.await.map_err(|()| {
            AppError::Unavailable(anyhow::anyhow!("the acknowledgement could not be read"))
        })
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
        let live = self.feed.subscribe();
        // Read before the start: a pump that has started broadcasts everything committed after it did.
        let feed_started = self.feed.started();
        let start = self
            .db
            .run(move |conn| {
                require_own_agency(conn, &principal)?;
                let head = db::alerts::max_seq(conn)?;
                match after {
                    // A cursor past every alert raised (from another database, or one restored from a backup) would
                    // skip what comes next up to it.
                    Some(seq) if seq > head => Err(AppError::validation(
                        codes::INVALID_CURSOR,
                        "after",
                        "after is past the newest alert: it is not a cursor of this record",
                    )),
                    Some(seq) => Ok(seq),
                    None => Ok(head),
                }
            })
            .await?;
        let flow = Flow {
            db: self.db.clone(),
            retry: self.delivery.clone(),
            feed: self.feed.clone(),
            audience,
            live,
            cursor: start,
            // A subscription from now (no `after`) has nothing to replay once the feed has started: `start` was
            // read after joining the feed, so every later alert comes through the feed. Skipping the first read
            // keeps a burst of new subscriptions from queueing for pooled connections. A feed not yet started (its
            // database not reached yet) may never broadcast what is committed meanwhile: then read the table until
            // it is caught up, as after a cursor.
            replay: after.is_some() || !feed_started,
            replayed: Vec::new().into_iter(),
            replayed_at: 0,
            batch: None,
            stopped: false,
        };
        // The stream is its pending step, which holds the flow while it waits for the feed: an idle subscription is
        // this one allocation; there is no task or channel of its own (`service::steps`).
        Ok(crate::service::steps::steps(flow, Flow::step))
    }
}

/// The state of one subscriber's alert stream: replaying from the table after `cursor`, then following the feed,
/// back to the table when it falls behind. It reads only as fast as the client takes alerts; a client slower than
/// the feed lags, and lagging sends it back to the table, so nothing is buffered per subscriber but the feed batch
/// it is handing out.
struct Flow {
    db: Database,
    retry: Arc<crate::service::delivery::DeliveryRetry>,
    feed: Arc<crate::service::feed::AlertFeed>,
    audience: AlertAudience,
    live: tokio::sync::broadcast::Receiver<crate::service::feed::FeedBatch>,
    /// The last alert handed out (or skipped as not for this audience).
    cursor: i64,
    replay: bool,
    /// Alerts read from the table and not yet handed out, read under consent epoch `replayed_at`.
    replayed: std::vec::IntoIter<AlertRecord>,
    replayed_at: u64,
    /// The feed batch being handed out, and the next position in it.
    batch: Option<(crate::service::feed::FeedBatch, usize)>,
    stopped: bool,
}

impl Flow {
    /// The next alert for this subscriber (or why the flow stopped), and the flow to go on with.
    // Not an `async fn`: one would keep `self` twice in its state, as the argument and as the local it is moved
    // to (rust-lang/rust#62958); the block uses the captured `self` in place.
    #[allow(clippy::manual_async_fn)]
    fn step(mut self) -> impl std::future::Future<Output = Option<(AppResult<AlertRecord>, Flow)>> {
        async move {
            loop {
                if self.stopped {
                    return None;
                }
                // An alert whose consent must be read again is boxed while it is, so the step (held by every idle
                // subscription) keeps no room for one.
                let alert = match self.next_candidate().await {
                    Some(Ok((alert, read_at))) => {
                        if self.consent_unchanged(read_at) {
                            return Some((Ok(alert), self));
                        }
                        Box::new(alert)
                    }
                    Some(Err(e)) => {
                        self.stopped = true;
                        return Some((Err(e), self));
                    }
                    None => return None,
                };
                match Box::pin(self.consent_holds(&alert)).await {
                    Ok(true) => return Some((Ok(*alert), self)),
                    Ok(false) => {}
                    // Never "no consent" for a read that failed: the alert is held, and the flow ends if the read
                    // cannot be made within the retry window.
                    Err(e) => {
                        self.stopped = true;
                        return Some((Err(e), self));
                    }
                }
            }
        }
    }

    /// The next alert addressed to this audience, with the consent epoch it was read under; `None` when the feed
    /// has closed (the process is stopping).
    async fn next_candidate(&mut self) -> Option<AppResult<(AlertRecord, u64)>> {
        loop {
            if let Some(alert) = self.replayed.next() {
                self.cursor = alert.seq;
                return Some(Ok((alert, self.replayed_at)));
            }
            if let Some((batch, next)) = &mut self.batch {
                while let Some(item) = batch.get(*next) {
                    *next += 1;
                    if item.alert.seq <= self.cursor {
                        continue;
                    }
                    self.cursor = item.alert.seq;
                    if policy::receives_alert(
                        &self.audience,
                        item.alert.kind,
                        &item.alert.applicant_agency,
                        &item.shared_with,
                    ) {
                        return Some(Ok((item.alert.clone(), item.consent_epoch)));
                    }
                }
                self.batch = None;
            }
            if self.replay {
                let read_at = self.feed.consent_epoch();
                // Read before the table: once the feed has started, it broadcasts all that the table read misses.
                let feed_started = self.feed.started();
                // Boxed so the step, idle in `live.recv()`, does not keep room for the replay read.
                let read = Box::pin(read_after(
                    &self.db,
                    &self.retry,
                    &self.audience,
                    self.cursor,
                ));
                let batch = match read.await {
                    Ok(batch) => batch,
                    Err(e) => return Some(Err(e)),
                };
                // Replay until the table has nothing more for this audience. Until the feed has started nothing is
                // broadcast, so the table is read again after a pause instead of following it.
                if batch.is_empty() && !feed_started {
                    Box::pin(tokio::time::sleep(UNSTARTED_FEED_POLL)).await;
                    continue;
                }
                self.replay = !batch.is_empty();
                self.replayed = batch.into_iter();
                self.replayed_at = read_at;
                continue;
            }
            match self.live.recv().await {
                Ok(batch) => self.batch = Some((batch, 0)),
                Err(RecvError::Lagged(skipped)) => {
                    tracing::debug!(
                        feed.skipped = skipped,
                        "subscriber fell behind; resuming from the table"
                    );
                    self.batch = None;
                    self.replay = true;
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Whether the advocate's consent to this alert still holds as the client takes it, read again because
    /// something was revoked since the alert was read (`consent_unchanged`), so a revoked consent stops the flow at
    /// once. Forces and courts see their own alerts whatever consent says. A read that keeps failing is an error,
    /// never a "no".
    async fn consent_holds(&self, alert: &AlertRecord) -> AppResult<bool> {
        let AlertAudience::Advocate(agency) = &self.audience else {
            return Ok(true);
        };
        self.retry
            .run("consent check", || {
                let (order_id, agency) = (alert.order_id.clone(), agency.clone());
                self.db
                    .run(move |conn| db::shares::is_shared_with(conn, &order_id, &agency))
            })
            .await
    }

    /// Whether the alert's consent holds without a read: the audience is not an advocate's (forces and courts see
    /// their own alerts whatever consent says), or nothing was revoked since the alert and its consent were read.
    fn consent_unchanged(&self, read_at: u64) -> bool {
        !matches!(self.audience, AlertAudience::Advocate(_)) || read_at == self.feed.consent_epoch()
    }
}

/// Alerts after `cursor` for an audience, the read retried within the delivery retry window (the subscription
/// ends with `DELIVERY_INTERRUPTED` after it, and the client resumes with its cursor and loses nothing).
async fn read_after(
    db: &Database,
    retry: &crate::service::delivery::DeliveryRetry,
    audience: &AlertAudience,
    cursor: i64,
) -> AppResult<Vec<AlertRecord>> {
    retry
        .run("alert replay", || {
            let audience = audience.clone();
            db.run(move |c| {
                db::alerts::page(c, &audience, &AlertFilter::default(), cursor, REPLAY_BATCH)
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn askers_share_one_read_until_something_is_acknowledged() {
        let reads = AckReads::default();
        let key = (7, "ADV-A".to_string());
        let started = std::cell::Cell::new(0);
        // Starts a read that answers "not acknowledged" (a closure over a shared reference: usable again).
        let unacknowledged = || {
            started.set(started.get() + 1);
            async { Ok(None) }
        };
        let (answer, pending) = tokio::sync::oneshot::channel::<Option<Ack>>();
        let first = reads.join(&key, 0, || {
            started.set(started.get() + 1);
            async move { pending.await.map_err(|_| ()) }
        });
        let second = reads.join(&key, 0, unacknowledged);
        assert!(
            first.ptr_eq(&second),
            "an asker meanwhile joins the read in flight"
        );
        let other_agency = reads.join(&(7, "ADV-B".to_string()), 0, unacknowledged);
        assert!(
            !other_agency.ptr_eq(&first),
            "another agency's acknowledgement is its own read"
        );
        assert_eq!(started.get(), 2);
        let ack = Some((Utc::now(), "someone".to_string()));
        answer.send(ack.clone()).unwrap();
        assert_eq!(second.clone().await, Ok(ack.clone()));
        assert_eq!(first.clone().await, Ok(ack));
        assert!(
            reads.join(&key, 0, unacknowledged).ptr_eq(&first),
            "answered, with nothing acknowledged since: the answer still stands"
        );
        assert_eq!(started.get(), 2);
        // Something was acknowledged (the epoch moved on): the next asker reads afresh, and later askers at that
        // epoch share the new read.
        let third = reads.join(&key, 1, unacknowledged);
        assert!(!third.ptr_eq(&first));
        assert_eq!(started.get(), 3);
        assert!(reads.join(&key, 1, unacknowledged).ptr_eq(&third));
        assert_eq!(third.clone().await, Ok(None));
        assert!(reads.join(&key, 1, unacknowledged).ptr_eq(&third));
        assert_eq!(started.get(), 3);
    }

    #[tokio::test]
    async fn a_failed_read_is_not_reused() {
        let reads = AckReads::default();
        let key = (8, "MET".to_string());
        let failed = reads.join(&key, 0, || async { Err(()) });
        assert_eq!(failed.clone().await, Err(()));
        let again = reads.join(&key, 0, || async { Ok(None) });
        assert!(!again.ptr_eq(&failed), "the next asker reads again");
        assert_eq!(again.await, Ok(None));
    }
}
