//! An alert as its audience receives it.

use crate::graphql::enums::{AlertKind, Severity};
use crate::graphql::objects::order::ProtectionOrder;
use crate::graphql::scalars::DateTime;
use crate::graphql::{caller, consulted, services, Audited};
use crate::service::alerts::{AlertView, ALERT_CURSOR};
use crate::service::page::encode_cursor;
use async_graphql::{Context, Object, Result, ID};

/// Something someone must know about an order: a breach, service, an approaching end, a missed deadline.
pub struct Alert {
    view: AlertView,
}

impl Alert {
    pub fn new(view: AlertView) -> Self {
        Alert { view }
    }
}

#[Object]
impl Alert {
    async fn id(&self) -> ID {
        ID(self.view.alert.id.clone())
    }
    /// Where this alert stands in the stream: pass it as `after` to resume just after it.
    async fn cursor(&self) -> String {
        encode_cursor(ALERT_CURSOR, &self.view.alert.seq.to_string())
    }
    async fn kind(&self) -> AlertKind {
        self.view.alert.kind.into()
    }
    async fn severity(&self) -> Severity {
        self.view.alert.severity.into()
    }
    async fn order_reference(&self) -> &str {
        &self.view.alert.order_reference
    }
    /// The order, as the caller may see it now (null if the caller can no longer see it).
    async fn order(&self, ctx: &Context<'_>) -> Result<Option<ProtectionOrder>> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let now = svc.now();
        let order = match &self.view.order {
            Some(o) if crate::auth::policy::may_see_order(who, o) => Some(o.clone()),
            Some(_) => None,
            None => svc
                .order(
                    who,
                    self.view.alert.order_reference.clone(),
                    super::order::parts_selected(&ctx.look_ahead()),
                )
                .await
                .audited(ctx)
                .await?
                .map(Into::into),
        };
        consulted(
            ctx,
            "order",
            order.iter().map(|o| o.id.clone()).collect(),
            None,
        )
        .await?;
        Ok(order.map(|o| ProtectionOrder::new(o, now, who)))
    }
    /// The breach this alert is about (for `BREACH_REPORTED`).
    async fn breach_id(&self) -> Option<ID> {
        self.view.alert.breach_id.clone().map(ID)
    }
    async fn created_at(&self) -> DateTime {
        self.view.alert.created_at.into()
    }
    /// The moment the alert was due (the event, or the deadline or threshold it is about).
    async fn due_at(&self) -> DateTime {
        self.view.alert.due_at.into()
    }
    /// True when the alert was raised well after it was due (the server was down); it is raised, never dropped.
    async fn late(&self) -> bool {
        self.view.alert.late
    }
    /// How many seconds after its scheduled moment the alert was raised (0 when on time).
    async fn late_by(&self) -> i64 {
        self.view.alert.late_by_seconds
    }
    /// When the caller's agency acknowledged it.
    async fn acknowledged_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime>> {
        Ok(self.ack(ctx).await?.map(|(at, _)| at.into()))
    }
    /// Who in the caller's agency acknowledged it.
    async fn acknowledged_by(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.ack(ctx).await?.map(|(_, by)| by))
    }
}

impl Alert {
    async fn ack(&self, ctx: &Context<'_>) -> Result<Option<crate::service::alerts::Ack>> {
        if let Some(loaded) = &self.view.ack {
            return Ok(loaded.clone());
        }
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        svc.alert_ack(who, self.view.alert.seq)
            .await
            .audited(ctx)
            .await
    }
}
