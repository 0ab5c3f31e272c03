//! Breaches: reported by police (once per force incident reference), their outcomes recorded over time.

use super::{audit, recorded, require_own_agency, Services};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::codes;
use crate::db::alerts::NewAlert;
use crate::db::breaches::NewBreach;
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::alert::{AlertKind, BreachOutcome};
use crate::domain::audit::AuditOperation;
use crate::domain::calendar::{end_of_day, london_date};
use crate::domain::order::{BreachRecord, OrderParts, OrderRecord};
use crate::domain::validation::{self, canonical_reference, check_note};
use crate::domain::Violations;
use crate::domain::{OrderStatus, OrderType};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};

/// How far in the future `occurredAt` may be, for clock skew between systems.

#[derive(Debug, Clone)]
pub struct ReportBreach {
    pub reference: String,
    pub occurred_at: DateTime<Utc>,
    pub description: String,
    pub condition_ids: Vec<String>,
    /// The force's own incident reference: reporting it again returns the breach already made.
    pub external_ref: String,
    /// Whether the force also recorded the breach as a crime.
    pub recorded_as_crime: bool,
}

/// What a report did: made the breach, or found the one made by an earlier attempt.
#[derive(Debug, Clone)]
pub struct Reported {
    pub breach: BreachRecord,
    pub created: bool,
}

