//! Settings of delivery to agencies' webhooks and duty inboxes (docs/integrations.md), flattened into [`Settings`]:
//! kept here so the main list stays readable. Each is documented in docs/operations.md.

use crate::service::endpoints::EndpointSettings;
use std::time::Duration;

#[derive(clap::Args, Clone)]
pub struct EndpointArgs {
    /// Whether this server delivers alerts to webhooks and duty inboxes (`true` or `false`). Replicas share the
    /// work; turn it off on a server that should only answer requests.
    #[arg(long, env = "ORDERWATCH_DELIVER_TO_ENDPOINTS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub deliver: bool,

    /// Whether webhook URLs may be plain `http://` (`true` or `false`); unset, only in development.
    #[arg(long, env = "ORDERWATCH_WEBHOOK_ALLOW_HTTP", global = true)]
    pub webhook_allow_http: Option<bool>,

    /// Whether deliveries may reach this machine and private networks (`true` or `false`); unset, only in
    /// development. In production leave it unset unless a receiver lives on the private network.
    #[arg(long, env = "ORDERWATCH_WEBHOOK_ALLOW_PRIVATE", global = true)]
    pub webhook_allow_private: Option<bool>,

    /// Longest one try of a delivery may take (connecting, sending, the answer), in ms.
    #[arg(
        long,
        env = "ORDERWATCH_WEBHOOK_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub webhook_timeout_ms: u64,

    /// Wait after a delivery's first failed try, in ms; it doubles after each further one, with jitter.
    #[arg(
        long,
        env = "ORDERWATCH_WEBHOOK_RETRY_FIRST_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub webhook_retry_first_ms: u64,

    /// Longest wait between two tries of a delivery, in ms.
    #[arg(
        long,
        env = "ORDERWATCH_WEBHOOK_RETRY_MAX_MS",
        default_value_t = 600_000,
        global = true
    )]
    pub webhook_retry_max_ms: u64,

    /// Hours a delivery is retried before its endpoint is marked FAILING (its alerts then wait for a replay).
    #[arg(
        long,
        env = "ORDERWATCH_WEBHOOK_RETRY_HOURS",
        default_value_t = 24,
        global = true
    )]
    pub webhook_retry_hours: u32,

    /// How often an idle endpoint's worker looks for alerts without a wake-up, and this server for endpoints to
    /// deliver to, in ms.
    #[arg(
        long,
        env = "ORDERWATCH_WEBHOOK_POLL_MS",
        default_value_t = 1_000,
        global = true
    )]
    pub webhook_poll_ms: u64,

    /// How long a server's hold on an endpoint lasts unless renewed, in ms: after a crash, another replica takes
    /// the endpoint over once it runs out. At least three poll intervals.
    #[arg(
        long,
        env = "ORDERWATCH_WEBHOOK_LEASE_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub webhook_lease_ms: u64,

    /// SMTP server for duty inboxes: `smtp://user:password@host:587?tls=required` (STARTTLS) or
    /// `smtps://user:password@host:465`; unset, no email is sent. Never logged.
    #[arg(
        long,
        env = "ORDERWATCH_SMTP_URL",
        global = true,
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,

    /// The sender of alert emails.
    #[arg(
        long,
        env = "ORDERWATCH_SMTP_FROM",
        default_value = "orderwatch@localhost",
        global = true
    )]
    pub smtp_from: String,

    /// The console's public address, for the link in an alert email.
    #[arg(
        long,
        env = "ORDERWATCH_CONSOLE_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub console_url: String,
}

impl Default for EndpointArgs {
    fn default() -> Self {
        EndpointArgs {
            deliver: true,
            webhook_allow_http: None,
            webhook_allow_private: None,
            webhook_timeout_ms: 10_000,
            webhook_retry_first_ms: 5_000,
            webhook_retry_max_ms: 600_000,
            webhook_retry_hours: 24,
            webhook_poll_ms: 1_000,
            webhook_lease_ms: 30_000,
            smtp_url: None,
            smtp_from: "orderwatch@localhost".into(),
            console_url: "http://127.0.0.1:8080".into(),
        }
    }
}

