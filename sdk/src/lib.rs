//! Write Caravan plugins in Rust.
//!
//! A Caravan tenant customises four slots by uploading a WebAssembly component: the email
//! parser, the quote rules, the pricing and the PDF template. This crate hides the component
//! bindings: implement the slot's trait on a type, export it with the slot's macro, and build
//! for `wasm32-wasip2`.
//!
//! ```ignore
//! use caravan_sdk::{EmailParser, InboundEmail, ParseOutcome, PluginError, TenantContext};
//!
//! struct Parser;
//!
//! impl EmailParser for Parser {
//!     fn parse(email: InboundEmail, tenant: TenantContext) -> Result<ParseOutcome, PluginError> {
//!         Ok(ParseOutcome::NotAnEnquiry("nothing to see".into()))
//!     }
//! }
//!
//! caravan_sdk::export_email_parser!(Parser);
//! ```
//!
//! The same code compiles natively, so plugin logic is unit-tested with `cargo test` and the
//! same types; [`testing`] stands in for the host's configuration and log there.

#![deny(missing_docs)]

#[allow(unsafe_code)]
mod arena;
#[cfg(target_arch = "wasm32")]
pub use arena::Arena;

#[allow(missing_docs, unsafe_code, clippy::all)]
mod bindings {
    wit_bindgen::generate!({
        world: "sdk-types",
        path: "../wit",
        additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
    });
}

/// The email-parser slot.
#[allow(missing_docs, unsafe_code, clippy::all)]
pub mod email_parser {
    wit_bindgen::generate!({
        world: "email-parser",
        path: "../wit",
        with: {
            "caravan:plugins/types@1.0.0": crate::bindings::caravan::plugins::types,
            "caravan:plugins/email@1.0.0": crate::bindings::caravan::plugins::email,
            "caravan:plugins/host@1.0.0": crate::bindings::caravan::plugins::host,
        },
        pub_export_macro: true,
        export_macro_name: "export_email_parser_bindings",
        default_bindings_module: "caravan_sdk::email_parser",
    });
}

/// The quote-rules slot.
#[allow(missing_docs, unsafe_code, clippy::all)]
pub mod quote_rules {
    wit_bindgen::generate!({
        world: "quote-rules",
        path: "../wit",
        with: {
            "caravan:plugins/types@1.0.0": crate::bindings::caravan::plugins::types,
            "caravan:plugins/quoting@1.0.0": crate::bindings::caravan::plugins::quoting,
            "caravan:plugins/host@1.0.0": crate::bindings::caravan::plugins::host,
        },
        pub_export_macro: true,
        export_macro_name: "export_quote_rules_bindings",
        default_bindings_module: "caravan_sdk::quote_rules",
    });
}

/// The pricing slot.
#[allow(missing_docs, unsafe_code, clippy::all)]
pub mod pricing {
    wit_bindgen::generate!({
        world: "pricing",
        path: "../wit",
        with: {
            "caravan:plugins/types@1.0.0": crate::bindings::caravan::plugins::types,
            "caravan:plugins/quoting@1.0.0": crate::bindings::caravan::plugins::quoting,
            "caravan:plugins/host@1.0.0": crate::bindings::caravan::plugins::host,
        },
        pub_export_macro: true,
        export_macro_name: "export_pricing_bindings",
        default_bindings_module: "caravan_sdk::pricing",
    });
}

/// The pdf-template slot.
#[allow(missing_docs, unsafe_code, clippy::all)]
pub mod pdf_template {
    wit_bindgen::generate!({
        world: "pdf-template",
        path: "../wit",
        with: {
            "caravan:plugins/types@1.0.0": crate::bindings::caravan::plugins::types,
            "caravan:plugins/quoting@1.0.0": crate::bindings::caravan::plugins::quoting,
            "caravan:plugins/documents@1.0.0": crate::bindings::caravan::plugins::documents,
            "caravan:plugins/host@1.0.0": crate::bindings::caravan::plugins::host,
        },
        pub_export_macro: true,
        export_macro_name: "export_pdf_template_bindings",
        default_bindings_module: "caravan_sdk::pdf_template",
    });
}

/// Exports a type implementing [`EmailParser`] as the component's parser.
///
/// The export exists only in the WebAssembly build; natively the crate builds without it,
/// so its logic can be tested with `cargo test`.
#[macro_export]
macro_rules! export_email_parser {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::email_parser::export_email_parser_bindings!($ty);
    };
}

/// Exports a type implementing [`QuoteRules`] as the component's quote rules (WebAssembly
/// builds only, as for [`export_email_parser!`]).
#[macro_export]
macro_rules! export_quote_rules {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::quote_rules::export_quote_rules_bindings!($ty);
    };
}

/// Exports a type implementing [`Pricing`] as the component's pricing (WebAssembly builds
/// only, as for [`export_email_parser!`]).
#[macro_export]
macro_rules! export_pricing {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::pricing::export_pricing_bindings!($ty);
    };
}

/// Exports a type implementing [`PdfTemplate`] as the component's template (WebAssembly
/// builds only, as for [`export_email_parser!`]).
#[macro_export]
macro_rules! export_pdf_template {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::pdf_template::export_pdf_template_bindings!($ty);
    };
}

