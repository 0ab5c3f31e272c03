//! `/graphql` over HTTP: the bearer token, the body, the admission checks, execution, and the response as the
//! client asked for it (GraphQL over HTTP).

use super::{admission, error_body, gate, AppState, RequestId, REASON_HEADER};
use crate::codes;
use actix_web::http::header;
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use async_graphql::parser::types::OperationType;
use serde_json::json;
use std::time::Instant;
use tracing::Instrument;

/// Reads the GraphQL request: from the query string for GET, from a JSON body of at most `limit` bytes for POST.
/// Read only after the caller is authenticated, so an anonymous client cannot make the server read a large body.
async fn read_request(
    http: &HttpRequest,
    payload: web::Payload,
    limit: usize,
    max_nesting: usize,
) -> Result<async_graphql::Request, HttpResponse> {
    let too_deep = |refused: String| {
        error_body(
            StatusCode::BAD_REQUEST,
            admission::DOCUMENT_TOO_DEEP,
            &refused,
        )
    };
    if http.method() == Method::GET {
        return read_query_string(http, max_nesting).map_err(refusal);
    }
    let json = http
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(error_body(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "send the request as Content-Type: application/json",
        ));
    }
    let bytes = match payload.to_bytes_limited(limit).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => {
            return Err(error_body(
                StatusCode::BAD_REQUEST,
                codes::BAD_REQUEST,
                "the request body could not be read",
            ))
        }
        Err(_) => {
            return Err(error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::PAYLOAD_TOO_LARGE,
                &format!("the request body is larger than {limit} bytes"),
            ))
        }
    };
    if let Some(refused) = admission::json_too_deep(&bytes, max_nesting, 2) {
        return Err(too_deep(refused));
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(error_body(
            StatusCode::BAD_REQUEST,
            codes::BATCH_NOT_SUPPORTED,
            "send one operation per request; batches are not accepted",
        ));
    }
    let request = serde_json::from_slice::<async_graphql::Request>(&bytes).map_err(|_| {
        error_body(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            "the body is not a GraphQL request: send one JSON object {\"query\": ..., \"variables\": ...}",
        )
    })?;
    Ok(request)
}

/// A GET request's query string: `query`, and `variables` and `extensions` as JSON (checked for nesting first).
fn read_query_string(
    http: &HttpRequest,
    max_nesting: usize,
) -> Result<async_graphql::Request, gate::Refusal> {
    if let Ok(params) =
        web::Query::<std::collections::HashMap<String, String>>::from_query(http.query_string())
    {
        for json in ["variables", "extensions"]
            .iter()
            .filter_map(|k| params.get(*k))
        {
            if let Some(refused) = admission::json_too_deep(json.as_bytes(), max_nesting, 1) {
                return Err(gate::Refusal {
                    status: StatusCode::BAD_REQUEST,
                    code: admission::DOCUMENT_TOO_DEEP,
                    message: refused,
                });
            }
        }
    }
    async_graphql::http::parse_query_string(http.query_string()).map_err(|_| gate::Refusal {
        status: StatusCode::BAD_REQUEST,
        code: codes::BAD_REQUEST,
        message: "GET needs ?query=... (and optional variables as JSON)".into(),
    })
}

/// The media type a GraphQL response is sent as (GraphQL over HTTP, "Accept"): the newer
/// `application/graphql-response+json` when the client accepts it, otherwise `application/json` (also when the
/// client sends no Accept header or `*/*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    GraphqlResponseJson,
    Json,
}

fn negotiate(http: &HttpRequest) -> MediaType {
    let accept = http
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let accepts = |wanted: &str| {
        accept.split(',').any(|part| {
            let mut bits = part.split(';').map(str::trim);
            let media = bits.next().unwrap_or("");
            let refused = bits.any(|p| p.replace(' ', "") == "q=0");
            media.eq_ignore_ascii_case(wanted) && !refused
        })
    };
    if accepts("application/graphql-response+json") {
        MediaType::GraphqlResponseJson
    } else {
        MediaType::Json
    }
}

/// Writes a GraphQL response. A request that failed before it could run (a document that does not parse or
/// validate, variables that do not fit) is a 400 without `data` when the client speaks
/// `application/graphql-response+json`; with `application/json` every well-formed request gets 200.
fn graphql_response(media: MediaType, response: async_graphql::Response) -> HttpResponse {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    // Written straight to bytes: no JSON tree of the answer in between.
    let written = match (media, request_error) {
        (MediaType::GraphqlResponseJson, true) => (
            StatusCode::BAD_REQUEST,
            serde_json::to_vec(&json!({ "errors": response.errors })),
        ),
        _ => (StatusCode::OK, serde_json::to_vec(&response)),
    };
    let (status, body) = match written {
        (status, Ok(body)) => (status, body),
        (_, Err(_)) => (StatusCode::OK, json!({ "errors": [{ "message": "internal error", "extensions": { "code": codes::INTERNAL } }] }).to_string().into_bytes()),
    };
    let content_type = match media {
        MediaType::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
        MediaType::Json => "application/json; charset=utf-8",
    };
    HttpResponse::build(status)
        .content_type(content_type)
        .body(body)
}

