//! The applications' figures of a quarter: the force's decisions, the applications made to court, the court's
//! decisions, and the days from report to court and from court to order.

use super::{row, ApplicationFact, Key, Period, Quarter, Spread};
use crate::domain::application::{CourtOutcome, InternalDecision};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// The applications' stages, each in the quarter of its day, and the spreads of the days between them.
pub(super) fn count(
    rows: &mut BTreeMap<Key, super::Row>,
    period: Period,
    apps: &[ApplicationFact],
) {
    let mut to_court: BTreeMap<Key, Vec<f64>> = BTreeMap::new();
    let mut to_order: BTreeMap<Key, Vec<f64>> = BTreeMap::new();
    let key = |a: &ApplicationFact, day: NaiveDate| {
        (a.force.clone(), a.order_type.as_str(), Quarter::of(day))
    };
    for a in apps {
        if let Some((decision, on, reason)) = a.internal.filter(|(_, on, _)| period.contains(*on)) {
            let r = &mut row(rows, &a.force, a.order_type, Quarter::of(on)).applications;
            match decision {
                InternalDecision::Authorised => r.authorised += 1,
                InternalDecision::Refused => {
                    *r.refused_by_force
                        .entry(reason.unwrap_or("OTHER"))
                        .or_default() += 1
                }
            }
        }
        if let Some(on) = a.made_to_court_on.filter(|on| period.contains(*on)) {
            row(rows, &a.force, a.order_type, Quarter::of(on))
                .applications
                .made_to_court += 1;
            if let Some(reported) = a.reported_on {
                to_court
                    .entry(key(a, on))
                    .or_default()
                    .push((on - reported).num_days().max(0) as f64);
            }
        }
        let Some(d) = a
            .court_outcome
            .as_ref()
            .filter(|d| period.contains(d.decided_on))
        else {
            continue;
        };
        let r = &mut row(rows, &a.force, a.order_type, Quarter::of(d.decided_on)).applications;
        match d.outcome {
            CourtOutcome::Granted => {
                r.granted += 1;
                if let (Some(applied), Some(made)) = (a.made_to_court_on, a.order_made_on) {
                    to_order
                        .entry(key(a, d.decided_on))
                        .or_default()
                        .push((made - applied).num_days().max(0) as f64);
                }
            }
            CourtOutcome::Refused => {
                let reason = d.refusal_reason.map_or("OTHER", |r| r.as_str());
                *r.refused_by_court.entry(reason).or_default() += 1;
            }
            CourtOutcome::Withdrawn => r.withdrawn += 1,
            CourtOutcome::Adjourned => {}
        }
    }
    for (k, days) in to_court {
        if let Some(r) = rows.get_mut(&k) {
            r.applications.days_report_to_court = Spread::of(days);
        }
    }
    for (k, days) in to_order {
        if let Some(r) = rows.get_mut(&k) {
            r.applications.days_court_to_order = Spread::of(days);
        }
    }
}
