//! A force's applications for orders, from the report to the court's decision: recorded in stages, each once, seen
//! only by the force that applied and the court it applied to, and counted in the force's statistics.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};

const FIELDS: &str = "reference force orderType reportedOn internalDecision internalDecisionOn internalRefusalReason \
    madeToCourtOn court courtOutcome courtOutcomeOn courtRefusalReason orderReference";

fn record() -> String {
    format!(
        "mutation($i: RecordApplicationInput!) {{ recordApplication(input: $i) {{ {FIELDS} }} }}"
    )
}

fn update() -> String {
    format!("mutation($r: String!, $s: ApplicationStagesInput!) {{ updateApplication(reference: $r, stages: $s) {{ {FIELDS} }} }}")
}

fn outcome() -> String {
    format!("mutation($i: RecordApplicationOutcomeInput!) {{ recordApplicationOutcome(input: $i) {{ {FIELDS} }} }}")
}

fn read() -> String {
    format!("query($r: String!) {{ application(reference: $r) {{ {FIELDS} }} }}")
}

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

/// MET's application for an SPO: reported on 5 January 2026, authorised on the 20th and made to WMC on the 25th.
fn met_application(reference: &str) -> Value {
    json!({ "i": { "reference": reference, "orderType": "SPO", "stages": {
        "reportedOn": "2026-01-05", "internalDecision": "AUTHORISED", "internalDecisionOn": "2026-01-20",
        "madeToCourtOn": "2026-01-25", "court": "WMC" } } })
}

#[tokio::test]
async fn an_application_runs_from_report_to_grant_and_is_counted() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set(at("2026-02-01T10:00:00Z"));
    let met = app.token(Role::Police, "MET");
    let court = app.token(Role::Court, "WMC");
    let recorded = app.gql(&met, &record(), met_application("MET/APP/1")).await;
    assert_eq!(recorded.ok()["recordApplication"]["court"], "WMC");

    // The court makes the order and records its decision, naming it.
    app.grant(&court, spo_input(&app, "WMC/SPO/9")).await.ok();
    let decided = app
        .gql(&court, &outcome(), json!({ "i": { "reference": "MET/APP/1", "outcome": "GRANTED", "decidedOn": "2026-02-01", "orderReference": "WMC/SPO/9" } }))
        .await;
    let decided = decided.ok()["recordApplicationOutcome"].clone();
    assert_eq!(decided["courtOutcome"], "GRANTED");
    assert_eq!(decided["orderReference"], "WMC/SPO/9");

    // Seen by the force that applied and the court it went to; to anyone else it does not exist.
    for (role, agency, seen) in [
        (Role::Police, "MET", true),
        (Role::Court, "WMC", true),
        (Role::Police, "GMP", false),
        (Role::Court, "MMC", false),
    ] {
        let r = app
            .gql(
                &app.token(role, agency),
                &read(),
                json!({ "r": "met/app/1" }),
            )
            .await;
        assert_eq!(!r.ok()["application"].is_null(), seen, "{role:?} {agency}");
    }

    // A refusal inside the force, with its reason, for the funnel.
    app.gql(&met, &record(), json!({ "i": { "reference": "MET/APP/2", "orderType": "SPO", "stages": {
        "reportedOn": "2026-01-10", "internalDecision": "REFUSED", "internalDecisionOn": "2026-01-28",
        "internalRefusalReason": "VICTIM_DOES_NOT_SUPPORT" } } }))
        .await
        .ok();

    let stats = app
        .gql(
            &app.token(Role::Analyst, "STATS"),
            "{ statistics(from: \"2026-01-01\", to: \"2026-03-31\") { force quarter ordersMade applications { authorised \
             refusedByForce { reason count } madeToCourt granted refusedByCourt { reason count } withdrawn \
             daysReportToCourt { median } daysCourtToOrder { median } } } }",
            json!({}),
        )
        .await;
    let rows = stats.ok()["statistics"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["ordersMade"], 1);
    assert_eq!(
        rows[0]["applications"],
        json!({ "authorised": 1, "refusedByForce": [{ "reason": "VICTIM_DOES_NOT_SUPPORT", "count": 1 }],
                "madeToCourt": 1, "granted": 1, "refusedByCourt": [], "withdrawn": 0,
                "daysReportToCourt": { "median": 20.0 }, "daysCourtToOrder": { "median": 7.0 } })
    );
}

