//! Alerts and breaches: which alert kinds exist, who receives each and how urgent it is (one table of data), the
//! breach outcomes and which order types each applies to, and the key that makes an alert unique.

use super::OrderType;
use chrono::{DateTime, Duration, Utc};

code_enum!(
    /// Why an alert was raised (DOMAIN.md, Alerts).
    AlertKind {
        BreachReported => "BREACH_REPORTED",
        OrderServed => "ORDER_SERVED",
        NotificationOverdue => "NOTIFICATION_OVERDUE",
        UnservedOrder => "UNSERVED_ORDER",
        OrderExpiring => "ORDER_EXPIRING",
        OrderExpired => "ORDER_EXPIRED",
        OrderDischarged => "ORDER_DISCHARGED",
        OrderVaried => "ORDER_VARIED",
        OrderRenewed => "ORDER_RENEWED",
        OrderReplaced => "ORDER_REPLACED",
        OrderCeased => "ORDER_CEASED",
        OrderQuashed => "ORDER_QUASHED",
        HearingDeadline => "HEARING_DEADLINE",
        InterimExpiringMainPending => "INTERIM_EXPIRING_MAIN_PENDING",
    }
);

code_enum!(
    /// How soon someone should act on an alert.
    Severity {
        Info => "INFO",
        Warning => "WARNING",
        Urgent => "URGENT",
    }
);

code_enum!(
    /// What happened after a breach was reported; each change is kept with its time and agency.
    BreachOutcome {
        Reported => "REPORTED",
        UnderInvestigation => "UNDER_INVESTIGATION",
        NoFurtherAction => "NO_FURTHER_ACTION",
        Charged => "CHARGED",
        Convicted => "CONVICTED",
        Acquitted => "ACQUITTED",
        ContemptFound => "CONTEMPT_FOUND",
    }
);

/// An alert as the service sees it, with what deciding its audience needs.
#[derive(Debug, Clone)]
pub struct AlertRecord {
    /// The cursor: alerts are delivered in `seq` order, which is commit order.
    pub seq: i64,
    pub id: String,
    pub kind: AlertKind,
    pub severity: Severity,
    pub order_id: String,
    pub order_reference: String,
    /// The managing force of the order.
    pub applicant_agency: String,
    pub breach_id: Option<String>,
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub late: bool,
    /// How long after its scheduled moment it was raised (0 when on time).
    pub late_by_seconds: i64,
}

/// Who receives an alert kind, and its severity.
#[derive(Debug, Clone, Copy)]
pub struct AlertRule {
    pub kind: AlertKind,
    pub severity: Severity,
    /// The managing (applicant) force, which for police notices is also the issuing force.
    pub to_force: bool,
    /// Advocacy services the order is shared with (with the protected person's consent).
    pub to_advocates: bool,
}

const ALERT_RULES: [AlertRule; 14] = [
    AlertRule {
        kind: AlertKind::BreachReported,
        severity: Severity::Urgent,
        to_force: true,
        to_advocates: true,
    },
    AlertRule {
        kind: AlertKind::OrderServed,
        severity: Severity::Info,
        to_force: false,
        to_advocates: true,
    },
    AlertRule {
        kind: AlertKind::NotificationOverdue,
        severity: Severity::Urgent,
        to_force: true,
        to_advocates: false,
    },
    AlertRule {
        kind: AlertKind::UnservedOrder,
        severity: Severity::Warning,
        to_force: true,
        to_advocates: true,
    },
    AlertRule {
        kind: AlertKind::OrderExpiring,
        severity: Severity::Warning,
        to_force: true,
        to_advocates: true,
    },
    AlertRule {
        kind: AlertKind::OrderExpired,
        severity: Severity::Warning,
        to_force: true,
        to_advocates: true,
    },
    AlertRule {
        kind: AlertKind::OrderDischarged,
        severity: Severity::Info,
        to_force: true,
        to_advocates: true,
    },
    AlertRule {
        kind: AlertKind::OrderQuashed,
        severity: Severity::Warning,
        to_force: true,
        to_advocates: true,
    },
    AlertRule {
        kind: AlertKind::OrderCeased,
        severity: Severity::Warning,
        to_force: true,
        to_advocates: true,
    },
    AlertRule {
        kind: AlertKind::OrderVaried,
        severity: Severity::Info,
        to_force: true,
        to_advocates: true,
    },
    AlertRule {
        kind: AlertKind::OrderRenewed,
        severity: Severity::Info,
        to_force: true,
        to_advocates: true,
    },
    AlertRule {
        kind: AlertKind::OrderReplaced,
        severity: Severity::Info,
        to_force: true,
        to_advocates: true,
    },
    AlertRule {
        kind: AlertKind::HearingDeadline,
        severity: Severity::Urgent,
        to_force: true,
        to_advocates: false,
    },
    AlertRule {
        kind: AlertKind::InterimExpiringMainPending,
        severity: Severity::Warning,
        to_force: true,
        to_advocates: false,
    },
];

