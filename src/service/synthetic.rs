//! A synthetic, fictional data set to run statistics on: 43 territorial forces and the British Transport Police
//! (fictional codes `F01`..`F43`, `BTP`), one magistrates' court each, orders over the last four years with their
//! applications (some refused by the force or the court), service, notification misses, breaches and their
//! outcomes. Reproducible from a seed with this build; written in batches of 10,000 orders, each batch its own
//! transaction, with progress logged. The rates are in docs/statistics.md ("Synthetic data") with what they rest on.
//!
//! It writes the tables directly, not through the use cases: a million orders through `grantOrder` would take hours.
//! One audit entry records the load.

use super::{audit, Services};
use crate::db::models::*;
use crate::db::synthetic::Batch;
use crate::domain::audit::AuditOperation;
use crate::domain::calendar::london_date;
use crate::domain::{AgencyKind, OrderType};
use crate::error::AppResult;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Orders per transaction.
const BATCH: usize = 10_000;
/// Years of orders, ending today.
const YEARS: i64 = 4;

const FIRST: [&str; 12] = [
    "Sam", "Alex", "Jo", "Chris", "Robin", "Charlie", "Morgan", "Jamie", "Taylor", "Casey", "Drew",
    "Jordan",
];
const LAST: [&str; 12] = [
    "Ashdown",
    "Brackley",
    "Colwell",
    "Dunmore",
    "Elstow",
    "Farleigh",
    "Garside",
    "Hatherley",
    "Ingleby",
    "Kilburnie",
    "Lowther",
    "Marlcombe",
];

/// What a load wrote.
#[derive(Debug, Clone, Default)]
pub struct SyntheticReport {
    pub orders: usize,
    pub applications: usize,
    pub breaches: usize,
}

/// The forces: `F01`..`F43` and `BTP`.
pub fn forces() -> Vec<String> {
    (1..=43)
        .map(|i| format!("F{i:02}"))
        .chain(["BTP".to_string()])
        .collect()
}

/// The order types of the set, with their share of orders (per cent) and their term in days (none: until further
/// order).
const TYPES: [(OrderType, u32, Option<i64>); 6] = [
    (OrderType::Spo, 40, Some(730)),
    (OrderType::InterimSpo, 10, Some(60)),
    (OrderType::Dvpo, 20, Some(28)),
    (OrderType::Dapo, 10, None),
    (OrderType::NonMolestationOrder, 12, Some(365)),
    (OrderType::RestrainingOrder, 8, Some(730)),
];

struct Generator {
    rng: StdRng,
    forces: Vec<String>,
    /// Cumulative weights of the forces: a few make most applications (Zipf, exponent 1.3).
    weights: Vec<f64>,
    now: DateTime<Utc>,
    first_day: NaiveDate,
    /// Subjects made so far (name, date of birth), some of whom come back under another order.
    subjects: Vec<(String, NaiveDate)>,
    report: SyntheticReport,
}

impl Generator {
    fn new(seed: u64, now: DateTime<Utc>) -> Generator {
        let forces = forces();
        let mut total = 0.0;
        let weights = (1..=forces.len())
            .map(|k| {
                total += 1.0 / (k as f64).powf(1.3);
                total
            })
            .collect();
        Generator {
            rng: StdRng::seed_from_u64(seed),
            forces,
            weights,
            now,
            first_day: london_date(now) - Duration::days(365 * YEARS),
            subjects: vec![],
            report: SyntheticReport::default(),
        }
    }

    fn force(&mut self) -> String {
        let last = *self.weights.last().unwrap_or(&1.0);
        let x = self.rng.random::<f64>() * last;
        let i = self.weights.iter().position(|w| x <= *w).unwrap_or(0);
        self.forces[i].clone()
    }

    fn day_between(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(0);
        from + Duration::days(self.rng.random_range(0..=span))
    }

    fn pick<T: Copy>(&mut self, choices: &[(T, u32)]) -> T {
        let total: u32 = choices.iter().map(|c| c.1).sum();
        let mut x = self.rng.random_range(0..total.max(1));
        for (value, weight) in choices {
            if x < *weight {
                return *value;
            }
            x -= weight;
        }
        choices[0].0
    }

