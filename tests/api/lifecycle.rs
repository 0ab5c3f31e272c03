//! Service, variation, renewal, discharge and replacement: each keeps the history and each refusal changes nothing.

use crate::helpers::*;
use chrono::Duration;
use orderwatch::auth::Role;
use serde_json::{json, Value};

const SERVE: &str = "mutation($r: String!, $at: DateTime!, $m: ServiceMethod!) { recordService(reference: $r, servedAt: $at, method: $m) { serviceStatus servedAt serviceMethod servedByAgency } }";
const VARY: &str = "mutation($i: VaryOrderInput!) { varyOrder(input: $i) { version expiresOn conditions { text } versions { version event expiresOn note conditions { text } } } }";
const RENEW: &str = "mutation($i: RenewOrderInput!) { renewOrder(input: $i) { version expiresOn versions { event expiresOn } } }";
const DISCHARGE: &str = "mutation($i: DischargeOrderInput!) { dischargeOrder(input: $i) { status version versions { event status } } }";

#[tokio::test]
async fn any_police_force_records_service_once() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/S/1"))
        .await
        .ok();
    let gmp = app.token(Role::Police, "GMP");
    let at = app.now() - Duration::minutes(30);
    let r = app
        .gql(
            &gmp,
            SERVE,
            json!({ "r": "WMC/S/1", "at": at.to_rfc3339(), "m": "PERSONAL" }),
        )
        .await;
    let s = &r.ok()["recordService"];
    assert_eq!(s["serviceStatus"], "SERVED");
    assert_eq!(s["serviceMethod"], "PERSONAL");
    assert_eq!(s["servedByAgency"], "GMP");
    let served_at = chrono::DateTime::parse_from_rfc3339(s["servedAt"].as_str().unwrap()).unwrap();
    assert!(s["servedAt"].as_str().unwrap().ends_with('Z'));
    assert!((served_at.timestamp_micros() - at.timestamp_micros()).abs() <= 1);

    let before = app.snapshot().await;
    app.gql(
        &gmp,
        SERVE,
        json!({ "r": "WMC/S/1", "at": at.to_rfc3339(), "m": "POST" }),
    )
    .await
    .err("ALREADY_SERVED");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn service_in_the_future_before_the_order_or_of_nothing_is_refused() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/S/2"))
        .await
        .ok();
    let met = app.token(Role::Police, "MET");
    let before = app.snapshot().await;
    let future = app.now() + Duration::hours(1);
    app.gql(
        &met,
        SERVE,
        json!({ "r": "WMC/S/2", "at": future.to_rfc3339(), "m": "PERSONAL" }),
    )
    .await
    .err("SERVED_AT_IN_FUTURE");
    let before_made = app.now() - Duration::days(3);
    app.gql(
        &met,
        SERVE,
        json!({ "r": "WMC/S/2", "at": before_made.to_rfc3339(), "m": "PERSONAL" }),
    )
    .await
    .err("SERVED_BEFORE_MADE");
    app.gql(
        &met,
        SERVE,
        json!({ "r": "NOPE", "at": app.now().to_rfc3339(), "m": "PERSONAL" }),
    )
    .await
    .err("NOT_FOUND");
    let bad_method = app
        .gql(
            &met,
            SERVE,
            json!({ "r": "WMC/S/2", "at": app.now().to_rfc3339(), "m": "EMAIL" }),
        )
        .await;
    bad_method.err("GRAPHQL_VALIDATION_FAILED");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_variation_is_a_new_version_and_the_old_terms_stay_in_the_history() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    app.grant(&court, spo_input(&app, "WMC/V/1")).await.ok();
    let r = app
        .gql(
            &court,
            VARY,
            json!({ "i": { "reference": "WMC/V/1", "note": "application to vary",
            "conditions": [{ "kind": "PROHIBITION", "text": "Must not enter Example Road" }] } }),
        )
        .await;
    let o = &r.ok()["varyOrder"];
    assert_eq!(o["version"], 2);
    assert_eq!(
        o["conditions"],
        json!([{ "text": "Must not enter Example Road" }])
    );
    let versions = o["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["event"], "GRANTED");
    assert_eq!(
        versions[0]["conditions"].as_array().unwrap().len(),
        2,
        "version 1 keeps its conditions"
    );
    assert_eq!(versions[1]["event"], "VARIED");
    assert_eq!(versions[1]["note"], "application to vary");
    assert_eq!(
        versions[1]["expiresOn"], o["expiresOn"],
        "expiry kept when not given"
    );

    // Until further order: an explicit null.
    let r = app
        .gql(
            &court,
            VARY,
            json!({ "i": { "reference": "WMC/V/1", "expiresOn": null } }),
        )
        .await;
    assert_eq!(r.ok()["varyOrder"]["expiresOn"], Value::Null);
    assert_eq!(r.ok()["varyOrder"]["version"], 3);
}

