//! Statistics of whole past months come from facts kept in `statistics_months`, and a change to anything counted in
//! such a month (made late, or dated back) is in the next answer, the same as if nothing had been kept.

use crate::helpers::*;
use crate::statistics::history;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use orderwatch::auth::Role;
use orderwatch::db::DbConnection;
use serde_json::{json, Value};

const STATS: &str = "query { statistics(from: \"2026-01-01\", to: \"2026-06-30\") { force orderType quarter ordersMade \
    inForceAtEnd varied discharged breachesReported notificationsMissed breachOutcomes { charged } \
    daysToService { count median } daysBreachToOutcome { count median } \
    applications { authorised refusedByForce { reason count } madeToCourt } } }";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Runs `sql` on the server's database; with `count`, returns the count it selects as `n`.
async fn sql(app: &TestApp, sql: &'static str, count: bool) -> i64 {
    let db = app.db().await;
    tokio::task::spawn_blocking(move || {
        let mut c = db.dedicated_connection().unwrap();
        if !count {
            match &mut c {
                DbConnection::Sqlite(c) => c.batch_execute(sql),
                DbConnection::Pg(c) => c.batch_execute(sql),
            }
            .unwrap();
            return 0;
        }
        let rows: Vec<Count> = match &mut c {
            DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c),
            DbConnection::Pg(c) => diesel::sql_query(sql).load(c),
        }
        .unwrap();
        rows[0].n
    })
    .await
    .unwrap()
}

/// The months whose kept facts are current.
async fn kept(app: &TestApp) -> i64 {
    sql(
        app,
        "SELECT COUNT(*) AS n FROM statistics_months WHERE facts IS NOT NULL AND facts_generation = generation",
        true,
    )
    .await
}

fn rows(r: &Gql) -> Vec<Value> {
    r.ok()["statistics"].as_array().unwrap().clone()
}

fn find<'a>(rows: &'a [Value], force: &str, quarter: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["force"] == force && r["quarter"] == quarter)
        .unwrap_or_else(|| panic!("no {force} {quarter} in {rows:?}"))
}

/// Longer than 80 lines: one history, changed in each way a kept month must notice.
#[tokio::test]
async fn a_change_to_an_ended_month_is_counted_in_the_next_answer_as_if_nothing_were_kept() {
    let app = history().await;
    let analyst = app.token(Role::Analyst, "STATS");
    let first = rows(&app.gql(&analyst, STATS, json!({})).await);
    // Asked on 20 May: January to April have ended and are kept; May is read from the record.
    assert_eq!(kept(&app).await, 4);
    let again = rows(&app.gql(&analyst, STATS, json!({})).await);
    assert_eq!(again, first, "kept facts give the same answer");
    let met_q1 = find(&first, "MET", "2026-Q1");
    assert_eq!(
        (
            met_q1["inForceAtEnd"].as_u64(),
            met_q1["breachesReported"].as_u64()
        ),
        (Some(1), Some(0))
    );

    // Late news of ended months: a breach on 15 March reported today, a refusal inside the force on 2 February
    // recorded today, and the order's discharge decided on 20 March.
    let met = app.token(Role::Police, "MET");
    app.gql(
        &met,
        "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }",
        json!({ "i": { "reference": "WMC/ST/1", "occurredAt": "2026-03-15T12:00:00Z", "description": "d", "externalRef": "ST-B-2" } }),
    )
    .await
    .ok();
    app.gql(
        &met,
        "mutation($i: RecordApplicationInput!) { recordApplication(input: $i) { reference } }",
        json!({ "i": { "reference": "MET/APP/LATE", "orderType": "SPO", "stages": {
            "internalDecision": "REFUSED", "internalDecisionOn": "2026-02-02",
            "internalRefusalReason": "INSUFFICIENT_EVIDENCE" } } }),
    )
    .await
    .ok();
    app.gql(
        &app.token(Role::Court, "WMC"),
        "mutation($i: DischargeOrderInput!) { dischargeOrder(input: $i) { status } }",
        json!({ "i": { "reference": "WMC/ST/1", "decidedOn": "2026-03-20", "consentOfSubjectAndChiefOfficer": true } }),
    )
    .await
    .ok();
    // The earliest day touched is 2 February: January still matches the record, February to April no longer do.
    assert_eq!(kept(&app).await, 1);

    let after = rows(&app.gql(&analyst, STATS, json!({})).await);
    assert_eq!(kept(&app).await, 4);
    let met_q1 = find(&after, "MET", "2026-Q1");
    assert_eq!(met_q1["breachesReported"], 1);
    assert_eq!(met_q1["discharged"], 1);
    assert_eq!(met_q1["inForceAtEnd"], 0, "discharged on 20 March");
    assert_eq!(
        met_q1["applications"]["refusedByForce"],
        json!([{ "reason": "INSUFFICIENT_EVIDENCE", "count": 1 }])
    );
    assert_eq!(find(&after, "MET", "2026-Q2")["inForceAtEnd"], 0);
    assert_eq!(
        find(&after, "GMP", "2026-Q2"),
        find(&first, "GMP", "2026-Q2")
    );

    // The same answer as from the record alone, with the kept months thrown away.
    sql(&app, "DELETE FROM statistics_months", false).await;
    let recomputed = rows(&app.gql(&analyst, STATS, json!({})).await);
    assert_eq!(recomputed, after);

    // A force's own figures come from the same kept months.
    let gmp_only = rows(
        &app.gql(
            &analyst,
            "query { statistics(from: \"2026-01-01\", to: \"2026-06-30\", force: \"GMP\") { force quarter ordersMade } }",
            json!({}),
        )
        .await,
    );
    assert_eq!(
        gmp_only,
        [json!({ "force": "GMP", "quarter": "2026-Q2", "ordersMade": 1 })]
    );
}

