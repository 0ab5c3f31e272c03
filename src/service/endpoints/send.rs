//! Sending one alert to one endpoint: a signed HTTP POST (Standard Webhooks) or an email by SMTP. Outbound requests
//! go only to the endpoint's own host; unless private addresses are allowed, the host's addresses are checked as it
//! is resolved for each connection (so a name that later resolves to this machine is refused too); redirects are
//! not followed, proxies from the environment are not used, and the response is read to at most 64 KiB.

use super::EndpointSettings;
use crate::domain::endpoint::{self, AlertNotice, EndpointRecord, Transport};
use futures_util::FutureExt;
use std::net::SocketAddr;
use std::sync::Arc;

/// Most of a receiver's response read (and thrown away) before the connection is reused.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Why a try failed, in words safe to show an administrator and to log: a status, a timeout, a refused address;
/// never a response body, which the receiver wrote.
pub type SendError = String;

/// The clients deliveries are sent with.
pub struct Senders {
    http: reqwest::Client,
    mail: Option<(
        lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
        lettre::message::Mailbox,
    )>,
    settings: EndpointSettings,
}

/// Why the resolver gave no address (found again in the error's causes, to say so in `lastError`).
const REFUSED_ADDRESSES: &str = "the host resolves only to addresses deliveries may not reach";

/// Resolves host names for webhook deliveries, leaving out addresses a delivery may not reach.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| endpoint::public_address(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(REFUSED_ADDRESSES.into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        }
        .boxed()
    }
}

impl Senders {
    pub fn new(settings: &EndpointSettings) -> Result<Senders, String> {
        let mut http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(settings.timeout)
            .timeout(settings.timeout)
            .user_agent(concat!("orderwatch/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private {
            http = http.dns_resolver(Arc::new(PublicOnly));
        }
        let http = http
            .build()
            .map_err(|e| format!("the webhook client could not be built: {e}"))?;
        let mail = match &settings.smtp_url {
            None => None,
            Some(url) => {
                let transport =
                    lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url.expose())
                        .map_err(|_| {
                            "ORDERWATCH_SMTP_URL is not an smtp:// or smtps:// URL".to_string()
                        })?
                        .timeout(Some(settings.timeout))
                        .build();
                let from = settings.smtp_from.parse().map_err(|_| {
                    format!(
                        "ORDERWATCH_SMTP_FROM {:?} is not an email address",
                        settings.smtp_from
                    )
                })?;
                Some((transport, from))
            }
        };
        Ok(Senders {
            http,
            mail,
            settings: settings.clone(),
        })
    }

    /// Whether this server can send email (`ORDERWATCH_SMTP_URL` is set).
    pub fn can_email(&self) -> bool {
        self.mail.is_some()
    }

    /// Sends `notice` to `to`, with the stable id `id`; `Ok` once the receiver has taken it.
    pub async fn send(
        &self,
        to: &EndpointRecord,
        id: &str,
        notice: &AlertNotice,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), SendError> {
        match to.transport {
            Transport::Webhook => self.post(to, id, notice, now).await,
            Transport::Email => self.email(to, id, notice).await,
        }
    }

    async fn post(
        &self,
        to: &EndpointRecord,
        id: &str,
        notice: &AlertNotice,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), SendError> {
        // Checked again at each delivery: the settings may have changed since it was registered.
        let url = endpoint::check_webhook_url(
            &to.target,
            self.settings.allow_http,
            self.settings.allow_private,
        )
        .map_err(|(code, _)| format!("refused: {code}"))?;
        let body = notice.webhook_body();
        // The time of this try by the wall clock, as receivers check it against theirs to refuse replays.
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let signature = endpoint::signature(&to.signing_secrets(now), id, timestamp, &body)?;
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status();
        drain(response).await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", status.as_u16()))
        }
    }

    async fn email(
        &self,
        to: &EndpointRecord,
        id: &str,
        notice: &AlertNotice,
    ) -> Result<(), SendError> {
        use lettre::AsyncTransport;
        let Some((transport, from)) = &self.mail else {
            return Err("no SMTP server is configured (ORDERWATCH_SMTP_URL)".into());
        };
        let (subject, text) = notice.email(&self.settings.console_url);
        let recipient = to
            .target
            .parse::<lettre::message::Mailbox>()
            .map_err(|_| "the address is not valid".to_string())?;
        let host = from.email.domain().to_string();
        let message = lettre::Message::builder()
            .from(from.clone())
            .to(recipient)
            .subject(subject)
            .message_id(Some(format!("<{id}@{host}>")))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|_| "the message could not be built".to_string())?;
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| match e.status() {
                Some(code) => format!("SMTP {code}"),
                None if e.is_timeout() => "timed out".into(),
                None => "the SMTP server could not be reached".into(),
            })
    }
}

/// A failed request in words that name no secret and no body: timed out, refused, or the connection failed.
fn describe(e: &reqwest::Error) -> SendError {
    let mut cause: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cause {
        if c.to_string() == REFUSED_ADDRESSES {
            return format!("refused: {}", crate::codes::ENDPOINT_ADDRESS_REFUSED);
        }
        cause = c.source();
    }
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "the request failed".into()
    }
}

/// Reads the response to at most [`MAX_RESPONSE_BYTES`], so the connection can be reused when it is short and a
/// receiver sending without end cannot hold the delivery.
async fn drain(mut response: reqwest::Response) {
    let mut read = 0;
    while let Ok(Some(chunk)) = response.chunk().await {
        read += chunk.len();
        if read > MAX_RESPONSE_BYTES {
            break;
        }
    }
}
