//! An entry of the audit log, as an auditor reads it.

use crate::domain::audit::AuditEntry;
use crate::graphql::enums::AuditOperation;
use crate::graphql::scalars::DateTime;
use async_graphql::{Object, SimpleObject, ID};

/// Who did it, as their token said.
#[derive(SimpleObject)]
pub struct Actor {
    pub sub: String,
    pub agency: String,
    /// COURT, POLICE, ADVOCATE, ADMIN, AUDITOR, ANALYST, or SYSTEM for the scheduled checks, or `unknown`.
    pub role: String,
}

/// One entry of the audit log: who did what to which objects and fields (names, never values), and the outcome.
pub struct AuditEvent(pub AuditEntry);

#[Object]
impl AuditEvent {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn at(&self) -> DateTime {
        self.0.at.into()
    }
    /// The server's id of the request.
    async fn request_id(&self) -> &str {
        &self.0.request_id
    }
    /// The id the client gave the request (`X-Request-Id`), if any.
    async fn correlation_id(&self) -> Option<&str> {
        self.0.correlation_id.as_deref()
    }
    async fn actor(&self) -> Actor {
        Actor {
            sub: self.0.actor_sub.clone(),
            agency: self.0.actor_agency.clone(),
            role: self.0.actor_role.clone(),
        }
    }
    async fn operation(&self) -> AuditOperation {
        self.0.operation.into()
    }
    /// The API operation, e.g. `order`, `grantOrder`, `alerts`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn object_type(&self) -> &str {
        &self.0.object_type
    }
    async fn object_ids(&self) -> &[String] {
        &self.0.object_ids
    }
    /// The fields read or written.
    async fn fields(&self) -> &[String] {
        &self.0.fields
    }
    /// For a disclosure, the agency the data went to.
    async fn recipient(&self) -> Option<&str> {
        self.0.recipient.as_deref()
    }
    /// `OK`, or the code of the refusal.
    async fn outcome(&self) -> &str {
        &self.0.outcome
    }
    /// The reason the caller gave.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
}
