//! Per-force statistics from the record itself: for each force, order type and quarter of a period, what was made,
//! changed and breached, what became of the breaches, which notification deadlines were missed, and how long things
//! took. A pure function of facts read from the database (`db::statistics`); definitions in docs/statistics.md.
//!
//! Quarters are calendar quarters (`2026-Q1` is January to March) of the London date of each event. An event counts
//! when its date falls within the period; "in force at the end" is counted on the last day of the quarter, or of the
//! period when it ends sooner.

mod applications;
mod group;
pub mod open_data;
mod quarter;

pub use group::GroupBy;
pub use quarter::Quarter;

use group::{row, Key};

use super::alert::BreachOutcome;
use super::application::{CourtOutcome, InternalDecision};
use super::{OrderEvent, OrderType};
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap};

/// The longest period one request may cover.
pub const MAX_PERIOD_DAYS: i64 = 10 * 366;

/// The days a request covers, first and last included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }
}

/// Orders of a force and type made in a quarter of the period and served the same number of days later (or not
/// served), as statistics need them. Facts hold quarters, not days: the database places each event in the quarter
/// of its London date and counts alike events together (`db::statistics`).
#[derive(Debug, Clone)]
pub struct OrderFact {
    pub force: String,
    /// The court that made the order (for an application, the court it went to), when there is one.
    pub court: Option<String>,
    pub order_type: OrderType,
    pub quarter: Quarter,
    /// Whole days from the day made to the day served (London date), when served.
    pub days_to_service: Option<i64>,
    /// How many.
    pub count: u64,
}

/// How many of a force's orders of one type were in force at the end of a quarter (see [`Quarter::ends`]). An order
/// is in force on a day when it was made on or before it, the last day of its fixed term (if it has one) is not
/// before it, and it did not stop being in force early (discharged, replaced, ceased, quashed, lapsed) on or before
/// it. Counted by the database (`db::statistics`), which reads no order one by one for it.
#[derive(Debug, Clone)]
pub struct InForceFact {
    pub force: String,
    /// The court that made the order (for an application, the court it went to), when there is one.
    pub court: Option<String>,
    pub order_type: OrderType,
    pub quarter: Quarter,
    pub count: u64,
}

/// A court's decision on an order after it was made: varied, renewed, discharged, quashed, or ceased.
#[derive(Debug, Clone)]
pub struct ChangeFact {
    pub force: String,
    /// The court that made the order (for an application, the court it went to), when there is one.
    pub court: Option<String>,
    pub order_type: OrderType,
    pub event: OrderEvent,
    /// The day the court decided, or the day it was recorded when no decision date was given.
    pub on: NaiveDate,
}

/// The breaches of a force's orders of one type that occurred in a quarter of the period.
#[derive(Debug, Clone)]
pub struct BreachFact {
    pub force: String,
    /// The court that made the order (for an application, the court it went to), when there is one.
    pub court: Option<String>,
    pub order_type: OrderType,
    pub quarter: Quarter,
    pub count: u64,
    /// Of `count`, those the force also recorded as a crime.
    pub recorded_as_crime: u64,
}

/// Breaches whose current outcome, the same, was recorded in a quarter of the period the same number of whole hours
/// after they occurred.
#[derive(Debug, Clone)]
pub struct OutcomeFact {
    pub force: String,
    /// The court that made the order (for an application, the court it went to), when there is one.
    pub court: Option<String>,
    pub order_type: OrderType,
    pub quarter: Quarter,
    pub outcome: BreachOutcome,
    /// Whole hours from the breach to the recording of its outcome.
    pub hours: i64,
    pub count: u64,
}

/// Notification deadlines due in a quarter of the period that the subject missed.
#[derive(Debug, Clone)]
pub struct MissedFact {
    pub force: String,
    /// The court that made the order (for an application, the court it went to), when there is one.
    pub court: Option<String>,
    pub order_type: OrderType,
    pub quarter: Quarter,
    pub count: u64,
}

