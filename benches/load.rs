//! The load tool: seeds N orders, starts the real `orderwatch` binary on them, and drives it over HTTP and
//! websockets, reporting throughput, p50/p99 latency and the server's peak memory for each scenario.
//!
//! ```sh
//! cargo bench --bench load -- [--orders 10000] [--scenarios lookup,list,breach,subscribers]
//!     [--concurrency 1,8,32,128] [--seconds 5] [--subscribers 1,100,10000] [--breaches 20] [--per-socket 1]
//! ```
//! with `BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres` for PostgreSQL (a fresh database, dropped
//! after); an SQLite file otherwise. On PostgreSQL the lookup scenario also runs `pgbench` with
//! `benches/pgbench/lookup.sql` (the statements one audited lookup sent before decision 0012), `folded.sql` (its
//! reads folded into one), `reads.sql` (its 2 reads alone, no audit: a floor under any server's latency) and `floor.sql` (the order row alone)
//! at the same concurrency, in the same run.
//!
//! Scenarios:
//! - `floor`: what a request costs before any SQL: `GET /healthz` (HTTP alone) and an authenticated `{ __typename }`
//!   (HTTP, token and GraphQL, no database), by the same client at the same concurrency;
//! - `lookup`: the control-room query, an order by reference (random among the N), with auditing on as always;
//! - `list`: a filtered page of 20 orders (in force, of one type, one applicant force);
//! - `breach`: breach reports at concurrency 32 (the first of `--concurrency` that is at least 32, else 32), one in
//!   ten a retry of an earlier report with the same `externalRef`; then counts what the database holds;
//! - `subscribers`: N alert subscriptions over websockets (`--per-socket` of them on each socket, one by default),
//!   the server's memory with them idle, then the breach-to-alert latency to all of them.
//!
//! The tool and the server share the machine's cores; BENCHMARKS.md says what that means for the figures.

#[path = "common/mod.rs"]
mod common;

use chrono::{Duration, Utc};
use common::{arg, gql, list, percentile, BenchDb};
use diesel::prelude::*;
use futures_util::{SinkExt, StreamExt};
use orderwatch::auth::jwt::JwtKeys;
use orderwatch::auth::{Principal, Role};
use rand::Rng;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "bench-secret-of-at-least-thirty-two-bytes";
/// Orders granted through the API, which the seeding copies (their conditions, versions, deadlines, alerts).
const TEMPLATES: i64 = 10;

