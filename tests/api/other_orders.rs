//! A DAPO's subject already under another order's notification requirements: the DAPO's own do not apply while those
//! last (Domestic Abuse Act 2021 s41(8)(a): another DAPO; (b): an SPO's, Stalking Protection Act 2019 s9), and apply
//! from the day they end (s41(9)). The other orders are found by the subject match rule, and when one changes the
//! DAPO's deadlines follow.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};

const DEADLINES: &str =
    "query($r: String!) { order(reference: $r) { deadlines { kind dueAt status } } }";
const NOTIFY: &str =
    "mutation($i: RecordNotificationInput!) { recordNotification(input: $i) { reference } }";

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

fn order(app: &TestApp, reference: &str, kind: &str, expires_on: Option<&str>) -> Value {
    let mut input = spo_input(app, reference);
    input["type"] = json!(kind);
    if kind != "SPO" {
        input["expiresOn"] = json!(expires_on);
    }
    input
}

/// The order's notification deadlines: (kind, dueAt, status).
async fn notifications(app: &TestApp, reference: &str) -> Vec<(String, String, String)> {
    let got = app
        .gql(
            &app.token(Role::Police, "MET"),
            DEADLINES,
            json!({ "r": reference }),
        )
        .await;
    notification_rows(&got.ok()["order"]["deadlines"])
}

/// Service of the order an hour before the clock's time.
async fn serve(app: &TestApp, reference: &str) {
    let at = (app.now() - chrono::Duration::hours(1)).to_rfc3339();
    app.gql(
        &app.token(Role::Police, "MET"),
        "mutation($r: String!, $at: DateTime!) { recordService(reference: $r, servedAt: $at, method: PERSONAL) { reference } }",
        json!({ "r": reference, "at": at }),
    )
    .await
    .ok();
}

fn initial(due: &str, status: &str) -> (String, String, String) {
    ("NOTIFICATION_INITIAL".into(), due.into(), status.into())
}

#[tokio::test]
async fn a_dapo_subject_under_an_spo_notifies_under_the_dapo_from_the_day_the_spo_ends() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let met = app.token(Role::Police, "MET");
    app.clock.set(at("2026-03-02T09:00:00Z"));
    app.grant(&court, spo_input(&app, "WMC/SPO/1")).await.ok();
    serve(&app, "WMC/SPO/1").await;
    // Another subject's SPO, never served: they notify under neither, so their DAPO's own requirements apply.
    let mut unserved = spo_input(&app, "WMC/SPO/9");
    unserved["subject"]["dateOfBirth"] = json!("1970-01-01");
    app.grant(&court, unserved).await.ok();
    app.clock.set(at("2026-03-10T09:00:00Z"));
    app.grant(&court, order(&app, "WMC/DAPO/1", "DAPO", None))
        .await
        .ok();
    // Due within 3 days beginning with the day made (s41(2)).
    let mut other = order(&app, "WMC/DAPO/9", "DAPO", None);
    other["subject"]["dateOfBirth"] = json!("1970-01-01");
    app.grant(&court, other).await.ok();
    assert_eq!(
        notifications(&app, "WMC/DAPO/9").await,
        [initial("2026-03-13T00:00:00Z", "OPEN")]
    );
    // The SPO's last day is 1 March 2028: from the next day the DAPO's requirements apply (s41(9)).
    assert_eq!(
        notifications(&app, "WMC/DAPO/1").await,
        [initial("2028-03-05T00:00:00Z", "OPEN")]
    );
    // A change while the SPO's requirements apply needs no notification under the DAPO.
    app.clock.set(at("2026-03-21T09:00:00Z"));
    app.gql(
        &met,
        NOTIFY,
        json!({ "i": { "reference": "WMC/DAPO/1", "kind": "HOME_ADDRESS",
        "source": "POLICE", "notifiedAt": "2026-03-21T08:00:00Z", "changedOn": "2026-03-20" } }),
    )
    .await
    .ok();
    assert_eq!(
        notifications(&app, "WMC/DAPO/1").await,
        [initial("2028-03-05T00:00:00Z", "OPEN")]
    );

    // The SPO is discharged on 1 April (recorded the next day): from that day the DAPO's requirements apply.
    app.clock.set(at("2026-04-02T09:00:00Z"));
    app.gql(
        &court,
        "mutation($i: DischargeOrderInput!) { dischargeOrder(input: $i) { status } }",
        json!({ "i": { "reference": "WMC/SPO/1", "consentOfSubjectAndChiefOfficer": true, "decidedOn": "2026-04-01" } }),
    )
    .await
    .ok();
    assert_eq!(
        notifications(&app, "WMC/DAPO/1").await,
        [initial("2026-04-03T23:00:00Z", "OPEN")]
    );
    // A second before it is due, the subject notifies: met.
    app.clock.set(at("2026-04-03T23:00:00Z"));
    app.gql(&met, NOTIFY, json!({ "i": { "reference": "WMC/DAPO/1", "kind": "INITIAL",
        "source": "SUBJECT", "notifiedAt": "2026-04-03T22:59:59Z", "details": "name and address" } }))
        .await
        .ok();
    assert_eq!(
        notifications(&app, "WMC/DAPO/1").await,
        [initial("2026-04-03T23:00:00Z", "MET")]
    );
}

