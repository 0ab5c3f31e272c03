//! The GraphQL API: schema types and resolvers. Resolvers call `service` and `auth`, never `db`.
//! Each area of the API is an object merged into the roots, so later areas add an object, not edits here.

use crate::codes;
pub mod alerts;
mod applications;
pub mod audit;
pub mod breaches;
pub mod deadlines;
pub mod delivery;
pub mod documents;
pub mod endpoints;
pub mod enums;
pub mod error;
pub mod mutation;
pub mod objects;
mod order_inputs;
pub mod query;
pub mod role_sdl;
pub mod scalars;
pub mod statistics;
mod subjects;
pub mod visibility;

use crate::auth::Caller;
use crate::error::AppError;
use crate::service::Services;
use async_graphql::{Context, MergedObject, MergedSubscription, Schema};

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    query::CoreQuery,
    alerts::AlertQuery,
    deadlines::DeadlineQuery,
    audit::AuditQuery,
    statistics::StatisticsQuery,
    applications::ApplicationQuery,
    subjects::SubjectQuery,
    endpoints::EndpointQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    mutation::CoreMutation,
    breaches::BreachMutation,
    alerts::AlertMutation,
    deadlines::DeadlineMutation,
    applications::ApplicationMutation,
    endpoints::EndpointMutation,
);

#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(alerts::AlertSubscription);

pub type OrderwatchSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Limits on every document, so a hostile query is refused before it runs.
#[derive(Debug, Clone)]
pub struct Limits {
    pub depth: usize,
    pub complexity: usize,
    pub introspection: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            depth: 16,
            complexity: 5_000,
            introspection: true,
        }
    }
}

/// Builds the schema with the default limits. `services` is `None` only for printing the SDL.
pub fn build_schema(services: Option<Services>) -> OrderwatchSchema {
    build_schema_with(services, &Limits::default())
}

/// Builds the schema with these limits.
pub fn build_schema_with(services: Option<Services>, limits: &Limits) -> OrderwatchSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(limits.depth)
    .limit_complexity(limits.complexity)
    // "Did you mean ...?" would name fields of the whole schema, including those the caller's role may not see.
    .disable_suggestions();
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    if let Some(s) = services {
        builder = builder.data(s);
    }
    builder.finish()
}

/// The names of the types a variable may have in `schema`: its input objects, enums and scalars, and GraphQL's
/// built-in scalars (see [`crate::http::admission::unknown_variable_type`]).
pub fn input_type_names(schema: &OrderwatchSchema) -> std::collections::HashSet<String> {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let mut names: std::collections::HashSet<String> = ["String", "Int", "Float", "Boolean", "ID"]
        .into_iter()
        .map(str::to_string)
        .collect();
    if let Ok(doc) = async_graphql::parser::parse_schema(schema.sdl()) {
        for definition in doc.definitions {
            if let TypeSystemDefinition::Type(t) = definition {
                if matches!(
                    t.node.kind,
                    TypeKind::InputObject(_) | TypeKind::Enum(_) | TypeKind::Scalar
                ) {
                    names.insert(t.node.name.node.to_string());
                }
            }
        }
    }
    names
}

