//! Deadlines and the scheduled checks: each alert at, just before and just after its boundary; notifications and
//! hearings meeting their deadlines; exactly once across reruns, crashes and replicas; late, never dropped.

use crate::helpers::*;
use chrono::{DateTime, Duration, Utc};
use orderwatch::auth::{Principal, Role};
use orderwatch::domain::calendar::{
    end_of_day, end_of_period_beginning_with, hours_excluding, london_date, ExcludedDays,
};
use orderwatch::service::checks::CheckOptions;
use serde_json::{json, Value};

const SERVE: &str = "mutation($r: String!, $at: DateTime!) { recordService(reference: $r, servedAt: $at, method: PERSONAL) { serviceStatus } }";
const NOTIFY: &str = "mutation($i: RecordNotificationInput!) { recordNotification(input: $i) { deadlines { kind status metAt dueAt } } }";

/// Runs the checks at `at` and returns what they raised, as (kind, reference).
async fn check(app: &TestApp, at: DateTime<Utc>) -> Vec<(String, String)> {
    let report = app
        .services
        .run_checks(CheckOptions::at(at))
        .await
        .expect("check run");
    report
        .raised
        .into_iter()
        .map(|r| (r.kind.as_str().to_string(), r.order_reference))
        .collect()
}

/// Asserts an alert of `kind` for `reference` is raised at `boundary`, not a second before, and not again after.
async fn fires_at(app: &TestApp, kind: &str, reference: &str, boundary: DateTime<Utc>) {
    let hit = |raised: &[(String, String)]| {
        raised
            .iter()
            .filter(|(k, r)| k == kind && r == reference)
            .count()
    };
    assert_eq!(
        hit(&check(app, boundary - Duration::seconds(1)).await),
        0,
        "{kind} {reference} before {boundary}"
    );
    assert_eq!(
        hit(&check(app, boundary).await),
        1,
        "{kind} {reference} at {boundary}"
    );
    assert_eq!(
        hit(&check(app, boundary + Duration::seconds(1)).await),
        0,
        "{kind} {reference} again after {boundary}"
    );
}

fn input(app: &TestApp, reference: &str, order_type: &str, expires_in_days: Option<i64>) -> Value {
    let mut i = spo_input(app, reference);
    i["type"] = json!(order_type);
    i["expiresOn"] = json!(expires_in_days.map(|d| (app.today() + Duration::days(d)).to_string()));
    i["conditions"] = json!([]);
    i
}

