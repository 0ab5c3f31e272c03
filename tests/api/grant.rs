//! Recording orders, looking them up, and every validation rule leaving the database unchanged.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};

#[tokio::test]
async fn court_grants_an_spo_and_any_police_force_finds_it_by_reference_and_by_subject() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let granted = app.grant(&court, spo_input(&app, "WMC/2026/1")).await;
    let o = &granted.ok()["grantOrder"];
    assert_eq!(o["reference"], "WMC/2026/1");
    assert_eq!(o["type"], "SPO");
    assert_eq!(o["status"], "IN_FORCE");
    assert_eq!(o["serviceStatus"], "UNSERVED");
    assert_eq!(o["court"]["code"], "WMC");
    assert_eq!(o["applicantAgency"]["code"], "MET");
    assert_eq!(o["subject"]["names"], json!(["Sam Subject", "Sammy S"]));
    assert_eq!(
        o["versions"],
        json!([{ "version": 1, "event": "GRANTED", "status": "IN_FORCE" }])
    );
    assert_eq!(o["conditions"].as_array().unwrap().len(), 2);
    assert!(o["protectedPersons"][0]["id"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));

    // Another force, not the applicant, sees the order nationally.
    let gmp = app.token(Role::Police, "GMP");
    let by_ref = app
        .gql(
            &gmp,
            &format!("query($r: String!) {{ order(reference: $r) {{ {ORDER_FIELDS} }} }}"),
            json!({ "r": "WMC/2026/1" }),
        )
        .await;
    let found = &by_ref.ok()["order"];
    assert_eq!(found["reference"], "WMC/2026/1");
    assert_eq!(found["statute"], "Stalking Protection Act 2019 s1-s3");
    assert_eq!(found["breachIsOffence"], true);

    // By name (any of the subject's names, ignoring case and punctuation) and date of birth.
    let q = "query($f: OrderFilter) { orders(filter: $f) { edges { node { reference } } } }";
    for name in ["sam subject", "SAMMY  S", "Sam-Subject"] {
        let r = app
            .gql(
                &gmp,
                q,
                json!({ "f": { "subjectName": name, "subjectDateOfBirth": "1980-05-05" } }),
            )
            .await;
        assert_eq!(
            r.ok()["orders"]["edges"][0]["node"]["reference"],
            "WMC/2026/1",
            "name {name}"
        );
    }
    let wrong_dob = app
        .gql(
            &gmp,
            q,
            json!({ "f": { "subjectName": "Sam Subject", "subjectDateOfBirth": "1980-05-06" } }),
        )
        .await;
    assert_eq!(wrong_dob.ok()["orders"]["edges"], json!([]));
    let part_of_name = app
        .gql(&gmp, q, json!({ "f": { "subjectName": "Sam" } }))
        .await;
    assert_eq!(part_of_name.ok()["orders"]["edges"], json!([]));
}

#[tokio::test]
async fn references_ignore_case_and_surrounding_spaces() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let r = app.grant(&court, spo_input(&app, " wmc/case/7 ")).await;
    assert_eq!(r.ok()["grantOrder"]["reference"], "WMC/CASE/7");
    let police = app.token(Role::Police, "MET");
    let found = app
        .gql(
            &police,
            "{ order(reference: \"Wmc/Case/7\") { reference } }",
            json!({}),
        )
        .await;
    assert_eq!(found.ok()["order"]["reference"], "WMC/CASE/7");
    let before = app.snapshot().await;
    app.grant(&court, spo_input(&app, "WMC/case/7"))
        .await
        .err("REFERENCE_TAKEN");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn an_absent_reference_is_null_not_an_error() {
    let app = TestApp::spawn().await.with_agencies().await;
    let r = app
        .gql(
            &app.token(Role::Police, "MET"),
            "{ order(reference: \"WMC/NOPE/1\") { reference } }",
            json!({}),
        )
        .await;
    assert_eq!(r.ok()["order"], Value::Null);
}