/// The fields of `schema`'s roots (queries, mutations, subscriptions): the only names a request's operation is
/// labelled by in logs, metrics and the audit log, never the client's own operation name.
pub fn root_field_names(schema: &OrderwatchSchema) -> std::collections::HashSet<String> {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let mut names = std::collections::HashSet::new();
    if let Ok(doc) = async_graphql::parser::parse_schema(schema.sdl()) {
        for definition in doc.definitions {
            if let TypeSystemDefinition::Type(t) = definition {
                if let TypeKind::Object(o) = &t.node.kind {
                    if t.node.name.node.ends_with("Root") {
                        names.extend(o.fields.iter().map(|f| f.node.name.node.to_string()));
                    }
                }
            }
        }
    }
    names
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
pub(crate) fn caller<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Caller> {
    ctx.data::<Caller>().map_err(|_| {
        error::to_graphql(AppError::Unauthenticated(
            "a bearer token is required".into(),
        ))
    })
}

/// Converts a service result for the client, recording an authorization denial in the audit log first.
pub(crate) trait Audited<T> {
    async fn audited(self, ctx: &Context<'_>) -> async_graphql::Result<T>;
}

/// Client text fit to stand in an audit entry's object ids: a well-formed reference or id as given, anything else
/// as `(not a reference)`, so neither a comma (which would split the list) nor a name or date a caller typed in
/// place of a reference reaches the log.
pub(crate) fn object_text(text: &str) -> String {
    let text = text.trim();
    let mut problems = crate::domain::Violations::default();
    crate::domain::validation::validate_reference(text, "reference", &mut problems);
    if problems.0.is_empty() {
        text.to_string()
    } else {
        "(not a reference)".into()
    }
}

/// The identifiers a request named in its arguments (`reference`, `replacesReference`, `id`, `hearingId`, at the
/// top or inside `input`), as `name:value`: what a refused request was after, for the audit log.
fn named_objects(ctx: &Context<'_>) -> Vec<String> {
    use async_graphql::Value;
    const NAMES: [&str; 4] = ["reference", "replacesReference", "id", "hearingId"];
    let mut out = vec![];
    let mut take = |name: &str, value: &Value| {
        if let (true, Value::String(v)) = (NAMES.contains(&name), value) {
            out.push(format!("{name}:{}", object_text(v)));
        }
    };
    for (name, value) in ctx.field().arguments().unwrap_or_default() {
        take(name.as_str(), &value);
        if let Value::Object(fields) = &value {
            for (inner, v) in fields {
                take(inner.as_str(), v);
            }
        }
    }
    out
}

impl<T> Audited<T> for Result<T, AppError> {
    async fn audited(self, ctx: &Context<'_>) -> async_graphql::Result<T> {
        // Refused by policy, or answered as "not found" (which is also the answer for what the caller may not see):
        // recorded as a denial naming what was asked for, so probing leaves a trace.
        let denied = match &self {
            Err(AppError::Forbidden { code, .. }) => Some((*code, vec![])),
            Err(e @ AppError::NotFound { .. }) => Some((e.code(), named_objects(ctx))),
            Err(e @ AppError::Validation(_)) if e.code() == codes::REPLACED_ORDER_NOT_FOUND => {
                Some((e.code(), named_objects(ctx)))
            }
            _ => None,
        };
        if let Some((code, named)) = denied {
            if let (Ok(svc), Ok(who)) = (services(ctx), caller(ctx)) {
                let mut e = crate::service::audit::entry(
                    who,
                    svc.now(),
                    crate::domain::audit::AuditOperation::Denied,
                    ctx.field().name(),
                    if named.is_empty() {
                        "operation"
                    } else {
                        "reference"
                    },
                    named,
                    &[],
                );
                e.outcome = code.to_string();
                if let Err(err) = svc.audit(vec![e]).await {
                    tracing::error!(
                        error.code = err.code(),
                        "a denial could not be recorded in the audit log"
                    );
                }
            }
        }
        self.map_err(error::to_graphql)
    }
}

/// The field names a query selected below the current field, as dotted paths (`protectedPersons.contact`), with a
/// connection's `edges.node.` left out: what a read consulted, for the audit log (names, never values).
pub(crate) fn selected_fields(ctx: &Context<'_>) -> Vec<String> {
    fn walk(
        field: async_graphql::SelectionField<'_>,
        prefix: &str,
        depth: usize,
        out: &mut Vec<String>,
    ) {
        let mut children = field.selection_set().peekable();
        if children.peek().is_none() || depth == 0 {
            if !prefix.is_empty() {
                out.push(prefix.to_string());
            }
            return;
        }
        for child in children {
            let name = child.name();
            if name == "__typename" || name == "pageInfo" || name == "cursor" {
                continue;
            }
            let path = match (prefix, name) {
                ("", "edges") | ("", "node") => String::new(),
                ("", n) => n.to_string(),
                (p, n) => format!("{p}.{n}"),
            };
            walk(child, &path, depth - 1, out);
        }
    }
    let mut out = vec![];
    walk(ctx.field(), "", 4, &mut out);
    out.sort();
    out.dedup();
    out
}

/// Records that the caller consulted these objects (and which fields); the read fails if it cannot be recorded.
/// `reason` is the caller's `reason` argument, which takes the place of the `X-Orderwatch-Reason` header.
pub(crate) async fn consulted(
    ctx: &Context<'_>,
    object_type: &str,
    ids: Vec<String>,
    reason: Option<String>,
) -> async_graphql::Result<()> {
    consulted_with(ctx, object_type, ids, reason, "OK").await
}

/// Records an order returned by a mutation as consulted (the response discloses what it selects, as a read does),
/// then hands it to the client.
pub(crate) async fn returned_order(
    ctx: &Context<'_>,
    order: crate::domain::order::OrderRecord,
) -> async_graphql::Result<objects::order::ProtectionOrder> {
    let (svc, who) = (services(ctx)?, caller(ctx)?);
    // The change has committed: a client told to retry would make it twice. Say it was recorded, and how to read it.
    if consulted(ctx, "order", vec![order.id.clone()], None)
        .await
        .is_err()
    {
        return Err(error::to_graphql(AppError::conflict(
            codes::RECORDED_NOT_RETURNED,
            "the change was recorded, but its result could not be returned (its audit record could not be written): read the order with a query, do not repeat the change",
        )));
    }
    Ok(objects::order::ProtectionOrder::new(order, svc.now(), who))
}

/// As [`consulted`], with the outcome to record (`NOT_FOUND` for a lookup that found nothing the caller may see).
pub(crate) async fn consulted_with(
    ctx: &Context<'_>,
    object_type: &str,
    ids: Vec<String>,
    reason: Option<String>,
    outcome: &str,
) -> async_graphql::Result<()> {
    let (svc, who) = (services(ctx)?, caller(ctx)?);
    let fields = selected_fields(ctx);
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let mut e = crate::service::audit::entry(
        who,
        svc.now(),
        crate::domain::audit::AuditOperation::Consult,
        ctx.field().name(),
        object_type,
        ids,
        &fields,
    );
    if let Some(r) = reason {
        e.reason = Caller::new(who.principal.clone(), "", Some(r)).reason;
    }
    e.outcome = outcome.to_string();
    svc.audit(vec![e]).await.map_err(error::to_graphql)
}

/// The fields withheld from one request (`FORBIDDEN_FIELD`), collected so the request's denial is recorded once.
#[derive(Clone, Default)]
pub struct Withheld(pub std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Withheld {
    /// Records the withheld fields, if any, as one DENIED entry; an error means the record could not be written.
    pub async fn record(
        &self,
        services: &Services,
        who: &Caller,
        action: &str,
    ) -> Result<(), AppError> {
        let mut fields = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        fields.sort();
        fields.dedup();
        if fields.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = fields.iter().map(String::as_str).collect();
        let mut e = crate::service::audit::entry(
            who,
            services.now(),
            crate::domain::audit::AuditOperation::Denied,
            action,
            "field",
            vec![],
            &names,
        );
        e.outcome = error::FORBIDDEN_FIELD.into();
        services.audit(vec![e]).await
    }
}