/// Implement this on a type and export it with [`export_email_parser!`].
pub use email_parser::exports::caravan::plugins::parser::Guest as EmailParser;
/// Implement this on a type and export it with [`export_pdf_template!`].
pub use pdf_template::exports::caravan::plugins::template::Guest as PdfTemplate;
/// Implement this on a type and export it with [`export_pricing!`].
pub use pricing::exports::caravan::plugins::pricer::Guest as Pricing;
/// Implement this on a type and export it with [`export_quote_rules!`].
pub use quote_rules::exports::caravan::plugins::rules::Guest as QuoteRules;

pub use bindings::caravan::plugins::documents::{
    Align, Banking, Banner, Block, Branding, Column, Customer, Document, DocumentKind,
    DocumentRequest, Image, InvoiceItem, KeyValue, Panel, Table, Text, TripSummary,
};
pub use bindings::caravan::plugins::email::{AttachmentInfo, Enquiry, InboundEmail, ParseOutcome};
pub use bindings::caravan::plugins::quoting::{
    FixedCost, FxRate, LineCost, NightlyRates, PriceComponent, PricedLine, PricedOption,
    PricedQuote, PricingRequest, QuoteLine, QuoteOption, QuotePlan, Rate, ServiceType, Trip,
};
pub use bindings::caravan::plugins::types::{
    Budget, Destination, LogLevel, Money, Party, PluginError, TenantContext,
};

/// A calendar date as `YYYY-MM-DD`.
pub type Date = String;
/// A colour as `#RRGGBB`.
pub type Color = String;

impl PluginError {
    /// A plugin error with a kebab-case `code` and a human `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl Money {
    /// `amount` minor units of `currency`.
    pub fn new(amount: i64, currency: impl Into<String>) -> Self {
        Self {
            amount,
            currency: currency.into(),
        }
    }
}

/// Digits after the decimal point of an ISO 4217 currency: 0 for JPY, 3 for KWD, 4 for CLF,
/// 2 for most (and for codes it does not know). `Money::amount` counts units of
/// `10^-exponent`. Case-insensitive.
pub fn minor_unit_exponent(code: &str) -> u32 {
    // Upper-cased on the stack: this runs for every amount a plugin converts or shows.
    // Codes nearly always arrive as exactly three bytes: Unicode-aware trimming only for the
    // rest.
    let bytes = match code.as_bytes() {
        three @ &[_, _, _] => three,
        _ => code.trim().as_bytes(),
    };
    let [a, b, c] = match bytes {
        &[a, b, c] => [a, b, c].map(|x| x.to_ascii_uppercase()),
        _ => return 2,
    };
    match &[a, b, c] {
        b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG" | b"RWF"
        | b"UGX" | b"UYI" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
        b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
        b"CLF" | b"UYW" => 4,
        _ => 2,
    }
}

/// Writes a line to the host's log (stderr when running natively).
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    bindings::caravan::plugins::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    testing::record_log(level, message);
}

/// Reads and deserialises one key of the tenant's configuration for this slot.
///
/// `Ok(None)` when the key is not set; `Err` with code `invalid-config` when it is set but
/// does not have the expected shape.
pub fn config<T: serde::de::DeserializeOwned>(key: &str) -> Result<Option<T>, PluginError> {
    let Some(json) = config_json(key) else {
        return Ok(None);
    };
    serde_json::from_str(&json).map(Some).map_err(|e| {
        PluginError::new(
            "invalid-config",
            format!("configuration key `{key}` is not valid: {e}"),
        )
    })
}

/// Reads one key of the tenant's configuration for this slot as JSON text.
pub fn config_json(key: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    return bindings::caravan::plugins::host::config_get(key);
    #[cfg(not(target_arch = "wasm32"))]
    return testing::config_get(key);
}

/// Stand-ins for the host when plugin code runs natively under `cargo test`.
pub mod testing {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use crate::LogLevel;

    thread_local! {
        static CONFIG: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
        static LOGS: RefCell<Vec<(LogLevel, String)>> = const { RefCell::new(Vec::new()) };
    }

    /// Sets a configuration key (as the tenant's admin would) for this thread's calls.
    pub fn set_config(key: &str, value: serde_json::Value) {
        CONFIG.with(|c| c.borrow_mut().insert(key.to_owned(), value.to_string()));
    }

    /// Removes every configuration key set on this thread.
    pub fn clear_config() {
        CONFIG.with(|c| c.borrow_mut().clear());
    }

    /// The log lines written on this thread so far, oldest first; clears them.
    pub fn take_logs() -> Vec<(LogLevel, String)> {
        LOGS.with(|l| std::mem::take(&mut *l.borrow_mut()))
    }

    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(crate) fn config_get(key: &str) -> Option<String> {
        CONFIG.with(|c| c.borrow().get(key).cloned())
    }

    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(crate) fn record_log(level: LogLevel, message: &str) {
        LOGS.with(|l| l.borrow_mut().push((level, message.to_owned())));
    }
}

#[cfg(test)]
mod tests {
    use super::minor_unit_exponent;

    #[test]
    fn exponents_ignore_case_and_surrounding_space() {
        assert_eq!(minor_unit_exponent("JPY"), 0);
        assert_eq!(minor_unit_exponent(" jpy "), 0);
        assert_eq!(minor_unit_exponent("kwd"), 3);
        assert_eq!(minor_unit_exponent("Clf"), 4);
        assert_eq!(minor_unit_exponent("ZAR"), 2);
        // Unknown or malformed codes get the common two decimals.
        assert_eq!(minor_unit_exponent("XYZ"), 2);
        assert_eq!(minor_unit_exponent("JPYY"), 2);
        assert_eq!(minor_unit_exponent("¥"), 2);
        assert_eq!(minor_unit_exponent(""), 2);
    }
}
