//! The integration suite: one binary, the real server on port 0, a real HTTP client. Runs on SQLite by default and
//! on PostgreSQL with `TEST_DATABASE_URL=postgres://...` (see `.ci/run`).

mod access;
mod alerts;
mod applications;
mod architecture;
mod audit;
mod audit_trail;
mod auth;
mod awareness;
mod breaches;
mod cli;
mod console;
mod court_motion;
mod deadlines;
mod delivery;
mod disk;
mod docs;
mod faults;
mod grant;
mod hardening;
mod helpers;
mod interim;
mod lifecycle;
mod limits;
mod listing;
mod nesting;
mod other_orders;
mod other_regime;
mod patterns;
mod plans;
mod replicas;
mod schema;
mod statistics;
mod tamper;
mod tokens;
mod variation_notice;
