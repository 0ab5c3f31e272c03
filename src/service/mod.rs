//! Use cases. Each public function checks the caller's right to call it, validates its input, runs its unit of
//! work in one transaction, and returns whole records. Nothing is written when any check fails.

use crate::codes;
pub mod agencies;
pub mod alerts;
mod applications;
pub use applications::NewApplication;
pub mod audit;
pub mod audit_guard;
mod awareness;
pub mod breaches;
pub mod checks;
mod decisions;
pub mod delivery;
pub mod endpoints;
pub mod feed;
mod grant_checks;
mod hearings;
mod interim;
pub mod orders;
pub mod page;
mod registration;
pub mod schedule;
pub mod seed;
pub mod shares;
mod statistics;
pub mod steps;
mod subjects;
pub mod synthetic;

use crate::auth::{policy, Caller};
use crate::db::orders::Recorded;
use crate::db::{self, Database, DbConnection};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Where "now" comes from, so deadline and expiry rules can be tested across boundaries without sleeping.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stays where it is put (tests, `check --now`).
#[derive(Debug)]
pub struct FixedClock(std::sync::Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        FixedClock(std::sync::Mutex::new(at))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How many feed batches a subscriber may fall behind before it goes back to the table (default of
/// `ORDERWATCH_FEED_CAPACITY`).
pub const FEED_CAPACITY: usize = 64;

/// What every use case needs. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    /// Reached only through the service functions: callers above never touch the database themselves.
    db: Database,
    pub clock: Arc<dyn Clock>,
    pub feed: Arc<feed::AlertFeed>,
    /// The schedule's tunable rules and calendar.
    pub rules: Arc<crate::domain::schedule::ScheduleRules>,
    /// The group-commit writer of the audit log.
    pub audit: Arc<audit::AuditWriter>,
    /// Reads of an agency's acknowledgement of an alert in flight, shared by deliveries that ask meanwhile.
    pub ack_reads: Arc<alerts::AckReads>,
    /// How live deliveries retry a failed step before interrupting a subscription.
    pub delivery: Arc<delivery::DeliveryRetry>,
    /// The role that must own the audit table on PostgreSQL (`ORDERWATCH_AUDIT_TABLE_OWNER`), if configured.
    pub audit_owner: Option<Arc<str>>,
    /// Whether courts record SPOs made of their own motion (`ORDERWATCH_COURT_MADE_SPO`).
    pub court_made_spo: bool,
    /// Held while a public open-data release is computed: anyone may ask for one and each is expensive, so no more
    /// than one is computed at once and the others are told to come back (`GET /open-data/...`).
    pub open_release: Arc<tokio::sync::Semaphore>,
    /// Delivery to agencies' webhooks and duty inboxes (`endpoints::deliver`).
    pub outbound: Arc<endpoints::deliver::Outbound>,
}

impl Services {
    pub fn new(db: Database, clock: Arc<dyn Clock>) -> Self {
        Self::with_feed_capacity(db, clock, FEED_CAPACITY)
    }

    pub fn with_feed_capacity(db: Database, clock: Arc<dyn Clock>, capacity: usize) -> Self {
        Services {
            audit: Arc::new(audit::AuditWriter::spawn(
                db.clone(),
                std::time::Duration::ZERO,
            )),
            db,
            clock,
            feed: Arc::new(feed::AlertFeed::new(capacity)),
            rules: Arc::default(),
            ack_reads: Arc::default(),
            delivery: Arc::default(),
            audit_owner: None,
            court_made_spo: false,
            open_release: Arc::new(tokio::sync::Semaphore::new(1)),
            outbound: Arc::new(
                endpoints::deliver::Outbound::new(endpoints::EndpointSettings::default())
                    .expect("the default endpoint settings name no SMTP server and build"),
            ),
        }
    }

    /// The same services, checking that `owner` owns the audit table (`ORDERWATCH_AUDIT_TABLE_OWNER`).
    pub fn with_audit_owner(mut self, owner: Option<String>) -> Self {
        self.audit_owner = owner.filter(|o| !o.is_empty()).map(Arc::from);
        self
    }

    /// The same services with an audit writer whose batches of several reads wait up to `window` for more
    /// (`ORDERWATCH_AUDIT_GATHER_US`); the writer started without a wait ends as its last handle goes.
    pub fn with_audit_gather(mut self, window: std::time::Duration) -> Self {
        if !window.is_zero() {
            self.audit = Arc::new(audit::AuditWriter::spawn(self.db.clone(), window));
        }
        self
    }

    /// The same services with this delivery retry window (`ORDERWATCH_DELIVERY_RETRY_MS`).
    pub fn with_delivery_retry(mut self, window: std::time::Duration) -> Self {
        self.delivery = Arc::new(delivery::DeliveryRetry::new(window));
        self
    }

    /// The same services, recording SPOs a court makes of its own motion if `enabled` (`ORDERWATCH_COURT_MADE_SPO`).
    pub fn with_court_made_spo(mut self, enabled: bool) -> Self {
        self.court_made_spo = enabled;
        self
    }

    /// The same services delivering to endpoints with these settings; the error names the setting at fault.
    pub fn with_endpoints(mut self, settings: endpoints::EndpointSettings) -> Result<Self, String> {
        self.outbound = Arc::new(endpoints::deliver::Outbound::new(settings)?);
        Ok(self)
    }

    /// The same services with these schedule rules.
    pub fn with_rules(mut self, rules: crate::domain::schedule::ScheduleRules) -> Self {
        self.rules = Arc::new(rules);
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Starts the alert feed's pump (after the PostgreSQL listener, when there is one), polling every `poll`.
    pub async fn start_feed(&self, poll: std::time::Duration) {
        self.feed.start_pump(self.db.clone(), poll).await;
    }

    /// Checkpoints an SQLite write-ahead log and refreshes its statistics in the background until `stop` turns true.
    pub fn run_upkeep(&self, stop: tokio::sync::watch::Receiver<bool>) {
        self.db.run_upkeep(stop);
    }

    /// For a process about to exit: waits up to `wait` for connections being opened, and opens no more.
    pub async fn stop_connecting(&self, wait: std::time::Duration) -> bool {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.stop_connecting(wait))
            .await
            .unwrap_or(false)
    }

    /// Whether the database answers within `timeout`, and whether it can take a write.
    pub async fn database_health(&self, timeout: std::time::Duration) -> DatabaseHealth {
        if !self.db.ping(timeout).await {
            DatabaseHealth::Down
        } else if !self.db.writable(timeout).await {
            DatabaseHealth::WritesFailing
        } else {
            DatabaseHealth::Up
        }
    }

    /// The database's counters for `/metrics`.
    pub fn database_counters(&self) -> DatabaseCounters {
        let (connections, idle) = self.db.pool_state();
        DatabaseCounters {
            connections,
            idle,
            statements: self.db.statements_sent(),
            pings: self.db.pings_sent(),
        }
    }
}

/// What a readiness probe learns of the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseHealth {
    Up,
    Down,
    /// It answers, but a write fails (an SQLite file on a full disk).
    WritesFailing,
}

