//! The `alerts` subscription over websockets, delivered outside async-graphql's streaming executor.
//!
//! An advocate service may hold thousands of idle subscriptions, and async-graphql keeps each running subscription
//! as one stream sized for its largest state (the request's preparation and validation); see
//! `docs/decisions/0005-alerts-subscriptions-handed-over-to-the-transport.md`. So a websocket `subscribe` whose operation is `alerts` alone
//! is started by async-graphql as any other (limits, validation against the caller's own schema, the resolver with
//! its access checks and audit), and then its stream of alerts is handed over to the transport ([`Handover`]),
//! which keeps only that stream and the document. Each alert is then resolved by running the same selection as a
//! query on [`DeliverySchema`], whose root, also named `Subscription`, answers `alerts` with the alert in hand.
//!
//! What is delivered is what async-graphql would have sent: the selection is resolved by the same `Alert` type,
//! with the same caller, the same withheld-field record and the same disclosure audit (written by the handed-over
//! stream, before the alert is resolved). The document is validated in full once, when the subscription starts;
//! each delivery runs the quick checks only ([`async_graphql::ValidationMode::Fast`]).

use super::objects::alert::Alert;
use crate::auth::Caller;
use crate::service::Services;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection,
};
use async_graphql::{
    Context, EmptyMutation, EmptySubscription, Object, Result, Schema, ValidationMode, Variables,
};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use std::sync::{Arc, Mutex};

/// A subscription's alerts, each already recorded as disclosed to the caller's agency.
pub type AlertStream = BoxStream<'static, Result<Alert>>;

/// The slot through which the `alerts` resolver hands its stream to the transport. Present in a request's data
/// only when the transport can deliver the alerts itself; otherwise the stream goes to async-graphql as usual.
#[derive(Clone, Default)]
pub struct Handover(Arc<Mutex<Option<AlertStream>>>);

impl Handover {
    /// Called by the resolver: the transport takes the stream from here.
    pub(crate) fn give(&self, alerts: AlertStream) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(alerts);
    }

    /// The stream handed over, if the resolver ran and succeeded.
    pub fn take(&self) -> Option<AlertStream> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// The operation a request runs: the one `operation_name` names, or the document's only one.
fn selected<'a>(
    doc: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a async_graphql::Positioned<async_graphql::parser::types::OperationDefinition>> {
    match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), None) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    }
}

/// Whether the request runs a subscription (whose deliveries, once interrupted, end the connection).
pub fn is_subscription(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    selected(doc, operation_name).is_some_and(|op| op.node.ty == OperationType::Subscription)
}

/// Whether the operation `operation_name` selects of `doc` is a subscription to `alerts` alone, named directly at
/// its root (no fragment, no directive): the only shape handed over. Anything else runs on async-graphql's own
/// streaming executor, unchanged.
pub fn hands_over(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    let Some(operation) = selected(doc, operation_name) else {
        return false;
    };
    if operation.node.ty != OperationType::Subscription || !operation.node.directives.is_empty() {
        return false;
    }
    match operation.node.selection_set.node.items.as_slice() {
        [only] => match &only.node {
            Selection::Field(f) => f.node.name.node == "alerts" && f.node.directives.is_empty(),
            _ => false,
        },
        _ => false,
    }
}

/// The alert being delivered, taken once by the root resolver.
struct Delivery(Mutex<Option<Result<Alert>>>);

/// The root of [`DeliverySchema`]. Named `Subscription`, as the operation it stands in for, so errors and
/// `__typename` read as they would.
pub struct DeliveryRoot;

#[Object(name = "Subscription")]
impl DeliveryRoot {
    /// The alert in hand. Its argument was read when the subscription started, so it is not declared here.
    async fn alerts(&self, ctx: &Context<'_>) -> Result<Alert> {
        let delivery = ctx.data::<Delivery>()?;
        let taken = delivery.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        taken.unwrap_or_else(|| Err("the alert was already delivered".into()))
    }
}

/// Resolves one delivered alert's selection.
pub type DeliverySchema = Schema<DeliveryRoot, EmptyMutation, EmptySubscription>;

/// The delivery schema, with the services the `Alert` type reads from. Limits and validation in full were applied
/// when the subscription started; here only the quick checks run.
pub fn delivery_schema(services: Services) -> DeliverySchema {
    Schema::build(DeliveryRoot, EmptyMutation, EmptySubscription)
        .validation_mode(ValidationMode::Fast)
        .data(services)
        .finish()
}

/// A handed-over subscription: the request it started with, to resolve each of its alerts.
pub struct Deliverer {
    pub schema: DeliverySchema,
    /// The document as sent: shared with the document cache when it is kept there.
    pub document: Arc<ExecutableDocument>,
    pub variables: Variables,
    pub operation_name: Option<String>,
    pub caller: Caller,
    pub withheld: super::Withheld,
}

impl Deliverer {
    /// One response per alert of `alerts`, as the subscription's own executor would have produced it.
    pub fn responses(self, alerts: AlertStream) -> BoxStream<'static, async_graphql::Response> {
        let this = Arc::new(self);
        alerts
            .then(move |alert| {
                let this = this.clone();
                // Boxed: `then` keeps room for its pending future inline, and an idle subscription should not.
                Box::pin(async move { this.resolve(alert).await })
            })
            .boxed()
    }

    async fn resolve(&self, alert: Result<Alert>) -> async_graphql::Response {
        let mut document = (*self.document).clone();
        match &mut document.operations {
            DocumentOperations::Single(op) => op.node.ty = OperationType::Query,
            DocumentOperations::Multiple(ops) => {
                for op in ops.values_mut() {
                    if op.node.ty == OperationType::Subscription {
                        op.node.ty = OperationType::Query;
                    }
                }
            }
        }
        let mut request = async_graphql::Request::new(String::new())
            .variables(self.variables.clone())
            .data(self.caller.clone())
            .data(self.withheld.clone())
            .data(Delivery(Mutex::new(Some(alert))));
        request.operation_name = self.operation_name.clone();
        request.set_parsed_query(document);
        self.schema.execute(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::hands_over;

    #[test]
    fn only_a_subscription_to_alerts_alone_named_at_its_root_is_handed_over() {
        let both = "subscription S { alerts { id } } query Q { me { role } }";
        for (text, operation, expected) in [
            ("subscription { alerts { id } }", None, true),
            (
                "subscription { mine: alerts(after: \"x\") { id } }",
                None,
                true,
            ),
            ("subscription S { alerts { id } }", None, true),
            ("subscription S { alerts { id } }", Some("S"), true),
            (both, Some("S"), true),
            (both, Some("Q"), false),
            (both, None, false),
            ("subscription { alerts { id } }", Some("Other"), false),
            (
                "subscription { alerts @include(if: true) { id } }",
                None,
                false,
            ),
            ("subscription @x { alerts { id } }", None, false),
            (
                "subscription { ...F } fragment F on Subscription { alerts { id } }",
                None,
                false,
            ),
            (
                "subscription { alerts { id } again: alerts { id } }",
                None,
                false,
            ),
            ("subscription { other { id } }", None, false),
            ("{ alerts { edges { cursor } } }", None, false),
        ] {
            let doc = async_graphql::parser::parse_query(text).unwrap();
            assert_eq!(
                hands_over(&doc, operation),
                expected,
                "{text} ({operation:?})"
            );
        }
    }
}
