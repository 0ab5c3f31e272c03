//! Per-force statistics from the record itself: for each force, order type and quarter of a period, what was made,
//! changed and breached, what became of the breaches, which notification deadlines were missed, and how long things
//! took. A pure function of facts read from the database (`db::statistics`); definitions in docs/statistics.md.
//!
//! Quarters are calendar quarters (`2026-Q1` is January to March) of the London date of each event. An event counts
//! when its date falls within the period; "in force at the end" is counted on the last day of the quarter, or of the
//! period when it ends sooner.

mod applications;
pub mod open_data;

use super::alert::BreachOutcome;
use super::application::{CourtDecision, InternalDecision};
use super::{OrderEvent, OrderType};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use std::collections::BTreeMap;

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

/// An order, as statistics need it.
#[derive(Debug, Clone)]
pub struct OrderFact {
    pub force: String,
    pub order_type: OrderType,
    pub made_on: NaiveDate,
    /// The last day of its fixed term, if it has one.
    pub last_day: Option<NaiveDate>,
    /// The day it stopped being in force before its term ended (discharged, replaced, ceased, quashed, lapsed).
    pub ended_on: Option<NaiveDate>,
    /// The day the subject was served (London date).
    pub served_on: Option<NaiveDate>,
}

impl OrderFact {
    /// In force on `day`: made by then, its term not over, not ended early.
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.made_on <= day
            && self.last_day.is_none_or(|last| day <= last)
            && self.ended_on.is_none_or(|ended| day < ended)
    }
}

/// A court's decision on an order after it was made: varied, renewed, discharged, quashed, or ceased.
#[derive(Debug, Clone)]
pub struct ChangeFact {
    pub force: String,
    pub order_type: OrderType,
    pub event: OrderEvent,
    /// The day the court decided, or the day it was recorded when no decision date was given.
    pub on: NaiveDate,
}

/// A breach and what became of it.
#[derive(Debug, Clone)]
pub struct BreachFact {
    pub force: String,
    pub order_type: OrderType,
    pub occurred_at: DateTime<Utc>,
    pub outcome: BreachOutcome,
    /// When its current outcome was recorded, if one was.
    pub outcome_at: Option<DateTime<Utc>>,
    pub recorded_as_crime: bool,
}

/// A notification deadline the subject missed.
#[derive(Debug, Clone)]
pub struct MissedFact {
    pub force: String,
    pub order_type: OrderType,
    pub due_on: NaiveDate,
}

/// An application for an order, as statistics need it.
#[derive(Debug, Clone)]
pub struct ApplicationFact {
    pub force: String,
    pub order_type: OrderType,
    pub reported_on: Option<NaiveDate>,
    /// The force's decision, its day, and the code of its reason when it refused.
    pub internal: Option<(InternalDecision, NaiveDate, Option<&'static str>)>,
    pub made_to_court_on: Option<NaiveDate>,
    pub court_outcome: Option<CourtDecision>,
    /// The day the order granted on it was made.
    pub order_made_on: Option<NaiveDate>,
}

/// The facts of a period.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Every order made on or before the period's last day (for those in force at a quarter's end).
    pub orders: Vec<OrderFact>,
    pub changes: Vec<ChangeFact>,
    pub breaches: Vec<BreachFact>,
    pub missed: Vec<MissedFact>,
    pub applications: Vec<ApplicationFact>,
}

/// A calendar quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4.
    pub number: u32,
}

impl Quarter {
    pub fn of(day: NaiveDate) -> Quarter {
        Quarter {
            year: day.year(),
            number: (day.month() - 1) / 3 + 1,
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.number - 1) * 3 + 1, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or(NaiveDate::MAX)
    }

    fn next(self) -> Quarter {
        if self.number == 4 {
            Quarter {
                year: self.year + 1,
                number: 1,
            }
        } else {
            Quarter {
                year: self.year,
                number: self.number + 1,
            }
        }
    }

