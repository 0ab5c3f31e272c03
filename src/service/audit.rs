//! Writing the audit log. Changes append their entries inside their own transaction (the change and its record
//! commit together or not at all). Reads hand theirs to one writer task that commits them in batches (group
//! commit); the read waits until its batch has committed, so it still fails closed.

use crate::auth::{policy, Caller};
use crate::codes;
use crate::db::{self, Database, DbConnection};
use crate::domain::audit::{AuditEntry, AuditOperation};
use crate::domain::scope::AuditFilter;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};

/// Most entries written in one transaction by the writer.
const MAX_BATCH_ENTRIES: usize = 1000;
/// Longest a batch of several reads waits for more before it is written on PostgreSQL ([`gather`]).
const LINGER: std::time::Duration = std::time::Duration::from_millis(1);
/// Entries a batch of several reads waits for, up to [`LINGER`].
const LINGER_UNTIL: usize = 64;
/// The writer's nap between two looks at the queue while it lingers.
const LINGER_NAP: std::time::Duration = std::time::Duration::from_micros(100);
/// Requests that may wait for the writer before new ones wait to be queued.
const QUEUE: usize = 4096;

/// An audit entry for what `who` did now.
pub fn entry(
    who: &Caller,
    at: DateTime<Utc>,
    operation: AuditOperation,
    action: &str,
    object_type: &str,
    object_ids: Vec<String>,
    fields: &[&str],
) -> AuditEntry {
    AuditEntry {
        id: uuid::Uuid::now_v7().to_string(),
        at,
        request_id: who.request_id.clone(),
        actor_sub: who.sub.clone(),
        actor_agency: who.agency.clone(),
        actor_role: who.role.as_str().into(),
        operation,
        action: action.into(),
        object_type: object_type.into(),
        object_ids,
        fields: fields.iter().map(|f| f.to_string()).collect(),
        recipient: None,
        outcome: "OK".into(),
        reason: who.reason.clone(),
        correlation_id: who.correlation_id.clone(),
    }
}

/// An entry for a request refused before anyone was identified (a missing or invalid token).
pub fn auth_failure(
    request_id: &str,
    at: DateTime<Utc>,
    action: &str,
    problem: &str,
) -> AuditEntry {
    AuditEntry {
        id: uuid::Uuid::now_v7().to_string(),
        at,
        request_id: request_id.into(),
        actor_sub: "unknown".into(),
        actor_agency: "unknown".into(),
        actor_role: "unknown".into(),
        operation: AuditOperation::AuthFailure,
        action: action.into(),
        object_type: "request".into(),
        object_ids: vec![],
        fields: vec![],
        recipient: None,
        outcome: "UNAUTHENTICATED".into(),
        reason: Some(problem.into()),
        correlation_id: None,
    }
}

/// An entry for something orderwatch itself did (a data load), with why in `reason`.
pub fn system_entry(
    request_id: &str,
    at: DateTime<Utc>,
    operation: AuditOperation,
    action: &str,
    reason: String,
) -> AuditEntry {
    AuditEntry {
        actor_sub: "orderwatch".into(),
        actor_agency: "ORDERWATCH".into(),
        actor_role: "SYSTEM".into(),
        operation,
        object_type: "order".into(),
        reason: Some(reason),
        ..public_read(request_id, at, action, "order", vec![])
    }
}

/// An entry for a read by the public (the open data), who has no token: recorded all the same.
pub fn public_read(
    request_id: &str,
    at: DateTime<Utc>,
    action: &str,
    object_type: &str,
    object_ids: Vec<String>,
) -> AuditEntry {
    AuditEntry {
        id: uuid::Uuid::now_v7().to_string(),
        at,
        request_id: request_id.into(),
        actor_sub: "public".into(),
        actor_agency: "public".into(),
        actor_role: "PUBLIC".into(),
        operation: AuditOperation::Consult,
        action: action.into(),
        object_type: object_type.into(),
        object_ids,
        fields: vec![],
        recipient: None,
        outcome: "OK".into(),
        reason: None,
        correlation_id: None,
    }
}

