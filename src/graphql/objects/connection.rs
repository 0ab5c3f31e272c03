//! The caller, an agency, and the Relay connections every list returns (a page of edges with their cursors).

use crate::domain::order::AgencyRecord;
use crate::graphql::enums::*;
use crate::service::page::{encode_cursor, Page};
use async_graphql::SimpleObject;

/// The caller, as the token says.
#[derive(SimpleObject)]
pub struct Me {
    pub sub: String,
    pub role: Role,
    pub agency: String,
    /// Whether the token holds the supervisory scope (`scope` claim `supervisor`): a POLICE supervisor reads the
    /// force's own `statistics`.
    pub supervisor: bool,
}

/// A police force, court or advocacy service.
#[derive(SimpleObject, Clone)]
pub struct Agency {
    pub code: String,
    pub name: String,
    pub kind: AgencyKind,
}

impl From<AgencyRecord> for Agency {
    fn from(a: AgencyRecord) -> Self {
        Agency {
            code: a.code,
            name: a.name,
            kind: a.kind.into(),
        }
    }
}

#[derive(SimpleObject, Clone)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// Declares a Relay connection type and its edge type for one node type, with any fields of its own (each
/// `Default` until set).
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty $(, $(#[$doc:meta])* $field:ident: $ty:ty)*) => {
        #[derive(SimpleObject)]
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
        }

        /// A Relay connection: a page of edges and where it stands.
        #[derive(SimpleObject)]
        pub struct $conn {
            pub edges: Vec<$edge>,
            pub page_info: PageInfo,
            $($(#[$doc])* pub $field: $ty,)*
        }

        impl $conn {
            /// Builds the connection from a page whose items know their own full cursor.
            pub fn build_with<R>(
                page: Page<R>,
                cursor: impl Fn(&R) -> String,
                node: impl Fn(R) -> $node,
            ) -> Self {
                let edges: Vec<$edge> = page
                    .items
                    .into_iter()
                    .map(|r| $edge {
                        cursor: cursor(&r),
                        node: node(r),
                    })
                    .collect();
                let page_info = PageInfo {
                    has_next_page: page.has_next_page,
                    has_previous_page: false,
                    start_cursor: edges.first().map(|e| e.cursor.clone()),
                    end_cursor: edges.last().map(|e| e.cursor.clone()),
                };
                $conn {
                    edges,
                    page_info,
                    $($field: Default::default(),)*
                }
            }

            /// Builds the connection from a page; `key` gives each item's cursor key, `node` its GraphQL object.
            pub fn build<R>(
                kind: &str,
                page: Page<R>,
                key: impl Fn(&R) -> String,
                node: impl Fn(R) -> $node,
            ) -> Self {
                Self::build_with(page, |r| encode_cursor(kind, &key(r)), node)
            }
        }
    };
}

connection!(OrderConnection, OrderEdge, super::order::ProtectionOrder);
connection!(AgencyConnection, AgencyEdge, Agency);
connection!(
    AlertConnection,
    AlertEdge,
    super::alert::Alert,
    /// Subscribe with `alerts(after: resumeCursor)` to receive every alert raised after this list was read, with no
    /// gap: where the stream of alerts stood at that moment, whatever the filter and order.
    resume_cursor: String
);
connection!(DeadlineConnection, DeadlineEdge, super::deadline::Deadline);
connection!(
    AuditEventConnection,
    AuditEventEdge,
    super::audit::AuditEvent
);
