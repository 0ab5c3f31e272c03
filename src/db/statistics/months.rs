//! The facts of whole past months, kept ready in `statistics_months` (migration 000020), so that a year of
//! statistics reads twelve stored rows and little of the record.
//!
//! A period is taken month by month (`parts`), each part answered on its own (`facts`) and the answers merged. A
//! whole month that has ended comes from its kept facts, computed from the record and kept when first asked for. Any
//! other part (a month the period only partly covers, the month still running) is read from the record each time.
//! The orders in force at a quarter's end come from the month ending that day when it has ended, from the record
//! otherwise.
//!
//! Kept facts never go stale unseen: every change to a row statistics count from moves on the generation of each
//! kept month whose facts it can alter (the migration's triggers, in the same transaction as the change: the months
//! of the days it touches, and for orders in force every month from the earliest such day). Facts are kept with the generation read before they were computed, and used only while it is still
//! the month's: a change committed meanwhile leaves them unused. They hold every force's and court's figures; a
//! force's are picked from them.

use super::kept::{decode, encode};
use super::{read, DbConnection};
use crate::db::schema::statistics_months;
use crate::domain::calendar::london_date;
use crate::domain::statistics::{Facts, Period, Quarter};
use crate::error::AppResult;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use diesel::prelude::*;

/// A part of a period, answered on its own (and alongside the others: `Services::figures` asks for two at once).
#[derive(Debug, Clone, Copy)]
pub struct Part {
    /// The calendar month the part lies in, first and last day.
    month: (NaiveDate, NaiveDate),
    /// The days of the month within the period.
    days: Period,
    /// Whether the month has ended (London date).
    ended: bool,
    /// Whether the part's last day is a quarter's end within the period, where orders in force are counted.
    quarter_end: bool,
}

/// The parts of `period` as of `now`, month by month: those read from the record first, as they take longest.
pub fn parts(period: Period, now: DateTime<Utc>) -> Vec<Part> {
    let today = london_date(now);
    let ends: Vec<NaiveDate> = Quarter::ends(period).iter().map(|(_, e)| *e).collect();
    let mut parts: Vec<Part> = months(period)
        .into_iter()
        .map(|(first, last)| {
            let days = Period {
                from: first.max(period.from),
                to: last.min(period.to),
            };
            Part {
                month: (first, last),
                days,
                ended: last < today,
                quarter_end: ends.contains(&days.to),
            }
        })
        .collect();
    parts.sort_by_key(|p| p.kept_whole());
    parts
}

impl Part {
    /// An ended month the period covers whole: its kept facts answer for it.
    fn kept_whole(&self) -> bool {
        let (first, last) = self.month;
        self.ended && self.days.from == first && self.days.to == last
    }
}

/// The facts of one part of a period for one force, or for every force when `force` is `None`. `now` decides
/// whether an open notification deadline has been missed.
pub fn facts(
    conn: &mut DbConnection,
    part: &Part,
    force: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Facts> {
    let (first, last) = part.month;
    let mut out = Facts::default();
    if part.kept_whole() {
        add(
            &mut out,
            kept(conn, first, last, now)?,
            force,
            part.quarter_end,
        );
        return Ok(out);
    }
    // Kept facts give the orders in force at an ended month's end, however little of it the period covers.
    let in_force_kept = part.quarter_end && part.ended && part.days.to == last;
    let in_force_read = part.quarter_end && !in_force_kept;
    let mut read_facts = read(conn, part.days, force, now, in_force_read)?;
    if in_force_kept {
        read_facts.in_force = kept(conn, first, last, now)?.in_force;
    }
    add(&mut out, read_facts, force, part.quarter_end);
    Ok(out)
}

/// Adds the facts of one part of a period (as `facts` gave them) to those of the others.
pub fn merge(into: &mut Facts, part: Facts) {
    add(into, part, None, true);
}

/// The calendar months `period` touches, each as its first and last day.
fn months(period: Period) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = vec![];
    let mut first = period.from.with_day(1).unwrap_or(period.from);
    while first <= period.to {
        let Some(next) = first.checked_add_months(Months::new(1)) else {
            break;
        };
        out.push((first, next.pred_opt().unwrap_or(next)));
        first = next;
    }
    out
}

/// Adds a part's facts, of `force` only when one is asked for, and its orders in force when its last day is a
/// quarter's end within the period.
fn add(out: &mut Facts, part: Facts, force: Option<&str>, in_force: bool) {
    let ours = |f: &str| force.is_none_or(|asked| asked == f);
    out.orders
        .extend(part.orders.into_iter().filter(|f| ours(&f.force)));
    if in_force {
        out.in_force
            .extend(part.in_force.into_iter().filter(|f| ours(&f.force)));
    }
    out.changes
        .extend(part.changes.into_iter().filter(|f| ours(&f.force)));
    out.breaches
        .extend(part.breaches.into_iter().filter(|f| ours(&f.force)));
    out.outcomes
        .extend(part.outcomes.into_iter().filter(|f| ours(&f.force)));
    out.missed
        .extend(part.missed.into_iter().filter(|f| ours(&f.force)));
    out.applications
        .extend(part.applications.into_iter().filter(|f| ours(&f.force)));
}

