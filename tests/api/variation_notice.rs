//! A DAPO varied without notice to the subject so as to add a requirement or extend a period (Domestic Abuse Act
//! 2021 s45(8)): behaviour before the subject was aware of the variation breaches neither what it added nor the order
//! in the period it extended (s45(9)); police record the awareness, and the breach is checked a second before and at.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::json;

const REPORT: &str = "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }";
const VARY: &str =
    "mutation($i: VaryOrderInput!) { varyOrder(input: $i) { version conditions { id text } } }";
const AWARE: &str = "mutation($r: String!, $at: DateTime!, $v: Int) { recordAwareness(reference: $r, awareAt: $at, variation: $v) { versions { version withoutNotice subjectAwareAt } } }";

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

async fn report(app: &TestApp, occurred: &str, conditions: &[&str], ext: &str) -> Gql {
    let i = json!({ "reference": "WMC/DV/1", "occurredAt": occurred, "description": "d", "externalRef": ext,
        "conditionIds": conditions });
    app.gql(&app.token(Role::Police, "MET"), REPORT, json!({ "i": i }))
        .await
}

#[tokio::test]
async fn a_dapo_varied_without_notice_binds_what_it_added_once_the_subject_is_aware() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let met = app.token(Role::Police, "MET");
    app.clock.set(at("2026-06-01T09:00:00Z"));
    let mut dapo = spo_input(&app, "WMC/DV/1");
    dapo["type"] = json!("DAPO");
    dapo["expiresOn"] = json!("2026-12-31");
    dapo["conditions"] =
        json!([{ "kind": "PROHIBITION", "text": "Must not contact the protected person" }]);
    app.grant(&court, dapo).await.ok();

    // On 1 July, without notice: a new prohibition, and the order extended to 30 June 2027.
    app.clock.set(at("2026-07-01T09:00:00Z"));
    let varied = app
        .gql(&court, VARY, json!({ "i": { "reference": "WMC/DV/1", "expiresOn": "2027-06-30", "withoutNotice": true,
            "conditions": [
                { "kind": "PROHIBITION", "text": "Must not contact the protected person" },
                { "kind": "PROHIBITION", "text": "Must not enter Elm Street" } ] } }))
        .await;
    let varied = varied.ok()["varyOrder"].clone();
    assert_eq!(varied["version"], 2);
    let id = |text: &str| {
        varied["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["text"] == text)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (kept, added) = (
        id("Must not contact the protected person"),
        id("Must not enter Elm Street"),
    );

    // Not yet known to be aware: the added prohibition and the extended period do not bind; the kept one does.
    app.clock.set(at("2027-01-10T09:00:00Z"));
    let before = app.snapshot().await;
    let r = report(&app, "2026-07-05T12:00:00Z", &[&added], "DV-1").await;
    let e = r.err("BREACH_BEFORE_AWARENESS");
    assert_eq!(e["extensions"]["violations"][0]["field"], "conditionIds");
    let r = report(&app, "2027-01-05T12:00:00Z", &[&kept], "DV-2").await;
    let e = r.err("BREACH_BEFORE_AWARENESS");
    assert_eq!(e["extensions"]["violations"][0]["field"], "occurredAt");
    assert_eq!(app.snapshot().await, before);
    report(&app, "2026-07-05T12:00:00Z", &[&kept], "DV-3")
        .await
        .ok();

    // Police record that the subject learnt of the variation on 10 July at 15:00.
    let bad = app
        .gql(
            &met,
            AWARE,
            json!({ "r": "WMC/DV/1", "at": "2026-07-10T15:00:00Z", "v": 1 }),
        )
        .await;
    bad.err("NOT_MADE_WITHOUT_NOTICE");
    let aware = app
        .gql(
            &met,
            AWARE,
            json!({ "r": "WMC/DV/1", "at": "2026-07-10T15:00:00Z", "v": 2 }),
        )
        .await;
    assert_eq!(
        aware.ok()["recordAwareness"]["versions"][1],
        json!({ "version": 2, "withoutNotice": true, "subjectAwareAt": "2026-07-10T15:00:00Z" })
    );
    report(&app, "2026-07-10T14:59:59Z", &[&added], "DV-4")
        .await
        .err("BREACH_BEFORE_AWARENESS");
    report(&app, "2026-07-10T15:00:00Z", &[&added], "DV-5")
        .await
        .ok();
    report(&app, "2027-01-05T12:00:00Z", &[&kept], "DV-6")
        .await
        .ok();

    // Only a DAPO's variation is recorded as made without notice.
    let mut spo = spo_input(&app, "WMC/DV/2");
    spo["madeOn"] = json!("2027-01-10");
    app.grant(&court, spo).await.ok();
    let before = app.snapshot().await;
    let r = app
        .gql(
            &court,
            VARY,
            json!({ "i": { "reference": "WMC/DV/2", "conditions": [], "withoutNotice": true } }),
        )
        .await;
    assert_eq!(r.codes(), ["WITHOUT_NOTICE_NOT_APPLICABLE"]);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn later_proceedings_on_notice_or_service_make_the_subject_aware_of_a_variation() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    app.clock.set(at("2026-06-01T09:00:00Z"));
    for reference in ["WMC/DV/1", "WMC/DV/3"] {
        let mut dapo = spo_input(&app, reference);
        dapo["type"] = json!("DAPO");
        dapo["expiresOn"] = json!("2026-12-31");
        app.grant(&court, dapo).await.ok();
    }
    app.clock.set(at("2026-07-01T09:00:00Z"));
    for reference in ["WMC/DV/1", "WMC/DV/3"] {
        app.gql(&court, VARY, json!({ "i": { "reference": reference, "expiresOn": "2027-06-30", "withoutNotice": true } }))
            .await
            .ok();
    }
    // DV/1 is renewed on 20 July at a hearing the subject had notice of; DV/3 is served on 25 July.
    app.clock.set(at("2026-07-25T12:00:00Z"));
    app.gql(
        &court,
        "mutation { renewOrder(input: { reference: \"WMC/DV/1\", expiresOn: \"2027-07-31\", decidedOn: \"2026-07-20\" }) { version } }",
        json!({}),
    )
    .await
    .ok();
    app.gql(
        &app.token(Role::Police, "MET"),
        "mutation { recordService(reference: \"WMC/DV/3\", servedAt: \"2026-07-25T10:00:00Z\", method: PERSONAL) { reference } }",
        json!({}),
    )
    .await
    .ok();
    // A breach in the extended period is accepted: by then the subject knew of the variation.
    app.clock.set(at("2027-01-10T09:00:00Z"));
    let breach = |reference: &'static str, occurred: &'static str, ext: &'static str| {
        let app = &app;
        async move {
            let i = json!({ "reference": reference, "occurredAt": occurred, "description": "d", "externalRef": ext });
            app.gql(&app.token(Role::Police, "MET"), REPORT, json!({ "i": i }))
                .await
        }
    };
    breach("WMC/DV/1", "2027-01-05T12:00:00Z", "DV-11")
        .await
        .ok();
    breach("WMC/DV/3", "2027-01-05T12:00:00Z", "DV-31")
        .await
        .ok();
}
