//! One synthetic order and what belongs to it: its application (and the applications that came to nothing),
//! service, the initial notification, breaches and their outcomes.

use super::{Generator, TYPES};
use crate::db::applications::ApplicationRow;
use crate::db::models::*;
use crate::db::synthetic::Batch;
use crate::domain::alert::BreachOutcome;
use crate::domain::application::{CourtRefusalReason, InternalRefusalReason};
use crate::domain::calendar::end_of_day;
use crate::domain::schedule::{DeadlineKind, DeadlineStatus};
use crate::domain::{name_key, OrderEvent, OrderStatus, OrderType, ServiceMethod, ServiceStatus};
use chrono::{Duration, NaiveDate};
use rand::Rng;

impl Generator {
    pub(super) fn order(&mut self, i: usize, b: &mut Batch) {
        let today = crate::domain::calendar::london_date(self.now);
        let force = self.force();
        let court = format!("{force}-MC");
        let types: Vec<(usize, u32)> = TYPES.iter().enumerate().map(|(k, t)| (k, t.1)).collect();
        let (order_type, _, term) = TYPES[self.pick(&types)];
        let made_on = self.day_between(self.first_day, today);
        let id = uuid::Uuid::now_v7().to_string();
        let reference = format!("{court}/SYN/{:07}", i + 1);
        let subject = self.subject();
        let served_on = (self.rng.random_bool(0.92))
            .then(|| made_on + Duration::days(self.rng.random_range(0..8)))
            .filter(|d| *d <= today);
        let at = self.at(made_on, 11);
        b.orders.push(OrderRow {
            id: id.clone(),
            reference,
            order_type: order_type.as_str().into(),
            status: OrderStatus::InForce.as_str().into(),
            made_on,
            expires_on: term.map(|days| made_on + Duration::days(days - 1)),
            applicant_agency: force.clone(),
            court_agency: Some(court.clone()),
            subject_date_of_birth: Some(subject.1),
            replaces_order_id: None,
            version: 1,
            service_status: if served_on.is_some() {
                ServiceStatus::Served
            } else {
                ServiceStatus::Unserved
            }
            .as_str()
            .into(),
            served_at: served_on.map(|d| self.at(d, 15)),
            service_method: served_on.map(|_| ServiceMethod::Personal.as_str().into()),
            served_by_agency: served_on.map(|_| force.clone()),
            served_by: served_on.map(|_| "synthetic".into()),
            created_at: at,
            updated_at: at,
            ended_on: None,
            without_notice: false,
            aware_at: None,
            soa_notification: false,
            soa_notification_final_day: None,
            until_event: None,
            court_motion: None,
            soa_notification_start_day: None,
        });
        b.versions
            .push(first_version(&id, made_on, term, at, &court));
        self.people(&id, &subject, b);
        self.report.orders += 1;
        if order_type.applied_for_by_police() {
            self.applications(i, &force, &court, order_type, made_on, Some(&id), b);
        }
        if let (Some(served), true) = (
            served_on,
            matches!(order_type, OrderType::Spo | OrderType::InterimSpo),
        ) {
            self.notification(&id, served, b);
        }
        let last = term.map_or(today, |days| {
            (made_on + Duration::days(days - 1)).min(today)
        });
        if self.rng.random_bool(0.25) && last > made_on {
            for n in 0..self.rng.random_range(1..=4) {
                self.breach(&id, &force, order_type, made_on, last, n, b);
            }
        }
    }

    /// The subject: one time in ten, someone already subject to another order.
    fn subject(&mut self) -> (String, NaiveDate) {
        if !self.subjects.is_empty() && self.rng.random_bool(0.1) {
            self.subjects[self.rng.random_range(0..self.subjects.len())].clone()
        } else {
            let s = self.person();
            if self.subjects.len() < 100_000 {
                self.subjects.push(s.clone());
            }
            s
        }
    }

