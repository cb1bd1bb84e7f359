//! Reading the form's values into the enquiry's units: lower-case emails, digit-only
//! phones, real calendar dates, ages, and budgets in cents.

/// An email address, lower-cased; `None` unless it looks like `local@domain.tld`.
pub fn email(value: &str) -> Option<String> {
    let value = value.trim();
    let value = value.strip_prefix("mailto:").unwrap_or(value);
    // `Amina <amina@example.com>` → the address in the brackets.
    let value = match (value.rfind('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value,
    };
    let address = value.trim().to_lowercase();
    let (local, domain) = address.split_once('@')?;
    let valid = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !address.chars().any(char::is_whitespace);
    valid.then_some(address)
}

/// Digits with an optional leading `+`; `None` when fewer than 6 digits.
pub fn phone(value: &str) -> Option<String> {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return None;
    }
    Some(if value.trim_start().starts_with('+') {
        format!("+{digits}")
    } else {
        digits
    })
}

/// A `YYYY-MM-DD` date naming a real day, as days since 1970-01-01.
pub fn date(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = value.get(range)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, m, d) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if d < 1 || d > days_in_month {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The number a value starts with: `2`, `2 adults`.
pub fn leading_number(value: &str) -> Option<u32> {
    let digits: String = value
        .trim()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// What the `Children ages` field says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Children {
    /// Ages 2–17.
    pub ages: Vec<u32>,
    /// Ages 0 and 1.
    pub infants: u32,
    /// Entries without a number, e.g. `toddler`.
    pub without_age: u32,
    /// Ages over 17, which the contract counts as adults; reported, not counted.
    pub too_old: Vec<u32>,
}

/// Reads `8, 5`, `8 and 5`, `8yrs; 1`. `none`, `-`, `n/a` and `no` mean no children.
pub fn children(value: &str) -> Children {
    let none = |entry: &str| matches!(entry, "" | "-" | "none" | "n/a" | "na" | "no" | "nil");
    let mut children = Children::default();
    let lower = value.trim().to_lowercase();
    if none(&lower) {
        return children;
    }
    for entry in lower.replace(" and ", ",").split([',', ';', '/', '&']) {
        let entry = entry.trim();
        if none(entry) {
            continue;
        }
        match leading_number(entry) {
            Some(0..=1) => children.infants += 1,
            Some(age @ 2..=17) => children.ages.push(age),
            Some(age) => children.too_old.push(age),
            None => children.without_age += 1,
        }
    }
    children
}

/// A budget in US cents, and whether it is per person: `9500`, `9,500.50`, `$9 500`,
/// `USD 4000 per person`, `4000pp`. `None` for anything else (ranges, `9.5k`, words).
pub fn budget_cents(value: &str) -> Option<(i64, bool)> {
    let lower = value.trim().to_lowercase();
    let (number, per_person) = ["per person", "p.p.", "pp", "each"]
        .iter()
        .find_map(|marker| lower.strip_suffix(marker))
        .map_or((lower.as_str(), false), |rest| (rest, true));
    let number = number.trim();
    let number = ["usd", "us$", "$"]
        .iter()
        .find_map(|prefix| number.strip_prefix(prefix))
        .unwrap_or(number);
    let number = number.strip_suffix("usd").unwrap_or(number);
    let cleaned: String = number
        .chars()
        .filter(|c| !matches!(c, ',' | '\'' | ' ' | '\u{a0}'))
        .collect();
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || fraction.len() > 2 || !digits(fraction) {
        return None;
    }
    let cents = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse::<i64>().ok()?,
    };
    let amount = whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)?;
    (amount > 0).then_some((amount, per_person))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_unwrapped() {
        assert_eq!(
            email(" Amina.Otieno@Example.COM ").as_deref(),
            Some("amina.otieno@example.com")
        );
        assert_eq!(
            email("Amina <amina@example.com>").as_deref(),
            Some("amina@example.com")
        );
        assert_eq!(
            email("mailto:amina@example.com").as_deref(),
            Some("amina@example.com")
        );
    }

    #[test]
    fn things_that_are_not_addresses_are_dropped() {
        for bad in [
            "amina",
            "amina@localhost",
            "@example.com",
            "a b@example.com",
            "a@.com",
        ] {
            assert_eq!(email(bad), None, "{bad}");
        }
    }

    #[test]
    fn phones_keep_digits_and_a_leading_plus() {
        assert_eq!(
            phone("+254 (0)712-345 678").as_deref(),
            Some("+2540712345678")
        );
        assert_eq!(phone("082 555 0147").as_deref(), Some("0825550147"));
        assert_eq!(phone("n/a"), None);
        assert_eq!(phone("123"), None);
    }

    #[test]
    fn only_real_iso_dates_are_accepted() {
        assert_eq!(date("1970-01-01"), Some(0));
        assert_eq!(date("2027-08-17").unwrap() - date("2027-08-10").unwrap(), 7);
        assert_eq!(date("2028-03-01").unwrap() - date("2028-02-28").unwrap(), 2);
        for bad in [
            "2027-02-29",
            "2027-13-01",
            "2027-04-31",
            "10/08/2027",
            "2027-8-10",
            "2027-08-1O",
        ] {
            assert_eq!(date(bad), None, "{bad}");
        }
    }

    #[test]
    fn children_ages_are_split_into_children_and_infants() {
        assert_eq!(
            children("8, 5 and 1; 19, toddler"),
            Children {
                ages: vec![8, 5],
                infants: 1,
                without_age: 1,
                too_old: vec![19],
            }
        );
        assert_eq!(
            children("8 yrs/12"),
            Children {
                ages: vec![8, 12],
                ..Children::default()
            }
        );
    }

    #[test]
    fn an_answer_of_none_means_no_children() {
        for none in ["", "None", "-", "n/a", "no"] {
            assert_eq!(children(none), Children::default(), "{none}");
        }
    }

    #[test]
    fn budgets_become_cents() {
        assert_eq!(budget_cents("9500"), Some((950_000, false)));
        assert_eq!(budget_cents("9,500.5"), Some((950_050, false)));
        assert_eq!(budget_cents("$9 500"), Some((950_000, false)));
        assert_eq!(budget_cents("USD 4000 per person"), Some((400_000, true)));
        assert_eq!(budget_cents("4000pp"), Some((400_000, true)));
        assert_eq!(budget_cents("12000 USD"), Some((1_200_000, false)));
    }

    #[test]
    fn budgets_that_are_not_one_amount_are_dropped() {
        for bad in [
            "9.5k",
            "4000-5000",
            "flexible",
            "0",
            "-100",
            "1.234",
            "approx 5000",
            ".",
        ] {
            assert_eq!(budget_cents(bad), None, "{bad}");
        }
    }
}