    /// The quarters a period touches, in order.
    pub fn within(period: Period) -> Vec<Quarter> {
        let mut out = vec![];
        let mut q = Quarter::of(period.from);
        while q.first_day() <= period.to {
            out.push(q);
            q = q.next();
        }
        out
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}

/// How a set of durations spreads: how many, their median and 90th percentile (nearest rank).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spread {
    pub count: usize,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

impl Spread {
    pub fn of(mut values: Vec<f64>) -> Spread {
        values.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            // Nearest rank: the smallest value with at least p of the values at or below it.
            let n = values.len();
            let k = ((p * n as f64).ceil() as usize).clamp(1, n);
            values[k - 1]
        };
        Spread {
            count: values.len(),
            median: (!values.is_empty()).then(|| rank(0.5)),
            p90: (!values.is_empty()).then(|| rank(0.9)),
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

/// One force's figures for one order type in one quarter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub force: String,
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

const DAY_SECONDS: f64 = 86_400.0;

pub(super) type Key = (String, &'static str, Quarter);

/// The row of a force, order type and quarter, made empty when first asked for.
pub(super) fn row<'a>(
    rows: &'a mut BTreeMap<Key, Row>,
    force: &str,
    order_type: OrderType,
    quarter: Quarter,
) -> &'a mut Row {
    rows.entry((force.to_string(), order_type.as_str(), quarter))
        .or_insert_with(|| Row {
            force: force.to_string(),
            order_type: Some(order_type),
            quarter: quarter.to_string(),
            ..Row::default()
        })
}

/// The figures of a period, one row per force, order type and quarter with anything to count, in that order.
pub fn aggregate(period: Period, facts: &Facts) -> Vec<Row> {
    let mut rows: BTreeMap<Key, Row> = BTreeMap::new();
    let mut service_days: BTreeMap<Key, Vec<f64>> = BTreeMap::new();
    let mut outcome_days: BTreeMap<Key, Vec<f64>> = BTreeMap::new();
    let quarters = Quarter::within(period);
    for o in &facts.orders {
        if period.contains(o.made_on) {
            let q = Quarter::of(o.made_on);
            row(&mut rows, &o.force, o.order_type, q).orders_made += 1;
            if let Some(served) = o.served_on {
                let days = (served - o.made_on).num_days().max(0) as f64;
                service_days
                    .entry((o.force.clone(), o.order_type.as_str(), q))
                    .or_default()
                    .push(days);
            }
        }
        for q in &quarters {
            let end = q.last_day().min(period.to);
            if o.in_force_on(end) {
                row(&mut rows, &o.force, o.order_type, *q).in_force_at_end += 1;
            }
        }
    }
    for c in facts.changes.iter().filter(|c| period.contains(c.on)) {
        let r = row(&mut rows, &c.force, c.order_type, Quarter::of(c.on));
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
        let occurred = super::calendar::london_date(b.occurred_at);
        if period.contains(occurred) {
            let r = row(&mut rows, &b.force, b.order_type, Quarter::of(occurred));
            r.breaches_reported += 1;
            r.breaches_recorded_as_crime += u64::from(b.recorded_as_crime);
        }
        let Some(at) = b.outcome_at else { continue };
        let decided = super::calendar::london_date(at);
        if !period.contains(decided) {
            continue;
        }
        let q = Quarter::of(decided);
        let r = row(&mut rows, &b.force, b.order_type, q);
        let counted = match b.outcome {
            BreachOutcome::NoFurtherAction => &mut r.outcomes.no_further_action,
            BreachOutcome::Charged => &mut r.outcomes.charged,
            BreachOutcome::Convicted => &mut r.outcomes.convicted,
            BreachOutcome::Acquitted => &mut r.outcomes.acquitted,
            BreachOutcome::ContemptFound => &mut r.outcomes.contempt_found,
            BreachOutcome::Reported | BreachOutcome::UnderInvestigation => continue,
        };
        *counted += 1;
        let days = ((at - b.occurred_at).num_seconds().max(0) as f64) / DAY_SECONDS;
        outcome_days
            .entry((b.force.clone(), b.order_type.as_str(), q))
            .or_default()
            .push(days);
    }
    for m in facts.missed.iter().filter(|m| period.contains(m.due_on)) {
        row(&mut rows, &m.force, m.order_type, Quarter::of(m.due_on)).notifications_missed += 1;
    }
    applications::count(&mut rows, period, &facts.applications);
    for (key, days) in service_days {
        if let Some(r) = rows.get_mut(&key) {
            r.days_to_service = Spread::of(days);
        }
    }
    for (key, days) in outcome_days {
        if let Some(r) = rows.get_mut(&key) {
            r.days_breach_to_outcome = Spread::of(days);
        }
    }
    rows.into_values().filter(|r| !r.is_empty()).collect()
}

#[cfg(test)]
mod tests;