/// The order's time of recording, as stored.
async fn recorded_at(app: &TestApp, reference: &str) -> DateTime<Utc> {
    let r = app
        .gql(
            &app.token(Role::Police, "MET"),
            "query($r: String!) { order(reference: $r) { createdAt } }",
            json!({ "r": reference }),
        )
        .await;
    r.ok()["order"]["createdAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn each_scheduled_alert_fires_at_its_boundary_not_before_and_only_once() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let met = app.token(Role::Police, "MET");
    let today = app.today();

    // Initial notification (SPA s9): served now, due at the end of the service day + 2.
    app.grant(&court, input(&app, "WMC/N/1", "SPO", None))
        .await
        .ok();
    let served = app.now() - Duration::minutes(1);
    app.gql(
        &met,
        SERVE,
        json!({ "r": "WMC/N/1", "at": served.to_rfc3339() }),
    )
    .await
    .ok();
    fires_at(
        &app,
        "NOTIFICATION_OVERDUE",
        "WMC/N/1",
        end_of_period_beginning_with(london_date(served), 3),
    )
    .await;

    // Unserved 24 hours after it was recorded.
    app.grant(&court, input(&app, "WMC/U/1", "RESTRAINING_ORDER", None))
        .await
        .ok();
    fires_at(
        &app,
        "UNSERVED_ORDER",
        "WMC/U/1",
        recorded_at(&app, "WMC/U/1").await + Duration::hours(24),
    )
    .await;

    // Expiring 30 and 7 days before the end of the last day; expired at the end of it.
    app.grant(
        &court,
        input(&app, "WMC/E/1", "RESTRAINING_ORDER", Some(60)),
    )
    .await
    .ok();
    let last = today + Duration::days(60);
    fires_at(
        &app,
        "ORDER_EXPIRING",
        "WMC/E/1",
        end_of_day(last - Duration::days(30)),
    )
    .await;
    fires_at(
        &app,
        "ORDER_EXPIRING",
        "WMC/E/1",
        end_of_day(last - Duration::days(7)),
    )
    .await;
    fires_at(&app, "ORDER_EXPIRED", "WMC/E/1", end_of_day(last)).await;
    let o = app
        .gql(
            &met,
            "{ order(reference: \"WMC/E/1\") { status versions { event status } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        o.ok()["order"]["versions"][1],
        json!({ "event": "EXPIRED", "status": "EXPIRED" }),
        "the status is recorded"
    );

    // An interim SPO ending within 7 days while the main application is pending.
    app.grant(&court, input(&app, "WMC/I/1", "INTERIM_SPO", Some(20)))
        .await
        .ok();
    fires_at(
        &app,
        "INTERIM_EXPIRING_MAIN_PENDING",
        "WMC/I/1",
        end_of_day(today + Duration::days(13)),
    )
    .await;

    // A DAPN's hearing window: warned at 12 h and 2 h before it closes; lapsed when it closes.
    let mut dapn = input(&app, "MET/H/1", "DAPN", None);
    dapn["applicantAgency"] = json!("MET");
    dapn["subject"]["dateOfBirth"] = json!("1980-01-01");
    app.grant(&met, dapn).await.ok();
    let given = recorded_at(&app, "MET/H/1").await;
    let closes = hours_excluding(given, 48, &ExcludedDays::england_and_wales());
    fires_at(
        &app,
        "HEARING_DEADLINE",
        "MET/H/1",
        closes - Duration::hours(12),
    )
    .await;
    fires_at(
        &app,
        "HEARING_DEADLINE",
        "MET/H/1",
        closes - Duration::hours(2),
    )
    .await;
    fires_at(&app, "HEARING_DEADLINE", "MET/H/1", closes).await;
    let o = app
        .gql(
            &met,
            "{ order(reference: \"MET/H/1\") { status deadlines { kind status } } }",
            json!({}),
        )
        .await;
    assert_eq!(o.ok()["order"]["status"], "LAPSED");
    assert_eq!(
        o.ok()["order"]["deadlines"],
        json!([{ "kind": "HEARING_WINDOW", "status": "MISSED" }])
    );
}

#[tokio::test]
async fn a_notification_in_time_meets_its_deadline_and_nothing_is_raised() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(
        &app.token(Role::Court, "WMC"),
        input(&app, "WMC/M/1", "SPO", None),
    )
    .await
    .ok();
    let met = app.token(Role::Police, "MET");
    let served = app.now() - Duration::hours(1);
    app.gql(
        &met,
        SERVE,
        json!({ "r": "WMC/M/1", "at": served.to_rfc3339() }),
    )
    .await
    .ok();
    let due = end_of_period_beginning_with(london_date(served), 3);
    let r = app
        .gql(&app.token(Role::Police, "GMP"), NOTIFY, json!({ "i": { "reference": "WMC/M/1", "kind": "INITIAL", "notifiedAt": app.now().to_rfc3339() } }))
        .await;
    let d = &r.ok()["recordNotification"]["deadlines"][0];
    assert_eq!(
        (d["kind"].as_str(), d["status"].as_str()),
        (Some("NOTIFICATION_INITIAL"), Some("MET"))
    );
    assert_eq!(
        d["dueAt"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        due
    );
    assert!(check(&app, due + Duration::days(1))
        .await
        .iter()
        .all(|(k, _)| k != "NOTIFICATION_OVERDUE"));

    // Changes of name and address: met within 3 days beginning with the change, missed after. (A change dated
    // before service is covered by the initial notification, so this one is on the day of service, notified 4 days
    // on.)
    app.clock.set(app.now() + Duration::days(4));
    let changed = london_date(served);
    let address = json!({ "i": { "reference": "WMC/M/1", "kind": "HOME_ADDRESS", "notifiedAt": app.now().to_rfc3339(),
        "changedOn": changed.to_string(), "details": "1 Example Street" } });
    let r = app.gql(&met, NOTIFY, address).await;
    let kinds: Vec<(String, String)> = r.ok()["recordNotification"]["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().into(),
                d["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("NOTIFICATION_HOME_ADDRESS".into(), "MISSED".into())),
        "{kinds:?}"
    );
    // Only the managing force reads what was notified.
    let q = "{ order(reference: \"WMC/M/1\") { notifications { kind details } } }";
    assert_eq!(
        app.gql(&met, q, json!({})).await.ok()["order"]["notifications"][1]["details"],
        "1 Example Street"
    );
    app.gql(&app.token(Role::Police, "GMP"), q, json!({}))
        .await
        .err("FORBIDDEN_FIELD");
}

#[tokio::test]
async fn notifications_and_hearings_refuse_bad_input_and_change_nothing() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(
        &app.token(Role::Court, "WMC"),
        input(&app, "WMC/B/1", "SPO", None),
    )
    .await
    .ok();
    app.grant(
        &app.token(Role::Court, "WMC"),
        input(&app, "WMC/B/2", "RESTRAINING_ORDER", None),
    )
    .await
    .ok();
    let met = app.token(Role::Police, "MET");
    let now = app.now().to_rfc3339();
    app.gql(
        &met,
        NOTIFY,
        json!({ "i": { "reference": "WMC/B/1", "kind": "INITIAL", "notifiedAt": now } }),
    )
    .await
    .ok();
    let before = app.snapshot().await;
    let cases = [
        (
            json!({ "reference": "WMC/B/1", "kind": "INITIAL", "notifiedAt": now }),
            "ALREADY_NOTIFIED",
        ),
        (
            json!({ "reference": "WMC/B/2", "kind": "INITIAL", "notifiedAt": now }),
            "NOTIFICATION_NOT_REQUIRED",
        ),
        (
            json!({ "reference": "WMC/B/1", "kind": "NEW_NAME", "notifiedAt": now }),
            "CHANGED_ON_REQUIRED",
        ),
        (
            json!({ "reference": "WMC/B/1", "kind": "NEW_NAME", "notifiedAt": now, "changedOn": (app.today() + Duration::days(2)).to_string() }),
            "CHANGED_ON_AFTER_NOTIFIED",
        ),
        (
            json!({ "reference": "WMC/B/1", "kind": "INITIAL", "notifiedAt": (app.now() + Duration::hours(1)).to_rfc3339() }),
            "NOTIFIED_AT_IN_FUTURE",
        ),
        (
            json!({ "reference": "NOPE", "kind": "INITIAL", "notifiedAt": now }),
            "NOT_FOUND",
        ),
    ];
    for (i, code) in cases {
        app.gql(&met, NOTIFY, json!({ "i": i })).await.err(code);
    }
    let hearing =
        "mutation($i: ScheduleHearingInput!) { scheduleHearing(input: $i) { hearings { id } } }";
    app.gql(
        &app.token(Role::Court, "MMC"),
        hearing,
        json!({ "i": { "reference": "WMC/B/1", "scheduledFor": now } }),
    )
    .await
    .err("NOT_FOUND");
    app.gql(
        &met,
        hearing,
        json!({ "i": { "reference": "WMC/B/1", "scheduledFor": now } }),
    )
    .await
    .err("FORBIDDEN");
    let outcome = "mutation($i: RecordHearingOutcomeInput!) { recordHearingOutcome(input: $i) { reference } }";
    app.gql(
        &app.token(Role::Court, "WMC"),
        outcome,
        json!({ "i": { "hearingId": "nope", "outcome": "HEARD", "heldAt": now } }),
    )
    .await
    .err("NOT_FOUND");
    app.gql(
        &app.token(Role::Court, "WMC"),
        outcome,
        json!({ "i": { "hearingId": "nope", "outcome": "HEARD" } }),
    )
    .await
    .err("HELD_AT_REQUIRED");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_notice_heard_within_its_window_does_not_lapse() {
    let app = TestApp::spawn().await.with_agencies().await;
    let met = app.token(Role::Police, "MET");
    let mut dapn = input(&app, "MET/W/1", "DAPN", None);
    dapn["subject"]["dateOfBirth"] = json!("1980-01-01");
    app.grant(&met, dapn).await.ok();
    // Any magistrates' court may list the hearing of the application that follows a police notice.
    let court = app.token(Role::Court, "MMC");
    let listed = app
        .gql(&court, "mutation($i: ScheduleHearingInput!) { scheduleHearing(input: $i) { hearings { id } } }",
            json!({ "i": { "reference": "MET/W/1", "scheduledFor": app.now().to_rfc3339() } }))
        .await;
    let id = listed.ok()["scheduleHearing"]["hearings"][0]["id"].clone();
    let heard = app
        .gql(&court, "mutation($i: RecordHearingOutcomeInput!) { recordHearingOutcome(input: $i) { deadlines { kind status } hearings { outcome } } }",
            json!({ "i": { "hearingId": id, "outcome": "HEARD", "heldAt": app.now().to_rfc3339() } }))
        .await;
    assert_eq!(
        heard.ok()["recordHearingOutcome"]["deadlines"],
        json!([{ "kind": "HEARING_WINDOW", "status": "MET" }])
    );
    let raised = check(&app, app.now() + Duration::days(10)).await;
    assert!(
        raised
            .iter()
            .all(|(k, r)| !(k == "HEARING_DEADLINE" && r == "MET/W/1")),
        "{raised:?}"
    );
    let o = app
        .gql(
            &met,
            "{ order(reference: \"MET/W/1\") { status } }",
            json!({}),
        )
        .await;
    assert_eq!(o.ok()["order"]["status"], "IN_FORCE");
}

async fn alert_count(app: &TestApp) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.db()
        .await
        .run(|c: &mut orderwatch::db::DbConnection| {
            use diesel::RunQueryDsl;
            Ok(diesel::sql_query("SELECT COUNT(*) AS n FROM alerts")
                .get_result::<N>(c)?
                .n)
        })
        .await
        .unwrap()
}

/// Grants `n` restraining orders (WMC, MET) ending `days` from today, through the service layer.
async fn many_orders(app: &TestApp, prefix: &str, n: usize, days: i64) {
    let court = Principal {
        sub: "clerk".into(),
        role: Role::Court,
        agency: "WMC".into(),
        supervisor: false,
    };
    for i in 0..n {
        let req = orderwatch::service::orders::GrantRequest {
            draft: orderwatch::domain::validation::OrderDraft {
                without_notice: false,
                soa_notification: None,
                until_event: None,
                reference: format!("WMC/{prefix}/{i:04}"),
                order_type: orderwatch::domain::OrderType::RestrainingOrder,
                subject_names: vec![format!("Subject {i}")],
                subject_date_of_birth: None,
                protected_persons: vec![orderwatch::domain::validation::PersonDraft {
                    name: format!("Person {i}"),
                    date_of_birth: None,
                    contact: None,
                }],
                made_on: app.today(),
                expires_on: Some(app.today() + Duration::days(days)),
                conditions: vec![],
            },
            applicant_agency: "MET".into(),
            court: None,
            replaces_reference: None,
            court_motion: None,
            note: None,
        };
        app.services
            .grant_order(&court.clone().into(), req)
            .await
            .expect("grant");
    }
}

#[tokio::test]
async fn a_check_run_that_fails_part_way_is_rerun_with_nothing_missing_or_duplicated() {
    let app = TestApp::spawn().await.with_agencies().await;
    many_orders(&app, "C", 25, 10).await;
    let at = end_of_day(app.today() + Duration::days(10)) + Duration::seconds(1);
    // Per order: 7-day warning, expired, unserved = 75 alerts, handled 10 per transaction.
    let failing = CheckOptions {
        batch: 10,
        fail_after: Some(4),
        ..CheckOptions::at(at)
    };
    let first = CheckOptions {
        batch: 10,
        ..CheckOptions::at(at)
    };
    // One good batch, then a failure half-way through the next one.
    let partial = app
        .services
        .run_checks(CheckOptions {
            max_alerts: 10,
            ..first.clone()
        })
        .await
        .unwrap();
    assert_eq!(partial.raised.len(), 10);
    assert!(partial.capped);
    assert!(app.services.run_checks(failing).await.is_err());
    assert_eq!(
        alert_count(&app).await,
        10,
        "the failed batch left nothing behind"
    );
    let rest = app.services.run_checks(first.clone()).await.unwrap();
    assert_eq!(rest.raised.len(), 65);
    assert_eq!(alert_count(&app).await, 75);
    assert!(
        app.services
            .run_checks(first)
            .await
            .unwrap()
            .raised
            .is_empty(),
        "a rerun raises nothing"
    );
}

#[tokio::test]
async fn an_order_recorded_three_days_before_its_end_is_warned_of_at_the_next_check() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(
        &app.token(Role::Court, "WMC"),
        input(&app, "WMC/X/3", "RESTRAINING_ORDER", Some(3)),
    )
    .await
    .ok();
    let raised = check(&app, app.now() + Duration::minutes(1)).await;
    assert_eq!(
        raised,
        [("ORDER_EXPIRING".to_string(), "WMC/X/3".to_string())]
    );
    assert!(
        check(&app, app.now() + Duration::minutes(2))
            .await
            .is_empty(),
        "once"
    );
}

