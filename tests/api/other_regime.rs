//! An SPO whose subject is under Sexual Offences Act 2003 Part 2 notification: its own notification requirements
//! apply only from the day those end, and then within 3 days beginning with that day (Stalking Protection Act 2019
//! s9(5)-(7)), through the API on both backends.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};

const DEADLINES: &str = "query($r: String!) { order(reference: $r) { soaPart2Notification { finalDay } deadlines { kind dueAt } } }";

#[tokio::test]
async fn an_spo_subject_under_sex_offender_notification_notifies_from_its_final_day() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set("2026-06-01T09:00:00Z".parse().unwrap());
    let court = app.token(Role::Court, "WMC");
    let met = app.token(Role::Police, "MET");
    let mut input = spo_input(&app, "WMC/SOA/1");
    input["soaPart2Notification"] = json!({ "finalDay": "2026-09-10" });
    app.grant(&court, input).await.ok();
    let mut indefinite = spo_input(&app, "WMC/SOA/2");
    indefinite["soaPart2Notification"] = json!({});
    app.grant(&court, indefinite).await.ok();
    for r in ["WMC/SOA/1", "WMC/SOA/2"] {
        app.gql(
            &met,
            "mutation($r: String!) { recordService(reference: $r, servedAt: \"2026-06-01T08:30:00Z\", method: IN_COURT) { reference } }",
            json!({ "r": r }),
        )
        .await
        .ok();
    }
    let initial = |r: &str| {
        let r = r.to_string();
        let app = &app;
        let met = met.clone();
        async move {
            let got = app.gql(&met, DEADLINES, json!({ "r": r })).await;
            let order = got.ok()["order"].clone();
            let due: Vec<String> = order["deadlines"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"] == "NOTIFICATION_INITIAL")
                .map(|d| d["dueAt"].as_str().unwrap().to_string())
                .collect();
            (order["soaPart2Notification"].clone(), due)
        }
    };
    // Three days beginning with 10 September: the end of the 12th, London summer time.
    assert_eq!(
        initial("WMC/SOA/1").await,
        (
            json!({ "finalDay": "2026-09-10" }),
            vec!["2026-09-12T23:00:00Z".to_string()]
        )
    );
    assert_eq!(
        initial("WMC/SOA/2").await,
        (json!({ "finalDay": null }), vec![])
    );

    // The grant's audit entry names the field (never its value).
    let grants: Vec<Value> = audit_events(&app, json!({ "actorAgency": "WMC" }))
        .await
        .into_iter()
        .filter(|e| e["action"] == "grantOrder" && e["operation"] == "COLLECT")
        .collect();
    assert_eq!(grants.len(), 2);
    assert!(grants.iter().all(|e| e["fields"]
        .as_array()
        .unwrap()
        .contains(&json!("soaPart2Notification"))));

    // Only an SPO's, a DAPO's or an SHPO's requirements give way, and the final day comes after the day the order is
    // made.
    let before = app.snapshot().await;
    let mut dapo = spo_input(&app, "WMC/SOA/3");
    dapo["type"] = json!("RESTRAINING_ORDER");
    dapo["soaPart2Notification"] = json!({ "finalDay": "2026-09-10" });
    let mut same_day = spo_input(&app, "WMC/SOA/4");
    same_day["soaPart2Notification"] = json!({ "finalDay": "2026-06-01" });
    for bad in [dapo, same_day] {
        let r = app.grant(&court, bad).await;
        assert_eq!(r.codes(), ["SOA_NOTIFICATION_INVALID"]);
    }
    assert_eq!(app.snapshot().await, before);
}

