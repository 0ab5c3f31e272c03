//! Queries.

use super::enums::{OrderStatus, OrderType, ServiceStatus};
use super::error::GqlResultExt;
use super::objects::connection::{Agency, AgencyConnection, Me, OrderConnection};
use super::objects::order::ProtectionOrder;
use super::scalars::Date;
use super::{caller, consulted, consulted_with, services, Audited};
use crate::codes;
use crate::domain::name_key;
use crate::domain::scope::OrderSearch;
use crate::service::page::PageRequest;
use async_graphql::{Context, InputObject, Object, Result};

/// Filters of `orders`; all given filters must match.
#[derive(InputObject, Default)]
pub struct OrderFilter {
    /// Any of the subject's names; case, spacing and punctuation are ignored ("O'Brien" matches "obrien"... as
    /// "o brien"). Matches whole names, not parts.
    pub subject_name: Option<String>,
    pub subject_date_of_birth: Option<Date>,
    #[graphql(name = "type")]
    pub order_type: Option<OrderType>,
    /// The status as shown now (an order past its last day is `EXPIRED`).
    pub status: Option<OrderStatus>,
    pub applicant_agency: Option<String>,
    pub court: Option<String>,
    /// Orders whose last day is before this date.
    pub expires_before: Option<Date>,
    /// Orders whose last day is after this date.
    pub expires_after: Option<Date>,
    /// Orders served, or not yet served, on the subject.
    pub service_status: Option<ServiceStatus>,
}

#[derive(Default)]
pub struct CoreQuery;

#[Object]
impl CoreQuery {
    /// The caller, as its token says.
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        let who = caller(ctx)?;
        Ok(Me {
            sub: who.sub.clone(),
            role: who.role.into(),
            agency: who.agency.clone(),
            supervisor: who.supervisor,
        })
    }

    /// The order with this reference; null when there is none or the caller may not see it.
    /// `reason`: why the caller looks the order up, recorded in the audit log (or send `X-Orderwatch-Reason`).
    #[graphql(visible = "super::visibility::read_orders")]

    async fn order(
        &self,
        ctx: &Context<'_>,
        reference: String,
        reason: Option<String>,
    ) -> Result<Option<ProtectionOrder>> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let now = svc.now();
        let parts = super::objects::order::parts_selected(&ctx.look_ahead());
        let searched = format!("reference:{}", super::object_text(&reference));
        let found = svc.order(who, reference, parts).await.audited(ctx).await?;
        // A lookup that finds nothing the caller may see records the reference it looked for.
        match &found {
            Some(o) => consulted(ctx, "order", vec![o.id.clone()], reason).await?,
            None => {
                consulted_with(ctx, "reference", vec![searched], reason, codes::NOT_FOUND).await?
            }
        }
        Ok(found.map(|o| ProtectionOrder::new(o, now, who)))
    }

    /// The orders the caller may see, newest first or (`orderBy: ENDING_SOONEST`) by last day, earliest first, then
    /// those with none. `first` is 1 to 100 (default 20); `after` is an `endCursor` of the same order.
    #[graphql(visible = "super::visibility::read_orders")]

    async fn orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrderFilter>,
        #[graphql(default)] order_by: OrdersOrder,
        first: Option<i32>,
        after: Option<String>,
        reason: Option<String>,
    ) -> Result<OrderConnection> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let sort = order_by.into();
        let kind = crate::service::orders::order_cursor_kind(sort);
        let page = PageRequest::new(first, after.as_deref(), kind).gql()?;
        let f = filter.unwrap_or_default();
        let search = OrderSearch {
            subject_name_key: f.subject_name.as_deref().map(name_key),
            subject_date_of_birth: f.subject_date_of_birth.map(|d| d.0),
            order_type: f.order_type.map(Into::into),
            status: f.status.map(Into::into),
            applicant_agency: f.applicant_agency,
            court_agency: f.court,
            expires_before: f.expires_before.map(|d| d.0),
            expires_after: f.expires_after.map(|d| d.0),
            service_status: f.service_status.map(Into::into),
        };
        let subject = (
            search.subject_name_key.clone(),
            search.subject_date_of_birth,
        );
        let now = svc.now();
        let parts =
            super::objects::order::parts_selected(&ctx.look_ahead().field("edges").field("node"));
        let found = svc
            .orders(who, search, sort, page, parts)
            .await
            .audited(ctx)
            .await?;
        // A search by subject names the person searched for by a keyed tag, so an auditor can match it.
        let mut ids: Vec<String> = found.items.iter().map(|o| o.id.clone()).collect();
        if subject.0.is_some() || subject.1.is_some() {
            ids.push(svc.subject_tag(subject.0.as_deref(), subject.1));
        }
        consulted(ctx, "order", ids, reason).await?;
        Ok(OrderConnection::build(
            kind,
            found,
            |o| crate::service::orders::order_cursor_key(sort, o),
            |o| ProtectionOrder::new(o, now, who),
        ))
    }

    /// The agency directory, by code. `first` is 1 to 100 (default 20).
    async fn agencies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<AgencyConnection> {
        let svc = services(ctx)?;
        caller(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), "agency").gql()?;
        let found = svc.list_agencies(page).await.audited(ctx).await?;
        Ok(AgencyConnection::build(
            "agency",
            found,
            |a| a.code.clone(),
            Agency::from,
        ))
    }
}

/// The order of `orders`.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrdersOrder {
    /// Most recently recorded first.
    #[default]
    Newest,
    /// By last day, earliest first (ended orders too: filter by `status: IN_FORCE` for the ones still to end), then
    /// the orders with no last day (indefinite, or until an event); ties by when they were recorded.
    EndingSoonest,
}

impl From<OrdersOrder> for crate::domain::scope::OrderSort {
    fn from(o: OrdersOrder) -> Self {
        match o {
            OrdersOrder::Newest => Self::Newest,
            OrdersOrder::EndingSoonest => Self::EndingSoonest,
        }
    }
}
