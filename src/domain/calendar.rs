//! The statutory calendar: periods "beginning with" a day end at midnight Europe/London time, whatever the clocks do.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;

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
    fn london_date_follows_summer_time() {
        assert_eq!(london_date(t("2026-06-01T23:30:00Z")), d("2026-06-02"));
        assert_eq!(london_date(t("2026-12-01T23:30:00Z")), d("2026-12-01"));
    }
}
