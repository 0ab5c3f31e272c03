//! The statutory calendar: periods "beginning with" a day end at midnight Europe/London time, whatever the clocks do.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::London;
use std::collections::BTreeSet;

/// The bank holidays of England and Wales shipped with orderwatch (`data/bank-holidays-england-and-wales.txt`).
pub const BANK_HOLIDAYS: &str = include_str!("../../data/bank-holidays-england-and-wales.txt");

/// Days that do not count towards a notice's hearing window (DA Act 2021 s29): Sundays, Christmas Day, Good Friday
/// and bank holidays in England and Wales.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExcludedDays {
    bank_holidays: BTreeSet<NaiveDate>,
}

impl ExcludedDays {
    /// Parses a calendar: one `YYYY-MM-DD` a line; `#` starts a comment; blank lines are ignored.
    pub fn parse(text: &str) -> Result<ExcludedDays, String> {
        let mut bank_holidays = BTreeSet::new();
        for (n, line) in text.lines().enumerate() {
            let date = line.split('#').next().unwrap_or("").trim();
            if date.is_empty() {
                continue;
            }
            let d = NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|_| format!("line {}: {date:?} is not a YYYY-MM-DD date", n + 1))?;
            bank_holidays.insert(d);
        }
        Ok(ExcludedDays { bank_holidays })
    }

    /// The shipped calendar.
    pub fn england_and_wales() -> ExcludedDays {
        ExcludedDays::parse(BANK_HOLIDAYS).expect("the shipped bank-holiday calendar parses")
    }

    /// Adds bank holidays (a one-off holiday proclaimed after this release).
    pub fn with_extra(mut self, days: impl IntoIterator<Item = NaiveDate>) -> ExcludedDays {
        self.bank_holidays.extend(days);
        self
    }

    /// The last bank holiday the calendar knows; windows past it may miss holidays not yet listed.
    pub fn known_until(&self) -> Option<NaiveDate> {
        self.bank_holidays.last().copied()
    }

    pub fn is_excluded(&self, day: NaiveDate) -> bool {
        day.weekday() == Weekday::Sun
            || (day.month() == 12 && day.day() == 25)
            || day == easter_sunday(day.year()) - Duration::days(2)
            || self.bank_holidays.contains(&day)
    }
}

/// Easter Sunday (Gregorian calendar; anonymous Gregorian algorithm).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let (a, b, c) = (year % 19, year / 100, year % 100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a real date")
}

/// The moment `hours` hours after `start`, not counting any time on an excluded day (London dates): a window that
/// would run into a Sunday or a bank holiday is extended by that whole day.
pub fn hours_excluding(start: DateTime<Utc>, hours: i64, excluded: &ExcludedDays) -> DateTime<Utc> {
    let mut at = start;
    let mut left = Duration::hours(hours);
    loop {
        let day = london_date(at);
        let day_end = end_of_day(day);
        if excluded.is_excluded(day) {
            at = day_end;
            continue;
        }
        let available = day_end - at;
        if left <= available {
            return at + left;
        }
        left -= available;
        at = day_end;
    }
}

/// The moment a day ends in England and Wales (midnight at the start of the next day, London time), in UTC.
pub fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    let next = (day + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight is a valid time");
    // UK clock changes happen at 01:00/02:00 local, so midnight is never skipped or repeated.
    London
        .from_local_datetime(&next)
        .earliest()
        .expect("midnight exists in Europe/London")
        .with_timezone(&Utc)
}

/// The deadline of a period of `days` days "beginning with" `day`: the day itself counts, so 3 days beginning with
/// Monday end at the end of Wednesday. A naive `day + 3 days` would be a day late.
pub fn end_of_period_beginning_with(day: NaiveDate, days: u32) -> DateTime<Utc> {
    assert!(days >= 1, "a period has at least one day");
    end_of_day(day + Duration::days(i64::from(days) - 1))
}

