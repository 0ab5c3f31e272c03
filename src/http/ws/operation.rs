//! One operation of a websocket as the messages it sends: started from an admitted request (an `alerts`
//! subscription handed over to the transport once async-graphql has started it), each result a `next`, then
//! `complete`; a failed delivery of an alert interrupts the connection.

use crate::error::{AppError, DELIVERY_INTERRUPTED};
use crate::graphql::delivery;
use crate::http::{admission, gate, AppState};
use futures_util::StreamExt;
use serde_json::json;
use std::sync::Arc;

/// A message an operation has for the client; `last` when the operation is over after it, `interrupted` when an
/// alert could not be delivered and the connection must close so that the client resumes from its last cursor.
pub(super) struct Out {
    pub id: String,
    pub text: String,
    pub last: bool,
    pub interrupted: bool,
}

/// An admitted request as the operation that runs it. An `alerts` subscription is handed over to this transport
/// once started (`graphql::delivery`).
pub(super) fn start(
    state: &Arc<AppState>,
    id: &str,
    admitted: gate::Admitted,
    caller: crate::auth::Caller,
) -> impl futures_util::Stream<Item = Out> {
    let gate::Admitted {
        mut request, kept, ..
    } = admitted;
    let mut handed_over = None;
    let mut subscription = false;
    let operation_name = request.operation_name.clone();
    if let Ok(doc) = request.parsed_query() {
        subscription = delivery::is_subscription(doc, operation_name.as_deref());
        if delivery::hands_over(doc, operation_name.as_deref()) {
            handed_over = Some(kept.unwrap_or_else(|| Arc::new(doc.clone())));
        }
    }
    let withheld = crate::graphql::Withheld::default();
    let handover = handed_over.map(|document| {
        let deliverer = delivery::Deliverer {
            schema: state.delivery.clone(),
            document,
            variables: request.variables.clone(),
            operation_name,
            caller: caller.clone(),
            withheld: withheld.clone(),
        };
        (delivery::Handover::default(), deliverer)
    });
    let mut request = request.data(caller.clone()).data(withheld.clone());
    if let Some((slot, _)) = &handover {
        request = request.data(slot.clone());
    }
    operation(
        state.clone(),
        id.to_string(),
        request,
        (caller, withheld),
        handover,
        subscription,
    )
}

/// An `error` message for operation `id`, its payload mapped from `e` as every GraphQL error is
/// (`graphql::error::to_graphql`: message, `extensions.code`, `category`, and any violations).
pub(super) fn refusal(id: &str, e: crate::error::AppError) -> String {
    let e = crate::graphql::error::to_graphql(e);
    let mut error = async_graphql::ServerError::new(e.message, None);
    error.extensions = e.extensions;
    json!({ "id": id, "type": "error", "payload": [error] }).to_string()
}

/// A protocol message for operation `id`: `{"id", "type", "payload"}`.
fn message(id: &str, kind: &str, payload: &impl serde::Serialize) -> String {
    #[derive(serde::Serialize)]
    struct Message<'a, P> {
        id: &'a str,
        #[serde(rename = "type")]
        kind: &'a str,
        payload: P,
    }
    serde_json::to_string(&Message { id, kind, payload }).unwrap_or_else(|e| {
        // Not expected (a response is plain data); the client gets an error it can act on, not a dropped message.
        tracing::error!(error = %e, "a websocket message could not be serialised");
        refusal(
            id,
            crate::error::AppError::internal(anyhow::anyhow!("message serialisation failed")),
        )
    })
}

/// One operation as the messages it sends: `next` for each result, then `complete`; a request refused before it
/// runs (invalid document, no such field) is one `error` message instead, as the protocol says.
fn operation(
    state: std::sync::Arc<AppState>,
    id: String,
    request: async_graphql::Request,
    (caller, withheld): (crate::auth::Caller, crate::graphql::Withheld),
    handover: Option<(delivery::Handover, delivery::Deliverer)>,
    subscription: bool,
) -> impl futures_util::Stream<Item = Out> {
    let op = Operation {
        subscription,
        results: state.schema.execute_stream(request),
        state,
        id,
        caller,
        withheld,
        handover: handover.map(Box::new),
        first: true,
        over: false,
    };
    // An idle operation is only its step waiting on the next result (`service::steps`).
    crate::service::steps::steps(op, Operation::step)
}

