//! HTTP routes: `/graphql` (POST and GET), the console (`/`, `/console/...`) and `/graphiql`,
//! `/open-data/statistics.{csv,json}` (public), `/healthz`, `/readyz`, `/metrics`. Every `/graphql` request
//! needs a valid bearer token; without one it gets 401 and no data. Each response carries `X-Request-Id`.

pub mod admission;
pub mod auth_failures;
mod console;
pub mod gate;
mod handler;
mod open_data;
mod probes;
pub mod ws;

use handler::graphql;
use probes::{healthz, metrics, readyz};

use crate::auth::jwt::JwtKeys;
use crate::graphql::OrderwatchSchema;
use crate::service::Services;
use actix_service::{IntoServiceFactory as _, ServiceFactoryExt as _};
use actix_web::dev::Service as _;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpMessage, HttpResponse};
use serde_json::json;
use std::net::TcpListener;

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
    /// Most websockets open at once (`ORDERWATCH_WS_MAX_SOCKETS`).
    pub ws_max_sockets: usize,
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
    /// Every open websocket, counted from its upgrade request and then a task of its own: the limit counts them,
    /// and a graceful stop waits for them to close before it stops the workers that run them.
    pub sockets: tokio_util::task::TaskTracker,
    /// Parsed documents kept for reuse, for requests over HTTP and websockets alike.
    pub documents: std::sync::Arc<crate::graphql::documents::DocumentCache>,
    /// Resolves each alert of an `alerts` subscription handed over by async-graphql (`graphql::delivery`).
    pub delivery: crate::graphql::delivery::DeliverySchema,
    /// `alerts` subscriptions handed over to the websocket transport since start-up (for `/metrics`).
    pub handed_over: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

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

pub(crate) fn client_request_id(headers: &header::HeaderMap) -> Option<String> {
    headers
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

/// The routes, for every connection a worker serves.
fn app(
    data: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(data)
        .wrap_fn(|req, srv| {
            let correlation = client_request_id(req.headers());
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
        // A websocket request never reaches these routes: the dispatcher hands it to `ws::upgrade`.
        .route("/graphql", web::post().to(graphql))
        .route("/graphql", web::get().to(graphql))
        .route("/", web::get().to(console::console))
        .route("/graphiql", web::get().to(console::graphiql))
        .route("/console/{file:.+}", web::get().to(console::asset))
        .route("/open-data/statistics.csv", web::get().to(open_data::csv))
        .route("/open-data/statistics.json", web::get().to(open_data::json))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
}

/// The HTTP server: actix-web's routes inside actix-http's service, which hands a request for a websocket to
/// `ws::upgrade` with its connection, so that a websocket holds none of the HTTP dispatcher's buffers
/// (docs/decisions/0014-websockets-leave-the-http-dispatcher.md). The settings are `HttpServer`'s defaults, except
/// the host and address that actix-web's `AppConfig` names (its defaults here): nothing here reads them.
pub fn server(
    listener: TcpListener,
    state: AppState,
    workers: usize,
) -> std::io::Result<actix_web::dev::Server> {
    let addr = listener.local_addr()?;
    let data = web::Data::new(state);
    let builder = actix_server::Server::build();
    let graceful = builder.graceful_shutdown_signal();
    let server = builder
        .workers(workers.max(1))
        // Signals are handled by startup::Application, which first tells websockets to close.
        .disable_signals()
        .shutdown_timeout(30)
        .listen("orderwatch", listener, move || {
            let state = data.clone().into_inner();
            let graceful = graceful.clone();
            let upgrade = actix_service::fn_service(move |(req, framed)| {
                ws::upgrade(state.clone(), req, framed)
            });
            let routes = app(data.clone())
                .into_factory()
                .map_err(|e: actix_web::Error| e.error_response());
            actix_http::HttpService::build()
                .graceful_shutdown_signal(move || {
                    let signal = graceful.clone();
                    async move { signal.notified().await }
                })
                .client_request_timeout(std::time::Duration::from_secs(5))
                .client_disconnect_timeout(std::time::Duration::from_secs(1))
                .h1_allow_half_closed(true)
                .local_addr(addr)
                // Nagle's algorithm held a websocket's second alert until the client's delayed ACK of the first
                // (docs/decisions/0004-tcp-nodelay-on-every-connection.md); every message here is written whole,
                // so nothing is gained by holding small segments back.
                .tcp_nodelay(true)
                .upgrade(upgrade)
                .finish(actix_service::map_config(routes, move |()| {
                    actix_web::dev::AppConfig::default()
                }))
                .tcp()
        })?
        .run();
    Ok(server)
}

pub(crate) fn error_body(status: StatusCode, code: &str, message: &str) -> HttpResponse {
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
