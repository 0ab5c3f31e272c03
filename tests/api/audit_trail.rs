//! What the audit log records of probes, lookups that find nothing, searches by person, responses of mutations,
//! and floods of bad tokens.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};

async fn events_of(app: &TestApp, operation: &str, action: &str) -> Vec<Value> {
    audit_events(app, json!({ "operation": operation }))
        .await
        .into_iter()
        .filter(|e| e["action"] == action)
        .collect()
}

#[tokio::test]
async fn a_write_refused_as_not_found_is_recorded_as_a_denial_naming_what_was_asked_for() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/PR/1"))
        .await
        .ok();
    // Another court cannot see WMC/PR/1: to it, the order does not exist, and its attempt leaves a trace.
    let mmc = app.token(Role::Court, "MMC");
    app.gql(
        &mmc,
        "mutation($i: ScheduleHearingInput!) { scheduleHearing(input: $i) { reference } }",
        json!({ "i": { "reference": "WMC/PR/1", "scheduledFor": app.now().to_rfc3339() } }),
    )
    .await
    .err("NOT_FOUND");
    let denied = events_of(&app, "DENIED", "scheduleHearing").await;
    assert_eq!(denied.len(), 1, "{denied:#?}");
    assert_eq!(denied[0]["outcome"], "NOT_FOUND");
    assert_eq!(denied[0]["objectIds"], json!(["reference:WMC/PR/1"]));
    assert_eq!(denied[0]["actor"]["agency"], "MMC");

    // A replacement naming an order the court may not replace, likewise.
    let mut full = spo_input(&app, "MMC/PR/2");
    full["replacesReference"] = json!("WMC/PR/1");
    app.grant(&mmc, full).await.err("REPLACED_ORDER_NOT_FOUND");
    let denied = events_of(&app, "DENIED", "grantOrder").await;
    assert_eq!(denied.len(), 1, "{denied:#?}");
    assert_eq!(
        denied[0]["objectIds"],
        json!(["reference:MMC/PR/2", "replacesReference:WMC/PR/1"])
    );
}

#[tokio::test]
async fn a_lookup_that_finds_nothing_records_the_reference_and_its_outcome() {
    let app = TestApp::spawn().await.with_agencies().await;
    let r = app
        .gql(
            &app.token(Role::Police, "MET"),
            "{ order(reference: \"WMC/NOPE/9\") { reference } }",
            json!({}),
        )
        .await;
    assert_eq!(r.ok()["order"], Value::Null);
    let consulted = events_of(&app, "CONSULT", "order").await;
    assert_eq!(consulted.len(), 1);
    assert_eq!(consulted[0]["outcome"], "NOT_FOUND");
    assert_eq!(consulted[0]["objectIds"], json!(["reference:WMC/NOPE/9"]));
}

#[tokio::test]
async fn a_search_by_person_is_recorded_by_a_keyed_tag_an_auditor_can_compute() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.gql(
        &app.token(Role::Police, "MET"),
        "{ orders(filter: { subjectName: \"Sam  SUBJECT\", subjectDateOfBirth: \"1980-05-05\" }) { edges { node { reference } } } }",
        json!({}),
    )
    .await
    .ok();
    let consulted = events_of(&app, "CONSULT", "orders").await;
    let ids = consulted[0]["objectIds"].as_array().unwrap();
    let tag = ids
        .iter()
        .find_map(|i| i.as_str().filter(|s| s.starts_with("subject:")))
        .expect("a subject tag");
    assert!(
        !consulted[0].to_string().to_lowercase().contains("sam"),
        "no name in the log"
    );
    // The auditor's command gives the same tag for the person, however the name is written.
    let out = app
        .cli()
        .args([
            "audit",
            "subject-tag",
            "--name",
            "sam subject",
            "--date-of-birth",
            "1980-05-05",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), tag);
}

#[tokio::test]
async fn what_a_mutation_returns_is_recorded_as_consulted() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.gql(
        &app.token(Role::Court, "WMC"),
        "mutation($i: GrantOrderInput!) { grantOrder(input: $i) { reference protectedPersons { name dateOfBirth } } }",
        json!({ "i": spo_input(&app, "WMC/MR/1") }),
    )
    .await
    .ok();
    let consulted = events_of(&app, "CONSULT", "grantOrder").await;
    assert_eq!(consulted.len(), 1, "{consulted:#?}");
    let fields: Vec<&str> = consulted[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"protectedPersons.name")
            && fields.contains(&"protectedPersons.dateOfBirth"),
        "{fields:?}"
    );
}

#[tokio::test]
async fn a_flood_of_bad_tokens_from_one_source_is_one_entry_while_it_lasts() {
    let app = TestApp::spawn().await;
    for i in 0..50 {
        let res = app
            .post_raw(
                Some(&format!("bad-token-{i}")),
                json!({ "query": "{ me { sub } }" }),
            )
            .await;
        assert_eq!(
            res.status().as_u16(),
            401,
            "every refusal is still answered"
        );
    }
    let failures = audit_events(&app, json!({ "operation": "AUTH_FAILURE" })).await;
    assert_eq!(failures.len(), 1, "{failures:#?}");
}

#[tokio::test]
async fn a_client_request_id_is_kept_as_a_correlation_id_beside_the_servers_own() {
    let app = TestApp::spawn().await.with_agencies().await;
    let res = app
        .client
        .post(format!("{}/graphql", app.url))
        .bearer_auth(app.token(Role::Police, "MET"))
        .header("x-request-id", "client-chosen-1")
        .json(&json!({ "query": "{ order(reference: \"WMC/CI/1\") { reference } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["x-request-id"],
        "client-chosen-1",
        "echoed to the client"
    );
    let q = "query($f: AuditFilter) { auditEvents(filter: $f, first: 10) { edges { node { action requestId correlationId } } } }";
    let r = app
        .gql(
            &app.token(Role::Auditor, "DPO"),
            q,
            json!({ "f": { "operation": "CONSULT" } }),
        )
        .await;
    let node = r.ok()["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .find(|n| n["action"] == "order")
        .unwrap();
    assert_eq!(node["correlationId"], "client-chosen-1");
    let server_id = node["requestId"].as_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(server_id).is_ok(),
        "the server's own id: {server_id}"
    );
}

#[tokio::test]
async fn text_that_is_not_a_reference_is_not_written_into_the_log() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.gql(
        &app.token(Role::Police, "MET"),
        "{ order(reference: \"Jordan Demo-Victim 1990-06-01\") { reference } }",
        json!({}),
    )
    .await;
    let consulted = events_of(&app, "CONSULT", "order").await;
    assert_eq!(
        consulted[0]["objectIds"],
        json!(["reference:(not a reference)"])
    );
    assert!(!consulted[0].to_string().contains("Jordan"));
}
