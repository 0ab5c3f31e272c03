//! What auditing every read costs: order lookups through the service layer, with and without the audit record
//! each API read writes (through the group-commit writer), at several concurrency levels.
//!
//! With `--append N` it measures the append itself instead: `--rounds` batches of N entries (default 50), each in its
//! own write transaction on one connection, as the group-commit writer writes them.
//!
//! `cargo bench --bench audit_cost -- [--concurrency 1,8,32] [--seconds 3] [--append 1000 [--rounds 50]]`, with
//! `BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres` for PostgreSQL (a fresh database, dropped after).

#[path = "common/mod.rs"]
mod common;

use chrono::Utc;
use common::{arg, BenchDb};
use orderwatch::auth::{Caller, Principal, Role};
use orderwatch::db::{Database, DbTarget, PoolSettings};
use orderwatch::domain::audit::AuditOperation;
use orderwatch::domain::validation::{OrderDraft, PersonDraft};
use orderwatch::domain::{AgencyKind, OrderType};
use orderwatch::service::orders::GrantRequest;
use orderwatch::service::{audit, Services, SystemClock};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn lookups(
    services: &Services,
    concurrency: usize,
    seconds: u64,
    audited: bool,
) -> (f64, f64) {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = vec![];
    for w in 0..concurrency {
        let (services, done) = (services.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let who = Caller::new(
                Principal {
                    sub: format!("officer-{w}"),
                    role: Role::Police,
                    agency: "MET".into(),
                    supervisor: false,
                },
                "bench",
                None,
            );
            let mut latencies = vec![];
            let mut i = 0usize;
            while Instant::now() < stop {
                let started = Instant::now();
                let reference = format!("BENCH/{}", i % 100);
                let order = services
                    .order(&who, reference, orderwatch::domain::order::OrderParts::ALL)
                    .await
                    .unwrap()
                    .expect("order");
                if audited {
                    let e = audit::entry(
                        &who,
                        Utc::now(),
                        AuditOperation::Consult,
                        "order",
                        "order",
                        vec![order.id.clone()],
                        &["reference", "status"],
                    );
                    services.audit(vec![e]).await.unwrap();
                }
                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                done.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
            latencies
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_by(f64::total_cmp);
    let p99 = all[((all.len() as f64 - 1.0) * 0.99) as usize];
    (done.load(Ordering::Relaxed) as f64 / seconds as f64, p99)
}

/// Appends `rounds` batches of `size` entries, each in its own write transaction on one connection, as the
/// group-commit writer does: milliseconds per batch (p50, p99) and microseconds per entry (mean).
fn appends(db: &Database, size: usize, rounds: usize) -> (f64, f64, f64) {
    let who: Caller = Principal {
        sub: "advocate-1".into(),
        role: Role::Advocate,
        agency: "SAFE".into(),
        supervisor: false,
    }
    .into();
    let mut conn = db.dedicated_connection().unwrap();
    // Appends on a connection of its own, as the audit writer's, with the database's (keyed) chain.
    let _keys = db.audit_key_scope();
    let mut took = vec![];
    for round in 0..rounds {
        let entries: Vec<_> = (0..size)
            .map(|i| {
                let mut e = audit::entry(
                    &who,
                    Utc::now(),
                    AuditOperation::Disclose,
                    "alerts",
                    "alert",
                    vec![format!("alert-{round}-{i}"), format!("order-{i}")],
                    &["kind", "orderReference", "createdAt"],
                );
                e.recipient = Some("SAFE".into());
                e
            })
            .collect();
        let t = Instant::now();
        orderwatch::db::write_transaction(&mut conn, |c| {
            orderwatch::db::audit::append(c, &entries)
        })
        .unwrap();
        took.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(f64::total_cmp);
    (
        common::percentile(&took, 0.5),
        common::percentile(&took, 0.99),
        took.iter().sum::<f64>() * 1000.0 / (rounds * size) as f64,
    )
}

fn main() {
    let concurrency: Vec<usize> = arg("--concurrency")
        .unwrap_or_else(|| "1,8,32".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let seconds: u64 = arg("--seconds").map(|s| s.parse().unwrap()).unwrap_or(3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let bench_db = BenchDb::create();
        let url = bench_db.url.clone();
        let target = DbTarget::parse(&url).unwrap();
        let key = orderwatch::domain::audit::AuditKey::new("bench", &[7; 32]).unwrap();
        let db = Database::connect(&target, &PoolSettings { max_size: 10, connect_timeout: Duration::from_secs(5), ..Default::default() })
            .unwrap()
            .with_audit_keys(orderwatch::domain::audit::AuditKeys::new(vec![key]));
        db.migrate().unwrap();
        let services = Services::new(db.clone(), Arc::new(SystemClock));
        let admin: Caller = Principal { sub: "bench".into(), role: Role::Admin, agency: "OPS".into(), supervisor: false }.into();
        if let Some(size) = arg("--append") {
            let size: usize = size.parse().expect("--append takes a number of entries");
            let rounds: usize = arg("--rounds").map(|s| s.parse().unwrap()).unwrap_or(50);
            let (p50, p99, per_entry) = appends(&db, size, rounds);
            println!(
                "{:10} append {size} entries x {rounds} | per batch p50 {p50:7.2} ms p99 {p99:7.2} ms | {per_entry:6.1} us per entry",
                target.backend.name()
            );
            return;
        }
        services.create_agency(&admin, "MET".into(), "MET".into(), AgencyKind::PoliceForce).await.unwrap();
        services.create_agency(&admin, "WMC".into(), "WMC".into(), AgencyKind::Court).await.unwrap();
        let court: Caller = Principal { sub: "clerk".into(), role: Role::Court, agency: "WMC".into(), supervisor: false }.into();
        let today = orderwatch::domain::calendar::london_date(Utc::now());
        for i in 0..100 {
            let req = GrantRequest {
                draft: OrderDraft {
                    without_notice: false,
                    soa_notification: None,
                    until_event: None,
                    reference: format!("BENCH/{i}"),
                    order_type: OrderType::RestrainingOrder,
                    subject_names: vec![format!("Subject {i}")],
                    subject_date_of_birth: None,
                    protected_persons: vec![PersonDraft { name: format!("Person {i}"), date_of_birth: None, contact: None }],
                    made_on: today,
                    expires_on: None,
                    conditions: vec![],
                },
                applicant_agency: "MET".into(),
                court: None,
                replaces_reference: None,
                court_motion: None,
                note: None,
            };
            services.grant_order(&court, req).await.unwrap();
        }
        for c in concurrency {
            let (plain, plain_p99) = lookups(&services, c, seconds, false).await;
            let (audited, audited_p99) = lookups(&services, c, seconds, true).await;
            println!(
                "{:10} concurrency={c:<3} | lookups/s without audit {plain:8.0} (p99 {plain_p99:6.2} ms) | with audit {audited:8.0} (p99 {audited_p99:6.2} ms) | ratio {:.2}",
                target.backend.name(),
                audited / plain
            );
        }
    });
}
