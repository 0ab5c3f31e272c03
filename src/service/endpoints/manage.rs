//! Managing endpoints after they are registered: pause, resume or replay, re-key, remove, and the alerts waiting.

use super::{audience_of, next_for, not_found, Waiting, MAX_WAITING};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::codes;
use crate::db;
use crate::domain::audit::AuditOperation;
use crate::domain::endpoint::{self, EndpointRecord, EndpointState, Transport};
use crate::error::{AppError, AppResult};
use crate::service::page::encode_cursor;
use crate::service::Services;
use rand::RngCore;

impl Services {
    /// Pauses an endpoint (`PAUSED`), or resumes it (`ACTIVE`: from a pause, or replaying after `FAILING`, with
    /// the waiting alerts delivered in order and the tries counted afresh).
    pub async fn set_endpoint_state(
        &self,
        who: &Caller,
        id: String,
        state: EndpointState,
    ) -> AppResult<EndpointRecord> {
        policy::require(who, Operation::ManageEndpoints)?;
        let now = self.now();
        let action = match state {
            EndpointState::Paused => "pauseAlertEndpoint",
            _ => "resumeAlertEndpoint",
        };
        let trail = crate::service::audit::entry(
            who,
            now,
            AuditOperation::Alter,
            action,
            "alertEndpoint",
            vec![id.clone()],
            &["state"],
        );
        let updated = self
            .db
            .run(move |conn| {
                db::write_transaction(conn, |conn| {
                    if !db::endpoints::set_state(conn, &id, state, now)? {
                        return Err(not_found());
                    }
                    db::audit::append(conn, &[trail])?;
                    db::endpoints::find(conn, &id)?.ok_or_else(not_found)
                })
            })
            .await?;
        tracing::info!(endpoint.id = %updated.id, endpoint.state = state.as_str(), "alert endpoint state set");
        self.outbound.wake();
        Ok(updated)
    }

    /// Removes an endpoint (ADMIN): nothing more is sent to it, and its slot among the agency's endpoints is free.
    pub async fn remove_endpoint(&self, who: &Caller, id: String) -> AppResult<EndpointRecord> {
        policy::require(who, Operation::ManageEndpoints)?;
        let now = self.now();
        let trail = crate::service::audit::entry(
            who,
            now,
            AuditOperation::Erase,
            "removeAlertEndpoint",
            "alertEndpoint",
            vec![id.clone()],
            &["target"],
        );
        let removed = self
            .db
            .run(move |conn| {
                db::write_transaction(conn, |conn| {
                    let found = db::endpoints::find(conn, &id)?.ok_or_else(not_found)?;
                    db::endpoints::remove(conn, &id)?;
                    db::audit::append(conn, &[trail])?;
                    Ok(found)
                })
            })
            .await?;
        tracing::info!(endpoint.id = %removed.id, "alert endpoint removed");
        Ok(removed)
    }

    /// A new signing secret for a webhook, returned once; the previous one still signs deliveries (beside the new
    /// one) for `overlap`, so the receiver can switch over without losing any.
    pub async fn rotate_endpoint_secret(
        &self,
        who: &Caller,
        id: String,
        overlap: chrono::Duration,
    ) -> AppResult<(EndpointRecord, String)> {
        policy::require(who, Operation::ManageEndpoints)?;
        if overlap < chrono::Duration::zero() || overlap > chrono::Duration::days(30) {
            return Err(AppError::validation(
                codes::INVALID_RANGE,
                "overlapHours",
                "overlapHours must be 0 to 720",
            ));
        }
        let mut key = [0u8; endpoint::SECRET_BYTES];
        rand::rng().fill_bytes(&mut key);
        let secret = endpoint::secret_from_key(&key);
        let now = self.now();
        let trail = crate::service::audit::entry(
            who,
            now,
            AuditOperation::Alter,
            "rotateAlertEndpointSecret",
            "alertEndpoint",
            vec![id.clone()],
            &["secret"],
        );
        let new_secret = secret.clone();
        let updated = self
            .db
            .run(move |conn| {
                db::write_transaction(conn, |conn| {
                    match db::endpoints::find(conn, &id)? {
                        Some(e) if e.transport == Transport::Webhook => {}
                        Some(_) => {
                            return Err(AppError::validation(
                                codes::INVALID_ENDPOINT,
                                "id",
                                "only a webhook has a signing secret",
                            ))
                        }
                        None => return Err(not_found()),
                    }
                    db::endpoints::rotate(conn, &id, &new_secret, now + overlap, now)?;
                    db::audit::append(conn, &[trail])?;
                    db::endpoints::find(conn, &id)?.ok_or_else(not_found)
                })
            })
            .await?;
        Ok((updated, secret))
    }

    /// The alerts waiting for an endpoint, oldest first (at most 100): while it is failing or paused, what a
    /// replay or a resume will deliver. Consent and need-to-know are as they stand now.
    pub async fn waiting_alerts(
        &self,
        who: &Caller,
        endpoint: &EndpointRecord,
        first: Option<i32>,
    ) -> AppResult<Vec<Waiting>> {
        policy::require(who, Operation::ManageEndpoints)?;
        let limit = i64::from(first.unwrap_or(20)).clamp(1, MAX_WAITING);
        let e = endpoint.clone();
        let alerts = self
            .db
            .run(move |conn| {
                let audience = audience_of(conn, &e.agency)?;
                next_for(conn, &audience, &e, e.delivered_seq, limit)
            })
            .await?;
        // Alert ids, kinds and times of the agency's alerts: a read like any other.
        let mut ids: Vec<String> = vec![endpoint.id.clone()];
        ids.extend(alerts.iter().map(|a| a.id.clone()));
        self.audit(vec![crate::service::audit::entry(
            who,
            self.now(),
            AuditOperation::Consult,
            "alertEndpoints.waiting",
            "alert",
            ids,
            &["id", "kind", "createdAt"],
        )])
        .await?;
        Ok(alerts
            .iter()
            .map(|a| Waiting {
                webhook_id: endpoint::message_id(a),
                alert_id: a.id.clone(),
                kind: a.kind,
                created_at: a.created_at,
                cursor: encode_cursor(crate::service::alerts::ALERT_CURSOR, &a.seq.to_string()),
            })
            .collect())
    }
}
