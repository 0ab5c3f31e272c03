//! Use cases. Each public function checks the caller's right to call it, validates its input, runs its unit of
//! work in one transaction, and returns whole records. Nothing is written when any check fails.

pub mod agencies;
pub mod orders;
pub mod page;
pub mod seed;

use crate::db::Database;
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

/// What every use case needs. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub db: Database,
    pub clock: Arc<dyn Clock>,
}

impl Services {
    pub fn new(db: Database, clock: Arc<dyn Clock>) -> Self {
        Services { db, clock }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
