//! A month's facts as `statistics_months` keeps them (`months`): compact JSON, each fact a tuple of codes and
//! numbers, without its quarter (the month's), read back exactly as they were computed.

use crate::db::codec::parse_code;
use crate::domain::application::{CourtRefusalReason, InternalRefusalReason};
use crate::domain::statistics::{
    ApplicationFact, ApplicationStage, BreachFact, ChangeFact, Facts, InForceFact, MissedFact,
    OrderFact, OutcomeFact, Quarter,
};
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A month's facts as kept: each fact as a tuple of codes and numbers, without its quarter (the month's). Each
/// begins with the force, the court and the order type.
#[derive(Serialize, Deserialize, Default)]
struct Kept {
    /// Days to service, and how many.
    orders: Vec<KeptOrder>,
    in_force: Vec<Counted>,
    /// The event and the day.
    changes: Vec<(String, Option<String>, String, String, NaiveDate)>,
    /// How many, and how many recorded as a crime.
    breaches: Vec<(String, Option<String>, String, u64, u64)>,
    /// The outcome, the hours to it, and how many.
    outcomes: Vec<KeptOutcome>,
    missed: Vec<Counted>,
    /// The stage (`FORCE`, `TO_COURT`, `COURT`), its decision or outcome, reason and days.
    applications: Vec<KeptApplication>,
}

type KeptOrder = (String, Option<String>, String, Option<i64>, u64);

/// Facts that are only counted.
type Counted = (String, Option<String>, String, u64);

type KeptOutcome = (String, Option<String>, String, String, i64, u64);

type KeptApplication = (
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    u64,
);

pub(super) fn encode(f: &Facts) -> String {
    let kept = Kept {
        orders: (f.orders.iter())
            .map(|o| {
                (
                    o.force.clone(),
                    o.court.clone(),
                    o.order_type.as_str().into(),
                    o.days_to_service,
                    o.count,
                )
            })
            .collect(),
        in_force: (f.in_force.iter())
            .map(|o| {
                (
                    o.force.clone(),
                    o.court.clone(),
                    o.order_type.as_str().into(),
                    o.count,
                )
            })
            .collect(),
        changes: (f.changes.iter())
            .map(|c| {
                let event = c.event.as_str().into();
                (
                    c.force.clone(),
                    c.court.clone(),
                    c.order_type.as_str().into(),
                    event,
                    c.on,
                )
            })
            .collect(),
        breaches: (f.breaches.iter())
            .map(|b| {
                let kind = b.order_type.as_str().into();
                (
                    b.force.clone(),
                    b.court.clone(),
                    kind,
                    b.count,
                    b.recorded_as_crime,
                )
            })
            .collect(),
        outcomes: (f.outcomes.iter())
            .map(|o| {
                let (kind, outcome) = (o.order_type.as_str().into(), o.outcome.as_str().into());
                (
                    o.force.clone(),
                    o.court.clone(),
                    kind,
                    outcome,
                    o.hours,
                    o.count,
                )
            })
            .collect(),
        missed: (f.missed.iter())
            .map(|m| {
                (
                    m.force.clone(),
                    m.court.clone(),
                    m.order_type.as_str().into(),
                    m.count,
                )
            })
            .collect(),
        applications: f.applications.iter().map(encode_application).collect(),
    };
    serde_json::to_string(&kept).unwrap_or_default()
}

fn encode_application(a: &ApplicationFact) -> KeptApplication {
    let (stage, detail, reason, days) = match &a.stage {
        ApplicationStage::Force { decision, reason } => {
            ("FORCE", Some(decision.as_str()), *reason, None)
        }
        ApplicationStage::ToCourt { days_from_report } => {
            ("TO_COURT", None, None, *days_from_report)
        }
        ApplicationStage::Court {
            outcome,
            reason,
            days_to_order,
        } => ("COURT", Some(outcome.as_str()), *reason, *days_to_order),
    };
    let (detail, reason) = (detail.map(String::from), reason.map(String::from));
    let kind = a.order_type.as_str().into();
    let stage = stage.into();
    (
        a.force.clone(),
        a.court.clone(),
        kind,
        stage,
        detail,
        reason,
        days,
        a.count,
    )
}

/// A code kept in a month's facts.
fn code<T: std::str::FromStr<Err = String>>(value: &str) -> AppResult<T> {
    parse_code(value, "statistics_months.facts")
}

