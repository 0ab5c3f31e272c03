//! The subject's notifications to the police: the initial notification and each change of name or home address.

use super::*;

/// The initial notification, unless a Sexual Offences Act 2003 Part 2 registration that began after the order was made
/// suspended it before it was made and while it was due (SPA 2019 s9(5), DA Act 2021 s41(8)(b)).
fn initial_due_unless_suspended(
    f: &OrderFacts,
) -> Option<(DateTime<Utc>, &'static str, &'static str)> {
    let due = initial_due(f)?;
    let Some(start) = f.soa_notification.and_then(|s| s.start_day) else {
        return Some(due);
    };
    let suspended_from = end_of_day(start - Duration::days(1));
    let notified_before = f
        .notifications
        .iter()
        .any(|n| n.kind == NotificationKind::Initial && n.notified_at < suspended_from);
    (due.0 <= suspended_from || notified_before).then_some(due)
}

/// The initial notification: SPA 2019 s9(1) (3 days beginning with the day of service), DA Act 2021 s41 (from the day
/// the order was made), SOA 2003 s83(1) with s103G(2)-(3) for an SHPO's subject who was not already a relevant
/// offender (from the day of service). A full SPO replacing an interim needs none (SPA 2019 s9(1)(a)). An SPO whose subject was
/// subject to Sexual Offences Act 2003 Part 2 notification when it was made needs none while that lasts, and then one
/// within 3 days beginning with the day it ends, if the order is still in effect that day (s9(5)-(7)).
pub(super) fn initial_notification(f: &OrderFacts, _rules: &ScheduleRules, out: &mut Plan) {
    if let Some((due_at, rule, statute)) = initial_due_unless_suspended(f) {
        plan_initial(f, due_at, rule, statute, out);
    }
}

/// The final day of the other notification requirements the subject was under (`None` while they last), if the
/// order is still in effect that day (its term covers it and it had not ended before the day began).
fn final_day_in_effect(f: &OrderFacts, final_day: Option<NaiveDate>) -> Option<NaiveDate> {
    final_day
        .filter(|last| f.expires_on.is_none_or(|end| *last <= end))
        .filter(|last| {
            let day_begins = end_of_day(last.pred_opt().unwrap_or(*last));
            f.ended_at.is_none_or(|ended| ended > day_begins)
        })
}

/// When the initial notification is due, by which rule and statute; none when the order carries no duty (yet).
fn initial_due(f: &OrderFacts) -> Option<(DateTime<Utc>, &'static str, &'static str)> {
    match f.order_type {
        OrderType::Spo | OrderType::InterimSpo
            if !(f.order_type == OrderType::Spo && f.replaces_interim) =>
        {
            match f.soa_notification.filter(|soa| soa.start_day.is_none()) {
                None => f.served_at.map(|s| {
                    (
                        end_of_period_beginning_with(london_date(s), 3),
                        "end of the 3 days beginning with the day of service",
                        "Stalking Protection Act 2019 s9",
                    )
                }),
                // From the final day, if the order is still in effect that day (its term covers it and it had not
                // ended before the day began); a subject served later is bound from service, so from that day.
                Some(soa) => final_day_in_effect(f, soa.final_day)
                    .and_then(|last| f.served_at.map(|s| last.max(london_date(s))))
                    .map(|from| {
                        (
                            end_of_period_beginning_with(from, 3),
                            "end of the 3 days beginning with the day the Sexual Offences Act 2003 Part 2 notification requirements ended, or the day of service if later",
                            "Stalking Protection Act 2019 s9(5)-(7)",
                        )
                    }),
            }
        }
        OrderType::Dapo => match dapo_cover(f) {
            None => Some((
                end_of_period_beginning_with(f.made_on, 3),
                "end of the 3 days beginning with the day the order was made",
                "Domestic Abuse Act 2021 s41",
            )),
            // None of the order's requirements while the subject is subject to Part 2 or another order's (s41(8));
            // from the day those end they apply (s41(9)), taken here as if the order had been made that day, when it
            // is still in effect.
            Some((final_day, rule)) => final_day_in_effect(f, final_day).map(|last| {
                (
                    end_of_period_beginning_with(last, 3),
                    rule,
                    "Domestic Abuse Act 2021 s41(8)-(9)",
                )
            }),
        },
        // A subject who was not a relevant offender becomes one, the date of service being the relevant date; one who
        // was notifies under their own registration (s103G(1)).
        OrderType::Shpo if f.soa_notification.is_none() => f.served_at.map(|s| {
            (
                end_of_period_beginning_with(london_date(s), 3),
                "end of the 3 days beginning with the day of service (the relevant date)",
                "Sexual Offences Act 2003 s83(1), s103G(2)-(3)",
            )
        }),
        _ => None,
    }
}

