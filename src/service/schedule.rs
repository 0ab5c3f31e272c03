//! Deadlines and the scheduled checks: re-planning an order's schedule inside every transaction that changes it,
//! the subject's notifications, hearings, the deadline list, and the check run that raises what is due.

use super::page::{decode_cursor, encode_cursor, Page, PageRequest};
use super::{audit, recorded, require_own_agency, Services};
use crate::auth::policy::{self, Operation};
use crate::auth::{Caller, Principal, Role};
use crate::db::alerts::NewAlert;
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::alert::AlertKind;
use crate::domain::audit::AuditOperation;
use crate::domain::calendar::london_date;
use crate::domain::order::{DeadlineRecord, OrderRecord};
use crate::domain::schedule::{
    plan, HearingFact, HearingOutcome, NotificationDraft, NotificationFact, NotificationKind,
    OrderFacts, ScheduleRules, TriggerEffect, TriggerSpec,
};
use crate::domain::scope::DeadlineFilter;
use crate::domain::status::effective_status;
use crate::domain::validation::{canonical_reference, check_note};
use crate::domain::{OrderEvent, OrderStatus, OrderType, Violations};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, HashSet};

/// How far in the future a reported moment may be, for clock skew between systems.
const FUTURE_TOLERANCE: Duration = Duration::minutes(5);
pub const DEADLINE_CURSOR: &str = "deadline";

/// What the schedule of an order depends on, read from the database.
pub(crate) fn facts(order: &OrderRecord) -> AppResult<OrderFacts> {
    // An SPO replaces only an interim SPO (`TypeRules::may_replace`).
    let replaces_interim = order.order_type == OrderType::Spo && order.replaces_reference.is_some();
    let ended_at = order.ended_at();
    Ok(OrderFacts {
        order_type: order.order_type,
        status: order.status,
        made_on: order.made_on,
        expires_on: order.expires_on,
        recorded_at: order.created_at,
        served_at: order.service.served_at,
        conditions: order
            .current_conditions()
            .map(|c| (c.id.clone(), c.expires_on))
            .collect(),
        replaces_interim,
        ended_at,
        notifications: order
            .notifications
            .iter()
            .map(|n| NotificationFact {
                kind: n.kind,
                source: n.source,
                notified_at: n.notified_at,
                changed_on: n.changed_on,
            })
            .collect(),
        hearings: order
            .hearings
            .iter()
            .map(|h| HearingFact {
                scheduled_for: h.scheduled_for,
                outcome: h.outcome,
                held_at: h.held_at,
            })
            .collect(),
    })
}

/// Re-plans an order's deadlines and scheduled alerts from its current facts. Called inside every transaction that
/// changes an order, before its alerts are written.
pub(crate) fn sync_schedule(
    conn: &mut DbConnection,
    order_id: &str,
    rules: &ScheduleRules,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let order =
        db::orders::find_by_id(conn, order_id)?.ok_or(AppError::NotFound { what: "order" })?;
    let (deadlines, triggers) = plan(&facts(&order)?, rules);
    db::schedule::sync_deadlines(conn, order_id, &deadlines, now)?;
    db::schedule::sync_triggers(conn, order_id, &triggers)
}

fn same_trigger(a: &TriggerSpec, b: &TriggerSpec) -> bool {
    use crate::db::orders::truncate_micros;
    a.kind == b.kind
        && a.occasion == b.occasion
        && truncate_micros(a.due_at) == truncate_micros(b.due_at)
}

/// Options of one check run.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The moment to check at.
    pub now: DateTime<Utc>,
    /// Most alerts one run raises; the rest wait for the next run (most overdue first), with a warning.
    pub max_alerts: usize,
    /// Scheduled alerts handled per transaction.
    pub batch: i64,
    /// Fault injection for tests: fail the transaction after this many alerts of a batch are prepared.
    pub fail_after: Option<usize>,
    /// Work out what the run would raise, in one transaction that is then rolled back: nothing is written.
    pub dry_run: bool,
}

impl CheckOptions {
    pub fn at(now: DateTime<Utc>) -> Self {
        CheckOptions {
            now,
            max_alerts: 10_000,
            batch: 200,
            fail_after: None,
            dry_run: false,
        }
    }
}

