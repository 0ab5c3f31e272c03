//! An interim SPO pending its main application (Stalking Protection Act 2019 s5): applied for naming the main
//! application, made only while that is pending (s5(1)), and ceasing when it is determined (s5(6)(b)).

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};

const RECORD: &str =
    "mutation($i: RecordApplicationInput!) { recordApplication(input: $i) { reference mainApplication } }";
const OUTCOME: &str =
    "mutation($i: RecordApplicationOutcomeInput!) { recordApplicationOutcome(input: $i) { courtOutcome orderReference } }";

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

/// MET's application to WMC, made on 25 January 2026: for an SPO, or for an interim SPO pending `main`.
fn application(reference: &str, main: Option<&str>) -> Value {
    json!({ "i": { "reference": reference, "orderType": if main.is_some() { "INTERIM_SPO" } else { "SPO" },
        "mainApplication": main, "stages": { "reportedOn": "2026-01-05", "internalDecision": "AUTHORISED",
        "internalDecisionOn": "2026-01-20", "madeToCourtOn": "2026-01-25", "court": "WMC" } } })
}

fn decide(reference: &str, outcome: &str, on: &str, order: Option<&str>) -> Value {
    let reason = (outcome == "REFUSED").then_some("TEST_NOT_MET");
    json!({ "i": { "reference": reference, "outcome": outcome, "decidedOn": on, "refusalReason": reason,
        "orderReference": order } })
}

/// An interim SPO made today, ending on 30 June 2026.
fn interim(app: &TestApp, reference: &str) -> Value {
    let mut i = spo_input(app, reference);
    i["type"] = json!("INTERIM_SPO");
    i["expiresOn"] = json!("2026-06-30");
    i
}

async fn status(app: &TestApp, token: &str, reference: &str) -> Value {
    let r = app
        .gql(
            token,
            "query($r: String!) { order(reference: $r) { status } }",
            json!({ "r": reference }),
        )
        .await;
    r.ok()["order"]["status"].clone()
}

#[tokio::test]
async fn an_interim_application_names_the_force_s_own_pending_main_application() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set(at("2026-02-01T10:00:00Z"));
    let met = app.token(Role::Police, "MET");
    let gmp = app.token(Role::Police, "GMP");
    app.gql(&met, RECORD, application("MET/APP/M", None))
        .await
        .ok();
    let mut theirs = application("GMP/APP/M", None);
    theirs["i"]["reference"] = json!("GMP/APP/M");
    app.gql(&gmp, RECORD, theirs).await.ok();

    let before = app.snapshot().await;
    for (input, code) in [
        (
            {
                let mut i = application("MET/APP/I", None);
                i["i"]["orderType"] = json!("INTERIM_SPO");
                i
            },
            "MAIN_APPLICATION_REQUIRED",
        ),
        (
            {
                let mut i = application("MET/APP/S", Some("MET/APP/M"));
                i["i"]["orderType"] = json!("SPO");
                i
            },
            "MAIN_APPLICATION_NOT_APPLICABLE",
        ),
        // Another force's application is answered as a missing one.
        (
            application("MET/APP/I", Some("GMP/APP/M")),
            "MAIN_APPLICATION_NOT_FOUND",
        ),
        (
            application("MET/APP/I", Some("MET/APP/NONE")),
            "MAIN_APPLICATION_NOT_FOUND",
        ),
        (
            application("MET/APP/I", Some("not a reference")),
            "INVALID_REFERENCE",
        ),
    ] {
        let r = app.gql(&met, RECORD, input).await;
        let e = r.err(code);
        assert_eq!(
            e["extensions"]["violations"][0]["field"], "mainApplication",
            "{e}"
        );
    }
    assert_eq!(app.snapshot().await, before);

    let r = app
        .gql(&met, RECORD, application("MET/APP/I", Some("met/app/m")))
        .await;
    assert_eq!(r.ok()["recordApplication"]["mainApplication"], "MET/APP/M");
}

