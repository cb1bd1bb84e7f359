//! ISO 4217 codes: their minor-unit exponents and how amounts read in labels.

use caravan_sdk::PluginError;

use crate::label;

/// Digits after the decimal point (JPY 0, KWD 3, most 2), as ISO 4217 lists them.
pub use caravan_sdk::minor_unit_exponent as exponent;

/// The upper-case form of a three-letter code, or `invalid-input` naming `what` it was for.
pub fn code(raw: &str, what: &str) -> Result<String, PluginError> {
    let trimmed = clean(raw);
    if is_letters(trimmed) {
        Ok(trimmed.to_ascii_uppercase())
    } else {
        Err(PluginError::new(
            "invalid-input",
            format!("The {what} currency `{raw}` is not an ISO 4217 code."),
        ))
    }
}

/// `raw` without surrounding whitespace. Codes nearly always arrive as three letters, which
/// need no Unicode-aware trimming (the dearest part of comparing them otherwise).
pub fn clean(raw: &str) -> &str {
    if is_letters(raw) { raw } else { raw.trim() }
}

/// Whether `s` has the shape of a code: three ASCII letters.
fn is_letters(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Whether `raw` names the upper-case `code`, ignoring case and surrounding whitespace.
pub fn same(raw: &str, code: &str) -> bool {
    raw == code || clean(raw).eq_ignore_ascii_case(code)
}

/// Appends `USD 45.00`, `JPY 4,500`, `KWD 12.250`: an amount for a component label.
pub fn write(out: &mut String, minor: i64, code: &str) {
    let exp = exponent(code);
    let unit = 10_u64.pow(exp);
    let magnitude = minor.unsigned_abs();
    out.push_str(code);
    out.push(' ');
    if minor < 0 {
        out.push('-');
    }
    label::grouped(out, magnitude / unit);
    if exp > 0 {
        out.push('.');
        label::padded(out, magnitude % unit, exp as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(exponent("ZAR"), 2);
        assert_eq!(exponent("JPY"), 0);
        assert_eq!(exponent("KWD"), 3);
        assert_eq!(exponent("BHD"), 3);
    }

    #[test]
    fn codes_compare_ignoring_case_and_whitespace() {
        assert!(same("ZAR", "ZAR"));
        assert!(same("zar", "ZAR"));
        assert!(same(" zar\u{a0}", "ZAR"));
        assert!(!same("ZAR", "USD"));
        assert!(!same("ZA", "ZAR"));
        assert_eq!(clean("\u{2003}EUR "), "EUR");
    }

    #[test]
    fn codes_are_upper_cased_and_checked() {
        assert_eq!(code(" zar", "quote").unwrap(), "ZAR");
        assert_eq!(code("RAND", "quote").unwrap_err().code, "invalid-input");
        assert_eq!(code("R1", "quote").unwrap_err().code, "invalid-input");
    }

    fn format(minor: i64, code: &str) -> String {
        let mut out = String::new();
        write(&mut out, minor, code);
        out
    }

    #[test]
    fn amounts_read_with_their_own_decimals() {
        assert_eq!(format(4_500, "USD"), "USD 45.00");
        assert_eq!(format(123_456_789, "ZAR"), "ZAR 1,234,567.89");
        assert_eq!(format(4_500, "JPY"), "JPY 4,500");
        assert_eq!(format(12_250, "KWD"), "KWD 12.250");
        assert_eq!(format(-5, "EUR"), "EUR -0.05");
        assert_eq!(format(i64::MIN, "USD"), "USD -92,233,720,368,547,758.08");
    }
}