/// The notification requirements a DAPO's subject was under when it was made, which displace its own (DA Act 2021
/// s41(8)): Sexual Offences Act 2003 Part 2, another DAPO, an SPO. The day the last of them ends (`None` while one
/// lasts) and the rule that names them; `None` when there were none.
fn dapo_cover(f: &OrderFacts) -> Option<(Option<NaiveDate>, &'static str)> {
    // A registration that began after the order was made only suspends (`initial_due_unless_suspended`).
    let soa = f
        .soa_notification
        .filter(|s| s.start_day.is_none())
        .map(|s| s.final_day);
    let other = f.other_orders.map(|c| c.final_day);
    let later = |a: Option<NaiveDate>, b: Option<NaiveDate>| a.zip(b).map(|(a, b)| a.max(b));
    match (soa, other) {
        (None, None) => None,
        (Some(soa), None) => Some((
            soa,
            "end of the 3 days beginning with the day the Sexual Offences Act 2003 Part 2 notification requirements ended",
        )),
        (soa, Some(other)) => Some((
            match soa {
                Some(soa) => later(soa, other),
                None => other,
            },
            "end of the 3 days beginning with the day the notification requirements of the subject's other orders (and any under Sexual Offences Act 2003 Part 2) ended",
        )),
    }
}

/// The initial notification's deadline, met by the subject's earliest initial notification before it is due.
fn plan_initial(
    f: &OrderFacts,
    due_at: DateTime<Utc>,
    rule: &'static str,
    statute: &'static str,
    out: &mut Plan,
) {
    let notified = f
        .notifications
        .iter()
        .filter(|n| n.kind == NotificationKind::Initial)
        .map(|n| n.notified_at)
        .min();
    let due = Due {
        kind: DeadlineKind::NotificationInitial,
        occasion: String::new(),
        trigger: "initial".into(),
        due_at,
        rule: rule.into(),
        statute,
    };
    plan_notification(f, due, notified, out);
}

/// One notification the subject owes: its deadline, and the overdue alert while it is open.
struct Due {
    kind: DeadlineKind,
    occasion: String,
    trigger: String,
    due_at: DateTime<Utc>,
    rule: String,
    statute: &'static str,
}

/// Met by a notification made before it is due, missed by a later one, otherwise open until it is due (then missed);
/// an open one gets its `NOTIFICATION_OVERDUE` alert at the moment it falls due.
fn plan_notification(f: &OrderFacts, due: Due, notified: Option<DateTime<Utc>>, out: &mut Plan) {
    let (status, met_at) = match notified {
        Some(at) if at < due.due_at => (DeadlineStatus::Met, Some(at)),
        Some(_) => (DeadlineStatus::Missed, None),
        None => (f.unmet(due.due_at), None),
    };
    if status == DeadlineStatus::Open {
        out.triggers.push(TriggerSpec {
            kind: AlertKind::NotificationOverdue,
            fire_at: due.due_at,
            due_at: due.due_at,
            occasion: due.trigger,
        });
    }
    out.deadlines.push(DeadlineSpec {
        kind: due.kind,
        occasion: due.occasion,
        due_at: due.due_at,
        status,
        met_at,
        rule: due.rule,
        statute: due.statute,
    });
}

