//! Caravan's built-in pricing plugin: prices each quote option for the party in the quote
//! currency, in integer minor units, with the tenant's markups, currency buffer and
//! rounding, keeping every component so that the amounts always add up.

mod arith;
mod currency;
mod fx;
mod label;
mod line;
mod markup;
mod option;
mod party;
mod rounding;
mod settings;

use caravan_sdk::{LineCost, PluginError, PricedQuote, Pricing, PricingRequest, TenantContext};

pub use settings::Settings;

/// The built-in pricing.
#[derive(Debug)]
pub struct DefaultPricing;

impl Pricing for DefaultPricing {
    fn price(request: PricingRequest, _tenant: TenantContext) -> Result<PricedQuote, PluginError> {
        price_with(request, &Settings::load()?)
    }
}

/// Prices `request` with the given settings instead of the tenant's configuration.
pub fn price_with(
    request: PricingRequest,
    settings: &Settings,
) -> Result<PricedQuote, PluginError> {
    let currency = currency::code(&request.quote_currency, "quote")?;
    let party = &request.trip.party;
    let travellers = u64::from(party.adults)
        + party.children_ages.len() as u64
        + u64::from(party.children_without_age)
        + u64::from(party.infants);
    if travellers == 0 {
        return Err(PluginError::new(
            "invalid-input",
            "The trip has no travellers to price.",
        ));
    }
    let mut warnings = Vec::new();
    let nightly = request
        .options
        .iter()
        .flat_map(|o| &o.lines)
        .any(|l| matches!(l.cost, LineCost::Nightly(_)));
    if nightly && party.children_without_age > 0 {
        warnings.push(match party.children_without_age {
            1 => "1 child has no stated age and is not priced; ask for the age and price \
                  again."
                .to_owned(),
            n => format!(
                "{n} children have no stated age and are not priced; ask for their ages and \
                 price again."
            ),
        });
    }
    let options = request
        .options
        .into_iter()
        .map(|o| option::price(o, party, &currency, &request.fx, settings))
        .collect::<Result<Vec<_>, PluginError>>()?;
    Ok(PricedQuote {
        currency,
        options,
        warnings,
    })
}

caravan_sdk::export_pricing!(DefaultPricing);

// Each call runs in a fresh instance that is discarded afterwards, and this plugin keeps most
// of what it allocates (its answer): an arena spares the call the allocator's bookkeeping.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: caravan_sdk::Arena = caravan_sdk::Arena::new();