/// A stage applications reached: the force's decision, the application to court, or the court's decision.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplicationStage {
    /// Authorised or refused inside the force, with the code of the reason it refused.
    Force {
        decision: InternalDecision,
        reason: Option<&'static str>,
    },
    /// Made to court, with the days since the stalking was first reported to police when that is known.
    ToCourt { days_from_report: Option<i64> },
    /// Decided by the court, with the code of the reason it refused and, for a grant, the days from the application
    /// to court to the day the order was made.
    Court {
        outcome: CourtOutcome,
        reason: Option<&'static str>,
        days_to_order: Option<i64>,
    },
}

/// Applications of a force for one order type that reached the same stage in a quarter of the period, alike.
#[derive(Debug, Clone)]
pub struct ApplicationFact {
    pub force: String,
    /// The court that made the order (for an application, the court it went to), when there is one.
    pub court: Option<String>,
    pub order_type: OrderType,
    pub quarter: Quarter,
    pub stage: ApplicationStage,
    pub count: u64,
}

/// The facts of a period: each list holds what happened within it, read with the period's bounds.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub orders: Vec<OrderFact>,
    pub in_force: Vec<InForceFact>,
    pub changes: Vec<ChangeFact>,
    pub breaches: Vec<BreachFact>,
    pub outcomes: Vec<OutcomeFact>,
    pub missed: Vec<MissedFact>,
    /// The applications with a stage (the force's decision, the application to court, the court's decision) within
    /// the period.
    pub applications: Vec<ApplicationFact>,
}

/// How a set of durations spreads: how many, their median and 90th percentile (nearest rank).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spread {
    pub count: usize,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

impl Spread {
    pub fn of(values: Vec<f64>) -> Spread {
        Spread::of_counted(values.into_iter().map(|v| (v, 1)).collect())
    }

    /// The spread of values each seen a number of times.
    pub fn of_counted(mut values: Vec<(f64, u64)>) -> Spread {
        values.sort_by(|a, b| a.0.total_cmp(&b.0));
        let n: u64 = values.iter().map(|v| v.1).sum();
        let rank = |p: f64| {
            // Nearest rank: the smallest value with at least p of the values at or below it.
            let k = ((p * n as f64).ceil() as u64).clamp(1, n);
            let mut seen = 0;
            values.iter().find_map(|(v, times)| {
                seen += times;
                (seen >= k).then_some(*v)
            })
        };
        Spread {
            count: n as usize,
            median: (n > 0).then(|| rank(0.5)).flatten(),
            p90: (n > 0).then(|| rank(0.9)).flatten(),
        }
    }
}

/// Breaches whose outcome was recorded in the quarter, by what it was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub no_further_action: u64,
    pub charged: u64,
    pub convicted: u64,
    pub acquitted: u64,
    pub contempt_found: u64,
}

/// A force's and a court's decisions on applications in the quarter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applications {
    /// Authorised by the force.
    pub authorised: u64,
    /// Refused inside the force, by reason code.
    pub refused_by_force: BTreeMap<&'static str, u64>,
    pub made_to_court: u64,
    pub granted: u64,
    /// Refused by the court, by reason code.
    pub refused_by_court: BTreeMap<&'static str, u64>,
    pub withdrawn: u64,
    /// Days from the first report to the application to court, for applications made to court in the quarter.
    pub days_report_to_court: Spread,
    /// Days from the application to court to the order, for the grants of the quarter.
    pub days_court_to_order: Spread,
}

impl Applications {
    fn is_empty(&self) -> bool {
        self.authorised + self.made_to_court + self.granted + self.withdrawn == 0
            && self.refused_by_force.is_empty()
            && self.refused_by_court.is_empty()
    }
}

/// The figures of one force's (or one court's) orders of one type in one quarter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// The force, when rows are by force.
    pub force: Option<String>,
    /// The court, when rows are by court: none for applications no court has seen.
    pub court: Option<String>,
    pub order_type: Option<OrderType>,
    pub quarter: String,
    pub orders_made: u64,
    pub in_force_at_end: u64,
    pub varied: u64,
    pub renewed: u64,
    pub discharged: u64,
    pub quashed: u64,
    pub ceased: u64,
    pub breaches_reported: u64,
    /// Of `breaches_reported`, those the force also recorded as a crime.
    pub breaches_recorded_as_crime: u64,
    pub outcomes: Outcomes,
    pub notifications_missed: u64,
    /// Days from an order being made to its service, for orders made in the quarter and served.
    pub days_to_service: Spread,
    /// Days from a breach to its outcome, for outcomes recorded in the quarter.
    pub days_breach_to_outcome: Spread,
    pub applications: Applications,
}

