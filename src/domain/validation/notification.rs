//! A notification as the police record it: from the subject (SPA 2019 s9, DA Act 2021 s41), or a change the police
//! learnt of elsewhere.

use super::*;
use crate::codes;
use crate::domain::calendar::london_date;
use crate::domain::order::SoaNotification;
use crate::domain::schedule::{NotificationDraft, NotificationKind, NotificationSource};
use crate::domain::OrderType;
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// How far in the future a notification's moment may be, for clock skew between systems.
pub const NOTIFIED_AT_FUTURE_TOLERANCE: Duration = Duration::minutes(5);

/// The rules a notification must meet on its own; `now` is the server's time. Returns its details, trimmed (none
/// when blank).
pub fn validate_notification(
    draft: &NotificationDraft,
    now: DateTime<Utc>,
) -> Result<Option<String>, Violations> {
    let mut v = Violations::default();
    let NotificationDraft {
        kind,
        source,
        notified_at,
        changed_on,
        details,
    } = draft.clone();
    if notified_at > now + NOTIFIED_AT_FUTURE_TOLERANCE {
        v.push(
            codes::NOTIFIED_AT_IN_FUTURE,
            "notifiedAt",
            "notifiedAt is in the future",
        );
    }
    let details = details
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    if details
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_CONTACT_LEN)
    {
        v.push(
            codes::TEXT_TOO_LONG,
            "details",
            format!("at most {MAX_CONTACT_LEN} characters"),
        );
    }
    if source == NotificationSource::Police && kind == NotificationKind::Initial {
        v.push(
            codes::SOURCE_NOT_ALLOWED,
            "source",
            "only the subject makes the initial notification; POLICE records a change of name or home address the police learnt of elsewhere",
        );
    }
    match (kind, changed_on) {
        (NotificationKind::Initial, Some(_)) => v.push(
            codes::CHANGED_ON_NOT_ALLOWED,
            "changedOn",
            "an initial notification has no day of change",
        ),
        (
            NotificationKind::NewName
            | NotificationKind::HomeAddress
            | NotificationKind::NoHomeAddress,
            None,
        ) => v.push(
            codes::CHANGED_ON_REQUIRED,
            "changedOn",
            "give the day the name or home address changed",
        ),
        (_, Some(day)) if day > london_date(notified_at) => v.push(
            codes::CHANGED_ON_AFTER_NOTIFIED,
            "changedOn",
            "the change cannot be after it was notified",
        ),
        _ => {}
    }
    v.into_result().map(|()| details)
}

/// The subject's Sexual Offences Act 2003 Part 2 notification, as it stood when an order was made: an SPO's, interim
/// SPO's or DAPO's requirements give way to it, and its final day comes after the day made (SPA 2019 s9(5)-(6),
/// DA Act 2021 s41(8)-(9)); an
/// SHPO's subject who was already a relevant offender stays subject while the order has effect (SOA 2003 s103G(1)),
/// so it has no final day.
pub fn check_soa_notification(
    order_type: OrderType,
    made_on: NaiveDate,
    soa: Option<SoaNotification>,
    today: NaiveDate,
    out: &mut Violations,
) {
    let Some(soa) = soa else { return };
    if let Some(start) = soa.start_day {
        if order_type == OrderType::Shpo || start <= made_on {
            out.push(
                codes::SOA_NOTIFICATION_INVALID,
                "soaPart2Notification.startDay",
                "startDay is for an SPO's or DAPO's subject who became subject to the notification requirements after the day the order was made; leave it out for one subject to them then",
            );
        } else if start > today {
            out.push(
                codes::SOA_NOTIFICATION_INVALID,
                "soaPart2Notification.startDay",
                format!(
                    "startDay is after today ({today}): record the registration once it has begun"
                ),
            );
        } else if soa.final_day.is_some_and(|last| last <= start) {
            out.push(
                codes::SOA_NOTIFICATION_INVALID,
                "soaPart2Notification.finalDay",
                "finalDay must be after startDay",
            );
        }
    }
    if order_type == OrderType::Shpo {
        if soa.final_day.is_some() {
            out.push(
                codes::SOA_NOTIFICATION_INVALID,
                "soaPart2Notification.finalDay",
                "a relevant offender stays subject to the notification requirements while the SHPO has effect (Sexual Offences Act 2003 s103G(1)): leave out finalDay",
            );
        }
    } else if !matches!(
        order_type,
        OrderType::Spo | OrderType::InterimSpo | OrderType::Dapo
    ) {
        out.push(
            codes::SOA_NOTIFICATION_INVALID,
            "soaPart2Notification",
            "only an SPO's, a DAPO's or an SHPO's subject's Sexual Offences Act 2003 Part 2 notification is recorded (Stalking Protection Act 2019 s9(5), Domestic Abuse Act 2021 s41(8), Sexual Offences Act 2003 s103G)",
        );
    } else if soa.final_day.is_some_and(|d| d <= made_on) {
        out.push(
            codes::SOA_NOTIFICATION_INVALID,
            "soaPart2Notification.finalDay",
            "finalDay must be after the day the order was made: those requirements end on a later day (Stalking Protection Act 2019 s9(6)(c))",
        );
    }
}
