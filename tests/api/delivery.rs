//! Live delivery never skips an alert: a delivery step that fails holds the alert back and retries it, on both
//! delivery paths (handed over to the transport, and async-graphql's executor); past the retry window the
//! subscription is interrupted and the socket closed, and the client resumes from its last cursor.

use crate::alerts::{from_start, report, shared_order};
use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};

const HANDED: &str = "subscription($after: String) { alerts(after: $after) { cursor breachId } }";
const EXECUTOR: &str =
    "subscription($after: String, $yes: Boolean!) { alerts(after: $after) @include(if: $yes) { cursor breachId } }";

/// Subscribes `handed` and `executor` (one per delivery path) after `cursor`.
async fn subscribe_both(ws: &mut Ws, cursor: &Value) {
    ws.subscribe("handed", HANDED, json!({ "after": cursor }))
        .await;
    ws.subscribe(
        "executor",
        EXECUTOR,
        json!({ "after": cursor, "yes": true }),
    )
    .await;
}

/// The next alert of each subscription: the breach ids by subscription, and the last cursor.
async fn next_of_both(ws: &mut Ws) -> (std::collections::BTreeMap<String, String>, Value) {
    let mut got = std::collections::BTreeMap::new();
    let mut cursor = Value::Null;
    for _ in 0..2 {
        let msg = ws.recv().await.expect("an alert, not a close");
        assert_eq!(msg["type"], "next", "{msg}");
        let alert = &msg["payload"]["data"]["alerts"];
        got.insert(
            msg["id"].as_str().unwrap().to_string(),
            alert["breachId"].as_str().unwrap_or("<none>").to_string(),
        );
        cursor = alert["cursor"].clone();
    }
    (got, cursor)
}

