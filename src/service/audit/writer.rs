//! The group-commit writer for the audit entries of reads and refusals: one thread with a connection of its own
//! takes the waiting entries of many requests and commits them in one batch; each request waits for its batch.

use crate::db::{self, Database, DbConnection};
use crate::domain::audit::AuditEntry;
use crate::error::{AppError, AppResult};
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};

/// Entries the writer takes into one batch; a request's entries are never split, so the last one taken may pass it.
const MAX_BATCH_ENTRIES: usize = 1000;
/// Entries a batch of several reads waits for, up to the writer's gather window (`ORDERWATCH_AUDIT_GATHER_US`).
const LINGER_UNTIL: usize = 64;
/// The writer's nap between two looks at the queue while it lingers.
const LINGER_NAP: std::time::Duration = std::time::Duration::from_micros(100);
/// Requests that may wait for the writer before new ones wait to be queued.
const QUEUE: usize = 4096;

struct Job {
    entries: Vec<AuditEntry>,
    done: oneshot::Sender<bool>,
}

/// The group-commit writer for entries of reads and refusals.
pub struct AuditWriter {
    queue: mpsc::Sender<Job>,
    gather: std::time::Duration,
}

impl AuditWriter {
    /// Starts the writer on a thread of its own, with a database connection of its own: a read's audit record
    /// then never waits for a pooled connection behind the reads it describes, nor for a blocking-pool thread.
    /// The thread ends when the last handle to the writer is dropped. A batch of several reads waits up to
    /// `gather` for more before it is written ([`gather`]; zero writes what is queued at once).
    pub fn spawn(db: Database, gather: std::time::Duration) -> AuditWriter {
        let (queue, rx) = mpsc::channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name("orderwatch-audit".into())
            .spawn(move || write_batches(db, rx, gather))
            .expect("the audit writer thread could not be started");
        AuditWriter { queue, gather }
    }

