//! The live alert feed of one process. Alerts are rows; this only decides *when* to read them.
//!
//! A pump task reads alerts committed after the last one it saw and broadcasts each batch to every subscriber of
//! this process. It is woken after a local commit, by PostgreSQL `NOTIFY` from other replicas (a dedicated
//! `LISTEN` connection), and by a slow poll as a safety net for a lost notification. Subscribers never depend on
//! the broadcast alone: they replay from the table by cursor, and go back to the table when they fall behind.

use crate::db::alerts::{feed_after, max_seq, FeedAlert};
use crate::db::listen::{listen, Notice};
use crate::db::Database;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, Notify};

/// Alerts read by the pump in one go.
const PUMP_BATCH: i64 = 500;

pub type FeedBatch = Arc<Vec<FeedAlert>>;

pub struct AlertFeed {
    sender: broadcast::Sender<FeedBatch>,
    wake: Arc<Notify>,
    /// Bumped whenever consent is revoked (here, or on another replica by NOTIFY). An advocate's delivery read at the
    /// current epoch needs no consent query: nothing has been revoked since its consent was read with it.
    consent_epoch: Arc<AtomicU64>,
    /// Bumped whenever an alert is acknowledged (here, or on another replica by NOTIFY). An acknowledgement read at
    /// the current epoch is still the answer: nothing has been acknowledged since it was read.
    ack_epoch: Arc<AtomicU64>,
    /// Set once the pump knows where the feed starts: from then on it broadcasts every alert committed after that.
    started: Arc<AtomicBool>,
}

impl AlertFeed {
    /// `capacity` is how many batches a subscriber may fall behind before it is sent back to the table.
    pub fn new(capacity: usize) -> AlertFeed {
        let (sender, _) = broadcast::channel(capacity.max(1));
        AlertFeed {
            sender,
            wake: Arc::new(Notify::new()),
            consent_epoch: Arc::new(AtomicU64::new(0)),
            ack_epoch: Arc::new(AtomicU64::new(0)),
            started: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether the pump has read where the feed starts. Until then an alert committed now may never be broadcast
    /// (the pump starts after it), so a subscriber that finds the feed not started reads the table instead.
    pub fn started(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }

    /// The current consent epoch; read it *before* reading consent from the database.
    pub fn consent_epoch(&self) -> u64 {
        self.consent_epoch.load(Ordering::SeqCst)
    }

    /// Marks that consent was revoked: every delivery read before now checks consent again.
    pub fn consent_revoked(&self) {
        self.consent_epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// The current acknowledgement epoch; read it *before* reading an acknowledgement from the database.
    pub fn ack_epoch(&self) -> u64 {
        self.ack_epoch.load(Ordering::SeqCst)
    }

    /// Marks that an alert was acknowledged: acknowledgements read before now are read again.
    pub fn acknowledged(&self) {
        self.ack_epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// Asks the pump to read new alerts now (after a commit that raised some).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Live batches from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<FeedBatch> {
        self.sender.subscribe()
    }

    /// Subscribers connected to this process.
    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Starts the pump on the current runtime; it runs until the runtime stops and survives database outages.
    /// Where the feed starts is read before this returns when the database answers, so a server is not serving
    /// requests while its pump still has to read it; otherwise the pump keeps trying in the background.
    pub async fn start_pump(&self, db: Database, poll: Duration) -> tokio::task::JoinHandle<()> {
        let sender = self.sender.clone();
        let wake = self.wake.clone();
        let epoch = self.consent_epoch.clone();
        let started = self.started.clone();
        let first = db.run(max_seq).await;
        tokio::spawn(async move {
            let mut first = Some(first);
            let mut last = loop {
                let read = match first.take() {
                    Some(read) => read,
                    None => db.run(max_seq).await,
                };
                match read {
                    Ok(seq) => break seq,
                    Err(e) => {
                        tracing::warn!(
                            error.code = e.code(),
                            "alert feed waiting for the database"
                        );
                        tokio::time::sleep(poll).await;
                    }
                }
            };
            started.store(true, Ordering::SeqCst);
            loop {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
                loop {
                    let after = last;
                    let read_at = epoch.load(Ordering::SeqCst);
                    match db.run(move |c| feed_after(c, after, PUMP_BATCH)).await {
                        Ok(batch) if batch.is_empty() => break,
                        Ok(mut batch) => {
                            for item in &mut batch {
                                item.consent_epoch = read_at;
                            }
                            let full = batch.len() as i64 == PUMP_BATCH;
                            last = batch.last().map(|a| a.alert.seq).unwrap_or(last);
                            // No receivers is fine: nobody is connected to this process.
                            let _ = sender.send(Arc::new(batch));
                            if !full {
                                break;
                            }
                        }
                        Err(e) => {
                            tracing::warn!(
                                error.code = e.code(),
                                "alert feed could not read alerts; will retry"
                            );
                            break;
                        }
                    }
                }
            }
        })
    }

    /// Listens for `NOTIFY` from other replicas on PostgreSQL and wakes the pump; reconnects after failures.
    /// The first `LISTEN` is made before this returns (or given up after `FIRST_LISTEN_TIMEOUT`), so that, started
    /// before the pump, nothing committed elsewhere can fall between them; a reconnection wakes the pump to read
    /// what was committed while no one listened.
    pub async fn start_pg_listener(
        &self,
        url: String,
        retry: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let wake = self.wake.clone();
        let consent = self.consent_epoch.clone();
        let acknowledged = self.ack_epoch.clone();
        // `None`: not done in time; the loop below tries again, as after a lost connection.
        let first = tokio::time::timeout(FIRST_LISTEN_TIMEOUT, listen(&url))
            .await
            .ok();
        tokio::spawn(async move {
            // Made before the pump read where it starts: nothing was missed, so no wake.
            let mut first = first.map(|listening| (listening, false));
            loop {
                let (listening, catch_up) = match first.take() {
                    Some(made) => made,
                    None => (listen(&url).await, true),
                };
                match listening {
                    Ok(mut listening) => {
                        if catch_up {
                            // Anything committed, revoked or acknowledged while we were not listening.
                            consent.fetch_add(1, Ordering::SeqCst);
                            acknowledged.fetch_add(1, Ordering::SeqCst);
                            wake.notify_one();
                        }
                        while let Some(notice) = listening.notifications.recv().await {
                            match notice {
                                Notice::Alerts => wake.notify_one(),
                                Notice::Revoked => {
                                    consent.fetch_add(1, Ordering::SeqCst);
                                }
                                Notice::Acknowledged => {
                                    acknowledged.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                        }
                        listening.driver.abort();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "alert listener could not LISTEN; will retry")
                    }
                }
                tokio::time::sleep(retry).await;
            }
        })
    }
}

/// Longest the first `LISTEN` may hold up start-up; after that the listener keeps trying in the background.
const FIRST_LISTEN_TIMEOUT: Duration = Duration::from_secs(5);
