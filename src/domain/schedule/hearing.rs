//! A police notice's hearing window: the application for the order that follows it must be heard within 48 hours.

use super::*;

/// The hearing window of a DVPN or DAPN, with its warnings and the moment the notice lapses.
pub(super) fn hearing_window(f: &OrderFacts, rules: &ScheduleRules, out: &mut Plan) {
    // A notice's hearing window: the DVPO/DAPO application must be heard within 48 hours.
    if !matches!(f.order_type, OrderType::Dvpn | OrderType::Dapn) {
        return;
    }
    // One window, from service (a notice is served personally, CSA 2010 s25(2), DA Act 2021 s25(3)); until service
    // is recorded, from when the notice was recorded.
    let start = f.served_at.unwrap_or(f.recorded_at);
    let due_at = hours_excluding(start, NOTICE_HEARING_HOURS, &rules.excluded);
    let (rule, statute) = if f.order_type == OrderType::Dapn {
        (
            "48 hours after the notice was given, disregarding Sundays, Christmas Day, Good Friday and bank holidays",
            "Domestic Abuse Act 2021 s29(2),(3)",
        )
    } else {
        (
            "48 hours after the notice was served, disregarding Sundays, Christmas Day, Good Friday and bank holidays",
            "Crime and Security Act 2010 s27(3),(4)",
        )
    };
    // The hearing began in time: heard, or begun and adjourned (the notice then stays in force until the
    // application is determined or withdrawn: CSA 2010 s27(9), DA Act 2021 s29(7)).
    let began = f
        .hearings
        .iter()
        .filter(|h| {
            matches!(
                h.outcome,
                Some(HearingOutcome::Heard | HearingOutcome::Adjourned | HearingOutcome::Refused)
            )
        })
        .filter_map(|h| h.held_at)
        .filter(|at| *at <= due_at)
        .min();
    let (status, met_at) = match (began, f.status) {
        (Some(at), _) => (DeadlineStatus::Met, Some(at)),
        // Replaced by the order applied for, or ended by its refusal or withdrawal, within the window: the
        // application was dealt with in time. Dealt with only after the window closed, the window was missed.
        (None, OrderStatus::Replaced | OrderStatus::Ceased)
            if f.ended_at.is_none_or(|ended| ended <= due_at) =>
        {
            (DeadlineStatus::Met, None)
        }
        (None, OrderStatus::Replaced | OrderStatus::Ceased) => (DeadlineStatus::Missed, None),
        (None, OrderStatus::Lapsed) => (DeadlineStatus::Missed, None),
        (None, _) => (f.unmet(due_at), None),
    };
    if status == DeadlineStatus::Open {
        for w in &rules.hearing_warnings {
            out.triggers.push(TriggerSpec {
                kind: AlertKind::HearingDeadline,
                fire_at: due_at - *w,
                due_at,
                occasion: format!("{}h", w.num_hours()),
            });
        }
        out.triggers.push(TriggerSpec {
            kind: AlertKind::HearingDeadline,
            fire_at: due_at,
            due_at,
            occasion: OCCASION_LAPSED.into(),
        });
    }
    out.deadlines.push(DeadlineSpec {
        kind: DeadlineKind::HearingWindow,
        occasion: String::new(),
        due_at,
        status,
        met_at,
        rule: rule.into(),
        statute,
    });
}