#[tokio::test]
async fn a_dapo_under_an_earlier_dapo_follows_that_one_s_end_as_it_is_varied() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    app.clock.set(at("2026-03-02T09:00:00Z"));
    app.grant(
        &court,
        order(&app, "WMC/DAPO/A", "DAPO", Some("2026-06-30")),
    )
    .await
    .ok();
    app.clock.set(at("2026-03-05T09:00:00Z"));
    app.grant(&court, order(&app, "WMC/DAPO/B", "DAPO", None))
        .await
        .ok();
    // The earlier DAPO's own requirements apply; the later one's from the day after the earlier one's last day.
    assert_eq!(
        notifications(&app, "WMC/DAPO/A").await,
        [initial("2026-03-05T00:00:00Z", "MISSED")]
    );
    assert_eq!(
        notifications(&app, "WMC/DAPO/B").await,
        [initial("2026-07-03T23:00:00Z", "OPEN")]
    );
    // The earlier DAPO is varied to end on 31 May: the later one's deadline moves with it.
    app.gql(
        &court,
        "mutation($i: VaryOrderInput!) { varyOrder(input: $i) { expiresOn } }",
        json!({ "i": { "reference": "WMC/DAPO/A", "expiresOn": "2026-05-31" } }),
    )
    .await
    .ok();
    assert_eq!(
        notifications(&app, "WMC/DAPO/B").await,
        [initial("2026-06-03T23:00:00Z", "OPEN")]
    );
}

#[tokio::test]
async fn an_interim_spo_replaced_by_the_full_order_goes_on_displacing_the_dapo_s_requirements() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    app.clock.set(at("2026-03-02T09:00:00Z"));
    app.grant(
        &court,
        order(&app, "WMC/ISPO/1", "INTERIM_SPO", Some("2026-05-31")),
    )
    .await
    .ok();
    serve(&app, "WMC/ISPO/1").await;
    app.clock.set(at("2026-03-10T09:00:00Z"));
    app.grant(&court, order(&app, "WMC/DAPO/1", "DAPO", None))
        .await
        .ok();
    assert_eq!(
        notifications(&app, "WMC/DAPO/1").await,
        [initial("2026-06-03T23:00:00Z", "OPEN")]
    );
    app.clock.set(at("2026-04-15T09:00:00Z"));
    let mut full = spo_input(&app, "WMC/SPO/1");
    full["replacesReference"] = json!("WMC/ISPO/1");
    app.grant(&court, full).await.ok();
    // The full SPO ends with 14 April 2028: the DAPO's requirements apply from the 15th.
    assert_eq!(
        notifications(&app, "WMC/DAPO/1").await,
        [initial("2028-04-17T23:00:00Z", "OPEN")]
    );
}