#[tokio::test]
async fn a_variation_that_breaks_a_rule_or_changes_nothing_is_refused() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    app.grant(&court, spo_input(&app, "WMC/V/2")).await.ok();
    let before = app.snapshot().await;
    app.gql(&court, VARY, json!({ "i": { "reference": "WMC/V/2" } }))
        .await
        .err("NOTHING_TO_CHANGE");
    let short = app.today() + Duration::days(100);
    app.gql(
        &court,
        VARY,
        json!({ "i": { "reference": "WMC/V/2", "expiresOn": short.to_string() } }),
    )
    .await
    .err("TERM_TOO_SHORT");
    let end = orderwatch::domain::Term::Years(2).last_day(app.today());
    app.gql(&court, VARY, json!({ "i": { "reference": "WMC/V/2",
        "conditions": [{ "kind": "PROHIBITION", "text": "x", "expiresOn": (end + Duration::days(1)).to_string() }] } }))
        .await
        .err("CONDITION_ENDS_AFTER_ORDER");
    app.gql(&court, VARY, json!({ "i": { "reference": "WMC/V/2", "conditions": [{ "kind": "PROHIBITION", "text": "  " }] } }))
        .await
        .err("INVALID_TEXT");
    app.gql(
        &court,
        VARY,
        json!({ "i": { "reference": "NOPE", "expiresOn": null } }),
    )
    .await
    .err("NOT_FOUND");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn renewal_extends_a_fixed_term_to_a_later_day_only() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let input = spo_input(&app, "WMC/R/1");
    let end: chrono::NaiveDate = input["expiresOn"].as_str().unwrap().parse().unwrap();
    app.grant(&court, input).await.ok();
    let before = app.snapshot().await;
    app.gql(
        &court,
        RENEW,
        json!({ "i": { "reference": "WMC/R/1", "expiresOn": end.to_string() } }),
    )
    .await
    .err("RENEWAL_NOT_LATER");
    assert_eq!(app.snapshot().await, before);
    let later = end + Duration::days(365);
    let r = app
        .gql(
            &court,
            RENEW,
            json!({ "i": { "reference": "WMC/R/1", "expiresOn": later.to_string() } }),
        )
        .await;
    let o = &r.ok()["renewOrder"];
    assert_eq!(o["expiresOn"], later.to_string());
    assert_eq!(
        o["versions"],
        json!([{ "event": "GRANTED", "expiresOn": end.to_string() }, { "event": "RENEWED", "expiresOn": later.to_string() }])
    );

    let mut open = spo_input(&app, "WMC/R/2");
    open["expiresOn"] = Value::Null;
    open["conditions"] = json!([]);
    app.grant(&court, open).await.ok();
    app.gql(
        &court,
        RENEW,
        json!({ "i": { "reference": "WMC/R/2", "expiresOn": later.to_string() } }),
    )
    .await
    .err("NOT_FIXED_TERM");
}

#[tokio::test]
async fn an_spo_discharged_within_two_years_needs_consent_and_a_discharged_order_cannot_change() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    app.grant(&court, spo_input(&app, "WMC/D/1")).await.ok();
    let before = app.snapshot().await;
    app.gql(
        &court,
        DISCHARGE,
        json!({ "i": { "reference": "WMC/D/1" } }),
    )
    .await
    .err("DISCHARGE_NEEDS_CONSENT");
    assert_eq!(app.snapshot().await, before);
    let r = app
        .gql(
            &court,
            DISCHARGE,
            json!({ "i": { "reference": "WMC/D/1", "consentOfSubjectAndChiefOfficer": true } }),
        )
        .await;
    let o = &r.ok()["dischargeOrder"];
    assert_eq!(o["status"], "DISCHARGED");
    assert_eq!(
        o["versions"][1],
        json!({ "event": "DISCHARGED", "status": "DISCHARGED" })
    );
    let after = app.snapshot().await;
    app.gql(
        &court,
        VARY,
        json!({ "i": { "reference": "WMC/D/1", "expiresOn": null } }),
    )
    .await
    .err("ORDER_NOT_IN_FORCE");
    app.gql(
        &app.token(Role::Police, "MET"),
        SERVE,
        json!({ "r": "WMC/D/1", "at": app.now().to_rfc3339(), "m": "PERSONAL" }),
    )
    .await
    .err("ORDER_NOT_IN_FORCE");
    assert_eq!(app.snapshot().await, after);

    // Other order types need no consent.
    let mut ro = spo_input(&app, "WMC/D/2");
    ro["type"] = json!("RESTRAINING_ORDER");
    app.grant(&court, ro).await.ok();
    app.gql(
        &court,
        DISCHARGE,
        json!({ "i": { "reference": "WMC/D/2" } }),
    )
    .await
    .ok();
}

