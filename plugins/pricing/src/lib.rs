//! Caravan's built-in pricing plugin.

use caravan_sdk::{PluginError, PricedQuote, Pricing, PricingRequest, TenantContext};

/// The built-in pricing.
pub struct DefaultPricing;

impl Pricing for DefaultPricing {
    fn price(request: PricingRequest, _tenant: TenantContext) -> Result<PricedQuote, PluginError> {
        Ok(PricedQuote {
            currency: request.quote_currency,
            options: vec![],
            warnings: vec![],
        })
    }
}

caravan_sdk::export_pricing!(DefaultPricing);
