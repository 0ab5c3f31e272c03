//! The explicit mapping from [`AppError`] to a GraphQL error: message, `extensions.code`, `extensions.category`,
//! and for validation the full list of broken rules. Internal causes are logged here, once, and never sent.

use crate::error::AppError;
use async_graphql::{Error, ErrorExtensions, Value};

/// Code of a sensitive field the caller may not read; the field is null.
pub use crate::codes::FORBIDDEN_FIELD;
/// Code given to errors async-graphql raises itself (syntax, unknown fields, wrong argument types).
pub use crate::codes::GRAPHQL_VALIDATION_FAILED;

pub fn to_graphql(e: AppError) -> Error {
    match &e {
        AppError::Internal(cause)
        | AppError::Unavailable(cause)
        | AppError::DeliveryInterrupted(cause) => {
            tracing::error!(
                error.code = e.code(),
                error.cause = format!("{cause:#}"),
                "request failed"
            );
        }
        _ => {}
    }
    let code = e.code();
    let category = e.category();
    let violations = match &e {
        AppError::Validation(v) => Some(v.0.clone()),
        _ => None,
    };
    Error::new(e.to_string()).extend_with(|_, ext| {
        ext.set("code", code);
        ext.set("category", category);
        if let Some(list) = &violations {
            ext.set(
                "violations",
                Value::List(
                    list.iter()
                        .map(|v| {
                            let mut m = async_graphql::indexmap::IndexMap::new();
                            m.insert(async_graphql::Name::new("code"), Value::from(v.code));
                            m.insert(
                                async_graphql::Name::new("field"),
                                Value::from(v.field.clone()),
                            );
                            m.insert(
                                async_graphql::Name::new("message"),
                                Value::from(v.message.clone()),
                            );
                            Value::Object(m)
                        })
                        .collect(),
                ),
            );
        }
    })
}

/// `?`-friendly conversion for resolver results.
pub trait GqlResultExt<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResultExt<T> for Result<T, AppError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(to_graphql)
    }
}

/// The error of a sensitive field the caller may not read.
pub fn forbidden_field(field: &str) -> Error {
    Error::new(format!("{field} is not available to this caller")).extend_with(|_, ext| {
        ext.set("code", FORBIDDEN_FIELD);
        ext.set("category", "FORBIDDEN");
    })
}
