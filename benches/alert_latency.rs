//! Breach-to-alert latency: N advocates subscribed over websockets, breaches reported one at a time over HTTP,
//! the time until each subscriber holds the alert.
//!
//! `cargo bench --bench alert_latency -- [--subscribers 1,100,1000] [--breaches 100] [--fields "breachId"]`
//!
//! `--fields` is the selection each subscriber asks for on the alert (default `breachId`); e.g.
//! `"breachId kind acknowledgedAt"` makes each delivery read the subscriber's agency's acknowledgement too.
//! with `BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres` for PostgreSQL (a fresh database is
//! created and dropped); SQLite (a temp file) otherwise. The server runs in this process on 127.0.0.1 and shares
//! the machine's cores with the clients; see BENCHMARKS.md.

#[path = "common/mod.rs"]
mod common;

use chrono::{Duration, Utc};
use common::{arg, gql, percentile, BenchDb};
use futures_util::{SinkExt, StreamExt};
use orderwatch::auth::jwt::JwtKeys;
use orderwatch::auth::{Principal, Role};
use orderwatch::config::Settings;
use orderwatch::service::SystemClock;
use orderwatch::startup::Application;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "bench-secret-of-at-least-thirty-two-bytes";

async fn run(subscribers: usize, breaches: usize) {
    let db = BenchDb::create();
    let mut settings = Settings::for_database(&db.url);
    settings.listen = "127.0.0.1:0".into();
    settings.jwt_secret = Some(SECRET.into());
    let app = Application::build(&settings, Arc::new(SystemClock))
        .await
        .unwrap();
    let url = format!("http://{}", app.addr());
    let backend = app.database().backend.name();
    tokio::spawn(app.run_until_stopped());

    let keys = JwtKeys::hs256(SECRET.as_bytes(), "orderwatch", "orderwatch").unwrap();
    let token = |role, agency: &str| {
        keys.mint(
            &Principal {
                sub: "bench".into(),
                role,
                agency: agency.into(),
                supervisor: false,
            },
            Utc::now(),
            Duration::hours(2),
        )
        .unwrap()
    };
    let client = reqwest::Client::new();
    let admin = token(Role::Admin, "OPS");
    for (code, kind) in [
        ("MET", "POLICE_FORCE"),
        ("WMC", "COURT"),
        ("ADV-A", "ADVOCACY_SERVICE"),
    ] {
        gql(
            &client,
            &url,
            &admin,
            "mutation($i: CreateAgencyInput!) { createAgency(input: $i) { code } }",
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
    gql(&client, &url, &police,
        "mutation($p: ID!) { shareOrderWithAdvocacy(reference: \"WMC/BENCH/1\", protectedPersonId: $p, advocacyAgency: \"ADV-A\") { id } }",
        json!({ "p": person })).await;

    // Subscribers: each records when it received each breach's alert.
    let received: Arc<Mutex<HashMap<String, Vec<Instant>>>> = Arc::new(Mutex::new(HashMap::new()));
    let advocate = token(Role::Advocate, "ADV-A");
    let mut ready = vec![];
    let fields = arg("--fields").unwrap_or_else(|| "breachId".into());
    let selection = format!("subscription($a: String) {{ alerts(after: $a) {{ {fields} }} }}");
    for _ in 0..subscribers {
        let mut ws = common::ws_client(&url, &advocate).await;
        let cursor = orderwatch::service::page::encode_cursor("alert", "0");
        ws.send(Message::Text(
            json!({ "id": "a", "type": "subscribe", "payload": {
            "query": selection, "variables": { "a": cursor } } })
            .to_string()
            .into(),
        ))
        .await
        .unwrap();
        let received = received.clone();
        ready.push(tokio::spawn(async move {
            let mut count = 0;
            while let Some(Ok(Message::Text(t))) = ws.next().await {
                let v: Value = serde_json::from_str(&t).unwrap();
                if let Some(id) = v["payload"]["data"]["alerts"]["breachId"].as_str() {
                    received
                        .lock()
                        .unwrap()
                        .entry(id.to_string())
                        .or_default()
                        .push(Instant::now());
                    count += 1;
                    if count == breaches + 1 {
                        break;
                    }
                }
            }
        }));
    }

    // A first breach all subscribers must see before timing starts (they are then live, not replaying).
    let report = "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }";
    let warm = gql(
        &client,
        &url,
        &police,
        report,
        json!({ "i": { "reference": "WMC/BENCH/1", "occurredAt": Utc::now().to_rfc3339(),
        "description": "warm-up", "externalRef": "WARM" } }),
    )
    .await["reportBreach"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    while received.lock().unwrap().get(&warm).map_or(0, |v| v.len()) < subscribers {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    let mut sent: Vec<(String, Instant, Instant)> = vec![];
    for i in 0..breaches {
        let t0 = Instant::now();
        let r = gql(
            &client,
            &url,
            &police,
            report,
            json!({ "i": { "reference": "WMC/BENCH/1", "occurredAt": Utc::now().to_rfc3339(),
            "description": "bench", "externalRef": format!("B-{i}") } }),
        )
        .await;
        let t1 = Instant::now();
        let id = r["reportBreach"]["id"].as_str().unwrap().to_string();
        // Wait until every subscriber has it, so breaches do not overlap.
        while received.lock().unwrap().get(&id).map_or(0, |v| v.len()) < subscribers {
            tokio::time::sleep(std::time::Duration::from_micros(200)).await;
        }
        sent.push((id, t0, t1));
    }
    for h in ready {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), h).await;
    }
    let got = received.lock().unwrap();
    let (mut from_send, mut from_commit) = (vec![], vec![]);
    for (id, t0, t1) in &sent {
        for at in &got[id] {
            from_send.push(at.duration_since(*t0).as_secs_f64() * 1000.0);
            from_commit.push(at.saturating_duration_since(*t1).as_secs_f64() * 1000.0);
        }
    }
    from_send.sort_by(f64::total_cmp);
    from_commit.sort_by(f64::total_cmp);
    println!(
        "{backend:10} subscribers={subscribers:<5} breaches={breaches:<4} deliveries={:<6} | after response: p50 {:6.2} ms p99 {:6.2} ms max {:6.2} ms | after request sent: p50 {:6.2} ms p99 {:6.2} ms",
        from_commit.len(),
        percentile(&from_commit, 0.5),
        percentile(&from_commit, 0.99),
        from_commit.last().copied().unwrap_or(f64::NAN),
        percentile(&from_send, 0.5),
        percentile(&from_send, 0.99),
    );
}

fn main() {
    let subscribers: Vec<usize> = arg("--subscribers")
        .unwrap_or_else(|| "1,100".into())
        .split(',')
        .map(|s| s.trim().parse().expect("--subscribers takes numbers"))
        .collect();
    let breaches: usize = arg("--breaches")
        .map(|s| s.parse().expect("--breaches takes a number"))
        .unwrap_or(100);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for n in subscribers {
        rt.block_on(run(n, breaches));
    }
}