#[tokio::test]
async fn a_full_spo_replaces_the_interim_spo_which_becomes_replaced() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let mut interim = spo_input(&app, "WMC/I/1");
    interim["type"] = json!("INTERIM_SPO");
    interim["expiresOn"] = json!((app.today() + Duration::days(30)).to_string());
    interim["conditions"] = json!([]);
    app.grant(&court, interim).await.ok();

    let mut full = spo_input(&app, "WMC/F/1");
    full["replacesReference"] = json!("WMC/I/1");
    let r = app.grant(&court, full).await;
    assert_eq!(r.ok()["grantOrder"]["replacesReference"], "WMC/I/1");
    let police = app.token(Role::Police, "GMP");
    let r = app.gql(&police, "{ order(reference: \"WMC/I/1\") { status replacedByReference versions { event status note } } }", json!({})).await;
    let old = &r.ok()["order"];
    assert_eq!(old["status"], "REPLACED");
    assert_eq!(old["replacedByReference"], "WMC/F/1");
    assert_eq!(
        old["versions"][1],
        json!({ "event": "REPLACED", "status": "REPLACED", "note": "replaced by WMC/F/1" })
    );

    // It cannot be replaced twice, and only an interim SPO can be replaced by an SPO.
    let before = app.snapshot().await;
    let mut again = spo_input(&app, "WMC/F/2");
    again["replacesReference"] = json!("WMC/I/1");
    app.grant(&court, again)
        .await
        .err("REPLACED_ORDER_NOT_IN_FORCE");
    let mut wrong = spo_input(&app, "WMC/F/3");
    wrong["replacesReference"] = json!("WMC/F/1");
    app.grant(&court, wrong)
        .await
        .err("REPLACEMENT_NOT_ALLOWED");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn an_order_is_shown_expired_from_the_end_of_its_last_day() {
    let app = TestApp::spawn().await.with_agencies().await;
    let mut input = spo_input(&app, "WMC/E/1");
    input["type"] = json!("INTERIM_SPO");
    let last = app.today() + Duration::days(10);
    input["expiresOn"] = json!(last.to_string());
    input["conditions"] = json!([]);
    app.grant(&app.token(Role::Court, "WMC"), input).await.ok();
    let police = app.token(Role::Police, "MET");
    let q = "{ order(reference: \"WMC/E/1\") { status expiresAt } }";
    let end = orderwatch::domain::calendar::end_of_day(last);
    let r = app.gql(&police, q, json!({})).await;
    assert_eq!(
        r.ok()["order"]["expiresAt"],
        end.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );

    app.clock.set(end - Duration::seconds(1));
    assert_eq!(
        app.gql(&police, q, json!({})).await.ok()["order"]["status"],
        "IN_FORCE"
    );
    app.clock.set(end);
    assert_eq!(
        app.gql(&police, q, json!({})).await.ok()["order"]["status"],
        "EXPIRED"
    );
    let listed = app
        .gql(
            &police,
            "{ orders(filter: { status: EXPIRED }) { edges { node { reference } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed.ok()["orders"]["edges"][0]["node"]["reference"],
        "WMC/E/1"
    );
    let in_force = app
        .gql(
            &police,
            "{ orders(filter: { status: IN_FORCE }) { edges { node { reference } } } }",
            json!({}),
        )
        .await;
    assert_eq!(in_force.ok()["orders"]["edges"], json!([]));
    // An expired order can no longer be served.
    app.gql(
        &police,
        SERVE,
        json!({ "r": "WMC/E/1", "at": (end - Duration::hours(1)).to_rfc3339(), "m": "PERSONAL" }),
    )
    .await
    .err("ORDER_NOT_IN_FORCE");
}

