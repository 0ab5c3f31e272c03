//! Smaller defences: subscriptions through fragments, validation suggestions, and who may read `/metrics`.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::json;

#[tokio::test]
async fn a_subscription_through_a_fragment_at_its_root_is_refused_on_both_transports() {
    let app = TestApp::spawn().await.with_agencies().await;
    let token = app.token(Role::Advocate, "ADV-A");
    let mut ws = app.ws().await;
    ws.init(&token).await;
    for (id, query) in [
        (
            "spread",
            "subscription { ...F } fragment F on SubscriptionRoot { alerts { id } }",
        ),
        (
            "inline",
            "subscription { ... on SubscriptionRoot { alerts { id } } }",
        ),
    ] {
        ws.subscribe(id, query, json!({})).await;
        let answer = ws.recv().await.unwrap();
        assert_eq!(answer["type"], "error", "{answer}");
        assert_eq!(
            answer["payload"][0]["extensions"]["code"],
            "GRAPHQL_VALIDATION_FAILED"
        );
        assert_eq!(
            answer["payload"][0]["message"],
            "a subscription names its field at its root, not through a fragment"
        );
        app.gql(&token, query, json!({}))
            .await
            .err("GRAPHQL_VALIDATION_FAILED");
    }
    ws.close().await;
}

#[tokio::test]
async fn validation_errors_suggest_no_field_names() {
    let app = TestApp::spawn().await.with_agencies().await;
    // `contact` exists on protected persons, but not for an advocate; a near miss must not reveal it.
    let r = app
        .gql(
            &app.token(Role::Advocate, "ADV-A"),
            "{ order(reference: \"X\") { protectedPersons { contac } } }",
            json!({}),
        )
        .await;
    let message = r.errors[0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");
}

#[tokio::test]
async fn metrics_ask_for_their_token_when_one_is_set_and_are_closed_in_production_without_one() {
    let app = TestApp::spawn_with(|s| s.metrics_token = Some("metrics-secret".into())).await;
    assert_eq!(app.get("/metrics").await.status().as_u16(), 401);
    let wrong = app
        .client
        .get(format!("{}/metrics", app.url))
        .bearer_auth("metrics-secre")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let right = app
        .client
        .get(format!("{}/metrics", app.url))
        .bearer_auth("metrics-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status().as_u16(), 200);
    assert!(right
        .text()
        .await
        .unwrap()
        .contains("orderwatch_alerts_raised_total"));

    let production = TestApp::spawn_with(|s| s.env = "production".into()).await;
    assert_eq!(production.get("/metrics").await.status().as_u16(), 403);
    let development = TestApp::spawn().await;
    assert_eq!(development.get("/metrics").await.status().as_u16(), 200);
}

#[tokio::test]
async fn every_error_carries_a_category_including_refusals_before_graphql_runs() {
    let app = TestApp::spawn().await;
    let category = |body: serde_json::Value| body["errors"][0]["extensions"]["category"].clone();
    let unauthenticated = app
        .post_raw(None, json!({ "query": "{ me { sub } }" }))
        .await;
    assert_eq!(unauthenticated.status().as_u16(), 401);
    assert_eq!(
        category(unauthenticated.json().await.unwrap()),
        "UNAUTHENTICATED"
    );
    let token = app.token(Role::Police, "MET");
    let deep = app
        .post_raw(Some(&token), json!({ "query": format!("{{ order(reference: {}\"x\"{}) {{ reference }} }}", "[".repeat(100), "]".repeat(100)) }))
        .await;
    assert_eq!(category(deep.json().await.unwrap()), "VALIDATION");
    let unknown = app.gql(&token, "{ nothingHere }", json!({})).await;
    assert_eq!(unknown.errors[0]["extensions"]["category"], "VALIDATION");
}
