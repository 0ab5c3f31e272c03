//! Faults: concurrent writers, and a server killed outright; nothing acknowledged is lost, nothing doubles.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};
use std::io::BufRead;
use std::process::{Command, Stdio};

const REPORT: &str = "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }";

#[tokio::test]
async fn thirty_two_concurrent_writers_all_succeed_with_no_locking_error() {
    let app = TestApp::spawn_with(|s| s.workers = Some(4))
        .await
        .with_agencies()
        .await;
    let r = app
        .grant(&app.token(Role::Court, "WMC"), spo_input(&app, "W/1"))
        .await;
    r.ok();
    let met = app.token(Role::Police, "MET");
    let at = app.now().to_rfc3339();
    let writers = (0..32).map(|i| {
        let (app, met, at) = (&app, met.clone(), at.clone());
        async move {
            let input = json!({ "reference": "W/1", "occurredAt": at, "description": "d", "externalRef": format!("C-{i}") });
            // Half of them are retried at once, as a client timing out would.
            let first = app.gql(&met, REPORT, json!({ "i": input.clone() })).await;
            let second = if i % 2 == 0 { Some(app.gql(&met, REPORT, json!({ "i": input })).await) } else { None };
            (first, second)
        }
    });
    let results = futures_util::future::join_all(writers).await;
    let mut ids = std::collections::HashSet::new();
    for (first, second) in &results {
        let id = first.ok()["reportBreach"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        if let Some(second) = second {
            assert_eq!(
                second.ok()["reportBreach"]["id"],
                id.as_str(),
                "a retry returns the same breach"
            );
        }
        ids.insert(id);
    }
    assert_eq!(ids.len(), 32, "32 breaches, none doubled");
    let alerts = app
        .gql(
            &met,
            "{ alerts(first: 100) { edges { node { kind } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        alerts.ok()["alerts"]["edges"].as_array().unwrap().len(),
        32,
        "one alert each"
    );
}

/// The real binary on a database, printing where it serves.
struct Server {
    child: std::process::Child,
    url: String,
}

impl Server {
    fn start(database_url: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_orderwatch"))
            .env("DATABASE_URL", database_url)
            .env("ORDERWATCH_JWT_SECRET", SECRET)
            .env("ORDERWATCH_LISTEN", "127.0.0.1:0")
            .env("ORDERWATCH_CHECK_INTERVAL", "0")
            .env("ORDERWATCH_LOG", "warn")
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .trim_end_matches("/graphql")
            .to_string();
        Server { child, url }
    }

    async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        reqwest::Client::new()
            .post(format!("{}/graphql", self.url))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    fn kill(mut self) {
        // SIGKILL: no graceful anything.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

#[tokio::test]
async fn a_server_killed_outright_loses_no_alert_and_a_resuming_subscriber_gets_each_once() {
    let app = TestApp::spawn().await.with_agencies().await;
    let r = app
        .grant(&app.token(Role::Court, "WMC"), spo_input(&app, "K/1"))
        .await;
    let person = r.ok()["grantOrder"]["protectedPersons"][0]["id"].clone();
    let met = app.token(Role::Police, "MET");
    app.gql(&met, "mutation($p: ID!) { shareOrderWithAdvocacy(reference: \"K/1\", protectedPersonId: $p, advocacyAgency: \"ADV-A\") { id } }", json!({ "p": person }))
        .await
        .ok();
    let server = Server::start(&app.database_url);
    let at = app.now().to_rfc3339();
    let mut acknowledged = vec![];
    for i in 0..5 {
        let r = server.gql(&met, REPORT, json!({ "i": { "reference": "K/1", "occurredAt": at, "description": "d", "externalRef": format!("K-{i}") } })).await;
        acknowledged.push(
            r["data"]["reportBreach"]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // Killed with those alerts committed but never delivered to anyone.
    server.kill();
    let server = Server::start(&app.database_url);
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("{}/graphql", server.url.replace("http://", "ws://")),
    )
    .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (stream, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut ws = Ws::from_stream(stream);
    ws.init(&app.token(Role::Advocate, "ADV-A")).await;
    ws.alerts_after(
        "a",
        &json!(orderwatch::service::page::encode_cursor("alert", "0")),
    )
    .await;
    let mut received = vec![];
    for _ in 0..5 {
        received.push(
            ws.next_alert("a").await["breachId"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // One more after the replay: the next message is it, so nothing was repeated.
    let last = server.gql(&met, REPORT, json!({ "i": { "reference": "K/1", "occurredAt": at, "description": "d", "externalRef": "K-last" } })).await;
    let last = last["data"]["reportBreach"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(ws.next_alert("a").await["breachId"], last.as_str());
    ws.close().await;
    server.kill();
    assert_eq!(
        received, acknowledged,
        "every acknowledged breach's alert, once, in order"
    );
}