const QUASH: &str = "mutation($i: QuashOrderInput!) { quashOrder(input: $i) { status versions { event status decidedOn recordedAt } } }";

#[tokio::test]
async fn a_crown_court_quashes_an_order_on_appeal_and_no_other_court_can() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/Q/1"))
        .await
        .ok();
    let before = app.snapshot().await;
    // A magistrates' court, even the one that made it, does not quash: to it the appeal route does not exist.
    for court in ["WMC", "MMC"] {
        app.gql(
            &app.token(Role::Court, court),
            QUASH,
            json!({ "i": { "reference": "WMC/Q/1" } }),
        )
        .await
        .err("NOT_FOUND");
    }
    app.gql(
        &app.token(Role::Police, "MET"),
        QUASH,
        json!({ "i": { "reference": "WMC/Q/1" } }),
    )
    .await
    .err("FORBIDDEN");
    let crown = app.token(Role::Court, "CCL");
    let tomorrow = (app.today() + Duration::days(1)).to_string();
    app.gql(
        &crown,
        QUASH,
        json!({ "i": { "reference": "WMC/Q/1", "decidedOn": tomorrow } }),
    )
    .await
    .err("DECIDED_ON_IN_FUTURE");
    let before_made = (app.today() - Duration::days(1)).to_string();
    app.gql(
        &crown,
        QUASH,
        json!({ "i": { "reference": "WMC/Q/1", "decidedOn": before_made } }),
    )
    .await
    .err("DECIDED_BEFORE_MADE");
    app.gql(&crown, QUASH, json!({ "i": { "reference": "WMC/NOPE/1" } }))
        .await
        .err("NOT_FOUND");
    assert_eq!(app.snapshot().await, before);
    // A non-molestation order is not appealed to the Crown Court, nor is an order the Crown Court made itself: to it
    // they do not exist.
    let mut nmo = spo_input(&app, "WMC/Q/2");
    nmo["type"] = json!("NON_MOLESTATION_ORDER");
    app.grant(&app.token(Role::Court, "WMC"), nmo).await.ok();
    let mut ro = spo_input(&app, "CCL/Q/3");
    ro["type"] = json!("RESTRAINING_ORDER");
    app.grant(&crown, ro).await.ok();
    let before = app.snapshot().await;
    for reference in ["WMC/Q/2", "CCL/Q/3"] {
        app.gql(&crown, QUASH, json!({ "i": { "reference": reference } }))
            .await
            .err("NOT_FOUND");
    }
    assert_eq!(app.snapshot().await, before);
    let r = app
        .gql(
            &crown,
            QUASH,
            json!({ "i": { "reference": "WMC/Q/1", "decidedOn": app.today().to_string() } }),
        )
        .await;
    let o = &r.ok()["quashOrder"];
    assert_eq!(o["status"], "QUASHED");
    assert_eq!(o["versions"][1]["event"], "QUASHED");
    assert_eq!(o["versions"][1]["decidedOn"], app.today().to_string());
    let alerts = app
        .gql(
            &app.token(Role::Police, "MET"),
            "{ alerts { edges { node { kind orderReference } } } }",
            json!({}),
        )
        .await;
    assert!(
        alerts.ok()["alerts"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"] == json!({ "kind": "ORDER_QUASHED", "orderReference": "WMC/Q/1" })),
        "{alerts:?}"
    );
    // A quashed order cannot be quashed or changed again.
    app.gql(&crown, QUASH, json!({ "i": { "reference": "WMC/Q/1" } }))
        .await
        .err("ORDER_NOT_IN_FORCE");
}

