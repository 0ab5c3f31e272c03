//! Limits that make expensive or hostile documents cheap to refuse, each with its own code.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};

#[tokio::test]
async fn deep_nesting_through_introspection_is_refused() {
    let app = TestApp::spawn().await;
    let mut q = String::from("name");
    for _ in 0..20 {
        q = format!("ofType {{ {q} }}");
    }
    let r = app
        .gql(
            &app.token(Role::Police, "MET"),
            &format!("{{ __schema {{ types {{ fields {{ type {{ {q} }} }} }} }} }}"),
            json!({}),
        )
        .await;
    r.err("QUERY_TOO_DEEP");
}

#[tokio::test]
async fn too_many_aliases_are_refused_before_anything_runs() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Police, "MET");
    let doc = |n: usize| {
        format!(
            "{{ {} }}",
            (0..n)
                .map(|i| format!("a{i}: me {{ role }}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    app.gql(&token, &doc(30), json!({})).await.ok();
    let res = app
        .post_raw(Some(&token), json!({ "query": doc(5000) }))
        .await;
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"],
        "TOO_MANY_ALIASES"
    );
    // The same limit over a websocket: the operation is refused, the connection goes on.
    let mut ws = app.ws().await;
    ws.init(&token).await;
    ws.subscribe("many", &doc(5000), json!({})).await;
    let refused = ws.recv().await.unwrap();
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "many");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "TOO_MANY_ALIASES"
    );
    ws.subscribe("few", &doc(30), json!({})).await;
    let answered = ws.recv().await.unwrap();
    assert_eq!(answered["type"], "next", "{answered}");
    assert_eq!(answered["payload"]["data"]["a29"]["role"], "POLICE");
    ws.close().await;
}

#[tokio::test]
async fn a_document_over_the_complexity_limit_is_refused() {
    let app = TestApp::spawn_with(|s| s.max_complexity = 10).await;
    let q = "{ me { sub role agency } agencies { edges { cursor node { code name kind } } pageInfo { hasNextPage endCursor } } }";
    app.gql(&app.token(Role::Police, "MET"), q, json!({}))
        .await
        .err("QUERY_TOO_COMPLEX");
}

#[tokio::test]
async fn a_query_running_too_long_is_abandoned_but_a_mutation_finishes() {
    let app = TestApp::spawn_with(|s| s.query_timeout_ms = 1)
        .await
        .with_agencies()
        .await;
    // A page of 100 orders takes well over a millisecond to load.
    let court = app.token(Role::Court, "WMC");
    for i in 0..100 {
        app.grant(&court, spo_input(&app, &format!("WMC/T/{i}")))
            .await
            .ok();
    }
    let res = app
        .post_raw(Some(&app.token(Role::Police, "MET")), json!({ "query": format!("{{ orders(first: 100) {{ edges {{ node {{ {ORDER_FIELDS} }} }} }} }}") }))
        .await;
    assert_eq!(res.status().as_u16(), 503);
    assert_eq!(
        res.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"],
        "QUERY_TIMEOUT"
    );
}

#[tokio::test]
async fn a_huge_body_is_refused_while_other_clients_are_answered() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Police, "MET");
    let huge = format!(
        "{{\"query\": \"{{ me {{ sub }} }}\", \"variables\": {{ \"x\": \"{}\" }} }}",
        "x".repeat(10 * 1024 * 1024)
    );
    let big = app
        .client
        .post(format!("{}/graphql", app.url))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(huge)
        .send();
    let small = app.gql(&token, "{ me { role } }", json!({}));
    let (big, small) = tokio::join!(big, small);
    assert_eq!(small.ok()["me"]["role"], "POLICE");
    if let Ok(big) = big {
        assert_eq!(big.status().as_u16(), 413);
    }
}

