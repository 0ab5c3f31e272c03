//! The live feed's read of new alerts, each with its order's reference and force and the services its order is
//! shared with.

use super::to_record;
use crate::db::models::AlertRow;
use crate::db::schema::order_shares;
use crate::db::DbConnection;
use crate::domain::alert::AlertRecord;
use crate::error::AppResult;
use diesel::prelude::*;
use std::collections::HashMap;

/// An alert as the live feed hands it to every subscriber of a process, with the services it is shared with when
/// read (each advocate delivery checks consent again before it is sent).
#[derive(Debug, Clone)]
pub struct FeedAlert {
    pub alert: AlertRecord,
    pub shared_with: Vec<String>,
    /// The consent epoch before this was read (see `service::feed`); set by the feed.
    pub consent_epoch: u64,
}

/// Every alert after `after_seq`, for the live feed, in one statement, and one more for the services their orders
/// are shared with whenever it finds any alert (most polls find none).
pub fn feed_after(
    conn: &mut DbConnection,
    after_seq: i64,
    limit: i64,
) -> AppResult<Vec<FeedAlert>> {
    let rows: Vec<AlertRecord> = FeedQuery { after_seq, limit }
        .load::<FeedRow>(conn)?
        .into_iter()
        .map(|r| to_record((r.alert, r.reference, r.applicant_agency)))
        .collect::<AppResult<_>>()?;
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let mut order_ids: Vec<String> = rows.iter().map(|a| a.order_id.clone()).collect();
    order_ids.sort();
    order_ids.dedup();
    let mut shares: HashMap<String, Vec<String>> = HashMap::new();
    for (order_id, agency) in order_shares::table
        .filter(order_shares::order_id.eq_any(&order_ids))
        .filter(order_shares::revoked_at.is_null())
        .select((order_shares::order_id, order_shares::advocacy_agency))
        .load::<(String, String)>(conn)?
    {
        shares.entry(order_id).or_default().push(agency);
    }
    Ok(rows
        .into_iter()
        .map(|alert| FeedAlert {
            shared_with: shares.get(&alert.order_id).cloned().unwrap_or_default(),
            alert,
            consent_epoch: 0,
        })
        .collect())
}

/// The live feed's read: the alerts after a `seq`, along the key, then each one's order by its id. The alerts are
/// chosen in a subquery with its own `LIMIT`, which neither backend can turn round: joined directly, SQLite with
/// statistics taken before the first alert (`ANALYZE` on a new deployment) made the orders the outer loop and read
/// the whole table on every poll (docs/decisions/0007-statements-shaped-for-plans-that-stay-good.md). The limit is
/// written into the text, so each connection keeps the statement prepared.
struct FeedQuery {
    after_seq: i64,
    limit: i64,
}

const FEED_SELECT: &str = "SELECT new_alerts.seq AS seq, new_alerts.id AS id, new_alerts.dedup_key AS dedup_key, \
new_alerts.kind AS kind, new_alerts.severity AS severity, new_alerts.order_id AS order_id, \
new_alerts.breach_id AS breach_id, new_alerts.due_at AS due_at, new_alerts.created_at AS created_at, \
new_alerts.late AS late, new_alerts.late_by_seconds AS late_by_seconds, orders.reference AS reference, \
orders.applicant_agency AS applicant_agency FROM (SELECT seq, id, dedup_key, kind, severity, order_id, breach_id, \
due_at, created_at, late, late_by_seconds FROM alerts WHERE seq > ";

/// A row of [`FeedQuery`].
#[derive(QueryableByName)]
struct FeedRow {
    #[diesel(embed)]
    alert: AlertRow,
    #[diesel(sql_type = diesel::sql_types::Text)]
    reference: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    applicant_agency: String,
}

impl diesel::query_builder::QueryId for FeedQuery {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for FeedQuery {
    type SqlType = diesel::sql_types::Untyped;
}

impl<C> RunQueryDsl<C> for FeedQuery {}

impl<DB> diesel::query_builder::QueryFragment<DB> for FeedQuery
where
    DB: diesel::backend::Backend,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql(FEED_SELECT);
        out.push_bind_param::<diesel::sql_types::BigInt, i64>(&self.after_seq)?;
        out.push_sql(" ORDER BY seq LIMIT ");
        out.push_sql(&self.limit.to_string());
        out.push_sql(
            ") new_alerts INNER JOIN orders ON orders.id = new_alerts.order_id ORDER BY new_alerts.seq",
        );
        Ok(())
    }
}
