//! A police notice's hearing window: the application for the order that follows it must be heard within 48 hours.

use super::*;

/// The hearing window of a DVPN or DAPN, with its warnings and the moment the notice lapses.
pub(super) fn hearing_window(f: &OrderFacts, rules: &ScheduleRules, out: &mut Plan) {
    // A notice's hearing window: the DVPO/DAPO application must be heard within 48 hours.
    if matches!(f.order_type, OrderType::Dvpn | OrderType::Dapn) {
        let start = f.served_at.unwrap_or(f.recorded_at);
        let (due_at, rule, statute) = if f.order_type == OrderType::Dapn {
            (hours_excluding(start, NOTICE_HEARING_HOURS, &rules.excluded), "48 hours from the notice, not counting Sundays, Christmas Day, Good Friday or bank holidays", "Domestic Abuse Act 2021 s29")
        } else if DVPN_WINDOW_EXCLUDES_DAYS {
            (
                hours_excluding(start, NOTICE_HEARING_HOURS, &rules.excluded),
                "48 hours from service, not counting excluded days",
                "Crime and Security Act 2010 s27",
            )
        } else {
            (
                start + Duration::hours(NOTICE_HEARING_HOURS),
                "48 hours from service of the notice",
                "Crime and Security Act 2010 s27",
            )
        };
        let held = f
            .hearings
            .iter()
            .filter(|h| h.outcome == Some(HearingOutcome::Heard))
            .filter_map(|h| h.held_at)
            .filter(|at| *at <= due_at)
            .min();
        let (status, met_at) = match (held, f.status) {
            (Some(at), _) => (DeadlineStatus::Met, Some(at)),
            // Replaced by the order applied for: the application was determined.
            (None, OrderStatus::Replaced) => (DeadlineStatus::Met, None),
            (None, OrderStatus::Lapsed) => (DeadlineStatus::Missed, None),
            (None, OrderStatus::InForce) => (DeadlineStatus::Open, None),
            (None, _) => (DeadlineStatus::Waived, None),
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
}
