//! A pricing plugin carrying a 1 MiB data segment, for measuring upload-to-ready time of a
//! large component. It prices every option at zero.

use std::hint::black_box;

use caravan_sdk::{
    Money, PluginError, PricedOption, PricedQuote, Pricing, PricingRequest, TenantContext,
};

/// One mebibyte of data that survives optimisation.
static PAYLOAD: [u8; 1 << 20] = [7; 1 << 20];

/// The bulky plugin.
pub struct Bulky;

impl Pricing for Bulky {
    fn price(request: PricingRequest, _tenant: TenantContext) -> Result<PricedQuote, PluginError> {
        let checksum: u64 = black_box(&PAYLOAD)
            .iter()
            .step_by(4096)
            .map(|b| u64::from(*b))
            .sum();
        let currency = request.quote_currency.clone();
        Ok(PricedQuote {
            options: request
                .options
                .into_iter()
                .map(|o| PricedOption {
                    title: o.title,
                    hotel_name: o.hotel_name,
                    star_rating: o.star_rating,
                    room_type: o.room_type,
                    meal_plan: o.meal_plan,
                    lines: vec![],
                    total: Money::new(0, currency.clone()),
                    per_person: None,
                })
                .collect(),
            currency,
            warnings: vec![format!("checksum {checksum}")],
        })
    }
}

caravan_sdk::export_pricing!(Bulky);
