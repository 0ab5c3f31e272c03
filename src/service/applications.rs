//! Applications for orders: a force records one and its stages (the report, its own decision, the application to
//! court), the court records its decision and the order it granted. Each stage is recorded once, so a retried
//! request changes nothing; an application is seen only by the force that made it and the court it went to.

use super::interim;
use super::{audit, require_own_agency, Services};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::codes;
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::application::{
    check_decision, check_stages, merge_stages, validate_new, ApplicationRecord, CourtDecision,
    CourtOutcome, ForceStages,
};
use crate::domain::audit::AuditOperation;
use crate::domain::calendar::london_date;
use crate::domain::order::OrderParts;
use crate::domain::validation::canonical_reference;
use crate::domain::{AgencyKind, OrderType};
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;

/// A new application, as a force records it.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub reference: String,
    pub order_type: OrderType,
    pub stages: ForceStages,
    /// For an interim SPO: the reference of the force's main application for an SPO it is pending.
    pub main_application: Option<String>,
    pub note: Option<String>,
}

const NOT_FOUND: AppError = AppError::NotFound {
    what: "application",
};

impl Services {
    /// Records a force's application, with the stages known so far.
    pub async fn record_application(
        &self,
        who: &Caller,
        mut new: NewApplication,
    ) -> AppResult<ApplicationRecord> {
        policy::require(who, Operation::RecordApplication)?;
        new.reference = canonical_reference(&new.reference);
        new.main_application = new.main_application.as_deref().map(canonical_reference);
        let now = self.now();
        let mut v = validate_new(
            &new.reference,
            &who.agency,
            new.order_type,
            &new.stages,
            new.note.as_deref(),
            london_date(now),
        );
        interim::check_main_given(new.order_type, new.main_application.as_deref(), &mut v);
        v.into_result()?;
        let who = who.clone();
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    if let Some(court) = &new.stages.court {
                        require_court(conn, court)?;
                    }
                    let main_id = match &new.main_application {
                        Some(r) => Some(interim::pending_main_application(
                            conn,
                            &who,
                            r,
                            &new.stages,
                        )?),
                        None => None,
                    };
                    let record = ApplicationRecord {
                        id: uuid::Uuid::now_v7().to_string(),
                        reference: new.reference.clone(),
                        force: who.agency.clone(),
                        order_type: new.order_type,
                        stages: new.stages.clone(),
                        court_outcome: None,
                        order_reference: None,
                        main_application: new.main_application.clone(),
                        recorded_at: now,
                        updated_at: now,
                    };
                    let note = new
                        .note
                        .clone()
                        .map(|n| n.trim().to_string())
                        .filter(|n| !n.is_empty());
                    let Some(id) =
                        db::applications::insert(conn, &record, main_id, note, &who.sub)?
                    else {
                        return Err(AppError::conflict(
                            codes::REFERENCE_TAKEN,
                            format!(
                                "an application with reference {} already exists",
                                record.reference
                            ),
                        ));
                    };
                    let entry = audit::entry(
                        &who,
                        now,
                        AuditOperation::Collect,
                        "recordApplication",
                        "application",
                        vec![id],
                        APPLICATION_FIELDS,
                    );
                    db::audit::append(conn, &[entry])?;
                    db::applications::find_by_reference(conn, &record.reference)?.ok_or(NOT_FOUND)
                })
            })
            .await
    }

    /// Adds the stages not yet recorded to the force's own application. A stage given again with the same value
    /// changes nothing; with another, it is refused (`STAGE_ALREADY_RECORDED`).
    pub async fn update_application(
        &self,
        who: &Caller,
        reference: String,
        stages: ForceStages,
    ) -> AppResult<ApplicationRecord> {
        policy::require(who, Operation::RecordApplication)?;
        let reference = canonical_reference(&reference);
        let now = self.now();
        let who = who.clone();
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    let app = db::applications::find_by_reference(conn, &reference)?
                        .filter(|a| policy::may_see_application(&who, a))
                        .ok_or(NOT_FOUND)?;
                    let merged = merge_stages(&app.stages, &stages).map_err(|(code, field)| {
                        AppError::validation(
                            code,
                            field,
                            format!("{field} is already recorded with another value"),
                        )
                    })?;
                    if merged == app.stages {
                        return Ok(app);
                    }
                    let mut v = crate::domain::Violations::default();
                    check_stages(&merged, london_date(now), &mut v);
                    if let Some(main) = &app.main_application {
                        let main =
                            db::applications::find_by_reference(conn, main)?.ok_or(NOT_FOUND)?;
                        v.0.extend(interim::check_with_main(&main, &merged).0);
                    }
                    v.into_result()?;
                    if stages.court.is_some() {
                        if let Some(court) = &merged.court {
                            require_court(conn, court)?;
                        }
                    }
                    db::applications::set_stages(conn, &app.id, &merged, now)?;
                    let entry = audit::entry(
                        &who,
                        now,
                        AuditOperation::Alter,
                        "updateApplication",
                        "application",
                        vec![app.id.clone()],
                        APPLICATION_FIELDS,
                    );
                    db::audit::append(conn, &[entry])?;
                    db::applications::find_by_reference(conn, &reference)?.ok_or(NOT_FOUND)
                })
            })
            .await
    }

    /// Records the court's decision on an application made to it; a grant names the order it made. An adjourned
    /// application can be decided later; a decided one cannot be decided again (the same decision again changes
    /// nothing).
    pub async fn record_application_outcome(
        &self,
        who: &Caller,
        reference: String,
        decision: CourtDecision,
        order_reference: Option<String>,
    ) -> AppResult<ApplicationRecord> {
        policy::require(who, Operation::DecideApplication)?;
        let reference = canonical_reference(&reference);
        let order_reference = order_reference.as_deref().map(canonical_reference);
        let now = self.now();
        let who = who.clone();
        let feed = self.feed.clone();
        let rules = self.rules.clone();
        let ceased = self
            .db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    let app = locked(conn, &who, &reference)?;
                    let made_to_court_on = app.stages.made_to_court_on.ok_or(NOT_FOUND)?;
                    if already_decided(&app, &decision, order_reference.as_deref())? {
                        return Ok((app, 0));
                    }
                    check_decision(
                        &decision,
                        made_to_court_on,
                        order_reference.is_some(),
                        london_date(now),
                    )
                    .into_result()?;
                    let main_determined = interim::main_determined_before(conn, &app, &decision)?;
                    let order_id = match &order_reference {
                        None => None,
                        Some(r) => Some(granted_order(conn, &who, &app, r, decision.decided_on)?),
                    };
                    if !db::applications::set_decision(
                        conn,
                        &app.id,
                        &decision,
                        order_id.as_deref(),
                        now,
                    )? {
                        return Err(not_for_application(
                            "the order is already linked to another application",
                        ));
                    }
                    let entry = audit::entry(
                        &who,
                        now,
                        AuditOperation::Alter,
                        "recordApplicationOutcome",
                        "application",
                        vec![app.id.clone()],
                        DECISION_FIELDS,
                    );
                    db::audit::append(conn, &[entry])?;
                    let ceased = interim::end_with_determination(
                        conn,
                        &who,
                        now,
                        &app,
                        &decision,
                        main_determined,
                        &rules,
                    )?;
                    let app =
                        db::applications::find_by_reference(conn, &reference)?.ok_or(NOT_FOUND)?;
                    Ok((app, ceased))
                })
            })
            .await?;
        let (app, ceased) = ceased;
        if ceased > 0 {
            feed.wake();
        }
        Ok(app)
    }

    /// The application with this reference, if the caller may see it; the read is recorded.
    pub async fn application(
        &self,
        who: &Caller,
        reference: String,
    ) -> AppResult<Option<ApplicationRecord>> {
        policy::require(who, Operation::ReadApplications)?;
        let reference = canonical_reference(&reference);
        let found = self
            .db
            .run(move |conn| db::applications::find_by_reference(conn, &reference))
            .await?;
        let who_ = who.clone();
        let found = found.filter(|a| policy::may_see_application(&who_, a));
        if let Some(app) = &found {
            self.audit(vec![audit::entry(
                who,
                self.now(),
                AuditOperation::Consult,
                "application",
                "application",
                vec![app.id.clone()],
                APPLICATION_FIELDS,
            )])
            .await?;
        }
        Ok(found)
    }
}

