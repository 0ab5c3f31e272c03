//! The scheduled checks: one run raises every alert due by a moment, each exactly once, in batches that replicas
//! share; a dry run makes the same run and rolls it back.

use super::{audit, Services};
use crate::auth::{Caller, Principal, Role};
use crate::db::alerts::NewAlert;
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::alert::AlertKind;
use crate::domain::audit::AuditOperation;
use crate::domain::order::OrderRecord;
use crate::domain::schedule::{plan, ScheduleRules, TriggerEffect, TriggerSpec};
use crate::domain::{OrderEvent, OrderStatus};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};

/// How far in the future a reported moment may be, for clock skew between systems.
use super::schedule::{order_facts, sync_schedule};

fn same_trigger(a: &TriggerSpec, b: &TriggerSpec) -> bool {
    use crate::db::codec::truncate_micros;
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
        supervisor: false,
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
/// Returns (raised, cancelled, claimed). Longer than 80 lines: claim, fire and cancel share one transaction and
/// its lock, and read best as one sequence.
fn check_batch(
    conn: &mut DbConnection,
    rules: &ScheduleRules,
    o: &CheckOptions,
    limit: i64,
) -> AppResult<(Vec<Raised>, usize, usize)> {
    let due = db::triggers::claim_due(conn, o.now, limit)?;
    if due.is_empty() {
        return Ok((vec![], 0, 0));
    }
    let mut ids: Vec<String> = due.iter().map(|d| d.order_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let orders: HashMap<String, OrderRecord> = db::loader::find_by_ids(conn, &ids)?
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
            let planned = plan(&order_facts(conn, order)?, rules).1;
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
                t.spec.due_at,
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
    db::triggers::finish(conn, &fired, &cancelled, o.now)?;
    for id in &changed {
        sync_schedule(conn, id, rules, o.now)?;
    }
    db::audit::append(conn, &trail)?;
    // Alerts last: their lock is then held only to commit.
    db::alerts::insert(conn, &alerts, o.now)?;
    Ok((raised, cancelled.len(), due.len()))
}