/// The calendar date in England and Wales at an instant.
pub fn london_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&London).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn three_days_beginning_with_a_winter_monday_end_at_wednesday_midnight_gmt() {
        assert_eq!(
            end_of_period_beginning_with(d("2026-01-05"), 3),
            t("2026-01-08T00:00:00Z")
        );
    }

    #[test]
    fn three_days_beginning_with_a_summer_day_end_at_23_00_utc() {
        assert_eq!(
            end_of_period_beginning_with(d("2026-06-01"), 3),
            t("2026-06-03T23:00:00Z")
        );
    }

    #[test]
    fn a_period_ending_on_the_day_the_clocks_go_forward_ends_at_bst_midnight() {
        // British Summer Time starts on Sunday 29 March 2026; Friday + 2 days is that Sunday.
        assert_eq!(
            end_of_period_beginning_with(d("2026-03-27"), 3),
            t("2026-03-29T23:00:00Z")
        );
        // The Saturday before it is still GMT all day.
        assert_eq!(end_of_day(d("2026-03-28")), t("2026-03-29T00:00:00Z"));
    }

    #[test]
    fn a_period_ending_on_the_day_the_clocks_go_back_ends_at_gmt_midnight() {
        // British Summer Time ends on Sunday 25 October 2026.
        assert_eq!(
            end_of_period_beginning_with(d("2026-10-23"), 3),
            t("2026-10-26T00:00:00Z")
        );
        assert_eq!(end_of_day(d("2026-10-24")), t("2026-10-24T23:00:00Z"));
    }

    #[test]
    fn a_period_across_a_leap_day_counts_it() {
        // 28 Feb, 29 Feb, 1 Mar: the period ends at the end of 1 March.
        assert_eq!(
            end_of_period_beginning_with(d("2028-02-28"), 3),
            t("2028-03-02T00:00:00Z")
        );
        // No leap day: 28 Feb, 1 Mar, 2 Mar.
        assert_eq!(
            end_of_period_beginning_with(d("2027-02-28"), 3),
            t("2027-03-03T00:00:00Z")
        );
    }

    #[test]
    fn the_shipped_calendar_parses_and_knows_substitute_days() {
        let days = ExcludedDays::england_and_wales();
        assert!(
            days.is_excluded(d("2026-12-28")),
            "Boxing Day 2026 substitute"
        );
        assert!(days.is_excluded(d("2026-04-03")), "Good Friday");
        assert!(days.is_excluded(d("2026-04-06")), "Easter Monday");
        assert!(days.is_excluded(d("2026-11-29")), "a Sunday");
        assert!(!days.is_excluded(d("2026-11-30")), "a Monday");
        assert!(days.known_until().unwrap() >= d("2035-12-26"));
        assert!(ExcludedDays::parse("2026-01-01\nnot a date").is_err());
    }

    #[test]
    fn easter_is_computed() {
        assert_eq!(easter_sunday(2026), d("2026-04-05"));
        assert_eq!(easter_sunday(2027), d("2027-03-28"));
        assert_eq!(easter_sunday(2038), d("2038-04-25"));
    }

    #[test]
    fn forty_eight_hours_on_working_days_are_forty_eight_hours() {
        let days = ExcludedDays::england_and_wales();
        // Monday 10:00 GMT to Wednesday 10:00.
        assert_eq!(
            hours_excluding(t("2026-11-30T10:00:00Z"), 48, &days),
            t("2026-12-02T10:00:00Z")
        );
    }

    #[test]
    fn a_window_over_a_sunday_is_extended_by_the_whole_day() {
        let days = ExcludedDays::england_and_wales();
        // Friday 18:00 GMT: 6 h of Friday, 24 h of Saturday, Sunday skipped, 18 h of Monday.
        assert_eq!(
            hours_excluding(t("2026-11-27T18:00:00Z"), 48, &days),
            t("2026-11-30T18:00:00Z")
        );
        // Given on a Sunday: counting starts on Monday.
        assert_eq!(
            hours_excluding(t("2026-11-29T15:00:00Z"), 48, &days),
            t("2026-12-02T00:00:00Z")
        );
    }

    #[test]
    fn easter_and_christmas_are_skipped() {
        let days = ExcludedDays::england_and_wales();
        // Thursday 2 April 2026 12:00 BST (11:00 UTC): Good Friday, Easter Sunday and Monday are excluded;
        // 12 h of Thursday, 24 h of Saturday, 12 h of Tuesday 7 April.
        assert_eq!(
            hours_excluding(t("2026-04-02T11:00:00Z"), 48, &days),
            t("2026-04-07T11:00:00Z")
        );
        // Thursday 24 December 2026 09:00: 15 h of the 24th, Christmas skipped, 24 h of Saturday 26th,
        // Sunday 27th and Monday 28th (substitute bank holiday) skipped, 9 h of Tuesday 29th.
        assert_eq!(
            hours_excluding(t("2026-12-24T09:00:00Z"), 48, &days),
            t("2026-12-29T09:00:00Z")
        );
    }

    #[test]
    fn a_window_across_the_spring_clock_change_counts_real_hours() {
        let days = ExcludedDays::default();
        // Saturday 28 March 2026 12:00 GMT: 12 h of Saturday; Sunday 29th (the 23-hour day) is excluded; 24 h of
        // Monday (BST from now on); 12 h of Tuesday: 12:00 BST is 11:00 UTC. The clocks always change on a Sunday,
        // which the window never counts.
        assert_eq!(
            hours_excluding(t("2026-03-28T12:00:00Z"), 48, &days),
            t("2026-03-31T11:00:00Z")
        );
    }

    #[test]
    fn london_date_follows_summer_time() {
        assert_eq!(london_date(t("2026-06-01T23:30:00Z")), d("2026-06-02"));
        assert_eq!(london_date(t("2026-12-01T23:30:00Z")), d("2026-12-01"));
    }
}
