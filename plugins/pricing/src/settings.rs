//! The tenant's pricing configuration: `markups`, `fx_buffer_bps` and `rounding`.

use caravan_sdk::PluginError;

use crate::markup::Markups;
use crate::rounding::Rounding;

/// Largest currency buffer accepted: 100 %.
const MAX_FX_BUFFER_BPS: u32 = 10_000;

/// How this tenant prices; every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub markups: Markups,
    /// Added to converted amounts against exchange-rate moves, in basis points (200 = 2 %).
    pub fx_buffer_bps: u32,
    /// No rounding beyond minor units when unset.
    pub rounding: Option<Rounding>,
}

impl Settings {
    /// Reads and checks the configuration; `invalid-config` when a key is malformed.
    pub fn load() -> Result<Self, PluginError> {
        let settings = Self {
            markups: caravan_sdk::config("markups")?.unwrap_or_default(),
            fx_buffer_bps: caravan_sdk::config("fx_buffer_bps")?.unwrap_or(0),
            rounding: caravan_sdk::config("rounding")?,
        };
        settings.markups.validate()?;
        if settings.fx_buffer_bps > MAX_FX_BUFFER_BPS {
            return Err(PluginError::new(
                "invalid-config",
                format!(
                    "The currency buffer of {} basis points is over {MAX_FX_BUFFER_BPS} \
                     (100%); 200 means 2%.",
                    settings.fx_buffer_bps
                ),
            ));
        }
        if let Some(rounding) = &settings.rounding {
            rounding.validate()?;
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rounding::Mode;
    use caravan_sdk::testing::{clear_config, set_config};
    use serde_json::json;

    #[test]
    fn nothing_configured_means_no_markup_buffer_or_rounding() {
        clear_config();
        assert_eq!(Settings::load().unwrap(), Settings::default());
    }

    #[test]
    fn every_key_is_read() {
        clear_config();
        set_config("markups", json!({"accommodation": 1500}));
        set_config("fx_buffer_bps", json!(200));
        set_config("rounding", json!({"step_minor": 10000, "mode": "up"}));
        let settings = Settings::load().unwrap();
        assert_eq!(settings.markups.accommodation, 1500);
        assert_eq!(settings.fx_buffer_bps, 200);
        assert_eq!(
            settings.rounding,
            Some(Rounding {
                step_minor: 10_000,
                mode: Mode::Up
            })
        );
        clear_config();
    }

    #[test]
    fn malformed_keys_are_invalid_config() {
        for (key, value) in [
            ("markups", json!({"accommodation": "15%"})),
            ("markups", json!({"accommodation": -5})),
            ("fx_buffer_bps", json!(20_000)),
            ("fx_buffer_bps", json!("2%")),
            ("rounding", json!({"step_minor": 0})),
            ("rounding", json!({"mode": "up"})),
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
