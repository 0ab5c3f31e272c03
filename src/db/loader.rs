//! Reading orders whole: by reference, id or search, with their parts and the histories asked for, in a fixed number
//! of statements whatever the number of orders. The top of `db`: it uses the table modules.

use super::codec::parse_code;
use super::models::*;
use super::schema::{order_shares, order_versions, orders, subject_names};
use super::DbConnection;
use crate::domain::order::*;
use crate::domain::scope::{OrderSearch, RowScope};
use crate::domain::OrderStatus;
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use diesel::prelude::*;
use std::collections::HashMap;

type Db = <DbConnection as Connection>::Backend;
/// The bare row of the order with this reference (no hydration): for checks before a change, and the first read
/// of a lookup (`find_parts_by_reference`).
///
/// Without a `LIMIT` (the reference is unique): diesel binds a limit as a parameter, and SQLite 3.50 expires a
/// statement whose bound limit may shape its plan each time the limit is bound, so `.first()` here was compiled
/// again on every lookup, a large share of the server's instructions per lookup
/// (docs/decisions/0007-statements-shaped-for-plans-that-stay-good.md).
pub fn find_row(conn: &mut DbConnection, reference: &str) -> AppResult<Option<OrderRow>> {
    Ok(orders::table
        .filter(orders::reference.eq(reference))
        .select(OrderRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// One page of orders, newest first (ids are time-ordered UUIDv7), strictly after `after_id`.
pub fn search(
    conn: &mut DbConnection,
    scope: &RowScope,
    filter: &OrderSearch,
    today: NaiveDate,
    after_id: Option<&str>,
    limit: i64,
    parts: OrderParts,
) -> AppResult<Vec<OrderRecord>> {
    let mut q = orders::table
        .select(OrderRow::as_select())
        .into_boxed::<Db>();
    match scope {
        RowScope::All => {}
        RowScope::Court(code) => {
            q = q.filter(
                orders::court_agency.eq(code.clone()).or(orders::id.eq_any(
                    super::schema::hearings::table
                        .filter(super::schema::hearings::court_agency.eq(code.clone()))
                        .select(super::schema::hearings::order_id),
                )),
            )
        }
        RowScope::SharedWith(code) => {
            q = q.filter(
                orders::id.eq_any(
                    order_shares::table
                        .filter(order_shares::advocacy_agency.eq(code.clone()))
                        .filter(order_shares::revoked_at.is_null())
                        .select(order_shares::order_id),
                ),
            )
        }
        RowScope::Nothing => return Ok(vec![]),
    }
    if let Some(key) = &filter.subject_name_key {
        q = q.filter(
            orders::id.eq_any(
                subject_names::table
                    .filter(subject_names::name_key.eq(key.clone()))
                    .select(subject_names::order_id),
            ),
        );
    }
    if let Some(dob) = filter.subject_date_of_birth {
        q = q.filter(orders::subject_date_of_birth.eq(dob));
    }
    if let Some(t) = filter.order_type {
        q = q.filter(orders::order_type.eq(t.as_str()));
    }
    if let Some(status) = filter.status {
        let in_force = OrderStatus::InForce.as_str();
        q = match status {
            OrderStatus::InForce => q.filter(
                orders::status.eq(in_force).and(
                    orders::expires_on
                        .is_null()
                        .or(orders::expires_on.ge(today)),
                ),
            ),
            OrderStatus::Expired => q.filter(
                orders::status
                    .eq(OrderStatus::Expired.as_str())
                    .or(orders::status
                        .eq(in_force)
                        .and(orders::expires_on.lt(today))),
            ),
            other => q.filter(orders::status.eq(other.as_str())),
        };
    }
    if let Some(a) = &filter.applicant_agency {
        q = q.filter(orders::applicant_agency.eq(a.clone()));
    }
    if let Some(c) = &filter.court_agency {
        q = q.filter(orders::court_agency.eq(c.clone()));
    }
    if let Some(d) = filter.expires_before {
        q = q.filter(orders::expires_on.lt(d));
    }
    if let Some(d) = filter.expires_after {
        q = q.filter(orders::expires_on.gt(d));
    }
    if let Some(after) = after_id {
        q = q.filter(orders::id.lt(after.to_string()));
    }
    let rows = super::limit_written(q.order(orders::id.desc()), limit).load(conn)?;
    hydrate_parts(conn, rows, parts)
}

/// The whole order with this id.
pub fn find_by_id(conn: &mut DbConnection, id: &str) -> AppResult<Option<OrderRecord>> {
    let row = orders::table
        .find(id)
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        Some(r) => hydrate(conn, vec![r])?.pop(),
        None => None,
    })
}

/// The whole orders with these ids, in the order given (missing ones left out).
pub fn find_by_ids(conn: &mut DbConnection, ids: &[String]) -> AppResult<Vec<OrderRecord>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let rows = orders::table
        .filter(orders::id.eq_any(ids))
        .select(OrderRow::as_select())
        .load(conn)?;
    let mut by_id: HashMap<String, OrderRecord> = hydrate(conn, rows)?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// The whole order with this reference.
pub fn find_by_reference(
    conn: &mut DbConnection,
    reference: &str,
) -> AppResult<Option<OrderRecord>> {
    find_parts_by_reference(conn, reference, OrderParts::ALL)
}

/// The order with this reference, with the histories `parts` asks for.
pub fn find_parts_by_reference(
    conn: &mut DbConnection,
    reference: &str,
    parts: OrderParts,
) -> AppResult<Option<OrderRecord>> {
    let Some(row) = find_row(conn, reference)? else {
        return Ok(None);
    };
    Ok(hydrate_parts(conn, vec![row], parts)?.pop())
}

/// Loads everything the rows' orders carry, in a fixed number of statements whatever the number of rows.
fn hydrate(conn: &mut DbConnection, rows: Vec<OrderRow>) -> AppResult<Vec<OrderRecord>> {
    hydrate_parts(conn, rows, OrderParts::ALL)
}

/// Loads what the rows' orders carry, the histories only as `parts` asks, in a fixed number of statements
/// whatever the number of rows.
fn hydrate_parts(
    conn: &mut DbConnection,
    rows: Vec<OrderRow>,
    parts: OrderParts,
) -> AppResult<Vec<OrderRecord>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();

    // Names, persons, conditions, live shares and hearings: one statement for all five (`db::parts`).
    let loaded = super::parts::for_orders(conn, &ids)?;
    let mut names: HashMap<String, Vec<String>> = HashMap::new();
    for n in loaded.subject_names {
        names.entry(n.order_id).or_default().push(n.name);
    }
    let mut persons: HashMap<String, Vec<ProtectedPersonRecord>> = HashMap::new();
    for p in loaded.protected_persons {
        persons
            .entry(p.order_id)
            .or_default()
            .push(ProtectedPersonRecord {
                id: p.id,
                name: p.name,
                date_of_birth: p.date_of_birth,
                contact: p.contact,
            });
    }
    let mut conds: HashMap<String, Vec<ConditionRecord>> = HashMap::new();
    for c in loaded.conditions {
        conds.entry(c.order_id).or_default().push(ConditionRecord {
            kind: parse_code(&c.kind, "conditions.kind")?,
            id: c.id,
            text: c.text,
            expires_on: c.expires_on,
            added_in_version: c.added_in_version,
            removed_in_version: c.removed_in_version,
        });
    }
    let mut shares: HashMap<String, Vec<ShareRecord>> = HashMap::new();
    for r in loaded.shares {
        shares
            .entry(r.order_id.clone())
            .or_default()
            .push(super::shares::to_record(r));
    }
    let mut hearings: HashMap<String, Vec<HearingRecord>> = HashMap::new();
    for r in loaded.hearings {
        hearings
            .entry(r.order_id.clone())
            .or_default()
            .push(super::schedule::hearing_record(r)?);
    }

    let mut versions: HashMap<String, Vec<VersionRecord>> = HashMap::new();
    let version_rows = if parts.versions {
        order_versions::table
            .filter(order_versions::order_id.eq_any(&ids))
            .order((order_versions::order_id, order_versions::version))
            .select(VersionRow::as_select())
            .load(conn)?
    } else {
        vec![]
    };
    for v in version_rows {
        versions.entry(v.order_id).or_default().push(VersionRecord {
            version: v.version,
            event: parse_code(&v.event, "order_versions.event")?,
            status: parse_code(&v.status, "order_versions.status")?,
            expires_on: v.expires_on,
            recorded_at: v.recorded_at.and_utc(),
            recorded_by: v.recorded_by,
            recorded_by_agency: v.recorded_by_agency,
            note: v.note,
            decided_on: v.decided_on,
        });
    }

    let mut agency_codes: Vec<String> = rows
        .iter()
        .flat_map(|r| std::iter::once(r.applicant_agency.clone()).chain(r.court_agency.clone()))
        .collect();
    agency_codes.sort();
    agency_codes.dedup();
    let agencies = super::agencies::find_many(conn, &agency_codes)?;

    // Links between replaced and replacing orders: only looked up when a loaded order has one.
    let replaces_ids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.replaces_order_id.clone())
        .collect();
    let replaces_refs: HashMap<String, String> = if replaces_ids.is_empty() {
        HashMap::new()
    } else {
        orders::table
            .filter(orders::id.eq_any(&replaces_ids))
            .select((orders::id, orders::reference))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect()
    };
    let replaced: Vec<String> = rows
        .iter()
        .filter(|r| r.status == OrderStatus::Replaced.as_str())
        .map(|r| r.id.clone())
        .collect();
    let replaced_by: HashMap<String, String> = if replaced.is_empty() {
        HashMap::new()
    } else {
        orders::table
            .filter(orders::replaces_order_id.eq_any(&replaced))
            .select((
                orders::replaces_order_id.assume_not_null(),
                orders::reference,
            ))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect()
    };

    let mut breaches = if parts.breaches {
        super::breaches::for_orders(conn, &ids)?
    } else {
        HashMap::new()
    };
    let (mut notifications, mut deadlines) = super::schedule::for_orders(conn, &ids, parts)?;

    let agency = |code: &str| {
        agencies
            .get(code)
            .cloned()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("order refers to a missing agency")))
    };
    rows.into_iter()
        .map(|r| {
            Ok(OrderRecord {
                order_type: parse_code(&r.order_type, "orders.order_type")?,
                status: parse_code(&r.status, "orders.status")?,
                applicant: agency(&r.applicant_agency)?,
                court: r.court_agency.as_deref().map(agency).transpose()?,
                subject_names: names.remove(&r.id).unwrap_or_default(),
                protected_persons: persons.remove(&r.id).unwrap_or_default(),
                conditions: conds.remove(&r.id).unwrap_or_default(),
                versions: versions.remove(&r.id).unwrap_or_default(),
                service: ServiceRecord {
                    status: parse_code(&r.service_status, "orders.service_status")?,
                    served_at: r.served_at.map(|t| t.and_utc()),
                    method: r
                        .service_method
                        .as_deref()
                        .map(|m| parse_code(m, "orders.service_method"))
                        .transpose()?,
                    served_by_agency: r.served_by_agency,
                    served_by: r.served_by,
                },
                replaces_reference: r
                    .replaces_order_id
                    .as_ref()
                    .and_then(|id| replaces_refs.get(id).cloned()),
                replaced_by_reference: replaced_by.get(&r.id).cloned(),
                shares: shares.remove(&r.id).unwrap_or_default(),
                breaches: breaches.remove(&r.id).unwrap_or_default(),
                notifications: notifications.remove(&r.id).unwrap_or_default(),
                hearings: hearings.remove(&r.id).unwrap_or_default(),
                deadlines: deadlines.remove(&r.id).unwrap_or_default(),
                made_on: r.made_on,
                expires_on: r.expires_on,
                subject_date_of_birth: r.subject_date_of_birth,
                version: r.version,
                created_at: r.created_at.and_utc(),
                updated_at: r.updated_at.and_utc(),
                reference: r.reference,
                id: r.id,
                loaded: parts,
            })
        })
        .collect()
}