/// The managing force corrects the record when the court did not give the subject's registration, and the order's
/// deadlines are planned again; no other force may, and a bad combination changes nothing.
#[tokio::test]
async fn the_managing_force_corrects_the_subjects_registration_and_the_deadlines_follow() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set("2026-06-01T09:00:00Z".parse().unwrap());
    let met = app.token(Role::Police, "MET");
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/SOA/5"))
        .await
        .ok();
    app.gql(
        &met,
        "mutation { recordService(reference: \"WMC/SOA/5\", servedAt: \"2026-06-01T08:30:00Z\", method: IN_COURT) { reference } }",
        json!({}),
    )
    .await
    .ok();
    const SET: &str = "mutation($registered: Boolean!, $d: Date) { setSoaPart2Notification(reference: \"WMC/SOA/5\", registered: $registered, finalDay: $d) { soaPart2Notification { finalDay } deadlines { kind dueAt } } }";
    let initial = |r: &Gql| -> Vec<String> {
        r.ok()["setSoaPart2Notification"]["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"] == "NOTIFICATION_INITIAL")
            .map(|d| d["dueAt"].as_str().unwrap().to_string())
            .collect()
    };
    let before = app.snapshot().await;
    let other = app
        .gql(
            &app.token(Role::Police, "GMP"),
            SET,
            json!({ "registered": true }),
        )
        .await;
    assert_eq!(other.codes(), ["NOT_ORDER_AGENCY"]);
    let mixed = app
        .gql(&met, SET, json!({ "registered": false, "d": "2026-09-10" }))
        .await;
    assert_eq!(mixed.codes(), ["SOA_NOTIFICATION_INVALID"]);
    assert_eq!(app.snapshot().await, before);

    let set = app
        .gql(&met, SET, json!({ "registered": true, "d": "2026-09-10" }))
        .await;
    assert_eq!(
        set.ok()["setSoaPart2Notification"]["soaPart2Notification"],
        json!({ "finalDay": "2026-09-10" })
    );
    assert_eq!(initial(&set), ["2026-09-12T23:00:00Z"]);
    let again = app.snapshot().await;
    let same = app
        .gql(&met, SET, json!({ "registered": true, "d": "2026-09-10" }))
        .await;
    assert_eq!(initial(&same), ["2026-09-12T23:00:00Z"]);
    assert_eq!(app.snapshot().await, again);
    // Cleared: the duty runs from service again (3 days beginning with 1 June).
    let cleared = app.gql(&met, SET, json!({ "registered": false })).await;
    assert_eq!(initial(&cleared), ["2026-06-03T23:00:00Z"]);
}

/// A DAPO's subject who ceases to have any home address notifies the police within 3 days beginning with that day
/// (Domestic Abuse Act 2021 s41(6)); police who learn of it elsewhere record it, and the deadline is missed when the
/// subject does not notify; no other order type has the duty.
#[tokio::test]
async fn a_dapo_subject_notifies_having_no_home_address_within_3_days() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set("2026-06-01T09:00:00Z".parse().unwrap());
    let met = app.token(Role::Police, "MET");
    let mut dapo = spo_input(&app, "WMC/NHA/1");
    dapo["type"] = json!("DAPO");
    dapo["expiresOn"] = Value::Null;
    app.grant(&app.token(Role::Court, "WMC"), dapo).await.ok();
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/NHA/2"))
        .await
        .ok();
    const NOTIFY: &str = "mutation($i: RecordNotificationInput!) { recordNotification(input: $i) { deadlines { kind status dueAt } } }";
    app.clock.set("2026-06-10T09:00:00Z".parse().unwrap());
    let learnt = app
        .gql(
            &met,
            NOTIFY,
            json!({ "i": { "reference": "WMC/NHA/1", "kind": "NO_HOME_ADDRESS", "source": "POLICE",
                "notifiedAt": "2026-06-10T08:00:00Z", "changedOn": "2026-06-08" } }),
        )
        .await;
    let deadline: Vec<Value> = learnt.ok()["recordNotification"]["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "NOTIFICATION_NO_HOME_ADDRESS")
        .cloned()
        .collect();
    // Three days beginning with 8 June: the end of the 10th, London summer time; still open at 09:00 that day.
    assert_eq!(
        deadline,
        [
            json!({ "kind": "NOTIFICATION_NO_HOME_ADDRESS", "status": "OPEN", "dueAt": "2026-06-10T23:00:00Z" })
        ]
    );
    let before = app.snapshot().await;
    let spo = app
        .gql(
            &met,
            NOTIFY,
            json!({ "i": { "reference": "WMC/NHA/2", "kind": "NO_HOME_ADDRESS", "source": "POLICE",
                "notifiedAt": "2026-06-10T08:00:00Z", "changedOn": "2026-06-08" } }),
        )
        .await;
    assert_eq!(spo.codes(), ["NOTIFICATION_KIND_NOT_APPLICABLE"]);
    assert_eq!(app.snapshot().await, before);
}

