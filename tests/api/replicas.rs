//! A replica frozen while it holds one of the cluster-wide locks (the alert sequence's, the audit chain's) costs the
//! others at most the configured session bounds: a waiter gives up after the lock bound with `UNAVAILABLE`, and
//! PostgreSQL ends the frozen session after the idle-in-transaction bound, so writes go on. PostgreSQL only.

use crate::alerts::shared_order;
use crate::helpers::*;
use diesel::connection::SimpleConnection;
use orderwatch::auth::Role;
use serde_json::json;
use std::time::Duration;

const REPORT: &str = "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }";

#[tokio::test]
async fn a_replica_frozen_holding_a_shared_lock_costs_the_others_at_most_the_session_bounds() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn_with(|s| {
        s.pg_lock_timeout_ms = 200;
        s.pg_idle_in_transaction_timeout_ms = 1_000;
    })
    .await
    .with_agencies()
    .await;
    shared_order(&app, "WMC/FR/1", "ADV-A").await;
    let met = app.token(Role::Police, "MET");
    let report = |external_ref: &'static str| {
        let input = json!({ "reference": "WMC/FR/1", "occurredAt": (app.now() - chrono::Duration::minutes(10)).to_rfc3339(),
            "description": "d", "externalRef": external_ref });
        app.gql(&met, REPORT, json!({ "i": input }))
    };

    let mut written_refs = vec![];
    for (key, external_ref) in [
        (orderwatch::db::alerts::ALERT_LOCK_KEY, "FR-ALERT-LOCK"),
        (orderwatch::db::audit::AUDIT_LOCK_KEY, "FR-AUDIT-LOCK"),
    ] {
        // The frozen replica: a session of the server's kind that takes the lock and then sends nothing.
        let db = app.db().await;
        let mut frozen = tokio::task::spawn_blocking(move || {
            let mut c = db.dedicated_connection().unwrap();
            c.batch_execute(&format!("BEGIN; SELECT pg_advisory_xact_lock({key});"))
                .unwrap();
            c
        })
        .await
        .unwrap();

        // A write meanwhile is refused as retryable, within a bounded wait (never a hang).
        let refused = tokio::time::timeout(Duration::from_secs(20), report(external_ref))
            .await
            .expect("the write answers instead of waiting for the frozen replica");
        refused.err("UNAVAILABLE");

        // The frozen session is ended by PostgreSQL once idle past its bound; the retried write then goes through.
        let mut written = None;
        let retried = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                let r = report(external_ref).await;
                if let Some(id) = r.data["reportBreach"]["id"].as_str() {
                    written = Some(id.to_string());
                    break;
                }
                assert_eq!(r.codes(), vec!["UNAVAILABLE"]);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        assert!(
            retried.is_ok(),
            "writes resume once the frozen session is ended"
        );
        assert!(written.is_some());
        let ended = tokio::task::spawn_blocking(move || frozen.batch_execute("COMMIT"))
            .await
            .unwrap();
        assert!(ended.is_err(), "PostgreSQL ended the frozen session");
        // One breach for each reference, however often it was retried.
        written_refs.push(json!({ "externalRef": external_ref }));
        let r = app
            .gql(
                &met,
                "{ order(reference: \"WMC/FR/1\") { breaches { externalRef } } }",
                json!({}),
            )
            .await;
        let mut breaches = r.ok()["order"]["breaches"].as_array().unwrap().clone();
        breaches.sort_by_key(|b| b["externalRef"].as_str().unwrap().to_string());
        assert_eq!(breaches, written_refs);
    }
}