/// An alert a check run raised.
#[derive(Debug, Clone)]
pub struct Raised {
    pub kind: AlertKind,
    pub order_reference: String,
    pub due_at: DateTime<Utc>,
    pub fire_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub raised: Vec<Raised>,
    /// Scheduled alerts found no longer due (the order changed) and cancelled.
    pub cancelled: usize,
    /// True when the run stopped at `max_alerts` with more due.
    pub capped: bool,
}

impl Services {
    /// Runs the scheduled checks once: raises every alert due by `opts.now`, each exactly once, most overdue first.
    /// Safe to run on several servers at once and to run again after a crash.
    pub async fn run_checks(&self, opts: CheckOptions) -> AppResult<CheckReport> {
        if opts.dry_run {
            return self.preview_checks(opts).await;
        }
        let mut report = CheckReport::default();
        loop {
            let room = opts
                .max_alerts
                .saturating_sub(report.raised.len() + report.cancelled);
            if room == 0 {
                report.capped = true;
                tracing::warn!(
                    check.max_alerts = opts.max_alerts,
                    "check run reached its cap; the rest waits for the next run"
                );
                break;
            }
            let limit = opts.batch.min(room as i64);
            let rules = self.rules.clone();
            let o = opts.clone();
            let (raised, cancelled, claimed) = self
                .db
                .run(move |conn| {
                    write_transaction(conn, |conn| check_batch(conn, &rules, &o, limit))
                })
                .await?;
            if !raised.is_empty() {
                self.feed.wake();
            }
            report.cancelled += cancelled;
            report.raised.extend(raised);
            if claimed < limit as usize {
                break;
            }
            // A run longer than one batch says how far it has got (each batch is committed when this is logged).
            tracing::info!(
                check.raised = report.raised.len(),
                check.cancelled = report.cancelled,
                "check run in progress"
            );
        }
        Ok(report)
    }

    /// What a check run at `opts.now` would raise, up to `opts.max_alerts`: the run is made in one transaction that
    /// is rolled back, so the answer is exactly what the run would do and nothing is written.
    async fn preview_checks(&self, opts: CheckOptions) -> AppResult<CheckReport> {
        let rules = self.rules.clone();
        let limit = opts.max_alerts as i64;
        let (raised, cancelled, claimed) = self
            .db
            .run(move |conn| {
                let mut seen = None;
                let rolled_back = write_transaction(conn, |conn| {
                    seen = Some(check_batch(conn, &rules, &opts, limit)?);
                    Err::<(), _>(AppError::internal(anyhow::anyhow!("dry run: rolled back")))
                });
                match (seen, rolled_back) {
                    (Some(seen), _) => Ok(seen),
                    (None, Err(e)) => Err(e),
                    (None, Ok(())) => unreachable!("the dry run's transaction always rolls back"),
                }
            })
            .await?;
        Ok(CheckReport {
            raised,
            cancelled,
            capped: claimed >= limit as usize,
        })
    }