/// An SHPO makes a subject who was not a relevant offender notify within 3 days beginning with the day of service
/// (Sexual Offences Act 2003 s103G(2)-(3), s83(1)), then each change within 3 days (s84(1)); a subject who was one
/// notifies under that registration (s103G(1)), so nothing is planned or recorded under the order.
#[tokio::test]
async fn an_shpo_subject_notifies_from_service_unless_already_a_relevant_offender() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set("2026-03-26T09:00:00Z".parse().unwrap());
    let court = app.token(Role::Court, "WMC");
    let met = app.token(Role::Police, "MET");
    let shpo = |reference: &str| {
        let mut input = spo_input(&app, reference);
        input["type"] = json!("SHPO");
        input["expiresOn"] = json!("2031-03-25");
        input
    };
    app.grant(&court, shpo("WMC/SHPO/1")).await.ok();
    app.grant(&court, shpo("WMC/SHPO/4")).await.ok();
    let mut registered = shpo("WMC/SHPO/2");
    registered["soaPart2Notification"] = json!({});
    app.grant(&court, registered).await.ok();
    let deadlines = |r: &'static str| {
        let (app, met) = (&app, met.clone());
        async move {
            let got = app.gql(&met, "query($r: String!) { order(reference: $r) { deadlines { kind dueAt status statute } } }", json!({ "r": r })).await;
            got.ok()["order"]["deadlines"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].as_str().unwrap().starts_with("NOTIFICATION"))
                .cloned()
                .collect::<Vec<Value>>()
        }
    };
    // Nothing is due before service.
    assert_eq!(deadlines("WMC/SHPO/1").await, Vec::<Value>::new());
    // Served on Friday 27 March 2026: 3 days beginning with it end at midnight on Sunday 29 March, the night the
    // clocks go forward (23:00 UTC).
    app.clock.set("2026-03-27T11:00:00Z".parse().unwrap());
    for r in ["WMC/SHPO/1", "WMC/SHPO/2", "WMC/SHPO/4"] {
        app.gql(
            &met,
            "mutation($r: String!) { recordService(reference: $r, servedAt: \"2026-03-27T10:00:00Z\", method: PERSONAL) { reference } }",
            json!({ "r": r }),
        )
        .await
        .ok();
    }
    let due = deadlines("WMC/SHPO/1").await;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0]["kind"], "NOTIFICATION_INITIAL");
    assert_eq!(due[0]["dueAt"], "2026-03-29T23:00:00Z");
    assert_eq!(
        due[0]["statute"],
        "Sexual Offences Act 2003 s83(1), s103G(2)-(3)"
    );
    assert_eq!(deadlines("WMC/SHPO/2").await, Vec::<Value>::new());

    let notify = |r: &'static str,
                  at: &'static str,
                  kind: &'static str,
                  changed: Option<&'static str>| {
        let (app, met) = (&app, met.clone());
        async move {
            app.gql(
                &met,
                "mutation($i: RecordNotificationInput!) { recordNotification(input: $i) { reference } }",
                json!({ "i": { "reference": r, "kind": kind, "notifiedAt": at, "changedOn": changed, "details": "at the station" } }),
            )
            .await
        }
    };
    // The registered subject's notifications are not the order's: refused, and nothing changes.
    app.clock.set("2026-03-28T09:00:00Z".parse().unwrap());
    let before = app.snapshot().await;
    let r = notify("WMC/SHPO/2", "2026-03-28T08:00:00Z", "INITIAL", None).await;
    assert_eq!(r.codes(), ["NOTIFICATION_NOT_REQUIRED"]);
    assert_eq!(app.snapshot().await, before);
    // A second before the end of the third day: met.
    app.clock.set("2026-03-30T09:00:00Z".parse().unwrap());
    notify("WMC/SHPO/1", "2026-03-29T22:59:59Z", "INITIAL", None)
        .await
        .ok();
    assert_eq!(deadlines("WMC/SHPO/1").await[0]["status"], "MET");
    // At the end itself: missed.
    notify("WMC/SHPO/4", "2026-03-29T23:00:00Z", "INITIAL", None)
        .await
        .ok();
    assert_eq!(deadlines("WMC/SHPO/4").await[0]["status"], "MISSED");
    // A change of home address on 30 March: due by the end of 1 April, under s84(1).
    notify(
        "WMC/SHPO/1",
        "2026-03-30T08:00:00Z",
        "HOME_ADDRESS",
        Some("2026-03-30"),
    )
    .await
    .ok();
    let change = deadlines("WMC/SHPO/1").await;
    let home = change
        .iter()
        .find(|d| d["kind"] == "NOTIFICATION_HOME_ADDRESS")
        .unwrap();
    assert_eq!(home["dueAt"], "2026-04-01T23:00:00Z");
    assert_eq!(home["status"], "MET");
    assert_eq!(home["statute"], "Sexual Offences Act 2003 s84(1), s103G(2)");
    // A change dated before service is covered by the initial notification.
    let r = notify(
        "WMC/SHPO/1",
        "2026-03-30T08:00:00Z",
        "NEW_NAME",
        Some("2026-03-26"),
    )
    .await;
    assert_eq!(r.codes(), ["CHANGED_ON_BEFORE_DUTY"]);

    // A relevant offender's SHPO has no final day within it; other orders than SPOs and SHPOs take no registration.
    let before = app.snapshot().await;
    let mut final_day = shpo("WMC/SHPO/3");
    final_day["soaPart2Notification"] = json!({ "finalDay": "2027-01-01" });
    assert_eq!(
        app.grant(&court, final_day).await.codes(),
        ["SOA_NOTIFICATION_INVALID"]
    );
    assert_eq!(app.snapshot().await, before);
}

