//! The applications' figures of a quarter: the force's decisions, the applications made to court, the court's
//! decisions, and the days from report to court and from court to order.

use super::{row, ApplicationFact, ApplicationStage, GroupBy, Key, Spread};
use crate::domain::application::{CourtOutcome, InternalDecision};
use std::collections::HashMap;

/// The applications' stages, each in the quarter of its day, and the spreads of the days between them.
pub(super) fn count<'a>(
    rows: &mut HashMap<Key<'a>, super::Row>,
    by: GroupBy,
    apps: &'a [ApplicationFact],
) {
    let mut to_court: HashMap<Key, Vec<(f64, u64)>> = HashMap::new();
    let mut to_order: HashMap<Key, Vec<(f64, u64)>> = HashMap::new();
    for a in apps {
        let key = || by.key(&a.force, &a.court, a.order_type, a.quarter);
        let r = &mut row(rows, by, key()).applications;
        match &a.stage {
            ApplicationStage::Force { decision, reason } => match decision {
                InternalDecision::Authorised => r.authorised += a.count,
                InternalDecision::Refused => {
                    *r.refused_by_force
                        .entry(reason.unwrap_or("OTHER"))
                        .or_default() += a.count
                }
            },
            ApplicationStage::ToCourt { days_from_report } => {
                r.made_to_court += a.count;
                if let Some(days) = days_from_report {
                    to_court
                        .entry(key())
                        .or_default()
                        .push(((*days).max(0) as f64, a.count));
                }
            }
            ApplicationStage::Court {
                outcome,
                reason,
                days_to_order,
            } => match outcome {
                CourtOutcome::Granted => {
                    r.granted += a.count;
                    if let Some(days) = days_to_order {
                        to_order
                            .entry(key())
                            .or_default()
                            .push(((*days).max(0) as f64, a.count));
                    }
                }
                CourtOutcome::Refused => {
                    *r.refused_by_court
                        .entry(reason.unwrap_or("OTHER"))
                        .or_default() += a.count
                }
                CourtOutcome::Withdrawn => r.withdrawn += a.count,
                CourtOutcome::Adjourned => {}
            },
        }
    }
    for (k, days) in to_court {
        if let Some(r) = rows.get_mut(&k) {
            r.applications.days_report_to_court = Spread::of_counted(days);
        }
    }
    for (k, days) in to_order {
        if let Some(r) = rows.get_mut(&k) {
            r.applications.days_court_to_order = Spread::of_counted(days);
        }
    }
}