impl Services {
    /// Records a breach and raises `BREACH_REPORTED` in the same transaction. A retry with the same
    /// `externalRef` from the same force returns the first breach and writes nothing.
    pub async fn report_breach(&self, who: &Caller, req: ReportBreach) -> AppResult<Reported> {
        policy::require(who, Operation::ReportBreach)?;
        let now = self.now();
        let checked = validation::validate_breach_report(
            &req.external_ref,
            &req.description,
            req.occurred_at,
            &req.condition_ids,
            now,
        )?;
        let (ext, description, condition_ids) = (
            checked.external_ref,
            checked.description,
            checked.condition_ids,
        );

        let who = who.clone();
        let reference = canonical_reference(&req.reference);
        let occurred_at = req.occurred_at;
        let reported = self
            .db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    // Only the order's dates and conditions are checked: its histories (every earlier breach
                    // among them) are not loaded while this transaction holds the write lock.
                    let order =
                        db::loader::find_parts_by_reference(conn, &reference, OrderParts::NONE)?
                            .ok_or(AppError::NotFound { what: "order" })?;
                    if let Some(existing) =
                        db::breaches::find_by_external_ref(conn, &who.agency, &ext)?
                    {
                        return replayed(conn, &who, now, existing, &order.id);
                    }
                    within_order(conn, &order, occurred_at, &condition_ids)?;
                    let new = NewBreach {
                        order_id: order.id.clone(),
                        external_ref: ext.clone(),
                        occurred_at,
                        description: description.clone(),
                        condition_ids: condition_ids.clone(),
                        recorded_as_crime: req.recorded_as_crime,
                        recorded: recorded(&who, now, None),
                    };
                    let Some(id) = db::breaches::insert(conn, &new)? else {
                        // A concurrent attempt with the same reference committed first.
                        let existing = db::breaches::find_by_external_ref(conn, &who.agency, &ext)?
                            .ok_or_else(|| {
                                AppError::internal(anyhow::anyhow!(
                                    "breach reference taken but not found"
                                ))
                            })?;
                        return replayed(conn, &who, now, existing, &order.id);
                    };
                    let breach = record_new(conn, &who, now, &id, &order.id)?;
                    Ok(Reported {
                        breach,
                        created: true,
                    })
                })
            })
            .await?;
        if reported.created {
            self.feed.wake();
            tracing::info!(breach.id = %reported.breach.id, "breach reported");
        }
        Ok(reported)
    }

    /// Records what happened after a breach (the reporting or the managing force). Recording the current outcome
    /// again changes nothing.
    pub async fn update_breach_outcome(
        &self,
        who: &Caller,
        breach_id: String,
        outcome: BreachOutcome,
        note: Option<String>,
        recorded_as_crime: Option<bool>,
    ) -> AppResult<BreachRecord> {
        policy::require(who, Operation::UpdateBreachOutcome)?;
        let mut v = Violations::default();
        check_note(note.as_deref(), "note", &mut v);
        v.into_result()?;
        let who = who.clone();
        let now = self.now();
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    db::breaches::lock(conn, &breach_id)?;
                    let breach = db::breaches::find(conn, &breach_id)?.ok_or(AppError::NotFound { what: "breach" })?;
                    let order = db::loader::find_by_id(conn, &breach.order_id)?
                        .ok_or_else(|| AppError::internal(anyhow::anyhow!("breach without its order")))?;
                    if who.agency != breach.reported_by_agency && !policy::is_managing_force(&who, &order) {
                        return Err(AppError::forbidden(
                            codes::NOT_BREACH_FORCE,
                            "only the force that reported the breach or the order's managing force may record its outcome",
                        ));
                    }
                    if !outcome.applies_to(order.order_type) {
                        return Err(AppError::validation(
                            codes::OUTCOME_NOT_APPLICABLE,
                            "outcome",
                            format!("{} cannot follow a breach of a {}", outcome.as_str(), order.order_type),
                        ));
                    }
                    let crime_changes = recorded_as_crime.filter(|r| *r != breach.recorded_as_crime);
                    if let Some(recorded) = crime_changes {
                        db::breaches::set_recorded_as_crime(conn, &breach.id, recorded)?;
                    }
                    if breach.outcome == outcome {
                        let Some(_) = crime_changes else { return Ok(breach) };
                        let updated = db::breaches::find(conn, &breach.id)?.ok_or_else(|| AppError::internal(anyhow::anyhow!("breach vanished")))?;
                        db::audit::append(conn, &[audit::entry(&who, now, AuditOperation::Alter, "updateBreachOutcome", "breach", vec![breach.id.clone()], &["recordedAsCrime"])])?;
                        return Ok(updated);
                    }
                    let earlier: Vec<_> = breach.outcomes.iter().map(|o| o.outcome).collect();
                    if !outcome.compatible_with(&earlier) {
                        return Err(AppError::conflict(
                            codes::CONTEMPT_OR_OFFENCE,
                            "conduct punished as contempt cannot also lead to a conviction, nor the other way round; this breach already has the other",
                        ));
                    }
                    db::breaches::set_outcome(conn, &breach.id, outcome, &recorded(&who, now, note))?;
                    // Read back before the audit append, whose lock every writer waits for until this commits.
                    let updated = db::breaches::find(conn, &breach.id)?.ok_or_else(|| AppError::internal(anyhow::anyhow!("breach vanished")))?;
                    let fields: &[&str] = if crime_changes.is_some() { &["outcome", "outcomes", "recordedAsCrime"] } else { &["outcome", "outcomes"] };
                    db::audit::append(conn, &[audit::entry(&who, now, AuditOperation::Alter, "updateBreachOutcome", "breach", vec![breach.id.clone()], fields)])?;
                    tracing::info!(breach.id = %breach.id, breach.outcome = outcome.as_str(), "breach outcome recorded");
                    Ok(updated)
                })
            })
            .await
    }
}

impl Services {
    /// The reference of the order with this id (for building a breach's response).
    pub async fn order_reference_of(&self, order_id: String) -> AppResult<String> {
        self.db
            .run(move |conn| {
                db::loader::find_by_id(conn, &order_id)?
                    .map(|o| o.reference)
                    .ok_or(AppError::NotFound { what: "order" })
            })
            .await
    }
}

/// A retried report: the same force reference must name the same order.
fn replayed(
    conn: &mut DbConnection,
    who: &Caller,
    now: DateTime<Utc>,
    existing: BreachRecord,
    order_id: &str,
) -> AppResult<Reported> {
    if existing.order_id != order_id {
        return Err(AppError::conflict(
            codes::EXTERNAL_REF_REUSED,
            "this force already used that externalRef for a breach of another order",
        ));
    }
    // The retry reads back the breach recorded first.
    let seen = audit::entry(
        who,
        now,
        AuditOperation::Consult,
        "reportBreach",
        "breach",
        vec![existing.id.clone()],
        &[],
    );
    db::audit::append(conn, &[seen])?;
    Ok(Reported {
        breach: existing,
        created: false,
    })
}

