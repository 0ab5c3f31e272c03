//! Delivery to endpoints: every alert an endpoint's agency would receive on a subscription, of the kinds it chose,
//! from the same outbox, in `seq` order, at least once, with a stable `webhook-id` (so a receiver keeps each once).
//!
//! Each active endpoint is delivered to by one worker at a time across all replicas: a replica takes an endpoint's
//! lease (`db::endpoints::claim`), renews it as it goes, and gives it up when the endpoint is paused or failing or
//! the server stops. A replica that dies holding a lease holds it until it runs out (`ORDERWATCH_WEBHOOK_LEASE_MS`);
//! then another takes over from the endpoint's cursor, resending the alert that was in flight, if any, with the
//! same id. One worker per endpoint, each its own task: a slow or failing endpoint delays only itself.
//!
//! For each alert the worker reads the endpoint afresh (paused? re-keyed?), reads the next alert for it as consent
//! and need-to-know stand now, records the disclosure in the audit log before sending, sends, and moves the cursor
//! on only once the receiver has taken it. A failed try is retried after a backoff that doubles, with jitter; when
//! tries have failed for `ORDERWATCH_WEBHOOK_RETRY_HOURS`, the endpoint is marked `FAILING` and its alerts wait,
//! listed by `alertEndpoints { waiting }`, until an administrator replays them (`resumeAlertEndpoint`).

use super::{audience_of, next_for};

use crate::db;
use crate::domain::endpoint::{self, AlertNotice, EndpointRecord, EndpointState};
use crate::error::AppResult;
use crate::service::page::encode_cursor;
use crate::service::Services;
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::watch;

pub use super::outbound::Outbound;

/// How a worker's step ended.
enum Step {
    /// Go on with the next alert.
    Next,
    /// Nothing to send: wait for a new alert.
    Idle,
    /// The endpoint is no longer this worker's (paused, failing, taken over, or the server is stopping).
    Done,
}

