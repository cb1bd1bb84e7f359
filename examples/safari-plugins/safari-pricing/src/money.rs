//! Whole-number money: `i128` intermediates, division rounding half away from zero,
//! ISO 4217 minor units, and conversion with the request's exchange rates.

use caravan_sdk::{FxRate, PluginError};

/// Basis points in one (1500 bps = 15 %).
pub const BPS: i128 = 10_000;

/// `rate_micros` is the rate × 1 000 000.
const MICROS: i128 = 1_000_000;

/// One component of a price in minor units, kept as `i128` until the line is finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub label: String,
    pub amount: i128,
}

impl Part {
    pub fn new(label: impl Into<String>, amount: i128) -> Self {
        Self {
            label: label.into(),
            amount,
        }
    }
}

/// `num / den` rounded half away from zero; `den` is positive.
pub fn div_round(num: i128, den: i128) -> i128 {
    debug_assert!(den > 0);
    let quotient = num / den;
    let remainder = (num % den).abs();
    // remainder ≥ den − remainder ⇔ at least half of den, without doubling (no overflow).
    if remainder != 0 && remainder >= den - remainder {
        quotient + num.signum()
    } else {
        quotient
    }
}

/// `a × b`, or `invalid-input` when even 128 bits cannot hold it.
pub fn mul(a: i128, b: i128) -> Result<i128, PluginError> {
    a.checked_mul(b).ok_or_else(too_large)
}

/// `a + b`, or `invalid-input` on overflow.
pub fn add(a: i128, b: i128) -> Result<i128, PluginError> {
    a.checked_add(b).ok_or_else(too_large)
}

/// The sum of some parts.
pub fn sum(parts: &[Part]) -> Result<i128, PluginError> {
    parts.iter().try_fold(0, |total, p| add(total, p.amount))
}

/// Minor units as the `s64` the contract carries.
pub fn to_i64(value: i128) -> Result<i64, PluginError> {
    i64::try_from(value).map_err(|_| too_large())
}

fn too_large() -> PluginError {
    PluginError::new(
        "invalid-input",
        "The amounts are too large to price; check the rates, fees and quantities.",
    )
}

/// Digits after the decimal point per ISO 4217 (JPY 0, KWD 3, most 2).
pub use caravan_sdk::minor_unit_exponent as exponent;

/// The upper-case form of a three-letter currency code, or `None`.
pub fn code(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    (trimmed.len() == 3 && trimmed.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| trimmed.to_ascii_uppercase())
}

/// `USD 45.00`, `JPY 4,500`: an amount for a label.
pub fn format(minor: i128, code: &str) -> String {
    let exp = exponent(code);
    let unit = 10_u128.pow(exp);
    let magnitude = minor.unsigned_abs();
    let major = (magnitude / unit).to_string();
    let mut text = format!("{code} ");
    if minor < 0 {
        text.push('-');
    }
    for (i, c) in major.chars().enumerate() {
        if i > 0 && (major.len() - i).is_multiple_of(3) {
            text.push(',');
        }
        text.push(c);
    }
    if exp > 0 {
        text.push_str(&format!(
            ".{:0width$}",
            magnitude % unit,
            width = exp as usize
        ));
    }
    text
}

/// Basis points as a percentage for labels: `15%`, `12.5%`, `0.75%`.
pub fn percent(bps: u32) -> String {
    let (whole, hundredths) = (bps / 100, bps % 100);
    match hundredths {
        0 => format!("{whole}%"),
        h if h % 10 == 0 => format!("{whole}.{}%", h / 10),
        h => format!("{whole}.{h:02}%"),
    }
}

/// How minor units of one currency become minor units of the quote currency:
/// target = source × numerator ÷ denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversion {
    numerator: i128,
    denominator: i128,
}

impl Conversion {
    /// From `source` to `target` (both upper-case) with the request's rates; `missing-fx`
    /// when the request holds no rate for the pair.
    pub fn between(source: &str, target: &str, fx: &[FxRate]) -> Result<Self, PluginError> {
        if source == target {
            return Ok(Self {
                numerator: 1,
                denominator: 1,
            });
        }
        let rate = fx
            .iter()
            .find(|r| {
                r.source.trim().eq_ignore_ascii_case(source)
                    && r.target.trim().eq_ignore_ascii_case(target)
            })
            .ok_or_else(|| {
                PluginError::new(
                    "missing-fx",
                    format!("No exchange rate from {source} to {target} was given."),
                )
            })?;
        if rate.rate_micros == 0 {
            return Err(PluginError::new(
                "invalid-input",
                format!("The exchange rate from {source} to {target} is zero."),
            ));
        }
        // Minor units differ between currencies: USD cents → JPY yen divides by 100.
        let (from, to) = (exponent(source), exponent(target));
        let (up, down) = if to >= from {
            (10_i128.pow(to - from), 1)
        } else {
            (1, 10_i128.pow(from - to))
        };
        Ok(Self {
            numerator: i128::from(rate.rate_micros) * up,
            denominator: MICROS * down,
        })
    }

