//! One scheduled check run over a large record with a fixed number of alerts due: the cost should follow what is
//! due, not the number of orders.
//!
//! `cargo bench --bench check_run -- [--orders 10000,1000000] [--due 1000]`, with
//! `BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres` for PostgreSQL (a fresh database, dropped after).
//!
//! `--due` orders are recorded through the service layer (restraining orders ending in 10 days, unserved); the
//! rest are bulk-inserted in SQL with a far-future scheduled alert and deadline each, so the tables the checks read
//! are as large as a real record's. The run is timed at a moment when each due order has two alerts due (its 7-day
//! warning and "unserved"), then those are reset and the run repeated.

#[path = "common/mod.rs"]
mod common;

use chrono::{Duration, Utc};
use common::{arg, BenchDb};
use diesel::prelude::*;
use orderwatch::auth::{Principal, Role};
use orderwatch::db::{Database, DbConnection, DbTarget, PoolSettings};
use orderwatch::domain::calendar::end_of_day;
use orderwatch::domain::validation::{OrderDraft, PersonDraft};
use orderwatch::domain::{AgencyKind, OrderType};
use orderwatch::service::checks::CheckOptions;
use orderwatch::service::orders::GrantRequest;
use orderwatch::service::{Services, SystemClock};
use std::sync::Arc;
use std::time::Instant;

fn filler_sql(backend_pg: bool, n: i64) -> Vec<String> {
    let series = |select: &str, table: &str| {
        if backend_pg {
            format!("INSERT INTO {table} SELECT {select} FROM generate_series(1, {n}) AS s(i)")
        } else {
            format!("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) INSERT INTO {table} SELECT {select} FROM s")
        }
    };
    vec![
        series(
            "'filler-' || i, 'FILLER/' || i, 'RESTRAINING_ORDER', 'IN_FORCE', DATE '2026-01-01', DATE '2031-01-01', 'MET', 'WMC', NULL, NULL, 1, 'SERVED', NULL, NULL, NULL, NULL, TIMESTAMP '2026-01-01 00:00:00', TIMESTAMP '2026-01-01 00:00:00'",
            "orders",
        ),
        series(
            "'filler-sa-' || i, 'filler-' || i, 'ORDER_EXPIRING', '30d', TIMESTAMP '2031-01-02 00:00:00', TIMESTAMP '2030-12-03 00:00:00', 'PENDING', NULL",
            "scheduled_alerts",
        ),
        series(
            "'filler-dl-' || i, 'filler-' || i, 'ORDER_END', '', TIMESTAMP '2031-01-02 00:00:00', 'OPEN', NULL, 'the end of the order''s last day', 'Sentencing Act 2020 s360', TIMESTAMP '2026-01-01 00:00:00'",
            "deadlines",
        ),
    ]
}

fn sqlite_literals(sql: &str) -> String {
    // SQLite has no DATE/TIMESTAMP literal prefixes; diesel stores both as text in these formats.
    sql.replace("DATE '", "'").replace("TIMESTAMP '", "'")
}

async fn run(orders: i64, due: usize) {
    let bench_db = BenchDb::create();
    let url = bench_db.url.clone();
    let target = DbTarget::parse(&url).unwrap();
    let db = Database::connect(
        &target,
        &PoolSettings {
            max_size: 4,
            connect_timeout: std::time::Duration::from_secs(5),
            ..Default::default()
        },
    )
    .unwrap();
    db.migrate().unwrap();
    let services = Services::new(db.clone(), Arc::new(SystemClock));
    let admin = Principal {
        sub: "bench".into(),
        role: Role::Admin,
        agency: "OPS".into(),
        supervisor: false,
    };
    services
        .create_agency(
            &admin.clone().into(),
            "MET".into(),
            "MET".into(),
            AgencyKind::PoliceForce,
        )
        .await
        .unwrap();
    services
        .create_agency(
            &admin.clone().into(),
            "WMC".into(),
            "WMC".into(),
            AgencyKind::Court,
        )
        .await
        .unwrap();

    let t0 = Instant::now();
    let filler = orders - due as i64;
    let pg = target.backend == orderwatch::db::Backend::Postgres;
    db.run(move |conn: &mut DbConnection| {
        for sql in filler_sql(pg, filler) {
            let sql = if pg { sql } else { sqlite_literals(&sql) };
            diesel::sql_query(sql).execute(conn)?;
        }
        if pg {
            diesel::sql_query("ANALYZE").execute(conn)?;
        }
        Ok(())
    })
    .await
    .unwrap();
    let seeded_filler = t0.elapsed();

    let t1 = Instant::now();
    let court = Principal {
        sub: "clerk".into(),
        role: Role::Court,
        agency: "WMC".into(),
        supervisor: false,
    };
    let today = orderwatch::domain::calendar::london_date(Utc::now());
    for i in 0..due {
        let req = GrantRequest {
            draft: OrderDraft {
                without_notice: false,
                soa_notification: None,
                until_event: None,
                reference: format!("DUE/{i}"),
                order_type: OrderType::RestrainingOrder,
                subject_names: vec![format!("Subject {i}")],
                subject_date_of_birth: None,
                protected_persons: vec![PersonDraft {
                    name: format!("Person {i}"),
                    date_of_birth: None,
                    contact: None,
                }],
                made_on: today,
                expires_on: Some(today + Duration::days(10)),
                conditions: vec![],
            },
            applicant_agency: "MET".into(),
            court: None,
            replaces_reference: None,
            court_motion: None,
            note: None,
        };
        services
            .grant_order(&court.clone().into(), req)
            .await
            .unwrap();
    }
    let seeded_due = t1.elapsed();

    // Both the 7-day warning (end of day +3) and "unserved" (+24 h) are due; the expiry (end of day +10) is not.
    let at = end_of_day(today + Duration::days(5));
    let mut times = vec![];
    let mut statements = vec![];
    for _ in 0..3 {
        let before = db.statements_sent();
        let started = Instant::now();
        let report = services.run_checks(CheckOptions::at(at)).await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        statements.push(db.statements_sent() - before);
        assert_eq!(report.raised.len(), 2 * due, "alerts raised");
        db.run(|conn: &mut DbConnection| {
            diesel::sql_query("UPDATE scheduled_alerts SET state = 'PENDING', done_at = NULL WHERE state = 'DONE'").execute(conn)?;
            diesel::sql_query("DELETE FROM alerts").execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{:10} orders={orders:<8} due_orders={due:<5} alerts={:<5} | check run: min {:8.1} ms median {:8.1} ms max {:8.1} ms | statements {:?} | seeding: filler {:.1} s, due {:.1} s",
        target.backend.name(),
        2 * due,
        times[0],
        times[1],
        times[2],
        statements,
        seeded_filler.as_secs_f64(),
        seeded_due.as_secs_f64()
    );
}

fn main() {
    let orders: Vec<i64> = arg("--orders")
        .unwrap_or_else(|| "10000,1000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("--orders takes numbers"))
        .collect();
    let due: usize = arg("--due")
        .map(|s| s.parse().expect("--due takes a number"))
        .unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for n in orders {
        assert!(n as usize >= due, "--orders must be at least --due");
        rt.block_on(run(n, due));
    }
}