    /// Records a notification the subject made (POLICE, any force).
    pub async fn record_notification(
        &self,
        who: &Caller,
        reference: String,
        draft: NotificationDraft,
    ) -> AppResult<OrderRecord> {
        let NotificationDraft {
            kind,
            source,
            notified_at,
            changed_on,
            ..
        } = draft.clone();
        policy::require(who, Operation::RecordNotification)?;
        let now = self.now();
        let details = crate::domain::validation::validate_notification(&draft, now)?;
        let who = who.clone();
        let reference = canonical_reference(&reference);
        let rules = self.rules.clone();
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    let order = db::orders::find_by_reference(conn, &reference)?.ok_or(AppError::NotFound { what: "order" })?;
                    if order.order_type.rules().notification.is_none() {
                        return Err(AppError::validation(
                            "NOTIFICATION_NOT_REQUIRED",
                            "reference",
                            format!("the subject of a {} has no duty to notify the police", order.order_type),
                        ));
                    }
                    if london_date(notified_at) < order.made_on {
                        return Err(AppError::validation("NOTIFIED_BEFORE_ORDER", "notifiedAt", "notifiedAt is before the order was made"));
                    }
                    if kind == NotificationKind::Initial && order.notifications.iter().any(|n| n.kind == NotificationKind::Initial) {
                        return Err(AppError::conflict("ALREADY_NOTIFIED", "the initial notification is already recorded"));
                    }
                    let new = NotificationDraft { kind, source, notified_at, changed_on, details: details.clone() };
                    db::schedule::insert_notification(conn, &order.id, new, &recorded(&who, now, None))?;
                    let fields = ["notifications.kind", "notifications.notifiedAt", "notifications.changedOn", "notifications.details"];
                    db::audit::append(conn, &[audit::entry(&who, now, AuditOperation::Collect, "recordNotification", "order", vec![order.id.clone()], &fields)])?;
                    sync_schedule(conn, &order.id, &rules, now)?;
                    tracing::info!(order.reference = %reference, notification.kind = kind.as_str(), "notification recorded");
                    db::orders::find_by_id(conn, &order.id)?.ok_or(AppError::NotFound { what: "order" })
                })
            })
            .await
    }

    /// Lists a hearing (COURT: the court that made the order, or any court for a police notice).
    pub async fn schedule_hearing(
        &self,
        who: &Caller,
        reference: String,
        scheduled_for: DateTime<Utc>,
        note: Option<String>,
    ) -> AppResult<OrderRecord> {
        policy::require(who, Operation::ScheduleHearing)?;
        let mut v = Violations::default();
        check_note(note.as_deref(), "note", &mut v);
        v.into_result()?;
        let now = self.now();
        let who = who.clone();
        let reference = canonical_reference(&reference);
        let rules = self.rules.clone();
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    let order = db::orders::find_by_reference(conn, &reference)?
                        .ok_or(AppError::NotFound { what: "order" })?;
                    if !policy::may_list_hearing(&who, &order) {
                        return Err(AppError::NotFound { what: "order" });
                    }
                    let status = effective_status(order.status, order.expires_on, now);
                    if status != OrderStatus::InForce {
                        return Err(AppError::conflict(
                            "ORDER_NOT_IN_FORCE",
                            format!("the order is {}", status.as_str()),
                        ));
                    }
                    let listed = audit::entry(
                        &who,
                        now,
                        AuditOperation::Collect,
                        "scheduleHearing",
                        "order",
                        vec![order.id.clone()],
                        &["hearings"],
                    );
                    db::audit::append(conn, &[listed])?;
                    db::schedule::insert_hearing(
                        conn,
                        &order.id,
                        &who.agency,
                        scheduled_for,
                        note.clone(),
                        now,
                    )?;
                    sync_schedule(conn, &order.id, &rules, now)?;
                    db::orders::find_by_id(conn, &order.id)?
                        .ok_or(AppError::NotFound { what: "order" })
                })
            })
            .await
    }

    /// Records what happened at a hearing (the court that listed it). `HEARD` needs the time it began.
    pub async fn record_hearing_outcome(
        &self,
        who: &Caller,
        hearing_id: String,
        outcome: HearingOutcome,
        held_at: Option<DateTime<Utc>>,
    ) -> AppResult<OrderRecord> {
        policy::require(who, Operation::ScheduleHearing)?;
        let now = self.now();
        let determines = matches!(outcome, HearingOutcome::Refused | HearingOutcome::Withdrawn);
        match (outcome, held_at) {
            (
                HearingOutcome::Heard
                | HearingOutcome::Adjourned
                | HearingOutcome::Refused
                | HearingOutcome::Withdrawn,
                None,
            ) => {
                return Err(AppError::validation(
                    "HELD_AT_REQUIRED",
                    "heldAt",
                    "give the time the hearing began (for a withdrawal, when the application was withdrawn)",
                ))
            }
            (_, Some(t)) if t > now + FUTURE_TOLERANCE => {
                return Err(AppError::validation(
                    "HELD_AT_IN_FUTURE",
                    "heldAt",
                    "heldAt is in the future",
                ))
            }
            _ => {}
        }
        let who = who.clone();
        let rules = self.rules.clone();
        let feed = self.feed.clone();
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    let (order_id, hearing) = db::schedule::find_hearing(conn, &hearing_id)?
                        .ok_or(AppError::NotFound { what: "hearing" })?;
                    if hearing.court_agency != who.agency {
                        return Err(AppError::NotFound { what: "hearing" });
                    }
                    let order = db::orders::find_by_id(conn, &order_id)?
                        .ok_or(AppError::NotFound { what: "order" })?;
                    if determines {
                        if !matches!(
                            order.order_type,
                            OrderType::Dvpn | OrderType::Dapn | OrderType::InterimSpo
                        ) {
                            return Err(AppError::validation(
                                "HEARING_OUTCOME_NOT_APPLICABLE",
                                "outcome",
                                "REFUSED and WITHDRAWN end a notice or an interim SPO awaiting the application heard; for another order record HEARD and the court's decision",
                            ));
                        }
                        if order.status != OrderStatus::InForce {
                            return Err(AppError::conflict(
                                "ORDER_NOT_IN_FORCE",
                                "the order is no longer in force",
                            ));
                        }
                    }
                    db::schedule::set_hearing_outcome(conn, &hearing_id, outcome, held_at, now)?;
                    if determines {
                        // The notice, or the interim order, ceases with the application it waited on (CSA 2010
                        // s27(9), DA Act 2021 s29(7), SPA 2019 s5(6)(b)).
                        let change = db::orders::TermsChange {
                            expected_version: order.version,
                            event: OrderEvent::Ceased,
                            status: OrderStatus::Ceased,
                            expires_on: order.expires_on,
                            conditions: None,
                            recorded: recorded(&who, now, Some(format!("application {}", outcome.as_str().to_ascii_lowercase()))),
                        };
                        if !db::orders::apply_change(conn, &order_id, &change)? {
                            return Err(AppError::conflict("CONCURRENT_CHANGE", "the order changed while this request was made; read it again and retry"));
                        }
                        let ceased = audit::entry(&who, now, AuditOperation::Alter, "recordHearingOutcome", "order", vec![order_id.clone()], &["status"]);
                        db::audit::append(conn, &[ceased])?;
                        db::alerts::insert(
                            conn,
                            &[NewAlert {
                                kind: AlertKind::OrderCeased,
                                order_id: order_id.clone(),
                                breach_id: None,
                                due_at: now,
                                occasion: format!("v{}", order.version + 1),
                                fire_at: now,
                            }],
                            now,
                        )?;
                    }
                    let heard = audit::entry(
                        &who,
                        now,
                        AuditOperation::Alter,
                        "recordHearingOutcome",
                        "hearing",
                        vec![hearing_id.clone(), order_id.clone()],
                        &["outcome", "heldAt"],
                    );
                    db::audit::append(conn, &[heard])?;
                    sync_schedule(conn, &order_id, &rules, now)?;
                    Ok(order_id)
                })
                .and_then(|order_id| {
                    if determines {
                        feed.wake();
                    }
                    db::orders::find_by_id(conn, &order_id)?
                        .ok_or(AppError::NotFound { what: "order" })
                })
            })
            .await
    }

    /// Deadlines the caller may see, soonest first, with their order references.
    pub async fn deadlines(
        &self,
        who: &Caller,
        filter: DeadlineFilter,
        first: Option<i32>,
        after: Option<&str>,
    ) -> AppResult<Page<(DeadlineRecord, String)>> {
        policy::require(who, Operation::ReadOrders)?;
        let page = PageRequest::new(first, None, DEADLINE_CURSOR)?;
        let after = after.map(decode_deadline_cursor).transpose()?;
        let scope = policy::deadline_scope(who);
        let now = self.now();
        let limit = page.limit;
        let who = who.clone();
        let items = self
            .db
            .run(move |conn| {
                require_own_agency(conn, &who)?;
                db::schedule::page(conn, &scope, &filter, now, after, limit + 1)
            })
            .await?;
        Ok(Page::from_fetched(items, limit))
    }
}

