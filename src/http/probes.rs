//! The probes beside `/graphql`: health, readiness and metrics.

use super::{error_body, AppState};
use crate::codes;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

pub(super) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the database answers and can take a write (an SQLite file on a full disk still answers reads), and
/// the audit log's append-only triggers are in place.
pub(super) async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    use crate::service::DatabaseHealth;
    // A graceful stop has begun: no new work should be sent here while the open sockets close.
    if *state.shutdown.borrow() {
        return HttpResponse::ServiceUnavailable().json(json!({ "status": "stopping" }));
    }
    let health = state
        .services
        .database_health(std::time::Duration::from_secs(1))
        .await;
    if health == DatabaseHealth::Down {
        HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "database": "down" }))
    } else if health == DatabaseHealth::WritesFailing {
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
                codes::FORBIDDEN,
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
            codes::UNAUTHENTICATED,
            "/metrics needs the bearer token set in ORDERWATCH_METRICS_TOKEN",
        ))
    }
}

pub(super) async fn metrics(state: web::Data<AppState>, http: HttpRequest) -> HttpResponse {
    if let Some(refused) = metrics_allowed(&state, &http) {
        return refused;
    }
    let db = state.services.database_counters();
    let body = crate::metrics::global().render(
        db.statements,
        db.pings,
        state.services.feed.subscribers(),
        (db.connections, db.idle),
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
