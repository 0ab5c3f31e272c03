//! A police force's application for an order, from the report that prompted it to the court's decision: the stages
//! statistics count (`domain::statistics`), recorded once each. A force applies to a magistrates' court for an SPO
//! (Stalking Protection Act 2019 s1(1)) or an interim SPO pending it (s5), for a DVPO after a DVPN, a DAPO, or an
//! SHPO; the other order types are not made on a police application.

use super::validation::{check_note, validate_reference, validate_reference_namespace};
use super::{OrderType, Violations};
use crate::codes;
use chrono::{DateTime, NaiveDate, Utc};

code_enum!(
    /// The force's own decision whether to apply.
    InternalDecision {
        Authorised => "AUTHORISED",
        Refused => "REFUSED",
    }
);

code_enum!(
    /// Why a force decided not to apply (a fixed list, so that refusals can be counted).
    InternalRefusalReason {
        InsufficientEvidence => "INSUFFICIENT_EVIDENCE",
        TestNotMet => "TEST_NOT_MET",
        OtherMeasuresInPlace => "OTHER_MEASURES_IN_PLACE",
        VictimDoesNotSupport => "VICTIM_DOES_NOT_SUPPORT",
        SubjectInCustody => "SUBJECT_IN_CUSTODY",
        Other => "OTHER",
    }
);

code_enum!(
    /// Why a court made an SPO with no police application: of its own motion on convicting or acquitting the
    /// subject (the Crime and Policing Bill's provision; `ORDERWATCH_COURT_MADE_SPO`).
    CourtMotion {
        OnConviction => "ON_CONVICTION",
        OnAcquittal => "ON_ACQUITTAL",
    }
);

code_enum!(
    /// What the court did with the application. `ADJOURNED` is not a decision: a later outcome follows it.
    CourtOutcome {
        Granted => "GRANTED",
        Refused => "REFUSED",
        Withdrawn => "WITHDRAWN",
        Adjourned => "ADJOURNED",
    }
);

code_enum!(
    /// Why the court refused the application.
    CourtRefusalReason {
        TestNotMet => "TEST_NOT_MET",
        InsufficientEvidence => "INSUFFICIENT_EVIDENCE",
        NotNecessary => "NOT_NECESSARY",
        ProceduralDefect => "PROCEDURAL_DEFECT",
        Other => "OTHER",
    }
);

impl OrderType {
    /// Whether a police force applies to a court for this type of order.
    pub fn applied_for_by_police(self) -> bool {
        matches!(
            self,
            OrderType::Spo
                | OrderType::InterimSpo
                | OrderType::Dvpo
                | OrderType::Dapo
                | OrderType::Shpo
        )
    }
}

/// The stages a force records: when the conduct was first reported (the crime report's date, no narrative), its own
/// decision, and when it applied to which court. Each may be given when the application is first recorded or later,
/// and each is recorded once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForceStages {
    pub reported_on: Option<NaiveDate>,
    pub internal_decision: Option<InternalDecision>,
    pub internal_decision_on: Option<NaiveDate>,
    pub internal_refusal_reason: Option<InternalRefusalReason>,
    pub made_to_court_on: Option<NaiveDate>,
    pub court: Option<String>,
}

/// The court's decision on an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourtDecision {
    pub outcome: CourtOutcome,
    pub decided_on: NaiveDate,
    pub refusal_reason: Option<CourtRefusalReason>,
}

