//! Alert endpoints: where an agency's alerts go besides live subscriptions (a signed webhook into its case or records
//! system, or an email to a duty inbox), and the pure rules of delivering to them: what a delivery says, how it is
//! signed (the Standard Webhooks specification), how long to wait before trying again, and which addresses a
//! delivery may reach.

use super::alert::AlertRecord;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use std::time::Duration;

mod target;
pub use target::{check_email_address, check_webhook_url, public_address, Refusal};

code_enum!(
    /// How an endpoint receives alerts.
    Transport {
        Webhook => "WEBHOOK",
        Email => "EMAIL",
    }
);

code_enum!(
    /// Whether alerts are being delivered to an endpoint: `ACTIVE` delivers in order, retrying a failed delivery
    /// with backoff; `PAUSED` (by an administrator) sends nothing until it is resumed; `FAILING` means a delivery
    /// kept failing for the whole retry period, and the alerts wait until an administrator replays them.
    EndpointState {
        Active => "ACTIVE",
        Paused => "PAUSED",
        Failing => "FAILING",
    }
);

/// An endpoint as stored: where, which alert kinds, how delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRecord {
    pub id: String,
    pub agency: String,
    pub transport: Transport,
    /// The webhook's URL or the duty inbox's address.
    pub target: String,
    /// The alert kinds it receives (of those its agency receives at all).
    pub kinds: Vec<super::alert::AlertKind>,
    /// The signing secret (webhooks), and during a rotation's overlap the ones it replaced (space-separated, at most
    /// three) with when they stop.
    pub secret: Option<String>,
    pub previous_secret: Option<(String, DateTime<Utc>)>,
    pub state: EndpointState,
    /// The `seq` of the last alert delivered (or passed over as not for this endpoint).
    pub delivered_seq: i64,
    /// Failed tries of the alert at the head, since `failing_since`, the last with `last_error`.
    pub attempts: i64,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EndpointRecord {
    /// The secrets a delivery at `now` is signed with: the current one, and the previous one until its overlap ends.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets: Vec<&str> = self.secret.as_deref().into_iter().collect();
        if let Some((previous, until)) = &self.previous_secret {
            if now < *until {
                secrets.extend(previous.split_whitespace());
            }
        }
        secrets
    }
}

/// Prefix of a signing secret, as the Standard Webhooks libraries expect it.
pub const SECRET_PREFIX: &str = "whsec_";
/// Bytes of key in a signing secret.
pub const SECRET_BYTES: usize = 32;
/// Longest URL or email address an endpoint may have.
pub const MAX_TARGET_LEN: usize = 2_000;

/// A new signing secret from `key` (random bytes): `whsec_` and the key in base64.
pub fn secret_from_key(key: &[u8]) -> String {
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

/// The stable id of the delivery of `alert` (`webhook-id`): the same on every try, on every replica, so a receiver
/// drops duplicates by it.
pub fn message_id(alert: &AlertRecord) -> String {
    format!("msg_{}", alert.id.replace('-', ""))
}

/// The `webhook-signature` of `body`: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under each secret
/// given (the current one, and during a rotation's overlap the previous one), separated by spaces.
pub fn signature(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let mut signatures = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
            .map_err(|_| "the endpoint's signing secret is not base64".to_string())?;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key)
            .map_err(|_| "the endpoint's signing secret is unusable".to_string())?;
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body.as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        signatures.push(format!("v1,{sig}"));
    }
    Ok(signatures.join(" "))
}

/// What a delivery says about an alert: only the alert itself (its kind, severity, order reference, times and
/// cursor), never a name, an address or a narrative. The receiver reads more through the API with its own token,
/// and that read is audited.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertNotice {
    pub alert_id: String,
    pub kind: &'static str,
    pub severity: &'static str,
    pub order_reference: String,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub late: bool,
    /// The alert's cursor: `alerts(after: ...)` resumes after it.
    pub cursor: String,
}

impl AlertNotice {
    pub fn new(alert: &AlertRecord, cursor: String) -> AlertNotice {
        AlertNotice {
            alert_id: alert.id.clone(),
            kind: alert.kind.as_str(),
            severity: alert.severity.as_str(),
            order_reference: alert.order_reference.clone(),
            created_at: alert.created_at,
            due_at: alert.due_at,
            late: alert.late,
            cursor,
        }
    }

    /// The webhook body, in the Standard Webhooks shape: `type` (`alert.` and the kind in lower case), `timestamp`
    /// (when the alert was raised) and `data`.
    pub fn webhook_body(&self) -> String {
        serde_json::json!({
            "type": format!("alert.{}", self.kind.to_ascii_lowercase()),
            "timestamp": self.created_at,
            "data": self,
        })
        .to_string()
    }

    /// The email's subject and text: the kind, the order reference, the time and a link to the order in the console.
    pub fn email(&self, console_url: &str) -> (String, String) {
        let subject = format!(
            "orderwatch: {} on order {}",
            self.kind, self.order_reference
        );
        let link = format!(
            "{}/#/orders/{}",
            console_url.trim_end_matches('/'),
            self.order_reference.replace('/', "%2F")
        );
        let text = format!(
            "An alert was raised on an order your agency follows.\r\n\r\nKind: {}\r\nSeverity: {}\r\nOrder: {}\r\nRaised at: {}\r\nDue at: {}\r\n\r\nOpen it in the console (sign in first; the look-up is audited):\r\n{link}\r\n\r\nThis message holds no personal data by design. Do not reply.\r\n",
            self.kind,
            self.severity,
            self.order_reference,
            self.created_at.to_rfc3339(),
            self.due_at.to_rfc3339(),
        );
        (subject, text)
    }
}

/// How long to wait after the `failures`-th failed try in a row (1 = the first): `first` doubled for each further
/// failure up to `longest`, then a random part of it taken away (`jitter` from 0 to 1 picks how much of the upper
/// half), so endpoints that failed together do not all try again at once.
pub fn backoff(failures: u32, first: Duration, longest: Duration, jitter: f64) -> Duration {
    let doubled = first.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
    let ceiling = doubled.min(longest).max(Duration::from_millis(1));
    ceiling.mul_f64(1.0 - jitter.clamp(0.0, 1.0) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_standard_webhooks_one() {
        // The example of the Standard Webhooks specification (spec/standard-webhooks.md, "Signature scheme").
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&[secret], id, 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let two = signature(&[secret, secret], id, 1614265330, body).unwrap();
        assert_eq!(
            two.split(' ').count(),
            2,
            "both signatures during an overlap"
        );
        assert!(signature(&["whsec_not base64!"], id, 1, body).is_err());
    }

    #[test]
    fn backoff_doubles_up_to_the_longest_and_jitter_takes_at_most_half() {
        let (first, longest) = (Duration::from_secs(5), Duration::from_secs(600));
        assert_eq!(backoff(1, first, longest, 0.0), Duration::from_secs(5));
        assert_eq!(backoff(2, first, longest, 0.0), Duration::from_secs(10));
        assert_eq!(backoff(4, first, longest, 0.0), Duration::from_secs(40));
        assert_eq!(backoff(30, first, longest, 0.0), longest);
        assert_eq!(
            backoff(1, first, longest, 1.0),
            Duration::from_millis(2_500)
        );
        assert_eq!(
            backoff(u32::MAX, first, longest, 0.5),
            longest.mul_f64(0.75)
        );
    }
}
