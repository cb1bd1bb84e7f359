//! Amounts written for people, e.g. `USD 6,720`, in the consultant's warnings.

/// Digits after the decimal point for a currency (JPY 0, KWD 3, most 2).
use caravan_sdk::minor_unit_exponent as exponent;

/// `minor` units of `currency` in whole major units (half away from zero) with thousands
/// separators: warnings are about orders of magnitude, not cents.
pub fn whole(minor: i128, currency: &str) -> String {
    let unit = 10_i128.pow(exponent(currency));
    let major = (minor.abs() + unit / 2) / unit;
    let digits = major.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if minor < 0 && major > 0 { "-" } else { "" };
    format!("{} {sign}{grouped}", currency.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_whole_units_with_thousands_separators() {
        assert_eq!(whole(672_000, "USD"), "USD 6,720");
        assert_eq!(whole(123_456_789, "zar"), "ZAR 1,234,568");
        assert_eq!(whole(99, "EUR"), "EUR 1");
        assert_eq!(whole(0, "EUR"), "EUR 0");
    }

    #[test]
    fn currencies_without_cents_or_with_fils_use_their_own_exponent() {
        assert_eq!(whole(150_000, "JPY"), "JPY 150,000");
        assert_eq!(whole(1_500_500, "KWD"), "KWD 1,501");
    }
}