const DECISION_FIELDS: &[&str] = &[
    "courtOutcome",
    "decidedOn",
    "refusalReason",
    "orderReference",
];

const APPLICATION_FIELDS: &[&str] = &[
    "orderType",
    "reportedOn",
    "internalDecision",
    "internalDecisionOn",
    "internalRefusalReason",
    "madeToCourtOn",
    "court",
];

/// The court an application is made to: a registered magistrates' court.
fn require_court(conn: &mut DbConnection, code: &str) -> AppResult<()> {
    match db::agencies::find(conn, code)? {
        None => Err(AppError::validation(
            codes::UNKNOWN_AGENCY,
            "court",
            format!("no agency has code {code}"),
        )),
        Some(a) if a.kind != AgencyKind::Court => Err(AppError::validation(
            codes::AGENCY_KIND_MISMATCH,
            "court",
            "an application is made to a magistrates' court (an agency of kind COURT)",
        )),
        Some(_) => Ok(()),
    }
}

/// The id of the order granted on `app`: made by the deciding court, of the type applied for, on the force's
/// application.
fn granted_order(
    conn: &mut DbConnection,
    who: &Caller,
    app: &ApplicationRecord,
    reference: &str,
    decided_on: NaiveDate,
) -> AppResult<String> {
    let order = db::loader::find_parts_by_reference(conn, reference, OrderParts::NONE)?
        .filter(|o| policy::may_see_order(who, o))
        .ok_or_else(|| not_for_application("no order of this court has that reference"))?;
    if order.court.as_ref().map(|c| c.code.as_str()) != Some(who.agency.as_str()) {
        return Err(not_for_application("the order was not made by this court"));
    }
    if order.court_motion.is_some() {
        return Err(not_for_application(
            "the order was made by the court of its own motion, not on an application",
        ));
    }
    if order.made_on != decided_on {
        return Err(not_for_application(&format!(
            "the order was made on {}, not on the day the court decided ({decided_on})",
            order.made_on
        )));
    }
    if order.order_type != app.order_type || order.applicant.code != app.force {
        return Err(not_for_application(
            "the order is not of the type applied for, or not on this force's application",
        ));
    }
    Ok(order.id)
}

