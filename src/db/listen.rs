//! The PostgreSQL `LISTEN` client: one connection of its own that hears other replicas' `NOTIFY` on the alert,
//! share and acknowledgement channels (`db::alerts`), for the alert feed (`service::feed`).

use super::alerts::{ACK_CHANNEL, ALERT_CHANNEL, SHARE_CHANNEL};
use futures_util::StreamExt;

/// What a notification says happened on another replica.
pub enum Notice {
    /// New alerts were committed.
    Alerts,
    /// A share was revoked.
    Revoked,
    /// An alert was acknowledged.
    Acknowledged,
}

/// A connection that has run `LISTEN` on the three channels.
pub async fn listen(url: &str) -> Result<Listening, tokio_postgres::Error> {
    let (client, mut connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Notice>();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                    let notice = match n.channel() {
                        SHARE_CHANNEL => Notice::Revoked,
                        ACK_CHANNEL => Notice::Acknowledged,
                        _ => Notice::Alerts,
                    };
                    if tx.send(notice).is_err() {
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
        .batch_execute(&format!(
            "LISTEN {ALERT_CHANNEL}; LISTEN {SHARE_CHANNEL}; LISTEN {ACK_CHANNEL}"
        ))
        .await
    {
        driver.abort();
        return Err(e);
    }
    Ok(Listening {
        _client: client,
        notifications: rx,
        driver,
    })
}

/// A listening connection. The client is kept because dropping it would close the connection.
pub struct Listening {
    _client: tokio_postgres::Client,
    /// What each notification said; closes when the connection fails.
    pub notifications: tokio::sync::mpsc::UnboundedReceiver<Notice>,
    /// The task driving the connection.
    pub driver: tokio::task::JoinHandle<()>,
}
