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
//! | 1002 | a frame the websocket protocol does not allow (unmasked, an unknown opcode, a continuation out of order) |
//! | 1007 | a text message that is not UTF-8 |
//! | 1009 | a message larger than 256 KiB, in one frame or several |
//! | 1013 | an alert could not be delivered within `ORDERWATCH_DELIVERY_RETRY_MS` (`DELIVERY_INTERRUPTED`): reconnect and resume from the last cursor |
//!
//! A `subscribe` beyond `ORDERWATCH_WS_MAX_OPERATIONS` running operations is answered with an `error` message for
//! its id (`TOO_MANY_OPERATIONS`); the connection and its other operations go on.
//!
//! The HTTP dispatcher hands a request for a websocket over with its connection (`upgrade`); the handshake is
//! answered here, and the connection is then read and written frame by frame with no buffer kept while it is idle
//! (`socket.rs`). The protocol is `Connection`, one method per message; each operation it runs is a stream of
//! messages (`operation.rs`).

mod operation;
mod socket;
mod upgrade;

pub use upgrade::upgrade;

use crate::auth::Principal;
use crate::codes;
use crate::error::{AppError, DELIVERY_INTERRUPTED};
use crate::http::{admission, gate, AppState};
use actix_http::ws::{CloseCode, CloseReason, Message};
use chrono::Utc;
use futures_util::stream::{AbortHandle, BoxStream, SelectAll};
use futures_util::{FutureExt, StreamExt};
use operation::{refusal, start, Out};
use serde_json::{json, Value};
use socket::{Broken, Incoming, Socket};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub const SUBPROTOCOL: &str = "graphql-transport-ws";
/// Largest message accepted from a client.
const MAX_FRAME: usize = 256 * 1024;
/// Most bytes of messages gathered into one write.
const WRITE_BATCH: usize = 64 * 1024;
/// How long a closing socket waits for the client's close frame.
const CLOSE_LINGER: Duration = Duration::from_secs(1);

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

/// A close the loop ends with; `None` when the socket is already gone.
type Close = Option<CloseReason>;

/// One websocket: who opened it, and the operations it runs. Each protocol message has its method; a method that
/// returns `Err` ends the connection with that close.
struct Connection {
    state: Arc<AppState>,
    socket: Socket,
    source: Option<std::net::IpAddr>,
    /// Every running operation is a stream polled by this connection's task (no task of its own), so an idle
    /// subscription costs its own state and nothing more; `running` holds the handle that stops each one.
    operations: SelectAll<BoxStream<'static, Out>>,
    running: HashMap<String, AbortHandle>,
    principal: Option<Principal>,
    /// The reason given in connection_init (`{"reason": "..."}`), for the audit log.
    reason: Option<String>,
    init_seen: bool,
    /// When the token the connection was opened with expires.
    expiry: tokio::time::Instant,
}

/// The socket's task: the connection's loop itself, with no future around it that would keep room for it twice.
fn connection(
    state: Arc<AppState>,
    socket: Socket,
    source: Option<std::net::IpAddr>,
) -> impl std::future::Future<Output = ()> {
    let connection = Connection {
        state,
        socket,
        source,
        operations: SelectAll::new(),
        running: HashMap::new(),
        principal: None,
        reason: None,
        init_seen: false,
        expiry: tokio::time::Instant::now() + Duration::from_secs(365 * 24 * 3600),
    };
    connection.run()
}