/// Each change of name or home address the police know of, from the subject's notification or from elsewhere: due
/// at the end of the 3 days beginning with the day of the change (SPA 2019 s9(3),(4); DA Act 2021 s41; SOA 2003
/// s84(1) for an SHPO's subject made a relevant offender by it). Met by the
/// subject's notification in time; open (and overdue once due) while the subject has not notified it.
pub(super) fn changes_notified(f: &OrderFacts, _rules: &ScheduleRules, out: &mut Plan) {
    let statute = match f.order_type {
        OrderType::Dapo => "Domestic Abuse Act 2021 s41",
        // A relevant offender before the order notifies under their own registration: nothing to plan here.
        OrderType::Shpo if f.soa_notification.is_some() => return,
        OrderType::Shpo => "Sexual Offences Act 2003 s84(1), s103G(2)",
        _ => "Stalking Protection Act 2019 s9(3),(4)",
    };
    // Each change once, with the subject's earliest notification of it.
    type Change = (&'static str, NaiveDate);
    type Notified = (DeadlineKind, Option<DateTime<Utc>>);
    let mut changes: std::collections::BTreeMap<Change, Notified> = Default::default();
    for n in &f.notifications {
        let kind = match n.kind {
            NotificationKind::NewName => DeadlineKind::NotificationNewName,
            NotificationKind::HomeAddress => DeadlineKind::NotificationHomeAddress,
            NotificationKind::NoHomeAddress => DeadlineKind::NotificationNoHomeAddress,
            NotificationKind::Initial => continue,
        };
        let Some(changed_on) = n.changed_on else {
            continue;
        };
        let entry = changes
            .entry((kind.as_str(), changed_on))
            .or_insert((kind, None));
        if n.source == NotificationSource::Subject {
            entry.1 = Some(entry.1.map_or(n.notified_at, |at| at.min(n.notified_at)));
        }
    }
    // While the subject's Sexual Offences Act 2003 Part 2 notification lasts, an SPO's or a DAPO's own do not apply
    // (SPA s9(5), DA Act s41(8)(b)): a change before its final day needs no notification under the order.
    // A registration that began after the order was made suspends them from its first day to its final day.
    let soa_until = match (f.order_type, f.soa_notification) {
        (OrderType::Dapo, _) => dapo_cover(f).map(|(last, _)| last.unwrap_or(NaiveDate::MAX)),
        (OrderType::Spo | OrderType::InterimSpo, Some(soa)) if soa.start_day.is_none() => {
            Some(soa.final_day.unwrap_or(NaiveDate::MAX))
        }
        _ => None,
    };
    let suspended = match (f.order_type, f.soa_notification) {
        (OrderType::Spo | OrderType::InterimSpo | OrderType::Dapo, Some(soa)) => soa
            .start_day
            .map(|start| (start, soa.final_day.unwrap_or(NaiveDate::MAX))),
        _ => None,
    };
    for ((_, changed_on), (kind, notified)) in changes {
        let due_at = end_of_period_beginning_with(changed_on, 3);
        // Suspended from the start of the registration's first day: a change in its span needs none, and one before
        // it not yet notified nor due by then is no longer owed, as for the initial notification.
        let waived = suspended.is_some_and(|(from, until)| {
            let from_start = end_of_day(from - Duration::days(1));
            (from <= changed_on && changed_on < until)
                || (changed_on < from
                    && due_at > from_start
                    && notified.is_none_or(|at| at >= from_start))
        });
        if soa_until.is_some_and(|last| changed_on < last) || waived {
            continue;
        }
        let due = Due {
            kind,
            occasion: changed_on.to_string(),
            trigger: format!("{}:{changed_on}", kind.as_str()),
            due_at,
            rule: "end of the 3 days beginning with the day of the change".into(),
            statute,
        };
        plan_notification(f, due, notified, out);
    }
}
