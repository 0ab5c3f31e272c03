//! Breaches and consent to share: types and mutations.

use super::enums::BreachOutcome;
use super::objects::breach::*;
use super::scalars::DateTime;
use super::{caller, services, Audited};
use crate::service::breaches::ReportBreach;
use crate::service::shares::ShareRequest;
use async_graphql::{Context, InputObject, Object, Result, ID};

#[derive(InputObject)]
pub struct ReportBreachInput {
    /// The order breached.
    pub reference: String,
    pub occurred_at: DateTime,
    /// What happened. Read back by police only.
    pub description: String,
    /// The conditions breached (ids from the order's `conditions`).
    #[graphql(default)]
    pub condition_ids: Vec<ID>,
    /// The force's own incident reference. Reporting it again returns the breach already recorded: a retry after a
    /// timeout never makes a second breach or alert.
    pub external_ref: String,
    /// Whether the force also recorded the breach as a crime.
    #[graphql(default)]
    pub recorded_as_crime: bool,
}

#[derive(Default)]
pub struct BreachMutation;

#[Object]
impl BreachMutation {
    /// Reports a breach (POLICE). `BREACH_REPORTED` is raised in the same transaction.
    #[graphql(visible = "super::visibility::report_breach")]
    async fn report_breach(&self, ctx: &Context<'_>, input: ReportBreachInput) -> Result<Breach> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let reference = input.reference.clone();
        let req = ReportBreach {
            reference: input.reference,
            occurred_at: input.occurred_at.0,
            description: input.description,
            condition_ids: input.condition_ids.into_iter().map(|id| id.0).collect(),
            external_ref: input.external_ref,
            recorded_as_crime: input.recorded_as_crime,
        };
        let reported = svc.report_breach(who, req).await.audited(ctx).await?;
        Ok(Breach::new(
            reported.breach,
            &crate::domain::validation::canonical_reference(&reference),
            who,
        ))
    }

    /// Records what happened after a breach (the reporting or managing force); the history keeps every change.
    #[graphql(visible = "super::visibility::report_breach")]

    async fn update_breach_outcome(
        &self,
        ctx: &Context<'_>,
        id: ID,
        outcome: BreachOutcome,
        note: Option<String>,
        #[graphql(
            desc = "Whether the force also recorded the breach as a crime; left out, it stays as it was."
        )]
        recorded_as_crime: Option<bool>,
    ) -> Result<Breach> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let breach = svc
            .update_breach_outcome(who, id.0, outcome.into(), note, recorded_as_crime)
            .await
            .audited(ctx)
            .await?;
        let reference = svc
            .order_reference_of(breach.order_id.clone())
            .await
            .audited(ctx)
            .await?;
        Ok(Breach::new(breach, &reference, who))
    }

    /// Records a protected person's consent to share the order with an advocacy service (the court that made the
    /// order, or its managing force). Its advocates then see the order and its alerts.
    #[graphql(visible = "super::visibility::share_order")]

    async fn share_order_with_advocacy(
        &self,
        ctx: &Context<'_>,
        reference: String,
        protected_person_id: ID,
        advocacy_agency: String,
    ) -> Result<OrderShare> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let req = ShareRequest {
            reference,
            protected_person_id: protected_person_id.0,
            advocacy_agency,
        };
        let share = svc.share_order(who, req.clone()).await.audited(ctx).await?;
        Ok(OrderShare::new(
            share,
            crate::domain::validation::canonical_reference(&req.reference),
        ))
    }

    /// Withdraws consent: the service's advocates stop seeing the order and its alerts at once.
    #[graphql(visible = "super::visibility::share_order")]

    async fn revoke_order_share(
        &self,
        ctx: &Context<'_>,
        reference: String,
        protected_person_id: ID,
        advocacy_agency: String,
    ) -> Result<OrderShare> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let req = ShareRequest {
            reference,
            protected_person_id: protected_person_id.0,
            advocacy_agency,
        };
        let share = svc
            .revoke_share(who, req.clone())
            .await
            .audited(ctx)
            .await?;
        Ok(OrderShare::new(
            share,
            crate::domain::validation::canonical_reference(&req.reference),
        ))
    }
}