impl Row {
    /// Breaches reported per 100 orders in force at the quarter's end, when any were.
    pub fn breaches_per_100_in_force(&self) -> Option<f64> {
        (self.in_force_at_end > 0)
            .then(|| self.breaches_reported as f64 * 100.0 / self.in_force_at_end as f64)
    }

    fn is_empty(&self) -> bool {
        self.orders_made == 0
            && self.in_force_at_end == 0
            && self.varied + self.renewed + self.discharged + self.quashed + self.ceased == 0
            && self.breaches_reported == 0
            && self.outcomes == Outcomes::default()
            && self.notifications_missed == 0
            && self.applications.is_empty()
    }
}

/// The figures of a period, one row per force (or court), order type and quarter with anything to count, in that
/// order.
pub fn aggregate(period: Period, facts: &Facts, by: GroupBy) -> Vec<Row> {
    // Hashed while counting (a million facts over four years), sorted once at the end.
    let mut rows: HashMap<Key, Row> = HashMap::new();
    let mut service_days: HashMap<Key, Vec<(f64, u64)>> = HashMap::new();
    let mut outcome_days: HashMap<Key, Vec<(f64, u64)>> = HashMap::new();
    for o in &facts.orders {
        let key = by.key(&o.force, &o.court, o.order_type, o.quarter);
        row(&mut rows, by, key).orders_made += o.count;
        if let Some(days) = o.days_to_service {
            service_days
                .entry(key)
                .or_default()
                .push((days.max(0) as f64, o.count));
        }
    }
    for f in &facts.in_force {
        let key = by.key(&f.force, &f.court, f.order_type, f.quarter);
        row(&mut rows, by, key).in_force_at_end += f.count;
    }
    for c in facts.changes.iter().filter(|c| period.contains(c.on)) {
        let key = by.key(&c.force, &c.court, c.order_type, Quarter::of(c.on));
        let r = row(&mut rows, by, key);
        match c.event {
            OrderEvent::Varied => r.varied += 1,
            OrderEvent::Renewed => r.renewed += 1,
            OrderEvent::Discharged => r.discharged += 1,
            OrderEvent::Quashed => r.quashed += 1,
            OrderEvent::Ceased => r.ceased += 1,
            _ => {}
        }
    }
    for b in &facts.breaches {
        let r = row(
            &mut rows,
            by,
            by.key(&b.force, &b.court, b.order_type, b.quarter),
        );
        r.breaches_reported += b.count;
        r.breaches_recorded_as_crime += b.recorded_as_crime;
    }
    for o in &facts.outcomes {
        let key = by.key(&o.force, &o.court, o.order_type, o.quarter);
        let r = row(&mut rows, by, key);
        let counted = match o.outcome {
            BreachOutcome::NoFurtherAction => &mut r.outcomes.no_further_action,
            BreachOutcome::Charged => &mut r.outcomes.charged,
            BreachOutcome::Convicted => &mut r.outcomes.convicted,
            BreachOutcome::Acquitted => &mut r.outcomes.acquitted,
            BreachOutcome::ContemptFound => &mut r.outcomes.contempt_found,
            BreachOutcome::Reported | BreachOutcome::UnderInvestigation => continue,
        };
        *counted += o.count;
        outcome_days
            .entry(key)
            .or_default()
            .push((o.hours.max(0) as f64 / 24.0, o.count));
    }
    for m in &facts.missed {
        let key = by.key(&m.force, &m.court, m.order_type, m.quarter);
        row(&mut rows, by, key).notifications_missed += m.count;
    }
    applications::count(&mut rows, by, &facts.applications);
    for (key, days) in service_days {
        if let Some(r) = rows.get_mut(&key) {
            r.days_to_service = Spread::of_counted(days);
        }
    }
    for (key, days) in outcome_days {
        if let Some(r) = rows.get_mut(&key) {
            r.days_breach_to_outcome = Spread::of_counted(days);
        }
    }
    let mut rows: Vec<(Key, Row)> = rows.into_iter().filter(|(_, r)| !r.is_empty()).collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests;
