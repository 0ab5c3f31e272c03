//! Breaches and consent to share: types and mutations.

use super::enums::BreachOutcome;
use super::scalars::DateTime;
use super::types::withheld;
use super::{caller, services, Audited};
use crate::auth::{policy, Principal};
use crate::domain::order::{BreachRecord, OutcomeRecord, ShareRecord};
use crate::service::breaches::ReportBreach;
use crate::service::shares::ShareRequest;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};

/// A reported breach of an order. Police read all of it; an advocacy service its date, conditions and outcome.
pub struct Breach {
    rec: BreachRecord,
    order_reference: String,
    details: bool,
}

impl Breach {
    pub fn new(rec: BreachRecord, order_reference: &str, who: &Principal) -> Self {
        Breach {
            rec,
            order_reference: order_reference.to_string(),
            details: policy::may_see_breach_details(who.role),
        }
    }
}

#[Object]
impl Breach {
    async fn id(&self) -> ID {
        ID(self.rec.id.clone())
    }
    async fn order_reference(&self) -> &str {
        &self.order_reference
    }
    async fn occurred_at(&self) -> DateTime {
        self.rec.occurred_at.into()
    }
    /// What happened, as the police recorded it: police only; others get null with `FORBIDDEN_FIELD`.
    #[graphql(visible = "super::visibility::police_details")]
    async fn description(&self, ctx: &Context<'_>) -> Option<&str> {
        if self.details {
            Some(&self.rec.description)
        } else {
            withheld(ctx, "description")
        }
    }
    /// The reporting force's own incident reference: police only.
    #[graphql(visible = "super::visibility::police_details")]
    async fn external_ref(&self, ctx: &Context<'_>) -> Option<&str> {
        if self.details {
            Some(&self.rec.external_ref)
        } else {
            withheld(ctx, "externalRef")
        }
    }
    /// The conditions breached (ids of the order's `conditions`).
    async fn condition_ids(&self) -> Vec<ID> {
        self.rec.condition_ids.iter().cloned().map(ID).collect()
    }
    async fn reported_by_agency(&self) -> &str {
        &self.rec.reported_by_agency
    }
    /// The current outcome.
    async fn outcome(&self) -> BreachOutcome {
        self.rec.outcome.into()
    }
    /// Every outcome, oldest first.
    async fn outcomes(&self) -> Vec<BreachOutcomeEntry> {
        self.rec
            .outcomes
            .iter()
            .map(|o| BreachOutcomeEntry {
                rec: o.clone(),
                details: self.details,
            })
            .collect()
    }
    async fn created_at(&self) -> DateTime {
        self.rec.created_at.into()
    }
    async fn updated_at(&self) -> DateTime {
        self.rec.updated_at.into()
    }
}

/// One outcome of a breach.
pub struct BreachOutcomeEntry {
    rec: OutcomeRecord,
    details: bool,
}

#[Object]
impl BreachOutcomeEntry {
    async fn outcome(&self) -> BreachOutcome {
        self.rec.outcome.into()
    }
    async fn recorded_at(&self) -> DateTime {
        self.rec.recorded_at.into()
    }
    async fn recorded_by_agency(&self) -> &str {
        &self.rec.recorded_by_agency
    }
    /// The force's note: police only.
    #[graphql(visible = "super::visibility::police_details")]
    async fn note(&self, ctx: &Context<'_>) -> Option<&str> {
        if self.details {
            self.rec.note.as_deref()
        } else {
            withheld(ctx, "note")
        }
    }
}

/// A protected person's consent to share an order with an advocacy service.
#[derive(SimpleObject)]
pub struct OrderShare {
    pub id: ID,
    pub order_reference: String,
    pub protected_person_id: ID,
    pub advocacy_agency: String,
    pub recorded_by_agency: String,
    pub created_at: DateTime,
    /// Set once consent is withdrawn.
    pub revoked_at: Option<DateTime>,
}

impl OrderShare {
    fn new(s: ShareRecord, reference: String) -> Self {
        OrderShare {
            id: ID(s.id),
            order_reference: reference,
            protected_person_id: ID(s.protected_person_id),
            advocacy_agency: s.advocacy_agency,
            recorded_by_agency: s.recorded_by_agency,
            created_at: s.created_at.into(),
            revoked_at: s.revoked_at.map(Into::into),
        }
    }
}

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
    ) -> Result<Breach> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let breach = svc
            .update_breach_outcome(who, id.0, outcome.into(), note)
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
