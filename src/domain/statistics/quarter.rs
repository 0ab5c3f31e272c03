//! Calendar quarters, by which statistics are grouped.

use super::Period;
use chrono::{Datelike, NaiveDate};

/// A calendar quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4.
    pub number: u32,
}

impl Quarter {
    pub fn of(day: NaiveDate) -> Quarter {
        Quarter {
            year: day.year(),
            number: (day.month() - 1) / 3 + 1,
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.number - 1) * 3 + 1, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or(NaiveDate::MAX)
    }

    fn next(self) -> Quarter {
        if self.number == 4 {
            Quarter {
                year: self.year + 1,
                number: 1,
            }
        } else {
            Quarter {
                year: self.year,
                number: self.number + 1,
            }
        }
    }

    /// The quarters a period touches, each with the day its orders in force are counted: its last day, or the
    /// period's when that comes first.
    pub fn ends(period: Period) -> Vec<(Quarter, NaiveDate)> {
        Quarter::within(period)
            .into_iter()
            .map(|q| (q, q.last_day().min(period.to)))
            .collect()
    }

    /// The quarters a period touches, in order.
    pub fn within(period: Period) -> Vec<Quarter> {
        let mut out = vec![];
        let mut q = Quarter::of(period.from);
        while q.first_day() <= period.to {
            out.push(q);
            q = q.next();
        }
        out
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}
