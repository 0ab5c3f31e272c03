//! Demo data for a new user: agencies, and a few orders in different states with fictional people. Goes through
//! the same use cases (and so the same validation) as the API. Running it again adds nothing.

use super::orders::GrantRequest;
use super::Services;
use crate::auth::{Caller, Principal, Role};
use crate::codes;
use crate::domain::calendar::london_date;
use crate::domain::validation::{ConditionDraft, OrderDraft, PersonDraft};
use crate::domain::{AgencyKind, ConditionKind, OrderType, ServiceMethod};
use crate::error::{AppError, AppResult};
use chrono::{Duration, NaiveDate};

pub const DEMO_AGENCIES: [(&str, &str, AgencyKind); 7] = [
    (
        "MET",
        "Metropolitan Police Service",
        AgencyKind::PoliceForce,
    ),
    ("GMP", "Greater Manchester Police", AgencyKind::PoliceForce),
    ("WMC", "Westminster Magistrates' Court", AgencyKind::Court),
    (
        "MMC",
        "Manchester and Salford Magistrates' Court",
        AgencyKind::Court,
    ),
    ("SCC", "Southwark Crown Court", AgencyKind::CrownCourt),
    (
        "ADV-LDN",
        "London Stalking Advocacy Service (demo)",
        AgencyKind::AdvocacyService,
    ),
    (
        "ADV-MCR",
        "Manchester Advocacy Service (demo)",
        AgencyKind::AdvocacyService,
    ),
];

/// What a seed run did.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub agencies_created: usize,
    pub orders_created: usize,
    pub already_present: usize,
}

fn principal(role: Role, agency: &str) -> Caller {
    Caller::from(Principal {
        sub: "orderwatch-seed".into(),
        role,
        agency: agency.into(),
        supervisor: false,
    })
}

fn person(name: &str, dob: &str) -> PersonDraft {
    PersonDraft {
        name: name.into(),
        date_of_birth: dob.parse().ok(),
        contact: Some("via the managing force's case officer (demo)".into()),
    }
}

fn prohibition(text: &str) -> ConditionDraft {
    ConditionDraft {
        kind: ConditionKind::Prohibition,
        text: text.into(),
        expires_on: None,
    }
}

impl Services {
    /// Loads the demo data; safe to run again. Longer than 80 lines: the demo data, read top to bottom as a script.
    pub async fn seed_demo(&self) -> AppResult<SeedReport> {
        let mut report = SeedReport::default();
        let admin = principal(Role::Admin, "ORDERWATCH");
        for (code, name, kind) in DEMO_AGENCIES {
            match self
                .create_agency(&admin, code.into(), name.into(), kind)
                .await
            {
                Ok(_) => report.agencies_created += 1,
                Err(AppError::Conflict {
                    code: codes::AGENCY_EXISTS,
                    ..
                }) => report.already_present += 1,
                Err(e) => return Err(e),
            }
        }
        let today = london_date(self.now());
        let ago = |days: i64| today - Duration::days(days);
        let two_years = |from: NaiveDate| crate::domain::Term::Years(2).last_day(from);
        let orders = [
            (
                Role::Court,
                "WMC",
                "WMC/SPO/0001",
                OrderType::Spo,
                "MET",
                vec!["Alex Demo-Subject".to_string(), "Lex Demo".to_string()],
                "1985-04-12",
                person("Jordan Demo-Victim", "1990-06-01"),
                ago(90),
                Some(two_years(ago(90))),
                vec![
                    prohibition("Must not contact the protected person by any means"),
                    prohibition("Must not enter Demo Street, London"),
                ],
                Some(ago(88)),
            ),
            (
                Role::Court,
                "MMC",
                "MMC/ISPO/0002",
                OrderType::InterimSpo,
                "GMP",
                vec!["Casey Demo-Subject".to_string()],
                "1979-11-30",
                person("Robin Demo-Victim", "1988-02-14"),
                ago(3),
                Some(today + Duration::days(25)),
                vec![prohibition(
                    "Must not go within 100 metres of the protected person's workplace",
                )],
                None,
            ),
            (
                Role::Police,
                "GMP",
                "GMP/DAPN/0003",
                OrderType::Dapn,
                "GMP",
                vec!["Drew Demo-Subject".to_string()],
                "1992-08-08",
                person("Sam Demo-Victim", "1995-03-03"),
                today,
                None,
                vec![prohibition("Must not contact the protected person")],
                None,
            ),
        ];
        for (
            role,
            agency,
            reference,
            order_type,
            applicant,
            names,
            dob,
            protected,
            made_on,
            expires_on,
            conditions,
            served,
        ) in orders
        {
            let who = principal(role, agency);
            let req = GrantRequest {
                draft: OrderDraft {
                    without_notice: false,
                    soa_notification: None,
                    until_event: None,
                    reference: reference.into(),
                    order_type,
                    subject_names: names,
                    subject_date_of_birth: dob.parse().ok(),
                    protected_persons: vec![protected],
                    made_on,
                    expires_on,
                    conditions,
                },
                applicant_agency: applicant.into(),
                court: None,
                replaces_reference: None,
                court_motion: None,
                note: Some("demo data".into()),
            };
            match self.grant_order(&who, req).await {
                Ok(_) => report.orders_created += 1,
                Err(AppError::Conflict {
                    code: codes::REFERENCE_TAKEN,
                    ..
                }) => {
                    report.already_present += 1;
                    continue;
                }
                Err(e) => return Err(e),
            }
            if let Some(day) = served {
                let at = crate::domain::calendar::end_of_day(day) - Duration::hours(10);
                self.record_service(
                    &principal(Role::Police, applicant),
                    reference.into(),
                    at,
                    ServiceMethod::Personal,
                )
                .await?;
            }
        }
        Ok(report)
    }
}