#[tokio::test]
async fn after_an_outage_everything_due_is_raised_marked_late_with_how_late() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(
        &app.token(Role::Court, "WMC"),
        input(&app, "WMC/L/1", "RESTRAINING_ORDER", Some(9)),
    )
    .await
    .ok();
    let last = app.today() + Duration::days(9);
    // The server was down from before the 7-day warning until a day after the order ended.
    let back = end_of_day(last) + Duration::days(1);
    let raised = check(&app, back).await;
    let mut kinds: Vec<&str> = raised.iter().map(|(k, _)| k.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["ORDER_EXPIRED", "ORDER_EXPIRING", "UNSERVED_ORDER"]);
    let list = app
        .gql(
            &app.token(Role::Police, "MET"),
            "{ alerts { edges { node { kind late lateBy dueAt } } } }",
            json!({}),
        )
        .await;
    for e in list.ok()["alerts"]["edges"].as_array().unwrap() {
        assert_eq!(e["node"]["late"], true, "{e}");
        assert!(e["node"]["lateBy"].as_i64().unwrap() >= 86_400, "{e}");
    }
    let expired = list.ok()["alerts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["kind"] == "ORDER_EXPIRED")
        .unwrap()
        .clone();
    assert_eq!(expired["node"]["lateBy"], 86_400);
}

