//! PostgreSQL plans a prepared statement once per connection and keeps the plan; these tests hold the hot path's
//! statements to plans that stay good as the tables grow (docs/decisions/0007-statements-shaped-for-plans-that-stay-good.md).
//! SQLite has no such cache: it plans each statement afresh, from the statistics `ANALYZE` left
//! (`sqlite_plans.rs`).

use crate::helpers::*;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use orderwatch::auth::Role;
use orderwatch::db::DbConnection;
use orderwatch::domain::order::OrderParts;

fn connect(app: &TestApp) -> PgConnection {
    let target = orderwatch::db::DbTarget::parse(&app.database_url).unwrap();
    PgConnection::establish(&target.connect).unwrap()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(c: &mut DbConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(c).unwrap().n
}

/// Plans PostgreSQL made for this connection's prepared statements whose text contains `text`: (generic, custom).
/// It plans a statement's first five runs for their values, then keeps a generic plan if that is no worse.
fn plans(c: &mut DbConnection, text: &str) -> (i64, i64) {
    #[derive(QueryableByName)]
    struct Plans {
        #[diesel(sql_type = BigInt)]
        generic: i64,
        #[diesel(sql_type = BigInt)]
        custom: i64,
    }
    let p = diesel::sql_query(
        "SELECT COALESCE(SUM(generic_plans), 0)::BIGINT AS generic, COALESCE(SUM(custom_plans), 0)::BIGINT AS custom \
         FROM pg_prepared_statements WHERE strpos(statement, $1) > 0",
    )
    .bind::<Text, _>(text)
    .get_result::<Plans>(c)
    .unwrap();
    (p.generic, p.custom)
}

/// Before each append the writer reads the chain's newest hash. A plan PostgreSQL kept for that read from a new
/// deployment's small log was a sequential scan, and it stayed in use as the log grew: every append read the whole
/// log until an autoanalyze came round.
#[actix_web::test]
async fn the_audit_chains_newest_hash_is_read_through_the_key_after_the_log_has_grown() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let mut c = DbConnection::Pg(connect(&app));
    // Appends on a connection of its own, as the audit writer's, with the server's keys.
    let db = app.db().await;
    let _keys = db.audit_key_scope();
    // A small log, with statistics that say so, as on the first day of a deployment; one append on this
    // connection after them, as the audit writer makes.
    for n in 0..3 {
        orderwatch::db::audit::append(&mut c, [&read_entry(&format!("plans-{n}"))]).unwrap();
    }
    diesel::sql_query("ANALYZE audit_events")
        .execute(&mut c)
        .unwrap();
    orderwatch::db::audit::append(&mut c, [&read_entry(&format!("plans-{}", 3))]).unwrap();
    // The one-statement append's first read of the head on this connection: the plan the session keeps.
    orderwatch::db::audit::append_batch(&mut c, &mut None, &[&read_entry("plans-first-batch")])
        .unwrap();
    // The log grows (its chain is not the point here), with no new statistics.
    diesel::sql_query(
        "INSERT INTO audit_events (id, at, request_id, actor_sub, actor_agency, actor_role, operation, action, object_type, object_ids, fields, recipient, outcome, reason, prev_hash, hash) \
         SELECT 'bulk-' || i, now(), 'bulk', 'officer', 'MET', 'POLICE', 'CONSULT', 'order', 'order', 'o', 'status', NULL, 'OK', NULL, 'x' || i, 'y' || i \
         FROM generate_series(1, 20000) AS s(i)",
    )
    .execute(&mut c)
    .unwrap();
    let scans = "SELECT COALESCE(SUM(seq_scan), 0)::BIGINT AS n FROM pg_stat_xact_user_tables WHERE relname = 'audit_events'";
    // The backend's counts not yet reported, this transaction's and earlier ones' alike: compare before and after.
    diesel::sql_query("BEGIN").execute(&mut c).unwrap();
    let before = count(&mut c, scans);
    orderwatch::db::audit::append(&mut c, [&read_entry(&format!("plans-{}", 4))]).unwrap();
    // And the audit writer's one-statement append, which reads it only when it does not know it: with the plan
    // kept from the small log, then from the head it wrote.
    let mut head = None;
    orderwatch::db::audit::append_batch(&mut c, &mut head, &[&read_entry(&format!("plans-{}", 5))])
        .unwrap();
    orderwatch::db::audit::append_batch(&mut c, &mut head, &[&read_entry(&format!("plans-{}", 6))])
        .unwrap();
    let after = count(&mut c, scans);
    diesel::sql_query("COMMIT").execute(&mut c).unwrap();
    assert_eq!(after - before, 0, "the append scanned the audit log");
}

