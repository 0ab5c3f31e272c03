//! Breach-to-webhook latency with N endpoints, and how fast a backlog drains after the receiving systems were down.
//!
//! `cargo bench --bench webhook_delivery -- [--endpoints 100] [--breaches 50] [--backlog 100]`
//!
//! The server runs in this process with a webhook receiver (actix-web, 2 workers) on 127.0.0.1, sharing the machine's
//! cores. The endpoints belong to five advocacy services (20 each, the most an agency may have), all sent the same
//! order's alerts. Latency: breaches are reported one at a time, and the time from the `reportBreach` response until
//! each endpoint's receiver has the alert is recorded. Outage: the receivers answer 503 while `--backlog` breaches
//! are reported (each endpoint holds the first and retries it), then 200; the drain is timed from then until every
//! endpoint has every alert. `BENCH_DATABASE_URL=postgres://...` for PostgreSQL; SQLite otherwise.

#[path = "common/mod.rs"]
mod common;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use chrono::{Duration, Utc};
use common::{arg, gql, percentile, BenchDb};
use orderwatch::auth::jwt::JwtKeys;
use orderwatch::auth::{Principal, Role};
use orderwatch::config::Settings;
use orderwatch::service::SystemClock;
use orderwatch::startup::Application;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

const SECRET: &str = "bench-secret-of-at-least-thirty-two-bytes";
const AGENCIES: usize = 5;

/// What the receiver got: per alert id, when each endpoint (by path) first took it.
#[derive(Default)]
struct Taken {
    at: Mutex<HashMap<String, HashMap<String, Instant>>>,
    answer: AtomicU16,
}

