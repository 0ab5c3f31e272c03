//! HTTP routes: `/graphql` (POST and GET), `/graphiql`, `/healthz`, `/readyz`, `/metrics`. Every `/graphql` request
//! needs a valid bearer token; without one it gets 401 and no data. Each response carries `X-Request-Id`.

pub mod admission;
pub mod auth_failures;
pub mod ws;

use crate::auth::jwt::JwtKeys;
use crate::graphql::OrderwatchSchema;
use crate::service::Services;
use actix_web::dev::Service as _;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, App, HttpMessage, HttpRequest, HttpResponse, HttpServer};
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use serde_json::json;
use std::net::TcpListener;
use std::time::Instant;
use tracing::Instrument;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: OrderwatchSchema,
    pub keys: std::sync::Arc<JwtKeys>,
    pub services: Services,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a websocket may stay open without `connection_init`.
    pub ws_init_timeout: std::time::Duration,
    /// Most operations one websocket may have running at once.
    pub ws_max_operations: usize,
    /// What a parsed document is checked against before it is validated (aliases, expanded fields, variables).
    pub document_limits: admission::DocumentLimits,
    /// Deepest bracket nesting a document or its variables may have.
    pub max_nesting: usize,
    /// Longest a query may run (mutations always finish: abandoning one would leave its outcome unknown).
    pub query_timeout: std::time::Duration,
    /// Whether to serve the GraphiQL page (development only).
    pub graphiql: bool,
    /// Refused authentication per source, coalesced in the audit log.
    pub auth_failures: std::sync::Arc<auth_failures::AuthFailures>,
    /// Whether this is a production deployment.
    pub production: bool,
    /// The bearer token `/metrics` asks for (`ORDERWATCH_METRICS_TOKEN`).
    pub metrics_token: Option<crate::secret::Secret>,
    /// Becomes true when the server starts shutting down: websockets close with 1001.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Parsed documents kept for reuse, for requests over HTTP and websockets alike.
    pub documents: std::sync::Arc<crate::graphql::documents::DocumentCache>,
    /// Resolves each alert of an `alerts` subscription handed over by async-graphql (`graphql::delivery`).
    pub delivery: crate::graphql::delivery::DeliverySchema,
    /// `alerts` subscriptions handed over to the websocket transport since start-up (for `/metrics`).
    pub handed_over: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// The request id of a request: the caller's `X-Request-Id` when it is a sane token, otherwise a new UUID.
/// A request's ids: the server's own (`id`, in the audit log), and the one the client gave in `X-Request-Id`, if
/// it is a sane token (`correlation`, kept beside it and echoed in the response).
#[derive(Debug, Clone)]
pub struct RequestId {
    pub id: String,
    pub correlation: Option<String>,
}

pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Why the caller is making the request, recorded in the audit log (DPA 2018 s62).
pub const REASON_HEADER: &str = "x-orderwatch-reason";

fn client_request_id(req: &actix_web::dev::ServiceRequest) -> Option<String> {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_string)
}

pub fn server(
    listener: TcpListener,
    state: AppState,
    workers: usize,
) -> std::io::Result<actix_web::dev::Server> {
    let serve_graphiql = state.graphiql;
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap_fn(|req, srv| {
                let correlation = client_request_id(&req);
                let id = uuid::Uuid::new_v4().to_string();
                // The response carries the client's id when it gave one, so it can match the answer.
                let echoed = correlation.clone().unwrap_or_else(|| id.clone());
                req.extensions_mut().insert(RequestId { id, correlation });
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    if let Ok(v) = HeaderValue::from_str(&echoed) {
                        res.headers_mut()
                            .insert(header::HeaderName::from_static(REQUEST_ID_HEADER), v);
                    }
                    Ok(res)
                }
            })
            .route("/graphql", web::post().to(graphql))
            .route(
                "/graphql",
                web::get()
                    .guard(actix_web::guard::fn_guard(|ctx| {
                        ctx.head()
                            .headers()
                            .get(header::UPGRADE)
                            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
                    }))
                    .to(ws::websocket),
            )
            .route("/graphql", web::get().to(graphql))
            .configure(|cfg| {
                if serve_graphiql {
                    cfg.route("/graphiql", web::get().to(graphiql));
                }
            })
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(metrics))
    })
    .workers(workers.max(1))
    // Nagle's algorithm held a websocket's second alert until the client's delayed ACK of the first, up to 40 ms
    // (BENCHMARKS.md, "The second alert on a socket"); every message here is written whole, so nothing is gained by
    // holding small segments back.
    .tcp_nodelay(true)
    // Signals are handled by startup::Application, which first tells websockets to close.
    .disable_signals()
    .shutdown_timeout(30)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Records a refused token in the audit log, coalesced per source (`auth_failures`). The request is refused either