    /// `minor` source units in target minor units, rounded half away from zero.
    pub fn apply(&self, minor: i128) -> Result<i128, PluginError> {
        Ok(div_round(mul(minor, self.numerator)?, self.denominator))
    }

    /// Converts parts so that the converted parts add up exactly to the converted sum: each
    /// is the difference of converted running totals, so rounding never drifts.
    pub fn apply_all(&self, parts: Vec<Part>) -> Result<Vec<Part>, PluginError> {
        let mut running = 0;
        let mut previous = 0;
        parts
            .into_iter()
            .map(|part| {
                running = add(running, part.amount)?;
                let now = self.apply(running)?;
                let converted = Part::new(part.label, now - previous);
                previous = now;
                Ok(converted)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(source: &str, target: &str, rate_micros: u64) -> FxRate {
        FxRate {
            source: source.into(),
            target: target.into(),
            rate_micros,
        }
    }

    #[test]
    fn halves_round_away_from_zero() {
        assert_eq!(div_round(5, 10), 1);
        assert_eq!(div_round(15, 10), 2);
        assert_eq!(div_round(-5, 10), -1);
        assert_eq!(div_round(14, 10), 1);
        assert_eq!(div_round(0, 10), 0);
        assert_eq!(div_round(i128::MAX, 2), i128::MAX / 2 + 1);
    }

    #[test]
    fn overflow_is_an_error_rather_than_a_wrap() {
        assert_eq!(mul(i128::MAX, 2).unwrap_err().code, "invalid-input");
        assert_eq!(add(i128::MAX, 1).unwrap_err().code, "invalid-input");
        assert_eq!(
            to_i64(i128::from(i64::MAX) + 1).unwrap_err().code,
            "invalid-input"
        );
    }

    #[test]
    fn currency_codes_are_three_letters_upper_cased() {
        assert_eq!(code(" usd").as_deref(), Some("USD"));
        assert_eq!(code("US$"), None);
        assert_eq!(code("DOLLAR"), None);
    }

    #[test]
    fn labels_show_amounts_with_the_currency_decimals() {
        assert_eq!(format(4_500, "USD"), "USD 45.00");
        assert_eq!(format(123_456_789, "ZAR"), "ZAR 1,234,567.89");
        assert_eq!(format(4_500, "JPY"), "JPY 4,500");
        assert_eq!(percent(1500), "15%");
        assert_eq!(percent(1250), "12.5%");
        assert_eq!(percent(75), "0.75%");
    }

    #[test]
    fn dollars_become_rand_at_the_given_rate() {
        let c = Conversion::between("USD", "ZAR", &[rate("USD", "ZAR", 18_250_000)]).unwrap();
        assert_eq!(c.apply(10_000).unwrap(), 182_500);
        // USD 0.01 = ZAR 0.1825, which rounds to 18 cents.
        assert_eq!(c.apply(1).unwrap(), 18);
    }

    #[test]
    fn the_same_currency_needs_no_rate() {
        let c = Conversion::between("ZAR", "ZAR", &[]).unwrap();
        assert_eq!(c.apply(12_345).unwrap(), 12_345);
    }

    #[test]
    fn a_missing_or_reversed_rate_is_missing_fx() {
        let fx = [rate("ZAR", "USD", 54_795)];
        let err = Conversion::between("USD", "ZAR", &fx).unwrap_err();
        assert_eq!(err.code, "missing-fx");
        assert!(err.message.contains("USD to ZAR"), "{}", err.message);
    }

    #[test]
    fn a_zero_rate_is_invalid_input() {
        let fx = [rate("USD", "ZAR", 0)];
        assert_eq!(
            Conversion::between("USD", "ZAR", &fx).unwrap_err().code,
            "invalid-input"
        );
    }

    #[test]
    fn currencies_without_cents_convert_by_their_own_minor_unit() {
        // USD 253.00 at 151.20 = JPY 38 253.6, which rounds to 38 254.
        let c = Conversion::between("USD", "JPY", &[rate("USD", "JPY", 151_200_000)]).unwrap();
        assert_eq!(c.apply(25_300).unwrap(), 38_254);
    }

    #[test]
    fn converted_parts_add_up_to_the_converted_total() {
        let c = Conversion::between("USD", "ZAR", &[rate("USD", "ZAR", 18_333_333)]).unwrap();
        let parts: Vec<Part> = [1, 1, 1, 1, 1, 1, 7]
            .into_iter()
            .map(|a| Part::new("x", a))
            .collect();
        let converted = c.apply_all(parts).unwrap();
        assert_eq!(sum(&converted).unwrap(), c.apply(13).unwrap());
        assert!(converted.iter().all(|p| p.amount >= 0));
    }
}