struct Operation {
    state: std::sync::Arc<AppState>,
    id: String,
    results: futures_util::stream::BoxStream<'static, async_graphql::Response>,
    caller: crate::auth::Caller,
    withheld: crate::graphql::Withheld,
    /// Where an `alerts` subscription's stream arrives once async-graphql has started it, and what delivers it.
    handover: Option<Box<(delivery::Handover, delivery::Deliverer)>>,
    first: bool,
    over: bool,
    /// A subscription: an alert it cannot deliver interrupts the connection.
    subscription: bool,
}

impl Operation {
    /// The next message. An idle operation waits here for its next result, and holds only itself while it does:
    /// the result's handling, with the response and the audit write it waits on, is boxed.
    // Not an `async fn`: one would keep `self` twice in its state, as the argument and as the local it is moved
    // to (rust-lang/rust#62958); the block uses the captured `self` in place.
    #[allow(clippy::manual_async_fn)]
    fn step(mut self) -> impl std::future::Future<Output = Option<(Out, Operation)>> {
        async move {
            if self.over {
                return None;
            }
            // The result's own room ends with this block, before the answer is awaited.
            let answer = {
                let next = self.next_result().await;
                Box::pin(self.answer(next))
            };
            answer.await
        }
    }

    /// The next result; after async-graphql's stream, those of the alerts it handed over, if it did.
    async fn next_result(&mut self) -> Option<async_graphql::Response> {
        loop {
            if let Some(response) = self.results.next().await {
                return Some(response);
            }
            self.results = self.take_over()?;
        }
    }

    /// The message for a result, or `complete` after the last.
    async fn answer(mut self, next: Option<async_graphql::Response>) -> Option<(Out, Operation)> {
        let Some(mut response) = next else {
            let complete = json!({ "id": self.id, "type": "complete" });
            return Some((self.out(complete.to_string(), true), self));
        };
        for e in &mut response.errors {
            let ext = e.extensions.get_or_insert_with(Default::default);
            if ext.get("code").is_none() {
                ext.set("code", admission::code_of_unmapped(&e.message));
                ext.set("category", "VALIDATION");
            }
        }
        // Boxed so the step, idle awaiting the next result, does not keep room for the audit write.
        if let Err(e) = Box::pin(self.withheld.record(
            &self.state.services,
            &self.caller,
            "subscription",
        ))
        .await
        {
            // Not sent: for a subscription that is an alert it could not deliver.
            let e = if self.subscription {
                AppError::DeliveryInterrupted(anyhow::anyhow!("withheld fields not recorded: {e}"))
            } else {
                e
            };
            let interrupted = self.subscription;
            let failed = refusal(&self.id, e);
            let mut out = self.out(failed, true);
            out.interrupted = interrupted;
            return Some((out, self));
        }
        let interrupted = self.subscription
            && response.errors.iter().any(|e| {
                matches!(
                    e.extensions.as_ref().and_then(|x| x.get("code")),
                    Some(async_graphql::Value::String(code)) if code == DELIVERY_INTERRUPTED
                )
            });
        if interrupted {
            let mut out = self.out(message(&self.id, "error", &response.errors), true);
            out.interrupted = true;
            return Some((out, self));
        }
        let refused = std::mem::take(&mut self.first)
            && response.data == async_graphql::Value::Null
            && !response.errors.is_empty();
        // Serialised straight from the response: building a `serde_json::Value` of it first cost an allocation per
        // node, for every subscriber of every alert.
        let message = if refused {
            message(&self.id, "error", &response.errors)
        } else {
            message(&self.id, "next", &response)
        };
        Some((self.out(message, refused), self))
    }

    /// The responses of the alerts handed over by the `alerts` resolver, if it handed any over.
    fn take_over(
        &mut self,
    ) -> Option<futures_util::stream::BoxStream<'static, async_graphql::Response>> {
        let handover = self.handover.take()?;
        let (slot, deliverer) = *handover;
        let alerts = slot.take()?;
        self.state
            .handed_over
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(deliverer.responses(alerts))
    }

    /// A message of this operation; when `last`, nothing follows it.
    fn out(&mut self, text: String, last: bool) -> Out {
        self.over |= last;
        Out {
            id: self.id.clone(),
            text,
            last,
            interrupted: false,
        }
    }
}