    /// How long a batch of several reads waits for more (`ORDERWATCH_AUDIT_GATHER_US`).
    pub fn gather_window(&self) -> std::time::Duration {
        self.gather
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

/// What the writer finds when it looks at its queue.
enum Queued {
    Job(Job),
    Empty,
    /// Every sender is gone (the server is stopping): nothing more will come.
    Closed,
}

/// Takes what is queued (`next` looks once), up to a batch. When more than one read was waiting (reads are arriving
/// together), it then waits up to `linger` for the batch to reach [`LINGER_UNTIL`] entries: on PostgreSQL each
/// batch is a round trip and a commit, whose flush of the write-ahead log costs the database as much for one entry
/// as for sixty. A lone read is written at once, and so is what was taken when the queue closes. `linger` is
/// `ORDERWATCH_AUDIT_GATHER_US`, zero by default: every read waits for its batch, so a wait that saves the database
/// work costs the callers time (docs/decisions/0021-audit-batches-written-at-once.md).
fn gather(
    mut next: impl FnMut() -> Queued,
    jobs: &mut Vec<Job>,
    count: &mut usize,
    linger: std::time::Duration,
) {
    let add = |jobs: &mut Vec<Job>, count: &mut usize, job: Job| {
        *count += job.entries.len();
        jobs.push(job);
    };
    // Whatever is queued now, up to a batch (a request's entries are never split, so one may take it past).
    while *count < MAX_BATCH_ENTRIES {
        match next() {
            Queued::Job(job) => add(jobs, count, job),
            Queued::Empty => break,
            Queued::Closed => return,
        }
    }
    if linger.is_zero() || jobs.len() < 2 {
        return;
    }
    let until = std::time::Instant::now() + linger;
    while *count < LINGER_UNTIL && std::time::Instant::now() < until {
        match next() {
            Queued::Job(job) => add(jobs, count, job),
            Queued::Empty => std::thread::sleep(LINGER_NAP),
            Queued::Closed => return,
        }
    }
}

/// The writer's loop: takes what is queued (up to a batch), commits it in one transaction, answers each request.
fn write_batches(db: Database, mut rx: mpsc::Receiver<Job>, linger: std::time::Duration) {
    let _keys = db.audit_key_scope();
    let mut conn: Option<DbConnection> = None;
    // The chain's newest hash as this writer last wrote or saw it (`db::audit::append_batch`).
    let mut head: db::audit::Head = None;
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        let mut count = jobs[0].entries.len();
        let next = || match rx.try_recv() {
            Ok(job) => Queued::Job(job),
            Err(mpsc::error::TryRecvError::Empty) => Queued::Empty,
            Err(mpsc::error::TryRecvError::Disconnected) => Queued::Closed,
        };
        gather(next, &mut jobs, &mut count, linger);
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

#[cfg(test)]
mod tests {
    use super::super::system_entry;
    use super::*;
    use crate::domain::audit::AuditOperation;
    use chrono::Utc;
    use std::collections::VecDeque;
    use std::time::Duration;

    /// What the queue holds when the writer looks: a request of `n` entries, or nothing for now, or closed.
    #[derive(Clone, Copy)]
    enum Step {
        Request(usize),
        Empty,
        Closed,
    }

    fn request(entries: usize) -> Job {
        let entry = system_entry(
            "test",
            Utc::now(),
            AuditOperation::Consult,
            "test",
            "t".into(),
        );
        let (done, _) = oneshot::channel();
        Job {
            entries: vec![entry; entries],
            done,
        }
    }

    /// Gathers a batch after a first request of one entry, from a queue that shows `steps` in turn and then stays
    /// empty; gives the requests and entries taken and how many times the queue was looked at.
    fn gathered(steps: &[Step], linger: Duration) -> (usize, usize, usize) {
        let mut steps: VecDeque<Step> = steps.iter().copied().collect();
        let mut looks = 0;
        let next = || {
            looks += 1;
            match steps.pop_front().unwrap_or(Step::Empty) {
                Step::Request(n) => Queued::Job(request(n)),
                Step::Empty => Queued::Empty,
                Step::Closed => Queued::Closed,
            }
        };
        let mut jobs = vec![request(1)];
        let mut count = 1;
        gather(next, &mut jobs, &mut count, linger);
        (jobs.len(), count, looks)
    }

    const LONG: Duration = Duration::from_secs(30);

    fn requests(n: usize) -> Vec<Step> {
        vec![Step::Request(1); n]
    }

    #[test]
    fn a_lone_read_is_written_at_once() {
        assert_eq!(gathered(&[], LONG), (1, 1, 1));
    }

    #[test]
    fn reads_arriving_together_wait_for_a_fuller_batch() {
        let mut steps = requests(1);
        steps.extend([Step::Empty, Step::Empty]);
        steps.extend(requests(100));
        let (jobs, count, _) = gathered(&steps, LONG);
        assert_eq!((jobs, count), (LINGER_UNTIL, LINGER_UNTIL));
    }

    #[test]
    fn without_a_wait_only_what_is_queued_is_taken() {
        let mut steps = requests(1);
        steps.push(Step::Empty);
        steps.extend(requests(100));
        assert_eq!(gathered(&steps, Duration::ZERO), (2, 2, 2));
    }

    #[test]
    fn a_closed_queue_ends_the_wait() {
        let mut steps = requests(1);
        steps.extend([Step::Empty, Step::Closed]);
        steps.extend(requests(100));
        assert_eq!(gathered(&steps, LONG), (2, 2, 3));
    }

    #[test]
    fn a_backlog_is_taken_up_to_a_batch() {
        let (jobs, count, _) = gathered(&requests(1500), LONG);
        assert_eq!((jobs, count), (MAX_BATCH_ENTRIES, MAX_BATCH_ENTRIES));
    }

    #[test]
    fn a_request_of_many_entries_is_never_split() {
        let (jobs, count, _) = gathered(&[Step::Request(600), Step::Request(600)], LONG);
        assert_eq!((jobs, count), (3, 1201));
    }
}
