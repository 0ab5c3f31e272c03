//! orderwatch: the shared record of stalking protection orders and related protection orders in England and Wales.
//!
//! Layers (each could become a crate): `domain` (pure rules) <- `db` (the only diesel user) <- `service` (use cases,
//! transactions) <- `graphql` and `http` (the API) <- `startup` (wiring). `main.rs` is the CLI.

pub mod auth;
pub mod codes;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod secret;
pub mod service;
pub mod startup;
