//! The audit log, for auditors.

use super::enums::AuditOperation;
use super::objects::audit::*;
use super::objects::connection::AuditEventConnection;
use super::scalars::DateTime;
use super::{caller, services, Audited};
use crate::codes;
use crate::domain::scope::AuditFilter as DbAuditFilter;
use crate::service::page::{decode_cursor, PageRequest};
use async_graphql::{Context, InputObject, Object, Result};

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
                        codes::INVALID_CURSOR,
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
