//! Process metrics for `/metrics` (Prometheus text format): requests and their latency by GraphQL operation,
//! errors by code, alerts raised and delivered, check runs. Counters are process-wide; nothing here names a person.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds (seconds) of the request latency histogram.
const BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// A histogram without labels, updated without a lock (for waits measured on every request).
#[derive(Default)]
pub struct Phase {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// The sum, in microseconds.
    sum_micros: AtomicU64,
}

impl Phase {
    pub fn observe(&self, elapsed: std::time::Duration) {
        let seconds = elapsed.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.counts[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} histogram\n"));
        for (i, b) in BUCKETS.iter().enumerate() {
            let n = self.counts[i].load(Ordering::Relaxed);
            out.push_str(&format!("{name}_bucket{{le=\"{b}\"}} {n}\n"));
        }
        let count = self.count.load(Ordering::Relaxed);
        out.push_str(&format!("{name}_bucket{{le=\"+Inf\"}} {count}\n"));
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        out.push_str(&format!("{name}_sum {sum}\n{name}_count {count}\n"));
    }
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<String, Histogram>>,
    errors: Mutex<BTreeMap<String, u64>>,
    pub alerts_raised: AtomicU64,
    pub alerts_delivered: AtomicU64,
    /// Alerts sent to endpoints (webhooks, duty inboxes) and taken by the receiver.
    pub endpoint_deliveries: AtomicU64,
    /// Tries of sending an alert to an endpoint that failed.
    pub endpoint_failures: AtomicU64,
    pub check_runs: AtomicU64,
    pub check_failures: AtomicU64,
    /// Duration of the last check run, in microseconds.
    pub check_last_micros: AtomicU64,
    /// From asking for a pooled connection to holding one, on a blocking thread (`db::Database::run`).
    pub db_wait: Phase,
    /// From handing a read's audit entries to the writer to their commit (`service::audit::AuditWriter::record`).
    pub audit_wait: Phase,
    /// Batches of read audit entries the audit writer committed.
    pub audit_batches: AtomicU64,
    /// Times the audit writer chained a batch again because another appender had moved the chain's head.
    pub audit_batches_rechained: AtomicU64,
}

/// The process's metrics.
pub fn global() -> &'static Metrics {
    static METRICS: std::sync::OnceLock<Metrics> = std::sync::OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

/// An operation name safe as a label value (operation names are client-chosen).
fn label(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect();
    if cleaned.is_empty() {
        "anonymous".into()
    } else {
        cleaned
    }
}

