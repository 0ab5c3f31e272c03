//! What the benches share: arguments, percentiles, and a fresh database for each run.
#![allow(dead_code)] // each bench uses a different part

use diesel::prelude::*;
use serde_json::{json, Value};

/// The value after `--name` on the command line.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// A comma-separated list after `--name`, or the default.
pub fn list<T: std::str::FromStr>(name: &str, default: &str) -> Vec<T> {
    arg(name)
        .unwrap_or_else(|| default.into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .unwrap_or_else(|_| panic!("{name} takes a comma-separated list"))
        })
        .collect()
}

/// The value at fraction `p` of sorted samples (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A database made for one run: a new PostgreSQL database (dropped afterwards) when `BENCH_DATABASE_URL` names a
/// PostgreSQL server, otherwise an SQLite file in a temporary directory.
pub struct BenchDb {
    pub url: String,
    drop: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl BenchDb {
    pub fn create() -> BenchDb {
        match std::env::var("BENCH_DATABASE_URL") {
            Ok(admin) if admin.starts_with("postgres") => {
                let name = format!("ow_bench_{}", uuid::Uuid::new_v4().simple());
                orderwatch::db::before_libpq();
                let mut c = PgConnection::establish(&admin).expect("connect to BENCH_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut c)
                    .expect("create the bench database");
                // Connection options (`?sslmode=disable`, say) carry over to the bench database.
                let (path, options) = admin.split_once('?').unwrap_or((&admin, ""));
                let base = path.rsplit_once('/').unwrap().0;
                let options = if options.is_empty() {
                    String::new()
                } else {
                    format!("?{options}")
                };
                BenchDb {
                    url: format!("{base}/{name}{options}"),
                    drop: Some((admin.clone(), name)),
                    _dir: None,
                }
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                BenchDb {
                    url: format!("sqlite://{}", dir.path().join("bench.db").display()),
                    drop: None,
                    _dir: Some(dir),
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.drop.is_some()
    }

    /// The backend's name as the server gives it ("SQLite", "PostgreSQL"), for report lines.
    pub fn backend_name(&self) -> &'static str {
        orderwatch::db::DbTarget::parse(&self.url)
            .expect("a bench database URL")
            .backend
            .name()
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.drop {
            if let Ok(mut c) = PgConnection::establish(admin) {
                let _ =
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut c);
            }
        }
    }
}

/// Sends a GraphQL document over HTTP and returns its `data`; any error fails the bench.
pub async fn gql(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    let r: Value = client
        .post(format!("{url}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

/// A graphql-transport-ws client socket to `{url}/graphql`, initialised with `token` (its `connection_ack`
/// read), as the benches' subscribers open it.
///
/// tungstenite's default read buffer is 128 KiB and is zero-filled up to that size on each read: in a profile of
/// `alert_latency` with 1,000 subscribers that memset was 17% of all CPU, the clients' cost charged to the server's
/// latency on shared cores. Alert messages are a few hundred bytes, so the clients read 4 KiB at a time.
pub async fn ws_client(
    url: &str,
    token: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("{}/graphql", url.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let config =
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(config), false)
        .await
        .unwrap_or_else(|e| panic!("websocket to {url}: {e}"));
    let init = json!({ "type": "connection_init", "payload": { "token": token } });
    ws.send(init.to_string().into()).await.unwrap();
    let _ack = ws.next().await;
    ws
}
