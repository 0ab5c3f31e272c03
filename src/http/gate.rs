//! The one gate both transports pass before anything runs. `authenticate` turns a bearer token into a principal
//! (a refusal is logged and recorded in the audit log, coalesced per source by `auth_failures`); `admit` checks a
//! GraphQL request against the limits (empty or too deeply nested text, the document cache, aliases, expanded
//! fields, variable types, fragments at a subscription's root) and names it for logs, metrics and the audit log. HTTP calls both for each request; a
//! websocket calls `authenticate` once, at `connection_init`, and `admit` for each `subscribe`. What each refusal
//! becomes is the transport's: a status and error body over HTTP, an `error` message or a close on a websocket.

use super::{admission, auth_failures, AppState};
use crate::auth::Principal;
use crate::codes;
use actix_web::http::StatusCode;
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// A request the gate turned away: the HTTP status it is answered with, its stable code, and a message the caller
/// can act on.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }
}

/// Where a token came from, for the log line and the audit entry of a refusal.
#[derive(Debug, Clone, Copy)]
pub enum Transport {
    Http,
    Websocket,
}

/// Who asks: the token they sent (if any), the address it came from and the request's id.
pub struct Credentials<'a> {
    pub token: Option<&'a str>,
    pub source: Option<std::net::IpAddr>,
    pub request_id: &'a str,
    pub transport: Transport,
}

/// The principal a token names and the moment the token expires; a refusal otherwise, already logged and audited.
pub async fn authenticate(
    state: &AppState,
    who: Credentials<'_>,
) -> Result<(Principal, DateTime<Utc>), Refusal> {
    let refused = |message: String| Refusal {
        status: StatusCode::UNAUTHORIZED,
        code: codes::UNAUTHENTICATED,
        message,
    };
    let transport = match who.transport {
        Transport::Http => "http",
        Transport::Websocket => "websocket",
    };
    let Some(token) = who.token.map(str::trim) else {
        let problem = match who.transport {
            Transport::Http => "no bearer token",
            Transport::Websocket => "no token in connection_init",
        };
        tracing::info!(request.id = %who.request_id, transport, auth.outcome = "missing", "refused: {problem}");
        record_auth_failure(state, who.source, who.request_id, problem).await;
        return Err(refused(match who.transport {
            Transport::Http => "a bearer token is required (Authorization: Bearer <jwt>)".into(),
            Transport::Websocket => {
                "connection_init needs {\"Authorization\": \"Bearer <jwt>\"}".into()
            }
        }));
    };
    let mut checked = state.keys.validate_until(token);
    if checked
        .as_ref()
        .is_err_and(|e| e == crate::auth::jwt::UNKNOWN_KEY)
    {
        // The issuer may have published a new key: its keys are fetched again (at most once per bound, however
        // many such tokens arrive) and the token checked once more.
        state.keys.refresh_for(token).await;
        checked = state.keys.validate_until(token);
    }
    match checked {
        Ok(valid) => Ok(valid),
        Err(reason) => {
            tracing::info!(request.id = %who.request_id, transport, auth.outcome = "invalid", auth.reason = %reason, "refused: invalid token");
            record_auth_failure(state, who.source, who.request_id, &reason).await;
            Err(refused(reason))
        }
    }
}

/// Records a refused token in the audit log, coalesced per source (`auth_failures`). The request is refused either
/// way; a failure to record is logged.
async fn record_auth_failure(
    state: &AppState,
    source: Option<std::net::IpAddr>,
    request_id: &str,
    problem: &str,
) {
    let decision = match source {
        Some(ip) => state.auth_failures.refused(ip, std::time::Instant::now()),
        None => auth_failures::Decision {
            record: true,
            ..Default::default()
        },
    };
    let now = state.services.now();
    let mut entries = vec![];
    if decision.record {
        entries.push(crate::service::audit::auth_failure(
            request_id, now, "graphql", problem,
        ));
    }
    for count in &decision.repeated {
        entries.push(auth_failures::repeated_entry(request_id, now, *count));
    }
    if !entries.is_empty() {
        if let Err(err) = state.services.audit(entries).await {
            tracing::error!(
                error.code = err.code(),
                "an authentication failure could not be recorded in the audit log"
            );
        }
    }
}

/// A request the gate let through, parsed when its text parses (a document that does not is left for async-graphql
/// to answer with its parse error).
pub struct Admitted {
    pub request: async_graphql::Request,
    /// The root field it selects first (`admission::label`): its name in logs, metrics and the audit log.
    pub label: String,
    /// The kinds of operation it would run: the one it names, or every one in the document when it names none.
    pub kinds: Vec<OperationType>,
    /// The parsed document as the cache keeps it (none for a text too large to keep, or one that does not parse).
    pub kept: Option<Arc<ExecutableDocument>>,
}

/// Every check of a request's document, before the parser's recursion and before async-graphql validates it.
pub fn admit(state: &AppState, mut request: async_graphql::Request) -> Result<Admitted, Refusal> {
    if request.query.trim().is_empty() {
        return Err(Refusal::bad_request(
            codes::BAD_REQUEST,
            "the request has no query",
        ));
    }
    // Before the parser, which recurses into value literals.
    if let Some(refused) = admission::document_too_deep(&request.query, state.max_nesting) {
        return Err(Refusal::bad_request(admission::DOCUMENT_TOO_DEEP, refused));
    }
    let kept = state.documents.prepare(&mut request);
    let selected = request.operation_name.clone();
    let mut label = String::from("other");
    let mut kinds = vec![];
    if let Ok(doc) = request.parsed_query() {
        label = admission::label(doc, selected.as_deref(), &state.document_limits.root_fields);
        if let Some((code, refused)) = admission::refuse_document(doc, &state.document_limits) {
            return Err(Refusal::bad_request(code, refused));
        }
        kinds = doc
            .operations
            .iter()
            .filter(|(name, _)| match (&selected, name) {
                (Some(want), Some(n)) => want.as_str() == n.as_str(),
                (Some(_), None) => false,
                (None, _) => true,
            })
            .map(|(_, op)| op.node.ty)
            .collect();
    }
    Ok(Admitted {
        request,
        label,
        kinds,
        kept,
    })
}