#[tokio::test]
async fn deadlines_are_listed_soonest_first_and_filtered_by_status() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    app.grant(
        &court,
        input(&app, "WMC/Q/1", "RESTRAINING_ORDER", Some(100)),
    )
    .await
    .ok();
    app.grant(&court, input(&app, "WMC/Q/2", "SPO", None))
        .await
        .ok();
    let met = app.token(Role::Police, "MET");
    let served = app.now() - Duration::days(5);
    let mut q2 = input(&app, "WMC/Q/3", "SPO", None);
    q2["madeOn"] = json!((app.today() - Duration::days(6)).to_string());
    q2["expiresOn"] = json!(orderwatch::domain::Term::Years(2)
        .last_day(app.today() - Duration::days(6))
        .to_string());
    app.grant(&court, q2).await.ok();
    app.gql(
        &met,
        SERVE,
        json!({ "r": "WMC/Q/3", "at": served.to_rfc3339() }),
    )
    .await
    .ok();
    let list = "query($f: DeadlineFilter, $a: String) { deadlines(filter: $f, first: 1, after: $a) { edges { node { kind orderReference status dueAt dueLocal rule statute } } pageInfo { hasNextPage endCursor } } }";
    let missed = app
        .gql(&met, list, json!({ "f": { "status": "MISSED" } }))
        .await;
    let d = &missed.ok()["deadlines"]["edges"][0]["node"];
    assert_eq!(
        (d["kind"].as_str(), d["orderReference"].as_str()),
        (Some("NOTIFICATION_INITIAL"), Some("WMC/Q/3"))
    );
    assert_eq!(d["statute"], "Stalking Protection Act 2019 s9");
    assert!(
        d["dueLocal"].as_str().unwrap().ends_with("+00:00")
            || d["dueLocal"].as_str().unwrap().ends_with("+01:00")
    );
    // All open deadlines, a page at a time, soonest first.
    let mut seen: Vec<String> = vec![];
    let mut after = Value::Null;
    loop {
        let r = app
            .gql(&met, list, json!({ "f": { "status": "OPEN" }, "a": after }))
            .await;
        for e in r.ok()["deadlines"]["edges"].as_array().unwrap() {
            seen.push(format!(
                "{} {}",
                e["node"]["orderReference"].as_str().unwrap(),
                e["node"]["kind"].as_str().unwrap()
            ));
        }
        if !r.data["deadlines"]["pageInfo"]["hasNextPage"]
            .as_bool()
            .unwrap()
        {
            break;
        }
        after = r.data["deadlines"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ["WMC/Q/1 ORDER_END", "WMC/Q/3 ORDER_END"]);
    // A court sees its orders' end dates but no notification deadlines; another force sees none of MET's.
    let court_view = app
        .gql(
            &court,
            "{ deadlines { edges { node { kind } } } }",
            json!({}),
        )
        .await;
    assert!(court_view.ok()["deadlines"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["node"]["kind"] != "NOTIFICATION_INITIAL"));
    let gmp = app
        .gql(
            &app.token(Role::Police, "GMP"),
            "{ deadlines { edges { node { kind } } } }",
            json!({}),
        )
        .await;
    assert_eq!(gmp.ok()["deadlines"]["edges"], json!([]));
}

