//! Function-level authorization: each operation as each role, and which orders each role sees.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};

/// Every operation, as a document and variables that would succeed for an entitled caller. Order A/1 was made by
/// court WMC on MET's application; `person` is its protected person. Run in this order, on one app per caller.
fn operations(app: &TestApp, person: &str) -> Vec<(&'static str, String, Value)> {
    let at = json!({ "at": app.now().to_rfc3339() });
    let share_vars = json!({ "p": person });
    vec![
        ("me", "{ me { role } }".into(), json!({})),
        ("agencies", "{ agencies { edges { cursor } } }".into(), json!({})),
        ("order", "{ order(reference: \"WMC/A/1\") { reference } }".into(), json!({})),
        ("orders", "{ orders { edges { node { reference } } } }".into(), json!({})),
        ("alerts", "{ alerts { edges { cursor } } }".into(), json!({})),
        ("deadlines", "{ deadlines { edges { cursor } } }".into(), json!({})),
        ("auditEvents", "{ auditEvents { edges { cursor } } }".into(), json!({})),
        ("createAgency", "mutation { createAgency(input: { code: \"NEW\", name: \"New\", kind: COURT }) { code } }".into(), json!({})),
        ("grantOrder", GRANT.into(), json!({ "i": spo_input(app, "WMC/A/2") })),
        (
            "recordService",
            "mutation($at: DateTime!) { recordService(reference: \"WMC/A/1\", servedAt: $at, method: PERSONAL) { reference } }".into(),
            at.clone(),
        ),
        (
            "setSoaPart2Notification",
            "mutation { setSoaPart2Notification(reference: \"WMC/A/1\", registered: true) { reference } }".into(),
            json!({}),
        ),
        (
            "recordAwareness",
            "mutation($at: DateTime!) { recordAwareness(reference: \"WMC/A/1\", awareAt: $at) { reference } }".into(),
            at.clone(),
        ),
        (
            "reportBreach",
            "mutation($at: DateTime!) { reportBreach(input: { reference: \"WMC/A/1\", occurredAt: $at, description: \"d\", externalRef: \"X-1\" }) { id } }".into(),
            at,
        ),
        ("updateBreachOutcome", "mutation { updateBreachOutcome(id: \"nope\", outcome: NO_FURTHER_ACTION) { id } }".into(), json!({})),
        (
            "shareOrderWithAdvocacy",
            "mutation($p: ID!) { shareOrderWithAdvocacy(reference: \"WMC/A/1\", protectedPersonId: $p, advocacyAgency: \"ADV-A\") { id } }".into(),
            share_vars.clone(),
        ),
        ("acknowledgeAlert", "mutation { acknowledgeAlert(id: \"nope\") { id } }".into(), json!({})),
        (
            "recordNotification",
            "mutation($at: DateTime!) { recordNotification(input: { reference: \"WMC/A/1\", kind: INITIAL, notifiedAt: $at }) { reference } }".into(),
            json!({ "at": app.now().to_rfc3339() }),
        ),
        (
            "scheduleHearing",
            "mutation($at: DateTime!) { scheduleHearing(input: { reference: \"WMC/A/1\", scheduledFor: $at }) { reference } }".into(),
            json!({ "at": app.now().to_rfc3339() }),
        ),
        ("recordHearingOutcome", "mutation { recordHearingOutcome(input: { hearingId: \"nope\", outcome: VACATED }) { reference } }".into(), json!({})),
        (
            "revokeOrderShare",
            "mutation($p: ID!) { revokeOrderShare(reference: \"WMC/A/1\", protectedPersonId: $p, advocacyAgency: \"ADV-A\") { id } }".into(),
            share_vars,
        ),
        (
            "recordEndingEvent",
            "mutation { recordEndingEvent(input: { reference: \"WMC/A/1\", occurredOn: \"2026-01-01\" }) { reference } }".into(),
            json!({}),
        ),
        ("varyOrder", "mutation { varyOrder(input: { reference: \"WMC/A/1\", conditions: [] }) { reference } }".into(), json!({})),
        (
            "renewOrder",
            "mutation($d: Date!) { renewOrder(input: { reference: \"WMC/A/1\", expiresOn: $d }) { reference } }".into(),
            json!({ "d": (app.today() + chrono::Duration::days(3000)).to_string() }),
        ),
        (
            "dischargeOrder",
            "mutation { dischargeOrder(input: { reference: \"WMC/A/1\", consentOfSubjectAndChiefOfficer: true }) { reference } }".into(),
            json!({}),
        ),
        ("quashOrder", "mutation { quashOrder(input: { reference: \"WMC/A/1\" }) { reference } }".into(), json!({})),
        ("statistics", "{ statistics(from: \"2026-01-01\", to: \"2026-03-31\") { quarter } }".into(), json!({})),
        ("application", "{ application(reference: \"MET/APP/404\") { reference } }".into(), json!({})),
        ("subjectHistory", "{ subjectHistory(reference: \"WMC/A/404\") { orders } }".into(), json!({})),
        ("recordApplication", "mutation { recordApplication(input: { reference: \"MET/APP/X1\", orderType: SPO }) { reference } }".into(), json!({})),
        ("updateApplication", "mutation { updateApplication(reference: \"MET/APP/404\", stages: {}) { reference } }".into(), json!({})),
        (
            "recordApplicationOutcome",
            "mutation { recordApplicationOutcome(input: { reference: \"MET/APP/404\", outcome: WITHDRAWN, decidedOn: \"2026-01-01\" }) { reference } }".into(),
            json!({}),
        ),
        ("alertEndpoints", "{ alertEndpoints { id } }".into(), json!({})),
        (
            "registerAlertEndpoint",
            "mutation { registerAlertEndpoint(input: { agency: \"MET\", transport: WEBHOOK, target: \"https://cases.example.org/hook\", kinds: [BREACH_REPORTED] }) { secret } }".into(),
            json!({}),
        ),
        ("pauseAlertEndpoint", "mutation { pauseAlertEndpoint(id: \"nope\") { id } }".into(), json!({})),
        ("resumeAlertEndpoint", "mutation { resumeAlertEndpoint(id: \"nope\") { id } }".into(), json!({})),
        ("rotateAlertEndpointSecret", "mutation { rotateAlertEndpointSecret(id: \"nope\") { secret } }".into(), json!({})),
        ("removeAlertEndpoint", "mutation { removeAlertEndpoint(id: \"nope\") { id } }".into(), json!({})),
    ]
}

