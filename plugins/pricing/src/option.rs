//! Pricing one quote option: its lines, the rounded total and the price per adult.

use caravan_sdk::{FxRate, Money, Party, PluginError, PricedOption, QuoteOption};

use crate::arith::{add, div_round, mul, to_i64};
use crate::line::{self, Draft};
use crate::rounding;
use crate::settings::Settings;

/// Prices every line of `option` in `currency` (upper-case) and rounds the total.
pub fn price(
    option: QuoteOption,
    party: &Party,
    currency: &str,
    fx: &[FxRate],
    settings: &Settings,
) -> Result<PricedOption, PluginError> {
    if option.lines.is_empty() {
        return Err(PluginError::new(
            "invalid-input",
            format!("The option {} has no lines to price.", option.title),
        ));
    }
    let mut drafts = option
        .lines
        .into_iter()
        .map(|l| line::price(l, party, currency, fx, settings))
        .collect::<Result<Vec<Draft>, PluginError>>()?;
    let exact = drafts.iter().try_fold(0, |sum, d| add(sum, d.sell()?))?;
    let total = match &settings.rounding {
        Some(rounding) => rounding.apply(exact),
        None => exact,
    };
    rounding::settle(drafts.iter_mut().map(|d| &mut d.parts), total - exact);

    let adults_share = drafts.iter().try_fold(0, |sum, d| add(sum, d.adults))?;
    let per_person = if party.adults > 0 && exact > 0 {
        // The adults' share, scaled by the rounding like the total, split between them.
        let share = div_round(
            mul(adults_share, total)?,
            mul(exact, i128::from(party.adults))?,
        );
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