/// An alert raised later than this after its due moment is marked late.
pub const LATE_AFTER: Duration = Duration::minutes(2);

impl AlertKind {
    pub fn rule(self) -> &'static AlertRule {
        ALERT_RULES
            .iter()
            .find(|r| r.kind == self)
            .expect("every alert kind has a row in ALERT_RULES")
    }

    /// The kinds a managing force receives.
    pub fn for_force() -> Vec<AlertKind> {
        ALERT_RULES
            .iter()
            .filter(|r| r.to_force)
            .map(|r| r.kind)
            .collect()
    }

    /// The kinds an advocacy service receives for orders shared with it.
    pub fn for_advocates() -> Vec<AlertKind> {
        ALERT_RULES
            .iter()
            .filter(|r| r.to_advocates)
            .map(|r| r.kind)
            .collect()
    }
}

impl BreachOutcome {
    /// Whether this outcome can follow a breach of an order of this type: a criminal outcome only where breach is
    /// an offence; contempt for a DVPO (civil contempt, CSA 2010 s30), and for a non-molestation order or a DAPO,
    /// whose breach can be dealt with as contempt or as an offence (FLA 1996 s42A(3)-(4), DA Act 2021 s39(3)-(4)).
    pub fn applies_to(self, order_type: OrderType) -> bool {
        match self {
            BreachOutcome::Reported
            | BreachOutcome::UnderInvestigation
            | BreachOutcome::NoFurtherAction => true,
            BreachOutcome::Charged | BreachOutcome::Convicted | BreachOutcome::Acquitted => {
                order_type.rules().breach_is_offence
            }
            BreachOutcome::ContemptFound => matches!(
                order_type,
                OrderType::Dvpo | OrderType::NonMolestationOrder | OrderType::Dapo
            ),
        }
    }

    /// Whether this outcome treats the breach as an offence.
    pub fn is_criminal(self) -> bool {
        matches!(
            self,
            BreachOutcome::Charged | BreachOutcome::Convicted | BreachOutcome::Acquitted
        )
    }

    /// Whether this outcome may follow `earlier` on the same breach: conduct for which the person was convicted is
    /// not punishable as contempt, and conduct punished as contempt cannot lead to a conviction (FLA 1996
    /// s42A(3)-(4), DA Act 2021 s39(3)-(4)). A charge or an acquittal does not bar contempt.
    pub fn compatible_with(self, earlier: &[BreachOutcome]) -> bool {
        match self {
            BreachOutcome::ContemptFound => !earlier.contains(&BreachOutcome::Convicted),
            BreachOutcome::Convicted => !earlier.contains(&BreachOutcome::ContemptFound),
            _ => true,
        }
    }
}

/// The key that makes an alert unique: one per (order, kind, due moment), with `occasion` telling apart alerts of
/// one kind due at the same moment for different reasons (two breaches, two versions).
pub fn dedup_key(order_id: &str, kind: AlertKind, due_at: DateTime<Utc>, occasion: &str) -> String {
    format!(
        "{order_id}|{}|{}|{occasion}",
        kind.as_str(),
        due_at.timestamp_micros()
    )
}

/// Whether an alert raised at `raised_at` that should have been raised at `fire_at` counts as late.
pub fn is_late(fire_at: DateTime<Utc>, raised_at: DateTime<Utc>) -> bool {
    raised_at > fire_at + LATE_AFTER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alert_kind_has_one_rule_and_someone_to_receive_it() {
        for k in AlertKind::ALL {
            assert_eq!(
                ALERT_RULES.iter().filter(|r| r.kind == *k).count(),
                1,
                "{k:?}"
            );
            assert!(k.rule().to_force || k.rule().to_advocates, "{k:?}");
        }
        assert!(AlertKind::for_advocates().contains(&AlertKind::BreachReported));
        assert!(!AlertKind::for_force().contains(&AlertKind::OrderServed));
    }

    #[test]
    fn criminal_outcomes_only_where_breach_is_an_offence_and_contempt_only_for_dvpo() {
        assert!(BreachOutcome::Charged.applies_to(OrderType::Spo));
        assert!(!BreachOutcome::Charged.applies_to(OrderType::Dvpo));
        assert!(!BreachOutcome::Charged.applies_to(OrderType::Dvpn));
        assert!(BreachOutcome::ContemptFound.applies_to(OrderType::Dvpo));
        assert!(!BreachOutcome::ContemptFound.applies_to(OrderType::Spo));
        assert!(BreachOutcome::NoFurtherAction.applies_to(OrderType::Dapn));
    }

    #[test]
    fn alerts_are_late_only_after_the_grace_period() {
        let due: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        assert!(!is_late(due, due + Duration::minutes(2)));
        assert!(is_late(
            due,
            due + Duration::minutes(2) + Duration::seconds(1)
        ));
    }
}
