//! How deliveries to endpoints are made, from `config::endpoints`.

use crate::secret::Secret;
use std::time::Duration;

/// How deliveries to endpoints are made (`ORDERWATCH_WEBHOOK_*`, `ORDERWATCH_SMTP_*`; docs/operations.md).
#[derive(Debug, Clone)]
pub struct EndpointSettings {
    /// Whether plain `http://` webhook URLs are accepted (development; never in production unless set).
    pub allow_http: bool,
    /// Whether deliveries may reach this machine and private networks.
    pub allow_private: bool,
    /// Longest one try may take (connecting, sending, the answer).
    pub timeout: Duration,
    /// The wait after the first failed try, doubled after each further one up to `retry_longest`, with jitter.
    pub retry_first: Duration,
    pub retry_longest: Duration,
    /// How long a delivery is retried before its endpoint is marked failing.
    pub retry_for: chrono::Duration,
    /// How often an idle endpoint's worker looks again without a wake-up, and renews its lease.
    pub poll: Duration,
    /// How long a replica's hold on an endpoint lasts unless renewed (after a crash, another replica takes over
    /// once it runs out).
    pub lease: Duration,
    /// SMTP server for duty inboxes (`smtp://` with STARTTLS, `smtps://`, user and password in the URL).
    pub smtp_url: Option<std::sync::Arc<Secret>>,
    pub smtp_from: String,
    /// The console's address, for the link in an email.
    pub console_url: String,
    /// Most endpoints one agency may have.
    pub max_per_agency: usize,
}

impl Default for EndpointSettings {
    fn default() -> Self {
        EndpointSettings {
            allow_http: true,
            allow_private: true,
            timeout: Duration::from_secs(10),
            retry_first: Duration::from_secs(5),
            retry_longest: Duration::from_secs(600),
            retry_for: chrono::Duration::hours(24),
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            smtp_url: None,
            smtp_from: "orderwatch@localhost".into(),
            console_url: "http://127.0.0.1:8080".into(),
            max_per_agency: 20,
        }
    }
}