/// A DAPO's requirements do not apply while its subject is subject to Sexual Offences Act 2003 Part 2 notification
/// (Domestic Abuse Act 2021 s41(8)(b), read in statute text); from the day that ends they do (s41(9), whose text was
/// not read in full: taken as if the order were made that day).
#[tokio::test]
async fn a_dapo_subject_under_sex_offender_notification_notifies_from_its_final_day() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set("2026-06-01T09:00:00Z".parse().unwrap());
    let court = app.token(Role::Court, "WMC");
    let met = app.token(Role::Police, "MET");
    // Three subjects: one under another DAPO would notify under that one (s41(8)(a)).
    let dapo = |reference: &str, soa: Value| {
        let mut input = spo_input(&app, reference);
        input["type"] = json!("DAPO");
        input["expiresOn"] = json!("2027-05-31");
        input["soaPart2Notification"] = soa;
        input["subject"]["dateOfBirth"] =
            json!(format!("1980-05-0{}", &reference[reference.len() - 1..]));
        input
    };
    app.grant(
        &court,
        dapo("WMC/DSOA/1", json!({ "finalDay": "2026-10-24" })),
    )
    .await
    .ok();
    app.grant(&court, dapo("WMC/DSOA/2", json!({}))).await.ok();
    app.grant(&court, dapo("WMC/DSOA/3", Value::Null))
        .await
        .ok();
    let notifications = |r: &'static str| {
        let (app, met) = (&app, met.clone());
        async move {
            let got = app.gql(&met, DEADLINES, json!({ "r": r })).await;
            got.ok()["order"]["deadlines"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].as_str().unwrap().starts_with("NOTIFICATION"))
                .map(|d| {
                    (
                        d["kind"].as_str().unwrap().to_string(),
                        d["dueAt"].as_str().unwrap().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    // Three days beginning with Saturday 24 October 2026 end at midnight on the 26th, after the clocks go back on the
    // 25th (00:00 UTC).
    assert_eq!(
        notifications("WMC/DSOA/1").await,
        [(
            "NOTIFICATION_INITIAL".to_string(),
            "2026-10-27T00:00:00Z".to_string()
        )]
    );
    assert_eq!(notifications("WMC/DSOA/2").await, []);
    // Without the other regime, from the day made (s41(2)).
    assert_eq!(
        notifications("WMC/DSOA/3").await,
        [(
            "NOTIFICATION_INITIAL".to_string(),
            "2026-06-03T23:00:00Z".to_string()
        )]
    );
    // A change of address before the final day needs no notification under the order; one on it does.
    app.clock.set("2026-10-25T09:00:00Z".parse().unwrap());
    for changed in ["2026-10-23", "2026-10-24"] {
        app.gql(
            &met,
            "mutation($i: RecordNotificationInput!) { recordNotification(input: $i) { reference } }",
            json!({ "i": { "reference": "WMC/DSOA/1", "kind": "HOME_ADDRESS", "source": "POLICE", "notifiedAt": "2026-10-25T08:00:00Z", "changedOn": changed, "details": "new address" } }),
        )
        .await
        .ok();
    }
    let mut due = notifications("WMC/DSOA/1").await;
    due.sort();
    let expected: Vec<(String, String)> = ["NOTIFICATION_HOME_ADDRESS", "NOTIFICATION_INITIAL"]
        .iter()
        .map(|k| (k.to_string(), "2026-10-27T00:00:00Z".to_string()))
        .collect();
    assert_eq!(due, expected);
}

/// A DAPO may have effect until a specified event (Domestic Abuse Act 2021 s38(3)): it has no last day until the court
/// that made it records the day the event occurred, which becomes its last day. Only a DAPO may, never beside a last
/// day, and the day recorded is neither in the future nor before the order was made.
#[tokio::test]
async fn a_dapo_until_an_event_ends_on_the_day_the_court_records_it_occurred() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set("2026-03-02T10:00:00Z".parse().unwrap());
    let court = app.token(Role::Court, "WMC");
    let met = app.token(Role::Police, "MET");
    let dapo = |reference: &str| {
        let mut input = spo_input(&app, reference);
        input["type"] = json!("DAPO");
        input["expiresOn"] = Value::Null;
        input["untilEvent"] =
            json!("the conclusion of the criminal proceedings against the subject");
        input
    };
    let made = app.grant(&court, dapo("WMC/EV/1")).await;
    assert_eq!(made.codes(), Vec::<String>::new());
    const ORDER: &str = "query($r: String!) { order(reference: $r) { status expiresOn untilEvent deadlines { kind dueAt } versions { event decidedOn } } }";
    let order = |r: &'static str| {
        let (app, met) = (&app, met.clone());
        async move { app.gql(&met, ORDER, json!({ "r": r })).await.ok()["order"].clone() }
    };
    let o = order("WMC/EV/1").await;
    assert_eq!(
        o["untilEvent"],
        "the conclusion of the criminal proceedings against the subject"
    );
    assert_eq!(o["expiresOn"], Value::Null);
    assert!(!o["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["kind"] == "ORDER_END"));

    // Refused, changing nothing: another type, a last day as well, a day in the future or before the order.
    let before = app.snapshot().await;
    let mut spo = dapo("WMC/EV/2");
    spo["type"] = json!("SPO");
    spo["expiresOn"] = json!("2028-03-01");
    assert_eq!(
        app.grant(&court, spo).await.codes(),
        ["UNTIL_EVENT_NOT_APPLICABLE"]
    );
    let mut both = dapo("WMC/EV/3");
    both["expiresOn"] = json!("2027-03-01");
    assert_eq!(
        app.grant(&court, both).await.codes(),
        ["UNTIL_EVENT_WITH_END_DATE"]
    );
    const RECORD: &str = "mutation($r: String!, $d: Date!) { recordEndingEvent(input: { reference: $r, occurredOn: $d }) { expiresOn } }";
    let record = |token: String, r: &'static str, d: &'static str| {
        let app = &app;
        async move { app.gql(&token, RECORD, json!({ "r": r, "d": d })).await }
    };
    assert_eq!(
        record(court.clone(), "WMC/EV/1", "2026-03-03")
            .await
            .codes(),
        ["DECIDED_ON_IN_FUTURE"]
    );
    assert_eq!(
        record(court.clone(), "WMC/EV/1", "2026-03-01")
            .await
            .codes(),
        ["DECIDED_BEFORE_MADE"]
    );
    assert_eq!(
        record(app.token(Role::Court, "MMC"), "WMC/EV/1", "2026-03-02")
            .await
            .codes(),
        ["NOT_FOUND"]
    );
    app.grant(&court, spo_input(&app, "WMC/EV/4")).await.ok();
    let before_spo = app.snapshot().await;
    assert_eq!(
        record(court.clone(), "WMC/EV/4", "2026-03-02")
            .await
            .codes(),
        ["NOT_UNTIL_EVENT"]
    );
    assert_eq!(app.snapshot().await, before_spo);
    assert_ne!(before, before_spo, "the SPO was granted in between");

    // The event occurred today: in force to the end of the day (midnight London time, 00:00 UTC in March), a breach
    // then is a breach, and after it the order has expired.
    let r = record(court.clone(), "WMC/EV/1", "2026-03-02").await;
    assert_eq!(r.ok()["recordEndingEvent"]["expiresOn"], "2026-03-02");
    let o = order("WMC/EV/1").await;
    assert_eq!(o["status"], "IN_FORCE");
    let end = o["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "ORDER_END")
        .unwrap()
        .clone();
    assert_eq!(end["dueAt"], "2026-03-03T00:00:00Z");
    assert_eq!(
        o["versions"][1],
        json!({ "event": "EVENT_OCCURRED", "decidedOn": "2026-03-02" })
    );
    assert_eq!(
        record(court.clone(), "WMC/EV/1", "2026-03-02")
            .await
            .codes(),
        ["NOT_UNTIL_EVENT"]
    );
    let report = |occurred: &'static str, external: &'static str| {
        let (app, met) = (&app, met.clone());
        async move {
            app.gql(
                &met,
                "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }",
                json!({ "i": { "reference": "WMC/EV/1", "occurredAt": occurred, "description": "d", "externalRef": external } }),
            )
            .await
        }
    };
    app.clock.set("2026-03-03T09:00:00Z".parse().unwrap());
    report("2026-03-02T23:59:59Z", "EV-1").await.ok();
    assert_eq!(
        report("2026-03-03T00:00:00Z", "EV-2").await.codes(),
        ["BREACH_AFTER_ORDER_ENDED"]
    );
    assert_eq!(order("WMC/EV/1").await["status"], "EXPIRED");
}