#[tokio::test]
async fn the_two_year_discharge_window_is_measured_to_the_day_the_court_decided() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    // Made 2 years and 5 days ago, for 3 years.
    let made = app.today() - Duration::days(2 * 365 + 5);
    let last_early_day = orderwatch::domain::Term::Years(2).last_day(made);
    assert!(last_early_day < app.today());
    let mut input = spo_input(&app, "WMC/DD/1");
    input["madeOn"] = json!(made.to_string());
    input["expiresOn"] = json!(orderwatch::domain::Term::Years(3)
        .last_day(made)
        .to_string());
    input["conditions"] = json!([]);
    app.grant(&court, input).await.ok();
    let before = app.snapshot().await;
    // Decided on the last day of the 2 years (SPA 2019 s4(4)(b)): consent is needed, though recorded later.
    app.gql(
        &court,
        DISCHARGE,
        json!({ "i": { "reference": "WMC/DD/1", "decidedOn": last_early_day.to_string() } }),
    )
    .await
    .err("DISCHARGE_NEEDS_CONSENT");
    assert_eq!(app.snapshot().await, before);
    // Decided the day after: none is needed.
    let decided = last_early_day + Duration::days(1);
    let r = app
        .gql(&court, "mutation($i: DischargeOrderInput!) { dischargeOrder(input: $i) { status versions { decidedOn } } }",
            json!({ "i": { "reference": "WMC/DD/1", "decidedOn": decided.to_string() } }))
        .await;
    let o = &r.ok()["dischargeOrder"];
    assert_eq!(o["status"], "DISCHARGED");
    assert_eq!(o["versions"][1]["decidedOn"], decided.to_string());
    // Recorded days later, the discharge ended the order by the end of the day decided: a breach that evening may
    // have come before the decision and is kept; one the next morning is refused.
    let end = orderwatch::domain::calendar::end_of_day(decided);
    let report = |at: chrono::DateTime<chrono::Utc>, ext: &str| json!({ "i": { "reference": "WMC/DD/1", "occurredAt": at.to_rfc3339(), "description": "d", "externalRef": ext } });
    let met = app.token(Role::Police, "MET");
    let breach = "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }";
    app.gql(&met, breach, report(end + Duration::hours(9), "DD-2"))
        .await
        .err("BREACH_AFTER_ORDER_ENDED");
    app.gql(&met, breach, report(end - Duration::hours(1), "DD-1"))
        .await
        .ok();
}

/// Every status an order can have is reached through the API or the scheduled checks.
#[tokio::test]
async fn every_order_status_is_reachable_through_an_operation() {
    use orderwatch::domain::OrderStatus;
    let app = TestApp::spawn().await.with_agencies().await;
    let wmc = app.token(Role::Court, "WMC");
    let met = app.token(Role::Police, "MET");
    let mut reached = std::collections::BTreeMap::new();
    let status = |r: &Gql, field: &str| r.ok()[field]["status"].as_str().unwrap().to_string();

    // IN_FORCE: granted.
    let r = app.grant(&wmc, spo_input(&app, "WMC/ST/1")).await;
    reached.insert(status(&r, "grantOrder"), "grantOrder");
    // DISCHARGED.
    let r = app
        .gql(
            &wmc,
            DISCHARGE,
            json!({ "i": { "reference": "WMC/ST/1", "consentOfSubjectAndChiefOfficer": true } }),
        )
        .await;
    reached.insert(status(&r, "dischargeOrder"), "dischargeOrder");
    // QUASHED.
    app.grant(&wmc, spo_input(&app, "WMC/ST/2")).await.ok();
    let r = app
        .gql(
            &app.token(Role::Court, "CCL"),
            QUASH,
            json!({ "i": { "reference": "WMC/ST/2" } }),
        )
        .await;
    reached.insert(status(&r, "quashOrder"), "quashOrder");
    // REPLACED: an interim SPO replaced by the full order.
    let mut interim = spo_input(&app, "WMC/ST/3");
    interim["type"] = json!("INTERIM_SPO");
    interim["expiresOn"] = json!((app.today() + Duration::days(60)).to_string());
    interim["conditions"] = json!([]);
    app.grant(&wmc, interim).await.ok();
    let mut full = spo_input(&app, "WMC/ST/4");
    full["replacesReference"] = json!("WMC/ST/3");
    app.grant(&wmc, full).await.ok();
    let r = app
        .gql(
            &met,
            "{ order(reference: \"WMC/ST/3\") { status } }",
            json!({}),
        )
        .await;
    reached.insert(status(&r, "order"), "grantOrder(replacesReference)");
    // CEASED: a notice whose application is withdrawn.
    let mut dapn = spo_input(&app, "MET/ST/5");
    dapn["type"] = json!("DAPN");
    dapn["expiresOn"] = Value::Null;
    dapn["conditions"] = json!([]);
    dapn["subject"]["dateOfBirth"] = json!("1980-01-01");
    app.grant(&met, dapn).await.ok();
    let listed = app
        .gql(&wmc, "mutation($i: ScheduleHearingInput!) { scheduleHearing(input: $i) { hearings { id } } }",
            json!({ "i": { "reference": "MET/ST/5", "scheduledFor": app.now().to_rfc3339() } }))
        .await;
    let hearing = listed.ok()["scheduleHearing"]["hearings"][0]["id"].clone();
    let r = app
        .gql(&wmc, "mutation($i: RecordHearingOutcomeInput!) { recordHearingOutcome(input: $i) { status } }",
            json!({ "i": { "hearingId": hearing, "outcome": "WITHDRAWN", "heldAt": app.now().to_rfc3339() } }))
        .await;
    reached.insert(
        status(&r, "recordHearingOutcome"),
        "recordHearingOutcome(WITHDRAWN)",
    );
    // LAPSED and EXPIRED: the scheduled checks, once the notice's window and the order's last day have passed.
    let mut dvpn = spo_input(&app, "MET/ST/6");
    dvpn["type"] = json!("DVPN");
    dvpn["expiresOn"] = Value::Null;
    dvpn["conditions"] = json!([]);
    dvpn["subject"]["dateOfBirth"] = json!("1980-01-01");
    app.grant(&met, dvpn).await.ok();
    let mut ro = spo_input(&app, "WMC/ST/7");
    ro["type"] = json!("RESTRAINING_ORDER");
    ro["expiresOn"] = json!(app.today().to_string());
    ro["conditions"] = json!([]);
    app.grant(&wmc, ro).await.ok();
    app.services
        .run_checks(orderwatch::service::checks::CheckOptions::at(
            app.now() + Duration::days(8),
        ))
        .await
        .unwrap();
    for (reference, how) in [
        ("MET/ST/6", "checks (window closed)"),
        ("WMC/ST/7", "checks (last day ended)"),
    ] {
        let r = app
            .gql(
                &met,
                &format!("{{ order(reference: \"{reference}\") {{ status }} }}"),
                json!({}),
            )
            .await;
        reached.insert(status(&r, "order"), how);
    }
    let all: Vec<String> = OrderStatus::ALL
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    let missing: Vec<&String> = all.iter().filter(|s| !reached.contains_key(*s)).collect();
    assert!(
        missing.is_empty(),
        "statuses never reached: {missing:?} (reached {reached:?})"
    );
}