    /// The subject's name and the person the order protects.
    fn people(&mut self, id: &str, subject: &(String, NaiveDate), b: &mut Batch) {
        b.names.push(SubjectNameRow {
            id: uuid::Uuid::now_v7().to_string(),
            order_id: id.to_string(),
            position: 0,
            name_key: name_key(&subject.0),
            name: subject.0.clone(),
        });
        let protected = self.person();
        b.persons.push(ProtectedPersonRow {
            id: uuid::Uuid::now_v7().to_string(),
            order_id: id.to_string(),
            position: 0,
            name: protected.0,
            date_of_birth: Some(protected.1),
            contact: None,
        });
    }

    /// The application the order was granted on, and, now and then, one of the same force that came to nothing.
    #[allow(clippy::too_many_arguments)]
    fn applications(
        &mut self,
        i: usize,
        force: &str,
        court: &str,
        order_type: OrderType,
        made_on: NaiveDate,
        order_id: Option<&str>,
        b: &mut Batch,
    ) {
        let to_court = made_on - Duration::days(self.rng.random_range(0..15));
        let decided = to_court - Duration::days(self.rng.random_range(0..8));
        let reported = decided - Duration::days(self.rng.random_range(7..120));
        let at = self.at(made_on, 12);
        let mut row = ApplicationRow {
            id: uuid::Uuid::now_v7().to_string(),
            reference: format!("{force}/SYN/{:07}", i + 1),
            force_agency: force.into(),
            order_type: order_type.as_str().into(),
            reported_on: Some(reported),
            internal_decision: Some("AUTHORISED".into()),
            internal_decision_on: Some(decided),
            internal_refusal_reason: None,
            made_to_court_on: Some(to_court),
            court_agency: Some(court.into()),
            court_outcome: Some("GRANTED".into()),
            court_outcome_on: Some(made_on),
            court_refusal_reason: None,
            order_id: order_id.map(str::to_string),
            note: None,
            recorded_by: "synthetic".into(),
            recorded_at: at,
            updated_at: at,
            order_made_on: order_id.map(|_| made_on),
            main_application_id: None,
        };
        b.applications.push(row.clone());
        self.report.applications += 1;
        // For every ten granted, about three refused by the force, one refused by the court, one withdrawn.
        let failed = self.pick(&[(0u8, 50), (1, 30), (2, 10), (3, 10)]);
        if failed == 0 {
            return;
        }
        row.id = uuid::Uuid::now_v7().to_string();
        row.reference = format!("{force}/SYN/{:07}X", i + 1);
        row.order_id = None;
        row.order_made_on = None;
        match failed {
            1 => {
                let reasons: Vec<(InternalRefusalReason, u32)> =
                    InternalRefusalReason::ALL.iter().map(|r| (*r, 1)).collect();
                row.internal_decision = Some("REFUSED".into());
                row.internal_refusal_reason = Some(self.pick(&reasons).as_str().into());
                row.made_to_court_on = None;
                row.court_agency = None;
                row.court_outcome = None;
                row.court_outcome_on = None;
            }
            2 => {
                let reasons: Vec<(CourtRefusalReason, u32)> =
                    CourtRefusalReason::ALL.iter().map(|r| (*r, 1)).collect();
                row.court_outcome = Some("REFUSED".into());
                row.court_refusal_reason = Some(self.pick(&reasons).as_str().into());
            }
            _ => row.court_outcome = Some("WITHDRAWN".into()),
        }
        b.applications.push(row);
        self.report.applications += 1;
    }

