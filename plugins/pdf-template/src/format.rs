//! How amounts, guests and long descriptions read on a document.

use caravan_sdk::Money;

/// Longest description shown, in characters.
pub const DESCRIPTION_CHARS: usize = 120;

/// Digits after the decimal point (JPY 0, KWD 3, most 2), as ISO 4217 lists them.
use caravan_sdk::minor_unit_exponent as exponent;

/// `ZAR 48,600`: whole units, halves away from zero, as quotes show prices.
pub fn whole(money: &Money) -> String {
    let unit = 10_u128.pow(exponent(&money.currency));
    let magnitude = u128::from(money.amount.unsigned_abs());
    let major = (magnitude + unit / 2) / unit;
    let sign = if money.amount < 0 && major > 0 {
        "-"
    } else {
        ""
    };
    format!("{} {sign}{}", money.currency, grouped(major))
}

/// `ZAR 48,600.00`: to the minor unit, as invoices show amounts.
pub fn exact(money: &Money) -> String {
    let exp = exponent(&money.currency);
    let unit = 10_u128.pow(exp);
    let magnitude = u128::from(money.amount.unsigned_abs());
    let sign = if money.amount < 0 { "-" } else { "" };
    let major = grouped(magnitude / unit);
    if exp == 0 {
        format!("{} {sign}{major}", money.currency)
    } else {
        let fraction = magnitude % unit;
        let width = exp as usize;
        format!("{} {sign}{major}.{fraction:0width$}", money.currency)
    }
}

/// `1234567` → `1,234,567`.
fn grouped(value: u128) -> String {
    let digits = value.to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            text.push(',');
        }
        text.push(c);
    }
    text
}

/// `text` cut to [`DESCRIPTION_CHARS`] characters, ending in `…` when cut.
pub fn cut(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= DESCRIPTION_CHARS {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(DESCRIPTION_CHARS - 1).collect();
    short.truncate(short.trim_end().len());
    short.push('…');
    short
}

/// `2 Adults, 1 Child (2 rooms)`: children and rooms only when there are some to mention.
pub fn guests(adults: u32, children: u32, rooms: u32) -> String {
    let mut text = counted(adults, "Adult", "Adults");
    if children > 0 {
        text.push_str(", ");
        text.push_str(&counted(children, "Child", "Children"));
    }
    if rooms > 1 {
        text.push_str(&format!(" ({rooms} rooms)"));
    }
    text
}

/// `1 night`, `7 nights`.
pub fn nights(n: u32) -> String {
    counted(n, "night", "nights")
}

fn counted(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_amounts_are_whole_units_with_thousands_separators() {
        assert_eq!(whole(&Money::new(4_860_000, "ZAR")), "ZAR 48,600");
        assert_eq!(whole(&Money::new(4_860_050, "ZAR")), "ZAR 48,601");
        assert_eq!(whole(&Money::new(99, "USD")), "USD 1");
        assert_eq!(whole(&Money::new(0, "USD")), "USD 0");
        assert_eq!(whole(&Money::new(123_456_789, "ZAR")), "ZAR 1,234,568");
    }

    #[test]
    fn amounts_follow_the_currency_exponent() {
        assert_eq!(whole(&Money::new(535_550, "JPY")), "JPY 535,550");
        assert_eq!(exact(&Money::new(535_550, "JPY")), "JPY 535,550");
        assert_eq!(exact(&Money::new(81_360, "KWD")), "KWD 81.360");
        assert_eq!(whole(&Money::new(81_360, "KWD")), "KWD 81");
    }

    #[test]
    fn invoice_amounts_show_the_minor_unit() {
        assert_eq!(exact(&Money::new(1_250_000, "ZAR")), "ZAR 12,500.00");
        assert_eq!(exact(&Money::new(5, "EUR")), "EUR 0.05");
        assert_eq!(exact(&Money::new(-1_999, "EUR")), "EUR -19.99");
    }

    #[test]
    fn the_extremes_do_not_overflow() {
        assert_eq!(
            whole(&Money::new(i64::MIN, "JPY")),
            "JPY -9,223,372,036,854,775,808"
        );
        assert!(exact(&Money::new(i64::MAX, "ZAR")).ends_with(".07"));
    }

    #[test]
    fn long_descriptions_are_cut_to_120_characters() {
        let long = "Sunset dhow cruise ".repeat(10);
        let short = cut(&long);
        assert_eq!(short.chars().count(), 120);
        assert!(short.ends_with('…'));
        assert!(long.starts_with(short.trim_end_matches('…')));
        assert_eq!(cut("Airport transfer"), "Airport transfer");
        let exactly = "é".repeat(120);
        assert_eq!(cut(&exactly), exactly);
    }

    #[test]
    fn guests_mention_children_and_rooms_only_when_there_are_some() {
        assert_eq!(guests(2, 0, 1), "2 Adults");
        assert_eq!(guests(2, 2, 1), "2 Adults, 2 Children");
        assert_eq!(guests(1, 1, 2), "1 Adult, 1 Child (2 rooms)");
        assert_eq!(guests(4, 0, 2), "4 Adults (2 rooms)");
    }
}