#[tokio::test]
async fn alerts_raised_by_the_checks_reach_live_subscribers() {
    let app = TestApp::spawn().await.with_agencies().await;
    let r = app
        .grant(
            &app.token(Role::Court, "WMC"),
            input(&app, "WMC/S/1", "RESTRAINING_ORDER", Some(40)),
        )
        .await;
    let person = r.ok()["grantOrder"]["protectedPersons"][0]["id"].clone();
    app.gql(&app.token(Role::Police, "MET"),
        "mutation($p: ID!) { shareOrderWithAdvocacy(reference: \"WMC/S/1\", protectedPersonId: $p, advocacyAgency: \"ADV-A\") { id } }",
        json!({ "p": person })).await.ok();
    let mut ws = app.ws().await;
    ws.init(&app.token(Role::Advocate, "ADV-A")).await;
    ws.alerts_after(
        "a",
        &json!(orderwatch::service::page::encode_cursor("alert", "0")),
    )
    .await;
    // Ten days on, the order is unserved and 30 days from its end: both alerts go to the advocate, in fire order.
    check(&app, end_of_day(app.today() + Duration::days(10))).await;
    for kind in ["UNSERVED_ORDER", "ORDER_EXPIRING"] {
        let alert = ws.next_alert("a").await;
        assert_eq!(
            (alert["kind"].as_str(), alert["orderReference"].as_str()),
            (Some(kind), Some("WMC/S/1"))
        );
    }
    ws.close().await;
}

#[tokio::test]
async fn three_servers_checking_one_postgres_database_raise_each_alert_once() {
    if !on_postgres() {
        // Replicas share a PostgreSQL database; SQLite serves one process.
        return;
    }
    let a = TestApp::spawn().await.with_agencies().await;
    let (b, c) = (a.replica().await, a.replica().await);
    many_orders(&a, "R", 1000, 10).await;
    let at = end_of_day(a.today() + Duration::days(10)) + Duration::seconds(1);
    let run = |app: &TestApp| {
        let services = app.services.clone();
        async move {
            services
                .run_checks(CheckOptions {
                    batch: 50,
                    ..CheckOptions::at(at)
                })
                .await
                .unwrap()
                .raised
                .len()
        }
    };
    let (ra, rb, rc) = tokio::join!(run(&a), run(&b), run(&c));
    // 7-day warning, expiry and unserved for each order, once each, shared between the servers.
    assert_eq!(ra + rb + rc, 3000, "raised {ra} + {rb} + {rc}");
    assert_eq!(alert_count(&a).await, 3000);
    assert!(
        ra > 0 && rb > 0 && rc > 0,
        "all three servers took a share: {ra} {rb} {rc}"
    );
}

/// A check run's batch marks its triggers, and on PostgreSQL writes its alerts, in a fixed number of statements: a
/// statement or two per alert cost a check run on PostgreSQL a round trip per alert
/// (docs/decisions/0008-check-run-writes-a-batch-in-a-few-statements.md). On SQLite, whose statements cost no round trip, each alert is still
/// one prepared insert and one read of its `seq`.
#[tokio::test]
async fn a_check_batch_costs_no_more_statements_for_more_alerts_on_postgresql() {
    let mut cost = vec![];
    for n in [3, 30] {
        let app = TestApp::spawn().await.with_agencies().await;
        many_orders(&app, "S", n, 10).await;
        // Three days on: each order's 7-day warning and its "unserved" alert are due; no order changes status.
        let at = end_of_day(app.today() + Duration::days(3)) + Duration::seconds(1);
        // The run on services of their own, whose pool does nothing else: the server's feed, woken by the alerts
        // raised, reads them through the server's pool.
        let target = orderwatch::db::DbTarget::parse(&app.database_url).unwrap();
        let pool = orderwatch::db::PoolSettings {
            max_size: 1,
            connect_timeout: std::time::Duration::from_secs(5),
            ..Default::default()
        };
        let database = orderwatch::db::Database::connect(&target, &pool).unwrap();
        let checks = orderwatch::service::Services::new(database.clone(), app.clock.clone());
        let db = &database;
        let before = db.statements_sent() - db.pings_sent();
        let report = checks.run_checks(CheckOptions::at(at)).await.unwrap();
        assert_eq!(report.raised.len(), 2 * n, "{:?}", report.raised);
        cost.push((
            report.raised.len() as u64,
            db.statements_sent() - db.pings_sent() - before,
        ));
    }
    let ((few, few_cost), (many, many_cost)) = (cost[0], cost[1]);
    let per_alert = if on_postgres() { 0 } else { 2 };
    assert_eq!(
        many_cost - few_cost,
        per_alert * (many - few),
        "statements for {few} and {many} alerts: {few_cost} and {many_cost}"
    );
}

