//! What the statistics statements write differently on SQLite and PostgreSQL, and the period and force they are
//! bound to. Dates and times written into a statement are formatted from chrono values (digits, dashes, colons and
//! a dot), never text from a caller; the force a caller names is a bound parameter.

use super::super::DbConnection;
use crate::domain::calendar::end_of_day;
use crate::domain::statistics::{Period, Quarter};
use crate::error::{AppError, AppResult};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

/// A statement's backend, period and force.
pub struct Dialect<'a> {
    pg: bool,
    pub period: Period,
    /// The period's quarters, each with its last day within the period.
    pub ends: Vec<(Quarter, NaiveDate)>,
    force: Option<&'a str>,
}

impl<'a> Dialect<'a> {
    pub fn of(conn: &DbConnection, period: Period, force: Option<&'a str>) -> Dialect<'a> {
        Dialect {
            pg: matches!(conn, DbConnection::Pg(_)),
            period,
            ends: Quarter::ends(period),
            force,
        }
    }

    /// A date as a literal.
    pub fn date(&self, day: NaiveDate) -> String {
        format!("'{}'", day.format("%Y-%m-%d"))
    }

    /// A stored (UTC) time as a literal, written as diesel stores times in SQLite (fractions only when not zero), so
    /// that on SQLite, which compares them as text, a time equal to a bound compares equal to it.
    pub fn time(&self, at: NaiveDateTime) -> String {
        format!("'{}'", at.format("%Y-%m-%d %H:%M:%S%.f"))
    }

    /// The quarter of the period a date falls in, as its index in [`Quarter::ends`] (a date after the period's last
    /// day gets the number of quarters; the statements keep to the period).
    pub fn quarter_of_date(&self, column: &str) -> String {
        self.bucket(|i| format!("{column} <= {}", self.date(self.ends[i].1)))
    }

    /// The quarter of the period a stored time falls in by its London date: before the end of the quarter's last
    /// London day (midnight in London, as a UTC time).
    pub fn quarter_of_time(&self, column: &str) -> String {
        self.bucket(|i| {
            format!(
                "{column} < {}",
                self.time(end_of_day(self.ends[i].1).naive_utc())
            )
        })
    }

    /// The index of the first of the period's quarters whose `test` (given its index) holds, or the number of
    /// quarters when none does.
    pub fn bucket(&self, test: impl Fn(usize) -> String) -> String {
        let arms: String = (0..self.ends.len())
            .map(|i| format!(" WHEN {} THEN {i}", test(i)))
            .collect();
        format!("CAST(CASE{arms} ELSE {} END AS BIGINT)", self.ends.len())
    }

    /// The quarter of an index from `quarter_of_date` or `quarter_of_time`.
    pub fn quarter(&self, index: i64) -> AppResult<Quarter> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.ends.get(i))
            .map(|(q, _)| *q)
            .ok_or_else(|| {
                AppError::internal(anyhow::anyhow!(
                    "a statistics group fell outside the period"
                ))
            })
    }

    /// The whole days from a date column to the London date of a stored time (null when the time is). On SQLite,
    /// which has no time zones, the London date is the UTC date but in the last UTC hour of a day in summer time,
    /// between 01:00 UTC on the last Sundays of March and October (the UK's rule since 1996); the check is made only
    /// for times in that hour.
    pub fn days_to_london_date(&self, date: &str, time: &str) -> String {
        if self.pg {
            format!("CAST(CAST(({time} AT TIME ZONE 'UTC') AT TIME ZONE 'Europe/London' AS DATE) - {date} AS BIGINT)")
        } else {
            format!(
                "CAST(julianday(substr({time}, 1, 10)) - julianday({date}) AS BIGINT) + CASE WHEN substr({time}, 12, 2) = '23' \
                 AND {time} >= date(strftime('%Y', {time}) || '-03-25', 'weekday 0') || ' 01:00:00' \
                 AND {time} < date(strftime('%Y', {time}) || '-10-25', 'weekday 0') || ' 01:00:00' THEN 1 ELSE 0 END"
            )
        }
    }

    /// The whole hours from one stored time to a later one.
    pub fn hours_between(&self, earlier: &str, later: &str) -> String {
        if self.pg {
            // Whole seconds, as SQLite's `strftime('%s')` counts them, so both backends agree.
            format!("CAST(FLOOR((EXTRACT(EPOCH FROM date_trunc('second', {later})) - EXTRACT(EPOCH FROM date_trunc('second', {earlier}))) / 3600) AS BIGINT)")
        } else {
            format!("CAST((CAST(strftime('%s', {later}) AS INTEGER) - CAST(strftime('%s', {earlier}) AS INTEGER)) / 3600 AS BIGINT)")
        }
    }

    /// The whole days from one date column to a later one (null when either is).
    pub fn days_between(&self, earlier: &str, later: &str) -> String {
        if self.pg {
            format!("CAST({later} - {earlier} AS BIGINT)")
        } else {
            format!("CAST(julianday({later}) - julianday({earlier}) AS BIGINT)")
        }
    }

    /// The force asked for, if one was.
    pub fn force_asked(&self) -> Option<&'a str> {
        self.force
    }

    /// The condition keeping the force asked for (empty for every force), on `column`.
    pub fn force(&self, column: &str) -> String {
        match (self.force, self.pg) {
            (None, _) => String::new(),
            (Some(_), true) => format!(" AND {column} = $1"),
            (Some(_), false) => format!(" AND {column} = ?"),
        }
    }

    /// Runs a statement built with [`Dialect::force`], binding the force when one was asked for.
    pub fn load<T>(&self, conn: &mut DbConnection, sql: &str) -> AppResult<Vec<T>>
    where
        T: diesel::QueryableByName<Sqlite> + diesel::QueryableByName<Pg> + 'static,
    {
        Ok(super::super::with_backend!(conn, |c| match self.force {
            Some(force) => diesel::sql_query(sql).bind::<Text, _>(force).load::<T>(c),
            None => diesel::sql_query(sql).load::<T>(c),
        })?)
    }
}
