//! The web console at `/` and GraphiQL at `/graphiql`, with their files under `/console/`: all embedded in the binary
//! from `console/dist` (built by `console/build.mjs` from npm packages pinned in `console/package-lock.json`), so the
//! browser loads nothing from anywhere else. Every page is sent with a Content Security Policy that allows only this
//! origin, which also keeps any text from the record from running as script.

use super::AppState;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};

#[derive(rust_embed::Embed)]
#[folder = "console/dist/"]
struct Assets;

/// What the pages may load: their own scripts, styles, images and fonts (GraphiQL's are inlined as `data:`), and
/// requests and websockets to this origin only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

/// GraphiQL's editor sets styles from script as `style` attributes, which a policy can only allow as a whole.
const GRAPHIQL_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                            img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
                            form-action 'self'; frame-ancestors 'none'";

fn page(file: &str, csp: &'static str) -> HttpResponse {
    match Assets::get(file) {
        Some(f) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_SECURITY_POLICY, csp))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(f.data.into_owned()),
        None => HttpResponse::NotFound().finish(),
    }
}

/// `GET /`: the console, in every environment.
pub(super) async fn console() -> HttpResponse {
    page("console.html", CSP)
}

/// `GET /graphiql`, when `ORDERWATCH_GRAPHIQL` allows it.
pub(super) async fn graphiql(state: web::Data<AppState>) -> HttpResponse {
    if !state.graphiql {
        return HttpResponse::NotFound().finish();
    }
    page("graphiql.html", GRAPHIQL_CSP)
}

/// `GET /console/{file}`: a file of the pages, revalidated by its hash (`ETag`) on each use.
pub(super) async fn asset(req: HttpRequest, file: web::Path<String>) -> HttpResponse {
    let name = file.into_inner();
    // The pages themselves are served at their own paths, with their policy.
    let Some(f) = Assets::get(&name).filter(|_| !name.ends_with(".html")) else {
        return HttpResponse::NotFound().finish();
    };
    let etag = format!(
        "\"{}\"",
        f.metadata
            .sha256_hash()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP));
    if fresh {
        return res.finish();
    }
    let mime = f.metadata.mimetype();
    let content_type = if mime.starts_with("text/") || mime.ends_with("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    res.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    ))
    .body(f.data.into_owned())
}
