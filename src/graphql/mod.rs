//! The GraphQL API: schema types and resolvers. Resolvers call `service` and `auth`, never `db`.
//! Each area of the API is an object merged into the roots, so later areas add an object, not edits here.

pub mod alerts;
pub mod breaches;
pub mod deadlines;
pub mod enums;
pub mod error;
pub mod mutation;
pub mod query;
pub mod scalars;
pub mod types;

use crate::auth::Principal;
use crate::error::AppError;
use crate::service::Services;
use async_graphql::{Context, MergedObject, MergedSubscription, Schema};

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    query::CoreQuery,
    alerts::AlertQuery,
    deadlines::DeadlineQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    mutation::CoreMutation,
    breaches::BreachMutation,
    alerts::AlertMutation,
    deadlines::DeadlineMutation,
);

#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(alerts::AlertSubscription);

pub type OrderwatchSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Limits on every document, so a hostile query is refused before it runs.
pub const MAX_DEPTH: usize = 16;
pub const MAX_COMPLEXITY: usize = 5_000;

/// Builds the schema. `services` is `None` only for printing the SDL.
pub fn build_schema(services: Option<Services>) -> OrderwatchSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY);
    if let Some(s) = services {
        builder = builder.data(s);
    }
    builder.finish()
}

/// The schema's SDL, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    build_schema(None).sdl()
}

pub(crate) fn services<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Services> {
    ctx.data::<Services>().map_err(|_| {
        error::to_graphql(AppError::internal(anyhow::anyhow!(
            "services missing from schema data"
        )))
    })
}

/// The authenticated caller. Every request reaching a resolver has one: the HTTP layer refuses the rest with 401.
pub(crate) fn caller<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Principal> {
    ctx.data::<Principal>().map_err(|_| {
        error::to_graphql(AppError::Unauthenticated(
            "a bearer token is required".into(),
        ))
    })
}
