//! Whole-number arithmetic on minor units: `i128` intermediates, division rounding half away
//! from zero, and an error instead of overflow.

use caravan_sdk::PluginError;

/// `num / den` rounded half away from zero; `den` must be positive.
pub fn div_round(num: i128, den: i128) -> i128 {
    debug_assert!(den > 0);
    let quotient = num / den;
    let remainder = (num % den).abs();
    // remainder ≥ den − remainder ⇔ the remainder is at least half of den, without doubling.
    if remainder >= den - remainder && remainder != 0 {
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

/// A sum of minor units as the `s64` the contract carries.
pub fn to_i64(value: i128) -> Result<i64, PluginError> {
    i64::try_from(value).map_err(|_| too_large())
}

fn too_large() -> PluginError {
    PluginError::new(
        "invalid-input",
        "The amounts are too large to price; check the rates and quantities.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_round_away_from_zero() {
        assert_eq!(div_round(5, 10), 1);
        assert_eq!(div_round(15, 10), 2);
        assert_eq!(div_round(-5, 10), -1);
        assert_eq!(div_round(-15, 10), -2);
    }

    #[test]
    fn less_than_half_rounds_towards_zero() {
        assert_eq!(div_round(4, 10), 0);
        assert_eq!(div_round(14, 10), 1);
        assert_eq!(div_round(-14, 10), -1);
        assert_eq!(div_round(0, 10), 0);
        assert_eq!(div_round(20, 10), 2);
    }

    #[test]
    fn odd_divisors_round_to_the_nearest() {
        assert_eq!(div_round(1, 3), 0);
        assert_eq!(div_round(2, 3), 1);
        assert_eq!(div_round(i128::MAX, 3), i128::MAX / 3);
        assert_eq!(div_round(i128::MAX, 2), i128::MAX / 2 + 1);
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert_eq!(mul(i128::MAX, 2).unwrap_err().code, "invalid-input");
        assert_eq!(add(i128::MAX, 1).unwrap_err().code, "invalid-input");
        assert_eq!(
            to_i64(i128::from(i64::MAX) + 1).unwrap_err().code,
            "invalid-input"
        );
        assert_eq!(to_i64(42).unwrap(), 42);
    }
}
