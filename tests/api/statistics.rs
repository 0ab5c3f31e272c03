//! Per-force statistics from the record, checked against figures worked out by hand from a small history, as each
//! role may read them.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};

const STATS: &str = "query($from: Date!, $to: Date!, $force: String) { statistics(from: $from, to: $to, force: $force) { \
    force orderType quarter ordersMade inForceAtEnd varied renewed discharged quashed ceased breachesReported \
    breachesPer100InForce notificationsMissed breachOutcomes { noFurtherAction charged convicted acquitted contemptFound } \
    daysToService { count median p90 } daysBreachToOutcome { count median p90 } } }";

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

/// MET's SPO made on 10 February 2026, served three days later, its initial notification never made, varied on
/// 1 March, breached on 20 April and charged on 20 May; GMP's SPO made on 15 April. Asked on 20 May 2026.
pub(crate) async fn history() -> TestApp {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let met = app.token(Role::Police, "MET");
    app.clock.set(at("2026-02-10T10:00:00Z"));
    app.grant(&court, spo_input(&app, "WMC/ST/1")).await.ok();
    app.clock.set(at("2026-02-13T10:00:00Z"));
    app.gql(
        &met,
        "mutation { recordService(reference: \"WMC/ST/1\", servedAt: \"2026-02-13T10:00:00Z\", method: PERSONAL) { serviceStatus } }",
        json!({}),
    )
    .await
    .ok();
    app.clock.set(at("2026-03-01T10:00:00Z"));
    app.gql(
        &court,
        "mutation { varyOrder(input: { reference: \"WMC/ST/1\", conditions: [{ kind: PROHIBITION, text: \"Must not contact the protected person\" }] }) { version } }",
        json!({}),
    )
    .await
    .ok();
    app.clock.set(at("2026-04-15T10:00:00Z"));
    let mut gmp = spo_input(&app, "WMC/ST/2");
    gmp["applicantAgency"] = json!("GMP");
    app.grant(&court, gmp).await.ok();
    app.clock.set(at("2026-04-20T13:00:00Z"));
    let breach = app
        .gql(
            &met,
            "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }",
            json!({ "i": { "reference": "WMC/ST/1", "occurredAt": "2026-04-20T12:00:00Z", "description": "d", "externalRef": "ST-B-1" } }),
        )
        .await;
    let id = breach.ok()["reportBreach"]["id"].clone();
    app.clock.set(at("2026-05-20T10:00:00Z"));
    app.gql(
        &met,
        "mutation($id: ID!) { updateBreachOutcome(id: $id, outcome: CHARGED) { id } }",
        json!({ "id": id }),
    )
    .await
    .ok();
    app
}

fn rows(r: &Gql) -> Vec<Value> {
    r.ok()["statistics"].as_array().unwrap().clone()
}

fn half_year() -> Value {
    json!({ "from": "2026-01-01", "to": "2026-06-30" })
}

