//! Converting supplier currencies into the quote currency with the request's exchange
//! rates, minding each currency's minor-unit exponent.

use caravan_sdk::{FxRate, PluginError};

use crate::arith::{div_round, mul};
use crate::currency::exponent;

/// Micro-units in one: `rate_micros` is the rate × 1 000 000.
const MICROS: i128 = 1_000_000;

/// How to turn minor units of one currency into minor units of the quote currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversion {
    /// Multiplier and divisor: target = source × numerator / denominator.
    numerator: i128,
    denominator: i128,
    /// False when the source already is the quote currency.
    pub converts: bool,
}

impl Conversion {
    /// The conversion from `source` to `target` (both upper-case); `missing-fx` when the
    /// request holds no rate for the pair.
    pub fn between(source: &str, target: &str, fx: &[FxRate]) -> Result<Self, PluginError> {
        if source == target {
            return Ok(Self {
                numerator: 1,
                denominator: 1,
                converts: false,
            });
        }
        let rate = fx
            .iter()
            .find(|r| {
                crate::currency::same(&r.source, source) && crate::currency::same(&r.target, target)
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
        // e.g. USD (2) → JPY (0): cents × rate ÷ 100; JPY → KWD (3): yen × rate × 1000.
        let (from, to) = (exponent(source), exponent(target));
        let (scale_up, scale_down) = if to >= from {
            (10_i128.pow(to - from), 1)
        } else {
            (1, 10_i128.pow(from - to))
        };
        Ok(Self {
            numerator: i128::from(rate.rate_micros) * scale_up,
            denominator: MICROS * scale_down,
            converts: true,
        })
    }

    /// `minor` source units in target minor units, rounded half away from zero.
    pub fn apply(&self, minor: i128) -> Result<i128, PluginError> {
        if !self.converts {
            return Ok(minor);
        }
        Ok(div_round(mul(minor, self.numerator)?, self.denominator))
    }

    /// Converts amounts that add up to a total so that the results add up to the converted
    /// total: each is the difference of converted running sums, so rounding never drifts.
    pub fn apply_all<'a>(
        &self,
        amounts: impl IntoIterator<Item = &'a mut i128>,
    ) -> Result<(), PluginError> {
        if !self.converts {
            return Ok(());
        }
        let mut running = 0_i128;
        let mut previous = 0_i128;
        for amount in amounts {
            running = crate::arith::add(running, *amount)?;
            let now = self.apply(running)?;
            *amount = now - previous;
            previous = now;
        }
        Ok(())
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
    fn dollars_become_rand_at_the_given_rate() {
        let fx = [rate("USD", "ZAR", 18_250_000)];
        let c = Conversion::between("USD", "ZAR", &fx).unwrap();
        // USD 100.00 → ZAR 1 825.00
        assert_eq!(c.apply(10_000).unwrap(), 182_500);
        // USD 0.01 → ZAR 0.1825 → 18 cents
        assert_eq!(c.apply(1).unwrap(), 18);
    }

    #[test]
    fn the_same_currency_needs_no_rate() {
        let c = Conversion::between("ZAR", "ZAR", &[]).unwrap();
        assert!(!c.converts);
        assert_eq!(c.apply(12_345).unwrap(), 12_345);
    }

    #[test]
    fn a_missing_rate_is_missing_fx() {
        let fx = [rate("EUR", "ZAR", 20_000_000)];
        let err = Conversion::between("USD", "ZAR", &fx).unwrap_err();
        assert_eq!(err.code, "missing-fx");
        assert!(err.message.contains("USD to ZAR"));
    }

    #[test]
    fn a_rate_the_wrong_way_round_does_not_count() {
        let fx = [rate("ZAR", "USD", 54_795)];
        assert_eq!(
            Conversion::between("USD", "ZAR", &fx).unwrap_err().code,
            "missing-fx"
        );
    }

    #[test]
    fn yen_have_no_minor_unit() {
        // 1 USD = 151.20 JPY: USD 253.00 → JPY 38 254 (38 253.6 rounded).
        let fx = [rate("USD", "JPY", 151_200_000)];
        let c = Conversion::between("USD", "JPY", &fx).unwrap();
        assert_eq!(c.apply(25_300).unwrap(), 38_254);
        // JPY 10 000 → USD 66.14 at 1 JPY = 0.006614 USD.
        let fx = [rate("JPY", "USD", 6_614)];
        let c = Conversion::between("JPY", "USD", &fx).unwrap();
        assert_eq!(c.apply(10_000).unwrap(), 6_614);
    }

    #[test]
    fn dinars_have_three_decimals() {
        // 1 USD = 0.3075 KWD: USD 100.00 → KWD 30.750 = 30 750 fils.
        let fx = [rate("USD", "KWD", 307_500)];
        let c = Conversion::between("USD", "KWD", &fx).unwrap();
        assert_eq!(c.apply(10_000).unwrap(), 30_750);
    }

    #[test]
    fn codes_match_without_regard_to_case() {
        let fx = [rate("usd", " zar", 18_250_000)];
        assert!(Conversion::between("USD", "ZAR", &fx).is_ok());
    }

    #[test]
    fn converted_parts_add_up_to_the_converted_total() {
        let fx = [rate("USD", "ZAR", 18_333_333)];
        let c = Conversion::between("USD", "ZAR", &fx).unwrap();
        let mut converted = [1, 1, 1, 1, 1, 1, 7];
        c.apply_all(&mut converted).unwrap();
        assert_eq!(converted.iter().sum::<i128>(), c.apply(13).unwrap());
        assert!(converted.iter().all(|&p| p >= 0));
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
    fn the_largest_amounts_and_rates_fail_cleanly() {
        let fx = [rate("JPY", "KWD", u64::MAX)];
        let c = Conversion::between("JPY", "KWD", &fx).unwrap();
        assert_eq!(
            c.apply(i128::from(i64::MAX) * 100).unwrap_err().code,
            "invalid-input"
        );
    }
}
