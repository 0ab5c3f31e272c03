//! The figures `statistics` answers with: counts and spreads, never an order, a person or a reference.

use crate::domain::statistics as figures;
use crate::graphql::enums::OrderType;
use async_graphql::{Object, SimpleObject};

/// How a set of durations spreads, in days.
#[derive(SimpleObject)]
pub struct Spread {
    /// How many durations were measured.
    pub count: i32,
    pub median: Option<f64>,
    /// The 90th percentile (nearest rank).
    pub p90: Option<f64>,
}

impl From<figures::Spread> for Spread {
    fn from(s: figures::Spread) -> Self {
        Spread {
            count: i32::try_from(s.count).unwrap_or(i32::MAX),
            median: s.median,
            p90: s.p90,
        }
    }
}

/// Breaches whose outcome was recorded in the quarter, by outcome.
#[derive(SimpleObject)]
pub struct BreachOutcomeCounts {
    pub no_further_action: u64,
    pub charged: u64,
    pub convicted: u64,
    pub acquitted: u64,
    pub contempt_found: u64,
}

/// How many of something there were for one reason (a reason code of `InternalRefusalReason` or
/// `CourtRefusalReason`).
#[derive(SimpleObject)]
pub struct ReasonCount {
    pub reason: String,
    pub count: u64,
}

fn by_reason(counts: &std::collections::BTreeMap<&'static str, u64>) -> Vec<ReasonCount> {
    counts
        .iter()
        .map(|(reason, count)| ReasonCount {
            reason: reason.to_string(),
            count: *count,
        })
        .collect()
}

/// Applications for orders of the row's type: the force's decisions, the court's, and how long each step took.
#[derive(SimpleObject)]
pub struct ApplicationFigures {
    /// Authorised inside the force in the quarter.
    pub authorised: u64,
    /// Refused inside the force in the quarter, by reason.
    pub refused_by_force: Vec<ReasonCount>,
    /// Made to court in the quarter.
    pub made_to_court: u64,
    /// Granted by the court in the quarter.
    pub granted: u64,
    /// Refused by the court in the quarter, by reason.
    pub refused_by_court: Vec<ReasonCount>,
    /// Withdrawn in the quarter.
    pub withdrawn: u64,
    /// Days from the first report to the application to court, for applications made to court in the quarter.
    pub days_report_to_court: Spread,
    /// Days from the application to court to the order, for the grants of the quarter.
    pub days_court_to_order: Spread,
}

/// One force's (or one court's) figures for one order type in one quarter (definitions: docs/statistics.md).
pub struct StatisticsRow(pub figures::Row);

#[Object]
impl StatisticsRow {
    /// The code of the force that applied for the orders (or issued the notices), when rows are by force.
    async fn force(&self) -> Option<&str> {
        self.0.force.as_deref()
    }
    /// The code of the court that made the orders (or that the applications went to), when rows are by court; null
    /// on the row of what no court has seen: applications decided inside the force, and police notices.
    async fn court(&self) -> Option<&str> {
        self.0.court.as_deref()
    }
    async fn order_type(&self) -> Option<OrderType> {
        self.0.order_type.map(Into::into)
    }
    /// The calendar quarter, as `2026-Q1`.
    async fn quarter(&self) -> &str {
        &self.0.quarter
    }
    /// Orders made in the quarter.
    async fn orders_made(&self) -> u64 {
        self.0.orders_made
    }
    /// Orders in force on the quarter's last day (or the period's, when it ends sooner).
    async fn in_force_at_end(&self) -> u64 {
        self.0.in_force_at_end
    }
    async fn varied(&self) -> u64 {
        self.0.varied
    }
    async fn renewed(&self) -> u64 {
        self.0.renewed
    }
    async fn discharged(&self) -> u64 {
        self.0.discharged
    }
    async fn quashed(&self) -> u64 {
        self.0.quashed
    }
    /// Notices and interim orders that ceased with the application they waited on.
    async fn ceased(&self) -> u64 {
        self.0.ceased
    }
    /// Breaches that occurred in the quarter.
    async fn breaches_reported(&self) -> u64 {
        self.0.breaches_reported
    }
    /// Of the breaches that occurred in the quarter, those the force also recorded as a crime.
    async fn breaches_recorded_as_crime(&self) -> u64 {
        self.0.breaches_recorded_as_crime
    }
    /// Breaches reported per 100 orders in force at the quarter's end; null when none were in force.
    async fn breaches_per_100_in_force(&self) -> Option<f64> {
        self.0.breaches_per_100_in_force()
    }
    async fn breach_outcomes(&self) -> BreachOutcomeCounts {
        let o = &self.0.outcomes;
        BreachOutcomeCounts {
            no_further_action: o.no_further_action,
            charged: o.charged,
            convicted: o.convicted,
            acquitted: o.acquitted,
            contempt_found: o.contempt_found,
        }
    }
    /// Notification deadlines due in the quarter that the subject missed.
    async fn notifications_missed(&self) -> u64 {
        self.0.notifications_missed
    }
    /// Days from an order being made to its service, for the orders made in the quarter and served.
    async fn days_to_service(&self) -> Spread {
        self.0.days_to_service.clone().into()
    }
    /// Days from a breach to its outcome, for the outcomes recorded in the quarter.
    async fn days_breach_to_outcome(&self) -> Spread {
        self.0.days_breach_to_outcome.clone().into()
    }
    /// Applications for orders of this type, by the day of each decision.
    async fn applications(&self) -> ApplicationFigures {
        let a = &self.0.applications;
        ApplicationFigures {
            authorised: a.authorised,
            refused_by_force: by_reason(&a.refused_by_force),
            made_to_court: a.made_to_court,
            granted: a.granted,
            refused_by_court: by_reason(&a.refused_by_court),
            withdrawn: a.withdrawn,
            days_report_to_court: a.days_report_to_court.clone().into(),
            days_court_to_order: a.days_court_to_order.clone().into(),
        }
    }
}