/// way; a failure to record is logged.
pub(crate) async fn record_auth_failure(
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

fn error_body(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    crate::metrics::global().error(code);
    let mut res = HttpResponse::build(status);
    if status == StatusCode::UNAUTHORIZED {
        res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
    }
    let category = match status {
        StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
        StatusCode::FORBIDDEN => "FORBIDDEN",
        s if s.is_server_error() => "UNAVAILABLE",
        _ => "VALIDATION",
    };
    res.json(json!({ "errors": [{ "message": message, "extensions": { "code": code, "category": category } }] }))
}

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
        if let Ok(params) =
            web::Query::<std::collections::HashMap<String, String>>::from_query(http.query_string())
        {
            for json in ["variables", "extensions"]
                .iter()
                .filter_map(|k| params.get(*k))
            {
                if let Some(refused) = admission::json_too_deep(json.as_bytes(), max_nesting, 1) {
                    return Err(too_deep(refused));
                }
            }
        }
        return async_graphql::http::parse_query_string(http.query_string()).map_err(|_| {
            error_body(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "GET needs ?query=... (and optional variables as JSON)",
            )
        });
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
            "UNSUPPORTED_MEDIA_TYPE",
            "send the request as Content-Type: application/json",
        ));
    }
    let bytes = match payload.to_bytes_limited(limit).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => {
            return Err(error_body(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "the request body could not be read",
            ))
        }
        Err(_) => {
            return Err(error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
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
            "BATCH_NOT_SUPPORTED",
            "send one operation per request; batches are not accepted",
        ));
    }
    let request = serde_json::from_slice::<async_graphql::Request>(&bytes).map_err(|_| {
        error_body(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "the body is not a GraphQL request: send one JSON object {\"query\": ..., \"variables\": ...}",
        )
    })?;
    Ok(request)
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
    let (status, body) = match (media, request_error) {
        (MediaType::GraphqlResponseJson, true) => (StatusCode::BAD_REQUEST, json!({ "errors": response.errors })),
        _ => (StatusCode::OK, serde_json::to_value(&response).unwrap_or_else(|_| json!({ "errors": [{ "message": "internal error", "extensions": { "code": "INTERNAL" } }] }))),
    };
    let content_type = match media {
        MediaType::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
        MediaType::Json => "application/json; charset=utf-8",
    };
    HttpResponse::build(status)
        .content_type(content_type)
        .body(body.to_string())
}