#[tokio::test]
async fn production_mode_turns_off_introspection_and_graphiql() {
    let dev = TestApp::spawn().await;
    assert_eq!(dev.get("/graphiql").await.status().as_u16(), 200);
    let prod = TestApp::spawn_with(|s| s.env = "production".into()).await;
    assert_eq!(prod.get("/graphiql").await.status().as_u16(), 404);
    // Introspection answers nothing: no schema, no types.
    let r = prod
        .gql(
            &prod.token(Role::Police, "MET"),
            "{ __schema { types { name } } __type(name: \"ProtectionOrder\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.data,
        json!({ "__schema": null, "__type": null }),
        "introspection answered in production"
    );
    let d = dev
        .gql(
            &dev.token(Role::Police, "MET"),
            "{ __type(name: \"ProtectionOrder\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(d.ok()["__type"]["name"], "ProtectionOrder");
    prod.gql(
        &prod.token(Role::Police, "MET"),
        "{ me { role } }",
        json!({}),
    )
    .await
    .ok();
}

#[tokio::test]
async fn metrics_expose_requests_errors_alerts_subscribers_checks_and_the_pool() {
    let app = TestApp::spawn().await.with_agencies().await;
    let r = app
        .grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/M/1"))
        .await;
    let person = r.ok()["grantOrder"]["protectedPersons"][0]["id"].clone();
    let met = app.token(Role::Police, "MET");
    app.gql(&met, "mutation($p: ID!) { shareOrderWithAdvocacy(reference: \"WMC/M/1\", protectedPersonId: $p, advocacyAgency: \"ADV-A\") { id } }", json!({ "p": person })).await.ok();
    let mut ws = app.ws().await;
    ws.init(&app.token(Role::Advocate, "ADV-A")).await;
    ws.alerts_after(
        "a",
        &json!(orderwatch::service::page::encode_cursor("alert", "0")),
    )
    .await;
    let at = app.now().to_rfc3339();
    app.gql(&met, "mutation Report($at: DateTime!) { reportBreach(input: { reference: \"WMC/M/1\", occurredAt: $at, description: \"d\", externalRef: \"X\" }) { id } }", json!({ "at": at })).await.ok();
    ws.next_alert("a").await;
    app.gql(
        &app.token(Role::Court, "WMC"),
        "{ auditEvents { edges { cursor } } }",
        json!({}),
    )
    .await
    .err("FORBIDDEN");
    let text = app.get("/metrics").await.text().await.unwrap();
    for series in [
        // Labelled by the root field, not by the client's operation name ("Report"), which could be any text.
        "orderwatch_graphql_requests_total{operation=\"reportBreach\"}",
        "orderwatch_graphql_request_seconds_bucket{operation=\"reportBreach\",le=\"0.1\"}",
        "orderwatch_errors_total{code=\"FORBIDDEN\"}",
        "orderwatch_alerts_raised_total ",
        "orderwatch_alerts_delivered_total ",
        "orderwatch_alert_subscribers 1",
        "orderwatch_check_runs_total ",
        "orderwatch_db_pool_connections ",
        "orderwatch_db_statements_total ",
        "orderwatch_db_pings_total ",
        "orderwatch_audit_batches_total ",
        "orderwatch_audit_batches_rechained_total ",
    ] {
        assert!(text.contains(series), "missing {series} in:\n{text}");
    }
    assert!(
        !text.contains("operation=\"Report\""),
        "a client's operation name is no label"
    );
    ws.close().await;
}

#[tokio::test]
async fn a_graceful_shutdown_closes_websockets_with_going_away() {
    let app = TestApp::spawn().await.with_agencies().await;
    let mut ws = app.ws().await;
    ws.init(&app.token(Role::Advocate, "ADV-A")).await;
    ws.alerts_after(
        "a",
        &json!(orderwatch::service::page::encode_cursor("alert", "0")),
    )
    .await;
    let shutdown = app.shutdown.clone();
    let stopping = tokio::spawn(async move { shutdown.shutdown().await });
    assert_eq!(
        ws.closed().await,
        (1001, "server shutting down".to_string())
    );
    stopping.await.unwrap();
}

#[tokio::test]
async fn a_batch_of_a_thousand_operations_is_refused_while_other_clients_are_answered() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Police, "MET");
    let batch: Vec<Value> = (0..1000)
        .map(|_| json!({ "query": "{ me { sub } }" }))
        .collect();
    let big = app.post_raw(Some(&token), Value::Array(batch));
    let small = app.gql(&token, "{ me { role } }", json!({}));
    let (big, small) = tokio::join!(big, small);
    assert_eq!(small.ok()["me"]["role"], "POLICE");
    assert_eq!(big.status().as_u16(), 400);
    assert_eq!(
        big.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"],
        "BATCH_NOT_SUPPORTED"
    );
}