#[tokio::test]
async fn the_main_application_s_determination_ends_the_interim_order_and_bars_a_new_one() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set(at("2026-02-01T10:00:00Z"));
    let met = app.token(Role::Police, "MET");
    let court = app.token(Role::Court, "WMC");
    app.gql(&met, RECORD, application("MET/APP/M", None))
        .await
        .ok();
    app.gql(&met, RECORD, application("MET/APP/I", Some("MET/APP/M")))
        .await
        .ok();
    app.gql(&met, RECORD, application("MET/APP/J", Some("MET/APP/M")))
        .await
        .ok();
    app.grant(&court, interim(&app, "WMC/ISPO/1")).await.ok();
    app.gql(
        &court,
        OUTCOME,
        decide("MET/APP/I", "GRANTED", "2026-02-01", Some("WMC/ISPO/1")),
    )
    .await
    .ok();
    assert_eq!(status(&app, &met, "WMC/ISPO/1").await, "IN_FORCE");

    // Refused two days later: the interim order ceases that day, and the force is told.
    app.clock.set(at("2026-02-04T10:00:00Z"));
    app.gql(
        &court,
        OUTCOME,
        decide("MET/APP/M", "REFUSED", "2026-02-03", None),
    )
    .await
    .ok();
    assert_eq!(status(&app, &met, "WMC/ISPO/1").await, "CEASED");
    let alerts = app
        .gql(
            &met,
            "{ alerts { edges { node { kind orderReference } } } }",
            json!({}),
        )
        .await;
    let ceased: Vec<_> = alerts.ok()["alerts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"] == json!({ "kind": "ORDER_CEASED", "orderReference": "WMC/ISPO/1" }))
        .collect();
    assert_eq!(ceased.len(), 1);
    // A breach the day after is refused: the order had ended.
    let breach = app
        .gql(
            &met,
            "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }",
            json!({ "i": { "reference": "WMC/ISPO/1", "occurredAt": "2026-02-04T09:00:00Z",
                "description": "contact", "externalRef": "INC-1" } }),
        )
        .await;
    assert_eq!(breach.codes(), ["BREACH_AFTER_ORDER_ENDED"]);

    // No interim order after that: not applied for, and not granted on a pending interim application after the day.
    let before = app.snapshot().await;
    let late = app
        .gql(&met, RECORD, application("MET/APP/K", Some("MET/APP/M")))
        .await;
    assert_eq!(late.codes(), ["MAIN_APPLICATION_DETERMINED"]);
    app.grant(&court, interim(&app, "WMC/ISPO/2")).await.ok();
    let before_grant = app.snapshot().await;
    let granted = app
        .gql(
            &court,
            OUTCOME,
            decide("MET/APP/J", "GRANTED", "2026-02-04", Some("WMC/ISPO/2")),
        )
        .await;
    assert_eq!(granted.codes(), ["MAIN_APPLICATION_DETERMINED"]);
    assert_eq!(app.snapshot().await, before_grant);
    assert_ne!(before, before_grant);

    // The order granted is the one made the day the court decided.
    let other_day = app
        .gql(
            &court,
            OUTCOME,
            decide("MET/APP/J", "GRANTED", "2026-02-03", Some("WMC/ISPO/2")),
        )
        .await;
    assert_eq!(other_day.codes(), ["ORDER_NOT_FOR_APPLICATION"]);
    // Granted the day the main application was refused (its hour is not recorded): it stands, and ceases with it.
    let mut made_that_day = interim(&app, "WMC/ISPO/3");
    made_that_day["madeOn"] = json!("2026-02-03");
    app.grant(&court, made_that_day).await.ok();
    let same_day = app
        .gql(
            &court,
            OUTCOME,
            decide("MET/APP/J", "GRANTED", "2026-02-03", Some("WMC/ISPO/3")),
        )
        .await;
    assert_eq!(
        same_day.ok()["recordApplicationOutcome"]["courtOutcome"],
        "GRANTED"
    );
    assert_eq!(status(&app, &met, "WMC/ISPO/3").await, "CEASED");
}