/// One order's parts are read with one id. Bound as an array, that statement was planned afresh on every run:
/// PostgreSQL's generic plan for an array of unknown length costs far more than the plan for one id. A lookup by
/// reference reads the order and its parts in one statement, which keeps its plan too.
#[actix_web::test]
async fn a_lookups_parts_are_read_with_a_plan_postgresql_keeps() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(
        &app.token(Role::Court, "WMC"),
        spo_input(&app, "WMC/PLAN/1"),
    )
    .await
    .ok();
    // A thousand more orders like it, each with its parts, and statistics that know them.
    copy_order(&app, "WMC/PLAN/1", 1000);
    raw_sql(&app, &["ANALYZE"]).unwrap();
    let mut c = DbConnection::Pg(connect(&app));
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = Text)]
        id: String,
    }
    let id = diesel::sql_query("SELECT id FROM orders WHERE reference = 'WMC/PLAN/1'")
        .get_result::<Id>(&mut c)
        .unwrap()
        .id;
    for _ in 0..8 {
        let parts =
            orderwatch::db::parts::for_orders(&mut c, std::slice::from_ref(&id), OrderParts::ALL)
                .unwrap();
        assert_eq!(
            parts.subject_names.len(),
            2,
            "the order's own parts, no copy's"
        );
        assert_eq!(parts.conditions.len(), 2);
    }
    let (generic, custom) = plans(&mut c, "FROM subject_names");
    assert!(
        generic >= 3,
        "the parts statement was planned afresh: {generic} generic and {custom} custom plans in 8 runs"
    );
    // As a force's control room reads it: the subject's names and the conditions.
    let control_room = OrderParts {
        persons: false,
        shares: false,
        hearings: false,
        ..OrderParts::NONE
    };
    for _ in 0..8 {
        let (order, parts) =
            orderwatch::db::parts::order_by_reference(&mut c, "WMC/PLAN/1", control_room)
                .unwrap()
                .expect("the order");
        assert_eq!(order.id, id);
        assert_eq!(parts.subject_names.len(), 2, "the order's own parts");
        assert_eq!(parts.conditions.len(), 2);
    }
    let (generic, custom) = plans(&mut c, "LEFT JOIN LATERAL");
    assert!(
        generic >= 3,
        "the lookup was planned afresh: {generic} generic and {custom} custom plans in 8 runs"
    );
}

/// A list page reads its orders with the page's limit. Bound as a parameter, PostgreSQL planned that statement
/// afresh on every run (a generic `LIMIT $n` is costed as a tenth of the rows); written into the text, it keeps a
/// plan.
#[actix_web::test]
async fn a_list_pages_orders_are_read_with_a_plan_postgresql_keeps() {
    use orderwatch::db::loader::{search, PageAsk};
    use orderwatch::domain::order::OrderParts;
    use orderwatch::domain::scope::{OrderCursor, OrderSearch, RowScope};
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(
        &app.token(Role::Court, "WMC"),
        spo_input(&app, "WMC/PLAN/L"),
    )
    .await
    .ok();
    copy_order(&app, "WMC/PLAN/L", 1000);
    raw_sql(&app, &["ANALYZE"]).unwrap();
    let mut c = DbConnection::Pg(connect(&app));
    let filter = OrderSearch {
        order_type: Some(orderwatch::domain::order_type::OrderType::Spo),
        status: Some(orderwatch::domain::status::OrderStatus::InForce),
        applicant_agency: Some("MET".into()),
        ..Default::default()
    };
    // Eight pages with the same statement; each has 21 orders.
    let run =
        |c: &mut DbConnection, filter: &OrderSearch, cursor: OrderCursor, parts: OrderParts| {
            for _ in 0..8 {
                let ask = PageAsk {
                    scope: RowScope::All,
                    filter: filter.clone(),
                    today: app.today(),
                    cursor: cursor.clone(),
                    limit: 21,
                    parts,
                };
                let page = search(c, &ask).unwrap();
                assert_eq!(page.len(), 21);
                if parts.conditions {
                    assert_eq!(page[0].conditions.len(), 2);
                }
            }
        };
    run(&mut c, &filter, OrderCursor::Newest(None), OrderParts::NONE);
    let (generic, custom) = plans(&mut c, "ORDER BY \"orders\".\"id\" DESC");
    assert!(
        generic >= 3,
        "the page's statement was planned afresh: {generic} generic and {custom} custom plans in 8 runs"
    );
    // Ending soonest after a day, with the parts of a list (`db::parts::PageQuery`): the same.
    let filter = OrderSearch {
        applicant_agency: Some("MET".into()),
        expires_after: Some(app.today()),
        ..Default::default()
    };
    let conditions = OrderParts {
        conditions: true,
        ..OrderParts::NONE
    };
    run(
        &mut c,
        &filter,
        OrderCursor::EndingSoonest(None),
        conditions,
    );
    let (generic, custom) = plans(&mut c, "\"orders\".\"expires_on\" ASC");
    assert!(
        generic >= 3,
        "the ending-soonest page was planned afresh: {generic} generic and {custom} custom plans in 8 runs"
    );
}