/// `/graphql` over HTTP: through the gate (token, then document), then executed and answered.
pub(super) async fn graphql(
    state: web::Data<AppState>,
    http: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let started = Instant::now();
    let (id, correlation) = http
        .extensions()
        .get::<RequestId>()
        .map(|r| (r.id.clone(), r.correlation.clone()))
        .unwrap_or_default();
    let bearer = http
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let who = gate::Credentials {
        token: bearer,
        source: http.peer_addr().map(|a| a.ip()),
        request_id: &id,
        transport: gate::Transport::Http,
    };
    let principal = match gate::authenticate(&state, who).await {
        Ok((principal, _)) => principal,
        Err(refused) => return refusal(refused),
    };
    let request = match read_request(&http, payload, state.max_body_bytes, state.max_nesting).await
    {
        Ok(r) => r,
        Err(response) => return response,
    };
    let admitted = match gate::admit(&state, request) {
        Ok(admitted) => admitted,
        Err(refused) => return refusal(refused),
    };
    if http.method() == Method::GET && admitted.kinds.iter().any(|k| *k != OperationType::Query) {
        return error_body(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::METHOD_NOT_ALLOWED,
            "mutations must be sent with POST",
        );
    }
    let span = tracing::info_span!("graphql", request.id = %id, principal.role = principal.role.as_str(), principal.agency = %principal.agency);
    let reason = http
        .headers()
        .get(REASON_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let caller =
        crate::auth::Caller::new(principal, id.clone(), reason).with_correlation(correlation);
    let label = admitted.label.clone();
    let response = match execute(&state, admitted, caller)
        .instrument(span.clone())
        .await
    {
        Ok(response) => response,
        Err(refused) => return refusal(refused),
    };
    let m = crate::metrics::global();
    m.request(&label, started.elapsed().as_secs_f64());
    for e in &response.errors {
        if let Some(async_graphql::Value::String(code)) =
            e.extensions.as_ref().and_then(|x| x.get("code"))
        {
            m.error(code);
        }
    }
    span.in_scope(|| {
        tracing::info!(
            graphql.operation = %label,
            graphql.errors = response.errors.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "graphql request"
        )
    });
    graphql_response(negotiate(&http), response)
}

fn refusal(refused: gate::Refusal) -> HttpResponse {
    error_body(refused.status, refused.code, &refused.message)
}

/// Runs an admitted request as `caller` (a query within `ORDERWATCH_QUERY_TIMEOUT_MS`; a mutation always to its
/// end), records what it withheld, and gives every error async-graphql raised a code of ours.
async fn execute(
    state: &AppState,
    admitted: gate::Admitted,
    caller: crate::auth::Caller,
) -> Result<async_graphql::Response, gate::Refusal> {
    let withheld = crate::graphql::Withheld::default();
    let request = admitted.request.data(caller.clone()).data(withheld.clone());
    // Kept to name a field in an error; small (the body is at most ORDERWATCH_MAX_BODY_BYTES).
    let variables = request.variables.clone();
    let execution = state.schema.execute(request);
    let mut response = if admitted.kinds.contains(&OperationType::Mutation) {
        execution.await
    } else {
        tokio::time::timeout(state.query_timeout, execution)
            .await
            .map_err(|_| gate::Refusal {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: codes::QUERY_TIMEOUT,
                message: format!(
                    "the query ran longer than {} ms; ask for less",
                    state.query_timeout.as_millis()
                ),
            })?
    };
    if withheld
        .record(&state.services, &caller, &admitted.label)
        .await
        .is_err()
    {
        return Err(gate::Refusal {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: codes::UNAVAILABLE,
            message: "the audit record could not be written; retry".into(),
        });
    }
    for e in &mut response.errors {
        let ext = e.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            let code = admission::code_of_unmapped(&e.message);
            ext.set("code", code);
            ext.set("category", "VALIDATION");
            // async-graphql's parse error names the input type, not the field: name the variable's field.
            if code == admission::DATE_OUT_OF_RANGE {
                if let Some(at) = crate::graphql::scalars::misplaced_date(&variables) {
                    e.message = format!("{at}: {}", crate::graphql::scalars::OUT_OF_RANGE);
                }
            }
        }
    }
    Ok(response)
}
