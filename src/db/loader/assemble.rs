//! An order record put together from its row and its parts: one statement for the parts every order has, and one
//! each for the histories asked for (`OrderParts`), whatever the number of orders.

use crate::db::codec::parse_code;
use crate::db::models::*;
use crate::db::parts::Parts;
use crate::db::schema::{order_versions, orders};
use crate::db::DbConnection;
use crate::domain::order::*;
use crate::domain::OrderStatus;
use crate::error::{AppError, AppResult};
use diesel::prelude::*;
use std::collections::HashMap;

/// Loads what the rows' orders carry, the histories only as `parts` asks, in a fixed number of statements
/// whatever the number of rows.
pub(super) fn hydrate_parts(
    conn: &mut DbConnection,
    rows: Vec<OrderRow>,
    parts: OrderParts,
) -> AppResult<Vec<OrderRecord>> {
    hydrate_loaded(conn, rows, None, parts)
}

/// As [`hydrate_parts`], with the parts every order has already read (`loaded`) when they were read with the rows.
pub(super) fn hydrate_loaded(
    conn: &mut DbConnection,
    rows: Vec<OrderRow>,
    loaded: Option<Parts>,
    parts: OrderParts,
) -> AppResult<Vec<OrderRecord>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let loaded = match loaded {
        Some(loaded) => loaded,
        None => crate::db::parts::for_orders(conn, &ids, parts)?,
    };
    let mut found = Found::from_loaded(loaded)?;
    found.load_histories(conn, &rows, &ids, parts)?;
    let mut agency_codes: Vec<String> = rows
        .iter()
        .flat_map(|r| std::iter::once(r.applicant_agency.clone()).chain(r.court_agency.clone()))
        .collect();
    agency_codes.sort();
    agency_codes.dedup();
    let agencies = crate::db::agencies::find_many(conn, &agency_codes)?;
    let agency = |code: &str| {
        agencies
            .get(code)
            .cloned()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("order refers to a missing agency")))
    };
    rows.into_iter()
        .map(|r| {
            let applicant = agency(&r.applicant_agency)?;
            let court = r.court_agency.as_deref().map(agency).transpose()?;
            found.assemble(r, applicant, court, parts)
        })
        .collect()
}

/// What belongs to a set of orders, by order id, taken out as each order is assembled.
#[derive(Default)]
struct Found {
    names: HashMap<String, Vec<String>>,
    persons: HashMap<String, Vec<ProtectedPersonRecord>>,
    conditions: HashMap<String, Vec<ConditionRecord>>,
    shares: HashMap<String, Vec<ShareRecord>>,
    hearings: HashMap<String, Vec<HearingRecord>>,
    versions: HashMap<String, Vec<VersionRecord>>,
    breaches: HashMap<String, Vec<BreachRecord>>,
    notifications: HashMap<String, Vec<NotificationRecord>>,
    deadlines: HashMap<String, Vec<DeadlineRecord>>,
    /// The reference of the order each order replaces, by the replaced order's id.
    replaces: HashMap<String, String>,
    /// The reference of the order that replaced each replaced order, by its id.
    replaced_by: HashMap<String, String>,
}

/// The orders assembled from their rows and the parts read with them, when that takes no further statement: no
/// history asked for, no replaced or replacing order to name, and every agency known (`agency` answers from memory).
/// Otherwise the rows and parts come back unchanged, for [`hydrate_loaded`].
pub(crate) type Assembled = Result<Vec<OrderRecord>, (Vec<OrderRow>, Parts)>;

pub(crate) fn assemble_all(
    rows: Vec<OrderRow>,
    loaded: Parts,
    parts: OrderParts,
    agency: impl Fn(&str) -> Option<AgencyRecord>,
) -> AppResult<Assembled> {
    let histories = parts.versions || parts.breaches || parts.notifications || parts.deadlines;
    let linked =
        |r: &OrderRow| r.replaces_order_id.is_some() || r.status == OrderStatus::Replaced.as_str();
    if histories || rows.iter().any(linked) {
        return Ok(Err((rows, loaded)));
    }
    let mut agencies = Vec::with_capacity(rows.len());
    for r in &rows {
        let applicant = agency(&r.applicant_agency);
        let court = r.court_agency.as_deref().map(&agency);
        match (applicant, court) {
            (Some(a), None) => agencies.push((a, None)),
            (Some(a), Some(Some(c))) => agencies.push((a, Some(c))),
            _ => return Ok(Err((rows, loaded))),
        }
    }
    let mut found = Found::from_loaded(loaded)?;
    rows.into_iter()
        .zip(agencies)
        .map(|(r, (applicant, court))| found.assemble(r, applicant, court, parts))
        .collect::<AppResult<Vec<_>>>()
        .map(Ok)
}