/// The database's counters since start-up, and its pool now.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseCounters {
    pub connections: u32,
    pub idle: u32,
    pub statements: u64,
    pub pings: u64,
}

/// Who recorded a change, when, and the optional note given with it (trimmed; blank means none).
pub(crate) fn recorded(who: &Caller, at: DateTime<Utc>, note: Option<String>) -> Recorded {
    Recorded {
        by: who.sub.clone(),
        agency: who.agency.clone(),
        at,
        note: note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
        decided_on: None,
    }
}

/// The caller's own agency must be registered, and of the kind its role acts for.
pub(crate) fn require_own_agency(conn: &mut DbConnection, who: &Caller) -> AppResult<()> {
    if policy::agency_kinds_for(who.role).is_none() {
        return Ok(());
    }
    own_agency_fits(who, db::agencies::find(conn, &who.agency)?)
}

/// [`require_own_agency`] with the caller's agency already known: `Some(Ok)` when it may act, `None` when whether
/// it may depends on an agency not read yet.
pub(crate) fn known_own_agency(db: &db::Database, who: &Caller) -> Option<AppResult<()>> {
    if policy::agency_kinds_for(who.role).is_none() {
        return Some(Ok(()));
    }
    db.known_agency(&who.agency)
        .map(|a| own_agency_fits(who, Some(a)))
}

/// Whether the caller's agency, as read (`None`: not registered), fits its role.
fn own_agency_fits(
    who: &Caller,
    agency: Option<crate::domain::order::AgencyRecord>,
) -> AppResult<()> {
    let Some(expected) = policy::agency_kinds_for(who.role) else {
        return Ok(());
    };
    match agency {
        Some(a) if expected.contains(&a.kind) => Ok(()),
        Some(_) => Err(AppError::forbidden(
            codes::AGENCY_ROLE_MISMATCH,
            format!(
                "agency {} is not a {} agency; the token's role and agency do not fit",
                who.agency,
                expected[0].as_str()
            ),
        )),
        None => Err(AppError::forbidden(
            codes::AGENCY_NOT_REGISTERED,
            format!(
                "agency {} is not registered; an administrator must create it first",
                who.agency
            ),
        )),
    }
}