async fn receive(req: HttpRequest, body: web::Bytes, taken: web::Data<Arc<Taken>>) -> HttpResponse {
    let status = taken.answer.load(Ordering::Relaxed);
    if status == 200 {
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let alert = v["data"]["alertId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        taken
            .at
            .lock()
            .unwrap()
            .entry(alert)
            .or_default()
            .entry(req.path().to_string())
            .or_insert_with(Instant::now);
    }
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

/// Longer than 80 lines: setting up agencies, the order, its shares and the endpoints is one straight sequence
/// before the two measurements.
async fn run(endpoints: usize, breaches: usize, backlog: usize) {
    let db = BenchDb::create();
    let mut settings = Settings::for_database(&db.url);
    settings.listen = "127.0.0.1:0".into();
    settings.jwt_secret = Some(SECRET.into());
    settings.check_interval = 0;
    // The outage's retries: the drain starts within a second of the receivers coming back.
    settings.endpoints.webhook_retry_first_ms = 100;
    settings.endpoints.webhook_retry_max_ms = 1_000;
    let app = Application::build(&settings, Arc::new(SystemClock))
        .await
        .unwrap();
    let url = format!("http://{}", app.addr());
    let backend = app.database().backend.name();
    tokio::spawn(app.run_until_stopped());

    let taken = Arc::new(Taken::default());
    taken.answer.store(200, Ordering::Relaxed);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let receiver = format!("http://{}", listener.local_addr().unwrap());
    let data = web::Data::new(taken.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::post().to(receive))
    })
    .workers(2)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);

    let keys = JwtKeys::hs256(SECRET.as_bytes(), "orderwatch", "orderwatch").unwrap();
    let token = |role, agency: &str| {
        let who = Principal {
            sub: "bench".into(),
            role,
            agency: agency.into(),
            supervisor: false,
        };
        keys.mint(&who, Utc::now(), Duration::hours(2)).unwrap()
    };
    let client = reqwest::Client::new();
    let admin = token(Role::Admin, "OPS");
    let create = "mutation($i: CreateAgencyInput!) { createAgency(input: $i) { code } }";
    let advocates: Vec<String> = (1..=AGENCIES).map(|i| format!("ADV-{i}")).collect();
    for (code, kind) in [("MET", "POLICE_FORCE"), ("WMC", "COURT")]
        .into_iter()
        .chain(advocates.iter().map(|a| (a.as_str(), "ADVOCACY_SERVICE")))
    {
        gql(
            &client,
            &url,
            &admin,
            create,
            json!({ "i": { "code": code, "name": code, "kind": kind } }),
        )
        .await;
    }
    let today = Utc::now().date_naive();
    let granted = gql(&client, &url, &token(Role::Court, "WMC"),
        "mutation($i: GrantOrderInput!) { grantOrder(input: $i) { protectedPersons { id } } }",
        json!({ "i": { "reference": "WMC/BENCH/1", "type": "SPO", "applicantAgency": "MET",
            "subject": { "names": ["Bench Subject"] }, "protectedPersons": [{ "name": "Bench Person" }],
            "madeOn": today.to_string(), "expiresOn": null } })).await;
    let person = granted["grantOrder"]["protectedPersons"][0]["id"].clone();
    let police = token(Role::Police, "MET");
    for adv in &advocates {
        gql(&client, &url, &police,
            "mutation($p: ID!, $a: String!) { shareOrderWithAdvocacy(reference: \"WMC/BENCH/1\", protectedPersonId: $p, advocacyAgency: $a) { id } }",
            json!({ "p": person, "a": adv })).await;
    }
    for i in 0..endpoints {
        gql(&client, &url, &admin,
            "mutation($i: RegisterAlertEndpointInput!) { registerAlertEndpoint(input: $i) { secret } }",
            json!({ "i": { "agency": advocates[i % AGENCIES], "transport": "WEBHOOK",
                "target": format!("{receiver}/e/{i}"), "kinds": ["BREACH_REPORTED"] } })).await;
    }
    let report = |n: String| {
        let (client, url, police) = (client.clone(), url.clone(), police.clone());
        async move {
            gql(
                &client,
                &url,
                &police,
                "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }",
                json!({ "i": { "reference": "WMC/BENCH/1", "occurredAt": Utc::now().to_rfc3339(),
                    "description": "bench", "externalRef": n } }),
            )
            .await
        }
    };
    let count =
        |taken: &Taken| -> usize { taken.at.lock().unwrap().values().map(HashMap::len).sum() };

    // Warm-up: every endpoint claimed and delivering.
    report("WARM".into()).await;
    while count(&taken) < endpoints {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    let mut latencies = vec![];
    let mut seen: HashSet<String> = taken.at.lock().unwrap().keys().cloned().collect();
    for i in 0..breaches {
        let before = count(&taken);
        report(format!("B-{i}")).await;
        let answered = Instant::now();
        while count(&taken) < before + endpoints {
            tokio::time::sleep(std::time::Duration::from_micros(200)).await;
        }
        let at = taken.at.lock().unwrap();
        for (alert, times) in at.iter() {
            if seen.insert(alert.clone()) {
                // A delivery may land before the response does: counted as 0.
                latencies.extend(
                    times
                        .values()
                        .map(|t| t.saturating_duration_since(answered).as_secs_f64() * 1000.0),
                );
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "{backend:10} endpoints={endpoints:<4} breaches={breaches:<4} deliveries={:<6} | breach-to-webhook after the response: p50 {:6.2} ms p99 {:6.2} ms max {:6.2} ms",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
    );

    // The outage: receivers down while the backlog builds, then back.
    taken.answer.store(503, Ordering::Relaxed);
    let before = count(&taken);
    for i in 0..backlog {
        report(format!("O-{i}")).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    taken.answer.store(200, Ordering::Relaxed);
    let back = Instant::now();
    let expected = before + backlog * endpoints;
    while count(&taken) < expected {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let drained = back.elapsed().as_secs_f64();
    println!(
        "{backend:10} endpoints={endpoints:<4} backlog={backlog:<4} deliveries={:<6} | drained in {drained:.2} s after the receivers came back: {:.0} deliveries/s",
        backlog * endpoints,
        (backlog * endpoints) as f64 / drained,
    );
}

fn main() {
    let number = |name: &str, default: usize| -> usize {
        arg(name)
            .map(|s| s.parse().expect("a number"))
            .unwrap_or(default)
    };
    let (endpoints, breaches, backlog) = (
        number("--endpoints", 100),
        number("--breaches", 50),
        number("--backlog", 100),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(endpoints, breaches, backlog));
}