fn both(breach: &str) -> std::collections::BTreeMap<String, String> {
    [("executor", breach), ("handed", breach)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Waits until live deliveries on `app` have failed at least `n` tries (bounded; never reached when things work).
async fn failed_tries(app: &TestApp, n: u64) {
    let waited = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while app.services.delivery.failures() < n {
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "deliveries never failed {n} tries");
}

async fn disclosures(app: &TestApp) -> Vec<Value> {
    audit_events(app, json!({ "operation": "DISCLOSE" }))
        .await
        .into_iter()
        .filter(|e| e["action"] == "alerts")
        .collect()
}

/// The audit store refuses disclosures for a while: the alert is held, nothing of it is sent, and once the store
/// accepts entries again it arrives on both paths, in order before the next one. Every alert sent is disclosed.
#[tokio::test]
async fn an_alert_whose_disclosure_fails_for_a_while_is_held_and_then_delivered_in_order() {
    let app = TestApp::spawn().await.with_agencies().await;
    shared_order(&app, "WMC/DF/1", "ADV-A").await;
    let mut ws = app.ws().await;
    ws.init(&app.token(Role::Advocate, "ADV-A")).await;
    subscribe_both(&mut ws, &from_start()).await;
    let first = report(&app, "WMC/DF/1", "DF-1").await;
    assert_eq!(next_of_both(&mut ws).await.0, both(&first));

    refuse_audit_entries(&app, "DISCLOSE");
    let held = report(&app, "WMC/DF/1", "DF-2").await;
    // Each subscription has tried and failed to record the disclosure, and sent nothing.
    failed_tries(&app, 2).await;
    accept_audit_entries(&app);
    assert_eq!(next_of_both(&mut ws).await.0, both(&held));
    let third = report(&app, "WMC/DF/1", "DF-3").await;
    assert_eq!(next_of_both(&mut ws).await.0, both(&third));
    ws.close().await;

    let disclosed = disclosures(&app).await;
    assert_eq!(
        disclosed.len(),
        6,
        "three alerts to each subscription: {disclosed:#?}"
    );
    assert!(disclosed.iter().all(|e| e["recipient"] == "ADV-A"));
}

/// Past the retry window the subscription ends with `DELIVERY_INTERRUPTED`, carrying nothing of the alert, and the
/// socket closes with 1013; a client that resumes from its last cursor then gets the alert, on both paths.
#[tokio::test]
async fn a_delivery_failing_past_the_retry_window_closes_the_socket_and_the_resumed_client_gets_the_alert(
) {
    let app = TestApp::spawn_with(|s| s.delivery_retry_ms = 300)
        .await
        .with_agencies()
        .await;
    shared_order(&app, "WMC/DF/1", "ADV-A").await;
    let token = app.token(Role::Advocate, "ADV-A");
    let mut ws = app.ws().await;
    ws.init(&token).await;
    subscribe_both(&mut ws, &from_start()).await;
    let first = report(&app, "WMC/DF/1", "DF-1").await;
    let (got, cursor) = next_of_both(&mut ws).await;
    assert_eq!(got, both(&first));

    refuse_audit_entries(&app, "DISCLOSE");
    let held = report(&app, "WMC/DF/1", "DF-2").await;
    let msg = ws.recv().await.expect("the interruption, then the close");
    assert_eq!(msg["type"], "error", "{msg}");
    assert_eq!(
        msg["payload"][0]["extensions"]["code"], "DELIVERY_INTERRUPTED",
        "{msg}"
    );
    assert_eq!(
        msg["payload"][0]["extensions"]["category"], "UNAVAILABLE",
        "{msg}"
    );
    let text = msg.to_string();
    assert!(
        !text.contains(&held) && !text.contains("WMC/DF/1") && !text.contains("audit store"),
        "an alert that could not be recorded was sent, or internal text: {text}"
    );
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1013, "{reason}");
    assert!(reason.contains("resume from your last cursor"), "{reason}");

    accept_audit_entries(&app);
    let mut ws = app.ws().await;
    ws.init(&token).await;
    subscribe_both(&mut ws, &cursor).await;
    assert_eq!(next_of_both(&mut ws).await.0, both(&held));
    ws.close().await;
}

/// PostgreSQL is stopped and started while subscribers are idle: once the server is ready again, the first alert
/// reaches every subscriber on both paths at the first try (no retry window here), and so does the next: the audit
/// writer replaces its connection from before the outage instead of failing a batch on it. It stops the shared server, so it is ignored in the parallel
/// suite and run alone, as `postgres_restart_loses_no_acknowledged_breach_and_readyz_reports_the_outage` is.
#[tokio::test]
#[ignore = "restarts the machine's PostgreSQL server; run alone (see .ci/run)"]
async fn postgres_restart_with_idle_subscribers_loses_no_alert() {
    if !on_postgres() {
        eprintln!("postgres_restart: skipped (TEST_DATABASE_URL does not name PostgreSQL)");
        return;
    }
    let app = TestApp::spawn_with(|s| s.delivery_retry_ms = 1)
        .await
        .with_agencies()
        .await;
    shared_order(&app, "WMC/PR/1", "ADV-A").await;
    let token = app.token(Role::Advocate, "ADV-A");
    let mut sockets = vec![];
    for _ in 0..3 {
        let mut ws = app.ws().await;
        ws.init(&token).await;
        subscribe_both(&mut ws, &from_start()).await;
        sockets.push(ws);
    }
    let first = report(&app, "WMC/PR/1", "PR-1").await;
    for ws in &mut sockets {
        assert_eq!(next_of_both(ws).await.0, both(&first));
    }
    // A read through the audit writer before the outage, so its connection is one from before.
    app.gql(
        &app.token(Role::Police, "MET"),
        "{ order(reference: \"WMC/PR/1\") { reference } }",
        json!({}),
    )
    .await
    .ok();

    tokio::task::spawn_blocking(|| crate::faults::restart_postgres("stop"))
        .await
        .unwrap();
    tokio::task::spawn_blocking(|| crate::faults::restart_postgres("start"))
        .await
        .unwrap();
    let ready = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while app.get("/readyz").await.status().as_u16() != 200 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(ready.is_ok(), "/readyz reports the recovery");
    // The report itself may meet a pooled connection from before the outage: retried as a client would, with
    // the same external reference (the server keeps one breach per reference).
    let mut second = None;
    for _ in 0..50 {
        let input = json!({ "reference": "WMC/PR/1", "occurredAt": (app.now() - chrono::Duration::minutes(10)).to_rfc3339(),
            "description": "Subject seen outside the protected person's home", "externalRef": "PR-2" });
        let r = app
            .gql(
                &app.token(Role::Police, "MET"),
                "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }",
                json!({ "i": input }),
            )
            .await;
        if let Some(id) = r.data["reportBreach"]["id"].as_str() {
            second = Some(id.to_string());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let second = second.expect("a breach reported after the outage");
    for ws in &mut sockets {
        assert_eq!(
            next_of_both(ws).await.0,
            both(&second),
            "the first alert after the outage"
        );
    }
    let third = report(&app, "WMC/PR/1", "PR-3").await;
    for ws in &mut sockets {
        assert_eq!(next_of_both(ws).await.0, both(&third));
    }
    for ws in sockets {
        ws.close().await;
    }
}