/// An application as recorded.
#[derive(Debug, Clone)]
pub struct ApplicationRecord {
    pub id: String,
    pub reference: String,
    pub force: String,
    pub order_type: OrderType,
    pub stages: ForceStages,
    pub court_outcome: Option<CourtDecision>,
    /// The order granted on it.
    pub order_reference: Option<String>,
    /// For an interim SPO's application, the reference of the main application it is pending.
    pub main_application: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The checks of a new application's own fields and its stages.
pub fn validate_new(
    reference: &str,
    force: &str,
    order_type: OrderType,
    stages: &ForceStages,
    note: Option<&str>,
    today: NaiveDate,
) -> Violations {
    let mut v = Violations::default();
    validate_reference(reference, "reference", &mut v);
    if !v.names_field("reference") {
        validate_reference_namespace(reference, force, &mut v);
    }
    if !order_type.applied_for_by_police() {
        v.push(
            codes::NOT_APPLIED_FOR_BY_POLICE,
            "orderType",
            format!("a {order_type} is not made on a police application"),
        );
    }
    check_note(note, "note", &mut v);
    check_stages(stages, today, &mut v);
    v
}

/// The stages, whole: no day in the future, each after the one before, a refusal with its reason and never taken to
/// court, an application to court only once authorised and naming the court.
pub fn check_stages(s: &ForceStages, today: NaiveDate, v: &mut Violations) {
    let days = [
        ("reportedOn", s.reported_on),
        ("internalDecisionOn", s.internal_decision_on),
        ("madeToCourtOn", s.made_to_court_on),
    ];
    for (field, day) in days {
        if day.is_some_and(|d| d > today) {
            v.push(
                codes::DATE_IN_FUTURE,
                field,
                format!("{field} is after today ({today})"),
            );
        }
    }
    let given: Vec<(&str, NaiveDate)> = days
        .iter()
        .filter_map(|(f, d)| d.map(|d| (*f, d)))
        .collect();
    for pair in given.windows(2) {
        if pair[1].1 < pair[0].1 {
            v.push(
                codes::STAGES_OUT_OF_ORDER,
                pair[1].0,
                format!(
                    "{} ({}) is before {} ({})",
                    pair[1].0, pair[1].1, pair[0].0, pair[0].1
                ),
            );
        }
    }
    if s.internal_decision.is_some() != s.internal_decision_on.is_some() {
        v.push(
            codes::INCOMPLETE_STAGE,
            "internalDecisionOn",
            "give internalDecision and internalDecisionOn together",
        );
    }
    match (s.internal_decision, s.internal_refusal_reason) {
        (Some(InternalDecision::Refused), None) => v.push(
            codes::INCOMPLETE_STAGE,
            "internalRefusalReason",
            "a refusal inside the force needs its reason",
        ),
        (Some(InternalDecision::Authorised) | None, Some(_)) => v.push(
            codes::INCOMPLETE_STAGE,
            "internalRefusalReason",
            "a refusal reason goes with internalDecision: REFUSED only",
        ),
        _ => {}
    }
    if s.made_to_court_on.is_some() != s.court.is_some() {
        v.push(
            codes::INCOMPLETE_STAGE,
            "court",
            "give madeToCourtOn and court together",
        );
    }
    if s.made_to_court_on.is_some() && s.internal_decision != Some(InternalDecision::Authorised) {
        v.push(
            codes::INCOMPLETE_STAGE,
            "internalDecision",
            "an application is made to court once the force has authorised it (internalDecision: AUTHORISED)",
        );
    }
}

/// The stages after adding `new` to `old`: each stage given once. A stage given again with the same value changes
/// nothing (a retried request); with another value it is refused with the field it names.
pub fn merge_stages(
    old: &ForceStages,
    new: &ForceStages,
) -> Result<ForceStages, (&'static str, &'static str)> {
    fn one<T: Clone + PartialEq>(
        old: &Option<T>,
        new: &Option<T>,
        field: &'static str,
    ) -> Result<Option<T>, (&'static str, &'static str)> {
        match (old, new) {
            (Some(a), Some(b)) if a != b => Err((codes::STAGE_ALREADY_RECORDED, field)),
            (Some(a), _) => Ok(Some(a.clone())),
            (None, b) => Ok(b.clone()),
        }
    }
    Ok(ForceStages {
        reported_on: one(&old.reported_on, &new.reported_on, "reportedOn")?,
        internal_decision: one(
            &old.internal_decision,
            &new.internal_decision,
            "internalDecision",
        )?,
        internal_decision_on: one(
            &old.internal_decision_on,
            &new.internal_decision_on,
            "internalDecisionOn",
        )?,
        internal_refusal_reason: one(
            &old.internal_refusal_reason,
            &new.internal_refusal_reason,
            "internalRefusalReason",
        )?,
        made_to_court_on: one(
            &old.made_to_court_on,
            &new.made_to_court_on,
            "madeToCourtOn",
        )?,
        court: one(&old.court, &new.court, "court")?,
    })
}

/// The checks of a court's decision on an application made to it on `made_to_court_on`.
pub fn check_decision(
    d: &CourtDecision,
    made_to_court_on: NaiveDate,
    has_order: bool,
    today: NaiveDate,
) -> Violations {
    let mut v = Violations::default();
    if d.decided_on > today {
        v.push(
            codes::DATE_IN_FUTURE,
            "decidedOn",
            format!("decidedOn is after today ({today})"),
        );
    }
    if d.decided_on < made_to_court_on {
        v.push(
            codes::STAGES_OUT_OF_ORDER,
            "decidedOn",
            format!("decidedOn is before the application was made to court ({made_to_court_on})"),
        );
    }
    match (d.outcome, d.refusal_reason) {
        (CourtOutcome::Refused, None) => v.push(
            codes::INCOMPLETE_STAGE,
            "refusalReason",
            "a refusal needs its reason",
        ),
        (CourtOutcome::Granted | CourtOutcome::Withdrawn | CourtOutcome::Adjourned, Some(_)) => v
            .push(
                codes::INCOMPLETE_STAGE,
                "refusalReason",
                "a refusal reason goes with outcome: REFUSED only",
            ),
        _ => {}
    }
    if (d.outcome == CourtOutcome::Granted) != has_order {
        v.push(
            codes::INCOMPLETE_STAGE,
            "orderReference",
            "a grant names the order made on it (orderReference), and only a grant does",
        );
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn codes(v: &Violations) -> Vec<&'static str> {
        v.codes()
    }

    #[test]
    fn stages_follow_one_another_and_refusals_carry_reasons() {
        let today = d("2026-05-01");
        let ok = ForceStages {
            reported_on: Some(d("2026-01-05")),
            internal_decision: Some(InternalDecision::Authorised),
            internal_decision_on: Some(d("2026-01-20")),
            internal_refusal_reason: None,
            made_to_court_on: Some(d("2026-01-20")),
            court: Some("WMC".into()),
        };
        let mut v = Violations::default();
        check_stages(&ok, today, &mut v);
        assert!(v.is_empty(), "{v:?}");

        let backwards = ForceStages {
            made_to_court_on: Some(d("2026-01-04")),
            ..ok.clone()
        };
        let mut v = Violations::default();
        check_stages(&backwards, today, &mut v);
        assert_eq!(codes(&v), [codes::STAGES_OUT_OF_ORDER]);

        let refused_to_court = ForceStages {
            internal_decision: Some(InternalDecision::Refused),
            internal_refusal_reason: Some(InternalRefusalReason::InsufficientEvidence),
            ..ok.clone()
        };
        let mut v = Violations::default();
        check_stages(&refused_to_court, today, &mut v);
        assert_eq!(codes(&v), [codes::INCOMPLETE_STAGE]);

        let future = ForceStages {
            reported_on: Some(d("2026-05-02")),
            ..ForceStages::default()
        };
        let mut v = Violations::default();
        check_stages(&future, today, &mut v);
        assert_eq!(codes(&v), [codes::DATE_IN_FUTURE]);
    }

    #[test]
    fn a_stage_is_recorded_once_and_a_retry_changes_nothing() {
        let first = ForceStages {
            reported_on: Some(d("2026-01-05")),
            ..ForceStages::default()
        };
        let later = ForceStages {
            reported_on: Some(d("2026-01-05")),
            internal_decision: Some(InternalDecision::Authorised),
            internal_decision_on: Some(d("2026-01-20")),
            ..ForceStages::default()
        };
        assert_eq!(merge_stages(&first, &later).unwrap(), later);
        let changed = ForceStages {
            reported_on: Some(d("2026-01-06")),
            ..ForceStages::default()
        };
        assert_eq!(
            merge_stages(&later, &changed),
            Err((codes::STAGE_ALREADY_RECORDED, "reportedOn"))
        );
    }

    #[test]
    fn only_orders_the_police_apply_for() {
        assert!(OrderType::Spo.applied_for_by_police());
        assert!(!OrderType::Dvpn.applied_for_by_police());
        assert!(!OrderType::RestrainingOrder.applied_for_by_police());
        assert!(!OrderType::NonMolestationOrder.applied_for_by_police());
    }
}
