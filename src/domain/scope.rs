//! What a caller may ask for: the rows a role may see (decided by `auth::policy`) and the filters each list accepts.
//! They are plain values, so the policy and the API speak of them without knowing how the database answers them.

use crate::domain::alert::AlertKind;
use crate::domain::audit::AuditOperation;
use crate::domain::schedule::{DeadlineKind, DeadlineStatus};
use crate::domain::status::OrderStatus;
use crate::domain::OrderType;
use chrono::{DateTime, NaiveDate, Utc};

/// Which orders a caller's role may list at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowScope {
    /// Every order (police: orders are enforceable everywhere).
    All,
    /// Orders made by this court, and notices whose application it hears (it listed a hearing).
    Court(String),
    /// Orders shared now with this advocacy service.
    SharedWith(String),
    /// None (a role with no order access yet).
    Nothing,
}

/// Filters of an order search. `status` means the effective status on `today` (see `domain::status`).
#[derive(Debug, Clone, Default)]
pub struct OrderSearch {
    pub subject_name_key: Option<String>,
    pub subject_date_of_birth: Option<NaiveDate>,
    pub order_type: Option<OrderType>,
    pub status: Option<OrderStatus>,
    pub applicant_agency: Option<String>,
    pub court_agency: Option<String>,
    pub expires_before: Option<NaiveDate>,
    pub expires_after: Option<NaiveDate>,
    pub service_status: Option<super::ServiceStatus>,
}

/// The order a caller asks a list of orders in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderSort {
    #[default]
    Newest,
    EndingSoonest,
}

/// Where a page of orders starts, in the order the caller asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderCursor {
    /// Newest first (ids are time-ordered): the orders recorded before the one with this id, or from the newest.
    Newest(Option<String>),
    /// Ending soonest: by last day, earliest first, then those with no last day (indefinite or until an event);
    /// ties by id. After this order's last day (or none) and id, or from the start.
    EndingSoonest(Option<(Option<NaiveDate>, String)>),
}

/// Who is asking for alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertAudience {
    /// A police force: alerts of its managing-force kinds on orders it applied for.
    Force(String),
    /// An advocacy service: alerts of its kinds on orders shared with it now.
    Advocate(String),
    Nothing,
}

#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub kinds: Option<Vec<AlertKind>>,
    pub order_reference: Option<String>,
    pub unacknowledged_only: bool,
    /// Newest first, from before the cursor, instead of oldest first from after it.
    pub newest_first: bool,
}

/// Which deadlines a caller may list.
#[derive(Debug, Clone)]
pub enum DeadlineScope {
    /// A force: deadlines of the orders it manages, every kind.
    Force(String),
    /// A court: its own orders' deadlines, not notifications.
    Court(String),
    /// An advocacy service: shared orders' deadlines, not notifications.
    SharedWith(String),
    Nothing,
}

#[derive(Debug, Clone, Default)]
pub struct DeadlineFilter {
    pub kinds: Option<Vec<DeadlineKind>>,
    /// The status as shown at `now`.
    pub status: Option<DeadlineStatus>,
    pub due_before: Option<DateTime<Utc>>,
    pub due_after: Option<DateTime<Utc>>,
    pub order_reference: Option<String>,
}

/// Filters of the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_sub: Option<String>,
    pub actor_agency: Option<String>,
    pub object_id: Option<String>,
    pub operation: Option<AuditOperation>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Whose figures a caller may read in `statistics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatisticsScope {
    /// Every force's.
    All,
    /// One force's (the orders it applied for or issued).
    Force(String),
    Nothing,
}