#[tokio::test]
async fn a_taken_reference_is_a_conflict_and_nothing_is_stored() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    app.grant(&court, spo_input(&app, "WMC/DUP/1")).await.ok();
    let before = app.snapshot().await;
    let mut again = spo_input(&app, "WMC/DUP/1");
    again["subject"]["names"] = json!(["Someone Else"]);
    app.grant(&court, again).await.err("REFERENCE_TAKEN");
    assert_eq!(app.snapshot().await, before);
}

/// Each rule of DOMAIN.md "Validation when an order is recorded", as (what to change, who sends it, code).
#[tokio::test]
async fn every_validation_rule_has_its_own_code_and_a_rejection_stores_nothing() {
    let app = TestApp::spawn().await.with_agencies().await;
    let today = app.today();
    let day = |n: i64| (today + chrono::Duration::days(n)).to_string();
    let two_years_less_a_day = (orderwatch::domain::Term::Years(2).last_day(today)
        - chrono::Duration::days(1))
    .to_string();
    app.grant(
        &app.token(Role::Court, "MMC"),
        json!({
        "reference": "MMC/INTERIM/1", "type": "INTERIM_SPO", "applicantAgency": "GMP",
        "subject": { "names": ["Other Subject"] }, "protectedPersons": [{ "name": "Other Person" }],
        "madeOn": today.to_string(), "expiresOn": day(20) }),
    )
    .await
    .ok();
    let before = app.snapshot().await;

    let notice = |t: &str| {
        json!({
        "reference": "MET/N/1", "type": t, "applicantAgency": "MET",
        "subject": { "names": ["Young Subject"], "dateOfBirth": (today - chrono::Duration::days(365 * 17)).to_string() },
        "protectedPersons": [{ "name": "A Person", "dateOfBirth": "1990-01-01" }],
        "madeOn": today.to_string() })
    };
    let cases: Vec<(&str, Value, Role, &str)> = vec![
        (
            "SPO shorter than 2 years",
            json!({ "expiresOn": two_years_less_a_day }),
            Role::Court,
            "TERM_TOO_SHORT",
        ),
        (
            "interim SPO without an end",
            json!({ "type": "INTERIM_SPO", "expiresOn": null }),
            Role::Court,
            "END_DATE_REQUIRED",
        ),
        (
            "DVPO under 14 days",
            json!({ "type": "DVPO", "expiresOn": day(12) }),
            Role::Court,
            "TERM_TOO_SHORT",
        ),
        (
            "DVPO over 28 days",
            json!({ "type": "DVPO", "expiresOn": day(28) }),
            Role::Court,
            "TERM_TOO_LONG",
        ),
        (
            "end before made",
            json!({ "type": "RESTRAINING_ORDER", "expiresOn": day(-1) }),
            Role::Court,
            "END_BEFORE_MADE",
        ),
        (
            "condition outlasting its order",
            json!({ "type": "RESTRAINING_ORDER", "expiresOn": day(30),
            "conditions": [{ "kind": "PROHIBITION", "text": "No contact", "expiresOn": day(31) }] }),
            Role::Court,
            "CONDITION_ENDS_AFTER_ORDER",
        ),
        (
            "unknown applicant agency",
            json!({ "applicantAgency": "NOPE" }),
            Role::Court,
            "UNKNOWN_AGENCY",
        ),
        (
            "applicant is not a police force",
            json!({ "applicantAgency": "ADV-A" }),
            Role::Court,
            "AGENCY_KIND_MISMATCH",
        ),
        (
            "court recording for another court",
            json!({ "court": "MMC" }),
            Role::Court,
            "COURT_MISMATCH",
        ),
        (
            "made in the future",
            json!({ "madeOn": day(1) }),
            Role::Court,
            "MADE_ON_IN_FUTURE",
        ),
        (
            "no subject name",
            json!({ "subject": { "names": [] } }),
            Role::Court,
            "SUBJECT_NAME_REQUIRED",
        ),
        (
            "blank subject name",
            json!({ "subject": { "names": ["  "] } }),
            Role::Court,
            "INVALID_NAME",
        ),
        (
            "no protected person",
            json!({ "protectedPersons": [] }),
            Role::Court,
            "PROTECTED_PERSON_REQUIRED",
        ),
        (
            "bad reference",
            json!({ "reference": "has spaces" }),
            Role::Court,
            "INVALID_REFERENCE",
        ),
        (
            "future date of birth",
            json!({ "subject": { "names": ["X"], "dateOfBirth": day(2) } }),
            Role::Court,
            "DATE_OF_BIRTH_IN_FUTURE",
        ),
        (
            "replacing an order that does not exist",
            json!({ "replacesReference": "WMC/NOPE/1" }),
            Role::Court,
            "REPLACED_ORDER_NOT_FOUND",
        ),
        (
            "replacing another court's interim",
            json!({ "replacesReference": "MMC/INTERIM/1" }),
            Role::Court,
            "REPLACED_ORDER_NOT_FOUND",
        ),
        (
            "a police force recording a court order",
            json!({}),
            Role::Police,
            "WRONG_ISSUER",
        ),
    ];
    let notice_cases: Vec<(&str, Value, &str)> = vec![
        (
            "DVPN subject under 18",
            notice("DVPN"),
            "SUBJECT_UNDER_MINIMUM_AGE",
        ),
        (
            "DAPN subject under 18",
            notice("DAPN"),
            "SUBJECT_UNDER_MINIMUM_AGE",
        ),
        (
            "DAPN protected person under 16",
            {
                let mut n = notice("DAPN");
                n["subject"]["dateOfBirth"] = json!("1980-01-01");
                n["protectedPersons"][0]["dateOfBirth"] =
                    json!((today - chrono::Duration::days(365 * 15)).to_string());
                n
            },
            "PROTECTED_PERSON_UNDER_MINIMUM_AGE",
        ),
        (
            "DVPN without the subject's date of birth",
            {
                let mut n = notice("DVPN");
                n["subject"] = json!({ "names": ["No Dob"] });
                n
            },
            "SUBJECT_DATE_OF_BIRTH_REQUIRED",
        ),
        (
            "a notice for another force",
            {
                let mut n = notice("DVPN");
                n["applicantAgency"] = json!("GMP");
                n["subject"]["dateOfBirth"] = json!("1980-01-01");
                n
            },
            "AGENCY_MISMATCH",
        ),
    ];
    let mut mismatches = vec![];
    for (what, patch, role, code) in cases {
        let mut input = spo_input(&app, "WMC/V/1");
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        let agency = if role == Role::Court { "WMC" } else { "MET" };
        let r = app.grant(&app.token(role, agency), input).await;
        if r.codes() != vec![code.to_string()] {
            mismatches.push(format!("{what}: expected {code}, got {:?}", r.codes()));
        }
        assert_eq!(r.data["grantOrder"], Value::Null, "{what}");
    }
    for (what, input, code) in notice_cases {
        let r = app.grant(&app.token(Role::Police, "MET"), input).await;
        if r.codes() != vec![code.to_string()] {
            mismatches.push(format!("{what}: expected {code}, got {:?}", r.codes()));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    assert_eq!(
        app.snapshot().await,
        before,
        "a rejected grant changed the database"
    );
}

#[tokio::test]
async fn a_validation_error_lists_every_broken_rule_without_personal_data() {
    let app = TestApp::spawn().await.with_agencies().await;
    let mut input = spo_input(&app, "bad ref");
    input["subject"] = json!({ "names": ["Secret Name"], "dateOfBirth": "2150-01-01" });
    input["expiresOn"] = json!(app.today().to_string());
    let r = app.grant(&app.token(Role::Court, "WMC"), input).await;
    let e = r.err("INVALID_REFERENCE");
    assert_eq!(e["extensions"]["category"], "VALIDATION");
    let codes: Vec<&str> = e["extensions"]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "INVALID_REFERENCE",
            "DATE_OF_BIRTH_IN_FUTURE",
            "TERM_TOO_SHORT"
        ]
    );
    assert_eq!(e["extensions"]["violations"][2]["field"], "expiresOn");
    assert!(!e.to_string().contains("Secret Name"));
}