struct Job {
    entries: Vec<AuditEntry>,
    done: oneshot::Sender<bool>,
}

/// The group-commit writer for entries of reads and refusals.
pub struct AuditWriter {
    queue: mpsc::Sender<Job>,
}

impl AuditWriter {
    /// Starts the writer on a thread of its own, with a database connection of its own: a read's audit record
    /// then never waits for a pooled connection behind the reads it describes, nor for a blocking-pool thread.
    /// The thread ends when the last handle to the writer is dropped.
    pub fn spawn(db: Database) -> AuditWriter {
        let (queue, rx) = mpsc::channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name("orderwatch-audit".into())
            .spawn(move || write_batches(db, rx))
            .expect("the audit writer thread could not be started");
        AuditWriter { queue }
    }

    /// Writes entries and waits until they have committed. An error means they were not written: the request
    /// they describe must fail.
    pub async fn record(&self, entries: Vec<AuditEntry>) -> AppResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let unavailable =
            || AppError::Unavailable(anyhow::anyhow!("the audit record could not be written"));
        let (done, wait) = oneshot::channel();
        let asked = std::time::Instant::now();
        self.queue
            .send(Job { entries, done })
            .await
            .map_err(|_| unavailable())?;
        let written = wait.await.unwrap_or(false);
        crate::metrics::global().audit_wait.observe(asked.elapsed());
        if written {
            Ok(())
        } else {
            Err(unavailable())
        }
    }
}

/// Takes what is queued, up to a batch. On PostgreSQL, when more than one read was waiting (reads are arriving
/// together), it waits up to [`LINGER`] for the batch to reach [`LINGER_UNTIL`] entries: each batch is a round trip
/// and a commit, whose flush of the write-ahead log costs the database as much for one entry as for sixty. A lone
/// read is written at once; on SQLite, where a commit costs no round trip and no flush, nothing waits.
fn gather(rx: &mut mpsc::Receiver<Job>, jobs: &mut Vec<Job>, count: &mut usize, linger: bool) {
    let mut take = |jobs: &mut Vec<Job>, count: &mut usize| match rx.try_recv() {
        Ok(job) => {
            *count += job.entries.len();
            jobs.push(job);
            true
        }
        Err(_) => false,
    };
    while *count < MAX_BATCH_ENTRIES && take(jobs, count) {}
    if !linger || jobs.len() < 2 {
        return;
    }
    let until = std::time::Instant::now() + LINGER;
    while *count < LINGER_UNTIL && std::time::Instant::now() < until {
        if !take(jobs, count) {
            std::thread::sleep(LINGER_NAP);
        }
    }
}

/// The writer's loop: takes what is queued (up to a batch), commits it in one transaction, answers each request.
fn write_batches(db: Database, mut rx: mpsc::Receiver<Job>) {
    let _keys = db.audit_key_scope();
    let mut conn: Option<DbConnection> = None;
    // The chain's newest hash as this writer last wrote or saw it (`db::audit::append_batch`).
    let mut head: db::audit::Head = None;
    let linger = db.backend() == db::Backend::Postgres;
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        let mut count = jobs[0].entries.len();
        gather(&mut rx, &mut jobs, &mut count, linger);
        let entries: Vec<&AuditEntry> = jobs.iter().flat_map(|j| j.entries.iter()).collect();
        let mut write = |conn: &mut Option<DbConnection>| {
            match conn {
                Some(c) => Ok(c),
                None => db.dedicated_connection().map(|c| conn.insert(c)),
            }
            .and_then(|c| db::audit::append_batch(c, &mut head, &entries))
        };
        let kept = conn.is_some();
        let mut written = write(&mut conn);
        if written.is_err() && kept {
            // The kept connection may be what failed (the database restarted since the last batch): the batch
            // rolled back, so it is written again at once on a new connection.
            conn = None;
            written = write(&mut conn);
        }
        match &written {
            Ok(appended) => {
                let metrics = crate::metrics::global();
                metrics.audit_batches.fetch_add(1, Ordering::Relaxed);
                metrics
                    .audit_batches_rechained
                    .fetch_add(appended.rechained() as u64, Ordering::Relaxed);
            }
            Err(e) => {
                // The next batch opens a new connection.
                conn = None;
                tracing::error!(
                    error.code = e.code(),
                    audit.entries = count,
                    "audit batch could not be written; its requests fail"
                );
            }
        }
        for job in jobs {
            let _ = job.done.send(written.is_ok());
        }
    }
}

