//! Calendar dates without a clock: validation, day counts and ISO formatting.
//!
//! The plugin only needs whole days in the proleptic Gregorian calendar, so a few lines of
//! arithmetic (Howard Hinnant's days-from-civil algorithm) replace a date crate.

use std::fmt;

/// A valid calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    /// The date, when `year`-`month`-`day` exists (years 1900–2199 only: nothing else is a
    /// travel date, and the bound keeps arithmetic far from overflow).
    pub fn new(year: i32, month: u32, day: u32) -> Option<Self> {
        if !(1900..=2199).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Self { year, month, day })
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// The day of the month.
    pub fn day(self) -> u32 {
        self.day
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01, when it is within the supported years.
    pub fn from_days(days: i64) -> Option<Self> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self::new(
            i32::try_from(year).ok()?,
            u32::try_from(month).ok()?,
            u32::try_from(day).ok()?,
        )
    }

    /// This date moved by `days` days.
    pub fn add_days(self, days: i64) -> Option<Self> {
        Self::from_days(self.days() + days)
    }

    /// Days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Self) -> i64 {
        later.days() - self.days()
    }

    /// Reads the `YYYY-MM-DD` at the start of an ISO 8601 or RFC 3339 string.
    pub fn parse_iso_prefix(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> { s.get(r)?.parse().ok() };
        Self::new(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)
    }

    /// The first date on or after `reference` that falls on `month`/`day`: how a date
    /// written without a year is read. Searches a few years so that 29 February works.
    pub fn next_on_or_after(reference: Self, month: u32, day: u32) -> Option<Self> {
        (0..9).find_map(|k| Self::new(reference.year + k, month, day).filter(|d| *d >= reference))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Whether `year` has a 29 February.
pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1–12) of `year`; 0 for an invalid month.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::new(y, m, day).unwrap()
    }

    #[test]
    fn day_counts_round_trip_across_centuries() {
        for days in (-25_000..80_000).step_by(37) {
            let date = Date::from_days(days).unwrap();
            assert_eq!(date.days(), days);
        }
        assert_eq!(d(1970, 1, 1).days(), 0);
        assert_eq!(d(2027, 3, 12).to_string(), "2027-03-12");
    }

    #[test]
    fn invalid_dates_are_rejected() {
        assert!(Date::new(2027, 2, 29).is_none());
        assert!(Date::new(2028, 2, 29).is_some());
        assert!(Date::new(2027, 4, 31).is_none());
        assert!(Date::new(2027, 13, 1).is_none());
        assert!(Date::new(2100, 2, 29).is_none());
    }

    #[test]
    fn adding_days_crosses_months_and_years() {
        assert_eq!(d(2026, 12, 28).add_days(7), Some(d(2027, 1, 4)));
        assert_eq!(d(2028, 2, 28).add_days(1), Some(d(2028, 2, 29)));
        assert_eq!(d(2027, 3, 12).days_until(d(2027, 3, 19)), 7);
    }

    #[test]
    fn a_yearless_date_is_the_next_one_on_or_after_the_reference() {
        let reference = d(2026, 11, 20);
        assert_eq!(
            Date::next_on_or_after(reference, 3, 12),
            Some(d(2027, 3, 12))
        );
        assert_eq!(
            Date::next_on_or_after(reference, 12, 5),
            Some(d(2026, 12, 5))
        );
        assert_eq!(
            Date::next_on_or_after(reference, 11, 20),
            Some(d(2026, 11, 20))
        );
        assert_eq!(
            Date::next_on_or_after(reference, 2, 29),
            Some(d(2028, 2, 29))
        );
    }

    #[test]
    fn rfc3339_prefixes_are_read() {
        assert_eq!(
            Date::parse_iso_prefix("2026-11-20T09:14:00+02:00"),
            Some(d(2026, 11, 20))
        );
        assert_eq!(Date::parse_iso_prefix("20 Nov 2026"), None);
    }
}