#[tokio::test]
async fn police_issue_notices_for_their_own_force_without_a_court() {
    let app = TestApp::spawn().await.with_agencies().await;
    let r = app
        .grant(
            &app.token(Role::Police, "MET"),
            json!({
            "reference": "MET/DVPN/1", "type": "DVPN", "applicantAgency": "MET",
            "subject": { "names": ["Adult Subject"], "dateOfBirth": "1980-01-01" },
            "protectedPersons": [{ "name": "A Person" }], "madeOn": app.today().to_string() }),
        )
        .await;
    let o = &r.ok()["grantOrder"];
    assert_eq!(o["type"], "DVPN");
    assert_eq!(o["court"], Value::Null);
    // A court cannot issue a police notice.
    let mut as_court = json!({
        "reference": "WMC/DVPN/2", "type": "DVPN", "applicantAgency": "MET",
        "subject": { "names": ["Adult Subject"], "dateOfBirth": "1980-01-01" },
        "protectedPersons": [{ "name": "A Person" }], "madeOn": app.today().to_string() });
    app.grant(&app.token(Role::Court, "WMC"), as_court.clone())
        .await
        .err("WRONG_ISSUER");
    as_court["court"] = json!("WMC");
    as_court["reference"] = json!("MET/DVPN/2");
    app.grant(&app.token(Role::Police, "MET"), as_court)
        .await
        .err("COURT_NOT_ALLOWED");
}