impl Metrics {
    pub fn request(&self, operation: &str, seconds: f64) {
        let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        // Bound the number of series a client can create with made-up operation names.
        let key = if map.len() >= 200 && !map.contains_key(&label(operation)) {
            "other".to_string()
        } else {
            label(operation)
        };
        let h = map.entry(key).or_default();
        h.count += 1;
        h.sum += seconds;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.counts[i] += 1;
            }
        }
    }

    pub fn error(&self, code: &str) {
        *self
            .errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(label(code))
            .or_default() += 1;
    }

    /// The Prometheus text, with what the caller knows: statements, subscribers, the pool (open, idle) and the
    /// parsed-document cache (requests that found their document, requests parsed).
    pub fn render(
        &self,
        statements: u64,
        pings: u64,
        subscribers: usize,
        pool: (u32, u32),
        documents: (u64, u64),
        delivery: (u64, u64),
    ) -> String {
        let mut out = String::new();
        self.render_requests(&mut out);
        out.push_str("# HELP orderwatch_errors_total Errors returned to clients, by extensions.code.\n# TYPE orderwatch_errors_total counter\n");
        for (code, n) in self.errors.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            out.push_str(&format!("orderwatch_errors_total{{code=\"{code}\"}} {n}\n"));
        }
        for (name, kind, help, value) in
            self.single_values(statements, pings, subscribers, pool, documents, delivery)
        {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        }
        self.db_wait.render(
            &mut out,
            "orderwatch_db_wait_seconds",
            "Time from asking for a pooled database connection to holding one, blocking thread included.",
        );
        self.audit_wait.render(
            &mut out,
            "orderwatch_audit_wait_seconds",
            "Time a read waits for its audit entries to commit (queue and group commit).",
        );
        out
    }

    /// Requests answered and their durations, by operation name.
    fn render_requests(&self, out: &mut String) {
        out.push_str("# HELP orderwatch_graphql_requests_total GraphQL requests answered, by operation name.\n# TYPE orderwatch_graphql_requests_total counter\n");
        let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        for (op, h) in requests.iter() {
            out.push_str(&format!(
                "orderwatch_graphql_requests_total{{operation=\"{op}\"}} {}\n",
                h.count
            ));
        }
        out.push_str("# HELP orderwatch_graphql_request_seconds Time to answer a GraphQL request, by operation name.\n# TYPE orderwatch_graphql_request_seconds histogram\n");
        for (op, h) in requests.iter() {
            for (i, b) in BUCKETS.iter().enumerate() {
                out.push_str(&format!("orderwatch_graphql_request_seconds_bucket{{operation=\"{op}\",le=\"{b}\"}} {}\n", h.counts[i]));
            }
            out.push_str(&format!(
                "orderwatch_graphql_request_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}\n",
                h.count
            ));
            out.push_str(&format!(
                "orderwatch_graphql_request_seconds_sum{{operation=\"{op}\"}} {}\n",
                h.sum
            ));
            out.push_str(&format!(
                "orderwatch_graphql_request_seconds_count{{operation=\"{op}\"}} {}\n",
                h.count
            ));
        }
    }

    /// The metrics with one value each: name, kind, help and value. Longer than 80 lines as a table, one entry
    /// per metric.
    fn single_values(
        &self,
        statements: u64,
        pings: u64,
        subscribers: usize,
        (pool_size, pool_idle): (u32, u32),
        (documents_found, documents_parsed): (u64, u64),
        (handed_over, delivery_failures): (u64, u64),
    ) -> [(&'static str, &'static str, &'static str, f64); 18] {
        [
            (
                "orderwatch_audit_batches_total",
                "counter",
                "Batches of read audit entries the audit writer committed.",
                self.audit_batches.load(Ordering::Relaxed) as f64,
            ),
            (
                "orderwatch_audit_batches_rechained_total",
                "counter",
                "Times the audit writer chained a batch again because another appender moved the chain's head (PostgreSQL).",
                self.audit_batches_rechained.load(Ordering::Relaxed) as f64,
            ),
            (
                "orderwatch_alerts_raised_total",
                "counter",
                "Alerts written by this process.",
                self.alerts_raised.load(Ordering::Relaxed) as f64,
            ),
            (
                "orderwatch_alerts_delivered_total",
                "counter",
                "Alerts delivered to live subscribers of this process.",
                self.alerts_delivered.load(Ordering::Relaxed) as f64,
            ),
            (
                "orderwatch_endpoint_deliveries_total",
                "counter",
                "Alerts this process sent to webhooks and duty inboxes that the receiver took.",
                self.endpoint_deliveries.load(Ordering::Relaxed) as f64,
            ),
            (
                "orderwatch_endpoint_failures_total",
                "counter",
                "Tries of sending an alert to a webhook or duty inbox that failed (each is retried).",
                self.endpoint_failures.load(Ordering::Relaxed) as f64,
            ),
            (
                "orderwatch_check_runs_total",
                "counter",
                "Scheduled check runs by this process.",
                self.check_runs.load(Ordering::Relaxed) as f64,
            ),
            (
                "orderwatch_check_failures_total",
                "counter",
                "Scheduled check runs that failed.",
                self.check_failures.load(Ordering::Relaxed) as f64,
            ),
            (
                "orderwatch_check_last_run_seconds",
                "gauge",
                "Duration of the last scheduled check run.",
                self.check_last_micros.load(Ordering::Relaxed) as f64 / 1e6,
            ),
            (
                "orderwatch_alert_subscribers",
                "gauge",
                "Live alert subscriptions connected to this process.",
                subscribers as f64,
            ),
            (
                "orderwatch_db_statements_total",
                "counter",
                "SQL statements sent to the database by this process.",
                statements as f64,
            ),
            (
                "orderwatch_db_pings_total",
                "counter",
                "Connection checks at checkout (PostgreSQL, after an idle second or a failed statement); counted in orderwatch_db_statements_total too.",
                pings as f64,
            ),
            (
                "orderwatch_graphql_documents_reused_total",
                "counter",
                "Requests whose document was found already parsed (same text as an earlier request).",
                documents_found as f64,
            ),
            (
                "orderwatch_graphql_documents_parsed_total",
                "counter",
                "Requests whose document was parsed (new text, not kept, or too long to keep).",
                documents_parsed as f64,
            ),
            (
                "orderwatch_alert_subscriptions_handed_over_total",
                "counter",
                "Websocket alerts subscriptions delivered by the transport once started (the rest run on async-graphql's streaming executor).",
                handed_over as f64,
            ),
            (
                "orderwatch_alert_delivery_failures_total",
                "counter",
                "Failed tries of a live alert delivery step (each retried with the alert held back).",
                delivery_failures as f64,
            ),
            (
                "orderwatch_db_pool_connections",
                "gauge",
                "Database connections open in the pool.",
                pool_size as f64,
            ),
            (
                "orderwatch_db_pool_idle_connections",
                "gauge",
                "Open database connections not in use.",
                pool_idle as f64,
            ),
        ]
    }
}