/// The cursor of a deadline in `Query.deadlines`.
pub fn deadline_cursor(d: &DeadlineRecord) -> String {
    encode_cursor(
        DEADLINE_CURSOR,
        &format!("{}:{}", d.due_at.timestamp_micros(), d.id),
    )
}

fn decode_deadline_cursor(cursor: &str) -> AppResult<(DateTime<Utc>, String)> {
    let invalid = || {
        AppError::validation(
            "INVALID_CURSOR",
            "after",
            "after is not a cursor returned by this list",
        )
    };
    let key = decode_cursor(DEADLINE_CURSOR, cursor)?;
    let (micros, id) = key.split_once(':').ok_or_else(invalid)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(invalid)?;
    Ok((at, id.to_string()))
}

/// The audit entry of a status the scheduled checks recorded.
fn checks_entry(
    at: DateTime<Utc>,
    order_id: &str,
    event: OrderEvent,
) -> crate::domain::audit::AuditEntry {
    let system = Principal {
        sub: db::orders::CHECKS_ACTOR.into(),
        role: Role::Admin,
        agency: "ORDERWATCH".into(),
    };
    let mut e = audit::entry(
        &Caller::from(system),
        at,
        AuditOperation::Alter,
        event.as_str(),
        "order",
        vec![order_id.into()],
        &["status", "versions"],
    );
    e.actor_role = "SYSTEM".into();
    e.request_id = "scheduled-check".into();
    e
}