#[tokio::test]
async fn a_token_for_an_unregistered_agency_cannot_record_orders() {
    let app = TestApp::spawn().await.with_agencies().await;
    let before = app.snapshot().await;
    app.grant(
        &app.token(Role::Court, "NOWHERE"),
        spo_input(&app, "NOWHERE/X/1"),
    )
    .await
    .err("AGENCY_NOT_REGISTERED");
    app.grant(&app.token(Role::Court, "MET"), spo_input(&app, "MET/X/2"))
        .await
        .err("AGENCY_ROLE_MISMATCH");
    assert_eq!(app.snapshot().await, before);
}

/// A DVPN issued by `force` for the usual subject, and the DVPO that would follow it, made by `court`.
fn dvpn_and_dvpo(app: &TestApp, notice: &str, order: &str, force: &str) -> (Value, Value) {
    let mut dvpn = spo_input(app, notice);
    dvpn["type"] = json!("DVPN");
    dvpn["applicantAgency"] = json!(force);
    dvpn["expiresOn"] = Value::Null;
    dvpn["conditions"] = json!([]);
    let mut dvpo = spo_input(app, order);
    dvpo["type"] = json!("DVPO");
    dvpo["applicantAgency"] = json!(force);
    dvpo["expiresOn"] = json!((app.today() + chrono::Duration::days(20)).to_string());
    dvpo["conditions"] = json!([]);
    dvpo["replacesReference"] = json!(notice);
    (dvpn, dvpo)
}

