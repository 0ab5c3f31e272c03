//! Alert endpoints: an agency's webhooks and duty inboxes, registered by an administrator on its behalf, each fed
//! from the alerts outbox in order by [`deliver`]. Management here: register (the signing secret is shown once),
//! list with how delivery stands, pause, resume (which also replays after failing), rotate the secret, and the
//! alerts waiting for an endpoint (the dead-letter view).

pub mod deliver;
mod manage;
mod outbound;
pub mod send;
mod settings;

pub use settings::EndpointSettings;

use super::Services;
use crate::auth::policy::{self, Operation};
use crate::auth::{Caller, Principal};
use crate::codes;
use crate::db;
use crate::domain::alert::{AlertKind, AlertRecord};
use crate::domain::audit::AuditOperation;
use crate::domain::endpoint::{self, EndpointRecord, EndpointState, Transport};
use crate::domain::scope::{AlertAudience, AlertFilter};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use rand::RngCore;

/// What an administrator registers.
#[derive(Debug, Clone)]
pub struct EndpointDraft {
    pub agency: String,
    pub transport: Transport,
    pub target: String,
    pub kinds: Vec<AlertKind>,
}

/// An alert waiting for an endpoint, as an administrator may see it: no order, no person.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub webhook_id: String,
    pub alert_id: String,
    pub kind: AlertKind,
    pub created_at: DateTime<Utc>,
    pub cursor: String,
}

/// Most waiting alerts listed at once.
const MAX_WAITING: i64 = 100;

fn not_found() -> AppError {
    AppError::NotFound {
        what: "alert endpoint",
    }
}

/// The alerts after `after` that go to `e`, whose agency is heard as `audience`: the kinds it chose, of those the
/// agency receives, consent and need-to-know as they stand now.
pub(crate) fn next_for(
    conn: &mut db::DbConnection,
    audience: &AlertAudience,
    e: &EndpointRecord,
    after: i64,
    limit: i64,
) -> AppResult<Vec<AlertRecord>> {
    let filter = AlertFilter {
        kinds: Some(e.kinds.clone()),
        ..AlertFilter::default()
    };
    db::alerts::page(conn, audience, &filter, after, limit)
}

/// The audience an endpoint of `agency` is heard as, from the agency's kind.
pub(crate) fn audience_of(conn: &mut db::DbConnection, agency: &str) -> AppResult<AlertAudience> {
    let found = db::agencies::find(conn, agency)?.ok_or_else(|| {
        AppError::validation(
            codes::UNKNOWN_AGENCY,
            "agency",
            format!("no agency with code {agency} is registered"),
        )
    })?;
    Ok(policy::endpoint_audience(found.kind, agency))
}

/// Where an endpoint's deliveries go, without the path or the mailbox: a webhook's host, an inbox's domain.
fn destination(e: &EndpointRecord) -> String {
    match e.transport {
        Transport::Webhook => url::Url::parse(&e.target)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default(),
        Transport::Email => e.target.rsplit('@').next().unwrap_or_default().to_string(),
    }
}

/// `Ok` when an agency receives alerts of every kind in `kinds`; `NO_ALERTS_FOR_AGENCY` otherwise.
fn receives_all(conn: &mut db::DbConnection, agency: &str, kinds: &[AlertKind]) -> AppResult<()> {
    let audience = audience_of(conn, agency)?;
    if audience != AlertAudience::Nothing
        && kinds
            .iter()
            .all(|k| policy::audience_receives_kind(&audience, *k))
    {
        return Ok(());
    }
    let what = if audience == AlertAudience::Nothing {
        "alerts"
    } else {
        "every kind named"
    };
    Err(AppError::validation(
        codes::NO_ALERTS_FOR_AGENCY,
        "kinds",
        format!("agency {agency} does not receive {what}: a force receives its managed orders' alerts, an advocacy service its shared orders', a court none"),
    ))
}

