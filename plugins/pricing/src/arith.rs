//! Whole-number arithmetic on minor units: `i128` intermediates, division rounding half away
//! from zero, and an error instead of overflow.
//!
//! WebAssembly has 64-bit integers but no 128-bit ones: a 128-bit multiplication or
//! division is a library call, the checked multiplication the dearest of them. Quote amounts
//! and rates nearly always fit in 64 bits, so each operation takes a 64-bit path when its
//! operands allow it and gives the same result as the 128-bit one.

use caravan_sdk::PluginError;

/// `num / den` rounded half away from zero; `den` must be positive.
pub fn div_round(num: i128, den: i128) -> i128 {
    debug_assert!(den > 0);
    if let (Ok(num), Ok(den)) = (i64::try_from(num), i64::try_from(den)) {
        return i128::from(div_round_64(num, den));
    }
    let quotient = num / den;
    let remainder = (num % den).abs();
    // remainder ≥ den − remainder ⇔ the remainder is at least half of den, without doubling.
    if remainder >= den - remainder && remainder != 0 {
        quotient + num.signum()
    } else {
        quotient
    }
}

fn div_round_64(num: i64, den: i64) -> i64 {
    let quotient = num / den;
    let remainder = (num % den).abs();
    if remainder >= den - remainder && remainder != 0 {
        quotient + num.signum()
    } else {
        quotient
    }
}

/// `a × b`, or `invalid-input` when even 128 bits cannot hold it.
pub fn mul(a: i128, b: i128) -> Result<i128, PluginError> {
    // Two factors of at most 31 bits each make at most 62: no overflow check is needed.
    if let (Ok(a), Ok(b)) = (i32::try_from(a), i32::try_from(b)) {
        return Ok(i128::from(i64::from(a) * i64::from(b)));
    }
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
    fn the_64_bit_paths_agree_with_128_bits() {
        let values = [
            0_i128,
            1,
            -1,
            2,
            7,
            -7,
            i128::from(i32::MAX),
            i128::from(i32::MIN),
            i128::from(i32::MAX) + 1,
            i128::from(i64::MAX),
            i128::from(i64::MIN),
            i128::from(i64::MAX) + 1,
            18_250_000,
            -123_456_789_012,
        ];
        for &a in &values {
            for &b in &values {
                assert_eq!(mul(a, b).ok(), a.checked_mul(b), "{a} × {b}");
                if b > 0 {
                    let wide = {
                        let (q, r) = (a / b, (a % b).abs());
                        if r >= b - r && r != 0 {
                            q + a.signum()
                        } else {
                            q
                        }
                    };
                    assert_eq!(div_round(a, b), wide, "{a} / {b}");
                }
            }
        }
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
