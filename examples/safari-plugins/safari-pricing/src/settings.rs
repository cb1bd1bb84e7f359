//! The tenant's configuration for this plugin: `park_fees` and `markup_bps`.
//!
//! ```json
//! {
//!   "park_fees": {
//!     "Maasai Mara": {"adult": 8000, "child": 4000, "currency": "USD"}
//!   },
//!   "markup_bps": 1500
//! }
//! ```

use std::collections::BTreeMap;

use caravan_sdk::PluginError;
use serde::Deserialize;

use crate::money;

/// Largest markup accepted: 1000 %. Anything above is surely percent typed as basis points.
const MAX_MARKUP_BPS: u32 = 100_000;

/// Conservation and park fees of one destination, per person per night, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParkFee {
    /// Per adult per night.
    pub adult: i64,
    /// Per child (aged 2–17, or up to `child_max_age`) per night. Infants are free.
    pub child: i64,
    /// ISO 4217 code of `adult` and `child`.
    pub currency: String,
    /// Children older than this pay the adult fee; all children pay the child fee when unset.
    #[serde(default)]
    pub child_max_age: Option<u32>,
}

/// How this tenant prices; both keys are optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Park fees by canonical destination name (matched without regard to case).
    pub park_fees: BTreeMap<String, ParkFee>,
    /// Markup on accommodation lines in basis points (1500 = 15 %).
    pub markup_bps: u32,
}

impl Settings {
    /// Reads and checks the configuration; `invalid-config` when a key is malformed.
    pub fn load() -> Result<Self, PluginError> {
        let settings = Self {
            park_fees: caravan_sdk::config("park_fees")?.unwrap_or_default(),
            markup_bps: caravan_sdk::config("markup_bps")?.unwrap_or(0),
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Rejects negative fees, unknown currencies and markups that must be typos.
    pub fn validate(&self) -> Result<(), PluginError> {
        if self.markup_bps > MAX_MARKUP_BPS {
            return Err(invalid(format!(
                "The markup of {} basis points is over {MAX_MARKUP_BPS} (1000%); markups are \
                 in basis points, 1500 for 15%.",
                self.markup_bps
            )));
        }
        for (destination, fee) in &self.park_fees {
            if fee.adult < 0 || fee.child < 0 {
                return Err(invalid(format!(
                    "The park fees of {destination} are negative; fees are minor units, \
                     8000 for USD 80.00."
                )));
            }
            if money::code(&fee.currency).is_none() {
                return Err(invalid(format!(
                    "The park fee currency `{}` of {destination} is not an ISO 4217 code.",
                    fee.currency
                )));
            }
        }
        Ok(())
    }

    /// The park fees of `destination`, if configured.
    pub fn park_fee(&self, destination: &str) -> Option<&ParkFee> {
        let wanted = destination.trim();
        self.park_fees
            .iter()
            .find(|(name, _)| name.trim().eq_ignore_ascii_case(wanted))
            .map(|(_, fee)| fee)
    }
}

fn invalid(message: String) -> PluginError {
    PluginError::new("invalid-config", message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use caravan_sdk::testing::{clear_config, set_config};
    use serde_json::json;

    #[test]
    fn nothing_configured_means_no_park_fees_and_no_markup() {
        clear_config();
        assert_eq!(Settings::load().unwrap(), Settings::default());
    }

    #[test]
    fn park_fees_and_markup_are_read_from_the_configuration() {
        clear_config();
        set_config(
            "park_fees",
            json!({"Maasai Mara": {"adult": 8000, "child": 4000, "currency": "USD"}}),
        );
        set_config("markup_bps", json!(1500));
        let settings = Settings::load().unwrap();
        clear_config();
        assert_eq!(settings.markup_bps, 1500);
        assert_eq!(
            settings.park_fee("maasai mara "),
            Some(&ParkFee {
                adult: 8000,
                child: 4000,
                currency: "USD".into(),
                child_max_age: None
            })
        );
        assert_eq!(settings.park_fee("Zanzibar"), None);
    }

    #[test]
    fn malformed_keys_are_invalid_config() {
        for (key, value) in [
            ("markup_bps", json!("15%")),
            ("markup_bps", json!(150_000)),
            ("markup_bps", json!(-1)),
            (
                "park_fees",
                json!({"Mara": {"adult": 80.5, "child": 40, "currency": "USD"}}),
            ),
            (
                "park_fees",
                json!({"Mara": {"adult": -1, "child": 0, "currency": "USD"}}),
            ),
            (
                "park_fees",
                json!({"Mara": {"adult": 1, "child": 0, "currency": "dollars"}}),
            ),
            (
                "park_fees",
                json!({"Mara": {"adult": 1, "currency": "USD"}}),
            ),
            (
                "park_fees",
                json!({"Mara": {"adult": 1, "child": 0, "currency": "USD", "x": 1}}),
            ),
            ("park_fees", json!([8000, 4000])),
        ] {
            clear_config();
            set_config(key, value.clone());
            assert_eq!(
                Settings::load().unwrap_err().code,
                "invalid-config",
                "{key} = {value}"
            );
        }
        clear_config();
    }
}