#[tokio::test]
async fn an_analyst_reads_every_forces_figures_as_worked_out_by_hand() {
    let app = history().await;
    let analyst = app.token(Role::Analyst, "STATS");
    let all = rows(&app.gql(&analyst, STATS, half_year()).await);
    let keys: Vec<(String, String)> = all
        .iter()
        .map(|r| {
            (
                r["force"].as_str().unwrap().to_string(),
                r["quarter"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let key = |f: &str, q: &str| (f.to_string(), q.to_string());
    assert_eq!(
        keys,
        [
            key("GMP", "2026-Q2"),
            key("MET", "2026-Q1"),
            key("MET", "2026-Q2")
        ]
    );

    let gmp = &all[0];
    assert_eq!(
        (
            gmp["orderType"].as_str(),
            gmp["ordersMade"].as_u64(),
            gmp["inForceAtEnd"].as_u64()
        ),
        (Some("SPO"), Some(1), Some(1))
    );
    assert_eq!(
        gmp["daysToService"],
        json!({ "count": 0, "median": null, "p90": null })
    );

    let q1 = &all[1];
    assert_eq!(q1["ordersMade"], 1);
    assert_eq!(q1["inForceAtEnd"], 1);
    assert_eq!(q1["varied"], 1);
    assert_eq!(q1["breachesReported"], 0);
    // Served on 13 February, three days after it was made.
    assert_eq!(
        q1["daysToService"],
        json!({ "count": 1, "median": 3.0, "p90": 3.0 })
    );
    // The initial notification (SPA 2019 s9(1): three days beginning with the day of service) was never made.
    assert_eq!(q1["notificationsMissed"], 1);

    let q2 = &all[2];
    assert_eq!(q2["ordersMade"], 0);
    // In force on 20 May: the figures stand as of today, not on 30 June.
    assert_eq!(q2["inForceAtEnd"], 1);
    assert_eq!(q2["breachesReported"], 1);
    assert_eq!(q2["breachesPer100InForce"], 100.0);
    assert_eq!(
        q2["breachOutcomes"],
        json!({ "noFurtherAction": 0, "charged": 1, "convicted": 0, "acquitted": 0, "contemptFound": 0 })
    );
    // From 12:00 on 20 April to 10:00 on 20 May: 29 days and 22 hours.
    let days = q2["daysBreachToOutcome"]["median"].as_f64().unwrap();
    assert!((days - (29.0 + 22.0 / 24.0)).abs() < 1e-9, "{days}");

    // One force, as asked.
    let only = rows(
        &app.gql(
            &analyst,
            STATS,
            json!({ "from": "2026-01-01", "to": "2026-06-30", "force": "GMP" }),
        )
        .await,
    );
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["force"], "GMP");

    // A quarter alone: the breach of 20 April is outside the first quarter.
    let first = rows(
        &app.gql(
            &analyst,
            STATS,
            json!({ "from": "2026-01-01", "to": "2026-03-31" }),
        )
        .await,
    );
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["breachesReported"], 0);
}

#[tokio::test]
async fn a_force_reads_its_own_figures_only_and_no_one_else_reads_any() {
    let app = history().await;
    let before = app.snapshot().await;
    // An officer without the supervisory scope reads none, not even the force's own.
    let officer = app
        .gql(&app.token(Role::Police, "MET"), STATS, half_year())
        .await;
    assert_eq!(officer.codes(), ["SUPERVISOR_SCOPE_REQUIRED"]);
    // The scope gives nothing to another role.
    let court = app.token_scoped(Role::Court, "WMC", true);
    assert_eq!(
        app.gql(&court, STATS, half_year()).await.codes(),
        ["FORBIDDEN"]
    );
    let me = app.gql(&court, "{ me { supervisor } }", json!({})).await;
    assert_eq!(me.ok()["me"]["supervisor"], false);
    assert_eq!(app.snapshot().await, before);

    let met = app.token_scoped(Role::Police, "MET", true);
    let me = app.gql(&met, "{ me { supervisor } }", json!({})).await;
    assert_eq!(me.ok()["me"]["supervisor"], true);
    let own = rows(&app.gql(&met, STATS, half_year()).await);
    assert_eq!(own.len(), 2);
    assert!(own.iter().all(|r| r["force"] == "MET"), "{own:?}");
    let own_asked = app
        .gql(
            &met,
            STATS,
            json!({ "from": "2026-01-01", "to": "2026-06-30", "force": "MET" }),
        )
        .await;
    assert_eq!(rows(&own_asked), own);

    let before = app.snapshot().await;
    let other = app
        .gql(
            &met,
            STATS,
            json!({ "from": "2026-01-01", "to": "2026-06-30", "force": "GMP" }),
        )
        .await;
    assert_eq!(other.codes(), ["FORBIDDEN"]);
    for (role, agency) in [
        (Role::Court, "WMC"),
        (Role::Advocate, "ADV-A"),
        (Role::Admin, "OPS"),
        (Role::Auditor, "DPO"),
    ] {
        let r = app.gql(&app.token(role, agency), STATS, half_year()).await;
        assert_eq!(r.codes(), ["FORBIDDEN"], "{role:?}");
    }
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_period_must_run_forwards_and_be_at_most_ten_years() {
    let app = TestApp::spawn().await.with_agencies().await;
    let analyst = app.token(Role::Analyst, "STATS");
    let backwards = app
        .gql(
            &analyst,
            STATS,
            json!({ "from": "2026-06-30", "to": "2026-01-01" }),
        )
        .await;
    assert_eq!(backwards.codes(), ["INVALID_PERIOD"]);
    let long = app
        .gql(
            &analyst,
            STATS,
            json!({ "from": "2010-01-01", "to": "2026-01-01" }),
        )
        .await;
    assert_eq!(long.codes(), ["INVALID_PERIOD"]);
    let fine = app
        .gql(
            &analyst,
            STATS,
            json!({ "from": "2016-01-02", "to": "2026-01-01" }),
        )
        .await;
    assert_eq!(rows(&fine), Vec::<Value>::new());
}

/// Orders in force at a quarter's end, at each boundary (counted by the database, not order by order): an interim
/// order whose last day is the quarter's last day counts; an order discharged on the quarter's last day does not, one discharged
/// the day after does; an interim order counts until the quarter its full order replaced it in; an order made before
/// the period counts in each quarter.
#[tokio::test]
async fn orders_in_force_at_a_quarters_end_are_counted_at_each_boundary() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let order = |reference: &str, kind: &str, made: &str, last: Option<&str>| {
        let mut i = spo_input(&app, reference);
        i["type"] = json!(kind);
        i["madeOn"] = json!(made);
        i["expiresOn"] = json!(last);
        i
    };
    app.clock.set(at("2025-06-01T10:00:00Z"));
    app.grant(&court, order("WMC/IF/E", "SPO", "2025-06-01", None))
        .await
        .ok();
    app.clock.set(at("2026-01-05T10:00:00Z"));
    app.grant(
        &court,
        order("WMC/IF/A", "INTERIM_SPO", "2026-01-05", Some("2026-03-31")),
    )
    .await
    .ok();
    for r in ["WMC/IF/B", "WMC/IF/C"] {
        app.grant(&court, order(r, "SPO", "2026-01-05", None))
            .await
            .ok();
    }
    app.grant(
        &court,
        order("WMC/IF/D", "INTERIM_SPO", "2026-01-05", Some("2026-12-31")),
    )
    .await
    .ok();
    // Both discharges recorded on 2 April: one decided on 31 March, the other on 1 April.
    app.clock.set(at("2026-04-02T10:00:00Z"));
    for (r, decided) in [("WMC/IF/B", "2026-03-31"), ("WMC/IF/C", "2026-04-01")] {
        app.gql(
            &court,
            "mutation($i: DischargeOrderInput!) { dischargeOrder(input: $i) { status } }",
            json!({ "i": { "reference": r, "consentOfSubjectAndChiefOfficer": true, "decidedOn": decided } }),
        )
        .await
        .ok();
    }
    app.clock.set(at("2026-05-01T10:00:00Z"));
    let mut full = order("WMC/IF/F", "SPO", "2026-05-01", None);
    full["replacesReference"] = json!("WMC/IF/D");
    app.grant(&court, full).await.ok();
    app.clock.set(at("2026-07-10T10:00:00Z"));
    // Breaches in the last hour of a UTC day: 31 January in London (winter); the first moment of 1 April in London
    // (summer time), which is the second quarter's.
    let met = app.token(Role::Police, "MET");
    for (n, occurred) in ["2026-01-31T23:30:00Z", "2026-03-31T23:00:00Z"]
        .iter()
        .enumerate()
    {
        app.gql(
            &met,
            "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }",
            json!({ "i": { "reference": "WMC/IF/E", "occurredAt": occurred, "description": "d", "externalRef": format!("IF-B-{n}") } }),
        )
        .await
        .ok();
    }

    let analyst = app.token(Role::Analyst, "STATS");
    let figures: Vec<(String, String, u64, u64, u64, u64)> =
        rows(&app.gql(&analyst, STATS, half_year()).await)
            .iter()
            .map(|r| {
                (
                    r["orderType"].as_str().unwrap().to_string(),
                    r["quarter"].as_str().unwrap().to_string(),
                    r["ordersMade"].as_u64().unwrap(),
                    r["inForceAtEnd"].as_u64().unwrap(),
                    r["discharged"].as_u64().unwrap(),
                    r["breachesReported"].as_u64().unwrap(),
                )
            })
            .collect();
    let row = |t: &str, q: &str, made, in_force, discharged, breaches| {
        (
            t.to_string(),
            q.to_string(),
            made,
            in_force,
            discharged,
            breaches,
        )
    };
    assert_eq!(
        figures,
        [
            // A on its last day, and D until it was replaced by F on 1 May.
            row("INTERIM_SPO", "2026-Q1", 2, 2, 0, 0),
            // E and C at the end of March; B was discharged that day.
            row("SPO", "2026-Q1", 2, 2, 1, 1),
            // E and F at the end of June.
            row("SPO", "2026-Q2", 1, 2, 1, 1),
        ]
    );
    // The second quarter alone begins at that moment.
    let q2 = rows(
        &app.gql(
            &analyst,
            STATS,
            json!({ "from": "2026-04-01", "to": "2026-06-30" }),
        )
        .await,
    );
    let spo: Vec<&Value> = q2.iter().filter(|r| r["orderType"] == "SPO").collect();
    assert_eq!(spo.len(), 1);
    assert_eq!(spo[0]["breachesReported"], 1);
}

#[tokio::test]
async fn each_statistics_read_is_in_the_audit_log() {
    let app = history().await;
    let analyst = app.token(Role::Analyst, "STATS");
    app.gql(
        &analyst,
        STATS,
        json!({ "from": "2026-01-01", "to": "2026-06-30", "force": "GMP" }),
    )
    .await
    .ok();
    let events = app
        .gql(
            &app.token(Role::Auditor, "DPO"),
            AUDIT_EVENTS,
            json!({ "f": { "actorAgency": "STATS" } }),
        )
        .await;
    let events = events.ok()["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    let read: Vec<&Value> = events
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["action"] == "statistics")
        .collect();
    assert_eq!(read.len(), 1, "{events:?}");
    assert_eq!(read[0]["operation"], "CONSULT");
    assert_eq!(read[0]["objectIds"], json!(["GMP:2026-01-01..2026-05-20"]));
    assert_eq!(read[0]["actor"]["role"], "ANALYST");
}

#[tokio::test]
async fn the_open_data_needs_no_token_withholds_small_counts_and_is_audited() {
    let app = history().await;
    let res = app
        .get("/open-data/statistics.csv?from=2026-01-01&to=2026-06-30")
        .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("force,quarter,orders_made,in_force_at_end,breaches_reported,"),
        "{csv}"
    );
    // Every count in the small history is 1 to 4 or 0: the 1s are withheld, the 0s shown; no reference, no name.
    assert!(
        lines.contains(&"MET,2026-Q1,[c],[c],0,0,0,0,0,0,[c],0,0,0,0"),
        "{csv}"
    );
    assert!(!csv.contains("WMC/ST") && !csv.contains("Sam"), "{csv}");

    let json: Value = app
        .get("/open-data/statistics.json?from=2026-04-01&to=2026-06-30")
        .await
        .json()
        .await
        .unwrap();
    let rows = json.as_array().unwrap();
    let national = rows.iter().find(|r| r["force"] == "ALL").unwrap();
    assert_eq!(national["quarter"], "2026-Q2");
    assert_eq!(
        national["orders_made"],
        Value::Null,
        "one order is withheld"
    );
    assert_eq!(national["breaches_recorded_as_crime"], 0);

    let bad = app.get("/open-data/statistics.csv?from=2026-13-01").await;
    assert_eq!(bad.status().as_u16(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_PERIOD");

    let events = app
        .gql(
            &app.token(Role::Auditor, "DPO"),
            AUDIT_EVENTS,
            json!({ "f": { "actorAgency": "public" } }),
        )
        .await;
    let events = events.ok()["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["node"]["actor"]["role"], "PUBLIC");
    assert_eq!(
        events[0]["node"]["objectIds"],
        json!(["*:2026-01-01..2026-05-20"])
    );
}

const BY_COURT: &str = "query($from: Date!, $to: Date!) { statistics(from: $from, to: $to, by: COURT) { \
    force court orderType quarter ordersMade inForceAtEnd varied notificationsMissed breachesReported \
    breachOutcomes { charged } } }";

#[tokio::test]
async fn figures_by_court_count_each_order_under_the_court_that_made_it() {
    let app = history().await;
    // A third order, MET's, made by another court on 20 May.
    let mut mmc = spo_input(&app, "MMC/ST/3");
    mmc["applicantAgency"] = json!("MET");
    app.grant(&app.token(Role::Court, "MMC"), mmc).await.ok();
    let key = |r: &Value| {
        (
            r["court"].as_str().unwrap().to_string(),
            r["quarter"].as_str().unwrap().to_string(),
            r["force"].clone(),
        )
    };
    let counts = |r: &Value| {
        [
            "ordersMade",
            "inForceAtEnd",
            "varied",
            "notificationsMissed",
            "breachesReported",
        ]
        .map(|f| r[f].as_u64().unwrap())
    };

    let analyst = app.token(Role::Analyst, "STATS");
    let all = rows(&app.gql(&analyst, BY_COURT, half_year()).await);
    let keys: Vec<_> = all.iter().map(key).collect();
    let k = |c: &str, q: &str| (c.to_string(), q.to_string(), Value::Null);
    assert_eq!(
        keys,
        [
            k("MMC", "2026-Q2"),
            k("WMC", "2026-Q1"),
            k("WMC", "2026-Q2")
        ]
    );
    assert_eq!(counts(&all[0]), [1, 1, 0, 0, 0]);
    assert_eq!(counts(&all[1]), [1, 1, 1, 1, 0]);
    // WMC made MET's order and GMP's: both in force on 20 May; MET's was breached, and the breach charged.
    assert_eq!(counts(&all[2]), [1, 2, 0, 0, 1]);
    assert_eq!(all[2]["breachOutcomes"]["charged"], 1);

    // A force's supervisor sees its own orders by court: GMP's order at WMC is not among them.
    let met = app.token_scoped(Role::Police, "MET", true);
    let own = rows(&app.gql(&met, BY_COURT, half_year()).await);
    assert_eq!(own.iter().map(key).collect::<Vec<_>>(), keys);
    assert_eq!(counts(&own[2]), [0, 1, 0, 0, 1]);

    // The read is audited as being by court.
    let audited = audit_events(
        &app,
        json!({ "objectId": "MET:2026-01-01..2026-05-20 by court" }),
    )
    .await;
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0]["operation"], "CONSULT");
    assert_eq!(audited[0]["actor"]["role"], "POLICE");
}

#[tokio::test]
async fn an_open_data_request_while_a_release_is_computed_is_told_to_come_back_and_changes_nothing()
{
    let app = history().await;
    let public_reads = || async {
        audit_events(&app, json!({ "actorAgency": "public" }))
            .await
            .len()
    };
    // Another release is being computed: the server holds its gate for as long as that takes.
    let computing = app
        .services
        .open_release
        .clone()
        .try_acquire_owned()
        .unwrap();
    for path in ["csv", "json"] {
        let busy = app
            .get(&format!(
                "/open-data/statistics.{path}?from=2026-01-01&to=2026-06-30"
            ))
            .await;
        assert_eq!(busy.status().as_u16(), 503);
        assert_eq!(busy.headers()["retry-after"], "10");
        let body: Value = busy.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAVAILABLE");
    }
    assert_eq!(
        public_reads().await,
        0,
        "nothing was released, so nothing is recorded"
    );
    drop(computing);
    let done = app
        .get("/open-data/statistics.csv?from=2026-01-01&to=2026-06-30")
        .await;
    assert_eq!(done.status().as_u16(), 200);
    assert_eq!(public_reads().await, 1);
}

#[tokio::test]
async fn stats_export_prints_the_open_data() {
    let app = history().await;
    let out = app
        .cli()
        .args([
            "stats",
            "export",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        csv.lines().skip(1).collect::<Vec<_>>(),
        [
            "MET,2026-Q1,[c],[c],0,0,0,0,0,0,[c],0,0,0,0",
            "ALL,2026-Q1,[c],[c],0,0,0,0,0,0,[c],0,0,0,0"
        ]
    );
    let backwards = app
        .cli()
        .args([
            "stats",
            "export",
            "--from",
            "2026-03-31",
            "--to",
            "2026-01-01",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(!backwards.status.success());
    assert!(String::from_utf8_lossy(&backwards.stderr).contains("INVALID_PERIOD"));
}

#[tokio::test]
async fn a_synthetic_set_loads_on_either_backend_and_every_order_is_counted_once() {
    let app = TestApp::spawn().await;
    let out = app
        .cli()
        .args(["seed", "--synthetic", "3000", "--seed", "5"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("3000 orders"));
    let from = app.today() - chrono::Duration::days(4 * 365);
    let r = app
        .gql(
            &app.token(Role::Analyst, "STATS"),
            STATS,
            json!({ "from": from.to_string(), "to": app.today().to_string() }),
        )
        .await;
    let all = rows(&r);
    let sum = |f: &dyn Fn(&Value) -> u64| all.iter().map(f).sum::<u64>();
    assert_eq!(sum(&|r| r["ordersMade"].as_u64().unwrap()), 3000);
    assert!(all.iter().any(|r| r["force"] == "F01") && all.iter().any(|r| r["force"] == "BTP"));
    assert!(sum(&|r| r["breachesReported"].as_u64().unwrap()) > 0);
    let again = app
        .cli()
        .args(["seed", "--synthetic", "10"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already loaded"));
}