impl Connection {
    // Not an `async fn`: one would keep `self` twice in its state, as the argument and as the local it is moved
    // to (rust-lang/rust#62958); the block uses the captured `self` in place.
    #[allow(clippy::manual_async_fn)]
    fn run(mut self) -> impl std::future::Future<Output = ()> {
        async move {
            let init_deadline = tokio::time::Instant::now() + self.state.ws_init_timeout;
            let mut shutdown = self.state.shutdown.clone();
            let close = loop {
                // One timer: the initialisation's deadline until the client is known, then its token's expiry.
                let deadline = match self.principal {
                    None => init_deadline,
                    Some(_) => self.expiry,
                };
                // What the task holds while the socket is idle is this loop's state: every step is boxed, so that state
                // is not sized by the steps' own.
                let step = tokio::select! {
                    message = self.socket.next() => Box::pin(self.on_message(message)).await,
                    Some(out) = self.operations.next(), if !self.operations.is_empty() => {
                        Box::pin(self.on_output(out)).await
                    }
                    _ = tokio::time::sleep_until(deadline) => match self.principal {
                        None => Err(close(4408, "Connection initialisation timeout")),
                        Some(_) => Err(close(4403, "token expired")),
                    },
                    _ = shutdown.changed() => Err(Some(CloseReason {
                        code: CloseCode::Away,
                        description: Some("server shutting down".into()),
                    })),
                };
                if let Err(close) = step {
                    break close;
                }
            };
            drop(self.operations);
            // A client already gone, or closing itself, has nothing more to say.
            let linger = if close.is_some() {
                CLOSE_LINGER
            } else {
                Duration::ZERO
            };
            Box::pin(self.socket.close(close, linger)).await;
        }
    }

    /// Sends `text`; a socket that cannot take it is gone.
    async fn send(&mut self, text: String) -> Result<(), Close> {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .map_err(|_| None)
    }

    /// A message from the client: a text message is dispatched by its `type`.
    async fn on_message(&mut self, message: Result<Incoming, Broken>) -> Result<(), Close> {
        let text = match message {
            Err(Broken::TooLarge) => {
                return Err(Some(CloseReason {
                    code: CloseCode::Size,
                    description: Some(format!("a message may be at most {MAX_FRAME} bytes")),
                }))
            }
            Err(Broken::NotUtf8) => {
                return Err(Some(CloseReason {
                    code: CloseCode::Invalid,
                    description: Some("a text message must be UTF-8".into()),
                }))
            }
            Err(Broken::Protocol) => {
                return Err(Some(CloseReason {
                    code: CloseCode::Protocol,
                    description: Some("a frame the websocket protocol does not allow".into()),
                }))
            }
            Err(Broken::Gone) | Ok(Incoming::Close) => return Err(None),
            Ok(Incoming::Text(t)) => t,
            Ok(Incoming::Ping(p)) => {
                return self.socket.send(Message::Pong(p)).await.map_err(|_| None)
            }
            Ok(Incoming::Pong) => return Ok(()),
            Ok(Incoming::Binary) => {
                return Err(close(4400, "binary messages are not part of the protocol"))
            }
        };
        // serde_json refuses JSON nested past 128 levels; nothing recursive reads the message before this.
        let Ok(msg) = serde_json::from_str::<Value>(&text) else {
            if admission::json_too_deep(text.as_bytes(), self.state.max_nesting, 3).is_some() {
                return Err(close(
                    4400,
                    "invalid message: nested too deep (DOCUMENT_TOO_DEEP)",
                ));
            }
            return Err(close(4400, "invalid message: not JSON"));
        };
        match msg.get("type").and_then(Value::as_str) {
            Some("connection_init") => self.on_init(&msg).await,
            Some("ping") => self.send(json!({ "type": "pong" }).to_string()).await,
            Some("pong") => Ok(()),
            Some("subscribe") => self.on_subscribe(&msg, &text).await,
            Some("complete") => {
                self.on_complete(&msg);
                Ok(())
            }
            _ => Err(close(4400, "invalid message: unknown type")),
        }
    }