/// Longer than 80 lines: a month kept, then two changes made in a later month that alter it.
#[tokio::test]
async fn an_outcome_replacing_one_of_an_ended_month_and_a_late_service_are_counted() {
    let app = history().await;
    // 2 June: May has ended and is kept with the breach's CHARGED outcome and GMP's order unserved.
    app.clock.set("2026-06-02T10:00:00Z".parse().unwrap());
    let analyst = app.token(Role::Analyst, "STATS");
    let first = rows(&app.gql(&analyst, STATS, json!({})).await);
    assert_eq!(kept(&app).await, 5);
    assert_eq!(
        find(&first, "MET", "2026-Q2")["breachOutcomes"]["charged"],
        1
    );
    assert_eq!(find(&first, "GMP", "2026-Q2")["daysToService"]["count"], 0);

    let met = app.token(Role::Police, "MET");
    let breach = app
        .gql(
            &met,
            "query { order(reference: \"WMC/ST/1\", reason: \"statistics test\") { breaches { id } } }",
            json!({}),
        )
        .await;
    let id = breach.ok()["order"]["breaches"][0]["id"].clone();
    app.gql(
        &met,
        "mutation($id: ID!) { updateBreachOutcome(id: $id, outcome: CONVICTED) { id } }",
        json!({ "id": id }),
    )
    .await
    .ok();
    app.gql(
        &app.token(Role::Police, "GMP"),
        "mutation { recordService(reference: \"WMC/ST/2\", servedAt: \"2026-04-16T10:00:00Z\", method: PERSONAL) { serviceStatus } }",
        json!({}),
    )
    .await
    .ok();
    // May held the replaced outcome, April the order now served: both are computed again.
    assert_eq!(kept(&app).await, 3);

    let after = rows(&app.gql(&analyst, STATS, json!({})).await);
    let met_q2 = find(&after, "MET", "2026-Q2");
    assert_eq!(met_q2["breachOutcomes"]["charged"], 0, "replaced in June");
    let gmp_q2 = find(&after, "GMP", "2026-Q2");
    assert_eq!(
        gmp_q2["daysToService"],
        json!({ "count": 1, "median": 1.0 })
    );
    sql(&app, "DELETE FROM statistics_months", false).await;
    assert_eq!(rows(&app.gql(&analyst, STATS, json!({})).await), after);
}
