//! SQLite plans each statement afresh from the statistics `ANALYZE` last left. These tests hold the hot reads to
//! plans that stay good with statistics taken before the tables filled (an `ANALYZE` on a new deployment), and the
//! server's refresh of stale statistics (`db::upkeep::refresh_statistics`) to putting them right.

use crate::helpers::*;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use orderwatch::db::DbConnection;

/// Statements a connection sent, as diesel describes them.
#[derive(Clone, Default)]
struct Sent(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl diesel::connection::Instrumentation for Sent {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        if let diesel::connection::InstrumentationEvent::StartQuery { query, .. } = event {
            self.0.lock().unwrap().push(query.to_string());
        }
    }
}

/// SQLite plans each statement afresh from the statistics `ANALYZE` leaves. With them, the live feed's read of new
/// alerts, joined to their orders, took the orders as its outer loop: every poll of the feed (each second, in each
/// process) read the whole orders table. Each statement the read sends is planned here after `ANALYZE`, and none
/// may scan a whole table.
#[actix_web::test]
async fn the_live_feeds_read_scans_no_whole_table_on_sqlite_with_statistics() {
    if on_postgres() {
        return;
    }
    let app = with_stale_statistics().await;
    let target = orderwatch::db::DbTarget::parse(&app.database_url).unwrap();
    let mut c = DbConnection::Sqlite(SqliteConnection::establish(&target.connect).unwrap());
    let sent = Sent::default();
    c.set_instrumentation(sent.clone());
    let feed = orderwatch::db::alerts::feed_after(&mut c, 0, 500).unwrap();
    assert_eq!(feed.len(), 200);
    let statements = std::mem::take(&mut *sent.0.lock().unwrap());
    assert!(statements.len() >= 2, "{statements:?}");

    for statement in statements {
        let sql = statement.split(" -- binds:").next().unwrap();
        let steps = plan(&mut c, &statement);
        // Only the few new alerts the subquery chose may be walked; any other `SCAN` is a whole table, under its
        // name or an alias.
        let walks = steps
            .iter()
            .filter(|step| step.starts_with("SCAN ") && !step.starts_with("SCAN new_alerts"))
            .count();
        assert_eq!(walks, 0, "{sql}\n{steps:?}");
    }
}

/// Each step of SQLite's plan for the statement diesel logged as `statement` (its binds left off).
fn plan(c: &mut DbConnection, statement: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Step {
        #[diesel(sql_type = Text)]
        detail: String,
    }
    let sql = statement.split(" -- binds:").next().unwrap();
    diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
        .load::<Step>(c)
        .unwrap()
        .into_iter()
        .map(|s| s.detail)
        .collect()
}

/// An app with 2,000 synthetic orders whose statistics were taken before the first alert (an `ANALYZE` on a new
/// deployment), then 200 alerts.
async fn with_stale_statistics() -> TestApp {
    let app = TestApp::spawn().await;
    let seeded = app
        .cli()
        .args(["seed", "--synthetic", "2000"])
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    raw_sql(
        &app,
        &[
            "ANALYZE",
            "INSERT INTO alerts (id, dedup_key, kind, severity, order_id, due_at, created_at, late, late_by_seconds) \
             SELECT 'plans-' || id, 'plans-' || id, 'BREACH_REPORTED', 'URGENT', id, '2026-01-01 00:00:00', \
             '2026-01-01 00:00:00', 0, 0 FROM orders ORDER BY id LIMIT 200",
        ],
    )
    .unwrap();
    app
}

/// The plans of the statements a page of alerts sends, for a control room (MET) and for an advocate (SUPPORT1).
fn alert_page_plans(app: &TestApp) -> Vec<(String, Vec<String>)> {
    use orderwatch::db::alerts::page;
    use orderwatch::domain::scope::{AlertAudience, AlertFilter};
    let target = orderwatch::db::DbTarget::parse(&app.database_url).unwrap();
    let mut c = DbConnection::Sqlite(SqliteConnection::establish(&target.connect).unwrap());
    let sent = Sent::default();
    c.set_instrumentation(sent.clone());
    for audience in [
        AlertAudience::Force("MET".into()),
        AlertAudience::Advocate("SUPPORT1".into()),
    ] {
        page(&mut c, &audience, &AlertFilter::default(), 0, 21).unwrap();
    }
    let statements = std::mem::take(&mut *sent.0.lock().unwrap());
    statements
        .into_iter()
        .filter(|s| s.contains("`alerts`"))
        .map(|s| {
            let steps = plan(&mut c, &s);
            (s, steps)
        })
        .collect()
}

/// A page of alerts reads them in cursor order from the cursor on, so its plan's outer loop is the alerts' own key,
/// and nothing is sorted. With statistics taken while `alerts` was empty, SQLite took the orders as the outer loop
/// (an advocate's page walked every order; a control room's every order of the force) and sorted what it found. The
/// server's refresh of stale statistics, which it runs at start-up and every hour, puts that right for connections
/// opened after it (the pool replaces each of its connections within 30 minutes).
#[actix_web::test]
async fn a_page_of_alerts_walks_the_alerts_once_stale_statistics_are_refreshed() {
    if on_postgres() {
        return;
    }
    let app = with_stale_statistics().await;
    let walks_alerts = |plan: &[String]| {
        plan.first()
            .is_some_and(|s| s.starts_with("SEARCH alerts USING INTEGER PRIMARY KEY"))
            && !plan.iter().any(|s| s.contains("TEMP B-TREE"))
    };
    let stale = alert_page_plans(&app);
    assert_eq!(stale.len(), 2, "{stale:?}");
    assert!(
        stale.iter().all(|(_, plan)| !walks_alerts(plan)),
        "the stale statistics no longer mislead the planner, so this test shows nothing: {stale:?}"
    );

    let target = orderwatch::db::DbTarget::parse(&app.database_url).unwrap();
    let mut c = SqliteConnection::establish(&target.connect).unwrap();
    // `ANALYZE` takes the write lock; the server's own checkpoints may hold it for a moment.
    c.batch_execute("PRAGMA busy_timeout = 5000;").unwrap();
    orderwatch::db::upkeep::refresh_statistics(&mut DbConnection::Sqlite(c)).unwrap();

    let refreshed = alert_page_plans(&app);
    assert_eq!(refreshed.len(), 2, "{refreshed:?}");
    for (sql, plan) in refreshed {
        assert!(walks_alerts(&plan), "{sql}\n{plan:?}");
    }
}
