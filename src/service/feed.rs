//! The live alert feed of one process. Alerts are rows; this only decides *when* to read them.
//!
//! A pump task reads alerts committed after the last one it saw and broadcasts each batch to every subscriber of
//! this process. It is woken after a local commit, by PostgreSQL `NOTIFY` from other replicas (a dedicated
//! `LISTEN` connection), and by a slow poll as a safety net for a lost notification. Subscribers never depend on
//! the broadcast alone: they replay from the table by cursor, and go back to the table when they fall behind.

use crate::db::alerts::{feed_after, max_seq, FeedAlert, ALERT_CHANNEL};
use crate::db::Database;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, Notify};

/// Alerts read by the pump in one go.
const PUMP_BATCH: i64 = 500;

pub type FeedBatch = Arc<Vec<FeedAlert>>;

pub struct AlertFeed {
    sender: broadcast::Sender<FeedBatch>,
    wake: Arc<Notify>,
}

impl AlertFeed {
    /// `capacity` is how many batches a subscriber may fall behind before it is sent back to the table.
    pub fn new(capacity: usize) -> AlertFeed {
        let (sender, _) = broadcast::channel(capacity.max(1));
        AlertFeed {
            sender,
            wake: Arc::new(Notify::new()),
        }
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
    pub fn spawn_pump(&self, db: Database, poll: Duration) -> tokio::task::JoinHandle<()> {
        let sender = self.sender.clone();
        let wake = self.wake.clone();
        tokio::spawn(async move {
            let mut last = loop {
                match db.run(max_seq).await {
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
            loop {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
                loop {
                    let after = last;
                    match db.run(move |c| feed_after(c, after, PUMP_BATCH)).await {
                        Ok(batch) if batch.is_empty() => break,
                        Ok(batch) => {
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
    pub fn spawn_pg_listener(&self, url: String, retry: Duration) -> tokio::task::JoinHandle<()> {
        let wake = self.wake.clone();
        tokio::spawn(async move {
            loop {
                match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
                    Ok((client, mut connection)) => {
                        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
                        let driver = tokio::spawn(async move {
                            let mut messages = futures_util::stream::poll_fn(move |cx| {
                                connection.poll_message(cx)
                            });
                            while let Some(message) = messages.next().await {
                                match message {
                                    Ok(tokio_postgres::AsyncMessage::Notification(_)) => {
                                        if tx.send(()).is_err() {
                                            return;
                                        }
                                    }
                                    Ok(_) => {}
                                    Err(e) => {
                                        tracing::warn!(error = %e, "alert listener connection failed");
                                        return;
                                    }
                                }
                            }
                        });
                        if let Err(e) = client
                            .batch_execute(&format!("LISTEN {ALERT_CHANNEL}"))
                            .await
                        {
                            tracing::warn!(error = %e, "could not LISTEN for alerts");
                        } else {
                            // Anything committed while we were not listening.
                            wake.notify_one();
                            while rx.recv().await.is_some() {
                                wake.notify_one();
                            }
                        }
                        driver.abort();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "alert listener could not connect; will retry")
                    }
                }
                tokio::time::sleep(retry).await;
            }
        })
    }
}
