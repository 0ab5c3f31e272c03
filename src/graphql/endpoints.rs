//! Alert endpoints (ADMIN, on an agency's behalf): register a webhook or a duty inbox, list them with how delivery
//! stands and what waits, pause, resume or replay, and rotate a webhook's signing secret.

use super::enums::AlertKind;
use super::scalars::DateTime;
use super::{caller, services, Audited};
use crate::domain::endpoint::{EndpointRecord, EndpointState as DomainState};
use crate::service::endpoints::{EndpointDraft, Waiting};
use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, Result, SimpleObject, ID};

/// How an endpoint receives alerts.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::endpoint::Transport")]
pub enum AlertEndpointTransport {
    /// An HTTPS POST signed by the Standard Webhooks specification.
    Webhook,
    /// An email with no personal data: the kind, the order reference, the time and a link to the console.
    Email,
}

/// Whether alerts are being delivered to an endpoint.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::endpoint::EndpointState")]
pub enum AlertEndpointState {
    /// Delivering in order; a failed delivery is retried with backoff.
    Active,
    /// Paused by an administrator: alerts wait until it is resumed.
    Paused,
    /// A delivery kept failing for the whole retry period: alerts wait (see `waiting`) until it is replayed with
    /// `resumeAlertEndpoint`.
    Failing,
}

/// An agency's webhook or duty inbox.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AlertEndpoint {
    pub id: ID,
    pub agency: String,
    pub transport: AlertEndpointTransport,
    /// The webhook's URL or the inbox's address.
    pub target: String,
    pub kinds: Vec<AlertKind>,
    pub state: AlertEndpointState,
    /// Failed tries of the alert at the head of its queue, since `failingSince`.
    pub attempts: i64,
    pub failing_since: Option<DateTime>,
    /// Why the last try failed (`HTTP 503`, `timed out`, `could not connect`, ...).
    pub last_error: Option<String>,
    pub last_attempt_at: Option<DateTime>,
    /// Until when the previous signing secret also signs deliveries, after a rotation.
    pub previous_secret_until: Option<DateTime>,
    pub created_at: DateTime,
    #[graphql(skip)]
    record: EndpointRecord,
}

impl From<EndpointRecord> for AlertEndpoint {
    fn from(e: EndpointRecord) -> Self {
        AlertEndpoint {
            id: ID(e.id.clone()),
            agency: e.agency.clone(),
            transport: e.transport.into(),
            target: e.target.clone(),
            kinds: e.kinds.iter().map(|k| (*k).into()).collect(),
            state: e.state.into(),
            attempts: e.attempts,
            failing_since: e.failing_since.map(DateTime),
            last_error: e.last_error.clone(),
            last_attempt_at: e.last_attempt_at.map(DateTime),
            previous_secret_until: e
                .previous_secret
                .as_ref()
                .map(|(_, until)| DateTime(*until)),
            created_at: DateTime(e.created_at),
            record: e,
        }
    }
}

/// An alert waiting for an endpoint: what a resume or replay delivers next, oldest first. It names no order.
#[derive(SimpleObject)]
pub struct WaitingAlert {
    /// The `webhook-id` it is (and was) sent with.
    pub webhook_id: String,
    pub alert_id: ID,
    pub kind: AlertKind,
    pub created_at: DateTime,
    pub cursor: String,
}

impl From<Waiting> for WaitingAlert {
    fn from(w: Waiting) -> Self {
        WaitingAlert {
            webhook_id: w.webhook_id,
            alert_id: ID(w.alert_id),
            kind: w.kind.into(),
            created_at: DateTime(w.created_at),
            cursor: w.cursor,
        }
    }
}

