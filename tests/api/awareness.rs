//! Orders made without notice: a breach of a non-molestation order or DAPO made without notice is an offence only in
//! respect of behaviour once the subject was aware of the order (Family Law Act 1996 s42A(2), Domestic Abuse Act
//! 2021 s39(2)), by service or as police record it; checked a second before, at and after.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};

const REPORT: &str = "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }";
const AWARE: &str = "mutation($r: String!, $at: DateTime!) { recordAwareness(reference: $r, awareAt: $at) { withoutNotice subjectAwareAt } }";
const SERVE: &str = "mutation($r: String!, $at: DateTime!) { recordService(reference: $r, servedAt: $at, method: PERSONAL) { subjectAwareAt } }";

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

/// An order of `kind` WMC made on 1 June 2026 on MET's application, without notice when `without_notice`.
async fn order(app: &TestApp, kind: &str, reference: &str, without_notice: bool) {
    app.clock.set(at("2026-06-01T09:00:00Z"));
    let mut input = spo_input(app, reference);
    input["type"] = json!(kind);
    input["withoutNotice"] = json!(without_notice);
    if kind != "SPO" {
        input["expiresOn"] = json!("2027-05-31");
    }
    app.grant(&app.token(Role::Court, "WMC"), input).await.ok();
    app.clock.set(at("2026-06-20T09:00:00Z"));
}

async fn report(app: &TestApp, reference: &str, occurred: &str, ext: &str) -> Gql {
    let i = json!({ "reference": reference, "occurredAt": occurred, "description": "d", "externalRef": ext });
    app.gql(&app.token(Role::Police, "MET"), REPORT, json!({ "i": i }))
        .await
}

#[tokio::test]
async fn a_breach_of_a_non_molestation_order_made_without_notice_counts_from_service() {
    let app = TestApp::spawn().await.with_agencies().await;
    let met = app.token(Role::Police, "MET");
    order(&app, "NON_MOLESTATION_ORDER", "WMC/WN/1", true).await;
    let before = app.snapshot().await;
    // Not yet served, nor known to be aware.
    report(&app, "WMC/WN/1", "2026-06-05T12:00:00Z", "WN-1")
        .await
        .err("BREACH_BEFORE_AWARENESS");
    assert_eq!(app.snapshot().await, before);

    let served = app
        .gql(
            &met,
            SERVE,
            json!({ "r": "WMC/WN/1", "at": "2026-06-10T15:00:00Z" }),
        )
        .await;
    assert_eq!(
        served.ok()["recordService"]["subjectAwareAt"],
        "2026-06-10T15:00:00Z"
    );
    report(&app, "WMC/WN/1", "2026-06-10T14:59:59Z", "WN-2")
        .await
        .err("BREACH_BEFORE_AWARENESS");
    report(&app, "WMC/WN/1", "2026-06-10T15:00:00Z", "WN-3")
        .await
        .ok();
    report(&app, "WMC/WN/1", "2026-06-10T15:00:01Z", "WN-4")
        .await
        .ok();
}

#[tokio::test]
async fn police_record_an_earlier_awareness_and_a_dapo_counts_from_it() {
    let app = TestApp::spawn().await.with_agencies().await;
    let met = app.token(Role::Police, "MET");
    order(&app, "DAPO", "WMC/WN/2", true).await;
    let aware = app
        .gql(
            &met,
            AWARE,
            json!({ "r": "WMC/WN/2", "at": "2026-06-03T08:00:00Z" }),
        )
        .await;
    assert_eq!(
        aware.ok()["recordAwareness"],
        json!({ "withoutNotice": true, "subjectAwareAt": "2026-06-03T08:00:00Z" })
    );
    report(&app, "WMC/WN/2", "2026-06-03T07:59:59Z", "WN-5")
        .await
        .err("BREACH_BEFORE_AWARENESS");
    report(&app, "WMC/WN/2", "2026-06-03T08:00:00Z", "WN-6")
        .await
        .ok();

    // A later time than one known, or service after it, leaves the earliest; repeating it changes nothing.
    let before = app.snapshot().await;
    for later in ["2026-06-04T08:00:00Z", "2026-06-03T08:00:00Z"] {
        let again = app
            .gql(&met, AWARE, json!({ "r": "WMC/WN/2", "at": later }))
            .await;
        assert_eq!(
            again.ok()["recordAwareness"]["subjectAwareAt"],
            "2026-06-03T08:00:00Z"
        );
    }
    assert_eq!(app.snapshot().await, before);
    let served = app
        .gql(
            &met,
            SERVE,
            json!({ "r": "WMC/WN/2", "at": "2026-06-05T08:00:00Z" }),
        )
        .await;
    assert_eq!(
        served.ok()["recordService"]["subjectAwareAt"],
        "2026-06-03T08:00:00Z"
    );
}

#[tokio::test]
async fn awareness_is_for_orders_made_without_notice_and_within_the_orders_life() {
    let app = TestApp::spawn().await.with_agencies().await;
    let met = app.token(Role::Police, "MET");
    // On notice: the subject is taken to know; a breach before service is recorded as any other.
    order(&app, "NON_MOLESTATION_ORDER", "WMC/WN/3", false).await;
    report(&app, "WMC/WN/3", "2026-06-05T12:00:00Z", "WN-7")
        .await
        .ok();
    let before = app.snapshot().await;
    app.gql(
        &met,
        AWARE,
        json!({ "r": "WMC/WN/3", "at": "2026-06-03T08:00:00Z" }),
    )
    .await
    .err("NOT_MADE_WITHOUT_NOTICE");
    assert_eq!(app.snapshot().await, before);

    // Without notice, but an SPO: the Stalking Protection Act has no such rule.
    order(&app, "SPO", "WMC/WN/4", true).await;
    report(&app, "WMC/WN/4", "2026-06-05T12:00:00Z", "WN-8")
        .await
        .ok();

    order(&app, "DAPO", "WMC/WN/5", true).await;
    let before_times = app.snapshot().await;
    for (when, what) in [
        ("2026-05-31T22:59:59Z", "before 1 June in London"),
        ("2026-06-20T09:06:00Z", "in the future"),
    ] {
        let r = app
            .gql(&met, AWARE, json!({ "r": "WMC/WN/5", "at": when }))
            .await;
        assert_eq!(r.codes(), ["AWARE_AT_OUT_OF_RANGE"], "{what}");
    }
    assert_eq!(app.snapshot().await, before_times);
    // 23:00 UTC on 31 May is midnight on 1 June in London: the day the order was made.
    app.gql(
        &met,
        AWARE,
        json!({ "r": "WMC/WN/5", "at": "2026-05-31T23:00:00Z" }),
    )
    .await
    .ok();
    assert_ne!(app.snapshot().await, before_times);

    // A police notice is given to the person, never made without notice.
    let mut dvpn = spo_input(&app, "MET/WN/6");
    dvpn["type"] = json!("DVPN");
    dvpn["expiresOn"] = Value::Null;
    dvpn["conditions"] = json!([]);
    dvpn["withoutNotice"] = json!(true);
    let refused = app.grant(&met, dvpn).await;
    assert!(
        refused
            .codes()
            .contains(&"WITHOUT_NOTICE_NOT_APPLICABLE".to_string()),
        "{:?}",
        refused.codes()
    );
}
