//! The open data: `GET /open-data/statistics.csv` and `/open-data/statistics.json`, with `from` and `to` (days,
//! `YYYY-MM-DD`; the current calendar year by default). No token: the release holds counts per force and quarter
//! under disclosure control and nothing else (docs/open-data.md). Each read is recorded in the audit log.

use super::{error_body, AppState, RequestId};
use crate::codes;
use crate::domain::statistics::{open_data, Period};
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};

#[derive(serde::Deserialize)]
pub(super) struct Asked {
    from: Option<String>,
    to: Option<String>,
}

/// The period asked for, or the field that is not a day.
fn period(state: &AppState, asked: &Asked) -> Result<Period, &'static str> {
    let today = crate::domain::calendar::london_date(state.services.now());
    let day = |field: &'static str, value: &Option<String>, default: NaiveDate| match value {
        None => Ok(default),
        Some(v) => v.parse::<NaiveDate>().map_err(|_| field),
    };
    let first = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    Ok(Period {
        from: day("from", &asked.from, first)?,
        to: day("to", &asked.to, today)?,
    })
}

async fn release(
    state: &AppState,
    http: &HttpRequest,
    asked: &Asked,
) -> Result<Vec<open_data::Published>, HttpResponse> {
    // Anyone may ask, so no more than one release is computed at once; the others are told to come back.
    let Ok(_computing) = state.services.open_release.clone().try_acquire_owned() else {
        return Err(HttpResponse::ServiceUnavailable()
            .insert_header((actix_web::http::header::RETRY_AFTER, "10"))
            .json(serde_json::json!({ "errors": [{
                "message": "another open-data release is being computed; retry in a few seconds",
                "extensions": { "code": codes::UNAVAILABLE, "category": "UNAVAILABLE" } }] })));
    };
    let period = period(state, asked).map_err(|field| {
        error_body(
            StatusCode::BAD_REQUEST,
            codes::INVALID_PERIOD,
            &format!("{field} is not a day (YYYY-MM-DD)"),
        )
    })?;
    let id = http
        .extensions()
        .get::<RequestId>()
        .map(|r| r.id.clone())
        .unwrap_or_default();
    state
        .services
        .open_statistics(period, &id)
        .await
        .map_err(|e| {
            let status = match e.category() {
                "VALIDATION" => StatusCode::BAD_REQUEST,
                _ => {
                    tracing::error!(error.code = e.code(), error.cause = ?e, "open data not answered");
                    StatusCode::SERVICE_UNAVAILABLE
                }
            };
            // The message of an internal error says only "internal error" (`AppError`'s Display).
            error_body(status, e.code(), &e.to_string())
        })
}

pub(super) async fn csv(
    state: web::Data<AppState>,
    http: HttpRequest,
    asked: web::Query<Asked>,
) -> HttpResponse {
    match release(&state, &http, &asked).await {
        Ok(published) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(open_data::to_csv(&published)),
        Err(refused) => refused,
    }
}

pub(super) async fn json(
    state: web::Data<AppState>,
    http: HttpRequest,
    asked: web::Query<Asked>,
) -> HttpResponse {
    match release(&state, &http, &asked).await {
        Ok(published) => HttpResponse::Ok().json(open_data::to_json(&published)),
        Err(refused) => refused,
    }
}
