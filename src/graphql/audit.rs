//! The audit log, for auditors.

use super::enums::AuditOperation;
use super::scalars::DateTime;
use super::types::AuditEventConnection;
use super::{caller, services, Audited};
use crate::domain::audit::AuditEntry;
use crate::domain::scope::AuditFilter as DbAuditFilter;
use crate::service::page::{decode_cursor, PageRequest};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};

/// Who did it, as their token said.
#[derive(SimpleObject)]
pub struct Actor {
    pub sub: String,
    pub agency: String,
    /// COURT, POLICE, ADVOCATE, ADMIN, AUDITOR, or SYSTEM for the scheduled checks, or `unknown`.
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

#[derive(InputObject, Default)]
pub struct AuditFilter {
    pub actor_sub: Option<String>,
    pub actor_agency: Option<String>,
    /// An object's id (an order's, a breach's, an alert's).
    pub object_id: Option<String>,
    pub operation: Option<AuditOperation>,
    pub from: Option<DateTime>,
    pub to: Option<DateTime>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit log, oldest first (AUDITOR only). Reading it is itself recorded.
    #[graphql(visible = "super::visibility::read_audit")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<AuditEventConnection> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let page = PageRequest::new(first, None, "audit").audited(ctx).await?;
        let after_seq = match after {
            Some(c) => decode_cursor("audit", &c).and_then(|k| {
                k.parse::<i64>().map_err(|_| {
                    crate::error::AppError::validation(
                        "INVALID_CURSOR",
                        "after",
                        "after is not a cursor returned by this list",
                    )
                })
            }),
            None => Ok(0),
        }
        .audited(ctx)
        .await?;
        let f = filter.unwrap_or_default();
        let filter = DbAuditFilter {
            actor_sub: f.actor_sub,
            actor_agency: f.actor_agency,
            object_id: f.object_id,
            operation: f.operation.map(Into::into),
            from: f.from.map(|t| t.0),
            to: f.to.map(|t| t.0),
        };
        let events = svc
            .audit_events(who, filter, after_seq, page.limit + 1)
            .await
            .audited(ctx)
            .await?;
        let page = crate::service::page::Page::from_fetched(events, page.limit);
        Ok(AuditEventConnection::build(
            "audit",
            page,
            |(seq, _)| seq.to_string(),
            |(_, e)| AuditEvent(e),
        ))
    }
}