impl std::fmt::Debug for EndpointArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointArgs")
            .field("deliver", &self.deliver)
            .field("webhook_allow_http", &self.webhook_allow_http)
            .field("webhook_allow_private", &self.webhook_allow_private)
            .field("webhook_timeout_ms", &self.webhook_timeout_ms)
            .field("webhook_retry_first_ms", &self.webhook_retry_first_ms)
            .field("webhook_retry_max_ms", &self.webhook_retry_max_ms)
            .field("webhook_retry_hours", &self.webhook_retry_hours)
            .field("webhook_poll_ms", &self.webhook_poll_ms)
            .field("webhook_lease_ms", &self.webhook_lease_ms)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<set>"))
            .field("smtp_from", &self.smtp_from)
            .field("console_url", &self.console_url)
            .finish()
    }
}

impl EndpointArgs {
    /// The delivery settings, for a production deployment or not; the error names the setting at fault.
    pub fn settings(&self, production: bool) -> Result<EndpointSettings, String> {
        if self.webhook_retry_hours == 0 || self.webhook_retry_hours > 24 * 14 {
            return Err("ORDERWATCH_WEBHOOK_RETRY_HOURS must be 1 to 336".into());
        }
        if self.webhook_timeout_ms == 0
            || self.webhook_poll_ms == 0
            || self.webhook_retry_first_ms == 0
        {
            return Err("ORDERWATCH_WEBHOOK_TIMEOUT_MS, ORDERWATCH_WEBHOOK_POLL_MS and ORDERWATCH_WEBHOOK_RETRY_FIRST_MS must be above 0".into());
        }
        if self.webhook_lease_ms < 3 * self.webhook_poll_ms {
            return Err("ORDERWATCH_WEBHOOK_LEASE_MS must be at least three times ORDERWATCH_WEBHOOK_POLL_MS".into());
        }
        if self.webhook_lease_ms < 2 * self.webhook_timeout_ms.saturating_add(self.webhook_poll_ms)
        {
            return Err("ORDERWATCH_WEBHOOK_LEASE_MS must be at least twice ORDERWATCH_WEBHOOK_TIMEOUT_MS plus ORDERWATCH_WEBHOOK_POLL_MS, so a try in flight keeps its lease".into());
        }
        if let Some(smtp) = self.smtp_url.as_deref().filter(|u| !u.is_empty()) {
            let url = url::Url::parse(smtp)
                .map_err(|_| "ORDERWATCH_SMTP_URL is not an smtp:// or smtps:// URL".to_string())?;
            let encrypted = url.scheme() == "smtps"
                || url
                    .query_pairs()
                    .any(|(k, v)| k == "tls" && v == "required");
            let same_host = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
            if production && !encrypted && !same_host {
                return Err("ORDERWATCH_SMTP_URL: production sends mail over TLS only: smtps://..., or smtp://...?tls=required (plain smtp:// only to a relay on this host)".into());
            }
        }
        url::Url::parse(&self.console_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or("ORDERWATCH_CONSOLE_URL must be an http:// or https:// address")?;
        Ok(EndpointSettings {
            allow_http: self.webhook_allow_http.unwrap_or(!production),
            allow_private: self.webhook_allow_private.unwrap_or(!production),
            timeout: Duration::from_millis(self.webhook_timeout_ms),
            retry_first: Duration::from_millis(self.webhook_retry_first_ms),
            retry_longest: Duration::from_millis(
                self.webhook_retry_max_ms.max(self.webhook_retry_first_ms),
            ),
            retry_for: chrono::Duration::hours(i64::from(self.webhook_retry_hours)),
            poll: Duration::from_millis(self.webhook_poll_ms),
            lease: Duration::from_millis(self.webhook_lease_ms),
            smtp_url: self
                .smtp_url
                .clone()
                .filter(|u| !u.is_empty())
                .map(|u| std::sync::Arc::new(crate::secret::Secret::new(u))),
            smtp_from: self.smtp_from.clone(),
            console_url: self.console_url.clone(),
            max_per_agency: 20,
        })
    }
}