/// The kept facts of the ended month `first`..`last`, every force's, computed and kept when missing or stale.
fn kept(
    conn: &mut DbConnection,
    first: NaiveDate,
    last: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<Facts> {
    let quarter = Quarter::of(first);
    let whole = Period {
        from: first,
        to: last,
    };
    let (generation, kept_at, stored) = match find(conn, first)? {
        Some((generation, kept_at, stored, true)) => (generation, kept_at, stored),
        _ => match new_month(conn, first, last) {
            Ok(Some(found)) => found,
            Ok(None) => return read(conn, whole, None, now, true),
            Err(e) => {
                tracing::warn!(month = %first, error = %e, "statistics month not kept; computed for this answer only");
                return read(conn, whole, None, now, true);
            }
        },
    };
    if let (Some(stored), true) = (stored, kept_at == Some(generation)) {
        match decode(&stored, quarter) {
            Ok(facts) => return Ok(facts),
            // Kept by a build that wrote them differently, or counted them differently: computed again, and kept as
            // this build does.
            Err(e) => {
                tracing::warn!(month = %first, error = %e, "kept statistics not read; computing them again")
            }
        }
    }
    let started = std::time::Instant::now();
    let facts = read(conn, whole, None, now, true)?;
    let stored = encode(&facts);
    let kept = diesel::update(
        statistics_months::table
            .find(first)
            .filter(statistics_months::generation.eq(generation)),
    )
    .set((
        statistics_months::facts.eq(&stored),
        statistics_months::facts_generation.eq(generation),
    ))
    .execute(conn);
    // Keeping them is for the next answer: this one has its facts whether or not they could be kept.
    if let Err(e) = &kept {
        tracing::warn!(month = %first, error = %e, "statistics month not kept");
    }
    tracing::debug!(
        month = %first,
        kept = matches!(kept, Ok(1)),
        bytes = stored.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "statistics month computed"
    );
    Ok(facts)
}

type Found = (i64, Option<i64>, Option<String>, bool);

/// A month's generation, the generation its facts were computed at, and the facts.
type Kept = (i64, Option<i64>, Option<String>);

/// A kept month's generation, the generation its facts were computed at, the facts, and whether every change in
/// progress when its row was made has ended (`new_month`).
fn find(conn: &mut DbConnection, first: NaiveDate) -> AppResult<Option<Found>> {
    Ok(statistics_months::table
        .find(first)
        .select((
            statistics_months::generation,
            statistics_months::facts_generation,
            statistics_months::facts,
            statistics_months::fenced,
        ))
        .first::<Found>(conn)
        .optional()?)
}

/// Creates a month's row (if it is not there yet) before its facts are read, so that any change committed from then
/// on moves its generation on, and waits for the changes that did not see it; `None` when its facts must not be
/// kept from this read. Its generation starts at a random number, never one
/// an emptied table's row had: a computation that read the old row cannot be kept under the new one.
///
/// A change whose trigger ran before the row existed moved no generation on. On SQLite the insert waits for any such
/// change to commit (one writer at a time), so the facts read next see it. On PostgreSQL each change's trigger holds
/// a shared advisory lock to the end of its transaction (migration 000020); taking it exclusively once the row is
/// committed waits for every change then in progress, and each one after sees the row.
fn new_month(
    conn: &mut DbConnection,
    first: NaiveDate,
    last: NaiveDate,
) -> AppResult<Option<Kept>> {
    use rand::Rng;
    let start: i64 = rand::rng().random_range(0..i64::MAX / 2);
    let row = (
        statistics_months::first_day.eq(first),
        statistics_months::last_day.eq(last),
        statistics_months::generation.eq(start),
    );
    crate::db::with_backend!(conn, |c| diesel::insert_into(statistics_months::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    if let DbConnection::Pg(c) = conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({STATISTICS_LOCK_KEY}); COMMIT;"
        ))?;
    }
    diesel::update(statistics_months::table.find(first))
        .set(statistics_months::fenced.eq(true))
        .execute(conn)?;
    Ok(find(conn, first)?.map(|(generation, kept_at, stored, _)| (generation, kept_at, stored)))
}

/// The advisory lock statistics triggers hold shared on PostgreSQL (migration 000020).
pub const STATISTICS_LOCK_KEY: i64 = 0x7374_6174_7374; // "statst"

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_triggers_hold_the_lock_new_months_wait_for() {
        let migration =
            include_str!("../../../migrations/postgres/2026-12-06-000020_statistics_months/up.sql");
        let shared = format!("pg_advisory_xact_lock_shared({STATISTICS_LOCK_KEY})");
        assert_eq!(migration.matches(&shared).count(), 2, "{shared}");
    }

    #[test]
    fn a_period_is_taken_month_by_month() {
        let p = Period {
            from: d("2025-12-07"),
            to: d("2026-02-03"),
        };
        assert_eq!(
            months(p),
            [
                (d("2025-12-01"), d("2025-12-31")),
                (d("2026-01-01"), d("2026-01-31")),
                (d("2026-02-01"), d("2026-02-28")),
            ]
        );
    }
}
