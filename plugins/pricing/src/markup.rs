//! The agency's markup per service type, in basis points (1500 = 15 %), from the `markups`
//! configuration key.

use caravan_sdk::{PluginError, ServiceType};
use serde::Deserialize;

use crate::label;

/// Largest markup accepted: 1000 %. Anything above is surely a typo (percent for bps).
const MAX_BPS: u32 = 100_000;

/// Basis points per service type; a type not configured has no markup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Markups {
    pub accommodation: u32,
    pub transfer: u32,
    pub activity: u32,
    pub flight: u32,
    pub fee: u32,
    pub package: u32,
}

impl Markups {
    /// Rejects markups so large they must be a mistake.
    pub fn validate(&self) -> Result<(), PluginError> {
        let all = [
            ("accommodation", self.accommodation),
            ("transfer", self.transfer),
            ("activity", self.activity),
            ("flight", self.flight),
            ("fee", self.fee),
            ("package", self.package),
        ];
        match all.iter().find(|(_, bps)| *bps > MAX_BPS) {
            Some((service, bps)) => Err(PluginError::new(
                "invalid-config",
                format!(
                    "The {service} markup of {bps} basis points is over {MAX_BPS} (1000%); \
                     markups are in basis points, 1500 for 15%."
                ),
            )),
            None => Ok(()),
        }
    }

    /// Basis points for lines of `service`.
    pub fn bps(&self, service: ServiceType) -> u32 {
        match service {
            ServiceType::Accommodation => self.accommodation,
            ServiceType::Transfer => self.transfer,
            ServiceType::Activity => self.activity,
            ServiceType::Flight => self.flight,
            ServiceType::Fee => self.fee,
            ServiceType::Package => self.package,
        }
    }
}

/// Appends basis points as a percentage for labels: `15%`, `12.5%`, `0.01%`.
pub fn write_percent(out: &mut String, bps: u32) {
    label::number(out, u64::from(bps / 100));
    match bps % 100 {
        0 => {}
        h if h % 10 == 0 => {
            out.push('.');
            label::number(out, u64::from(h / 10));
        }
        h => {
            out.push('.');
            label::padded(out, u64::from(h), 2);
        }
    }
    out.push('%');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_service_type_has_its_own_markup() {
        let markups: Markups =
            serde_json::from_str(r#"{"accommodation": 1500, "transfer": 1000}"#).unwrap();
        assert_eq!(markups.bps(ServiceType::Accommodation), 1500);
        assert_eq!(markups.bps(ServiceType::Transfer), 1000);
        assert_eq!(markups.bps(ServiceType::Activity), 0);
        assert_eq!(markups.bps(ServiceType::Package), 0);
    }

    #[test]
    fn a_misspelt_service_type_is_refused() {
        assert!(serde_json::from_str::<Markups>(r#"{"accomodation": 1500}"#).is_err());
    }

    #[test]
    fn a_markup_over_a_thousand_percent_is_invalid_config() {
        let markups = Markups {
            flight: 150_000,
            ..Markups::default()
        };
        assert_eq!(markups.validate().unwrap_err().code, "invalid-config");
    }

    fn percent(bps: u32) -> String {
        let mut out = String::new();
        write_percent(&mut out, bps);
        out
    }

    #[test]
    fn percentages_drop_needless_decimals() {
        assert_eq!(percent(1500), "15%");
        assert_eq!(percent(1250), "12.5%");
        assert_eq!(percent(1), "0.01%");
        assert_eq!(percent(205), "2.05%");
    }
}