    /// `connection_init`: the token, through the gate; `connection_ack` when it is valid.
    #[tracing::instrument(name = "ws.connection_init", skip_all)]
    async fn on_init(&mut self, msg: &Value) -> Result<(), Close> {
        if std::mem::replace(&mut self.init_seen, true) {
            return Err(close(4429, "Too many initialisation requests"));
        }
        let payload = msg.get("payload").cloned().unwrap_or(Value::Null);
        self.reason = payload
            .get("reason")
            .and_then(Value::as_str)
            .map(str::to_string);
        let request_id = uuid::Uuid::new_v4().to_string();
        let who = gate::Credentials {
            token: token_of(&payload),
            source: self.source,
            request_id: &request_id,
            transport: gate::Transport::Websocket,
        };
        let Ok((principal, expires)) = gate::authenticate(&self.state, who).await else {
            return Err(close(4403, "Forbidden"));
        };
        let left = (expires - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        self.expiry = tokio::time::Instant::now() + left;
        tracing::info!(principal.role = principal.role.as_str(), principal.agency = %principal.agency, "websocket connected");
        self.principal = Some(principal);
        self.send(json!({ "type": "connection_ack" }).to_string())
            .await
    }

    /// `subscribe`: the connection's own limits (a unique id, `ORDERWATCH_WS_MAX_OPERATIONS`, the nesting of the
    /// message), then the request through the gate; then run as an operation of this connection. A request refused
    /// is one `error` message for its id; the connection goes on.
    #[tracing::instrument(name = "ws.subscribe", skip_all, fields(id))]
    async fn on_subscribe(&mut self, msg: &Value, text: &str) -> Result<(), Close> {
        let Some(who) = self.principal.clone() else {
            return Err(close(4401, "Unauthorized"));
        };
        let (Some(id), Some(payload)) = (msg.get("id").and_then(Value::as_str), msg.get("payload"))
        else {
            return Err(close(
                4400,
                "invalid message: subscribe needs id and payload",
            ));
        };
        // The client chose the id: at most 64 characters of it go into the logs.
        let logged: String = id.chars().take(64).collect();
        tracing::Span::current().record("id", logged.as_str());
        let Ok(request) = serde_json::from_value::<async_graphql::Request>(payload.clone()) else {
            return Err(close(
                4400,
                "invalid message: payload is not a GraphQL request",
            ));
        };
        if self.running.contains_key(id) {
            return Err(close(4409, &format!("Subscriber for {id} already exists")));
        }
        if self.running.len() >= self.state.ws_max_operations {
            let refused = AppError::validation(
                codes::TOO_MANY_OPERATIONS,
                "id",
                format!("this connection already runs {} operations, the most allowed (ORDERWATCH_WS_MAX_OPERATIONS); complete one or open another connection", self.running.len()),
            );
            return self.send(refusal(id, refused)).await;
        }
        // Before the GraphQL parser, which recurses into value literals (the envelope is the message and its payload).
        if let Some(refused) = admission::json_too_deep(text.as_bytes(), self.state.max_nesting, 3)
        {
            let refused = AppError::validation(admission::DOCUMENT_TOO_DEEP, "query", refused);
            return self.send(refusal(id, refused)).await;
        }
        let admitted = match gate::admit(&self.state, request) {
            Ok(admitted) => admitted,
            Err(refused) => {
                let refused = AppError::validation(refused.code, "query", refused.message);
                return self.send(refusal(id, refused)).await;
            }
        };
        let caller =
            crate::auth::Caller::new(who, uuid::Uuid::new_v4().to_string(), self.reason.clone());
        let operation = start(&self.state, id, admitted, caller);
        let (operation, stop) = futures_util::stream::abortable(operation);
        self.operations.push(operation.boxed());
        self.running.insert(id.to_string(), stop);
        Ok(())
    }

    /// `complete`: the client stops an operation.
    #[tracing::instrument(name = "ws.complete", skip_all)]
    fn on_complete(&mut self, msg: &Value) {
        if let Some(stop) = msg
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| self.running.remove(id))
        {
            stop.abort();
        }
    }

    /// A message one of the operations has for the client.
    async fn on_output(&mut self, mut out: Out) -> Result<(), Close> {
        // Messages the other operations have ready too go out in the same write, so a socket carrying many
        // subscriptions makes one system call for an alert they all receive, not one each.
        loop {
            if out.last {
                self.running.remove(&out.id);
            }
            self.socket
                .queue(Message::Text(out.text.into()))
                .map_err(|_| None)?;
            // The operation's error names the code; closing the socket as well reaches a client that only resumes
            // when its socket drops.
            if out.interrupted {
                self.socket.flush().await.map_err(|_| None)?;
                return Err(Some(CloseReason {
                    code: CloseCode::Again,
                    description: Some(format!(
                        "{DELIVERY_INTERRUPTED}: reconnect and resume from your last cursor"
                    )),
                }));
            }
            if self.socket.queued() >= WRITE_BATCH {
                break;
            }
            match self.operations.next().now_or_never() {
                Some(Some(next)) => out = next,
                _ => break,
            }
        }
        self.socket.flush().await.map_err(|_| None)
    }
}
