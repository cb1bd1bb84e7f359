//! Caravan's built-in quote rules.

use caravan_sdk::{PluginError, QuotePlan, QuoteRules, Rate, TenantContext, Trip};

/// The built-in rules.
pub struct DefaultRules;

impl QuoteRules for DefaultRules {
    fn propose(
        _trip: Trip,
        _rates: Vec<Rate>,
        _tenant: TenantContext,
    ) -> Result<QuotePlan, PluginError> {
        Ok(QuotePlan {
            options: vec![],
            warnings: vec![],
        })
    }
}

caravan_sdk::export_quote_rules!(DefaultRules);
