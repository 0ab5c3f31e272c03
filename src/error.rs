//! The one error type at the service boundary, and the policy for it.
//!
//! Policy: every failure a client can see is an [`AppError`] variant with a stable `extensions.code` (and, for
//! validation, one code per broken rule). Internal failures (database, IO, bugs) become [`AppError::Internal`]: the
//! client gets "internal error" and the request id, and the full cause chain is logged once where it is handled.
//! Nothing converts a diesel or IO error into client text implicitly: async-graphql would put its `Display` (with
//! SQL) into the message, so the GraphQL layer only ever sees `AppError`.
//! Messages never contain personal data (names, addresses, contact details, narratives) or secrets.

use crate::codes;
use crate::domain::Violations;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input breaks one or more rules; nothing was changed.
    #[error("{}", .0.0.first().map(|v| v.message.as_str()).unwrap_or("invalid input"))]
    Validation(Violations),
    /// The object does not exist, or the caller may not know that it exists.
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// The caller is known but may not do this.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// The request clashes with the current state (a taken reference, an order no longer in force).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A dependency (the database) is not answering; the request may be retried.
    #[error("service unavailable, retry later")]
    Unavailable(#[source] anyhow::Error),
    /// A live subscription could not deliver an alert within its retry window: it ends, and the client must
    /// reconnect and resume from the last cursor it received (nothing is skipped).
    #[error("an alert could not be delivered; reconnect and resume from your last cursor")]
    DeliveryInterrupted(#[source] anyhow::Error),
    /// A bug or an unexpected failure; details are logged, never sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// The stable code clients match on (`extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(v) => v.0.first().map(|v| v.code).unwrap_or("VALIDATION"),
            AppError::NotFound { .. } => codes::NOT_FOUND,
            AppError::Forbidden { code, .. } => code,
            AppError::Unauthenticated(_) => codes::UNAUTHENTICATED,
            AppError::Conflict { code, .. } => code,
            AppError::Unavailable(_) => codes::UNAVAILABLE,
            AppError::DeliveryInterrupted(_) => DELIVERY_INTERRUPTED,
            AppError::Internal(_) => codes::INTERNAL,
        }
    }

    /// The broad class of the error (`extensions.category`), for clients that only care about the kind.
    pub fn category(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "VALIDATION",
            AppError::NotFound { .. } => codes::NOT_FOUND,
            AppError::Forbidden { .. } => codes::FORBIDDEN,
            AppError::Unauthenticated(_) => codes::UNAUTHENTICATED,
            AppError::Conflict { .. } => "CONFLICT",
            AppError::Unavailable(_) | AppError::DeliveryInterrupted(_) => codes::UNAVAILABLE,
            AppError::Internal(_) => codes::INTERNAL,
        }
    }

    pub fn validation(
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let mut v = Violations::default();
        v.push(code, field, message);
        AppError::Validation(v)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Forbidden {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<Violations> for AppError {
    fn from(v: Violations) -> Self {
        AppError::Validation(v)
    }
}

/// Database errors are internal unless a caller maps an expected one (a unique key) first.
impl From<diesel::result::Error> for AppError {
    /// A database that cannot answer now but may in a moment is `UNAVAILABLE`, which a client may retry; any other
    /// database error is internal.
    fn from(e: diesel::result::Error) -> Self {
        if retryable(&e) {
            AppError::Unavailable(e.into())
        } else {
            AppError::Internal(e.into())
        }
    }
}

/// Messages of database errors that pass once the database recovers: PostgreSQL's session timeouts (a lock held
/// by a frozen replica, a statement or transaction over its bound) and SQLite's full disk or busy lock. diesel
/// reports these as `Unknown` with the server's text and no SQLSTATE, so the text is matched (PostgreSQL's
/// messages are its default English ones; `lc_messages` is left as the server has it).
const RETRYABLE_MESSAGES: &[&str] = &[
    "canceling statement due to lock timeout",
    "canceling statement due to statement timeout",
    "terminating connection due to idle-in-transaction timeout",
    "database or disk is full",
    "disk I/O error",
    "database is locked",
];

/// Whether a database error is one a retry may get past (a lost connection, a session timeout, a full disk).
pub fn retryable(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        Error::DatabaseError(DatabaseErrorKind::Unknown, info) => RETRYABLE_MESSAGES
            .iter()
            .any(|m| info.message().starts_with(m)),
        Error::RollbackErrorOnCommit { commit_error, .. } => retryable(commit_error),
        _ => false,
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// The code of [`AppError::DeliveryInterrupted`]: the websocket transport closes the connection on it (1013), so a
/// client that only resumes when its socket drops resumes too.
pub use crate::codes::DELIVERY_INTERRUPTED;

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    #[test]
    fn a_lost_database_connection_is_unavailable_and_other_database_errors_internal() {
        let lost =
            |kind| Error::DatabaseError(kind, Box::new("server closed the connection".to_string()));
        assert_eq!(
            AppError::from(lost(DatabaseErrorKind::ClosedConnection)).code(),
            "UNAVAILABLE"
        );
        assert_eq!(
            AppError::from(lost(DatabaseErrorKind::UnableToSendCommand)).code(),
            "UNAVAILABLE"
        );
        assert_eq!(
            AppError::from(lost(DatabaseErrorKind::UniqueViolation)).code(),
            "INTERNAL"
        );
        assert_eq!(AppError::from(Error::NotFound).code(), "INTERNAL");
    }

    #[test]
    fn session_timeouts_and_a_full_disk_are_unavailable() {
        let unknown = |text: &str| {
            Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new(text.to_string()))
        };
        for text in [
            "canceling statement due to lock timeout",
            "canceling statement due to statement timeout",
            "terminating connection due to idle-in-transaction timeout",
            "database or disk is full",
            "database is locked",
        ] {
            assert_eq!(
                AppError::from(unknown(text)).code(),
                "UNAVAILABLE",
                "{text}"
            );
        }
        assert_eq!(
            AppError::from(unknown("syntax error at or near")).code(),
            "INTERNAL"
        );
        let commit = Error::RollbackErrorOnCommit {
            rollback_error: Box::new(Error::BrokenTransactionManager),
            commit_error: Box::new(unknown("database or disk is full")),
        };
        assert_eq!(AppError::from(commit).code(), "UNAVAILABLE");
    }
}