impl super::Services {
    /// Records the caller's read (or other entries outside a write transaction), failing closed.
    pub async fn audit(&self, entries: Vec<AuditEntry>) -> AppResult<()> {
        self.audit.record(entries).await
    }

    /// A page of the audit log (AUDITOR only); the read is itself recorded.
    pub async fn audit_events(
        &self,
        who: &Caller,
        filter: AuditFilter,
        after_seq: i64,
        limit: i64,
    ) -> AppResult<Vec<(i64, AuditEntry)>> {
        if !policy::may_read_audit(who.role) {
            return Err(AppError::forbidden(
                codes::FORBIDDEN,
                format!("the {} role may not read the audit log", who.role),
            ));
        }
        let events = self
            .db
            .run(move |conn| db::audit::page(conn, &filter, after_seq, limit))
            .await?;
        let ids = events.iter().map(|(_, e)| e.id.clone()).collect();
        self.audit(vec![entry(
            who,
            self.now(),
            AuditOperation::Consult,
            "auditEvents",
            "audit_event",
            ids,
            &[],
        )])
        .await?;
        Ok(events)
    }
}

/// The fields an order is recorded with (for the audit log: names, never values).
const GRANT_FIELDS: &[&str] = &[
    "reference",
    "type",
    "applicantAgency",
    "court",
    "subject",
    "protectedPersons",
    "madeOn",
    "expiresOn",
    "conditions",
];

/// The fields a new order is recorded with, those given only for some orders included when given.
pub fn grant_fields(without_notice: bool, soa_notification: bool) -> Vec<&'static str> {
    let mut fields = GRANT_FIELDS.to_vec();
    if without_notice {
        fields.push("withoutNotice");
    }
    if soa_notification {
        fields.push("soaPart2Notification");
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(n: usize, entries_each: usize) -> mpsc::Receiver<Job> {
        let (tx, rx) = mpsc::channel(QUEUE);
        for _ in 0..n {
            let entry = system_entry(
                "test",
                Utc::now(),
                AuditOperation::Consult,
                "test",
                "t".into(),
            );
            let (done, _) = oneshot::channel();
            tx.try_send(Job {
                entries: vec![entry; entries_each],
                done,
            })
            .unwrap();
        }
        rx
    }

    fn first(rx: &mut mpsc::Receiver<Job>) -> (Vec<Job>, usize) {
        let job = rx.try_recv().unwrap();
        let count = job.entries.len();
        (vec![job], count)
    }

    #[test]
    fn a_lone_read_is_written_alone() {
        for linger in [false, true] {
            let mut rx = queued(1, 1);
            let (mut jobs, mut count) = first(&mut rx);
            gather(&mut rx, &mut jobs, &mut count, linger);
            assert_eq!((jobs.len(), count), (1, 1));
        }
    }

    #[test]
    fn what_is_queued_is_taken_up_to_a_batch() {
        for linger in [false, true] {
            let mut rx = queued(1500, 1);
            let (mut jobs, mut count) = first(&mut rx);
            gather(&mut rx, &mut jobs, &mut count, linger);
            assert_eq!((jobs.len(), count), (MAX_BATCH_ENTRIES, MAX_BATCH_ENTRIES));
            let (mut jobs, mut count) = first(&mut rx);
            gather(&mut rx, &mut jobs, &mut count, linger);
            assert_eq!(count, 500);
        }
    }

    #[test]
    fn a_request_of_many_entries_is_never_split() {
        let mut rx = queued(3, 400);
        let (mut jobs, mut count) = first(&mut rx);
        gather(&mut rx, &mut jobs, &mut count, true);
        assert_eq!((jobs.len(), count), (3, 1200));
    }
}