/// The outcome the policy table in docs/api.md promises. `NOT_FOUND` for an entitled caller means the check went
/// past authorization to the (absent or invisible) object.
fn expected(op: &str, role: Role, agency: &str) -> &'static str {
    use Role::*;
    match (op, role, agency) {
        ("me" | "agencies", _, _) => "OK",
        ("order" | "orders", Court | Police | Advocate, _) => "OK",
        ("alerts", Police | Advocate, _) => "OK",
        ("deadlines", Court | Police | Advocate, _) => "OK",
        ("auditEvents", Auditor, _) => "OK",
        // Aggregates: an analyst every force's, a police supervisor their own force's (the tokens here have no
        // supervisory scope: tests/api/statistics.rs has one that does).
        ("statistics", Analyst, _) => "OK",
        ("statistics", Police, _) => "SUPERVISOR_SCOPE_REQUIRED",
        // Applications: the force that applied and the court it went to; to anyone else one does not exist.
        ("application", Court | Police, _) => "OK",
        ("subjectHistory", Police, _) => "OK",
        ("recordApplication", Police, "MET") => "OK",
        ("recordApplication", Police, _) => "REFERENCE_OUTSIDE_NAMESPACE",
        ("updateApplication", Police, _) => "NOT_FOUND",
        ("recordApplicationOutcome", Court, _) => "NOT_FOUND",
        ("recordNotification", Police, _) => "OK",
        ("scheduleHearing", Court, "WMC") => "OK",
        ("scheduleHearing" | "recordHearingOutcome", Court, _) => "NOT_FOUND",
        ("createAgency" | "alertEndpoints" | "registerAlertEndpoint", Admin, _) => "OK",
        (
            "pauseAlertEndpoint"
            | "resumeAlertEndpoint"
            | "rotateAlertEndpointSecret"
            | "removeAlertEndpoint",
            Admin,
            _,
        ) => "NOT_FOUND",
        ("grantOrder", Court, "WMC") => "OK",
        // Only a Crown Court quashes, and to any other court the order does not exist.
        ("quashOrder", Court, "CCL") => "OK",
        ("quashOrder", Court, _) => "NOT_FOUND",
        // References belong to their issuer: another court cannot record one in WMC's namespace.
        ("grantOrder", Court, _) => "REFERENCE_OUTSIDE_NAMESPACE",
        ("grantOrder", Police, _) => "WRONG_ISSUER",
        ("recordService" | "reportBreach", Police, _) => "OK",
        ("setSoaPart2Notification", Police, "MET") => "OK",
        ("setSoaPart2Notification", Police, _) => "NOT_ORDER_AGENCY",
        // WMC/A/1 was made on notice.
        ("recordAwareness", Police, _) => "NOT_MADE_WITHOUT_NOTICE",
        ("updateBreachOutcome", Police, _) => "NOT_FOUND",
        ("acknowledgeAlert", Police | Advocate, _) => "NOT_FOUND",
        ("shareOrderWithAdvocacy" | "revokeOrderShare", Court, "WMC")
        | ("shareOrderWithAdvocacy" | "revokeOrderShare", Police, "MET") => "OK",
        ("shareOrderWithAdvocacy" | "revokeOrderShare", Police, _) => "NOT_ORDER_AGENCY",
        ("shareOrderWithAdvocacy" | "revokeOrderShare", Court, _) => "NOT_FOUND",
        ("varyOrder" | "renewOrder" | "dischargeOrder", Court, "WMC") => "OK",
        ("varyOrder" | "renewOrder" | "dischargeOrder", Court, _) => "NOT_FOUND",
        // The court that made the order gets past authorization to the order itself (an SPO: no event to record).
        ("recordEndingEvent", Court, "WMC") => "NOT_UNTIL_EVENT",
        ("recordEndingEvent", Court, _) => "NOT_FOUND",
        _ => "FORBIDDEN",
    }
}

