//! Who is calling: the validated token as a [`Principal`], and the policy that says what a principal may do and
//! see. Policy functions are pure and live in [`policy`]; resolvers and services ask them, never re-derive rules.

pub mod claims;
pub mod jwt;
mod keyfile;
pub mod policy;
mod remote;
pub mod scope;
mod verified;

use std::fmt;
use std::str::FromStr;

/// A caller's role, from the token's `role` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Court,
    Police,
    Advocate,
    Admin,
    Auditor,
    /// Aggregate statistics across forces; no order, person or reference.
    Analyst,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Court,
        Role::Police,
        Role::Advocate,
        Role::Admin,
        Role::Auditor,
        Role::Analyst,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Court => "COURT",
            Role::Police => "POLICE",
            Role::Advocate => "ADVOCATE",
            Role::Admin => "ADMIN",
            Role::Auditor => "AUDITOR",
            Role::Analyst => "ANALYST",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown role {s:?}; expected one of {}", known.join(", "))
            })
    }
}

/// An authenticated caller: the token's subject, role and agency, and whether it holds the supervisory scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub sub: String,
    pub role: Role,
    pub agency: String,
    /// The token's `scope` claim holds [`scope::SUPERVISOR_SCOPE`]: a police supervisor, who may read the force's own
    /// statistics.
    pub supervisor: bool,
}

/// A principal making one request: who, plus what the audit log records about the request (its id, and the
/// reason the caller gave, from `X-Orderwatch-Reason` or a `reason` argument). Derefs to the [`Principal`], so
/// policy functions take either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub principal: Principal,
    pub request_id: String,
    pub reason: Option<String>,
    /// The id the client gave the request (`X-Request-Id`), kept beside the server's own.
    pub correlation_id: Option<String>,
}

/// Longest reason a caller may give for a request.
pub const MAX_REASON_LEN: usize = 500;

impl Caller {
    pub fn new(
        principal: Principal,
        request_id: impl Into<String>,
        reason: Option<String>,
    ) -> Caller {
        let reason = reason
            .map(|r| {
                r.trim()
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(MAX_REASON_LEN)
                    .collect::<String>()
            })
            .filter(|r| !r.is_empty());
        Caller {
            principal,
            request_id: request_id.into(),
            reason,
            correlation_id: None,
        }
    }

    /// The same caller, with the id the client gave its request.
    pub fn with_correlation(mut self, correlation_id: Option<String>) -> Caller {
        self.correlation_id = correlation_id;
        self
    }
}

impl std::ops::Deref for Caller {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.principal
    }
}

/// Work started inside the service (seed data, scheduled checks, tests) rather than by a request.
impl From<Principal> for Caller {
    fn from(principal: Principal) -> Caller {
        Caller {
            principal,
            request_id: "internal".into(),
            reason: None,
            correlation_id: None,
        }
    }
}

pub use crate::domain::validation::valid_agency_code;
