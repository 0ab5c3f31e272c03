//! The object types of the API: what an order, a breach, an alert, a deadline and an audit entry look like to each
//! role, with the field-level checks of `auth::policy`. Operations (queries, mutations, subscriptions) live a level
//! up, one file per area, and use these; nothing here uses an operation.

pub mod alert;
pub mod application;
pub mod audit;
pub mod breach;
pub mod connection;
pub mod deadline;
pub mod order;
mod order_parts;
pub mod statistics;
