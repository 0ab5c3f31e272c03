//! GraphQL over websocket at `/graphql`, speaking the `graphql-transport-ws` protocol (the one the `graphql-ws`
//! JavaScript client speaks), with the close codes of its specification. async-graphql's own handler closes with
//! other codes and never closes on token expiry, so the protocol is implemented here over `schema.execute_stream`.
//!
//! | Close | When |
//! |---|---|
//! | 4400 | a message that is not valid JSON of a known type, or a binary frame |
//! | 4401 | `subscribe` before `connection_ack` |
//! | 4403 | `connection_init` without a valid token, or the token it was opened with has expired |
//! | 4408 | no `connection_init` within `ORDERWATCH_WS_INIT_TIMEOUT_MS` |
//! | 4409 | `subscribe` with the id of a subscription still running |
//! | 4429 | a second `connection_init` |
//! | 1009 | a message larger than 256 KiB |
//! | 1013 | an alert could not be delivered within `ORDERWATCH_DELIVERY_RETRY_MS` (`DELIVERY_INTERRUPTED`): reconnect and resume from the last cursor |
//!
//! A `subscribe` beyond `ORDERWATCH_WS_MAX_OPERATIONS` running operations is answered with an `error` message for
//! its id (`TOO_MANY_OPERATIONS`); the connection and its other operations go on.
//!
//! Past 400 lines: the protocol's one message loop and one operation's stream; splitting the loop into a type with a
//! method per message is the next step in `http/`.

use crate::auth::Principal;
use crate::error::{AppError, DELIVERY_INTERRUPTED};
use crate::graphql::delivery;
use crate::http::{admission, AppState};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Session};
use chrono::Utc;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

pub const SUBPROTOCOL: &str = "graphql-transport-ws";
/// Largest message accepted from a client.
const MAX_FRAME: usize = 256 * 1024;

/// A message an operation has for the client; `last` when the operation is over after it, `interrupted` when an
/// alert could not be delivered and the connection must close so that the client resumes from its last cursor.
struct Out {
    id: String,
    text: String,
    last: bool,
    interrupted: bool,
}

/// Upgrades `GET /graphql` to a websocket.
pub async fn websocket(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let offered: Vec<String> = req
        .headers()
        .get_all("sec-websocket-protocol")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|p| p.trim().to_string()))
        .collect();
    if !offered.is_empty() && !offered.iter().any(|p| p == SUBPROTOCOL) {
        return HttpResponse::BadRequest().json(json!({ "errors": [{
            "message": format!("the only websocket subprotocol spoken is {SUBPROTOCOL}"),
            "extensions": { "code": "UNSUPPORTED_SUBPROTOCOL" } }] }));
    }
    let (mut response, session, messages) = match actix_ws::handle(&req, body) {
        Ok(parts) => parts,
        Err(e) => return e.error_response(),
    };
    response.headers_mut().insert(
        actix_web::http::header::SEC_WEBSOCKET_PROTOCOL,
        actix_web::http::header::HeaderValue::from_static(SUBPROTOCOL),
    );
    let messages = messages
        .max_frame_size(MAX_FRAME)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME);
    let source = req.peer_addr().map(|a| a.ip());
    actix_web::rt::spawn(connection(state.into_inner(), session, messages, source));
    response
}

fn close(code: u16, reason: &str) -> Option<CloseReason> {
    Some(CloseReason {
        code: CloseCode::Other(code),
        description: Some(reason.to_string()),
    })
}

/// Reads the token from a `connection_init` payload: `{"Authorization": "Bearer ..."}` or `{"token": "..."}`.
fn token_of(payload: &Value) -> Option<&str> {
    let auth = payload
        .get("Authorization")
        .or_else(|| payload.get("authorization"))
        .and_then(Value::as_str);
    match auth {
        Some(a) => a
            .strip_prefix("Bearer ")
            .or_else(|| a.strip_prefix("bearer "))
            .map(str::trim),
        None => payload.get("token").and_then(Value::as_str).map(str::trim),
    }
}

