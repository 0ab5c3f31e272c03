//! Reads without the blocking pool (`db::reader`): each worker's own connection, replaced when it is lost (on
//! PostgreSQL), and the same answers as the pool's.

use crate::helpers::*;
use diesel::prelude::*;
use orderwatch::auth::Role;
use serde_json::json;

const LOOKUP: &str = "query($r: String!) { order(reference: $r) { reference status subject { names } conditions { kind text } replacedByReference } }";

#[derive(QueryableByName)]
struct Ended {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Ends the server's reading connections, as a database restart or an administrator would; how many it ended.
fn end_reading_connections(app: &TestApp) -> i64 {
    let target = orderwatch::db::DbTarget::parse(&app.database_url).unwrap();
    let mut c = diesel::PgConnection::establish(&target.connect).unwrap();
    let ended: Ended = diesel::sql_query(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = $1",
    )
    .bind::<diesel::sql_types::Text, _>(orderwatch::db::reader::APPLICATION_NAME)
    .get_result(&mut c)
    .unwrap();
    ended.n
}

/// A lookup by reference is read on the worker's own connection; when that connection is ended under it, the next
/// lookup opens a new one and answers as before, with nothing reaching the caller.
#[tokio::test]
async fn a_lookup_answers_on_a_new_connection_after_its_own_was_ended() {
    if !on_postgres() {
        eprintln!("reader: skipped (TEST_DATABASE_URL does not name PostgreSQL)");
        return;
    }
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/RD/1"))
        .await
        .ok();
    let met = app.token(Role::Police, "MET");
    let vars = json!({ "r": "WMC/RD/1" });
    // The first lookup reads the caller's agency through the pool; the next ones use the worker's connection.
    let before = app.gql(&met, LOOKUP, vars.clone()).await.ok().clone();
    for _ in 0..3 {
        assert_eq!(app.gql(&met, LOOKUP, vars.clone()).await.ok(), &before);
    }
    assert_eq!(before["order"]["reference"], "WMC/RD/1");
    assert!(
        end_reading_connections(&app) >= 1,
        "the lookups were read on a reading connection"
    );
    for _ in 0..3 {
        assert_eq!(app.gql(&met, LOOKUP, vars.clone()).await.ok(), &before);
    }
    assert!(end_reading_connections(&app) >= 1, "a new one was opened");
}

/// With `ORDERWATCH_WORKER_READS=false` every lookup goes through the pool: no reading connection is opened.
#[tokio::test]
async fn with_worker_reads_off_no_reading_connection_is_opened() {
    if !on_postgres() {
        eprintln!("reader: skipped (TEST_DATABASE_URL does not name PostgreSQL)");
        return;
    }
    let app = TestApp::spawn_with(|s| s.worker_reads = false)
        .await
        .with_agencies()
        .await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/RD/2"))
        .await
        .ok();
    let met = app.token(Role::Police, "MET");
    for _ in 0..3 {
        let found = app.gql(&met, LOOKUP, json!({ "r": "WMC/RD/2" })).await;
        assert_eq!(found.ok()["order"]["reference"], "WMC/RD/2");
    }
    assert_eq!(end_reading_connections(&app), 0);
}

const PAGE: &str = "query($a: String, $o: OrdersOrder, $f: OrderFilter) { orders(first: 2, after: $a, orderBy: $o, filter: $f) { \
edges { cursor node { reference status expiresOn subject { names } protectedPersons { name } conditions { kind text } \
hearings { scheduledFor } replacesReference replacedByReference applicantAgency { code } court { code } } } \
pageInfo { hasNextPage endCursor } } }";

/// Every page of `PAGE` with `vars`, in order, as the server answered them.
async fn pages(
    app: &TestApp,
    token: &str,
    query: &str,
    vars: serde_json::Value,
) -> Vec<serde_json::Value> {
    let mut seen = vec![];
    let mut vars = vars;
    loop {
        let page = app.gql(token, query, vars.clone()).await.ok()["orders"].clone();
        let next = page["pageInfo"]["hasNextPage"] == true;
        vars["a"] = page["pageInfo"]["endCursor"].clone();
        seen.push(page);
        if !next {
            return seen;
        }
    }
}

/// On PostgreSQL a list page is read in one statement on the worker's own connection (`db::loader::search_on`; on
/// SQLite on the pool, so there both servers read through it); a server reading
/// through the pool (`ORDERWATCH_WORKER_READS=false`) on the same database answers every page the same, for each
/// order, filter and role's scope, with histories (read on the pool after the page) and replaced orders.
#[tokio::test]
async fn list_pages_read_on_the_workers_connection_are_the_pools() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let police = app.token(Role::Police, "MET");
    for (i, days) in [None, None, Some(100), Some(100), None, Some(50)]
        .into_iter()
        .enumerate()
    {
        let mut input = spo_input(&app, &format!("WMC/RP/{i}"));
        input["expiresOn"] = match days {
            Some(d) => {
                let base: chrono::NaiveDate = input["expiresOn"].as_str().unwrap().parse().unwrap();
                json!((base + chrono::Duration::days(d)).to_string())
            }
            None => serde_json::Value::Null,
        };
        if i == 0 {
            // An interim order, which the full order replaces.
            input["type"] = json!("INTERIM_SPO");
            input["expiresOn"] = json!((app.today() + chrono::Duration::days(30)).to_string());
        }
        app.grant(&court, input).await.ok();
    }
    let mut replacing = spo_input(&app, "WMC/RP/9");
    replacing["replacesReference"] = json!("WMC/RP/0");
    app.grant(&court, replacing).await.ok();
    let person = app
        .gql(
            &police,
            "{ order(reference: \"WMC/RP/1\") { protectedPersons { id } } }",
            json!({}),
        )
        .await
        .ok()["order"]["protectedPersons"][0]["id"]
        .clone();
    app.gql(
        &police,
        "mutation($p: ID!) { shareOrderWithAdvocacy(reference: \"WMC/RP/1\", protectedPersonId: $p, advocacyAgency: \"ADV-A\") { id } }",
        json!({ "p": person }),
    )
    .await
    .ok();
    app.gql(
        &court,
        "mutation($at: DateTime!) { scheduleHearing(input: { reference: \"WMC/RP/2\", scheduledFor: $at }) { reference } }",
        json!({ "at": (app.now() + chrono::Duration::days(7)).to_rfc3339() }),
    )
    .await
    .ok();
    if on_postgres() {
        end_reading_connections(&app);
    }
    let pooled = app.replica_with(|s| s.worker_reads = false).await;
    let advocate = app.token(Role::Advocate, "ADV-A");
    // Past the earliest last day (the shortest term and 50 days).
    let after = (orderwatch::domain::Term::Years(2).last_day(app.today())
        + chrono::Duration::days(60))
    .to_string();
    let with_versions = PAGE.replace(
        "court { code }",
        "court { code } versions { version event }",
    );
    let cases = [
        (&police, PAGE.to_owned(), json!({ "o": "NEWEST" })),
        (&police, PAGE.to_owned(), json!({ "o": "ENDING_SOONEST" })),
        (
            &police,
            PAGE.to_owned(),
            json!({ "o": "ENDING_SOONEST", "f": { "status": "IN_FORCE" } }),
        ),
        (
            &police,
            PAGE.to_owned(),
            json!({ "o": "ENDING_SOONEST", "f": { "expiresAfter": after } }),
        ),
        (&police, with_versions, json!({ "o": "ENDING_SOONEST" })),
        (&court, PAGE.to_owned(), json!({ "o": "ENDING_SOONEST" })),
        (&advocate, PAGE.to_owned(), json!({ "o": "NEWEST" })),
    ];
    for (token, query, vars) in &cases {
        // The first read of a caller's agency is through the pool; the next ones use the worker's connection.
        pages(&app, token, query, vars.clone()).await;
        let worker = pages(&app, token, query, vars.clone()).await;
        let pool = pages(&pooled, token, query, vars.clone()).await;
        assert_eq!(worker, pool, "{vars}");
        assert!(!worker[0]["edges"].as_array().unwrap().is_empty(), "{vars}");
    }
    let ending_pages = pages(&app, &police, PAGE, json!({ "o": "ENDING_SOONEST" })).await;
    let ending: Vec<String> = ending_pages
        .iter()
        .flat_map(|p| p["edges"].as_array().unwrap().clone())
        .map(|e| e["node"]["reference"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ending,
        ["WMC/RP/0", "WMC/RP/9", "WMC/RP/5", "WMC/RP/2", "WMC/RP/3", "WMC/RP/1", "WMC/RP/4"]
    );
    // A cursor among the undated orders with a filter on the last day: nothing follows it, on either path.
    let undated = ending_pages[2]["pageInfo"]["endCursor"].clone();
    assert_eq!(ending_pages[2]["edges"][1]["node"]["reference"], "WMC/RP/1");
    for server in [&app, &pooled] {
        let vars = json!({ "o": "ENDING_SOONEST", "a": undated, "f": { "expiresAfter": after } });
        let page = server.gql(&police, PAGE, vars).await.ok()["orders"].clone();
        assert_eq!(page["edges"], json!([]));
        assert_eq!(page["pageInfo"]["hasNextPage"], false);
    }
    if on_postgres() {
        assert!(
            end_reading_connections(&app) >= 1,
            "the pages were read on a reading connection"
        );
        assert_eq!(end_reading_connections(&pooled), 0);
    }
}
