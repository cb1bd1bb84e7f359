//! ISO 8601 calendar dates (`YYYY-MM-DD`) as day numbers, to find a stay's last night.

/// Days since 1970-01-01 for a `YYYY-MM-DD` date, or `None` when it is not a real date.
pub fn parse(date: &str) -> Option<i64> {
    let bytes = date.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year: i64 = date.get(0..4)?.parse().ok()?;
    let month: u32 = date.get(5..7)?.parse().ok()?;
    let day: u32 = date.get(8..10)?.parse().ok()?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// The `YYYY-MM-DD` form of a day number from [`parse`].
pub fn format(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `date` moved by `days` days, or `None` when `date` is not a real date.
pub fn add_days(date: &str, days: i64) -> Option<String> {
    parse(date).map(|d| format(d + days))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's algorithms: exact for the proleptic Gregorian calendar, no tables.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_is_day_zero() {
        assert_eq!(parse("1970-01-01"), Some(0));
    }

    #[test]
    fn adding_days_crosses_month_and_year_ends() {
        assert_eq!(add_days("2027-03-31", 1).as_deref(), Some("2027-04-01"));
        assert_eq!(add_days("2027-12-31", 1).as_deref(), Some("2028-01-01"));
        assert_eq!(add_days("2028-02-28", 1).as_deref(), Some("2028-02-29"));
        assert_eq!(add_days("2027-02-28", 1).as_deref(), Some("2027-03-01"));
        assert_eq!(add_days("2027-03-01", -1).as_deref(), Some("2027-02-28"));
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for bad in [
            "2027-02-29",
            "2027-13-01",
            "2027-04-31",
            "27-04-01",
            "2027/04/01",
            "",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn formatting_inverts_parsing_over_many_years() {
        let start = parse("1999-12-25").unwrap();
        for d in start..start + 12_000 {
            assert_eq!(parse(&format(d)), Some(d));
        }
    }
}
