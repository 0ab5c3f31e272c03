//! Breach patterns: which breach of its order each one is, whether it was also recorded as a crime, and the
//! subject's history across orders (police only, recorded as a combination of records).

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};

const REPORT: &str =
    "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id ordinal recordedAsCrime } }";
const HISTORY: &str = "query($r: String!) { subjectHistory(reference: $r) { orders breaches peopleProtected repeatPerpetrator } }";

fn breach(reference: &str, occurred_at: &str, external_ref: &str, crime: bool) -> Value {
    json!({ "i": { "reference": reference, "occurredAt": occurred_at, "description": "d", "externalRef": external_ref, "recordedAsCrime": crime } })
}

#[tokio::test]
async fn each_breach_knows_its_place_among_its_orders_breaches_and_whether_it_is_a_crime() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set("2026-03-10T10:00:00Z".parse().unwrap());
    let court = app.token(Role::Court, "WMC");
    let met = app.token(Role::Police, "MET");
    let mut input = spo_input(&app, "WMC/BP/1");
    input["madeOn"] = json!("2026-03-01");
    app.grant(&court, input).await.ok();
    // Reported out of order: the place follows when each occurred.
    let second = app
        .gql(
            &met,
            REPORT,
            breach("WMC/BP/1", "2026-03-05T10:00:00Z", "BP-2", true),
        )
        .await;
    assert_eq!(second.ok()["reportBreach"]["ordinal"], 1);
    let first = app
        .gql(
            &met,
            REPORT,
            breach("WMC/BP/1", "2026-03-02T10:00:00Z", "BP-1", false),
        )
        .await;
    assert_eq!(first.ok()["reportBreach"]["ordinal"], 1);
    let third = app
        .gql(
            &met,
            REPORT,
            breach("WMC/BP/1", "2026-03-08T10:00:00Z", "BP-3", false),
        )
        .await;
    assert_eq!(third.ok()["reportBreach"]["ordinal"], 3);
    let listed = app
        .gql(&met, "{ order(reference: \"WMC/BP/1\") { breaches { externalRef ordinal recordedAsCrime } } }", json!({}))
        .await;
    assert_eq!(
        listed.ok()["order"]["breaches"],
        json!([
            { "externalRef": "BP-1", "ordinal": 1, "recordedAsCrime": false },
            { "externalRef": "BP-2", "ordinal": 2, "recordedAsCrime": true },
            { "externalRef": "BP-3", "ordinal": 3, "recordedAsCrime": false },
        ])
    );
    // Recorded as a crime later, with an outcome.
    let id = third.ok()["reportBreach"]["id"].clone();
    let updated = app
        .gql(
            &met,
            "mutation($id: ID!) { updateBreachOutcome(id: $id, outcome: UNDER_INVESTIGATION, recordedAsCrime: true) { recordedAsCrime outcome } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        updated.ok()["updateBreachOutcome"],
        json!({ "recordedAsCrime": true, "outcome": "UNDER_INVESTIGATION" })
    );
    let stats = app
        .gql(
            &app.token(Role::Analyst, "STATS"),
            "{ statistics(from: \"2026-01-01\", to: \"2026-03-31\") { breachesReported breachesRecordedAsCrime } }",
            json!({}),
        )
        .await;
    assert_eq!(
        stats.ok()["statistics"],
        json!([{ "breachesReported": 3, "breachesRecordedAsCrime": 2 }])
    );
}

#[tokio::test]
async fn police_see_a_subjects_orders_breaches_and_the_people_they_protect_across_orders() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let met = app.token(Role::Police, "MET");
    app.grant(&court, spo_input(&app, "WMC/SH/1")).await.ok();
    // The same subject under another spelling, protecting someone else.
    let mut second = spo_input(&app, "WMC/SH/2");
    second["subject"]["names"] = json!(["SAM  subject"]);
    second["protectedPersons"] = json!([{ "name": "Alex Other", "dateOfBirth": "1985-02-02" }]);
    app.grant(&court, second).await.ok();
    // Another person of the same name, born on another day.
    let mut stranger = spo_input(&app, "WMC/SH/3");
    stranger["subject"]["dateOfBirth"] = json!("1981-05-05");
    app.grant(&court, stranger).await.ok();
    app.gql(
        &met,
        REPORT,
        breach("WMC/SH/2", &app.now().to_rfc3339(), "SH-1", false),
    )
    .await
    .ok();

    let history = app.gql(&met, HISTORY, json!({ "r": "WMC/SH/1" })).await;
    assert_eq!(
        history.ok()["subjectHistory"],
        json!({ "orders": 2, "breaches": 1, "peopleProtected": 2, "repeatPerpetrator": true })
    );
    let alone = app.gql(&met, HISTORY, json!({ "r": "WMC/SH/3" })).await;
    assert_eq!(
        alone.ok()["subjectHistory"],
        json!({ "orders": 1, "breaches": 0, "peopleProtected": 1, "repeatPerpetrator": false })
    );
    assert!(app
        .gql(&met, HISTORY, json!({ "r": "WMC/NOPE" }))
        .await
        .ok()["subjectHistory"]
        .is_null());

    for (role, agency) in [
        (Role::Court, "WMC"),
        (Role::Advocate, "ADV-A"),
        (Role::Analyst, "STATS"),
    ] {
        let r = app
            .gql(
                &app.token(role, agency),
                HISTORY,
                json!({ "r": "WMC/SH/1" }),
            )
            .await;
        assert_eq!(r.codes(), ["FORBIDDEN"], "{role:?}");
    }

    // Combining records about a person is recorded as such, naming every order combined.
    let events = app
        .gql(
            &app.token(Role::Auditor, "DPO"),
            AUDIT_EVENTS,
            json!({ "f": { "operation": "COMBINE" } }),
        )
        .await;
    let events = events.ok()["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    let combined: Vec<&Value> = events
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["action"] == "subjectHistory")
        .collect();
    assert_eq!(combined.len(), 2, "{events:?}");
    assert_eq!(combined[0]["objectIds"].as_array().unwrap().len(), 2);
    assert_eq!(combined[0]["actor"]["agency"], "MET");
}