/// (requests whose document was reused, requests parsed) so far.
async fn document_counts(app: &TestApp) -> (u64, u64) {
    let text = app.get("/metrics").await.text().await.unwrap();
    (
        read_counter(&text, "orderwatch_graphql_documents_reused_total"),
        read_counter(&text, "orderwatch_graphql_documents_parsed_total"),
    )
}

#[tokio::test]
async fn a_document_sent_again_is_parsed_once_and_still_checked_for_each_caller() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    for reference in ["WMC/D/1", "WMC/D/2"] {
        app.grant(&court, spo_input(&app, reference)).await.ok();
    }
    let police = app.token(Role::Police, "MET");
    let lookup = "query($r: String!) { order(reference: $r) { reference status } }";
    let (reused, parsed) = document_counts(&app).await;

    // The same text with other variables: parsed once, and each request answered with its own order.
    for reference in ["WMC/D/1", "WMC/D/2", "WMC/D/1"] {
        let r = app.gql(&police, lookup, json!({ "r": reference })).await;
        assert_eq!(r.ok()["order"]["reference"], reference);
    }
    assert_eq!(document_counts(&app).await, (reused + 2, parsed + 1));

    // A reused parse is validated for each caller: the auditor's document is refused to the police.
    let audit = "{ auditEvents(first: 1) { edges { cursor } } }";
    app.gql(&app.token(Role::Auditor, "DPO"), audit, json!({}))
        .await
        .ok();
    let refused = app.gql(&police, audit, json!({})).await;
    assert_eq!(refused.codes(), vec!["FORBIDDEN".to_string()]);

    // And every limit still holds on the second sending, as on the first.
    let aliases = format!(
        "{{ {} }}",
        (0..31)
            .map(|i| format!("a{i}: me {{ role }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut deep = String::from("name");
    for _ in 0..20 {
        deep = format!("ofType {{ {deep} }}");
    }
    let deep = format!("{{ __schema {{ types {{ fields {{ type {{ {deep} }} }} }} }} }}");
    for _ in 0..2 {
        let res = app
            .post_raw(Some(&police), json!({ "query": aliases }))
            .await;
        assert_eq!(res.status().as_u16(), 400);
        assert_eq!(
            res.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"],
            "TOO_MANY_ALIASES"
        );
        app.gql(&police, &deep, json!({}))
            .await
            .err("QUERY_TOO_DEEP");
        // A document that does not parse is never kept: it is refused the same way each time.
        app.gql(&police, "{ order(reference: \"x\") ", json!({}))
            .await
            .err("GRAPHQL_VALIDATION_FAILED");
    }
}

/// Both transports pass one gate (`http::gate`): a document it refuses gets the same code over HTTP as over a
/// websocket, where the refusal is an `error` message for its id and the connection goes on.
#[tokio::test]
async fn both_transports_refuse_a_document_with_the_same_code() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Police, "MET");
    let aliases = format!(
        "{{ {} }}",
        (0..31)
            .map(|i| format!("a{i}: me {{ role }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let cases = [
        (aliases, "TOO_MANY_ALIASES"),
        ("  ".to_string(), "BAD_REQUEST"),
    ];
    let mut ws = app.ws().await;
    ws.init(&token).await;
    for (i, (query, code)) in cases.iter().enumerate() {
        let res = app.post_raw(Some(&token), json!({ "query": query })).await;
        assert_eq!(res.status().as_u16(), 400, "{code}");
        let body = res.json::<Value>().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], *code, "{body}");

        let id = format!("q{i}");
        ws.subscribe(&id, query, json!({})).await;
        let answer = ws.recv().await.unwrap();
        assert_eq!(answer["id"], id.as_str(), "{answer}");
        assert_eq!(answer["type"], "error", "{answer}");
        assert_eq!(
            answer["payload"][0]["extensions"]["code"], *code,
            "{answer}"
        );
    }
    // The connection is still open and answers.
    ws.subscribe("ok", "{ me { role } }", json!({})).await;
    let answer = ws.recv().await.unwrap();
    assert_eq!(answer["type"], "next", "{answer}");
    assert_eq!(
        answer["payload"]["data"]["me"]["role"], "POLICE",
        "{answer}"
    );
}