    /// The initial notification: due at the end of the third day beginning with service; missed one time in eight.
    fn notification(&mut self, order_id: &str, served: NaiveDate, b: &mut Batch) {
        let due = end_of_day(served + Duration::days(2));
        if due > self.now {
            return;
        }
        let missed = self.rng.random_bool(0.125);
        b.deadlines.push(DeadlineRow {
            id: uuid::Uuid::now_v7().to_string(),
            order_id: order_id.into(),
            kind: DeadlineKind::NotificationInitial.as_str().into(),
            occasion: String::new(),
            due_at: due.naive_utc(),
            status: if missed {
                DeadlineStatus::Missed
            } else {
                DeadlineStatus::Met
            }
            .as_str()
            .into(),
            met_at: (!missed).then(|| (due - Duration::hours(20)).naive_utc()),
            rule: "3 days beginning with the day of service".into(),
            statute: "Stalking Protection Act 2019 s9(1)".into(),
            updated_at: due.naive_utc(),
        });
    }

    /// A breach between the day after the order was made and its last day (or today), with an outcome recorded
    /// weeks later when that is past.
    #[allow(clippy::too_many_arguments)]
    fn breach(
        &mut self,
        order_id: &str,
        force: &str,
        order_type: OrderType,
        made_on: NaiveDate,
        last: NaiveDate,
        n: u32,
        b: &mut Batch,
    ) {
        let day = self.day_between(made_on + Duration::days(1), last);
        let occurred = self.at(day, 9 + n);
        if occurred > self.now.naive_utc() {
            return;
        }
        let criminal = order_type.rules().breach_is_offence;
        let outcome = if criminal {
            self.pick(&[
                (BreachOutcome::NoFurtherAction, 35),
                (BreachOutcome::UnderInvestigation, 15),
                (BreachOutcome::Charged, 25),
                (BreachOutcome::Convicted, 20),
                (BreachOutcome::Acquitted, 5),
            ])
        } else {
            self.pick(&[
                (BreachOutcome::NoFurtherAction, 50),
                (BreachOutcome::ContemptFound, 50),
            ])
        };
        let decided = occurred + Duration::days(self.rng.random_range(7..120));
        let outcome = if decided > self.now.naive_utc() {
            BreachOutcome::Reported
        } else {
            outcome
        };
        let id = uuid::Uuid::now_v7().to_string();
        b.breaches.push(BreachRow {
            id: id.clone(),
            order_id: order_id.into(),
            reported_by_agency: force.into(),
            reported_by: "synthetic".into(),
            external_ref: format!("SYN-{id}"),
            occurred_at: occurred,
            description: "synthetic".into(),
            outcome: outcome.as_str().into(),
            created_at: occurred,
            updated_at: occurred,
            recorded_as_crime: criminal && self.rng.random_bool(0.7),
            force_agency: force.into(),
            order_type: order_type.as_str().into(),
            outcome_at: if outcome == BreachOutcome::Reported {
                occurred
            } else {
                decided
            },
            // Each force's orders are made by its own magistrates' court (see `order`).
            court_agency: Some(format!("{force}-MC")),
        });
        let record = |outcome: BreachOutcome, at| BreachOutcomeRow {
            id: uuid::Uuid::now_v7().to_string(),
            breach_id: id.clone(),
            outcome: outcome.as_str().into(),
            recorded_at: at,
            recorded_by_agency: force.into(),
            recorded_by: "synthetic".into(),
            note: None,
        };
        b.outcomes.push(record(BreachOutcome::Reported, occurred));
        if outcome != BreachOutcome::Reported {
            b.outcomes.push(record(outcome, decided));
        }
        self.report.breaches += 1;
    }
}

/// An order's first version, as made.
fn first_version(
    id: &str,
    made_on: NaiveDate,
    term: Option<i64>,
    at: chrono::NaiveDateTime,
    court: &str,
) -> VersionRow {
    VersionRow {
        order_id: id.into(),
        version: 1,
        event: OrderEvent::Granted.as_str().into(),
        status: OrderStatus::InForce.as_str().into(),
        expires_on: term.map(|days| made_on + Duration::days(days - 1)),
        recorded_at: at,
        recorded_by: "synthetic".into(),
        recorded_by_agency: court.into(),
        note: None,
        decided_on: Some(made_on),
        without_notice: false,
        aware_at: None,
    }
}
