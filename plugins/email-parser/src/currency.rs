//! Currency symbols, codes and words, and how many decimals each currency has.

/// ISO 4217 codes customers write (lower case here), matched in any case except where the
/// code is also an English word.
pub(crate) const CODES: &[&str] = &[
    "zar", "usd", "eur", "gbp", "aud", "nzd", "cad", "chf", "jpy", "cny", "inr", "mur", "scr",
    "kes", "tzs", "ugx", "bwp", "nad", "ngn", "ghs", "aed", "sgd", "hkd", "sek", "nok", "dkk",
    "mzn", "zmw", "mad", "egp", "kwd", "bhd", "omr", "jod", "qar", "sar", "thb", "myr", "idr",
    "krw", "brl", "mxn", "rwf", "mvr", "isk", "vnd", "clp", "xof", "xaf", "pln", "czk", "huf",
    "ils", "try", "php", "lkr", "pkr", "npr", "tnd",
];

/// Codes that are also English words, taken only in upper case.
const WORDLIKE: &[&str] = &["mad", "try", "php", "sar"];

/// Currencies written with a bare `$`.
const DOLLARS: &[&str] = &[
    "USD", "AUD", "NZD", "CAD", "SGD", "HKD", "NAD", "BSD", "BBD", "JMD", "TTD", "FJD", "MXN",
];

/// Currencies written "Rs".
const RUPEES: &[&str] = &["INR", "MUR", "SCR", "LKR", "PKR", "NPR"];

/// Digits after the decimal point in `code`'s minor unit.
pub use caravan_sdk::minor_unit_exponent as exponent;

/// A currency as written, before the tenant decides what an ambiguous one means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// An unambiguous code.
    Code(&'static str),
    /// `$` or "dollars" alone.
    Dollar,
    /// "Rs" or "rupees".
    Rupee,
}

impl Written {
    /// The ISO code, given the tenant's home currency.
    pub fn resolve(self, home: &str) -> String {
        match self {
            Written::Code(c) => c.to_ascii_uppercase(),
            Written::Dollar if DOLLARS.contains(&home) => home.to_owned(),
            Written::Dollar => "USD".to_owned(),
            Written::Rupee if RUPEES.contains(&home) => home.to_owned(),
            Written::Rupee => "INR".to_owned(),
        }
    }
}

/// A currency symbol.
pub fn symbol(c: char) -> Option<Written> {
    Some(match c {
        '$' => Written::Dollar,
        '€' => Written::Code("EUR"),
        '£' => Written::Code("GBP"),
        '¥' => Written::Code("JPY"),
        '₹' => Written::Code("INR"),
        '₦' => Written::Code("NGN"),
        '₩' => Written::Code("KRW"),
        '฿' => Written::Code("THB"),
        '₪' => Written::Code("ILS"),
        '₵' => Written::Code("GHS"),
        _ => return None,
    })
}

/// A code or letters written before `$` ("US$", "N$") or alone ("R", "ZAR", "usd", "Rs").
pub fn code(raw: &str, lower: &str) -> Option<Written> {
    if raw == "R" {
        return Some(Written::Code("ZAR"));
    }
    if matches!(lower, "rs") {
        return Some(Written::Rupee);
    }
    if raw.len() != 3 {
        return None;
    }
    let code = CODES.iter().find(|c| **c == lower)?;
    if WORDLIKE.contains(code) && !raw.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    Some(Written::Code(code))
}

/// The currency of letters glued before a `$`: "US$", "A$", "NZ$", "N$", "R$".
pub fn dollar_prefix(lower: &str) -> Option<Written> {
    Some(Written::Code(match lower {
        "us" | "usd" => "USD",
        "a" | "au" | "aud" => "AUD",
        "nz" | "nzd" => "NZD",
        "c" | "ca" | "cad" => "CAD",
        "n" | "nad" => "NAD",
        "r" => "BRL",
        "s" | "sg" => "SGD",
        "hk" => "HKD",
        _ => return None,
    }))
}

/// The words [`word`] reads.
pub(crate) const WORDS: &[&str] = &[
    "rand", "rands", "zar", "dollar", "dollars", "bucks", "euro", "euros", "pound", "pounds",
    "quid", "yen", "rupee", "rupees", "naira", "pula", "kwacha", "cedi", "cedis", "dirham",
    "dirhams", "francs",
];

/// A currency word written after an amount: "rand", "dollars", "euros".
pub fn word(lower: &str) -> Option<Written> {
    Some(match lower {
        "rand" | "rands" | "zar" => Written::Code("ZAR"),
        "dollar" | "dollars" | "bucks" => Written::Dollar,
        "euro" | "euros" => Written::Code("EUR"),
        "pound" | "pounds" | "quid" => Written::Code("GBP"),
        "yen" => Written::Code("JPY"),
        "rupee" | "rupees" => Written::Rupee,
        "naira" => Written::Code("NGN"),
        "pula" => Written::Code("BWP"),
        "kwacha" => Written::Code("ZMW"),
        "cedi" | "cedis" => Written::Code("GHS"),
        "dirham" | "dirhams" => Written::Code("AED"),
        "francs" => Written::Code("CHF"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ambiguous_symbols_follow_the_tenant() {
        assert_eq!(Written::Dollar.resolve("ZAR"), "USD");
        assert_eq!(Written::Dollar.resolve("AUD"), "AUD");
        assert_eq!(Written::Rupee.resolve("MUR"), "MUR");
        assert_eq!(
            code("R", "r").map(|c| c.resolve("ZAR")).as_deref(),
            Some("ZAR")
        );
        assert_eq!(
            code("usd", "usd").map(|c| c.resolve("ZAR")).as_deref(),
            Some("USD")
        );
        assert_eq!(code("mad", "mad"), None);
    }

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(exponent("ZAR"), 2);
        assert_eq!(exponent("JPY"), 0);
        assert_eq!(exponent("KWD"), 3);
    }
}