#[tokio::test]
async fn a_full_order_replacing_the_interim_leaves_it_replaced_and_an_adjournment_ends_nothing() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set(at("2026-02-01T10:00:00Z"));
    let met = app.token(Role::Police, "MET");
    let court = app.token(Role::Court, "WMC");
    for (r, main) in [
        ("MET/APP/M", None),
        ("MET/APP/I", Some("MET/APP/M")),
        ("MET/APP/N", None),
        ("MET/APP/J", Some("MET/APP/N")),
    ] {
        app.gql(&met, RECORD, application(r, main)).await.ok();
    }
    for (order, on) in [("WMC/ISPO/1", "MET/APP/I"), ("WMC/ISPO/2", "MET/APP/J")] {
        app.grant(&court, interim(&app, order)).await.ok();
        app.gql(
            &court,
            OUTCOME,
            decide(on, "GRANTED", "2026-02-01", Some(order)),
        )
        .await
        .ok();
    }
    app.clock.set(at("2026-03-02T10:00:00Z"));
    app.gql(
        &court,
        OUTCOME,
        decide("MET/APP/M", "ADJOURNED", "2026-03-02", None),
    )
    .await
    .ok();
    assert_eq!(status(&app, &met, "WMC/ISPO/1").await, "IN_FORCE");

    let mut full = spo_input(&app, "WMC/SPO/1");
    full["replacesReference"] = json!("WMC/ISPO/1");
    app.grant(&court, full).await.ok();
    app.gql(
        &court,
        OUTCOME,
        decide("MET/APP/M", "GRANTED", "2026-03-02", Some("WMC/SPO/1")),
    )
    .await
    .ok();
    assert_eq!(status(&app, &met, "WMC/ISPO/1").await, "REPLACED");

    // Granted without the full order replacing the interim: the interim ceases on the determination all the same.
    app.grant(&court, spo_input(&app, "WMC/SPO/2")).await.ok();
    app.gql(
        &court,
        OUTCOME,
        decide("MET/APP/N", "GRANTED", "2026-03-02", Some("WMC/SPO/2")),
    )
    .await
    .ok();
    assert_eq!(status(&app, &met, "WMC/ISPO/2").await, "CEASED");
    assert_eq!(status(&app, &met, "WMC/SPO/2").await, "IN_FORCE");
}

#[tokio::test]
async fn the_interim_application_goes_with_or_after_a_main_application_made_to_the_same_court() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set(at("2026-02-01T10:00:00Z"));
    let met = app.token(Role::Police, "MET");
    let court = app.token(Role::Court, "WMC");
    const UPDATE: &str = "mutation($s: ApplicationStagesInput!) { updateApplication(reference: \"MET/APP/I\", stages: $s) { court } }";
    let mut unmade = application("MET/APP/U", None);
    unmade["i"]["stages"] = json!({ "reportedOn": "2026-01-05" });
    app.gql(&met, RECORD, unmade).await.ok();
    app.gql(&met, RECORD, application("MET/APP/M", None))
        .await
        .ok();
    let before = app.snapshot().await;
    app.gql(&met, RECORD, application("MET/APP/I", Some("MET/APP/U")))
        .await
        .err("MAIN_APPLICATION_NOT_MADE");
    let mut elsewhere = application("MET/APP/I", Some("MET/APP/M"));
    elsewhere["i"]["stages"]["court"] = json!("MMC");
    app.gql(&met, RECORD, elsewhere)
        .await
        .err("MAIN_APPLICATION_OTHER_COURT");
    let mut earlier = application("MET/APP/I", Some("MET/APP/M"));
    earlier["i"]["stages"]["madeToCourtOn"] = json!("2026-01-24");
    app.gql(&met, RECORD, earlier)
        .await
        .err("STAGES_OUT_OF_ORDER");
    assert_eq!(app.snapshot().await, before);

    // Recorded before it went to court, the interim application cannot go to another court later.
    let mut pending = application("MET/APP/I", Some("MET/APP/M"));
    pending["i"]["stages"] = json!({ "reportedOn": "2026-01-05", "internalDecision": "AUTHORISED",
        "internalDecisionOn": "2026-01-20" });
    app.gql(&met, RECORD, pending).await.ok();
    app.gql(
        &met,
        UPDATE,
        json!({ "s": { "madeToCourtOn": "2026-01-26", "court": "MMC" } }),
    )
    .await
    .err("MAIN_APPLICATION_OTHER_COURT");

    // A main decision dated before an interim order granted on it was made is refused.
    app.gql(
        &met,
        UPDATE,
        json!({ "s": { "madeToCourtOn": "2026-01-26", "court": "WMC" } }),
    )
    .await
    .ok();
    app.grant(&court, interim(&app, "WMC/ISPO/1")).await.ok();
    app.gql(
        &court,
        OUTCOME,
        decide("MET/APP/I", "GRANTED", "2026-02-01", Some("WMC/ISPO/1")),
    )
    .await
    .ok();
    let before = app.snapshot().await;
    app.gql(
        &court,
        OUTCOME,
        decide("MET/APP/M", "REFUSED", "2026-01-30", None),
    )
    .await
    .err("STAGES_OUT_OF_ORDER");
    assert_eq!(app.snapshot().await, before);
}