/// Longer than 80 lines: one fact kind after another, each the inverse of `encode`.
pub(super) fn decode(stored: &str, quarter: Quarter) -> AppResult<Facts> {
    let kept: Kept = serde_json::from_str(stored)
        .map_err(|e| AppError::internal(anyhow::anyhow!("bad facts in statistics_months: {e}")))?;
    let mut f = Facts::default();
    for (force, court, k, days_to_service, count) in kept.orders {
        let order_type = code(&k)?;
        f.orders.push(OrderFact {
            force,
            court,
            order_type,
            quarter,
            days_to_service,
            count,
        });
    }
    for (force, court, k, count) in kept.in_force {
        let order_type = code(&k)?;
        f.in_force.push(InForceFact {
            force,
            court,
            order_type,
            quarter,
            count,
        });
    }
    for (force, court, k, event, on) in kept.changes {
        let (order_type, event) = (code(&k)?, code(&event)?);
        f.changes.push(ChangeFact {
            force,
            court,
            order_type,
            event,
            on,
        });
    }
    for (force, court, k, count, recorded_as_crime) in kept.breaches {
        let order_type = code(&k)?;
        let fact = BreachFact {
            force,
            court,
            order_type,
            quarter,
            count,
            recorded_as_crime,
        };
        f.breaches.push(fact);
    }
    for (force, court, k, outcome, hours, count) in kept.outcomes {
        let (order_type, outcome) = (code(&k)?, code(&outcome)?);
        let fact = OutcomeFact {
            force,
            court,
            order_type,
            quarter,
            outcome,
            hours,
            count,
        };
        f.outcomes.push(fact);
    }
    for (force, court, k, count) in kept.missed {
        let order_type = code(&k)?;
        f.missed.push(MissedFact {
            force,
            court,
            order_type,
            quarter,
            count,
        });
    }
    for (force, court, k, stage, detail, reason, days, count) in kept.applications {
        let detail = detail.unwrap_or_default();
        let stage = match stage.as_str() {
            "FORCE" => ApplicationStage::Force {
                decision: code(&detail)?,
                reason: reason
                    .map(|r| code::<InternalRefusalReason>(&r).map(InternalRefusalReason::as_str))
                    .transpose()?,
            },
            "TO_COURT" => ApplicationStage::ToCourt {
                days_from_report: days,
            },
            _ => ApplicationStage::Court {
                outcome: code(&detail)?,
                reason: reason
                    .map(|r| code::<CourtRefusalReason>(&r).map(CourtRefusalReason::as_str))
                    .transpose()?,
                days_to_order: days,
            },
        };
        let order_type = code(&k)?;
        f.applications.push(ApplicationFact {
            force,
            court,
            order_type,
            quarter,
            stage,
            count,
        });
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alert::BreachOutcome;
    use crate::domain::application::{CourtOutcome, InternalDecision};
    use crate::domain::{OrderEvent, OrderType};

    #[test]
    fn facts_read_back_as_they_were_kept() {
        let quarter = Quarter::of("2026-02-01".parse().unwrap());
        let (force, court) = ("MET".to_string(), Some("WMC".to_string()));
        let application = |stage| ApplicationFact {
            force: force.clone(),
            court: None,
            order_type: OrderType::Spo,
            quarter,
            stage,
            count: 2,
        };
        let facts = Facts {
            orders: vec![OrderFact {
                force: force.clone(),
                court: court.clone(),
                order_type: OrderType::Dapo,
                quarter,
                days_to_service: Some(3),
                count: 4,
            }],
            in_force: vec![InForceFact {
                force: force.clone(),
                court: court.clone(),
                order_type: OrderType::Spo,
                quarter,
                count: 9,
            }],
            changes: vec![ChangeFact {
                force: force.clone(),
                court: court.clone(),
                order_type: OrderType::Spo,
                event: OrderEvent::Discharged,
                on: "2026-02-03".parse().unwrap(),
            }],
            breaches: vec![BreachFact {
                force: force.clone(),
                court: court.clone(),
                order_type: OrderType::Spo,
                quarter,
                count: 5,
                recorded_as_crime: 2,
            }],
            outcomes: vec![OutcomeFact {
                force: force.clone(),
                court: court.clone(),
                order_type: OrderType::Spo,
                quarter,
                outcome: BreachOutcome::ContemptFound,
                hours: 700,
                count: 1,
            }],
            missed: vec![MissedFact {
                force: force.clone(),
                court: None,
                order_type: OrderType::InterimSpo,
                quarter,
                count: 1,
            }],
            applications: vec![
                application(ApplicationStage::Force {
                    decision: InternalDecision::Refused,
                    reason: Some(InternalRefusalReason::InsufficientEvidence.as_str()),
                }),
                application(ApplicationStage::ToCourt {
                    days_from_report: Some(20),
                }),
                application(ApplicationStage::Court {
                    outcome: CourtOutcome::Refused,
                    reason: Some(CourtRefusalReason::TestNotMet.as_str()),
                    days_to_order: None,
                }),
            ],
        };
        let back = decode(&encode(&facts), quarter).unwrap();
        assert_eq!(format!("{back:?}"), format!("{facts:?}"));
        assert!(decode("{", quarter).is_err());
    }
}