/// The root fields (queries, mutations, subscriptions) the server serves, by introspection.
async fn root_fields(_app: &TestApp) -> Vec<String> {
    // The whole schema, as printed without a caller: no role's introspection hides an operation from this check.
    let schema = orderwatch::graphql::build_schema(None);
    let mut fields: Vec<String> = orderwatch::graphql::root_field_names(&schema)
        .into_iter()
        .collect();
    fields.sort();
    fields
}

#[tokio::test]
async fn every_operation_as_every_role_matches_the_policy_table() {
    let callers = [
        (Role::Court, "WMC"),
        (Role::Court, "MMC"),
        (Role::Court, "CCL"),
        (Role::Police, "MET"),
        (Role::Police, "GMP"),
        (Role::Advocate, "ADV-A"),
        (Role::Advocate, "ADV-B"),
        (Role::Admin, "OPS"),
        (Role::Auditor, "OPS"),
        (Role::Analyst, "STATS"),
    ];
    let mut mismatches = vec![];
    // Without a token nothing runs at all.
    let app = TestApp::spawn().await.with_agencies().await;
    for (op, query, vars) in operations(&app, "x") {
        let res = app
            .post_raw(None, json!({ "query": query, "variables": vars }))
            .await;
        if res.status().as_u16() != 401 {
            mismatches.push(format!("{op} without a token: HTTP {}", res.status()));
        }
    }
    for (role, agency) in callers {
        // A fresh app per caller, so each operation meets the same starting state.
        let app = TestApp::spawn().await.with_agencies().await;
        let r = app
            .grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/A/1"))
            .await;
        let person = r.ok()["grantOrder"]["protectedPersons"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let token = app.token(role, agency);
        for (op, query, vars) in operations(&app, &person) {
            let before = app.snapshot().await;
            let r = app.gql(&token, &query, vars).await;
            let got = match r.codes().first() {
                None => "OK".to_string(),
                Some(c) => c.clone(),
            };
            let want = expected(op, role, agency);
            if got != want {
                mismatches.push(format!(
                    "{op} as {role} {agency}: expected {want}, got {got} {:?}",
                    r.errors
                ));
            }
            // A refused operation, on the caller's own order, another agency's, or one it cannot see, changes
            // nothing.
            if got != "OK" && app.snapshot().await != before {
                mismatches.push(format!(
                    "{op} as {role} {agency} was refused ({got}) but changed the database"
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[tokio::test]
async fn every_operation_in_the_schema_has_a_row_in_the_policy_table() {
    let app = TestApp::spawn().await;
    let covered: Vec<&str> = operations(&app, "x")
        .iter()
        .map(|(name, _, _)| *name)
        .collect();
    let fields = root_fields(&app).await;
    assert!(fields.len() > 10, "introspection found {fields:?}");
    let missing: Vec<String> = fields
        .into_iter()
        .filter(|f| !covered.contains(&f.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "operations without a row in the authorization table: {missing:?}"
    );
}

#[tokio::test]
async fn a_court_sees_only_its_own_orders_and_police_see_all() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/W/1"))
        .await
        .ok();
    let mut m = spo_input(&app, "MMC/M/1");
    m["applicantAgency"] = json!("GMP");
    app.grant(&app.token(Role::Court, "MMC"), m).await.ok();

    let refs = |r: &Gql| -> Vec<String> {
        r.ok()["orders"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["reference"].as_str().unwrap().to_string())
            .collect()
    };
    let list = "{ orders { edges { node { reference } } } }";
    let wmc = app.token(Role::Court, "WMC");
    assert_eq!(refs(&app.gql(&wmc, list, json!({})).await), ["WMC/W/1"]);
    assert_eq!(
        app.gql(
            &wmc,
            "{ order(reference: \"MMC/M/1\") { reference } }",
            json!({})
        )
        .await
        .ok()["order"],
        Value::Null
    );
    // Filtering by another court does not widen a court's view.
    let other = app
        .gql(
            &wmc,
            "{ orders(filter: { court: \"MMC\" }) { edges { node { reference } } } }",
            json!({}),
        )
        .await;
    assert_eq!(refs(&other), Vec::<String>::new());
    let police = app.token(Role::Police, "MET");
    assert_eq!(
        refs(&app.gql(&police, list, json!({})).await),
        ["MMC/M/1", "WMC/W/1"]
    );
    // Advocates see no order until sharing is recorded (a later feature).
    let adv = app.token(Role::Advocate, "ADV-A");
    assert_eq!(
        refs(&app.gql(&adv, list, json!({})).await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn only_the_managing_force_reads_protected_persons_contact_details() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/C/1"))
        .await
        .ok();
    let q = "{ order(reference: \"WMC/C/1\") { protectedPersons { name contact } } }";
    let met = app.gql(&app.token(Role::Police, "MET"), q, json!({})).await;
    assert_eq!(
        met.ok()["order"]["protectedPersons"][0]["contact"],
        "07700 900123"
    );
    for (role, agency) in [(Role::Police, "GMP"), (Role::Court, "WMC")] {
        let r = app.gql(&app.token(role, agency), q, json!({})).await;
        let e = r.err("FORBIDDEN_FIELD");
        assert_eq!(
            e["path"],
            json!(["order", "protectedPersons", 0, "contact"])
        );
        assert!(
            r.data["order"]["protectedPersons"][0]
                .as_object()
                .unwrap()
                .contains_key("contact"),
            "null, not omitted"
        );
        assert_eq!(
            r.data["order"]["protectedPersons"][0]["contact"],
            Value::Null
        );
        assert!(!r.errors[0].to_string().contains("07700"));
    }
}

#[tokio::test]
async fn agencies_are_created_by_admin_once_with_valid_codes() {
    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin, "OPS");
    let create = "mutation($i: CreateAgencyInput!) { createAgency(input: $i) { code name kind } }";
    let r = app
        .gql(
            &admin,
            create,
            json!({ "i": { "code": "WMC", "name": "Westminster", "kind": "COURT" } }),
        )
        .await;
    assert_eq!(
        r.ok()["createAgency"],
        json!({ "code": "WMC", "name": "Westminster", "kind": "COURT" })
    );
    let before = app.snapshot().await;
    app.gql(
        &admin,
        create,
        json!({ "i": { "code": "WMC", "name": "Again", "kind": "COURT" } }),
    )
    .await
    .err("AGENCY_EXISTS");
    app.gql(
        &admin,
        create,
        json!({ "i": { "code": "bad code", "name": "X", "kind": "COURT" } }),
    )
    .await
    .err("INVALID_AGENCY_CODE");
    app.gql(
        &admin,
        create,
        json!({ "i": { "code": "OK", "name": " ", "kind": "COURT" } }),
    )
    .await
    .err("INVALID_NAME");
    assert_eq!(app.snapshot().await, before);
    let listed = app
        .gql(
            &app.token(Role::Police, "MET"),
            "{ agencies { edges { node { code kind } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed.ok()["agencies"]["edges"],
        json!([{ "node": { "code": "WMC", "kind": "COURT" } }])
    );
}

/// Every sensitive field as every role: a value only where the policy table allows, otherwise null with
/// `FORBIDDEN_FIELD` (or no order at all, or a refused operation).
#[tokio::test]
async fn every_sensitive_field_as_every_role_matches_the_policy_table() {
    let app = TestApp::spawn().await.with_agencies().await;
    // Its subject under Sexual Offences Act 2003 notification until a day a year on (police only may read it).
    let soa_day = (app.today() + chrono::Duration::days(365)).to_string();
    let mut input = spo_input(&app, "WMC/Z/1");
    input["soaPart2Notification"] = json!({ "finalDay": soa_day });
    let r = app.grant(&app.token(Role::Court, "WMC"), input).await;
    let person = r.ok()["grantOrder"]["protectedPersons"][0]["id"].clone();
    let met = app.token(Role::Police, "MET");
    app.gql(&met, "mutation($p: ID!) { shareOrderWithAdvocacy(reference: \"WMC/Z/1\", protectedPersonId: $p, advocacyAgency: \"ADV-A\") { id } }", json!({ "p": person })).await.ok();
    let at = app.now().to_rfc3339();
    let b = app.gql(&met, "mutation($at: DateTime!) { reportBreach(input: { reference: \"WMC/Z/1\", occurredAt: $at, description: \"narrative\", externalRef: \"INC-9\" }) { id } }", json!({ "at": at })).await;
    let breach = b.ok()["reportBreach"]["id"].clone();
    app.gql(&met, "mutation($id: ID!) { updateBreachOutcome(id: $id, outcome: UNDER_INVESTIGATION, note: \"police note\") { id } }", json!({ "id": breach })).await.ok();
    // Served, so the subject's duty to notify a change has begun.
    app.gql(&met, "mutation($at: DateTime!) { recordService(reference: \"WMC/Z/1\", servedAt: $at, method: PERSONAL) { reference } }", json!({ "at": at })).await.ok();
    app.gql(&met, "mutation($at: DateTime!, $d: Date!) { recordNotification(input: { reference: \"WMC/Z/1\", kind: HOME_ADDRESS, notifiedAt: $at, changedOn: $d, details: \"notified address\" }) { reference } }", json!({ "at": at, "d": app.today().to_string() })).await.ok();

    app.gql(&app.token(Role::Court, "WMC"), "mutation { varyOrder(input: { reference: \"WMC/Z/1\", conditions: [], note: \"court reason\" }) { version } }", json!({})).await.ok();
    let fields: [(&str, &str); 7] = [
        ("versionNote", "versions { note }"),
        ("contact", "protectedPersons { contact }"),
        ("notifications", "notifications { details }"),
        ("description", "breaches { description }"),
        ("externalRef", "breaches { externalRef }"),
        ("note", "breaches { outcomes { note } }"),
        ("soaPart2Notification", "soaPart2Notification { finalDay }"),
    ];
    // What each caller gets for each field: V a value, F FORBIDDEN_FIELD, N no order visible, X operation refused.
    let table: [(Role, &str, [char; 7]); 8] = [
        (Role::Court, "WMC", ['V', 'F', 'F', 'F', 'F', 'F', 'F']),
        (Role::Court, "MMC", ['N', 'N', 'N', 'N', 'N', 'N', 'N']),
        (Role::Police, "MET", ['V', 'V', 'V', 'V', 'V', 'V', 'V']),
        (Role::Police, "GMP", ['V', 'F', 'F', 'V', 'V', 'V', 'V']),
        (Role::Advocate, "ADV-A", ['F', 'F', 'F', 'F', 'F', 'F', 'F']),
        (Role::Advocate, "ADV-B", ['N', 'N', 'N', 'N', 'N', 'N', 'N']),
        (Role::Admin, "OPS", ['X', 'X', 'X', 'X', 'X', 'X', 'X']),
        (Role::Auditor, "DPO", ['X', 'X', 'X', 'X', 'X', 'X', 'X']),
    ];
    let mut mismatches = vec![];
    for (role, agency, expected) in table {
        let token = app.token(role, agency);
        for ((name, selection), want) in fields.iter().zip(expected) {
            let r = app
                .gql(
                    &token,
                    &format!("{{ order(reference: \"WMC/Z/1\") {{ {selection} }} }}"),
                    json!({}),
                )
                .await;
            let text = r.data.to_string();
            let got = match r.codes().first().map(String::as_str) {
                Some("FORBIDDEN") => 'X',
                Some("FORBIDDEN_FIELD") => 'F',
                Some(other) => panic!("{role} {agency} {name}: unexpected {other}"),
                None if r.data["order"].is_null() => 'N',
                None if [
                    "07700",
                    "notified address",
                    "narrative",
                    "INC-9",
                    "police note",
                    "court reason",
                    soa_day.as_str(),
                ]
                .iter()
                .any(|v| text.contains(v)) =>
                {
                    'V'
                }
                None => '?',
            };
            if got == 'F'
                && [
                    "07700",
                    "notified address",
                    "narrative",
                    "INC-9",
                    "police note",
                    "court reason",
                    soa_day.as_str(),
                ]
                .iter()
                .any(|v| text.contains(v))
            {
                mismatches.push(format!(
                    "{role} {agency} {name}: a withheld field leaked a value"
                ));
            }
            if got != want {
                mismatches.push(format!(
                    "{role} {agency} {name}: expected {want}, got {got} ({text})"
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