impl Found {
    /// Names, persons, conditions, live shares and hearings, as `parts` asked (`db::parts`).
    fn from_loaded(loaded: Parts) -> AppResult<Found> {
        let mut found = Found::default();
        for n in loaded.subject_names {
            found.names.entry(n.order_id).or_default().push(n.name);
        }
        for p in loaded.protected_persons {
            found
                .persons
                .entry(p.order_id)
                .or_default()
                .push(ProtectedPersonRecord {
                    id: p.id,
                    name: p.name,
                    date_of_birth: p.date_of_birth,
                    contact: p.contact,
                });
        }
        for c in loaded.conditions {
            found
                .conditions
                .entry(c.order_id)
                .or_default()
                .push(ConditionRecord {
                    kind: parse_code(&c.kind, "conditions.kind")?,
                    id: c.id,
                    text: c.text,
                    expires_on: c.expires_on,
                    added_in_version: c.added_in_version,
                    removed_in_version: c.removed_in_version,
                });
        }
        for r in loaded.shares {
            found
                .shares
                .entry(r.order_id.clone())
                .or_default()
                .push(crate::db::shares::to_record(r));
        }
        for r in loaded.hearings {
            found
                .hearings
                .entry(r.order_id.clone())
                .or_default()
                .push(crate::db::schedule::hearing_record(r)?);
        }
        Ok(found)
    }

    /// The histories `parts` asks for, and the references of replaced and replacing orders: a statement each, and
    /// none for what is not needed.
    fn load_histories(
        &mut self,
        conn: &mut DbConnection,
        rows: &[OrderRow],
        ids: &[String],
        parts: OrderParts,
    ) -> AppResult<()> {
        if parts.versions {
            self.versions = versions(conn, ids)?;
        }
        if parts.breaches {
            self.breaches = crate::db::breaches::for_orders(conn, ids)?;
        }
        (self.notifications, self.deadlines) = crate::db::schedule::for_orders(conn, ids, parts)?;
        (self.replaces, self.replaced_by) = links(conn, rows)?;
        Ok(())
    }

    fn assemble(
        &mut self,
        r: OrderRow,
        applicant: AgencyRecord,
        court: Option<AgencyRecord>,
        parts: OrderParts,
    ) -> AppResult<OrderRecord> {
        Ok(OrderRecord {
            order_type: parse_code(&r.order_type, "orders.order_type")?,
            status: parse_code(&r.status, "orders.status")?,
            applicant,
            court,
            subject_names: take(&mut self.names, &r.id),
            protected_persons: take(&mut self.persons, &r.id),
            conditions: take(&mut self.conditions, &r.id),
            versions: take(&mut self.versions, &r.id),
            service: ServiceRecord {
                status: parse_code(&r.service_status, "orders.service_status")?,
                served_at: r.served_at.map(|t| t.and_utc()),
                method: r
                    .service_method
                    .as_deref()
                    .map(|m| parse_code(m, "orders.service_method"))
                    .transpose()?,
                served_by_agency: r.served_by_agency.clone(),
                served_by: r.served_by.clone(),
                aware_at: r.aware_at.map(|t| t.and_utc()),
            },
            without_notice: r.without_notice,
            soa_notification: r.soa_notification.then_some(SoaNotification {
                final_day: r.soa_notification_final_day,
                start_day: r.soa_notification_start_day,
            }),
            until_event: r.until_event.clone(),
            court_motion: r
                .court_motion
                .as_deref()
                .map(|m| parse_code(m, "orders.court_motion"))
                .transpose()?,
            replaces_reference: r
                .replaces_order_id
                .as_ref()
                .and_then(|id| self.replaces.get(id).cloned()),
            replaced_by_reference: self.replaced_by.get(&r.id).cloned(),
            shares: take(&mut self.shares, &r.id),
            breaches: take(&mut self.breaches, &r.id),
            notifications: take(&mut self.notifications, &r.id),
            hearings: take(&mut self.hearings, &r.id),
            deadlines: take(&mut self.deadlines, &r.id),
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
    }
}

/// What `map` holds for order `id`, taken out of it.
fn take<T>(map: &mut HashMap<String, Vec<T>>, id: &str) -> Vec<T> {
    map.remove(id).unwrap_or_default()
}

/// Each order's versions, oldest first.
fn versions(
    conn: &mut DbConnection,
    ids: &[String],
) -> AppResult<HashMap<String, Vec<VersionRecord>>> {
    let rows = order_versions::table
        .filter(order_versions::order_id.eq_any(ids))
        .order((order_versions::order_id, order_versions::version))
        .select(VersionRow::as_select())
        .load(conn)?;
    let mut versions: HashMap<String, Vec<VersionRecord>> = HashMap::new();
    for v in rows {
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
            without_notice: v.without_notice,
            aware_at: v.aware_at.map(|a| a.and_utc()),
        });
    }
    Ok(versions)
}

/// Links between replaced and replacing orders, looked up only when a loaded order has one: the references of the
/// orders these replace (by id), and of the orders that replaced these (by the replaced order's id).
type Links = (HashMap<String, String>, HashMap<String, String>);

fn links(conn: &mut DbConnection, rows: &[OrderRow]) -> AppResult<Links> {
    let replaces_ids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.replaces_order_id.clone())
        .collect();
    let replaces: HashMap<String, String> = if replaces_ids.is_empty() {
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
    Ok((replaces, replaced_by))
}
