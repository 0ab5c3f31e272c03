//! Reads on PostgreSQL without the blocking pool (`db::reader`): each worker's own connection, replaced when it is
//! lost, and the same answers as the pool's.

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