/// One transaction of a check run: claim due scheduled alerts, fire those still planned, cancel the rest.
/// Returns (raised, cancelled, claimed).
fn check_batch(
    conn: &mut DbConnection,
    rules: &ScheduleRules,
    o: &CheckOptions,
    limit: i64,
) -> AppResult<(Vec<Raised>, usize, usize)> {
    let due = db::schedule::claim_due(conn, o.now, limit)?;
    if due.is_empty() {
        return Ok((vec![], 0, 0));
    }
    let mut ids: Vec<String> = due.iter().map(|d| d.order_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let orders: HashMap<String, OrderRecord> = db::orders::find_by_ids(conn, &ids)?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let mut versions: HashMap<String, i64> = orders
        .iter()
        .map(|(id, o)| (id.clone(), o.version))
        .collect();
    let mut plans: HashMap<String, Vec<TriggerSpec>> = HashMap::new();
    let (mut alerts, mut raised, mut changed, mut trail) = (vec![], vec![], HashSet::new(), vec![]);
    // Claimed triggers, marked at the end of the batch: a statement per state, not per trigger.
    let (mut fired, mut cancelled): (Vec<&str>, Vec<&str>) = (vec![], vec![]);
    for t in &due {
        let Some(order) = orders.get(&t.order_id) else {
            cancelled.push(&t.id);
            continue;
        };
        if !plans.contains_key(&order.id) {
            let planned = plan(&facts(order)?, rules).1;
            plans.insert(order.id.clone(), planned);
        }
        if !plans[&order.id].iter().any(|p| same_trigger(p, &t.spec)) {
            cancelled.push(&t.id);
            continue;
        }
        let effect = match t.spec.effect() {
            TriggerEffect::None => None,
            TriggerEffect::Expire => Some((OrderEvent::Expired, OrderStatus::Expired)),
            TriggerEffect::Lapse => Some((OrderEvent::Lapsed, OrderStatus::Lapsed)),
        };
        if let Some((event, status)) = effect {
            let version = versions[&order.id];
            if db::orders::set_status_on_schedule(
                conn,
                &order.id,
                &order.applicant.code,
                version,
                event,
                status,
                order.expires_on,
                o.now,
            )? {
                versions.insert(order.id.clone(), version + 1);
                changed.insert(order.id.clone());
                trail.push(checks_entry(o.now, &order.id, event));
            }
        }
        alerts.push(NewAlert {
            kind: t.spec.kind,
            order_id: order.id.clone(),
            breach_id: None,
            due_at: t.spec.due_at,
            occasion: t.spec.occasion.clone(),
            fire_at: t.spec.fire_at,
        });
        fired.push(&t.id);
        raised.push(Raised {
            kind: t.spec.kind,
            order_reference: order.reference.clone(),
            due_at: t.spec.due_at,
            fire_at: t.spec.fire_at,
        });
        if o.fail_after.is_some_and(|n| raised.len() >= n) {
            return Err(AppError::internal(anyhow::anyhow!(
                "injected check failure"
            )));
        }
    }
    db::schedule::finish(conn, &fired, &cancelled, o.now)?;
    for id in &changed {
        sync_schedule(conn, id, rules, o.now)?;
    }
    db::audit::append(conn, &trail)?;
    // Alerts last: their lock is then held only to commit.
    db::alerts::insert(conn, &alerts, o.now)?;
    Ok((raised, cancelled.len(), due.len()))
}
