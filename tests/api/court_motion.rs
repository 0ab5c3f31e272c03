//! An SPO a court makes of its own motion on conviction or acquittal, with no police application: refused unless the
//! deployment enables the power (`ORDERWATCH_COURT_MADE_SPO`), an SPO only, managed by the force named, never linked
//! to an application, and notified from service like any SPO.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::json;

const ORDER: &str =
    "query($r: String!) { order(reference: $r) { courtMotion status applicantAgency { code } \
    court { code } deadlines { kind } } }";

#[tokio::test]
async fn a_court_made_spo_is_refused_unless_the_deployment_enables_it() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let mut spo = spo_input(&app, "WMC/SPO/OWN");
    spo["courtMotion"] = json!("ON_CONVICTION");
    let before = app.snapshot().await;
    let r = app.grant(&court, spo).await;
    let e = r.err("COURT_MADE_SPO_NOT_ENABLED");
    assert_eq!(e["extensions"]["violations"][0]["field"], "courtMotion");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn an_enabled_court_records_an_spo_of_its_own_motion_managed_by_a_force() {
    let app = TestApp::spawn_with(|s| s.court_made_spo = true)
        .await
        .with_agencies()
        .await;
    let crown = app.token(Role::Court, "CCL");
    let met = app.token(Role::Police, "MET");

    let mut spo = spo_input(&app, "CCL/SPO/1");
    spo["courtMotion"] = json!("ON_ACQUITTAL");
    app.grant(&crown, spo).await.ok();
    let seen = app.gql(&met, ORDER, json!({ "r": "CCL/SPO/1" })).await;
    let order = &seen.ok()["order"];
    assert_eq!(order["courtMotion"], "ON_ACQUITTAL");
    assert_eq!(order["applicantAgency"]["code"], "MET");
    assert_eq!(order["court"]["code"], "CCL");

    // Notified from service, as any SPO (SPA 2019 s9(1)).
    let mut served_at = app.now();
    served_at -= chrono::Duration::minutes(1);
    app.gql(
        &met,
        "mutation($t: DateTime!) { recordService(reference: \"CCL/SPO/1\", servedAt: $t, method: PERSONAL) { serviceStatus } }",
        json!({ "t": served_at.to_rfc3339() }),
    )
    .await
    .ok();
    let seen = app.gql(&met, ORDER, json!({ "r": "CCL/SPO/1" })).await;
    assert!(
        seen.ok()["order"]["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["kind"] == "NOTIFICATION_INITIAL"),
        "{seen:?}"
    );

    // Only an SPO.
    let court = app.token(Role::Court, "WMC");
    let mut dvpo = spo_input(&app, "WMC/DVPO/1");
    dvpo["type"] = json!("DVPO");
    dvpo["expiresOn"] = json!((app.today() + chrono::Duration::days(20)).to_string());
    dvpo["conditions"] = json!([]);
    dvpo["courtMotion"] = json!("ON_CONVICTION");
    let before = app.snapshot().await;
    let r = app.grant(&court, dvpo).await;
    assert!(
        r.codes()
            .contains(&"COURT_MOTION_NOT_APPLICABLE".to_string()),
        "{r:?}"
    );
    assert_eq!(app.snapshot().await, before);

    // Never the order granted on an application: there was none.
    app.gql(
        &met,
        "mutation($i: RecordApplicationInput!) { recordApplication(input: $i) { reference } }",
        json!({ "i": { "reference": "MET/APP/1", "orderType": "SPO", "stages": { "reportedOn": app.today().to_string(),
            "internalDecision": "AUTHORISED", "internalDecisionOn": app.today().to_string(),
            "madeToCourtOn": app.today().to_string(), "court": "WMC" } } }),
    )
    .await
    .ok();
    let mut own = spo_input(&app, "WMC/SPO/OWN");
    own["courtMotion"] = json!("ON_CONVICTION");
    app.grant(&court, own).await.ok();
    let linked = app
        .gql(
            &court,
            "mutation($i: RecordApplicationOutcomeInput!) { recordApplicationOutcome(input: $i) { courtOutcome } }",
            json!({ "i": { "reference": "MET/APP/1", "outcome": "GRANTED", "decidedOn": app.today().to_string(),
                "orderReference": "WMC/SPO/OWN" } }),
        )
        .await;
    assert_eq!(linked.codes(), ["ORDER_NOT_FOR_APPLICATION"]);
}