    fn person(&mut self) -> (String, NaiveDate) {
        let name = format!(
            "{} {}",
            FIRST[self.rng.random_range(0..FIRST.len())],
            LAST[self.rng.random_range(0..LAST.len())]
        );
        let born = self.day_between(
            NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or(self.first_day),
            NaiveDate::from_ymd_opt(2004, 12, 31).unwrap_or(self.first_day),
        );
        (name, born)
    }

    fn at(&self, day: NaiveDate, hour: u32) -> NaiveDateTime {
        day.and_hms_opt(hour, 0, 0).unwrap_or_default()
    }

    /// Orders `from..to` of the set, with everything that belongs to them.
    fn batch(&mut self, from: usize, to: usize) -> Batch {
        let mut b = Batch::default();
        for i in from..to {
            self.order(i, &mut b);
        }
        b
    }
}

impl Services {
    /// Loads `orders` synthetic orders made from `seed` (docs/statistics.md). Refused when a synthetic set is
    /// already loaded. `progress` is told the orders written after each batch.
    pub async fn seed_synthetic(
        &self,
        orders: usize,
        seed: u64,
        progress: impl Fn(usize),
    ) -> AppResult<SyntheticReport> {
        let now = self.now();
        let today = london_date(now);
        let mut agencies: Vec<AgencyRow> = vec![];
        for force in forces() {
            let at = self.now().naive_utc();
            agencies.push(AgencyRow {
                code: format!("{force}-MC"),
                name: format!("Magistrates' court of force {force} (synthetic)"),
                kind: AgencyKind::Court.as_str().into(),
                created_at: at,
            });
            agencies.push(AgencyRow {
                name: format!("Police force {force} (synthetic)"),
                code: force,
                kind: AgencyKind::PoliceForce.as_str().into(),
                created_at: at,
            });
        }
        // The set's agencies are made by this load only: the first court of the set tells whether one is loaded
        // (the first order's reference depends on the force drawn for it).
        let loaded = self
            .db
            .run(|conn| crate::db::agencies::find(conn, "F01-MC"))
            .await?
            .is_some();
        if loaded {
            return Err(crate::error::AppError::conflict(
                crate::codes::REFERENCE_TAKEN,
                "a synthetic set is already loaded; use a new database",
            ));
        }
        self.db
            .run(move |conn| crate::db::synthetic::agencies(conn, &agencies))
            .await?;
        let mut generator = Generator::new(seed, now);
        let mut written = 0;
        while written < orders {
            let to = (written + BATCH).min(orders);
            let batch = generator.batch(written, to);
            self.db
                .run(move |conn| {
                    crate::db::write_transaction(conn, |conn| {
                        crate::db::synthetic::write(conn, &batch)
                    })
                })
                .await?;
            written = to;
            progress(written);
        }
        let report = generator.report.clone();
        let entry = audit::system_entry(
            "seed-synthetic",
            now,
            AuditOperation::Collect,
            "seedSynthetic",
            format!(
                "synthetic set: {} orders from seed {seed}, to {today}",
                report.orders
            ),
        );
        self.audit(vec![entry]).await?;
        Ok(report)
    }
}

#[path = "synthetic_order.rs"]
mod order;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_makes_the_same_set() {
        let now = "2026-06-01T12:00:00Z".parse().unwrap();
        let a = Generator::new(7, now).batch(0, 200);
        let b = Generator::new(7, now).batch(0, 200);
        let refs = |b: &Batch| {
            b.orders
                .iter()
                .map(|o| (o.reference.clone(), o.made_on))
                .collect::<Vec<_>>()
        };
        assert_eq!(refs(&a), refs(&b));
        assert_eq!(a.breaches.len(), b.breaches.len());
        let c = Generator::new(8, now).batch(0, 200);
        assert_ne!(refs(&a), refs(&c));
        // Nothing in the future, and every breach within its order's life.
        let today = london_date(now);
        assert!(a.orders.iter().all(|o| o.made_on <= today));
        assert!(a
            .breaches
            .iter()
            .all(|br| br.occurred_at <= now.naive_utc()));
    }
}
