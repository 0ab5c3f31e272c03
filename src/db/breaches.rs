//! Breaches: insert (once per force incident reference), load with conditions and outcome history, set outcome.

use super::codec::{parse_code, truncate_micros};
use super::models::{BreachConditionRow, BreachOutcomeRow, BreachRow};
use super::orders::Recorded;
use super::schema::{breach_conditions, breach_outcomes, breaches, orders};
use super::DbConnection;
use crate::domain::alert::BreachOutcome;
use crate::domain::order::{BreachRecord, OutcomeRecord};
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct NewBreach {
    pub order_id: String,
    pub external_ref: String,
    pub occurred_at: DateTime<Utc>,
    pub description: String,
    pub condition_ids: Vec<String>,
    /// Whether the force also recorded it as a crime.
    pub recorded_as_crime: bool,
    pub recorded: Recorded,
}

/// Inserts a breach with its first outcome (`REPORTED`). `None`, with nothing written, when the reporting force
/// already used this external reference.
pub fn insert(conn: &mut DbConnection, new: &NewBreach) -> AppResult<Option<String>> {
    let id = uuid::Uuid::now_v7().to_string();
    let at = truncate_micros(new.recorded.at).naive_utc();
    let (force_agency, order_type, court_agency): (String, String, Option<String>) = orders::table
        .find(&new.order_id)
        .select((
            orders::applicant_agency,
            orders::order_type,
            orders::court_agency,
        ))
        .first(conn)?;
    let row = BreachRow {
        id: id.clone(),
        order_id: new.order_id.clone(),
        reported_by_agency: new.recorded.agency.clone(),
        reported_by: new.recorded.by.clone(),
        external_ref: new.external_ref.clone(),
        occurred_at: truncate_micros(new.occurred_at).naive_utc(),
        description: new.description.clone(),
        outcome: BreachOutcome::Reported.as_str().into(),
        created_at: at,
        updated_at: at,
        recorded_as_crime: new.recorded_as_crime,
        force_agency,
        order_type,
        outcome_at: at,
        court_agency,
    };
    let inserted = super::with_backend!(conn, |c| diesel::insert_into(breaches::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 0 {
        return Ok(None);
    }
    if !new.condition_ids.is_empty() {
        let links: Vec<BreachConditionRow> = new
            .condition_ids
            .iter()
            .map(|c| BreachConditionRow {
                breach_id: id.clone(),
                condition_id: c.clone(),
            })
            .collect();
        super::insert_batch!(conn, breach_conditions::table, &links)?;
    }
    insert_outcome(conn, &id, BreachOutcome::Reported, &new.recorded)?;
    Ok(Some(id))
}

fn insert_outcome(
    conn: &mut DbConnection,
    breach_id: &str,
    outcome: BreachOutcome,
    recorded: &Recorded,
) -> AppResult<()> {
    let row = BreachOutcomeRow {
        id: uuid::Uuid::now_v7().to_string(),
        breach_id: breach_id.to_string(),
        outcome: outcome.as_str().into(),
        recorded_at: truncate_micros(recorded.at).naive_utc(),
        recorded_by_agency: recorded.agency.clone(),
        recorded_by: recorded.by.clone(),
        note: recorded.note.clone(),
    };
    diesel::insert_into(breach_outcomes::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// Records a new outcome as the breach's current one, and keeps it in the history.
pub fn set_outcome(
    conn: &mut DbConnection,
    breach_id: &str,
    outcome: BreachOutcome,
    recorded: &Recorded,
) -> AppResult<()> {
    diesel::update(breaches::table.find(breach_id))
        .set((
            breaches::outcome.eq(outcome.as_str()),
            breaches::updated_at.eq(truncate_micros(recorded.at).naive_utc()),
            breaches::outcome_at.eq(truncate_micros(recorded.at).naive_utc()),
        ))
        .execute(conn)?;
    insert_outcome(conn, breach_id, outcome, recorded)
}

/// The breach a force reported under its own incident reference.
pub fn find_by_external_ref(
    conn: &mut DbConnection,
    agency: &str,
    external_ref: &str,
) -> AppResult<Option<BreachRecord>> {
    let row = breaches::table
        .filter(breaches::reported_by_agency.eq(agency))
        .filter(breaches::external_ref.eq(external_ref))
        .select(BreachRow::as_select())
        .first(conn)
        .optional()?;
    one(conn, row)
}

/// Locks the breach's row until the transaction ends (PostgreSQL; SQLite's writer already holds the database), so
/// two outcomes recorded at once are checked one after the other.
pub fn lock(conn: &mut DbConnection, id: &str) -> AppResult<()> {
    if let DbConnection::Pg(c) = conn {
        breaches::table
            .find(id)
            .select(breaches::id)
            .for_update()
            .load::<String>(c)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<BreachRecord>> {
    let row = breaches::table
        .find(id)
        .select(BreachRow::as_select())
        .first(conn)
        .optional()?;
    one(conn, row)
}

/// A breach read alone, with its place among its order's breaches.
fn one(conn: &mut DbConnection, row: Option<BreachRow>) -> AppResult<Option<BreachRecord>> {
    let Some(row) = row else { return Ok(None) };
    let earlier: i64 = breaches::table
        .filter(breaches::order_id.eq(&row.order_id))
        .filter(
            breaches::occurred_at
                .lt(row.occurred_at)
                .or(breaches::occurred_at
                    .eq(row.occurred_at)
                    .and(breaches::id.lt(&row.id))),
        )
        .count()
        .get_result(conn)?;
    let mut found = hydrate(conn, vec![row])?;
    for b in &mut found {
        b.ordinal = earlier + 1;
    }
    Ok(found.pop())
}

/// Sets whether the force also recorded the breach as a crime.
pub fn set_recorded_as_crime(conn: &mut DbConnection, id: &str, recorded: bool) -> AppResult<()> {
    diesel::update(breaches::table.find(id))
        .set(breaches::recorded_as_crime.eq(recorded))
        .execute(conn)?;
    Ok(())
}

/// The breaches of these orders, oldest first, in three statements.
pub fn for_orders(
    conn: &mut DbConnection,
    order_ids: &[String],
) -> AppResult<HashMap<String, Vec<BreachRecord>>> {
    let rows = breaches::table
        .filter(breaches::order_id.eq_any(order_ids))
        .order((breaches::order_id, breaches::occurred_at, breaches::id))
        .select(BreachRow::as_select())
        .load(conn)?;
    let mut out: HashMap<String, Vec<BreachRecord>> = HashMap::new();
    for mut b in hydrate(conn, rows)? {
        let breaches = out.entry(b.order_id.clone()).or_default();
        // In order of occurrence, so its place is one more than those before it.
        b.ordinal = breaches.len() as i64 + 1;
        breaches.push(b);
    }
    Ok(out)
}

fn hydrate(conn: &mut DbConnection, rows: Vec<BreachRow>) -> AppResult<Vec<BreachRecord>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut conditions: HashMap<String, Vec<String>> = HashMap::new();
    for l in breach_conditions::table
        .filter(breach_conditions::breach_id.eq_any(&ids))
        .order((
            breach_conditions::breach_id,
            breach_conditions::condition_id,
        ))
        .select(BreachConditionRow::as_select())
        .load(conn)?
    {
        conditions
            .entry(l.breach_id)
            .or_default()
            .push(l.condition_id);
    }
    let mut outcomes: HashMap<String, Vec<OutcomeRecord>> = HashMap::new();
    for o in breach_outcomes::table
        .filter(breach_outcomes::breach_id.eq_any(&ids))
        .order((
            breach_outcomes::breach_id,
            breach_outcomes::recorded_at,
            breach_outcomes::id,
        ))
        .select(BreachOutcomeRow::as_select())
        .load(conn)?
    {
        outcomes
            .entry(o.breach_id)
            .or_default()
            .push(OutcomeRecord {
                outcome: parse_code(&o.outcome, "breach_outcomes.outcome")?,
                recorded_at: o.recorded_at.and_utc(),
                recorded_by_agency: o.recorded_by_agency,
                note: o.note,
            });
    }
    rows.into_iter()
        .map(|r| {
            Ok(BreachRecord {
                outcome: parse_code(&r.outcome, "breaches.outcome")?,
                condition_ids: conditions.remove(&r.id).unwrap_or_default(),
                outcomes: outcomes.remove(&r.id).unwrap_or_default(),
                occurred_at: r.occurred_at.and_utc(),
                created_at: r.created_at.and_utc(),
                updated_at: r.updated_at.and_utc(),
                order_id: r.order_id,
                reported_by_agency: r.reported_by_agency,
                external_ref: r.external_ref,
                description: r.description,
                recorded_as_crime: r.recorded_as_crime,
                ordinal: 0,
                id: r.id,
            })
        })
        .collect()
}
