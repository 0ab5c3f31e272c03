//! The order types of DOMAIN.md and their statutory rules, kept as one table of data so that per-type behaviour is
//! looked up, never branched on across the code.

use chrono::{Datelike, Duration, NaiveDate};
use std::fmt;
use std::str::FromStr;

/// A protection order or notice type recognised in England and Wales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderType {
    Spo,
    InterimSpo,
    Dvpn,
    Dvpo,
    Dapn,
    Dapo,
    RestrainingOrder,
    NonMolestationOrder,
    Shpo,
}

/// Who makes an order of a type: a court, or a senior police officer (the notices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issuer {
    Court,
    Police,
}

/// A period "beginning with" the day an order is made (the day itself counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    Days(u32),
    Years(u32),
}

impl Term {
    /// The last day of a period of this length beginning with `start`.
    ///
    /// Years run to the day before the anniversary. An anniversary of 29 February in a year without one is taken
    /// as 1 March, so a minimum term starting on a leap day is never shortened (the conservative reading).
    pub fn last_day(self, start: NaiveDate) -> NaiveDate {
        match self {
            Term::Days(n) => start + Duration::days(i64::from(n) - 1),
            Term::Years(n) => {
                let year = start.year() + n as i32;
                let anniversary = NaiveDate::from_ymd_opt(year, start.month(), start.day())
                    .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
                    .expect("1 March exists in every year");
                anniversary - Duration::days(1)
            }
        }
    }
}

/// When the subject's duty to notify the police starts, for the types that carry one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationStart {
    /// SPA s9: within 3 days beginning with the day the order is served.
    Served,
    /// DA Act s41: within 3 days beginning with the day the order is made.
    Made,
    /// Sexual Offences Act 2003 Part 2, by s103G: a subject who was not a relevant offender when the order was made
    /// becomes subject to it, with the date of service as the relevant date (s103G(2)-(3)), so within 3 days
    /// beginning with service (s83(1)); one who was stays subject under their own registration (s103G(1)), and
    /// nothing is planned here.
    SoaPart2,
}

/// The statutory rules of one order type.
#[derive(Debug, Clone, Copy)]
pub struct TypeRules {
    pub order_type: OrderType,
    pub statute: &'static str,
    pub issuer: Issuer,
    /// Shortest fixed term allowed, beginning with the day made.
    pub min_term: Option<Term>,
    /// Longest fixed term allowed, beginning with the day made.
    pub max_term: Option<Term>,
    /// True when the order must have a fixed end (no "until further order").
    pub end_date_required: bool,
    pub subject_min_age: Option<u32>,
    pub protected_person_min_age: Option<u32>,
    pub notification: Option<NotificationStart>,
    /// Types an order of this type may name as the one it replaces (the replaced order becomes `REPLACED`).
    pub may_replace: &'static [OrderType],
    /// Whether breach is a criminal offence (otherwise arrest or civil contempt).
    pub breach_is_offence: bool,
    /// Whether the Crown Court hears an appeal against the order when a magistrates' court made it, and so may quash
    /// it (SPA 2019 s7 for SPOs and interim SPOs, read in statute text; the others from the project's domain notes).
    pub appeal_to_crown_court: bool,
}

/// Early discharge of an SPO ("before the end of 2 years beginning with the day on which the order was made") needs
/// the consent of the defendant and the chief officer (SPA 2019 s4(4)(b), read in statute text; docs/domain.md).
pub const SPO_EARLY_DISCHARGE_NEEDS_CONSENT: bool = true;