#[tokio::test]
async fn a_court_replaces_only_a_notice_it_heard_for_the_same_subject_and_otherwise_learns_nothing()
{
    let app = TestApp::spawn().await.with_agencies().await;
    let met = app.token(Role::Police, "MET");
    let wmc = app.token(Role::Court, "WMC");
    let (dvpn, dvpo) = dvpn_and_dvpo(&app, "MET/DVPN/77", "WMC/DVPO/1", "MET");
    app.grant(&met, dvpn).await.ok();
    let mut dapn = spo_input(&app, "MET/DAPN/5");
    dapn["type"] = json!("DAPN");
    dapn["expiresOn"] = Value::Null;
    dapn["conditions"] = json!([]);
    app.grant(&met, dapn).await.ok();
    let before = app.snapshot().await;

    // WMC heard neither notice: whatever it names, the answer is that of a reference that does not exist.
    let missing = app
        .grant(
            &wmc,
            json!({ "replacesReference": "MET/DVPN/404" }).merge(&dvpo),
        )
        .await;
    let missing = missing.err("REPLACED_ORDER_NOT_FOUND").clone();
    for (what, attempt) in [
        ("a notice it did not hear", dvpo.clone()),
        (
            "a notice of another type it did not hear",
            json!({ "replacesReference": "MET/DAPN/5" }).merge(&dvpo),
        ),
        (
            "a notice it cannot see, for another force",
            json!({ "applicantAgency": "GMP" }).merge(&dvpo),
        ),
    ] {
        let r = app.grant(&wmc, attempt).await;
        assert_eq!(r.errors, vec![missing.clone()], "{what}");
    }
    // A force cannot end another force's notice either.
    let (_, by_gmp) = dvpn_and_dvpo(&app, "MET/DVPN/77", "GMP/DVPN/1", "GMP");
    let mut by_gmp = by_gmp;
    by_gmp["type"] = json!("DVPN");
    by_gmp["expiresOn"] = Value::Null;
    let r = app.grant(&app.token(Role::Police, "GMP"), by_gmp).await;
    assert_eq!(r.codes(), vec!["REPLACED_ORDER_NOT_FOUND"]);
    assert_eq!(app.snapshot().await, before, "nothing changed");

    // Once the application is listed at WMC, WMC may replace the notice, but only with an order for its subject.
    app.gql(
        &wmc,
        "mutation($i: ScheduleHearingInput!) { scheduleHearing(input: $i) { reference } }",
        json!({ "i": { "reference": "MET/DVPN/77", "scheduledFor": app.now().to_rfc3339() } }),
    )
    .await
    .ok();
    let listed = app.snapshot().await;
    for subject in [
        json!({ "names": ["Someone Else"], "dateOfBirth": "1980-05-05" }),
        json!({ "names": ["Sam Subject"], "dateOfBirth": "1981-05-05" }),
    ] {
        let r = app
            .grant(&wmc, json!({ "subject": subject }).merge(&dvpo))
            .await;
        assert_eq!(r.errors, vec![missing.clone()], "{subject}");
    }
    // Nor with an order applied for by another force than the one that issued the notice.
    let r = app
        .grant(&wmc, json!({ "applicantAgency": "GMP" }).merge(&dvpo))
        .await;
    assert_eq!(r.errors, vec![missing.clone()], "another applicant");
    assert_eq!(app.snapshot().await, listed, "nothing changed");
    let r = app
        .grant(
            &wmc,
            json!({ "subject": { "names": ["SAM subject"], "dateOfBirth": "1980-05-05" } })
                .merge(&dvpo),
        )
        .await;
    assert_eq!(r.ok()["grantOrder"]["replacesReference"], "MET/DVPN/77");
    let old = app
        .gql(
            &met,
            "{ order(reference: \"MET/DVPN/77\") { status replacedByReference } }",
            json!({}),
        )
        .await;
    assert_eq!(
        old.ok()["order"],
        json!({ "status": "REPLACED", "replacedByReference": "WMC/DVPO/1" })
    );
}

/// `json!` objects merged: the keys of `self` over those of `base`.
trait Merge {
    fn merge(self, base: &Value) -> Value;
}

impl Merge for Value {
    fn merge(self, base: &Value) -> Value {
        let mut out = base.clone();
        for (k, v) in self.as_object().into_iter().flatten() {
            out[k] = v.clone();
        }
        out
    }
}