#[tokio::test]
async fn bad_applications_are_refused_with_their_field_and_change_nothing() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set(at("2026-02-01T10:00:00Z"));
    let met = app.token(Role::Police, "MET");
    let before = app.snapshot().await;
    let cases = [
        (
            json!({ "reference": "GMP/APP/1", "orderType": "SPO" }),
            "REFERENCE_OUTSIDE_NAMESPACE",
        ),
        (
            json!({ "reference": "MET/APP/1", "orderType": "DVPN" }),
            "NOT_APPLIED_FOR_BY_POLICE",
        ),
        (
            json!({ "reference": "MET/APP/1", "orderType": "SPO", "stages": { "madeToCourtOn": "2026-01-25", "court": "WMC" } }),
            "INCOMPLETE_STAGE",
        ),
        (
            json!({ "reference": "MET/APP/1", "orderType": "SPO", "stages": { "reportedOn": "2026-02-02" } }),
            "DATE_IN_FUTURE",
        ),
        (
            json!({ "reference": "MET/APP/1", "orderType": "SPO", "stages": { "reportedOn": "2026-01-20", "internalDecision": "AUTHORISED", "internalDecisionOn": "2026-01-10" } }),
            "STAGES_OUT_OF_ORDER",
        ),
        (
            json!({ "reference": "MET/APP/1", "orderType": "SPO", "stages": { "internalDecision": "REFUSED", "internalDecisionOn": "2026-01-10" } }),
            "INCOMPLETE_STAGE",
        ),
        (
            json!({ "reference": "MET/APP/1", "orderType": "SPO", "stages": { "internalDecision": "AUTHORISED", "internalDecisionOn": "2026-01-10", "madeToCourtOn": "2026-01-11", "court": "GMP" } }),
            "AGENCY_KIND_MISMATCH",
        ),
        (
            json!({ "reference": "MET/APP/1", "orderType": "SPO", "stages": { "internalDecision": "AUTHORISED", "internalDecisionOn": "2026-01-10", "madeToCourtOn": "2026-01-11", "court": "NOPE" } }),
            "UNKNOWN_AGENCY",
        ),
    ];
    for (input, code) in cases {
        let r = app.gql(&met, &record(), json!({ "i": input })).await;
        assert_eq!(r.codes(), [code], "{input}");
    }
    let court = app
        .gql(
            &app.token(Role::Court, "WMC"),
            &record(),
            met_application("MET/APP/1"),
        )
        .await;
    assert_eq!(court.codes(), ["FORBIDDEN"]);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn each_stage_is_recorded_once_and_a_retry_changes_nothing() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set(at("2026-02-01T10:00:00Z"));
    let met = app.token(Role::Police, "MET");
    app.gql(&met, &record(), json!({ "i": { "reference": "MET/APP/3", "orderType": "SPO", "stages": { "reportedOn": "2026-01-05" } } }))
        .await
        .ok();
    let again = app
        .gql(
            &met,
            &record(),
            json!({ "i": { "reference": "MET/APP/3", "orderType": "SPO" } }),
        )
        .await;
    assert_eq!(again.codes(), ["REFERENCE_TAKEN"]);

    let stage = json!({ "r": "MET/APP/3", "s": { "reportedOn": "2026-01-05", "internalDecision": "AUTHORISED", "internalDecisionOn": "2026-01-20" } });
    let first = app.gql(&met, &update(), stage.clone()).await.ok()["updateApplication"].clone();
    let before = app.snapshot().await;
    let retried = app.gql(&met, &update(), stage).await.ok()["updateApplication"].clone();
    assert_eq!(first, retried);
    assert_eq!(app.snapshot().await, before, "a retry changes nothing");

    let changed = app
        .gql(
            &met,
            &update(),
            json!({ "r": "MET/APP/3", "s": { "reportedOn": "2026-01-06" } }),
        )
        .await;
    assert_eq!(changed.codes(), ["STAGE_ALREADY_RECORDED"]);
    let other_force = app
        .gql(
            &app.token(Role::Police, "GMP"),
            &update(),
            json!({ "r": "MET/APP/3", "s": { "reportedOn": "2026-01-05" } }),
        )
        .await;
    assert_eq!(other_force.codes(), ["NOT_FOUND"]);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn the_court_decides_once_after_any_adjournment_and_names_only_an_order_it_made_on_it() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set(at("2026-02-01T10:00:00Z"));
    let met = app.token(Role::Police, "MET");
    let court = app.token(Role::Court, "WMC");
    app.gql(&met, &record(), met_application("MET/APP/4"))
        .await
        .ok();
    let decide = |outcome: &str, extra: Value| {
        let mut i =
            json!({ "reference": "MET/APP/4", "outcome": outcome, "decidedOn": "2026-01-30" });
        i.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({ "i": i })
    };
    let other = app
        .gql(
            &app.token(Role::Court, "MMC"),
            &outcome(),
            decide("WITHDRAWN", json!({})),
        )
        .await;
    assert_eq!(other.codes(), ["NOT_FOUND"]);
    let no_reason = app
        .gql(&court, &outcome(), decide("REFUSED", json!({})))
        .await;
    assert_eq!(no_reason.codes(), ["INCOMPLETE_STAGE"]);
    let no_order = app
        .gql(&court, &outcome(), decide("GRANTED", json!({})))
        .await;
    assert_eq!(no_order.codes(), ["INCOMPLETE_STAGE"]);
    let too_early = app
        .gql(&court, &outcome(), json!({ "i": { "reference": "MET/APP/4", "outcome": "ADJOURNED", "decidedOn": "2026-01-24" } }))
        .await;
    assert_eq!(too_early.codes(), ["STAGES_OUT_OF_ORDER"]);

    app.gql(&court, &outcome(), decide("ADJOURNED", json!({})))
        .await
        .ok();
    // An interim order is not the SPO applied for.
    let mut interim = spo_input(&app, "WMC/ISPO/4");
    interim["type"] = json!("INTERIM_SPO");
    app.grant(&court, interim).await.ok();
    let wrong = app
        .gql(
            &court,
            &outcome(),
            decide("GRANTED", json!({ "orderReference": "WMC/ISPO/4" })),
        )
        .await;
    assert_eq!(wrong.codes(), ["ORDER_NOT_FOR_APPLICATION"]);

    let refused = app
        .gql(
            &court,
            &outcome(),
            decide("REFUSED", json!({ "refusalReason": "TEST_NOT_MET" })),
        )
        .await;
    assert_eq!(
        refused.ok()["recordApplicationOutcome"]["courtRefusalReason"],
        "TEST_NOT_MET"
    );
    let before = app.snapshot().await;
    let retried = app
        .gql(
            &court,
            &outcome(),
            decide("REFUSED", json!({ "refusalReason": "TEST_NOT_MET" })),
        )
        .await;
    retried.ok();
    let changed = app
        .gql(&court, &outcome(), decide("WITHDRAWN", json!({})))
        .await;
    assert_eq!(changed.codes(), ["APPLICATION_DECIDED"]);
    assert_eq!(app.snapshot().await, before);
}
