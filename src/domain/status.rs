//! Lifecycle of an order: status, service, and the events that make a new version.

use chrono::{DateTime, NaiveDate, Utc};

code_enum!(
    /// Where an order stands. Service is tracked separately ([`ServiceStatus`]).
    OrderStatus {
        InForce => "IN_FORCE",
        Expired => "EXPIRED",
        Discharged => "DISCHARGED",
        Replaced => "REPLACED",
        Ceased => "CEASED",
        Quashed => "QUASHED",
        Lapsed => "LAPSED",
    }
);

code_enum!(
    /// Whether the subject has been served with the order.
    ServiceStatus {
        Unserved => "UNSERVED",
        Served => "SERVED",
    }
);

code_enum!(
    /// How an order was served.
    ServiceMethod {
        Personal => "PERSONAL",
        InCourt => "IN_COURT",
        Post => "POST",
        OtherAuthorised => "OTHER_AUTHORISED",
    }
);

code_enum!(
    /// What produced a version of an order.
    OrderEvent {
        Granted => "GRANTED",
        Varied => "VARIED",
        Renewed => "RENEWED",
        Discharged => "DISCHARGED",
        Replaced => "REPLACED",
        Expired => "EXPIRED",
        Lapsed => "LAPSED",
        Ceased => "CEASED",
        Quashed => "QUASHED",
        EventOccurred => "EVENT_OCCURRED",
    }
);

/// The status an officer must be shown now: an order recorded as in force whose fixed term has ended is expired,
/// whether or not the scheduled checks have recorded that yet.
pub fn effective_status(
    stored: OrderStatus,
    expires_on: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> OrderStatus {
    match (stored, expires_on) {
        (OrderStatus::InForce, Some(last_day)) if now >= super::calendar::end_of_day(last_day) => {
            OrderStatus::Expired
        }
        _ => stored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(s.as_str().parse::<OrderStatus>().unwrap(), *s);
        }
        for m in ServiceMethod::ALL {
            assert_eq!(m.as_str().parse::<ServiceMethod>().unwrap(), *m);
        }
        assert!("served".parse::<ServiceStatus>().is_err());
    }

    #[test]
    fn an_order_is_in_force_until_the_end_of_its_last_day_in_london() {
        let last = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        // 1 July is in British Summer Time: the day ends at 23:00 UTC.
        let before = "2026-07-01T22:59:59Z".parse().unwrap();
        let after = "2026-07-01T23:00:00Z".parse().unwrap();
        assert_eq!(
            effective_status(OrderStatus::InForce, Some(last), before),
            OrderStatus::InForce
        );
        assert_eq!(
            effective_status(OrderStatus::InForce, Some(last), after),
            OrderStatus::Expired
        );
        assert_eq!(
            effective_status(OrderStatus::Discharged, Some(last), after),
            OrderStatus::Discharged
        );
        assert_eq!(
            effective_status(OrderStatus::InForce, None, after),
            OrderStatus::InForce
        );
    }
}

code_enum!(
    /// What a condition of an order does (an electronic monitoring requirement is a DAPO's only, at most 12 months:
    /// Domestic Abuse Act 2021 s38(5)).
    ConditionKind {
        Prohibition => "PROHIBITION",
        Requirement => "REQUIREMENT",
        ElectronicMonitoring => "ELECTRONIC_MONITORING",
    }
);

code_enum!(
    /// What an agency is; it decides which roles' tokens may act for it.
    AgencyKind {
        PoliceForce => "POLICE_FORCE",
        Court => "COURT",
        CrownCourt => "CROWN_COURT",
        AdvocacyService => "ADVOCACY_SERVICE",
    }
);
