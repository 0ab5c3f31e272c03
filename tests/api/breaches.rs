//! Breaches, their outcomes, consent to share, and what each role sees of them.

use crate::helpers::*;
use chrono::Duration;
use orderwatch::auth::Role;
use serde_json::{json, Value};

const REPORT: &str = "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id orderReference outcome conditionIds externalRef description reportedByAgency } }";
const OUTCOME: &str = "mutation($id: ID!, $o: BreachOutcome!, $n: String) { updateBreachOutcome(id: $id, outcome: $o, note: $n) { outcome outcomes { outcome recordedByAgency note } } }";
const SHARE: &str = "mutation($r: String!, $p: ID!, $a: String!) { shareOrderWithAdvocacy(reference: $r, protectedPersonId: $p, advocacyAgency: $a) { id orderReference advocacyAgency revokedAt } }";

fn breach(app: &TestApp, reference: &str, ext: &str) -> Value {
    json!({ "reference": reference, "occurredAt": (app.now() - Duration::hours(1)).to_rfc3339(),
        "description": "Letters left at the protected person's door", "externalRef": ext })
}

/// An SPO made today by WMC on MET's application, with its condition ids and protected person id.
async fn order(app: &TestApp, reference: &str) -> (Vec<String>, String) {
    let r = app
        .grant(&app.token(Role::Court, "WMC"), spo_input(app, reference))
        .await;
    let o = &r.ok()["grantOrder"];
    let conditions = o["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    (
        conditions,
        o["protectedPersons"][0]["id"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn police_report_a_breach_naming_the_conditions_breached() {
    let app = TestApp::spawn().await.with_agencies().await;
    let (conditions, _) = order(&app, "WMC/B/1").await;
    let mut input = breach(&app, "wmc/b/1", "GMP-INC-1");
    input["conditionIds"] = json!([conditions[0]]);
    let r = app
        .gql(
            &app.token(Role::Police, "GMP"),
            REPORT,
            json!({ "i": input }),
        )
        .await;
    let b = &r.ok()["reportBreach"];
    assert_eq!(b["orderReference"], "WMC/B/1");
    assert_eq!(b["outcome"], "REPORTED");
    assert_eq!(b["reportedByAgency"], "GMP");
    assert_eq!(b["conditionIds"], json!([conditions[0]]));
    // The breach is an event on the order; the order stays in force.
    let o = app
        .gql(
            &app.token(Role::Police, "MET"),
            "{ order(reference: \"WMC/B/1\") { status breaches { id externalRef } } }",
            json!({}),
        )
        .await;
    assert_eq!(o.ok()["order"]["status"], "IN_FORCE");
    assert_eq!(o.ok()["order"]["breaches"][0]["externalRef"], "GMP-INC-1");
}

#[tokio::test]
async fn a_breach_that_breaks_a_rule_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await.with_agencies().await;
    order(&app, "WMC/B/2").await;
    order(&app, "WMC/B/3").await;
    let met = app.token(Role::Police, "MET");
    app.gql(
        &met,
        REPORT,
        json!({ "i": breach(&app, "WMC/B/3", "USED") }),
    )
    .await
    .ok();
    let before = app.snapshot().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "before the order was made",
            json!({ "occurredAt": (app.now() - Duration::days(3)).to_rfc3339() }),
            "BREACH_BEFORE_ORDER",
        ),
        (
            "in the future",
            json!({ "occurredAt": (app.now() + Duration::hours(2)).to_rfc3339() }),
            "OCCURRED_AT_IN_FUTURE",
        ),
        (
            "a condition of another order",
            json!({ "conditionIds": ["not-a-condition"] }),
            "UNKNOWN_CONDITION",
        ),
        (
            "no description",
            json!({ "description": "  " }),
            "INVALID_TEXT",
        ),
        (
            "no external reference",
            json!({ "externalRef": "" }),
            "INVALID_EXTERNAL_REF",
        ),
        (
            "a reference used for another order",
            json!({ "externalRef": "USED" }),
            "EXTERNAL_REF_REUSED",
        ),
        (
            "no such order",
            json!({ "reference": "WMC/NOPE/1" }),
            "NOT_FOUND",
        ),
    ];
    let mut mismatches = vec![];
    for (what, patch, code) in cases {
        let mut input = breach(&app, "WMC/B/2", "NEW-1");
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        let r = app.gql(&met, REPORT, json!({ "i": input })).await;
        if r.codes() != vec![code.to_string()] {
            mismatches.push(format!("{what}: expected {code}, got {:?}", r.codes()));
        }
    }
    for (role, agency) in [
        (Role::Court, "WMC"),
        (Role::Advocate, "ADV-A"),
        (Role::Admin, "OPS"),
    ] {
        let r = app
            .gql(
                &app.token(role, agency),
                REPORT,
                json!({ "i": breach(&app, "WMC/B/2", "X") }),
            )
            .await;
        if r.codes() != ["FORBIDDEN"] {
            mismatches.push(format!("{role} reporting: {:?}", r.codes()));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn outcomes_are_kept_with_time_and_agency_and_must_fit_the_order_type() {
    let app = TestApp::spawn().await.with_agencies().await;
    order(&app, "WMC/O/1").await;
    let met = app.token(Role::Police, "MET");
    let r = app
        .gql(
            &met,
            REPORT,
            json!({ "i": breach(&app, "WMC/O/1", "INC-1") }),
        )
        .await;
    let id = r.ok()["reportBreach"]["id"].clone();
    app.gql(
        &met,
        OUTCOME,
        json!({ "id": id, "o": "UNDER_INVESTIGATION" }),
    )
    .await
    .ok();
    let r = app
        .gql(
            &met,
            OUTCOME,
            json!({ "id": id, "o": "CHARGED", "n": "charged under SPA s8" }),
        )
        .await;
    assert_eq!(
        r.ok()["updateBreachOutcome"],
        json!({ "outcome": "CHARGED", "outcomes": [
            { "outcome": "REPORTED", "recordedByAgency": "MET", "note": null },
            { "outcome": "UNDER_INVESTIGATION", "recordedByAgency": "MET", "note": null },
            { "outcome": "CHARGED", "recordedByAgency": "MET", "note": "charged under SPA s8" } ] })
    );
    let before = app.snapshot().await;
    // Recording the current outcome again changes nothing.
    app.gql(&met, OUTCOME, json!({ "id": id, "o": "CHARGED" }))
        .await
        .ok();
    // Civil contempt is for DVPOs only.
    app.gql(&met, OUTCOME, json!({ "id": id, "o": "CONTEMPT_FOUND" }))
        .await
        .err("OUTCOME_NOT_APPLICABLE");
    // Another force neither reported it nor manages the order.
    app.gql(
        &app.token(Role::Police, "GMP"),
        OUTCOME,
        json!({ "id": id, "o": "NO_FURTHER_ACTION" }),
    )
    .await
    .err("NOT_BREACH_FORCE");
    app.gql(
        &met,
        OUTCOME,
        json!({ "id": "nope", "o": "NO_FURTHER_ACTION" }),
    )
    .await
    .err("NOT_FOUND");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn consent_is_recorded_by_the_court_or_managing_force_for_a_protected_person_and_an_advocacy_service(
) {
    let app = TestApp::spawn().await.with_agencies().await;
    let (_, person) = order(&app, "WMC/S/1").await;
    let met = app.token(Role::Police, "MET");
    let first = app
        .gql(
            &met,
            SHARE,
            json!({ "r": "WMC/S/1", "p": person, "a": "ADV-A" }),
        )
        .await;
    let share = first.ok()["shareOrderWithAdvocacy"].clone();
    assert_eq!(share["advocacyAgency"], "ADV-A");
    let before = app.snapshot().await;
    // Recording it again returns the same consent.
    let again = app
        .gql(
            &app.token(Role::Court, "WMC"),
            SHARE,
            json!({ "r": "WMC/S/1", "p": person, "a": "ADV-A" }),
        )
        .await;
    assert_eq!(again.ok()["shareOrderWithAdvocacy"]["id"], share["id"]);
    app.gql(
        &met,
        SHARE,
        json!({ "r": "WMC/S/1", "p": "someone-else", "a": "ADV-A" }),
    )
    .await
    .err("UNKNOWN_PROTECTED_PERSON");
    app.gql(
        &met,
        SHARE,
        json!({ "r": "WMC/S/1", "p": person, "a": "GMP" }),
    )
    .await
    .err("AGENCY_KIND_MISMATCH");
    app.gql(
        &met,
        SHARE,
        json!({ "r": "WMC/S/1", "p": person, "a": "NOPE" }),
    )
    .await
    .err("UNKNOWN_AGENCY");
    app.gql(
        &app.token(Role::Police, "GMP"),
        SHARE,
        json!({ "r": "WMC/S/1", "p": person, "a": "ADV-B" }),
    )
    .await
    .err("NOT_ORDER_AGENCY");
    app.gql(
        &app.token(Role::Court, "MMC"),
        SHARE,
        json!({ "r": "WMC/S/1", "p": person, "a": "ADV-B" }),
    )
    .await
    .err("NOT_FOUND");
    app.gql(
        &app.token(Role::Advocate, "ADV-A"),
        SHARE,
        json!({ "r": "WMC/S/1", "p": person, "a": "ADV-A" }),
    )
    .await
    .err("FORBIDDEN");
    let revoke = "mutation($r: String!, $p: ID!, $a: String!) { revokeOrderShare(reference: $r, protectedPersonId: $p, advocacyAgency: $a) { id } }";
    app.gql(
        &met,
        revoke,
        json!({ "r": "WMC/S/1", "p": person, "a": "ADV-B" }),
    )
    .await
    .err("NOT_FOUND");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn an_advocate_sees_a_shared_order_without_the_details_meant_for_police_and_a_court_sees_no_breaches(
) {
    let app = TestApp::spawn().await.with_agencies().await;
    let mut input = spo_input(&app, "WMC/F/1");
    input["protectedPersons"] =
        json!([{ "name": "Pat Protected", "contact": "07700 900123" }, { "name": "Chris Other" }]);
    let r = app.grant(&app.token(Role::Court, "WMC"), input).await;
    let person = r.ok()["grantOrder"]["protectedPersons"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let met = app.token(Role::Police, "MET");
    app.gql(
        &met,
        REPORT,
        json!({ "i": breach(&app, "WMC/F/1", "INC-1") }),
    )
    .await
    .ok();
    let adv = app.token(Role::Advocate, "ADV-A");
    let q = "{ order(reference: \"WMC/F/1\") { reference protectedPersons { name contact } breaches { occurredAt outcome description externalRef } } }";
    assert_eq!(
        app.gql(&adv, q, json!({})).await.ok()["order"],
        Value::Null,
        "not shared yet"
    );
    app.gql(
        &met,
        SHARE,
        json!({ "r": "WMC/F/1", "p": person, "a": "ADV-A" }),
    )
    .await
    .ok();

    let r = app.gql(&adv, q, json!({})).await;
    let o = &r.data["order"];
    assert_eq!(
        o["protectedPersons"],
        json!([{ "name": "Pat Protected", "contact": null }]),
        "only the consenting person"
    );
    assert_eq!(o["breaches"][0]["outcome"], "REPORTED");
    assert!(o["breaches"][0]["occurredAt"].is_string());
    assert_eq!(o["breaches"][0]["description"], Value::Null);
    assert_eq!(o["breaches"][0]["externalRef"], Value::Null);
    let mut withheld: Vec<String> = r
        .errors
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["extensions"]["code"].as_str().unwrap(),
                e["path"]
            )
        })
        .collect();
    withheld.sort();
    assert_eq!(
        withheld,
        [
            "FORBIDDEN_FIELD [\"order\",\"breaches\",0,\"description\"]",
            "FORBIDDEN_FIELD [\"order\",\"breaches\",0,\"externalRef\"]",
            "FORBIDDEN_FIELD [\"order\",\"protectedPersons\",0,\"contact\"]",
        ]
    );
    assert!(!r
        .errors
        .iter()
        .any(|e| e.to_string().contains("Letters left")));
    let listed = app
        .gql(
            &adv,
            "{ orders { edges { node { reference } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed.ok()["orders"]["edges"],
        json!([{ "node": { "reference": "WMC/F/1" } }])
    );

    let court = app
        .gql(
            &app.token(Role::Court, "WMC"),
            "{ order(reference: \"WMC/F/1\") { reference breaches { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(court.data["order"]["breaches"], Value::Null);
    court.err("FORBIDDEN_FIELD");
}

/// An order of `kind` made today by WMC on MET's application; the id of a breach MET reports of it.
async fn breach_of(app: &TestApp, kind: &str, reference: &str) -> Value {
    let mut input = spo_input(app, reference);
    input["type"] = json!(kind);
    app.grant(&app.token(Role::Court, "WMC"), input).await.ok();
    let r = app
        .gql(
            &app.token(Role::Police, "MET"),
            REPORT,
            json!({ "i": breach(app, reference, &format!("INC-{reference}")) }),
        )
        .await;
    r.ok()["reportBreach"]["id"].clone()
}

#[tokio::test]
async fn a_breach_of_a_non_molestation_order_or_dapo_is_contempt_or_an_offence_never_both() {
    let app = TestApp::spawn().await.with_agencies().await;
    let met = app.token(Role::Police, "MET");
    // FLA 1996 s42A(3)-(4), DA Act 2021 s39(3)-(4): contempt is open to both, and excludes an offence.
    let nmo = breach_of(&app, "NON_MOLESTATION_ORDER", "WMC/NMO/1").await;
    app.gql(&met, OUTCOME, json!({ "id": nmo, "o": "CONTEMPT_FOUND" }))
        .await
        .ok();
    // Charged after contempt is recordable (the charge may fail); a conviction is not.
    app.gql(&met, OUTCOME, json!({ "id": nmo, "o": "CHARGED" }))
        .await
        .ok();
    let before = app.snapshot().await;
    app.gql(&met, OUTCOME, json!({ "id": nmo, "o": "CONVICTED" }))
        .await
        .err("CONTEMPT_OR_OFFENCE");
    assert_eq!(app.snapshot().await, before);
    // Contempt after an acquittal is open; after a conviction it is not.
    let acquitted = breach_of(&app, "NON_MOLESTATION_ORDER", "WMC/NMO/2").await;
    app.gql(&met, OUTCOME, json!({ "id": acquitted, "o": "ACQUITTED" }))
        .await
        .ok();
    app.gql(
        &met,
        OUTCOME,
        json!({ "id": acquitted, "o": "CONTEMPT_FOUND" }),
    )
    .await
    .ok();
    let dapo = breach_of(&app, "DAPO", "WMC/DAPO/1").await;
    app.gql(&met, OUTCOME, json!({ "id": dapo, "o": "CONVICTED" }))
        .await
        .ok();
    let before = app.snapshot().await;
    app.gql(&met, OUTCOME, json!({ "id": dapo, "o": "CONTEMPT_FOUND" }))
        .await
        .err("CONTEMPT_OR_OFFENCE");
    assert_eq!(app.snapshot().await, before);
    // A restraining order's breach is an offence only.
    let ro = breach_of(&app, "RESTRAINING_ORDER", "WMC/RO/1").await;
    app.gql(&met, OUTCOME, json!({ "id": ro, "o": "CONTEMPT_FOUND" }))
        .await
        .err("OUTCOME_NOT_APPLICABLE");
}

#[tokio::test]
async fn a_breach_after_the_order_was_discharged_is_refused_and_one_before_is_kept() {
    let app = TestApp::spawn().await.with_agencies().await;
    let (_, _) = order(&app, "WMC/DIS/1").await;
    let discharged_at = app.now();
    app.gql(
        &app.token(Role::Court, "WMC"),
        "mutation($i: DischargeOrderInput!) { dischargeOrder(input: $i) { status } }",
        json!({ "i": { "reference": "WMC/DIS/1", "consentOfSubjectAndChiefOfficer": true } }),
    )
    .await
    .ok();
    app.clock.set(discharged_at + Duration::hours(2));
    let met = app.token(Role::Police, "MET");
    let at = |t: chrono::DateTime<chrono::Utc>, ext: &str| {
        json!({ "i": { "reference": "WMC/DIS/1", "occurredAt": t.to_rfc3339(),
            "description": "Letters left at the door", "externalRef": ext } })
    };
    let before = app.snapshot().await;
    for (t, ext) in [
        (discharged_at, "DIS-AT"),
        (discharged_at + Duration::seconds(1), "DIS-AFTER"),
    ] {
        app.gql(&met, REPORT, at(t, ext))
            .await
            .err("BREACH_AFTER_ORDER_ENDED");
    }
    assert_eq!(app.snapshot().await, before);
    app.gql(
        &met,
        REPORT,
        at(discharged_at - Duration::seconds(1), "DIS-BEFORE"),
    )
    .await
    .ok();
}

#[tokio::test]
async fn a_dapo_protects_a_person_of_sixteen_or_over() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let sixteen_today = chrono::NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&app.today()) - 16,
        chrono::Datelike::month(&app.today()),
        chrono::Datelike::day(&app.today()),
    )
    .unwrap_or(app.today() - Duration::days(16 * 365 + 4));
    let dapo = |reference: &str, born: chrono::NaiveDate| {
        let mut input = spo_input(&app, reference);
        input["type"] = json!("DAPO");
        input["protectedPersons"][0]["dateOfBirth"] = json!(born.to_string());
        input
    };
    let before = app.snapshot().await;
    app.grant(&court, dapo("WMC/DA/1", sixteen_today + Duration::days(1)))
        .await
        .err("PROTECTED_PERSON_UNDER_MINIMUM_AGE");
    let mut unknown = dapo("WMC/DA/1", sixteen_today);
    unknown["protectedPersons"][0]["dateOfBirth"] = Value::Null;
    app.grant(&court, unknown)
        .await
        .err("PROTECTED_PERSON_DATE_OF_BIRTH_REQUIRED");
    assert_eq!(app.snapshot().await, before);
    app.grant(&court, dapo("WMC/DA/1", sixteen_today))
        .await
        .ok();
}
