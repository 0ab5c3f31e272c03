//! The end of an order and of each condition that ends before it, with the warnings ahead of them.

use super::*;

/// The order's last day, its warnings, and an interim SPO's warning that it ends with the main application pending.
pub(super) fn order_end(f: &OrderFacts, rules: &ScheduleRules, out: &mut Plan) {
    // The order's end, and the ends of conditions that end before it.
    if let Some(last) = f.expires_on {
        let due_at = end_of_day(last);
        let status = match f.status {
            OrderStatus::InForce => DeadlineStatus::Open,
            OrderStatus::Expired => DeadlineStatus::Met,
            _ => DeadlineStatus::Waived,
        };
        if f.status == OrderStatus::InForce {
            out.triggers
                .extend(expiry_warnings(rules, f.recorded_at, last, ""));
            out.triggers.push(TriggerSpec {
                kind: AlertKind::OrderExpired,
                fire_at: due_at,
                due_at,
                occasion: OCCASION_END.into(),
            });
            if f.order_type == OrderType::InterimSpo {
                let point =
                    end_of_day(last - Duration::days(i64::from(rules.interim_warning_days)));
                out.triggers.push(TriggerSpec {
                    kind: AlertKind::InterimExpiringMainPending,
                    fire_at: point.max(f.recorded_at),
                    due_at,
                    occasion: format!("{}d", rules.interim_warning_days),
                });
            }
        }
        out.deadlines.push(DeadlineSpec {
            kind: DeadlineKind::OrderEnd,
            occasion: String::new(),
            due_at,
            status,
            met_at: None,
            rule: "the end of the order's last day".into(),
            statute: f.order_type.rules().statute,
        });
    }
}

/// The last day of each condition that ends before the order.
pub(super) fn condition_ends(f: &OrderFacts, rules: &ScheduleRules, out: &mut Plan) {
    for (id, c_last) in &f.conditions {
        let Some(c_last) = c_last else { continue };
        if f.expires_on.is_some_and(|last| *c_last >= last) {
            continue;
        }
        let due_at = end_of_day(*c_last);
        let status = if f.status == OrderStatus::InForce {
            DeadlineStatus::Open
        } else {
            DeadlineStatus::Waived
        };
        if f.status == OrderStatus::InForce {
            out.triggers.extend(expiry_warnings(
                rules,
                f.recorded_at,
                *c_last,
                &format!("condition:{id}:"),
            ));
        }
        out.deadlines.push(DeadlineSpec {
            kind: DeadlineKind::ConditionEnd,
            occasion: id.clone(),
            due_at,
            status,
            met_at: None,
            rule: "the end of the condition's last day".into(),
            statute: f.order_type.rules().statute,
        });
    }
}

/// `ORDER_EXPIRING` at the end of the day each warning period before `last` (the last day of an order or a
/// condition). A warning that would fall before the order was recorded is not planned, but an order recorded inside
/// its last warning period (e.g. three days before its end, with warnings at 30 and 7 days) is warned of at once:
/// every end is warned of at least once while it is ahead.
pub(super) fn expiry_warnings<'a>(
    rules: &'a ScheduleRules,
    recorded_at: DateTime<Utc>,
    last: NaiveDate,
    prefix: &'a str,
) -> impl Iterator<Item = TriggerSpec> + 'a {
    let due_at = end_of_day(last);
    let fire_at = move |days: u32| end_of_day(last - Duration::days(i64::from(days)));
    // The shortest warning period, when even its moment passed before the order was recorded.
    let at_once = rules
        .expiry_warning_days
        .iter()
        .copied()
        .min()
        .filter(|days| fire_at(*days) < recorded_at && recorded_at < due_at);
    rules.expiry_warning_days.iter().filter_map(move |days| {
        let planned = fire_at(*days);
        let fire_at = if at_once == Some(*days) {
            recorded_at
        } else if planned >= recorded_at {
            planned
        } else {
            return None;
        };
        Some(TriggerSpec {
            kind: AlertKind::OrderExpiring,
            fire_at,
            due_at,
            occasion: format!("{prefix}{days}d"),
        })
    })
}
