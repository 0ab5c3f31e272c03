//! A month's facts as `statistics_months` keeps them (`months`): compact JSON, the facts grouped by force, court
//! and order type, each a tuple of codes and numbers without its quarter (the month's), read back exactly as they
//! were computed.

use crate::db::codec::parse_code;
use crate::domain::application::{CourtRefusalReason, InternalRefusalReason};
use crate::domain::statistics::{
    ApplicationFact, ApplicationStage, BreachFact, ChangeFact, Facts, InForceFact, MissedFact,
    OrderFact, OutcomeFact, Quarter,
};
use crate::domain::OrderType;
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the kept facts mean: raise it whenever a figure is counted differently (what `db::statistics` reads, or
/// how), so that months kept before are computed again rather than read back under the new meaning.
const FACTS_VERSION: u32 = 1;

/// A month's facts as kept.
#[derive(Serialize, Deserialize)]
struct Kept {
    version: u32,
    groups: Vec<Group>,
}

/// The facts of one force, court and order type in a month. Lists left empty are not written.
#[derive(Serialize, Deserialize, Default)]
struct Group {
    force: String,
    court: Option<String>,
    #[serde(rename = "type")]
    order_type: String,
    /// Orders made: days to service, and how many.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    made: Vec<(Option<i64>, u64)>,
    /// Orders in force at the month's end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    in_force: Vec<u64>,
    /// Decisions on orders: the event and its day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    changes: Vec<(String, NaiveDate)>,
    /// Breaches: how many, and how many recorded as a crime.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    breaches: Vec<(u64, u64)>,
    /// Outcomes: the outcome, the hours to it, and how many.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    outcomes: Vec<(String, i64, u64)>,
    /// Missed notification deadlines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    missed: Vec<u64>,
    /// Applications: the stage (`FORCE`, `TO_COURT`, `COURT`), its decision or outcome, reason, days, how many.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    applications: Vec<KeptApplication>,
}

type KeptApplication = (String, Option<String>, Option<String>, Option<i64>, u64);

type GroupKey = (String, Option<String>, &'static str);

/// The group of a force, court and order type, made empty when first asked for.
fn group<'a>(
    groups: &'a mut BTreeMap<GroupKey, Group>,
    force: &str,
    court: &Option<String>,
    order_type: OrderType,
) -> &'a mut Group {
    groups
        .entry((force.to_string(), court.clone(), order_type.as_str()))
        .or_insert_with(|| Group {
            force: force.to_string(),
            court: court.clone(),
            order_type: order_type.as_str().into(),
            ..Group::default()
        })
}

pub(super) fn encode(f: &Facts) -> String {
    let mut groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
    for o in &f.orders {
        group(&mut groups, &o.force, &o.court, o.order_type)
            .made
            .push((o.days_to_service, o.count));
    }
    for o in &f.in_force {
        group(&mut groups, &o.force, &o.court, o.order_type)
            .in_force
            .push(o.count);
    }
    for c in &f.changes {
        let event = c.event.as_str().into();
        group(&mut groups, &c.force, &c.court, c.order_type)
            .changes
            .push((event, c.on));
    }
    for b in &f.breaches {
        let counts = (b.count, b.recorded_as_crime);
        group(&mut groups, &b.force, &b.court, b.order_type)
            .breaches
            .push(counts);
    }
    for o in &f.outcomes {
        let outcome = (o.outcome.as_str().into(), o.hours, o.count);
        group(&mut groups, &o.force, &o.court, o.order_type)
            .outcomes
            .push(outcome);
    }
    for m in &f.missed {
        group(&mut groups, &m.force, &m.court, m.order_type)
            .missed
            .push(m.count);
    }
    for a in &f.applications {
        group(&mut groups, &a.force, &a.court, a.order_type)
            .applications
            .push(encode_application(a));
    }
    let kept = Kept {
        version: FACTS_VERSION,
        groups: groups.into_values().collect(),
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
    (
        stage.into(),
        detail.map(String::from),
        reason.map(String::from),
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
    let bad = |what: String| AppError::internal(anyhow::anyhow!("statistics_months.facts: {what}"));
    let kept: Kept = serde_json::from_str(stored).map_err(|e| bad(e.to_string()))?;
    if kept.version != FACTS_VERSION {
        return Err(bad(format!("kept as version {}", kept.version)));
    }
    let mut f = Facts::default();
    for g in kept.groups {
        let order_type: OrderType = code(&g.order_type)?;
        let (force, court) = (g.force, g.court);
        for (days_to_service, count) in g.made {
            f.orders.push(OrderFact {
                force: force.clone(),
                court: court.clone(),
                order_type,
                quarter,
                days_to_service,
                count,
            });
        }
        for count in g.in_force {
            f.in_force.push(InForceFact {
                force: force.clone(),
                court: court.clone(),
                order_type,
                quarter,
                count,
            });
        }
        for (event, on) in g.changes {
            f.changes.push(ChangeFact {
                force: force.clone(),
                court: court.clone(),
                order_type,
                event: code(&event)?,
                on,
            });
        }
        for (count, recorded_as_crime) in g.breaches {
            f.breaches.push(BreachFact {
                force: force.clone(),
                court: court.clone(),
                order_type,
                quarter,
                count,
                recorded_as_crime,
            });
        }
        for (outcome, hours, count) in g.outcomes {
            f.outcomes.push(OutcomeFact {
                force: force.clone(),
                court: court.clone(),
                order_type,
                quarter,
                outcome: code(&outcome)?,
                hours,
                count,
            });
        }
        for count in g.missed {
            f.missed.push(MissedFact {
                force: force.clone(),
                court: court.clone(),
                order_type,
                quarter,
                count,
            });
        }
        for (stage, detail, reason, days, count) in g.applications {
            f.applications.push(ApplicationFact {
                force: force.clone(),
                court: court.clone(),
                order_type,
                quarter,
                stage: decode_stage(&stage, detail.as_deref(), reason.as_deref(), days)?,
                count,
            });
        }
    }
    Ok(f)
}

fn decode_stage(
    stage: &str,
    detail: Option<&str>,
    reason: Option<&str>,
    days: Option<i64>,
) -> AppResult<ApplicationStage> {
    let detail = detail.unwrap_or_default();
    Ok(match stage {
        "FORCE" => ApplicationStage::Force {
            decision: code(detail)?,
            reason: reason
                .map(|r| code::<InternalRefusalReason>(r).map(InternalRefusalReason::as_str))
                .transpose()?,
        },
        "TO_COURT" => ApplicationStage::ToCourt {
            days_from_report: days,
        },
        "COURT" => ApplicationStage::Court {
            outcome: code(detail)?,
            reason: reason
                .map(|r| code::<CourtRefusalReason>(r).map(CourtRefusalReason::as_str))
                .transpose()?,
            days_to_order: days,
        },
        other => {
            return Err(AppError::internal(anyhow::anyhow!(
                "statistics_months.facts: stage {other}"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alert::BreachOutcome;
    use crate::domain::application::{CourtOutcome, InternalDecision};
    use crate::domain::{OrderEvent, OrderType};

    /// Longer than 80 lines: one fact of each kind, written out.
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
        let older =
            encode(&facts).replace(&format!("\"version\":{FACTS_VERSION}"), "\"version\":0");
        assert!(
            decode(&older, quarter).is_err(),
            "facts counted another way are computed again"
        );
        let unknown = encode(&facts).replace("\"TO_COURT\"", "\"LATER\"");
        assert!(decode(&unknown, quarter).is_err());
    }
}