/// The `orderwatch` server as a child process.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    async fn start(database_url: &str) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // ORDERWATCH_LOAD_WRAP runs the server under a profiler, e.g. "heaptrack -o /tmp/orderwatch".
        // Empty counts as unset, so a script may pass an empty wrapper for the plain binary.
        let wrap = std::env::var("ORDERWATCH_LOAD_WRAP")
            .ok()
            .filter(|w| !w.trim().is_empty());
        let mut command = match &wrap {
            Some(w) => {
                let mut parts = w.split_whitespace();
                let mut c =
                    Command::new(parts.next().expect("ORDERWATCH_LOAD_WRAP names a program"));
                c.args(parts).arg(env!("CARGO_BIN_EXE_orderwatch"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_orderwatch")),
        };
        let child = command
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("ORDERWATCH_LISTEN", format!("127.0.0.1:{port}"))
            .env("ORDERWATCH_JWT_SECRET", SECRET)
            .env("ORDERWATCH_LOG", "warn")
            // Scheduled checks are measured by benches/check_run.rs; here they would only add noise.
            .env("ORDERWATCH_CHECK_INTERVAL", "0")
            .stdout(Stdio::null())
            .spawn()
            .expect("start orderwatch");
        let url = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(r) = client.get(format!("{url}/readyz")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(120),
                "server not ready"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Server { child, url }
    }

    /// Resident memory now and at its peak since the last reset, in MiB.
    fn memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
                / 1024.0
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// Starts a new peak-memory measurement (Linux: writing 5 to clear_refs resets VmHWM).
    fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::env::var("ORDERWATCH_LOAD_WRAP").is_ok() {
            // A profiler writes its report when the server ends cleanly (SIGTERM), not when it is killed.
            let _ = Command::new("pkill")
                .args([
                    "-TERM",
                    "-f",
                    concat!(env!("CARGO_BIN_EXE_orderwatch"), " serve"),
                ])
                .status();
        } else {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn token(role: Role, agency: &str, sub: &str) -> String {
    JwtKeys::hs256(SECRET.as_bytes(), "orderwatch", "orderwatch")
        .unwrap()
        .mint(
            &Principal {
                sub: sub.into(),
                role,
                agency: agency.into(),
                supervisor: false,
            },
            Utc::now(),
            Duration::hours(4),
        )
        .unwrap()
}

/// Agencies, the template orders (through the API), then `orders - TEMPLATES` copies of them in bulk SQL.
async fn seed(db: &BenchDb, server: &Server, orders: i64) -> f64 {
    let client = reqwest::Client::new();
    let admin = token(Role::Admin, "OPS", "bench-admin");
    for (code, kind) in [
        ("MET", "POLICE_FORCE"),
        ("GMP", "POLICE_FORCE"),
        ("WMC", "COURT"),
        ("ADV-A", "ADVOCACY_SERVICE"),
    ] {
        gql(
            &client,
            &server.url,
            &admin,
            "mutation($i: CreateAgencyInput!) { createAgency(input: $i) { code } }",
            json!({ "i": { "code": code, "name": code, "kind": kind } }),
        )
        .await;
    }
    let court = token(Role::Court, "WMC", "bench-clerk");
    let today = orderwatch::domain::calendar::london_date(Utc::now());
    for t in 0..TEMPLATES {
        let (kind, expires) = if t % 2 == 0 {
            ("SPO", Some(today + Duration::days(730)))
        } else {
            ("RESTRAINING_ORDER", None)
        };
        gql(&client, &server.url, &court,
            "mutation($i: GrantOrderInput!) { grantOrder(input: $i) { reference } }",
            json!({ "i": {
                "reference": format!("WMC/TPL/{t}"), "type": kind, "applicantAgency": if t % 3 == 0 { "GMP" } else { "MET" },
                "subject": { "names": ["Template Subject", "Alias"], "dateOfBirth": "1980-05-05" },
                "protectedPersons": [{ "name": "Template Person", "dateOfBirth": "1990-01-01", "contact": "07700 900123" }],
                "madeOn": today.to_string(), "expiresOn": expires.map(|d| d.to_string()),
                "conditions": [
                    { "kind": "PROHIBITION", "text": "Must not contact the protected person" },
                    { "kind": "PROHIBITION", "text": "Must not enter the exclusion zone" }
                ] } })).await;
    }
    let started = Instant::now();
    let copies = orders - TEMPLATES;
    let pg = db.is_postgres();
    let (series, pad) = if pg {
        (
            format!("SELECT i FROM generate_series(1, {copies}) AS g(i)"),
            "lpad(s.i::text, 8, '0')",
        )
    } else {
        (
            format!("WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {copies}) SELECT i FROM g"),
            "substr('0000000' || s.i, -8, 8)",
        )
    };
    let from = |table: &str| {
        format!(
            "FROM ({series}) AS s JOIN orders o ON o.reference = 'WMC/TPL/' || (s.i % {TEMPLATES}) JOIN {table} t ON t.order_id = o.id"
        )
    };
    let new_id = format!("'seed-' || {pad}");
    let statements = vec![
        format!("INSERT INTO orders (id, reference, order_type, status, made_on, expires_on, applicant_agency, court_agency, subject_date_of_birth, replaces_order_id, version, service_status, served_at, service_method, served_by_agency, served_by, created_at, updated_at) \
                 SELECT {new_id}, 'LOAD/' || s.i, o.order_type, o.status, o.made_on, o.expires_on, o.applicant_agency, o.court_agency, o.subject_date_of_birth, NULL, o.version, o.service_status, o.served_at, o.service_method, o.served_by_agency, o.served_by, o.created_at, o.updated_at \
                 FROM ({series}) AS s JOIN orders o ON o.reference = 'WMC/TPL/' || (s.i % {TEMPLATES})"),
        format!("INSERT INTO subject_names (id, order_id, position, name, name_key) SELECT t.id || '-' || s.i, {new_id}, t.position, 'Subject ' || s.i || ' ' || t.position, 'subject ' || s.i || ' ' || t.position {}", from("subject_names")),
        format!("INSERT INTO protected_persons (id, order_id, position, name, date_of_birth, contact) SELECT t.id || '-' || s.i, {new_id}, t.position, 'Person ' || s.i, t.date_of_birth, t.contact {}", from("protected_persons")),
        format!("INSERT INTO conditions (id, order_id, position, kind, text, expires_on, added_in_version, removed_in_version) SELECT t.id || '-' || s.i, {new_id}, t.position, t.kind, t.text, t.expires_on, t.added_in_version, t.removed_in_version {}", from("conditions")),
        format!("INSERT INTO order_versions (order_id, version, event, status, expires_on, recorded_at, recorded_by, recorded_by_agency, note) SELECT {new_id}, t.version, t.event, t.status, t.expires_on, t.recorded_at, t.recorded_by, t.recorded_by_agency, t.note {}", from("order_versions")),
        format!("INSERT INTO deadlines (id, order_id, kind, occasion, due_at, status, met_at, rule, statute, updated_at) SELECT t.id || '-' || s.i, {new_id}, t.kind, t.occasion, t.due_at, t.status, t.met_at, t.rule, t.statute, t.updated_at {}", from("deadlines")),
        format!("INSERT INTO scheduled_alerts (id, order_id, kind, occasion, due_at, fire_at, state, done_at) SELECT t.id || '-' || s.i, {new_id}, t.kind, t.occasion, t.due_at, t.fire_at, t.state, t.done_at {}", from("scheduled_alerts")),
        "ANALYZE".into(),
    ];
    let target = orderwatch::db::DbTarget::parse(&db.url).unwrap();
    let run = |sql: &str| -> Result<usize, diesel::result::Error> {
        match target.backend {
            orderwatch::db::Backend::Postgres => diesel::sql_query(sql)
                .execute(&mut PgConnection::establish(&target.connect).unwrap()),
            orderwatch::db::Backend::Sqlite => {
                let mut c = SqliteConnection::establish(&target.connect).unwrap();
                diesel::sql_query("PRAGMA busy_timeout = 60000").execute(&mut c)?;
                diesel::sql_query(sql).execute(&mut c)
            }
        }
    };
    for sql in &statements {
        run(sql).unwrap_or_else(|e| panic!("seeding failed: {e}\n{sql}"));
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("seeded {orders} orders ({copies} copied in SQL in {seconds:.1} s)");
    seconds
}

/// The HTTP client the concurrent callers share, keeping a connection open for each of them.
fn callers_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap()
}

/// What `concurrency` callers saw sending requests for a while.
struct Sample {
    /// Seconds from the first request to the last answer.
    elapsed: f64,
    /// Each request's latency in ms, sorted.
    latencies: Vec<f64>,
    errors: u64,
}

/// `concurrency` callers sending `request` for `seconds`.
async fn drive<F, Fut>(concurrency: usize, seconds: f64, request: F) -> Sample
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + std::time::Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = vec![];
    for w in 0..concurrency {
        let (request, errors) = (request.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = vec![];
            while Instant::now() < stop {
                let t = Instant::now();
                if !request(w).await {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            latencies
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    Sample {
        elapsed,
        latencies: all,
        errors: errors.load(Ordering::Relaxed),
    }
}

fn report(
    backend: &str,
    scenario: &str,
    orders: i64,
    concurrency: usize,
    sample: &Sample,
    memory: (f64, f64),
) -> f64 {
    let rate = sample.latencies.len() as f64 / sample.elapsed;
    println!(
        "{backend:10} {scenario:7} orders={orders:<8} concurrency={concurrency:<4} | {rate:7.0} req/s | p50 {:7.2} ms p99 {:7.2} ms | errors {} | server RSS peak {:.0} MiB",
        percentile(&sample.latencies, 0.5),
        percentile(&sample.latencies, 0.99),
        sample.errors,
        memory.1
    );
    rate
}

/// What pgbench measured: transactions per second and the 99th percentile of their latency (from its
/// per-transaction log).
struct PgBench {
    tps: f64,
    p99_ms: f64,
}

/// Runs pgbench with `script` (a file in `benches/pgbench/`) at `concurrency` clients.
fn pgbench(
    script: &str,
    url: &str,
    orders: i64,
    concurrency: usize,
    seconds: f64,
) -> Option<PgBench> {
    let script = format!("{}/benches/pgbench/{script}", env!("CARGO_MANIFEST_DIR"));
    let logs = tempfile::tempdir().ok()?;
    let prefix = logs.path().join("tx");
    let out = Command::new("pgbench")
        .args([
            "-n",
            "-M",
            "prepared",
            "-f",
            &script,
            "-c",
            &concurrency.to_string(),
            "-j",
            "2",
            "-T",
            &(seconds.ceil() as u64).to_string(),
            "-D",
            &format!("orders={}", orders - TEMPLATES),
            "-l",
            "--log-prefix",
            prefix.to_str()?,
            url,
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        eprintln!(
            "pgbench failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let tps = text
        .lines()
        .find(|l| l.starts_with("tps ="))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())?;
    // Each log line is `client transaction latency_us script epoch_s epoch_us`; one file per pgbench thread.
    let mut latencies: Vec<f64> = std::fs::read_dir(logs.path())
        .ok()?
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .flat_map(|log| {
            log.lines()
                .filter_map(|l| l.split_whitespace().nth(2)?.parse::<f64>().ok())
                .map(|us| us / 1000.0)
                .collect::<Vec<_>>()
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    Some(PgBench {
        tps,
        p99_ms: percentile(&latencies, 0.99),
    })
}

/// A read scenario: `concurrency` police callers sending `query` with the variables `vars(caller)` gives, each
/// answer checked by `answered`.
struct Read {
    name: &'static str,
    query: &'static str,
    vars: fn(usize, i64) -> Value,
    answered: fn(&Value) -> bool,
}

/// The control-room query: an order by reference, at random among the seeded ones.
const LOOKUP: Read = Read {
    name: "lookup",
    query: "query($r: String!) { order(reference: $r) { reference type status expiresOn serviceStatus subject { names dateOfBirth } protectedPersons { name } conditions { kind text } } }",
    vars: |_, orders| json!({ "r": format!("LOAD/{}", rand::rng().random_range(1..=orders - TEMPLATES)) }),
    answered: |data| data["order"].is_object(),
};

/// GraphQL with no database: the token is checked and the query parsed, validated and executed.
const TYPENAME: Read = Read {
    name: "typename",
    query: "{ __typename }",
    vars: |_, _| json!({}),
    answered: |data| data["__typename"] == "QueryRoot",
};

/// A filtered page of 20 orders: in force, one type, one applicant force.
const LIST: Read = Read {
    name: "list",
    query: "query($f: OrderFilter) { orders(filter: $f, first: 20) { edges { node { reference type status expiresOn subject { names } } } pageInfo { hasNextPage endCursor } } }",
    vars: |caller, _| json!({ "f": { "status": "IN_FORCE", "type": if caller % 2 == 0 { "SPO" } else { "RESTRAINING_ORDER" }, "applicantAgency": "MET" } }),
    answered: |data| data["orders"]["edges"].as_array().is_some_and(|e| e.len() == 20),
};

async fn reads(
    read: &Read,
    db: &BenchDb,
    server: &Server,
    orders: i64,
    concurrency: &[usize],
    seconds: f64,
) {
    let backend = db.backend_name();
    let client = callers_client();
    let police = token(Role::Police, "MET", "control-room");
    for &c in concurrency {
        server.reset_peak();
        let (client, url, police) = (client.clone(), server.url.clone(), police.clone());
        let (query, vars, answered) = (read.query, read.vars, read.answered);
        let sample = drive(c, seconds, move |w| {
            let (client, url, police) = (client.clone(), url.clone(), police.clone());
            async move {
                let r = client
                    .post(format!("{url}/graphql"))
                    .bearer_auth(&police)
                    .json(&json!({ "query": query, "variables": vars(w, orders) }))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => r
                        .json::<Value>()
                        .await
                        .is_ok_and(|v| v.get("errors").is_none() && answered(&v["data"])),
                    _ => false,
                }
            }
        })
        .await;
        let rate = report(backend, read.name, orders, c, &sample, server.memory());
        if db.is_postgres() && read.name == "lookup" {
            if let Some(same) = pgbench("lookup.sql", &db.url, orders, c, seconds) {
                println!(
                    "{backend:10} pgbench orders={orders:<8} concurrency={c:<4} | {:7.0} tps on a lookup's SQL before decision 0012, p99 {:7.2} ms | server/pgbench {:.2}",
                    same.tps,
                    same.p99_ms,
                    rate / same.tps
                );
            }
            for (script, what) in [
                ("folded.sql", "with the order's parts in one statement"),
                (
                    "reads.sql",
                    "on the lookup's 2 reads before decision 0012, no audit",
                ),
                ("floor.sql", "on the order row alone"),
            ] {
                if let Some(other) = pgbench(script, &db.url, orders, c, seconds) {
                    println!(
                        "{backend:10} pgbench orders={orders:<8} concurrency={c:<4} | {:7.0} tps {what} ({script}), p99 {:7.2} ms",
                        other.tps, other.p99_ms
                    );
                }
            }
        }
    }
}

/// What the lookup costs before any SQL: the same HTTP client and server answering `GET /healthz` (HTTP alone) and
/// an authenticated `{ __typename }` (HTTP, token check and GraphQL, no database), at the same concurrency.
async fn floors(db: &BenchDb, server: &Server, orders: i64, concurrency: &[usize], seconds: f64) {
    let backend = db.backend_name();
    let client = callers_client();
    for &c in concurrency {
        server.reset_peak();
        let (client2, url) = (client.clone(), server.url.clone());
        let sample = drive(c, seconds, move |_| {
            let (client, url) = (client2.clone(), url.clone());
            async move {
                match client.get(format!("{url}/healthz")).send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        })
        .await;
        report(backend, "healthz", orders, c, &sample, server.memory());
    }
    reads(&TYPENAME, db, server, orders, concurrency, seconds).await;
}

async fn breaches(db: &BenchDb, server: &Server, orders: i64, concurrency: usize, seconds: f64) {
    let backend = db.backend_name();
    let client = callers_client();
    let police = token(Role::Police, "MET", "response-officer");
    // Each report acknowledged: (the input sent, the breach id answered). Retries resend one of these.
    let acked: Arc<Mutex<Vec<(Value, String)>>> = Arc::default();
    let (retries, mismatched, sent) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    server.reset_peak();
    let (url, a, r2, m2, s2) = (
        server.url.clone(),
        acked.clone(),
        retries.clone(),
        mismatched.clone(),
        sent.clone(),
    );
    let sample = drive(concurrency, seconds, move |w| {
        let (client, url, police, acked) = (client.clone(), url.clone(), police.clone(), a.clone());
        let (retries, mismatched, sent) = (r2.clone(), m2.clone(), s2.clone());
        async move {
            let retry = {
                let mut rng = rand::rng();
                let a = acked.lock().unwrap();
                if !a.is_empty() && rng.random_bool(0.1) {
                    Some(a[rng.random_range(0..a.len())].clone())
                } else {
                    None
                }
            };
            let (input, expect) = match retry {
                Some((input, id)) => {
                    retries.fetch_add(1, Ordering::Relaxed);
                    (input, Some(id))
                }
                None => {
                    let k = format!("LOAD-{w}-{}", sent.fetch_add(1, Ordering::Relaxed));
                    let n = rand::rng().random_range(1..=orders - TEMPLATES);
                    let input = json!({ "reference": format!("LOAD/{n}"), "occurredAt": Utc::now().to_rfc3339(),
                        "description": "load test", "externalRef": k });
                    (input, None)
                }
            };
            let r = client
                .post(format!("{url}/graphql"))
                .bearer_auth(&police)
                .json(&json!({ "query": "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }", "variables": { "i": input } }))
                .send()
                .await;
            let Ok(r) = r else { return false };
            let Ok(v) = r.json::<Value>().await else { return false };
            let Some(id) = v["data"]["reportBreach"]["id"].as_str() else {
                return false;
            };
            match expect {
                Some(first) if first != id => {
                    mismatched.fetch_add(1, Ordering::Relaxed);
                }
                Some(_) => {}
                None => {
                    acked.lock().unwrap().push((input, id.to_string()));
                }
            }
            true
        }
    })
    .await;
    report(
        backend,
        "breach",
        orders,
        concurrency,
        &sample,
        server.memory(),
    );
    // What the database holds for the references this run used.
    let target = orderwatch::db::DbTarget::parse(&db.url).unwrap();
    let count_sql = "SELECT COUNT(*) AS n, COUNT(DISTINCT external_ref) AS d FROM breaches WHERE external_ref LIKE 'LOAD-%'";
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        d: i64,
    }
    let ids: Vec<String> = acked
        .lock()
        .unwrap()
        .iter()
        .map(|(_, id)| id.clone())
        .collect();
    let (counts, found, alerts) = match target.backend {
        orderwatch::db::Backend::Postgres => {
            let mut c = PgConnection::establish(&target.connect).unwrap();
            let counts: Counts = diesel::sql_query(count_sql).get_result(&mut c).unwrap();
            let found: i64 = orderwatch::db::schema::breaches::table
                .filter(orderwatch::db::schema::breaches::id.eq_any(&ids))
                .count()
                .get_result(&mut c)
                .unwrap();
            let alerts: i64 = orderwatch::db::schema::alerts::table
                .filter(orderwatch::db::schema::alerts::breach_id.eq_any(&ids))
                .count()
                .get_result(&mut c)
                .unwrap();
            (counts, found, alerts)
        }
        orderwatch::db::Backend::Sqlite => {
            let mut c = SqliteConnection::establish(&target.connect).unwrap();
            let counts: Counts = diesel::sql_query(count_sql).get_result(&mut c).unwrap();
            let mut found = 0;
            let mut alerts = 0;
            for chunk in ids.chunks(10_000) {
                found += orderwatch::db::schema::breaches::table
                    .filter(orderwatch::db::schema::breaches::id.eq_any(chunk))
                    .count()
                    .get_result::<i64>(&mut c)
                    .unwrap();
                alerts += orderwatch::db::schema::alerts::table
                    .filter(orderwatch::db::schema::alerts::breach_id.eq_any(chunk))
                    .count()
                    .get_result::<i64>(&mut c)
                    .unwrap();
            }
            (counts, found, alerts)
        }
    };
    println!(
        "{backend:10} breach  acknowledged={} retries={} retry-answered-with-another-id={} | in the database: found={found} duplicated={} lost={} alerts={alerts}",
        ids.len(),
        retries.load(Ordering::Relaxed),
        mismatched.load(Ordering::Relaxed),
        counts.n - counts.d,
        ids.len() as i64 - found,
    );
}

type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a websocket and starts `operations` alert subscriptions on it (ids `a0`, `a1`, ...).
async fn subscribe(url: &str, token: &str, operations: usize) -> WsStream {
    let mut ws = common::ws_client(url, token).await;
    // Live from now: no cursor, so nothing is replayed.
    for o in 0..operations {
        ws.send(Message::Text(
            json!({ "id": format!("a{o}"), "type": "subscribe", "payload": {
            "query": "subscription { alerts { breachId } }" } })
            .to_string()
            .into(),
        ))
        .await
        .unwrap();
    }
    ws
}

async fn subscribers(
    db: &BenchDb,
    server: &Server,
    orders: i64,
    counts: &[usize],
    breaches: usize,
    per_socket: usize,
) {
    let backend = db.backend_name();
    let client = reqwest::Client::new();
    // WMC/TPL/0 is managed by GMP (its applicant), which alone may share it.
    let police = token(Role::Police, "GMP", "response-officer");
    let person = gql(
        &client,
        &server.url,
        &police,
        "{ order(reference: \"WMC/TPL/0\") { protectedPersons { id } } }",
        json!({}),
    )
    .await["order"]["protectedPersons"][0]["id"]
        .clone();
    gql(&client, &server.url, &police, "mutation($p: ID!) { shareOrderWithAdvocacy(reference: \"WMC/TPL/0\", protectedPersonId: $p, advocacyAgency: \"ADV-A\") { id } }", json!({ "p": person })).await;
    let report_breach = "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }";
    for &n in counts {
        server.reset_peak();
        let before = server.memory().0;
        let received: Arc<Mutex<HashMap<String, Vec<Instant>>>> = Arc::default();
        let mut tasks = vec![];
        let connecting = Instant::now();
        let sockets = n.div_ceil(per_socket);
        for batch in (0..sockets).collect::<Vec<_>>().chunks(200) {
            let streams = futures_util::future::join_all(batch.iter().map(|&i| {
                let url = server.url.clone();
                let token = token(Role::Advocate, "ADV-A", &format!("advocate-{i}"));
                let operations = per_socket.min(n - i * per_socket);
                async move { subscribe(&url, &token, operations).await }
            }))
            .await;
            for mut ws in streams {
                let received = received.clone();
                tasks.push(tokio::spawn(async move {
                    while let Some(Ok(m)) = ws.next().await {
                        if let Message::Text(t) = m {
                            let v: Value = serde_json::from_str(&t).unwrap();
                            if let Some(id) = v["payload"]["data"]["alerts"]["breachId"].as_str() {
                                received
                                    .lock()
                                    .unwrap()
                                    .entry(id.to_string())
                                    .or_default()
                                    .push(Instant::now());
                            }
                        }
                    }
                }));
            }
        }
        let connected = connecting.elapsed().as_secs_f64();
        // Idle: let the server settle with every subscription open, then read its memory.
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let idle = server.memory();
        // And again once the allocator has had its time to give back what the connecting burst freed (jemalloc
        // returns freed pages over about 10 s): what a server holds all day with them.
        tokio::time::sleep(std::time::Duration::from_secs(12)).await;
        let settled = server.memory();
        let mut from_response = vec![];
        let mut undelivered = 0;
        for b in 0..breaches {
            let id = gql(&client, &server.url, &police, report_breach,
                json!({ "i": { "reference": "WMC/TPL/0", "occurredAt": Utc::now().to_rfc3339(), "description": "load test", "externalRef": format!("SUB-{n}-{b}") } }))
                .await["reportBreach"]["id"].as_str().unwrap().to_string();
            let answered = Instant::now();
            let deadline = answered + std::time::Duration::from_secs(30);
            while received.lock().unwrap().get(&id).map_or(0, |v| v.len()) < n
                && Instant::now() < deadline
            {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            let got = received
                .lock()
                .unwrap()
                .get(&id)
                .cloned()
                .unwrap_or_default();
            undelivered += n - got.len();
            from_response.extend(
                got.iter()
                    .map(|t| t.saturating_duration_since(answered).as_secs_f64() * 1000.0),
            );
        }
        from_response.sort_by(f64::total_cmp);
        let peak = server.memory().1;
        println!(
            "{backend:10} alerts  orders={orders:<8} subscribers={n:<6} sockets={sockets:<6} | connected in {connected:.1} s | server RSS {before:.0} MiB before, {:.0} MiB idle with them ({:.0} MiB 12 s later), peak {peak:.0} MiB | breach-to-alert after response over {breaches} breaches: p50 {:.2} ms p99 {:.2} ms max {:.2} ms | undelivered {undelivered}",
            idle.0,
            settled.0,
            percentile(&from_response, 0.5),
            percentile(&from_response, 0.99),
            from_response.last().copied().unwrap_or(f64::NAN),
        );
        for t in tasks {
            t.abort();
        }
        // Let the server notice the closed sockets before the next count.
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

fn main() {
    let orders: i64 = arg("--orders")
        .map(|s| s.parse().expect("--orders takes a number"))
        .unwrap_or(10_000);
    assert!(orders > TEMPLATES, "--orders must be more than {TEMPLATES}");
    let scenarios: Vec<String> = list("--scenarios", "lookup,list,breach,subscribers");
    let concurrency: Vec<usize> = list("--concurrency", "1,8,32,128");
    let seconds: f64 = arg("--seconds")
        .map(|s| s.parse().expect("--seconds takes a number"))
        .unwrap_or(5.0);
    let subscriber_counts: Vec<usize> = list("--subscribers", "1,100,10000");
    let per_socket: usize = arg("--per-socket")
        .map(|s| s.parse().expect("--per-socket takes a number"))
        .unwrap_or(1);
    assert!(per_socket >= 1, "--per-socket must be at least 1");
    let breach_count: usize = arg("--breaches")
        .map(|s| s.parse().expect("--breaches takes a number"))
        .unwrap_or(20);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = BenchDb::create();
        let server = Server::start(&db.url).await;
        let seeded = seed(&db, &server, orders).await;
        println!("seeding {orders} orders: {seeded:.1} s in SQL (plus {TEMPLATES} templates through the API)");
        for s in &scenarios {
            match s.as_str() {
                "lookup" => reads(&LOOKUP, &db, &server, orders, &concurrency, seconds).await,
                "floor" => floors(&db, &server, orders, &concurrency, seconds).await,
                "list" => reads(&LIST, &db, &server, orders, &concurrency, seconds).await,
                "breach" => {
                    let c = concurrency.iter().copied().find(|&c| c >= 32).unwrap_or(32);
                    breaches(&db, &server, orders, c, seconds).await
                }
                "subscribers" => subscribers(&db, &server, orders, &subscriber_counts, breach_count, per_socket).await,
                other => panic!("unknown scenario {other:?}: floor, lookup, list, breach, subscribers"),
            }
        }
        drop(server);
    });
}