async fn graphql(
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
    let source = http.peer_addr().map(|a| a.ip());
    let principal = match bearer {
        None => {
            tracing::info!(request.id = %id, auth.outcome = "missing", "request refused: no bearer token");
            record_auth_failure(&state, source, &id, "no bearer token").await;
            return error_body(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "a bearer token is required (Authorization: Bearer <jwt>)",
            );
        }
        Some(token) => match state.keys.validate(token.trim()) {
            Ok(p) => p,
            Err(reason) => {
                tracing::info!(request.id = %id, auth.outcome = "invalid", auth.reason = %reason, "request refused: invalid token");
                record_auth_failure(&state, source, &id, &reason).await;
                return error_body(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", &reason);
            }
        },
    };
    let mut request =
        match read_request(&http, payload, state.max_body_bytes, state.max_nesting).await {
            Ok(r) => r,
            Err(response) => return response,
        };
    if request.query.trim().is_empty() {
        return error_body(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "the request has no query",
        );
    }
    // Before the parser, which recurses into value literals.
    if let Some(refused) = admission::document_too_deep(&request.query, state.max_nesting) {
        return error_body(
            StatusCode::BAD_REQUEST,
            admission::DOCUMENT_TOO_DEEP,
            &refused,
        );
    }
    // What the request would run: the operation it names, or every operation of the document when it names none.
    let selected_op = request.operation_name.clone();
    let mut kinds: Vec<OperationType> = vec![];
    let mut operation = String::from("other");
    state.documents.prepare(&mut request);
    if let Ok(doc) = request.parsed_query() {
        operation = admission::label(
            doc,
            selected_op.as_deref(),
            &state.document_limits.root_fields,
        );
        if let Some((code, refused)) = admission::refuse_document(doc, &state.document_limits) {
            return error_body(StatusCode::BAD_REQUEST, code, &refused);
        }
        kinds = doc
            .operations
            .iter()
            .filter(|(name, _)| match (&selected_op, name) {
                (Some(want), Some(n)) => want.as_str() == n.as_str(),
                (Some(_), None) => false,
                (None, _) => true,
            })
            .map(|(_, op)| op.node.ty)
            .collect();
    }
    let is_mutation = kinds.contains(&OperationType::Mutation);
    if http.method() == Method::GET && kinds.iter().any(|k| *k != OperationType::Query) {
        return error_body(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
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
    let withheld = crate::graphql::Withheld::default();
    request = request.data(caller.clone()).data(withheld.clone());
    // Kept to name a field in an error; small (the body is at most ORDERWATCH_MAX_BODY_BYTES).
    let variables = request.variables.clone();
    let execution = state.schema.execute(request).instrument(span.clone());
    let mut response = if is_mutation {
        execution.await
    } else {
        match tokio::time::timeout(state.query_timeout, execution).await {
            Ok(r) => r,
            Err(_) => {
                return error_body(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "QUERY_TIMEOUT",
                    &format!(
                        "the query ran longer than {} ms; ask for less",
                        state.query_timeout.as_millis()
                    ),
                )
            }
        }
    };
    if withheld
        .record(&state.services, &caller, &operation)
        .await
        .is_err()
    {
        return error_body(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "the audit record could not be written; retry",
        );
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
    let m = crate::metrics::global();
    m.request(&operation, started.elapsed().as_secs_f64());
    for e in &response.errors {
        if let Some(async_graphql::Value::String(code)) =
            e.extensions.as_ref().and_then(|x| x.get("code"))
        {
            m.error(code);
        }
    }
    span.in_scope(|| {
        tracing::info!(
            graphql.operation = %operation,
            graphql.errors = response.errors.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "graphql request"
        )
    });
    graphql_response(negotiate(&http), response)
}

async fn graphiql() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .title("orderwatch")
                .finish(),
        )
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the database answers and can take a write (an SQLite file on a full disk still answers reads), and
/// the audit log's append-only triggers are in place.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let db = &state.services.db;
    if !db.ping(std::time::Duration::from_secs(1)).await {
        HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "database": "down" }))
    } else if !db.writable(std::time::Duration::from_secs(1)).await {
        HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "database": "writes failing" }))
    } else if !state
        .services
        .audit_unprotected()
        .await
        .is_ok_and(|missing| missing.is_empty())
    {
        HttpResponse::ServiceUnavailable().json(
            json!({ "status": "unavailable", "database": "up", "audit": "append-only protection missing" }),
        )
    } else {
        HttpResponse::Ok().json(json!({ "status": "ready", "database": "up" }))
    }
}

/// The refusal of a `/metrics` read, if it is refused: with `ORDERWATCH_METRICS_TOKEN` set, only with that bearer token; without it,
/// by anyone in development and by no one in production.
fn metrics_allowed(state: &AppState, http: &HttpRequest) -> Option<HttpResponse> {
    let Some(expected) = &state.metrics_token else {
        return if state.production {
            Some(error_body(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "/metrics is closed in production unless ORDERWATCH_METRICS_TOKEN is set",
            ))
        } else {
            None
        };
    };
    let given = http
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compared as digests, so how long the comparison takes tells nothing of the token.
    use sha2::Digest;
    if sha2::Sha256::digest(given.as_bytes()) == sha2::Sha256::digest(expected.expose().as_bytes())
    {
        None
    } else {
        Some(error_body(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "/metrics needs the bearer token set in ORDERWATCH_METRICS_TOKEN",
        ))
    }
}

async fn metrics(state: web::Data<AppState>, http: HttpRequest) -> HttpResponse {
    if let Some(refused) = metrics_allowed(&state, &http) {
        return refused;
    }
    let (connections, idle) = state.services.db.pool_state();
    let body = crate::metrics::global().render(
        state.services.db.statements_sent(),
        state.services.db.pings_sent(),
        state.services.feed.subscribers(),
        (connections, idle),
        state.documents.counts(),
        (
            state.handed_over.load(std::sync::atomic::Ordering::Relaxed),
            state.services.delivery.failures(),
        ),
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}
