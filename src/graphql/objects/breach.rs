//! A breach of an order as each role may see it, its outcomes, and a record of consent to share an order.

use crate::auth::{policy, Principal};
use crate::domain::order::{BreachRecord, OutcomeRecord, ShareRecord};
use crate::graphql::enums::BreachOutcome;
use crate::graphql::objects::order::withheld;
use crate::graphql::scalars::DateTime;
use async_graphql::{Context, Object, SimpleObject, ID};

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
    /// Which breach of its order this is, by when it occurred: 1 for the first.
    async fn ordinal(&self) -> i64 {
        self.rec.ordinal
    }
    /// Whether the force also recorded the breach as a crime.
    async fn recorded_as_crime(&self) -> bool {
        self.rec.recorded_as_crime
    }
    /// What happened, as the police recorded it: police only; others get null with `FORBIDDEN_FIELD`.
    #[graphql(visible = "crate::graphql::visibility::police_details")]
    async fn description(&self, ctx: &Context<'_>) -> Option<&str> {
        if self.details {
            Some(&self.rec.description)
        } else {
            withheld(ctx, "description")
        }
    }
    /// The reporting force's own incident reference: police only.
    #[graphql(visible = "crate::graphql::visibility::police_details")]
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
    #[graphql(visible = "crate::graphql::visibility::police_details")]
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
    pub(crate) fn new(s: ShareRecord, reference: String) -> Self {
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