/// A delivery that selects `acknowledgedAt` reads one alert's acknowledgement. Bound as an array, PostgreSQL planned
/// that read afresh every time, for the same reason as a lookup's parts.
#[actix_web::test]
async fn one_alerts_acknowledgement_is_read_with_a_plan_postgresql_keeps() {
    if !on_postgres() {
        return;
    }
    // A thousand more alerts like its alert, each acknowledged by MET, and statistics that know them.
    let app = with_many_alerts("WMC/PLAN/A", true).await;
    let mut c = DbConnection::Pg(connect(&app));
    let seq = count(&mut c, "SELECT MIN(seq) AS n FROM alerts");
    for _ in 0..8 {
        let acks = orderwatch::db::alerts::acks(&mut c, &[seq], "MET").unwrap();
        assert_eq!(acks.len(), 1, "MET's acknowledgement of that alert");
    }
    let (generic, custom) = plans(&mut c, "FROM \"alert_acks\"");
    assert!(
        generic >= 3,
        "the acknowledgement read was planned afresh: {generic} generic and {custom} custom plans in 8 runs"
    );
}

/// A page of alerts (a control room's or an advocate's list) reads them with the page's limit bound as a parameter.
/// Unlike the orders page (ordered by id, filtered on other columns), it walks `seq` from the cursor, and PostgreSQL
/// keeps a generic plan for it as it is; this holds it there.
#[actix_web::test]
async fn a_page_of_alerts_is_read_with_a_plan_postgresql_keeps() {
    use orderwatch::db::alerts::page;
    use orderwatch::domain::scope::{AlertAudience, AlertFilter};
    if !on_postgres() {
        return;
    }
    let app = with_many_alerts("WMC/PLAN/P", false).await;
    let mut c = DbConnection::Pg(connect(&app));
    let filter = AlertFilter {
        unacknowledged_only: true,
        ..Default::default()
    };
    for _ in 0..8 {
        let alerts = page(&mut c, &AlertAudience::Force("MET".into()), &filter, 0, 21).unwrap();
        assert_eq!(alerts.len(), 21);
    }
    let (generic, custom) = plans(&mut c, "ORDER BY \"alerts\".\"seq\"");
    assert!(
        generic >= 3,
        "the page's statement was planned afresh: {generic} generic and {custom} custom plans in 8 runs"
    );
}

/// An app whose SPO `reference` (applied for by MET) had a breach reported, its alert copied a thousand times, each
/// acknowledged by MET when `acknowledged`, and statistics that know them.
async fn with_many_alerts(reference: &str, acknowledged: bool) -> TestApp {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, reference))
        .await
        .ok();
    app.gql(
        &app.token(Role::Police, "MET"),
        "mutation($r: String!, $at: DateTime!) { reportBreach(input: { reference: $r, occurredAt: $at, description: \"d\", externalRef: \"PLAN\" }) { id } }",
        serde_json::json!({ "r": reference, "at": app.now().to_rfc3339() }),
    )
    .await
    .ok();
    let copy = "INSERT INTO alerts (id, dedup_key, kind, severity, order_id, breach_id, due_at, created_at, late, late_by_seconds) \
        SELECT a.id || '-' || s.i, a.dedup_key || '-' || s.i, a.kind, a.severity, a.order_id, a.breach_id, a.due_at, a.created_at, a.late, a.late_by_seconds \
        FROM generate_series(1, 1000) AS s(i), alerts a";
    let ack = "INSERT INTO alert_acks (alert_seq, agency, acknowledged_at, acknowledged_by) SELECT seq, 'MET', created_at, 'met-user' FROM alerts";
    let statements: &[&str] = if acknowledged {
        &[copy, ack, "ANALYZE"]
    } else {
        &[copy, "ANALYZE"]
    };
    raw_sql(&app, statements).unwrap();
    app
}