#[tokio::test]
async fn a_discharge_recorded_late_waives_a_deadline_due_on_the_day_decided_and_no_later() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let served = app.now();
    let initial = |r: Gql| {
        r.ok()["order"]["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["kind"] == "NOTIFICATION_INITIAL")
            .unwrap()["status"]
            .clone()
    };
    let met = app.token(Role::Police, "MET");
    let deadlines = |reference: &str| {
        format!("{{ order(reference: \"{reference}\") {{ deadlines {{ kind status }} }} }}")
    };
    for reference in ["WMC/LD/1", "WMC/LD/2"] {
        app.grant(&court, spo_input(&app, reference)).await.ok();
        app.gql(
            &app.token(Role::Police, "MET"),
            SERVE,
            json!({ "r": reference, "at": served.to_rfc3339(), "m": "PERSONAL" }),
        )
        .await
        .ok();
    }
    // Due at the end of the third day beginning with the day of service; both discharges are recorded the day after.
    let last_day = app.today() + Duration::days(2);
    app.clock
        .set(orderwatch::domain::calendar::end_of_day(last_day) + Duration::hours(10));
    let discharge = |reference: &str, decided: chrono::NaiveDate| json!({ "i": { "reference": reference, "consentOfSubjectAndChiefOfficer": true, "decidedOn": decided.to_string() } });
    // Decided on its last day: the order ended before the deadline passed.
    app.gql(&court, DISCHARGE, discharge("WMC/LD/1", last_day))
        .await
        .ok();
    let r = app.gql(&met, &deadlines("WMC/LD/1"), json!({})).await;
    assert_eq!(initial(r), "WAIVED");
    // Decided the day after: the deadline passed while the order was in force.
    app.gql(
        &court,
        DISCHARGE,
        discharge("WMC/LD/2", last_day + Duration::days(1)),
    )
    .await
    .ok();
    let r = app.gql(&met, &deadlines("WMC/LD/2"), json!({})).await;
    assert_eq!(initial(r), "MISSED");
}