/// A breach must fall within the order's life (on or after the day it was made, before it ended) and name only its
/// conditions.
fn within_order(
    conn: &mut DbConnection,
    order: &OrderRecord,
    occurred_at: DateTime<Utc>,
    condition_ids: &[String],
) -> AppResult<()> {
    if london_date(occurred_at) < order.made_on {
        return Err(AppError::validation(
            codes::BREACH_BEFORE_ORDER,
            "occurredAt",
            format!(
                "occurredAt is before the order was made ({})",
                order.made_on
            ),
        ));
    }
    if let Some(last) = order.expires_on {
        if occurred_at >= end_of_day(last) {
            return Err(AppError::validation(
                codes::BREACH_AFTER_ORDER_ENDED,
                "occurredAt",
                format!("occurredAt is after the order ended ({last})"),
            ));
        }
    }
    if order.without_notice && order.order_type.breach_needs_awareness_if_without_notice() {
        let aware = order.subject_aware_since();
        if aware.is_none_or(|aware| occurred_at < aware) {
            return Err(AppError::validation(
                codes::BREACH_BEFORE_AWARENESS,
                "occurredAt",
                match aware {
                    Some(aware) => format!(
                        "the order was made without notice and the subject was aware of it only from {} (Family Law Act 1996 s42A(2), Domestic Abuse Act 2021 s39(2))",
                        aware.to_rfc3339()
                    ),
                    None => "the order was made without notice and the subject is not yet known to be aware of it: record service or awareness first (Family Law Act 1996 s42A(2), Domestic Abuse Act 2021 s39(2))".to_string(),
                },
            ));
        }
    }
    if order.order_type == OrderType::Dapo {
        if let Some(whole) = db::loader::find_by_id(conn, &order.id)? {
            super::awareness::before_variation_awareness(&whole, occurred_at, condition_ids)?;
        }
    }
    // Ended before its last day (discharged, replaced, ceased, quashed, lapsed): the history says when.
    if order.status != OrderStatus::InForce {
        let ended = db::loader::find_by_id(conn, &order.id)?.and_then(|o| o.ended_at());
        if ended.is_some_and(|ended| occurred_at >= ended) {
            return Err(AppError::validation(
                codes::BREACH_AFTER_ORDER_ENDED,
                "occurredAt",
                format!(
                    "occurredAt is after the order stopped being in force ({})",
                    order.status.as_str()
                ),
            ));
        }
    }
    if condition_ids
        .iter()
        .any(|id| !order.conditions.iter().any(|c| &c.id == id))
    {
        return Err(AppError::validation(
            codes::UNKNOWN_CONDITION,
            "conditionIds",
            "a condition id is not a condition of this order",
        ));
    }
    Ok(())
}

/// After a new breach is inserted: read back, audited and its alert written, in the same transaction.
fn record_new(
    conn: &mut DbConnection,
    who: &Caller,
    now: DateTime<Utc>,
    id: &str,
    order_id: &str,
) -> AppResult<BreachRecord> {
    // Read back before the audit and alert appends: each takes a lock that every writer
    // waits for until this transaction commits, so nothing that can go before them waits after.
    let breach = db::breaches::find(conn, id)?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("breach vanished")))?;
    let fields = ["occurredAt", "description", "conditionIds", "externalRef"];
    db::audit::append(
        conn,
        &[audit::entry(
            who,
            now,
            AuditOperation::Collect,
            "reportBreach",
            "breach",
            vec![id.to_string(), order_id.to_string()],
            &fields,
        )],
    )?;
    db::alerts::insert(
        conn,
        &[NewAlert {
            kind: AlertKind::BreachReported,
            order_id: order_id.to_string(),
            breach_id: Some(id.to_string()),
            due_at: now,
            occasion: id.to_string(),
            fire_at: now,
        }],
        now,
    )?;
    Ok(breach)
}