#[tokio::test]
async fn dates_outside_the_accepted_range_are_refused_naming_the_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let before = app.snapshot().await;
    for (field, value) in [
        ("madeOn", "-999-01-01"),
        ("madeOn", "1899-12-31"),
        ("expiresOn", "2200-01-01"),
    ] {
        let r = app
            .grant(
                &court,
                json!({ field: value }).merge(&spo_input(&app, "WMC/DR/1")),
            )
            .await;
        assert_eq!(r.codes(), vec!["DATE_OUT_OF_RANGE"], "{field} {value}");
        let message = r.errors[0]["message"].as_str().unwrap();
        assert_eq!(
            message,
            format!("$i.{field}: dates are accepted from 1900-01-01 to 2199-12-31")
        );
    }
    let r = app
        .gql(
            &court,
            "mutation($i: ScheduleHearingInput!) { scheduleHearing(input: $i) { reference } }",
            json!({ "i": { "reference": "WMC/DR/1", "scheduledFor": "9999-12-31T23:00:00-05:00" } }),
        )
        .await;
    assert_eq!(r.codes(), vec!["DATE_OUT_OF_RANGE"]);
    assert_eq!(
        r.errors[0]["message"],
        "$i.scheduledFor: dates are accepted from 1900-01-01 to 2199-12-31"
    );
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_reference_belongs_to_its_issuer_so_a_taken_one_tells_another_agency_nothing() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/NS/1"))
        .await
        .ok();
    let before = app.snapshot().await;
    let mmc = app.token(Role::Court, "MMC");
    // Another court gets the same answer for WMC's taken reference as for a free one: nothing is learnt.
    let taken = app.grant(&mmc, spo_input(&app, "WMC/NS/1")).await;
    let free = app.grant(&mmc, spo_input(&app, "WMC/NS/2")).await;
    taken.err("REFERENCE_OUTSIDE_NAMESPACE");
    assert_eq!(taken.errors, free.errors);
    // A reference whose first part merely starts with the agency's code is not in its namespace.
    app.grant(&mmc, spo_input(&app, "MMCX/NS/1"))
        .await
        .err("REFERENCE_OUTSIDE_NAMESPACE");
    app.grant(&mmc, spo_input(&app, "MMC/"))
        .await
        .err("REFERENCE_OUTSIDE_NAMESPACE");
    // A police force's notices live under its own code too.
    let mut dvpn = spo_input(&app, "GMP/DVPN/1");
    dvpn["type"] = json!("DVPN");
    dvpn["applicantAgency"] = json!("MET");
    dvpn["expiresOn"] = Value::Null;
    dvpn["conditions"] = json!([]);
    app.grant(&app.token(Role::Police, "MET"), dvpn)
        .await
        .err("REFERENCE_OUTSIDE_NAMESPACE");
    assert_eq!(app.snapshot().await, before);
    // Its own reference taken twice is the one conflict it can meet.
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "wmc/ns/1"))
        .await
        .err("REFERENCE_TAKEN");
}

/// A DAPO's electronic monitoring requirement lasts at most 12 months beginning with the day made (Domestic Abuse
/// Act 2021 s38(5)), through the API: the last day accepted, the day after refused with nothing written.
#[tokio::test]
async fn a_dapos_electronic_monitoring_requirement_ends_within_12_months() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.clock.set("2026-03-01T10:00:00Z".parse().unwrap());
    let court = app.token(Role::Court, "WMC");
    let dapo = |reference: &str, em_end: &str| {
        let mut i = spo_input(&app, reference);
        i["type"] = json!("DAPO");
        i["expiresOn"] = Value::Null;
        i["conditions"] = json!([{ "kind": "ELECTRONIC_MONITORING", "text": "Wear an electronic tag", "expiresOn": em_end }]);
        i
    };
    let before = app.snapshot().await;
    let refused = app.grant(&court, dapo("WMC/EM/1", "2027-03-01")).await;
    assert_eq!(refused.codes(), ["ELECTRONIC_MONITORING_TOO_LONG"]);
    assert_eq!(app.snapshot().await, before);
    let made = app.grant(&court, dapo("WMC/EM/1", "2027-02-28")).await;
    assert_eq!(
        made.ok()["grantOrder"]["conditions"][0]["kind"],
        "ELECTRONIC_MONITORING"
    );
}