const RULES: [TypeRules; 9] = [
    TypeRules {
        order_type: OrderType::Spo,
        statute: "Stalking Protection Act 2019 s1-s3",
        issuer: Issuer::Court,
        min_term: Some(Term::Years(2)),
        max_term: None,
        end_date_required: false,
        subject_min_age: None,
        protected_person_min_age: None,
        notification: Some(NotificationStart::Served),
        may_replace: &[OrderType::InterimSpo],
        breach_is_offence: true,
        appeal_to_crown_court: true,
    },
    TypeRules {
        order_type: OrderType::InterimSpo,
        statute: "Stalking Protection Act 2019 s5",
        issuer: Issuer::Court,
        min_term: None,
        max_term: None,
        end_date_required: true,
        subject_min_age: None,
        protected_person_min_age: None,
        notification: Some(NotificationStart::Served),
        may_replace: &[],
        breach_is_offence: true,
        appeal_to_crown_court: true,
    },
    TypeRules {
        order_type: OrderType::Dvpn,
        statute: "Crime and Security Act 2010 s24",
        issuer: Issuer::Police,
        min_term: None,
        max_term: None,
        end_date_required: false,
        subject_min_age: Some(18),
        protected_person_min_age: None,
        notification: None,
        may_replace: &[],
        breach_is_offence: false,
        appeal_to_crown_court: false,
    },
    TypeRules {
        order_type: OrderType::Dvpo,
        statute: "Crime and Security Act 2010 s27-s30",
        issuer: Issuer::Court,
        min_term: Some(Term::Days(14)),
        max_term: Some(Term::Days(28)),
        end_date_required: true,
        subject_min_age: None,
        protected_person_min_age: None,
        notification: None,
        may_replace: &[OrderType::Dvpn],
        breach_is_offence: false,
        appeal_to_crown_court: true,
    },
    TypeRules {
        order_type: OrderType::Dapn,
        statute: "Domestic Abuse Act 2021 s22",
        issuer: Issuer::Police,
        min_term: None,
        max_term: None,
        end_date_required: false,
        subject_min_age: Some(18),
        protected_person_min_age: Some(16),
        notification: None,
        may_replace: &[],
        breach_is_offence: false,
        appeal_to_crown_court: false,
    },
    TypeRules {
        order_type: OrderType::Dapo,
        statute: "Domestic Abuse Act 2021 s27-s49",
        issuer: Issuer::Court,
        min_term: None,
        max_term: None,
        end_date_required: false,
        subject_min_age: None,
        protected_person_min_age: Some(16),
        notification: Some(NotificationStart::Made),
        may_replace: &[OrderType::Dapn],
        breach_is_offence: true,
        appeal_to_crown_court: true,
    },
    TypeRules {
        order_type: OrderType::RestrainingOrder,
        statute: "Sentencing Act 2020 s360; Protection from Harassment Act 1997 s5A",
        issuer: Issuer::Court,
        min_term: None,
        max_term: None,
        end_date_required: false,
        subject_min_age: None,
        protected_person_min_age: None,
        notification: None,
        may_replace: &[],
        breach_is_offence: true,
        appeal_to_crown_court: true,
    },
    TypeRules {
        order_type: OrderType::NonMolestationOrder,
        statute: "Family Law Act 1996 s42",
        issuer: Issuer::Court,
        min_term: None,
        max_term: None,
        end_date_required: false,
        subject_min_age: None,
        protected_person_min_age: None,
        notification: None,
        may_replace: &[],
        breach_is_offence: true,
        appeal_to_crown_court: false,
    },
    TypeRules {
        order_type: OrderType::Shpo,
        statute: "Sexual Offences Act 2003 s103A",
        issuer: Issuer::Court,
        min_term: Some(Term::Years(5)),
        max_term: None,
        end_date_required: false,
        subject_min_age: None,
        protected_person_min_age: None,
        notification: Some(NotificationStart::SoaPart2),
        may_replace: &[],
        breach_is_offence: true,
        appeal_to_crown_court: false,
    },
];

impl OrderType {
    pub const ALL: [OrderType; 9] = [
        OrderType::Spo,
        OrderType::InterimSpo,
        OrderType::Dvpn,
        OrderType::Dvpo,
        OrderType::Dapn,
        OrderType::Dapo,
        OrderType::RestrainingOrder,
        OrderType::NonMolestationOrder,
        OrderType::Shpo,
    ];

    /// Whether, for an order of this type made without notice to the subject, a breach is an offence only in respect
    /// of behaviour at a time the subject was aware of the order: non-molestation orders (Family Law Act 1996 s42A(2),
    /// read in the Act's explanatory notes) and DAPOs (Domestic Abuse Act 2021 s39(2), read in statute text).
    pub fn breach_needs_awareness_if_without_notice(self) -> bool {
        matches!(self, OrderType::NonMolestationOrder | OrderType::Dapo)
    }

    /// The statutory rules of this type.
    pub fn rules(self) -> &'static TypeRules {
        RULES
            .iter()
            .find(|r| r.order_type == self)
            .expect("every order type has a row in RULES")
    }

    /// The stable code stored in the database and used on the API.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Spo => "SPO",
            OrderType::InterimSpo => "INTERIM_SPO",
            OrderType::Dvpn => "DVPN",
            OrderType::Dvpo => "DVPO",
            OrderType::Dapn => "DAPN",
            OrderType::Dapo => "DAPO",
            OrderType::RestrainingOrder => "RESTRAINING_ORDER",
            OrderType::NonMolestationOrder => "NON_MOLESTATION_ORDER",
            OrderType::Shpo => "SHPO",
        }
    }
}

impl fmt::Display for OrderType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown order type {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn every_type_has_exactly_one_rules_row_and_round_trips_its_code() {
        for t in OrderType::ALL {
            assert_eq!(RULES.iter().filter(|r| r.order_type == t).count(), 1, "{t}");
            assert_eq!(t.as_str().parse::<OrderType>().unwrap(), t);
        }
    }

    #[test]
    fn two_years_beginning_with_a_day_end_the_day_before_the_anniversary() {
        assert_eq!(Term::Years(2).last_day(d("2025-01-10")), d("2027-01-09"));
        assert_eq!(Term::Years(2).last_day(d("2025-03-01")), d("2027-02-28"));
    }

    #[test]
    fn two_years_from_a_leap_day_run_to_the_end_of_february() {
        assert_eq!(Term::Years(2).last_day(d("2024-02-29")), d("2026-02-28"));
        assert_eq!(Term::Years(4).last_day(d("2024-02-29")), d("2028-02-28"));
    }

    #[test]
    fn fourteen_days_beginning_with_a_day_count_that_day() {
        assert_eq!(Term::Days(14).last_day(d("2026-01-01")), d("2026-01-14"));
        assert_eq!(Term::Days(28).last_day(d("2026-02-01")), d("2026-02-28"));
    }
}