impl Services {
    /// Starts delivering to endpoints: a loop that claims the active endpoints no live replica holds, now, every
    /// poll interval and when woken, and starts a worker for each. Stops with `shutdown`; the workers give their
    /// leases up as they stop.
    pub fn deliver_to_endpoints(
        &self,
        shutdown: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let svc = self.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let out = svc.outbound.clone();
            while !*stop.borrow() {
                let claimed = std::time::Instant::now();
                match svc.claim_endpoints().await {
                    Ok(ids) => {
                        for id in ids {
                            if out.start(&id) {
                                tokio::spawn(svc.clone().endpoint_worker(
                                    id,
                                    claimed,
                                    shutdown.clone(),
                                ));
                            }
                        }
                    }
                    Err(e) => tracing::warn!(
                        error.code = e.code(),
                        "alert endpoints could not be claimed; trying again"
                    ),
                }
                tokio::select! {
                    _ = tokio::time::sleep(out.settings.poll) => {}
                    _ = out.wake.notified() => {}
                    changed = stop.changed() => if changed.is_err() { break },
                }
            }
        })
    }

    /// The active endpoints this process now holds the lease of and has no worker for yet.
    async fn claim_endpoints(&self) -> AppResult<Vec<String>> {
        let out = self.outbound.clone();
        let now = self.now();
        let until = out.lease_until(now);
        let running: HashSet<String> = out
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        self.db
            .run(move |conn| {
                let mut claimed = vec![];
                for id in db::endpoints::unclaimed(conn, &out.owner, now)? {
                    if !running.contains(&id)
                        && db::endpoints::claim(conn, &id, &out.owner, now, until)?
                    {
                        claimed.push(id);
                    }
                }
                Ok(claimed)
            })
            .await
    }

    /// Delivers to one endpoint while this process holds its lease (claimed at `claimed`).
    async fn endpoint_worker(
        self,
        id: String,
        claimed: std::time::Instant,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let out = self.outbound.clone();
        // However the worker ends (a panic included), the endpoint can be claimed here again.
        let _running = Running(out.clone(), id.clone());
        tracing::debug!(endpoint.id = %id, "delivering to alert endpoint");
        let mut worker = Worker {
            id: id.clone(),
            live: self.feed.subscribe(),
            scanned_to: 0,
            disclosed: None,
            failures: 0,
            renewed: claimed,
        };
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.delivery_step(&mut worker, &mut shutdown).await {
                Step::Next => {}
                Step::Idle => {
                    tokio::select! {
                        _ = worker.live.recv() => {}
                        _ = tokio::time::sleep(out.settings.poll) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Step::Done => break,
            }
        }
        let (db, owner) = (self.db.clone(), out.owner.clone());
        if let Err(e) = db
            .run(move |conn| db::endpoints::release(conn, &id, &owner))
            .await
        {
            tracing::warn!(
                error.code = e.code(),
                "an alert endpoint's lease could not be given up; it runs out"
            );
        }
    }

    /// Reads the endpoint and its next alert, and delivers that alert once (or waits out a backoff after failing).
    async fn delivery_step(&self, w: &mut Worker, shutdown: &mut watch::Receiver<bool>) -> Step {
        let out = self.outbound.clone();
        let Some(e) = self.hold(w).await else {
            return Step::Done;
        };
        let (endpoint, scanned_to) = (e.clone(), w.scanned_to);
        let read = self
            .db
            .run(move |conn| {
                let audience = audience_of(conn, &endpoint.agency)?;
                let head = db::alerts::max_seq(conn)?;
                let after = endpoint.delivered_seq.max(scanned_to);
                let next = next_for(conn, &audience, &endpoint, after, 1)?.pop();
                Ok((audience, head, next))
            })
            .await;
        let (audience, head, next) = match read {
            Ok(found) => found,
            Err(err) => {
                tracing::warn!(
                    error.code = err.code(),
                    "an alert endpoint's next alert could not be read; trying again"
                );
                return self.back_off(w, shutdown).await;
            }
        };
        let Some(alert) = next else {
            // Nothing up to the head is for this endpoint: later reads start there.
            w.scanned_to = w.scanned_to.max(head);
            return Step::Idle;
        };
        if w.disclosed != Some(alert.seq) {
            if let Err(err) = self.record_endpoint_disclosure(&e, &audience, &alert).await {
                tracing::warn!(
                    error.code = err.code(),
                    "an endpoint delivery's disclosure could not be recorded; held back"
                );
                return self.back_off(w, shutdown).await;
            }
            w.disclosed = Some(alert.seq);
        }
        let now = self.now();
        let notice = AlertNotice::new(
            &alert,
            encode_cursor(crate::service::alerts::ALERT_CURSOR, &alert.seq.to_string()),
        );
        let sent = out
            .senders()
            .send(&e, &endpoint::message_id(&alert), &notice, now)
            .await;
        self.after_try(w, &e, alert.seq, now, sent, shutdown).await
    }

    /// Records how a try went: delivered (the cursor moves on) or failed (one more attempt, `FAILING` once tries
    /// have failed for the whole retry period, else a backoff).
    async fn after_try(
        &self,
        w: &mut Worker,
        e: &EndpointRecord,
        seq: i64,
        now: chrono::DateTime<chrono::Utc>,
        sent: Result<(), super::send::SendError>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Step {
        let out = self.outbound.clone();
        let m = crate::metrics::global();
        let (id, owner) = (w.id.clone(), out.owner.clone());
        match sent {
            Ok(()) => {
                m.endpoint_deliveries
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                w.failures = 0;
                match self
                    .db
                    .run(move |conn| db::endpoints::delivered(conn, &id, &owner, seq, now))
                    .await
                {
                    Ok(true) => Step::Next,
                    // Another replica holds it now, and resends what this one sent, with the same id.
                    Ok(false) => Step::Done,
                    Err(err) => {
                        tracing::warn!(
                            error.code = err.code(),
                            "a delivery could not be recorded; it will be sent again"
                        );
                        self.back_off(w, shutdown).await
                    }
                }
            }
            Err(reason) => {
                m.endpoint_failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                w.failures = w.failures.saturating_add(1);
                let since = e.failing_since.unwrap_or(now);
                let give_up = now - since >= out.settings.retry_for;
                let recorded = {
                    let reason = reason.clone();
                    self.db
                        .run(move |conn| {
                            db::endpoints::failed(conn, &id, &owner, &reason, since, now, give_up)
                        })
                        .await
                };
                if give_up {
                    tracing::error!(endpoint.id = %w.id, endpoint.error = %reason, attempts = e.attempts + 1, "alert endpoint failing: deliveries stopped until replayed");
                    return Step::Done;
                }
                tracing::warn!(endpoint.id = %w.id, endpoint.error = %reason, attempts = e.attempts + 1, "alert delivery failed; it will be tried again");
                match recorded {
                    Ok(false) => Step::Done,
                    _ => self.back_off(w, shutdown).await,
                }
            }
        }
    }

    /// Waits before the next try (the backoff after `w.failures` failures in a row), keeping the lease; `Done`
    /// if the endpoint stops being this worker's meanwhile.
    async fn back_off(&self, w: &mut Worker, shutdown: &mut watch::Receiver<bool>) -> Step {
        let s = &self.outbound.settings;
        let wait = endpoint::backoff(
            w.failures.max(1),
            s.retry_first,
            s.retry_longest,
            rand::random::<f64>(),
        );
        let deadline = tokio::time::Instant::now() + wait;
        // Renewed well before it runs out, however long the wait.
        let renew_every = (s.lease / 3).max(Duration::from_millis(10));
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Step::Next;
            }
            tokio::select! {
                _ = tokio::time::sleep(left.min(renew_every)) => {}
                _ = shutdown.changed() => return Step::Done,
            }
            if self.hold(w).await.is_none() {
                return Step::Done;
            }
        }
    }

    /// Reads the endpoint afresh while this process holds its lease, renewing the lease once a third of it has
    /// passed (a read otherwise, so a busy endpoint costs no write a delivery for it): `None` when the lease is
    /// lost or the endpoint is no longer active. A failed read gives it up (the lease runs out; a worker starts
    /// again when it is claimed again).
    async fn hold(&self, w: &mut Worker) -> Option<EndpointRecord> {
        let out = self.outbound.clone();
        // Renewed once a third of it has passed, and whenever a try starting now could outlast what is left.
        let asked = std::time::Instant::now();
        let held_for = asked.saturating_duration_since(w.renewed);
        let renew = held_for >= out.settings.lease / 3
            || held_for + out.settings.timeout >= out.settings.lease / 2;
        let until = out.lease_until(self.now());
        let (id, scanned_to) = (w.id.clone(), w.scanned_to);
        let read = self
            .db
            .run(move |conn| {
                if renew {
                    db::endpoints::renew(conn, &id, &out.owner, until, scanned_to)
                } else {
                    db::endpoints::held(conn, &id, &out.owner)
                }
            })
            .await;
        if renew && read.is_ok() {
            w.renewed = asked;
        }
        match read {
            Ok(Some(e)) if e.state == EndpointState::Active => Some(e),
            Ok(_) => None,
            Err(err) => {
                tracing::warn!(
                    error.code = err.code(),
                    "an alert endpoint could not be read; its worker stops"
                );
                tokio::time::sleep(self.outbound.settings.poll).await;
                None
            }
        }
    }
}

/// While alive, the endpoint is being delivered to by this process.
struct Running(std::sync::Arc<Outbound>, String);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.stop(&self.1);
    }
}

/// One endpoint worker's state between steps.
struct Worker {
    id: String,
    /// The alert feed: a new alert wakes an idle worker.
    live: tokio::sync::broadcast::Receiver<crate::service::feed::FeedBatch>,
    /// Alerts up to here were read and none was for this endpoint (kept in memory only, so idle endpoints do not
    /// rescan the outbox from their last delivery each time).
    scanned_to: i64,
    /// The alert whose disclosure is recorded already (it is being tried).
    disclosed: Option<i64>,
    /// Failed tries in a row, for the backoff.
    failures: u32,
    /// When the lease was last taken or renewed.
    renewed: std::time::Instant,
}
