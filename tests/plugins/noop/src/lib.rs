//! The cheapest possible pricing plugin: it answers at once. Benchmarks use it as the floor
//! of instantiate + call.

use caravan_sdk::{PluginError, PricedQuote, Pricing, PricingRequest, TenantContext};

/// Does nothing.
pub struct Noop;

impl Pricing for Noop {
    fn price(_request: PricingRequest, _tenant: TenantContext) -> Result<PricedQuote, PluginError> {
        Err(PluginError::new("noop", "nothing"))
    }
}

caravan_sdk::export_pricing!(Noop);