impl Services {
    /// The target checked for its transport: a webhook URL as [`endpoint::check_webhook_url`] says under this
    /// server's settings, or an inbox address (only when this server sends email).
    fn checked_target(&self, transport: Transport, target: &str) -> AppResult<String> {
        let settings = self.outbound.settings();
        match transport {
            Transport::Webhook => {
                endpoint::check_webhook_url(target, settings.allow_http, settings.allow_private)
                    .map(|url| url.to_string())
                    .map_err(|(code, msg)| AppError::validation(code, "target", msg))
            }
            Transport::Email => {
                if !self.outbound.senders().can_email() {
                    return Err(AppError::validation(
                        codes::INVALID_ENDPOINT,
                        "transport",
                        "this server sends no email: ORDERWATCH_SMTP_URL is not set",
                    ));
                }
                let address = endpoint::check_email_address(target)
                    .map_err(|(code, msg)| AppError::validation(code, "target", msg))?;
                // What the mail library will send to: a mailbox it parses, with a local part of at most 64.
                let parsed = address.parse::<lettre::Address>().ok();
                if parsed.is_none_or(|a| a.user().len() > 64 || !a.domain().is_ascii()) {
                    return Err(AppError::validation(
                        codes::INVALID_ENDPOINT,
                        "target",
                        "email is not one address of the form name@example.org",
                    ));
                }
                Ok(address)
            }
        }
    }
    /// Registers an endpoint for an agency (ADMIN, on its behalf). A webhook gets a new signing secret, returned
    /// here and never again. Deliveries start with the next alert raised.
    pub async fn register_endpoint(
        &self,
        who: &Caller,
        draft: EndpointDraft,
    ) -> AppResult<(EndpointRecord, Option<String>)> {
        policy::require(who, Operation::ManageEndpoints)?;
        let target = self.checked_target(draft.transport, &draft.target)?;
        let mut kinds = draft.kinds;
        kinds.sort_by_key(|k| k.as_str());
        kinds.dedup();
        if kinds.is_empty() {
            return Err(AppError::validation(
                codes::INVALID_ENDPOINT,
                "kinds",
                "kinds must name at least one alert kind",
            ));
        }
        let secret = (draft.transport == Transport::Webhook).then(|| {
            let mut key = [0u8; endpoint::SECRET_BYTES];
            rand::rng().fill_bytes(&mut key);
            endpoint::secret_from_key(&key)
        });
        let now = self.now();
        let mut record = EndpointRecord {
            id: uuid::Uuid::now_v7().to_string(),
            agency: draft.agency,
            transport: draft.transport,
            target,
            kinds,
            secret: secret.clone(),
            previous_secret: None,
            state: EndpointState::Active,
            delivered_seq: 0,
            attempts: 0,
            failing_since: None,
            last_error: None,
            last_attempt_at: None,
            created_at: now,
            updated_at: now,
        };
        let trail = super::audit::entry(
            who,
            now,
            AuditOperation::Collect,
            "registerAlertEndpoint",
            "alertEndpoint",
            // Where the agency's alerts will go, so a log reader sees it: the webhook's host or the inbox's domain.
            vec![
                record.id.clone(),
                record.agency.clone(),
                destination(&record),
            ],
            &["agency", "transport", "target", "kinds"],
        );
        let max = self.outbound.settings().max_per_agency;
        let saved = self
            .db
            .run(move |conn| {
                receives_all(conn, &record.agency, &record.kinds)?;
                db::write_transaction(conn, |conn| {
                    if db::endpoints::list(conn, Some(&record.agency))?.len() >= max {
                        return Err(AppError::validation(
                            codes::TOO_MANY_ITEMS,
                            "agency",
                            format!("an agency may have at most {max} alert endpoints"),
                        ));
                    }
                    // From the next alert raised: the outbox's head is read inside the write, after which any new
                    // alert has a higher seq.
                    record.delivered_seq = db::alerts::max_seq(conn)?;
                    db::endpoints::insert(conn, &record)?;
                    db::audit::append(conn, &[trail])?;
                    Ok(record)
                })
            })
            .await?;
        tracing::info!(endpoint.id = %saved.id, endpoint.transport = saved.transport.as_str(), agency.code = %saved.agency, "alert endpoint registered");
        self.outbound.wake();
        Ok((saved, secret))
    }

    /// The endpoints of `agency`, or of every agency (ADMIN).
    pub async fn alert_endpoints(
        &self,
        who: &Caller,
        agency: Option<String>,
    ) -> AppResult<Vec<EndpointRecord>> {
        policy::require(who, Operation::ManageEndpoints)?;
        let trail = super::audit::entry(
            who,
            self.now(),
            AuditOperation::Consult,
            "alertEndpoints",
            "alertEndpoint",
            agency.iter().cloned().collect(),
            &["target", "state"],
        );
        let found = self
            .db
            .run(move |conn| db::endpoints::list(conn, agency.as_deref()))
            .await?;
        self.audit(vec![trail]).await?;
        Ok(found)
    }

    /// Records the delivery of `alert` to the endpoint's agency as a disclosure (DPA 2018 s62), before it is sent.
    async fn record_endpoint_disclosure(
        &self,
        e: &EndpointRecord,
        audience: &crate::domain::scope::AlertAudience,
        alert: &AlertRecord,
    ) -> AppResult<()> {
        let Some(role) = policy::endpoint_role(audience) else {
            return Err(crate::error::AppError::internal(anyhow::anyhow!(
                "an endpoint of an agency that receives no alerts"
            )));
        };
        let who = Caller::from(Principal {
            sub: format!("endpoint:{}", e.id),
            role,
            agency: e.agency.clone(),
            supervisor: false,
        });
        let mut entry = super::audit::entry(
            &who,
            self.now(),
            AuditOperation::Disclose,
            match e.transport {
                endpoint::Transport::Webhook => "webhook",
                endpoint::Transport::Email => "email",
            },
            "alert",
            vec![alert.id.clone(), alert.order_id.clone()],
            &["kind", "severity", "orderReference", "createdAt", "dueAt"],
        );
        entry.recipient = Some(e.agency.clone());
        entry.object_ids.push(destination(e));
        self.audit(vec![entry]).await
    }
}
