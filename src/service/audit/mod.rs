//! Writing the audit log. Changes append their entries inside their own transaction (the change and its record
//! commit together or not at all). Reads hand theirs to one writer task that commits them in batches (group
//! commit); the read waits until its batch has committed, so it still fails closed.

mod writer;

use crate::auth::{policy, Caller};
use crate::codes;
use crate::db;
use crate::domain::audit::{AuditEntry, AuditOperation};
use crate::domain::scope::AuditFilter;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};

/// An audit entry for what `who` did now.
pub fn entry(
    who: &Caller,
    at: DateTime<Utc>,
    operation: AuditOperation,
    action: &str,
    object_type: &str,
    object_ids: Vec<String>,
    fields: &[&str],
) -> AuditEntry {
    AuditEntry {
        id: uuid::Uuid::now_v7().to_string(),
        at,
        request_id: who.request_id.clone(),
        actor_sub: who.sub.clone(),
        actor_agency: who.agency.clone(),
        actor_role: who.role.as_str().into(),
        operation,
        action: action.into(),
        object_type: object_type.into(),
        object_ids,
        fields: fields.iter().map(|f| f.to_string()).collect(),
        recipient: None,
        outcome: "OK".into(),
        reason: who.reason.clone(),
        correlation_id: who.correlation_id.clone(),
    }
}

/// An entry for a request refused before anyone was identified (a missing or invalid token).
pub fn auth_failure(
    request_id: &str,
    at: DateTime<Utc>,
    action: &str,
    problem: &str,
) -> AuditEntry {
    AuditEntry {
        id: uuid::Uuid::now_v7().to_string(),
        at,
        request_id: request_id.into(),
        actor_sub: "unknown".into(),
        actor_agency: "unknown".into(),
        actor_role: "unknown".into(),
        operation: AuditOperation::AuthFailure,
        action: action.into(),
        object_type: "request".into(),
        object_ids: vec![],
        fields: vec![],
        recipient: None,
        outcome: "UNAUTHENTICATED".into(),
        reason: Some(problem.into()),
        correlation_id: None,
    }
}

/// An entry for something orderwatch itself did (a data load), with why in `reason`.
pub fn system_entry(
    request_id: &str,
    at: DateTime<Utc>,
    operation: AuditOperation,
    action: &str,
    reason: String,
) -> AuditEntry {
    AuditEntry {
        actor_sub: "orderwatch".into(),
        actor_agency: "ORDERWATCH".into(),
        actor_role: "SYSTEM".into(),
        operation,
        object_type: "order".into(),
        reason: Some(reason),
        ..public_read(request_id, at, action, "order", vec![])
    }
}

/// An entry for a read by the public (the open data), who has no token: recorded all the same.
pub fn public_read(
    request_id: &str,
    at: DateTime<Utc>,
    action: &str,
    object_type: &str,
    object_ids: Vec<String>,
) -> AuditEntry {
    AuditEntry {
        id: uuid::Uuid::now_v7().to_string(),
        at,
        request_id: request_id.into(),
        actor_sub: "public".into(),
        actor_agency: "public".into(),
        actor_role: "PUBLIC".into(),
        operation: AuditOperation::Consult,
        action: action.into(),
        object_type: object_type.into(),
        object_ids,
        fields: vec![],
        recipient: None,
        outcome: "OK".into(),
        reason: None,
        correlation_id: None,
    }
}

pub use writer::AuditWriter;

impl super::Services {
    /// Records the caller's read (or other entries outside a write transaction), failing closed.
    pub async fn audit(&self, entries: Vec<AuditEntry>) -> AppResult<()> {
        self.audit.record(entries).await
    }

    /// A page of the audit log (AUDITOR only); the read is itself recorded.
    pub async fn audit_events(
        &self,
        who: &Caller,
        filter: AuditFilter,
        after_seq: i64,
        limit: i64,
    ) -> AppResult<Vec<(i64, AuditEntry)>> {
        if !policy::may_read_audit(who.role) {
            return Err(AppError::forbidden(
                codes::FORBIDDEN,
                format!("the {} role may not read the audit log", who.role),
            ));
        }
        let events = self
            .db
            .run(move |conn| db::audit::page(conn, &filter, after_seq, limit))
            .await?;
        let ids = events.iter().map(|(_, e)| e.id.clone()).collect();
        self.audit(vec![entry(
            who,
            self.now(),
            AuditOperation::Consult,
            "auditEvents",
            "audit_event",
            ids,
            &[],
        )])
        .await?;
        Ok(events)
    }
}

/// The fields an order is recorded with (for the audit log: names, never values).
const GRANT_FIELDS: &[&str] = &[
    "reference",
    "type",
    "applicantAgency",
    "court",
    "subject",
    "protectedPersons",
    "madeOn",
    "expiresOn",
    "conditions",
];

/// The fields a new order is recorded with, those given only for some orders included when given.
pub fn grant_fields(without_notice: bool, soa_notification: bool) -> Vec<&'static str> {
    let mut fields = GRANT_FIELDS.to_vec();
    if without_notice {
        fields.push("withoutNotice");
    }
    if soa_notification {
        fields.push("soaPart2Notification");
    }
    fields
}
