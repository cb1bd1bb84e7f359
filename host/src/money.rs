//! Money: integer minor units plus an ISO 4217 currency code.
//!
//! Amounts are stored and computed as `i64` minor units (cents) so that no total ever drifts
//! through floating point; the HTTP edge converts to JSON numbers in major units.

use serde::{Deserialize, Serialize};

/// Active ISO 4217 codes. Exponents other than 2 are listed in [`minor_unit_exponent`].
const CODES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP",
    "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF",
    "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD",
    "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP",
    "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR",
    "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB",
    "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD",
    "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL",
    "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYI",
    "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF",
    "YER", "ZAR", "ZMW", "ZWG",
];

/// The codes as big-endian integers, in the same (sorted) order: every plugin output checks
/// each of its amounts' currencies, and comparing integers is cheaper than comparing strings.
const PACKED: [u32; CODES.len()] = {
    let mut packed = [0; CODES.len()];
    let mut i = 0;
    while i < CODES.len() {
        packed[i] = pack(CODES[i].as_bytes());
        i += 1;
    }
    packed
};

const fn pack(code: &[u8]) -> u32 {
    (code[0] as u32) << 16 | (code[1] as u32) << 8 | code[2] as u32
}

/// Whether `code` is an active ISO 4217 currency (upper-case, as stored).
pub fn is_known_currency(code: &str) -> bool {
    code.len() == 3 && PACKED.binary_search(&pack(code.as_bytes())).is_ok()
}

/// A major-unit amount in minor units of the currency named by `code` (JSON edge and
/// plugin inputs), rounded to the nearest minor unit.
pub fn to_minor(major: f64, code: &str) -> i64 {
    (major * 10f64.powi(minor_unit_exponent(code) as i32)).round() as i64
}

/// Minor units as a major-unit number of the currency named by `code` (the JSON edge).
pub fn to_major(minor: i64, code: &str) -> f64 {
    minor as f64 / 10f64.powi(minor_unit_exponent(code) as i32)
}

/// Digits after the decimal point for a currency (JPY 0, KWD 3, most 2).
pub fn minor_unit_exponent(code: &str) -> u32 {
    match code {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// An amount of one currency in integer minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Minor units (cents for ZAR); may be negative for refunds and discounts.
    pub minor: i64,
    /// ISO 4217 code, upper-case.
    pub currency: Currency,
}

/// A validated ISO 4217 code, stored inline so `Money` stays `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// Parses an upper-case ISO 4217 code; lower-case input is accepted and normalised.
    pub fn parse(code: &str) -> Option<Self> {
        let upper = code.trim().to_ascii_uppercase();
        if !is_known_currency(&upper) {
            return None;
        }
        let bytes = upper.as_bytes();
        Some(Self([bytes[0], bytes[1], bytes[2]]))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters ever get in through `parse`.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    pub fn exponent(&self) -> u32 {
        minor_unit_exponent(self.as_str())
    }
}

impl std::fmt::Debug for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| format!("unknown ISO 4217 currency code `{value}`"))
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.as_str().to_owned()
    }
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// The amount in major units, for the JSON edge only (`24500.0` for R 24 500,00).
    pub fn to_major(self) -> f64 {
        self.minor as f64 / 10f64.powi(self.currency.exponent() as i32)
    }

    /// Converts a major-unit amount from the wire, rounding half away from zero to the
    /// currency's minor unit. `None` for NaN, infinities and amounts beyond `i64`.
    pub fn from_major(amount: f64, currency: Currency) -> Option<Self> {
        let scaled = (amount * 10f64.powi(currency.exponent() as i32)).round();
        if !scaled.is_finite() || scaled.abs() >= i64::MAX as f64 {
            return None;
        }
        Some(Self::new(scaled as i64, currency))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_table_is_sorted_for_binary_search() {
        assert!(CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(PACKED.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_listed_code_is_known_and_nothing_else() {
        assert!(CODES.iter().all(|c| is_known_currency(c)));
        for code in ["", "ZA", "ZARR", "zar", "ZZZ", "ZA\u{0}", "€"] {
            assert!(!is_known_currency(code), "{code:?}");
        }
    }

    #[test]
    fn currencies_are_validated_and_normalised() {
        assert_eq!(Currency::parse("zar").unwrap().as_str(), "ZAR");
        assert!(Currency::parse("ZZZ").is_none());
        assert!(Currency::parse("RANDS").is_none());
    }

    #[test]
    fn major_units_respect_each_currency_exponent() {
        let zar = Currency::parse("ZAR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::new(2_450_000, zar).to_major(), 24_500.0);
        assert_eq!(Money::from_major(1999.99, zar).unwrap().minor, 199_999);
        assert_eq!(Money::from_major(1500.0, jpy).unwrap().minor, 1500);
        assert_eq!(Money::from_major(1.2345, kwd).unwrap().minor, 1235);
        assert!(Money::from_major(f64::NAN, zar).is_none());
        assert!(Money::from_major(1e30, zar).is_none());
    }
}
