//! An example tenant pricing plugin for a safari operator.
//!
//! Accommodation is priced like Caravan's built-in pricing (adults sharing × nights, the
//! single rate for a lone adult, children by the rate's age band, infants free unless the
//! rate says otherwise), with a markup of `markup_bps` basis points on accommodation lines
//! only. On top, each option gets a line of conservation and park fees per person per night
//! for the trip's destination, from the `park_fees` configuration key, converted into the
//! quote currency with the request's exchange rates and never marked up.
//!
//! Every amount is an integer number of minor units: `i128` intermediates, rounding half
//! away from zero, and every line's components add up exactly to its selling price.

mod line;
mod money;
mod park_fees;
mod settings;
mod stay;

use caravan_sdk::{
    FxRate, LineCost, Money, Party, PluginError, PricedOption, PricedQuote, Pricing,
    PricingRequest, QuoteOption, TenantContext, Trip,
};

pub use settings::{ParkFee, Settings};

use crate::money::{add, div_round, to_i64};

/// The safari pricing.
#[derive(Debug)]
pub struct SafariPricing;

impl Pricing for SafariPricing {
    fn price(request: PricingRequest, _tenant: TenantContext) -> Result<PricedQuote, PluginError> {
        price_with(request, &Settings::load()?)
    }
}

caravan_sdk::export_pricing!(SafariPricing);

/// Prices `request` with the given settings instead of the tenant's configuration.
pub fn price_with(
    request: PricingRequest,
    settings: &Settings,
) -> Result<PricedQuote, PluginError> {
    settings.validate()?;
    // The host checks that the quote's currency is exactly the requested one.
    let currency = request.quote_currency.clone();
    if money::code(&currency).as_deref() != Some(currency.as_str()) {
        return Err(invalid(format!(
            "The quote currency `{currency}` is not an upper-case ISO 4217 code."
        )));
    }
    let party = &request.trip.party;
    let travellers = u64::from(party.adults)
        + party.children_ages.len() as u64
        + u64::from(party.children_without_age)
        + u64::from(party.infants);
    if travellers == 0 {
        return Err(invalid("The trip has no travellers to price.".into()));
    }

    let park_fee = settings.park_fee(&request.trip.destination);
    if park_fee.is_none() {
        caravan_sdk::log(
            caravan_sdk::LogLevel::Debug,
            &format!(
                "no park fees configured for {}; pricing accommodation only",
                request.trip.destination
            ),
        );
    }
    let mut warnings = Vec::new();
    if party.children_without_age > 0 {
        warnings.push(match party.children_without_age {
            1 => "1 child has no stated age and is not priced (accommodation or park fees); \
                  ask for the age and price again."
                .to_owned(),
            n => format!(
                "{n} children have no stated age and are not priced (accommodation or park \
                 fees); ask for their ages and price again."
            ),
        });
    }

    let options = request
        .options
        .into_iter()
        .map(|option| {
            price_option(
                option,
                &request.trip,
                park_fee,
                &currency,
                &request.fx,
                settings,
            )
        })
        .collect::<Result<Vec<_>, PluginError>>()?;
    Ok(PricedQuote {
        currency,
        options,
        warnings,
    })
}

/// Prices one option's lines, then adds its park-fee line.
///
/// The park is paid for the nights of the option's longest nightly line (the stay it
/// offers), or the trip's nights when the option has no nightly line.
fn price_option(
    option: QuoteOption,
    trip: &Trip,
    park_fee: Option<&ParkFee>,
    currency: &str,
    fx: &[FxRate],
    settings: &Settings,
) -> Result<PricedOption, PluginError> {
    if option.lines.is_empty() {
        return Err(invalid(format!(
            "The option {} has no lines to price.",
            option.title
        )));
    }
    let park_nights = option
        .lines
        .iter()
        .filter(|l| matches!(l.cost, LineCost::Nightly(_)))
        .map(|l| l.nights)
        .max()
        .unwrap_or(trip.nights);
    let party: &Party = &trip.party;
    let mut drafts = option
        .lines
        .into_iter()
        .map(|l| line::price(l, party, currency, fx, settings.markup_bps))
        .collect::<Result<Vec<_>, PluginError>>()?;
    if let Some(fee) = park_fee
        && park_nights > 0
    {
        drafts.push(park_fees::line(
            fee,
            &trip.destination,
            party,
            park_nights,
            currency,
            fx,
        )?);
    }

    let total = drafts.iter().try_fold(0, |sum, d| add(sum, d.sell()?))?;
    let adults_share = drafts.iter().try_fold(0, |sum, d| add(sum, d.adults))?;
    let per_person = if party.adults > 0 {
        let share = div_round(adults_share, party.adults.into());
        Some(Money::new(to_i64(share)?, currency))
    } else {
        None
    };
    let lines = drafts
        .into_iter()
        .map(|d| d.finish(currency))
        .collect::<Result<Vec<_>, PluginError>>()?;
    Ok(PricedOption {
        title: option.title,
        hotel_name: option.hotel_name,
        star_rating: option.star_rating,
        room_type: option.room_type,
        meal_plan: option.meal_plan,
        lines,
        total: Money::new(to_i64(total)?, currency),
        per_person,
    })
}

fn invalid(message: String) -> PluginError {
    PluginError::new("invalid-input", message)
}
