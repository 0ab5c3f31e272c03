//! A subject's history across orders, for police.

use super::{caller, services, Audited};
use async_graphql::{Context, Object, Result, SimpleObject};

/// What the record holds of an order's subject across all orders (the match rule: docs/api.md, "Subject history").
#[derive(SimpleObject)]
pub struct SubjectHistory {
    /// Orders against this subject, the one asked about included.
    pub orders: u64,
    /// Breaches of those orders.
    pub breaches: u64,
    /// Different people those orders protect.
    pub people_protected: u64,
    /// Whether those orders protect more than one person.
    pub repeat_perpetrator: bool,
}

#[derive(Default)]
pub struct SubjectQuery;

#[Object]
impl SubjectQuery {
    /// The history of the subject of this order across every order (POLICE): matched by date of birth and a
    /// normalised name. Combining records about a person, so each read is recorded in the audit log as `COMBINE`,
    /// with the orders combined. Null when the order is not visible.
    #[graphql(visible = "super::visibility::read_subject_history")]
    async fn subject_history(
        &self,
        ctx: &Context<'_>,
        reference: String,
    ) -> Result<Option<SubjectHistory>> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let found = svc
            .subject_history(who, reference)
            .await
            .audited(ctx)
            .await?;
        Ok(found.map(|h| SubjectHistory {
            repeat_perpetrator: h.repeat_perpetrator(),
            orders: h.orders as u64,
            breaches: h.breaches as u64,
            people_protected: h.people_protected as u64,
        }))
    }
}
