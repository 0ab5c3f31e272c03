//! A subject who becomes subject to Sexual Offences Act 2003 Part 2 notification after an SPO was made: the order's
//! own requirements do not apply while that lasts (Stalking Protection Act 2019 s9(5)): an initial notification not
//! yet made and not yet due when it began is no longer owed, and a change while it lasts needs none under the order.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};

const SET: &str = "mutation($r: String!, $reg: Boolean!, $start: Date, $last: Date) { setSoaPart2Notification(reference: $r, \
    registered: $reg, startDay: $start, finalDay: $last) { soaPart2Notification { startDay finalDay } deadlines { kind dueAt status } } }";
const NOTIFY: &str =
    "mutation($i: RecordNotificationInput!) { recordNotification(input: $i) { deadlines { kind dueAt status } } }";

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

fn row(kind: &str, due: &str, status: &str) -> (String, String, String) {
    (kind.into(), due.into(), status.into())
}

/// An SPO made and served on 1 June 2026, its subject of the given date of birth: the initial notification is due
/// at the end of 3 June (23:00 UTC, summer time).
async fn served_spo(app: &TestApp, reference: &str, born: &str) {
    let mut spo = spo_input(app, reference);
    spo["subject"]["dateOfBirth"] = json!(born);
    app.grant(&app.token(Role::Court, "WMC"), spo).await.ok();
    app.gql(
        &app.token(Role::Police, "MET"),
        "mutation($r: String!) { recordService(reference: $r, servedAt: \"2026-06-01T08:30:00Z\", method: IN_COURT) { reference } }",
        json!({ "r": reference }),
    )
    .await
    .ok();
}

#[tokio::test]
async fn a_registration_beginning_after_the_spo_suspends_its_requirements_while_it_lasts() {
    let app = TestApp::spawn().await.with_agencies().await;
    let met = app.token(Role::Police, "MET");
    app.clock.set(at("2026-06-01T09:00:00Z"));
    served_spo(&app, "WMC/RL/1", "1980-01-01").await;
    served_spo(&app, "WMC/RL/2", "1980-01-02").await;
    served_spo(&app, "WMC/RL/3", "1980-01-03").await;
    // RL/3's subject made the initial notification before the registration began.
    app.clock.set(at("2026-06-02T12:00:00Z"));
    app.gql(
        &met,
        NOTIFY,
        json!({ "i": { "reference": "WMC/RL/3", "kind": "INITIAL", "source": "SUBJECT",
        "notifiedAt": "2026-06-02T10:00:00Z", "details": "name and address" } }),
    )
    .await
    .ok();

    // Recorded once it has begun: on 4 June, after RL/1's and RL/2's deadline passed unmet.
    app.clock.set(at("2026-06-04T12:00:00Z"));
    let set = |r: &'static str, start: &'static str| {
        let (app, met) = (&app, met.clone());
        async move {
            let got = app
                .gql(
                    &met,
                    SET,
                    json!({ "r": r, "reg": true, "start": start, "last": "2026-09-01" }),
                )
                .await;
            got.ok()["setSoaPart2Notification"].clone()
        }
    };
    // Begun on 3 June, before the deadline at its end: the initial notification is no longer owed (waived).
    let one = set("WMC/RL/1", "2026-06-03").await;
    assert_eq!(
        one["soaPart2Notification"],
        json!({ "startDay": "2026-06-03", "finalDay": "2026-09-01" })
    );
    assert_eq!(
        notification_rows(&one["deadlines"]),
        [row(
            "NOTIFICATION_INITIAL",
            "2026-06-03T23:00:00Z",
            "WAIVED"
        )]
    );
    // Begun on 4 June, at the deadline: it was owed, and missed.
    let two = set("WMC/RL/2", "2026-06-04").await;
    assert_eq!(
        notification_rows(&two["deadlines"]),
        [row(
            "NOTIFICATION_INITIAL",
            "2026-06-03T23:00:00Z",
            "MISSED"
        )]
    );
    // Made before it began: kept, met.
    let three = set("WMC/RL/3", "2026-06-03").await;
    assert_eq!(
        notification_rows(&three["deadlines"]),
        [row("NOTIFICATION_INITIAL", "2026-06-03T23:00:00Z", "MET")]
    );

    // A change while the registration lasts needs none under the order; one on its final day does.
    app.clock.set(at("2026-09-02T09:00:00Z"));
    // One the day before it began, not due until after: no longer owed either.
    for changed in ["2026-06-02", "2026-07-01", "2026-09-01"] {
        app.gql(&met, NOTIFY, json!({ "i": { "reference": "WMC/RL/1", "kind": "HOME_ADDRESS", "source": "POLICE",
            "notifiedAt": "2026-09-02T08:00:00Z", "changedOn": changed, "details": "new address" } }))
            .await
            .ok();
    }
    let got = app
        .gql(
            &met,
            SET,
            json!({ "r": "WMC/RL/1", "reg": true, "start": "2026-06-03", "last": "2026-09-01" }),
        )
        .await;
    assert_eq!(
        notification_rows(&got.ok()["setSoaPart2Notification"]["deadlines"]),
        [
            row("NOTIFICATION_HOME_ADDRESS", "2026-09-03T23:00:00Z", "OPEN"),
            row("NOTIFICATION_INITIAL", "2026-06-03T23:00:00Z", "WAIVED")
        ]
    );
}

#[tokio::test]
async fn a_registration_s_start_day_is_after_the_order_not_in_the_future_and_before_its_final_day()
{
    let app = TestApp::spawn().await.with_agencies().await;
    let met = app.token(Role::Police, "MET");
    app.clock.set(at("2026-06-01T09:00:00Z"));
    served_spo(&app, "WMC/RL/4", "1980-01-04").await;
    app.clock.set(at("2026-06-10T09:00:00Z"));
    let before = app.snapshot().await;
    let cases = [
        // Not after the day the order was made.
        (
            true,
            "2026-06-01",
            Value::Null,
            "soaPart2Notification.startDay",
        ),
        // Not yet begun.
        (
            true,
            "2026-06-11",
            Value::Null,
            "soaPart2Notification.startDay",
        ),
        (
            true,
            "2026-06-05",
            json!("2026-06-05"),
            "soaPart2Notification.finalDay",
        ),
        (false, "2026-06-05", Value::Null, "startDay"),
    ];
    for (reg, start, last, field) in cases {
        let r = app
            .gql(
                &met,
                SET,
                json!({ "r": "WMC/RL/4", "reg": reg, "start": start, "last": last }),
            )
            .await;
        let e = r.err("SOA_NOTIFICATION_INVALID");
        assert_eq!(e["extensions"]["violations"][0]["field"], field, "{e}");
    }
    assert_eq!(app.snapshot().await, before);
}