/// The caller's application with this reference, read after locking it and, first, the main application it is
/// pending (the order in which every path locks them).
fn locked(conn: &mut DbConnection, who: &Caller, reference: &str) -> AppResult<ApplicationRecord> {
    let app = db::applications::find_by_reference(conn, reference)?
        .filter(|a| policy::may_see_application(who, a))
        .ok_or(NOT_FOUND)?;
    let main_id = match &app.main_application {
        Some(main) => db::applications::find_by_reference(conn, main)?.map(|m| m.id),
        None => None,
    };
    for id in main_id.iter().chain([&app.id]) {
        db::applications::lock(conn, id)?;
    }
    db::applications::find_by_reference(conn, reference)?.ok_or(NOT_FOUND)
}

/// Whether the application already has this decision (a retry: true); refused if it has another that is not an
/// adjournment.
fn already_decided(
    app: &ApplicationRecord,
    decision: &CourtDecision,
    order_reference: Option<&str>,
) -> AppResult<bool> {
    match &app.court_outcome {
        Some(done) if done == decision && app.order_reference.as_deref() == order_reference => {
            Ok(true)
        }
        Some(done) if done.outcome != CourtOutcome::Adjourned => Err(AppError::conflict(
            codes::APPLICATION_DECIDED,
            format!(
                "the application was already decided ({}) on {}",
                done.outcome.as_str(),
                done.decided_on
            ),
        )),
        _ => Ok(false),
    }
}

fn not_for_application(message: &str) -> AppError {
    AppError::validation(codes::ORDER_NOT_FOR_APPLICATION, "orderReference", message)
}
