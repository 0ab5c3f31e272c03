//! Applications for orders: a force records one and its stages, the court its decision.

use super::enums::{
    CourtOutcome, CourtRefusalReason, InternalDecision, InternalRefusalReason, OrderType,
};
use super::objects::application::Application;
use super::scalars::Date;
use super::{caller, services, Audited};
use crate::domain::application::{CourtDecision, ForceStages};
use crate::service::NewApplication;
use async_graphql::{Context, InputObject, Object, Result};

/// The stages of an application a force records, each once: give those known now, the rest later with
/// `updateApplication`.
#[derive(InputObject, Default)]
pub struct ApplicationStagesInput {
    /// When the conduct was first reported to the police (the crime report's date; no narrative).
    pub reported_on: Option<Date>,
    /// The force's own decision whether to apply, with its day (`internalDecisionOn`); a refusal with its reason.
    pub internal_decision: Option<InternalDecision>,
    pub internal_decision_on: Option<Date>,
    pub internal_refusal_reason: Option<InternalRefusalReason>,
    /// When the application was made to court, and to which magistrates' court (its agency code).
    pub made_to_court_on: Option<Date>,
    pub court: Option<String>,
}

impl From<ApplicationStagesInput> for ForceStages {
    fn from(i: ApplicationStagesInput) -> Self {
        ForceStages {
            reported_on: i.reported_on.map(|d| d.0),
            internal_decision: i.internal_decision.map(Into::into),
            internal_decision_on: i.internal_decision_on.map(|d| d.0),
            internal_refusal_reason: i.internal_refusal_reason.map(Into::into),
            made_to_court_on: i.made_to_court_on.map(|d| d.0),
            court: i.court,
        }
    }
}

#[derive(InputObject)]
pub struct RecordApplicationInput {
    /// The force's reference for it, beginning with the force's code and `/` (`MET/APP/1`).
    pub reference: String,
    /// The order applied for: SPO, INTERIM_SPO, DVPO, DAPO or SHPO.
    pub order_type: OrderType,
    #[graphql(default)]
    pub stages: ApplicationStagesInput,
    /// For an INTERIM_SPO, and required for it: the reference of the force's application for the SPO it is pending
    /// (Stalking Protection Act 2019 s5(1)), not yet determined. Its determination ends the interim order.
    pub main_application: Option<String>,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct RecordApplicationOutcomeInput {
    pub reference: String,
    pub outcome: CourtOutcome,
    /// The day the court decided (for ADJOURNED, the day it adjourned).
    pub decided_on: Date,
    /// For REFUSED only.
    pub refusal_reason: Option<CourtRefusalReason>,
    /// For GRANTED only: the order the court made on the application (recorded with `grantOrder`).
    pub order_reference: Option<String>,
}

#[derive(Default)]
pub struct ApplicationQuery;

#[Object]
impl ApplicationQuery {
    /// An application, to the force that made it and the court it was made to; null otherwise. The read is
    /// recorded.
    #[graphql(visible = "super::visibility::read_applications")]
    async fn application(
        &self,
        ctx: &Context<'_>,
        reference: String,
    ) -> Result<Option<Application>> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let found = svc.application(who, reference).await.audited(ctx).await?;
        Ok(found.map(Application))
    }
}

#[derive(Default)]
pub struct ApplicationMutation;

#[Object]
impl ApplicationMutation {
    /// Records an application for an order (POLICE, for its own force), with the stages known so far.
    #[graphql(visible = "super::visibility::record_application")]
    async fn record_application(
        &self,
        ctx: &Context<'_>,
        input: RecordApplicationInput,
    ) -> Result<Application> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let new = NewApplication {
            reference: input.reference,
            order_type: input.order_type.into(),
            stages: input.stages.into(),
            main_application: input.main_application,
            note: input.note,
        };
        let app = svc.record_application(who, new).await.audited(ctx).await?;
        Ok(Application(app))
    }

    /// Adds stages to the force's own application. Each stage is recorded once: the same value again changes
    /// nothing, another is refused (`STAGE_ALREADY_RECORDED`).
    #[graphql(visible = "super::visibility::record_application")]
    async fn update_application(
        &self,
        ctx: &Context<'_>,
        reference: String,
        stages: ApplicationStagesInput,
    ) -> Result<Application> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let app = svc
            .update_application(who, reference, stages.into())
            .await
            .audited(ctx)
            .await?;
        Ok(Application(app))
    }

    /// Records the court's decision on an application made to it (COURT). A grant names the order made on it.
    #[graphql(visible = "super::visibility::decide_application")]
    async fn record_application_outcome(
        &self,
        ctx: &Context<'_>,
        input: RecordApplicationOutcomeInput,
    ) -> Result<Application> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let decision = CourtDecision {
            outcome: input.outcome.into(),
            decided_on: input.decided_on.0,
            refusal_reason: input.refusal_reason.map(Into::into),
        };
        let app = svc
            .record_application_outcome(who, input.reference, decision, input.order_reference)
            .await
            .audited(ctx)
            .await?;
        Ok(Application(app))
    }
}