#[ComplexObject]
impl AlertEndpoint {
    /// The alerts not yet delivered to it, oldest first (at most 100): the dead-letter view of a failing endpoint.
    async fn waiting(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<WaitingAlert>> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        Ok(svc
            .waiting_alerts(who, &self.record, Some(first))
            .await
            .audited(ctx)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

/// A registered or re-keyed endpoint with its signing secret, shown this once (`whsec_...`, as the Standard
/// Webhooks libraries take it). Null for an email endpoint.
#[derive(SimpleObject)]
pub struct AlertEndpointSecret {
    pub endpoint: AlertEndpoint,
    pub secret: Option<String>,
}

#[derive(InputObject)]
pub struct RegisterAlertEndpointInput {
    /// The agency the endpoint belongs to: a police force (its managed orders' alerts) or an advocacy service (its
    /// shared orders').
    pub agency: String,
    pub transport: AlertEndpointTransport,
    /// For a webhook, its `https://` URL; for email, the duty inbox's address.
    pub target: String,
    /// The alert kinds to deliver, of those the agency receives.
    pub kinds: Vec<AlertKind>,
}

#[derive(Default)]
pub struct EndpointQuery;

#[Object]
impl EndpointQuery {
    /// The alert endpoints of an agency, or of every agency, with how delivery to each stands (ADMIN).
    #[graphql(visible = "super::visibility::manage_endpoints")]
    async fn alert_endpoints(
        &self,
        ctx: &Context<'_>,
        agency: Option<String>,
    ) -> Result<Vec<AlertEndpoint>> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        Ok(svc
            .alert_endpoints(who, agency)
            .await
            .audited(ctx)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

#[derive(Default)]
pub struct EndpointMutation;

#[Object]
impl EndpointMutation {
    /// Registers a webhook or duty inbox for an agency (ADMIN). Alerts raised from now on are delivered to it.
    #[graphql(visible = "super::visibility::manage_endpoints")]
    async fn register_alert_endpoint(
        &self,
        ctx: &Context<'_>,
        input: RegisterAlertEndpointInput,
    ) -> Result<AlertEndpointSecret> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let draft = EndpointDraft {
            agency: input.agency,
            transport: input.transport.into(),
            target: input.target,
            kinds: input.kinds.into_iter().map(Into::into).collect(),
        };
        let (endpoint, secret) = svc.register_endpoint(who, draft).await.audited(ctx).await?;
        Ok(AlertEndpointSecret {
            endpoint: endpoint.into(),
            secret,
        })
    }

    /// Stops deliveries to an endpoint; its alerts wait (ADMIN).
    #[graphql(visible = "super::visibility::manage_endpoints")]
    async fn pause_alert_endpoint(&self, ctx: &Context<'_>, id: ID) -> Result<AlertEndpoint> {
        set_state(ctx, id, DomainState::Paused).await
    }

    /// Resumes deliveries to a paused endpoint, or replays a failing one's waiting alerts, in order, with their
    /// tries counted afresh (ADMIN).
    #[graphql(visible = "super::visibility::manage_endpoints")]
    async fn resume_alert_endpoint(&self, ctx: &Context<'_>, id: ID) -> Result<AlertEndpoint> {
        set_state(ctx, id, DomainState::Active).await
    }

    /// Removes an endpoint: nothing more is sent to it (a delivery in flight may still arrive) (ADMIN).
    #[graphql(visible = "super::visibility::manage_endpoints")]
    async fn remove_alert_endpoint(&self, ctx: &Context<'_>, id: ID) -> Result<AlertEndpoint> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        Ok(svc
            .remove_endpoint(who, id.0)
            .await
            .audited(ctx)
            .await?
            .into())
    }

    /// A new signing secret for a webhook, shown this once; the previous one still signs deliveries, beside the
    /// new one, for `overlapHours` (default 24, at most 720) (ADMIN).
    #[graphql(visible = "super::visibility::manage_endpoints")]
    async fn rotate_alert_endpoint_secret(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default = 24)] overlap_hours: i32,
    ) -> Result<AlertEndpointSecret> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let (endpoint, secret) = svc
            .rotate_endpoint_secret(who, id.0, chrono::Duration::hours(i64::from(overlap_hours)))
            .await
            .audited(ctx)
            .await?;
        Ok(AlertEndpointSecret {
            endpoint: endpoint.into(),
            secret: Some(secret),
        })
    }
}

/// Pauses or resumes an endpoint for the caller.
async fn set_state(ctx: &Context<'_>, id: ID, state: DomainState) -> Result<AlertEndpoint> {
    let (svc, who) = (services(ctx)?, caller(ctx)?);
    Ok(svc
        .set_endpoint_state(who, id.0, state)
        .await
        .audited(ctx)
        .await?
        .into())
}