async fn connection(
    state: std::sync::Arc<AppState>,
    mut session: Session,
    mut messages: actix_ws::AggregatedMessageStream,
    source: Option<std::net::IpAddr>,
) {
    // Every running operation is a stream polled by this connection's task (no task of its own), so an idle
    // subscription costs its own state and nothing more; `running` holds the handle that stops each one.
    let mut operations =
        futures_util::stream::SelectAll::<futures_util::stream::BoxStream<'static, Out>>::new();
    let mut principal: Option<Principal> = None;
    // The reason given in connection_init (`{"reason": "..."}`), for the audit log.
    let mut reason: Option<String> = None;
    let mut init_seen = false;
    let init_deadline = tokio::time::Instant::now() + state.ws_init_timeout;
    let mut expiry = tokio::time::Instant::now() + Duration::from_secs(365 * 24 * 3600);
    let mut running: HashMap<String, futures_util::stream::AbortHandle> = HashMap::new();
    let mut shutdown = state.shutdown.clone();

    let reason = loop {
        tokio::select! {
            message = messages.next() => {
                let text = match message {
                    Some(Err(actix_ws::ProtocolError::Overflow)) => break Some(CloseReason {
                        code: CloseCode::Size,
                        description: Some(format!("a message may be at most {MAX_FRAME} bytes")),
                    }),
                    None | Some(Err(_)) => break None,
                    Some(Ok(actix_ws::AggregatedMessage::Text(t))) => t,
                    Some(Ok(actix_ws::AggregatedMessage::Ping(p))) => {
                        if session.pong(&p).await.is_err() { break None; }
                        continue;
                    }
                    Some(Ok(actix_ws::AggregatedMessage::Pong(_))) => continue,
                    Some(Ok(actix_ws::AggregatedMessage::Close(_))) => break None,
                    Some(Ok(actix_ws::AggregatedMessage::Binary(_))) => break close(4400, "binary messages are not part of the protocol"),
                };
                // serde_json refuses JSON nested past 128 levels; nothing recursive reads the message before this.
                let Ok(msg) = serde_json::from_str::<Value>(&text) else {
                    if admission::json_too_deep(text.as_bytes(), state.max_nesting, 3).is_some() {
                        break close(4400, "invalid message: nested too deep (DOCUMENT_TOO_DEEP)");
                    }
                    break close(4400, "invalid message: not JSON");
                };
                match msg.get("type").and_then(Value::as_str) {
                    Some("connection_init") => {
                        if init_seen {
                            break close(4429, "Too many initialisation requests");
                        }
                        init_seen = true;
                        let payload = msg.get("payload").cloned().unwrap_or(Value::Null);
                        reason = payload.get("reason").and_then(Value::as_str).map(str::to_string);
                        match token_of(&payload).map(|t| state.keys.validate_until(t)) {
                            Some(Ok((p, exp))) => {
                                let left = (exp - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                                expiry = tokio::time::Instant::now() + left;
                                tracing::info!(principal.role = p.role.as_str(), principal.agency = %p.agency, "websocket connected");
                                principal = Some(p);
                                if session.text(json!({ "type": "connection_ack" }).to_string()).await.is_err() {
                                    break None;
                                }
                            }
                            Some(Err(reason)) => {
                                tracing::info!(auth.outcome = "invalid", auth.reason = %reason, "websocket refused");
                                crate::http::record_auth_failure(&state, source, &uuid::Uuid::new_v4().to_string(), &reason).await;
                                break close(4403, "Forbidden");
                            }
                            None => {
                                crate::http::record_auth_failure(&state, source, &uuid::Uuid::new_v4().to_string(), "no token in connection_init").await;
                                break close(4403, "Forbidden");
                            }
                        }
                    }
                    Some("ping") => {
                        if session.text(json!({ "type": "pong" }).to_string()).await.is_err() {
                            break None;
                        }
                    }
                    Some("pong") => {}
                    Some("subscribe") => {
                        let Some(who) = principal.clone() else {
                            break close(4401, "Unauthorized");
                        };
                        let (Some(id), Some(payload)) = (msg.get("id").and_then(Value::as_str), msg.get("payload")) else {
                            break close(4400, "invalid message: subscribe needs id and payload");
                        };
                        let Ok(mut request) = serde_json::from_value::<async_graphql::Request>(payload.clone()) else {
                            break close(4400, "invalid message: payload is not a GraphQL request");
                        };
                        if running.contains_key(id) {
                            break close(4409, &format!("Subscriber for {id} already exists"));
                        }
                        if running.len() >= state.ws_max_operations {
                            let refused = crate::error::AppError::validation(
                                "TOO_MANY_OPERATIONS",
                                "id",
                                format!("this connection already runs {} operations, the most allowed (ORDERWATCH_WS_MAX_OPERATIONS); complete one or open another connection", running.len()),
                            );
                            if session.text(refusal(id, refused)).await.is_err() {
                                break None;
                            }
                            continue;
                        }
                        // Before the parser, which recurses into value literals.
                        let too_deep = admission::json_too_deep(text.as_bytes(), state.max_nesting, 3)
                            .or_else(|| admission::document_too_deep(&request.query, state.max_nesting));
                        if let Some(refused) = too_deep {
                            let refused = crate::error::AppError::validation(admission::DOCUMENT_TOO_DEEP, "query", refused);
                            if session.text(refusal(id, refused)).await.is_err() {
                                break None;
                            }
                            continue;
                        }
                        let kept = state.documents.prepare(&mut request);
                        // An `alerts` subscription is handed over to this transport once started (`graphql::delivery`).
                        let mut handed_over = None;
                        let mut subscription = false;
                        let operation_name = request.operation_name.clone();
                        if let Ok(doc) = request.parsed_query() {
                            subscription = delivery::is_subscription(doc, operation_name.as_deref());
                            if let Some((code, refused)) = admission::refuse_document(doc, &state.document_limits) {
                                let refused = crate::error::AppError::validation(code, "query", refused);
                                if session.text(refusal(id, refused)).await.is_err() {
                                    break None;
                                }
                                continue;
                            }
                            if delivery::hands_over(doc, operation_name.as_deref()) {
                                handed_over = Some(kept.unwrap_or_else(|| std::sync::Arc::new(doc.clone())));
                            }
                        }
                        let caller = crate::auth::Caller::new(who, uuid::Uuid::new_v4().to_string(), reason.clone());
                        let withheld = crate::graphql::Withheld::default();
                        let handover = handed_over.map(|document| {
                            let deliverer = delivery::Deliverer {
                                schema: state.delivery.clone(),
                                document,
                                variables: request.variables.clone(),
                                operation_name: request.operation_name.clone(),
                                caller: caller.clone(),
                                withheld: withheld.clone(),
                            };
                            (delivery::Handover::default(), deliverer)
                        });
                        let mut request = request.data(caller.clone()).data(withheld.clone());
                        if let Some((slot, _)) = &handover {
                            request = request.data(slot.clone());
                        }
                        let (operation, stop) = futures_util::stream::abortable(operation(state.clone(), id.to_string(), request, (caller, withheld), handover, subscription));
                        operations.push(operation.boxed());
                        running.insert(id.to_string(), stop);
                    }
                    Some("complete") => {
                        if let Some(id) = msg.get("id").and_then(Value::as_str) {
                            if let Some(stop) = running.remove(id) {
                                stop.abort();
                            }
                        }
                    }
                    _ => break close(4400, "invalid message: unknown type"),
                }
            }
            Some(out) = operations.next(), if !operations.is_empty() => {
                if out.last {
                    running.remove(&out.id);
                }
                if session.text(out.text).await.is_err() {
                    break None;
                }
                // The operation's error names the code; closing the socket as well reaches a client that only
                // resumes when its socket drops.
                if out.interrupted {
                    break Some(CloseReason {
                        code: CloseCode::Again,
                        description: Some(format!("{DELIVERY_INTERRUPTED}: reconnect and resume from your last cursor")),
                    });
                }
            }
            _ = tokio::time::sleep_until(init_deadline), if principal.is_none() => {
                break close(4408, "Connection initialisation timeout");
            }
            _ = tokio::time::sleep_until(expiry), if principal.is_some() => {
                break close(4403, "token expired");
            }
            _ = shutdown.changed() => {
                break Some(CloseReason { code: CloseCode::Away, description: Some("server shutting down".into()) });
            }
        }
    };
    drop(operations);
    let _ = session.close(reason).await;
}

/// An `error` message for operation `id`, its payload mapped from `e` as every GraphQL error is
/// (`graphql::error::to_graphql`: message, `extensions.code`, `category`, and any violations).
fn refusal(id: &str, e: crate::error::AppError) -> String {
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
    // Each step is boxed, so an idle operation holds only the step waiting on its next result.
    futures_util::stream::unfold(op, |op| Box::pin(op.step()))
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
    async fn step(mut self) -> Option<(Out, Operation)> {
        if self.over {
            return None;
        }
        let mut next = self.results.next().await;
        if next.is_none() {
            // async-graphql's stream is over; a handed-over subscription goes on as the alerts it was given.
            if let Some(alerts) = self.take_over() {
                self.results = alerts;
                next = self.results.next().await;
            }
        }
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
