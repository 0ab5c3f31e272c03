//! An application for an order, as the force that made it and the court it went to see it.

use crate::domain::application::ApplicationRecord;
use crate::graphql::enums::{
    CourtOutcome, CourtRefusalReason, InternalDecision, InternalRefusalReason, OrderType,
};
use crate::graphql::scalars::{Date, DateTime};
use async_graphql::{Object, ID};

pub struct Application(pub ApplicationRecord);

#[Object]
impl Application {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    /// The force that applied.
    async fn force(&self) -> &str {
        &self.0.force
    }
    /// The order applied for.
    async fn order_type(&self) -> OrderType {
        self.0.order_type.into()
    }
    /// When the conduct was first reported to the police (the crime report's date).
    async fn reported_on(&self) -> Option<Date> {
        self.0.stages.reported_on.map(Date)
    }
    /// The force's own decision whether to apply, and its day.
    async fn internal_decision(&self) -> Option<InternalDecision> {
        self.0.stages.internal_decision.map(Into::into)
    }
    async fn internal_decision_on(&self) -> Option<Date> {
        self.0.stages.internal_decision_on.map(Date)
    }
    async fn internal_refusal_reason(&self) -> Option<InternalRefusalReason> {
        self.0.stages.internal_refusal_reason.map(Into::into)
    }
    /// When the application was made to court, and to which court.
    async fn made_to_court_on(&self) -> Option<Date> {
        self.0.stages.made_to_court_on.map(Date)
    }
    async fn court(&self) -> Option<&str> {
        self.0.stages.court.as_deref()
    }
    /// The court's decision, and its day.
    async fn court_outcome(&self) -> Option<CourtOutcome> {
        self.0.court_outcome.as_ref().map(|d| d.outcome.into())
    }
    async fn court_outcome_on(&self) -> Option<Date> {
        self.0.court_outcome.as_ref().map(|d| Date(d.decided_on))
    }
    async fn court_refusal_reason(&self) -> Option<CourtRefusalReason> {
        self.0
            .court_outcome
            .as_ref()
            .and_then(|d| d.refusal_reason)
            .map(Into::into)
    }
    /// The order granted on it.
    async fn order_reference(&self) -> Option<&str> {
        self.0.order_reference.as_deref()
    }
    /// For an interim SPO's application, the main application for an SPO it is pending.
    async fn main_application(&self) -> Option<&str> {
        self.0.main_application.as_deref()
    }
    async fn recorded_at(&self) -> DateTime {
        self.0.recorded_at.into()
    }
    async fn updated_at(&self) -> DateTime {
        self.0.updated_at.into()
    }
}