const LIST: &str =
    "mutation($i: ScheduleHearingInput!) { scheduleHearing(input: $i) { hearings { id } } }";
const OUTCOME: &str = "mutation($i: RecordHearingOutcomeInput!) { recordHearingOutcome(input: $i) { status deadlines { kind status } hearings { outcome } } }";

/// A DAPN issued by MET now, and a hearing of its application listed at MMC; the hearing's id.
async fn dapn_with_hearing(app: &TestApp, reference: &str) -> serde_json::Value {
    let mut dapn = input(app, reference, "DAPN", None);
    dapn["subject"]["dateOfBirth"] = json!("1980-01-01");
    app.grant(&app.token(Role::Police, "MET"), dapn).await.ok();
    let listed = app
        .gql(
            &app.token(Role::Court, "MMC"),
            LIST,
            json!({ "i": { "reference": reference, "scheduledFor": app.now().to_rfc3339() } }),
        )
        .await;
    listed.ok()["scheduleHearing"]["hearings"][0]["id"].clone()
}

/// A court sees a police notice whose application it hears (a hearing listed there), whatever the read selects:
/// the hearings the policy decides by are read even when the selection does not show them.
#[tokio::test]
async fn a_court_sees_a_notice_it_hears_whatever_it_selects() {
    let app = TestApp::spawn().await.with_agencies().await;
    dapn_with_hearing(&app, "MET/SEL/1").await;
    let lookup = "{ order(reference: \"MET/SEL/1\") { reference } }";
    let heard = app
        .gql(&app.token(Role::Court, "MMC"), lookup, json!({}))
        .await;
    assert_eq!(heard.ok()["order"]["reference"], "MET/SEL/1");
    let other = app
        .gql(&app.token(Role::Court, "WMC"), lookup, json!({}))
        .await;
    assert_eq!(other.ok()["order"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_notice_adjourned_in_time_stays_in_force_until_its_application_is_refused() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "MMC");
    let id = dapn_with_hearing(&app, "MET/ADJ/1").await;
    // Begun and adjourned within the window: the notice continues (DA Act 2021 s29(7)).
    let r = app
        .gql(&court, OUTCOME, json!({ "i": { "hearingId": id, "outcome": "ADJOURNED", "heldAt": app.now().to_rfc3339() } }))
        .await;
    assert_eq!(
        r.ok()["recordHearingOutcome"]["deadlines"],
        json!([{ "kind": "HEARING_WINDOW", "status": "MET" }])
    );
    let raised = check(&app, app.now() + Duration::days(10)).await;
    assert!(
        raised
            .iter()
            .all(|(k, r)| !(k == "HEARING_DEADLINE" && r == "MET/ADJ/1")),
        "{raised:?}"
    );
    let met = app.token(Role::Police, "MET");
    let status = |r: Gql| r.ok()["order"]["status"].clone();
    let q = "{ order(reference: \"MET/ADJ/1\") { status } }";
    assert_eq!(status(app.gql(&met, q, json!({})).await), "IN_FORCE");

    // The adjourned hearing's application is refused: the notice ceases, and the force is told.
    let relisted = app
        .gql(
            &court,
            LIST,
            json!({ "i": { "reference": "MET/ADJ/1", "scheduledFor": app.now().to_rfc3339() } }),
        )
        .await;
    let second = relisted.ok()["scheduleHearing"]["hearings"][1]["id"].clone();
    let r = app
        .gql(&court, OUTCOME, json!({ "i": { "hearingId": second, "outcome": "REFUSED", "heldAt": app.now().to_rfc3339() } }))
        .await;
    assert_eq!(r.ok()["recordHearingOutcome"]["status"], "CEASED");
    assert_eq!(status(app.gql(&met, q, json!({})).await), "CEASED");
    let alerts = app
        .gql(
            &met,
            "{ alerts { edges { node { kind orderReference } } } }",
            json!({}),
        )
        .await;
    assert!(
        alerts.ok()["alerts"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"] == json!({ "kind": "ORDER_CEASED", "orderReference": "MET/ADJ/1" })),
        "{alerts:?}"
    );
    // A Crown Court that lists a hearing of the notice's application cannot end the notice with it.
    let crown = app.token(Role::Court, "CCL");
    let mut dapn = input(&app, "MET/ADJ/3", "DAPN", None);
    dapn["subject"]["dateOfBirth"] = json!("1980-01-01");
    app.grant(&met, dapn).await.ok();
    let listed = app
        .gql(
            &crown,
            LIST,
            json!({ "i": { "reference": "MET/ADJ/3", "scheduledFor": app.now().to_rfc3339() } }),
        )
        .await;
    let crowns = listed.ok()["scheduleHearing"]["hearings"][0]["id"].clone();
    let before = app.snapshot().await;
    app.gql(&crown, OUTCOME, json!({ "i": { "hearingId": crowns, "outcome": "REFUSED", "heldAt": app.now().to_rfc3339() } }))
        .await
        .err("NOT_FOUND");
    assert_eq!(app.snapshot().await, before);
    // A ceased notice cannot be ended again, and nothing changes.
    let before = app.snapshot().await;
    app.gql(&court, OUTCOME, json!({ "i": { "hearingId": id, "outcome": "WITHDRAWN", "heldAt": app.now().to_rfc3339() } }))
        .await
        .err("ORDER_NOT_IN_FORCE");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_notice_adjourned_after_its_window_closed_has_lapsed() {
    let app = TestApp::spawn().await.with_agencies().await;
    let id = dapn_with_hearing(&app, "MET/ADJ/2").await;
    let late = app.now() + Duration::days(6);
    app.clock.set(late);
    app.gql(
        &app.token(Role::Court, "MMC"),
        OUTCOME,
        json!({ "i": { "hearingId": id, "outcome": "ADJOURNED", "heldAt": late.to_rfc3339() } }),
    )
    .await
    .ok();
    let raised = check(&app, late).await;
    assert!(
        raised
            .iter()
            .any(|(k, r)| k == "HEARING_DEADLINE" && r == "MET/ADJ/2"),
        "{raised:?}"
    );
    let o = app
        .gql(
            &app.token(Role::Police, "MET"),
            "{ order(reference: \"MET/ADJ/2\") { status } }",
            json!({}),
        )
        .await;
    assert_eq!(o.ok()["order"]["status"], "LAPSED");
}

#[tokio::test]
async fn refusal_and_withdrawal_end_only_a_notice_or_an_interim_order() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    app.grant(&court, spo_input(&app, "WMC/RF/1")).await.ok();
    let listed = app
        .gql(
            &court,
            LIST,
            json!({ "i": { "reference": "WMC/RF/1", "scheduledFor": app.now().to_rfc3339() } }),
        )
        .await;
    let id = listed.ok()["scheduleHearing"]["hearings"][0]["id"].clone();
    let before = app.snapshot().await;
    for outcome in ["REFUSED", "WITHDRAWN"] {
        app.gql(&court, OUTCOME, json!({ "i": { "hearingId": id, "outcome": outcome, "heldAt": app.now().to_rfc3339() } }))
            .await
            .err("HEARING_OUTCOME_NOT_APPLICABLE");
        app.gql(
            &court,
            OUTCOME,
            json!({ "i": { "hearingId": id, "outcome": outcome } }),
        )
        .await
        .err("HELD_AT_REQUIRED");
    }
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_notification_missed_while_in_force_stays_missed_after_a_discharge() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    app.grant(&court, spo_input(&app, "WMC/MS/1")).await.ok();
    app.gql(
        &app.token(Role::Police, "MET"),
        SERVE,
        json!({ "r": "WMC/MS/1", "at": app.now().to_rfc3339() }),
    )
    .await
    .ok();
    // The 3 days beginning with the day of service pass with no notification; the court then discharges the order.
    app.clock.set(app.now() + Duration::days(4));
    app.gql(
        &court,
        "mutation($i: DischargeOrderInput!) { dischargeOrder(input: $i) { status } }",
        json!({ "i": { "reference": "WMC/MS/1", "consentOfSubjectAndChiefOfficer": true } }),
    )
    .await
    .ok();
    let o = app
        .gql(
            &app.token(Role::Police, "MET"),
            "{ order(reference: \"WMC/MS/1\") { status deadlines { kind status } } }",
            json!({}),
        )
        .await;
    let o = &o.ok()["order"];
    assert_eq!(o["status"], "DISCHARGED");
    assert!(
        o["deadlines"]
            .as_array()
            .unwrap()
            .contains(&json!({ "kind": "NOTIFICATION_INITIAL", "status": "MISSED" })),
        "{o}"
    );
}

#[tokio::test]
async fn a_notice_has_one_hearing_window_which_moves_to_service_when_service_is_recorded() {
    let app = TestApp::spawn().await.with_agencies().await;
    let met = app.token(Role::Police, "MET");
    // A Tuesday morning: recorded on a Sunday, the two windows would close at the same moment (Sundays do not count).
    app.clock.set("2026-03-03T09:00:00Z".parse().unwrap());
    let mut dvpn = input(&app, "MET/SV/1", "DVPN", None);
    dvpn["subject"]["dateOfBirth"] = json!("1980-01-01");
    app.grant(&met, dvpn).await.ok();
    let recorded = recorded_at(&app, "MET/SV/1").await;
    let served = recorded + Duration::hours(10);
    app.clock.set(served);
    app.gql(
        &met,
        SERVE,
        json!({ "r": "MET/SV/1", "at": served.to_rfc3339() }),
    )
    .await
    .ok();
    let excluded = ExcludedDays::england_and_wales();
    let old = hours_excluding(recorded, 48, &excluded);
    let new = hours_excluding(served, 48, &excluded);
    let o = app
        .gql(
            &met,
            "{ order(reference: \"MET/SV/1\") { deadlines { kind dueAt } } }",
            json!({}),
        )
        .await;
    let windows: Vec<Value> = o.ok()["order"]["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "HEARING_WINDOW")
        .cloned()
        .collect();
    assert_eq!(windows.len(), 1, "{windows:?}");
    let due: DateTime<Utc> = windows[0]["dueAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(due, new);
    // The window counted from the record closes with nothing: the notice is still in force until the new one closes.
    let lapsed = |raised: &[(String, String)]| {
        raised
            .iter()
            .any(|(k, r)| k == "HEARING_DEADLINE" && r == "MET/SV/1")
    };
    // (What it raises then is the new window's 12-hour warning, not a lapse.)
    check(&app, old + Duration::seconds(1)).await;
    let q = "{ order(reference: \"MET/SV/1\") { status } }";
    let r = app.gql(&met, q, json!({})).await;
    assert_eq!(r.ok()["order"]["status"], "IN_FORCE");
    let at_new = check(&app, new).await;
    assert!(lapsed(&at_new), "{at_new:?}");
    let r = app.gql(&met, q, json!({})).await;
    assert_eq!(r.ok()["order"]["status"], "LAPSED");
}

#[tokio::test]
async fn a_change_of_address_the_police_learnt_of_becomes_overdue_until_the_subject_notifies() {
    let app = TestApp::spawn().await.with_agencies().await;
    let met = app.token(Role::Police, "MET");
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/PK/1"))
        .await
        .ok();
    app.gql(
        &met,
        SERVE,
        json!({ "r": "WMC/PK/1", "at": app.now().to_rfc3339() }),
    )
    .await
    .ok();
    let before = app.snapshot().await;
    // Only the subject makes the initial notification.
    app.gql(&met, NOTIFY, json!({ "i": { "reference": "WMC/PK/1", "kind": "INITIAL", "source": "POLICE", "notifiedAt": app.now().to_rfc3339() } }))
        .await
        .err("SOURCE_NOT_ALLOWED");
    assert_eq!(app.snapshot().await, before);
    let changed = app.today();
    let r = app
        .gql(
            &met,
            NOTIFY,
            json!({ "i": { "reference": "WMC/PK/1", "kind": "HOME_ADDRESS", "source": "POLICE",
            "notifiedAt": app.now().to_rfc3339(), "changedOn": changed.to_string() } }),
        )
        .await;
    let due = end_of_period_beginning_with(changed, 3);
    assert!(
        r.ok()["recordNotification"]["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["kind"] == "NOTIFICATION_HOME_ADDRESS"
                && d["status"] == "OPEN"
                && d["dueAt"]
                    .as_str()
                    .unwrap()
                    .parse::<DateTime<Utc>>()
                    .unwrap()
                    == due),
        "{r:?}"
    );
    // Nothing before its end; overdue at it.
    let early = check(&app, due - Duration::seconds(1)).await;
    assert!(
        !early
            .iter()
            .any(|(k, r)| k == "NOTIFICATION_OVERDUE" && r == "WMC/PK/1"),
        "{early:?}"
    );
    let late = check(&app, due).await;
    assert!(
        late.iter()
            .any(|(k, r)| k == "NOTIFICATION_OVERDUE" && r == "WMC/PK/1"),
        "{late:?}"
    );
    // The subject's late notification of the same change: one deadline, missed.
    app.clock.set(due + Duration::hours(1));
    let r = app
        .gql(
            &met,
            NOTIFY,
            json!({ "i": { "reference": "WMC/PK/1", "kind": "HOME_ADDRESS",
            "notifiedAt": app.now().to_rfc3339(), "changedOn": changed.to_string() } }),
        )
        .await;
    let changes: Vec<Value> = r.ok()["recordNotification"]["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "NOTIFICATION_HOME_ADDRESS")
        .cloned()
        .collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["status"], "MISSED");
}

#[tokio::test]
async fn a_change_before_the_duty_to_notify_began_has_no_deadline_of_its_own() {
    let app = TestApp::spawn().await.with_agencies().await;
    let met = app.token(Role::Police, "MET");
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/PB/1"))
        .await
        .ok();
    let change = |day: chrono::NaiveDate| {
        json!({ "i": { "reference": "WMC/PB/1", "kind": "HOME_ADDRESS", "source": "POLICE",
            "notifiedAt": app.now().to_rfc3339(), "changedOn": day.to_string() } })
    };
    let before = app.snapshot().await;
    // An SPO not yet served: the duty has not begun.
    app.gql(&met, NOTIFY, change(app.today()))
        .await
        .err("CHANGED_ON_BEFORE_DUTY");
    app.gql(
        &met,
        SERVE,
        json!({ "r": "WMC/PB/1", "at": app.now().to_rfc3339() }),
    )
    .await
    .ok();
    let served = app.snapshot().await;
    assert_ne!(served, before);
    // Served today: a change yesterday is before it; one today is the subject's to notify.
    app.gql(&met, NOTIFY, change(app.today() - Duration::days(1)))
        .await
        .err("CHANGED_ON_BEFORE_DUTY");
    assert_eq!(app.snapshot().await, served);
    app.gql(&met, NOTIFY, change(app.today())).await.ok();
}
