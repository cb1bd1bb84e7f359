//! Caravan's built-in quote rules: up to three hotels for a trip, chosen from the tenant's
//! rates, best first, with warnings for whatever could not be met.

mod dates;
mod matching;
mod money;
mod options;
mod ranking;
mod requested;
#[cfg(test)]
mod testing;

use caravan_sdk::{PluginError, QuotePlan, QuoteRules, Rate, TenantContext, Trip};

use matching::Stay;
use ranking::{BudgetCheck, MAX_OPTIONS, Ranked};

/// The built-in rules.
#[derive(Debug)]
pub struct DefaultRules;

impl QuoteRules for DefaultRules {
    fn propose(
        trip: Trip,
        rates: Vec<Rate>,
        _tenant: TenantContext,
    ) -> Result<QuotePlan, PluginError> {
        plan(&trip, &rates)
    }
}

/// The options for `trip` from `rates`, best first, and warnings for the consultant.
///
/// No suitable rate is a plan with no options and a warning, not an error; only a trip the
/// host should never send (no nights, a malformed check-in) is an error.
pub fn plan(trip: &Trip, rates: &[Rate]) -> Result<QuotePlan, PluginError> {
    let stay = Stay::of(trip)?;
    let mut warnings = Vec::new();
    let options = match matching::candidates(rates, &stay) {
        Err(shortfall) => {
            warnings.push(shortfall.sentence(trip, &stay));
            vec![]
        }
        Ok(candidates) => {
            let (pool, by_name) = requested_or_all(trip, candidates, &mut warnings);
            let ranked = ranking::rank(&pool, &stay, trip);
            // Fewer options than usual is expected when the customer named the hotels.
            if !by_name && ranked.len() < MAX_OPTIONS {
                warnings.push(few_hotels(ranked.len(), &trip.destination));
            }
            warn_about_options(&ranked, trip, &stay, &mut warnings);
            ranked
                .iter()
                .map(|r| options::from_rate(r.rate, trip.nights))
                .collect()
        }
    };
    if let Some(sentence) = children_without_age(trip.party.children_without_age) {
        warnings.push(sentence);
    }
    Ok(QuotePlan { options, warnings })
}

/// The requested hotels' rates when any are found (true), otherwise every candidate (false).
fn requested_or_all<'a>(
    trip: &Trip,
    candidates: Vec<&'a Rate>,
    warnings: &mut Vec<String>,
) -> (Vec<&'a Rate>, bool) {
    if trip.requested_hotels.is_empty() {
        return (candidates, false);
    }
    let selection = requested::select(&candidates, &trip.requested_hotels);
    if selection.rates.is_empty() {
        let names: Vec<&str> = trip.requested_hotels.iter().map(|h| h.trim()).collect();
        warnings.push(format!(
            "None of the requested hotels ({}) has a rate for these dates; showing other \
             hotels instead.",
            names.join(", ")
        ));
        return (candidates, false);
    }
    for name in &selection.missing {
        warnings.push(format!(
            "The requested hotel {name} has no rate for these dates."
        ));
    }
    (selection.rates, true)
}

fn few_hotels(found: usize, destination: &str) -> String {
    if found == 1 {
        format!("Only 1 hotel in {destination} has a rate for these dates.")
    } else {
        format!("Only {found} hotels in {destination} have rates for these dates.")
    }
}

fn warn_about_options(ranked: &[Ranked], trip: &Trip, stay: &Stay, warnings: &mut Vec<String>) {
    for option in ranked.iter().filter(|r| !r.fits) {
        warnings.push(format!(
            "The stay runs past the end of {}'s rate on {} (last night {}); check the price \
             of the later nights.",
            option.rate.hotel_name, option.rate.valid_to, stay.last_night
        ));
    }
    for option in ranked {
        if let BudgetCheck::Over {
            estimate,
            budget,
            per_person,
        } = option.budget
        {
            let currency = &option.rate.prices.per_person_sharing.currency;
            let each = if per_person { " per person" } else { "" };
            warnings.push(format!(
                "{} is estimated at {}{each}, over the budget of {}{each}.",
                option.rate.hotel_name,
                money::whole(estimate, currency),
                money::whole(budget, currency),
            ));
        }
    }
    if let (Some(budget), Some(option)) = (
        &trip.budget,
        ranked
            .iter()
            .find(|r| r.budget == BudgetCheck::OtherCurrency),
    ) {
        warnings.push(format!(
            "The budget is in {} but {} is priced in {}, so it was not checked against the \
             budget.",
            budget.amount.currency.to_ascii_uppercase(),
            option.rate.hotel_name,
            option
                .rate
                .prices
                .per_person_sharing
                .currency
                .to_ascii_uppercase(),
        ));
    }
}

fn children_without_age(count: u32) -> Option<String> {
    match count {
        0 => None,
        1 => Some(
            "1 child has no stated age and is left out of the estimates; ask for the age."
                .to_owned(),
        ),
        n => Some(format!(
            "{n} children have no stated age and are left out of the estimates; ask for \
             their ages."
        )),
    }
}

caravan_sdk::export_quote_rules!(DefaultRules);

// Each call runs in a fresh instance that is discarded afterwards, and this plugin keeps most
// of what it allocates (its answer): an arena spares the call the allocator's bookkeeping.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: caravan_sdk::Arena = caravan_sdk::Arena::new();

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{rate, trip, usd};
    use caravan_sdk::{Budget, Destination, LineCost, Money};

    fn tenant() -> TenantContext {
        TenantContext {
            tenant_id: "sunbird".into(),
            company_name: "Sunbird Safaris".into(),
            currency: "ZAR".into(),
            timezone: "Africa/Johannesburg".into(),
            destinations: vec![Destination {
                name: "Zanzibar".into(),
                aliases: vec![],
            }],
        }
    }

    fn zanzibar() -> Vec<Rate> {
        let mut coral = rate("RATE-1", "Coral Cove Resort", "Zanzibar");
        coral.prices.per_person_sharing = usd(480);
        let mut baraka = rate("RATE-2", "Baraka Beach Lodge", "Zanzibar");
        baraka.prices.per_person_sharing = usd(253);
        let mut stone = rate("RATE-3", "Stone Town Courtyard Inn", "Zanzibar");
        stone.prices.per_person_sharing = usd(125);
        let mut pearl = rate("RATE-4", "Lagoon Pearl Resort", "Mauritius");
        pearl.prices.per_person_sharing = usd(50);
        vec![coral, baraka, stone, pearl]
    }

    fn titles(plan: &QuotePlan) -> Vec<&str> {
        plan.options.iter().map(|o| o.title.as_str()).collect()
    }

    fn warned(plan: &QuotePlan, words: &str) -> bool {
        plan.warnings.iter().any(|w| w.contains(words))
    }

    #[test]
    fn three_hotels_are_proposed_cheapest_first_without_warnings() {
        let plan =
            DefaultRules::propose(trip("Zanzibar", "2027-05-01", 7), zanzibar(), tenant()).unwrap();
        assert_eq!(
            titles(&plan),
            [
                "Stone Town Courtyard Inn",
                "Baraka Beach Lodge",
                "Coral Cove Resort"
            ]
        );
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
        let line = &plan.options[0].lines[0];
        assert_eq!(line.nights, 7);
        assert_eq!(line.rate_id.as_deref(), Some("RATE-3"));
        assert!(matches!(&line.cost, LineCost::Nightly(p) if p.per_person_sharing == usd(125)));
    }

    #[test]
    fn no_rate_for_the_dates_gives_no_options_and_says_so() {
        let plan = plan(&trip("Zanzibar", "2029-01-10", 7), &zanzibar()).unwrap();
        assert!(plan.options.is_empty());
        assert_eq!(
            plan.warnings,
            ["No rate for Zanzibar covers a check-in on 2029-01-10."]
        );
    }

    #[test]
    fn an_unknown_destination_gives_no_options_and_says_so() {
        let plan = plan(&trip("Seychelles", "2027-05-01", 7), &zanzibar()).unwrap();
        assert!(plan.options.is_empty());
        assert!(warned(&plan, "No rates are loaded for Seychelles"));
    }

    #[test]
    fn fewer_than_three_hotels_is_a_warning() {
        let rates: Vec<Rate> = zanzibar().into_iter().take(2).collect();
        let plan = plan(&trip("Zanzibar", "2027-05-01", 7), &rates).unwrap();
        assert_eq!(plan.options.len(), 2);
        assert!(warned(&plan, "Only 2 hotels in Zanzibar have rates"));
    }

    #[test]
    fn a_stay_past_the_end_of_a_rate_is_a_warning() {
        let mut rates = zanzibar();
        rates[0].valid_to = "2027-05-04".into();
        let plan = plan(&trip("Zanzibar", "2027-05-01", 7), &rates).unwrap();
        // Coral Cove fits only partly, so it drops to last place.
        assert_eq!(titles(&plan)[2], "Coral Cove Resort");
        assert!(warned(
            &plan,
            "runs past the end of Coral Cove Resort's rate on 2027-05-04 (last night 2027-05-07)"
        ));
    }

    #[test]
    fn requested_hotels_are_the_only_options_when_found() {
        let mut t = trip("Zanzibar", "2027-05-01", 7);
        t.requested_hotels = vec!["5* Coral Cove".into(), "Baraka Beach".into()];
        let plan = plan(&t, &zanzibar()).unwrap();
        assert_eq!(titles(&plan), ["Baraka Beach Lodge", "Coral Cove Resort"]);
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    }

    #[test]
    fn a_requested_hotel_that_is_not_found_is_named_in_a_warning() {
        let mut t = trip("Zanzibar", "2027-05-01", 7);
        t.requested_hotels = vec!["Coral Cove".into(), "Zuri Zanzibar".into()];
        let plan = plan(&t, &zanzibar()).unwrap();
        assert_eq!(titles(&plan), ["Coral Cove Resort"]);
        assert_eq!(
            plan.warnings,
            ["The requested hotel Zuri Zanzibar has no rate for these dates."]
        );
    }

    #[test]
    fn no_requested_hotel_found_falls_back_to_automatic_matching() {
        let mut t = trip("Zanzibar", "2027-05-01", 7);
        t.requested_hotels = vec!["The Zuri".into()];
        let plan = plan(&t, &zanzibar()).unwrap();
        assert_eq!(plan.options.len(), 3);
        assert!(warned(&plan, "None of the requested hotels (The Zuri)"));
    }

    #[test]
    fn options_over_the_budget_are_named_with_their_estimate() {
        let mut t = trip("Zanzibar", "2027-05-01", 7);
        t.budget = Some(Budget {
            amount: Money::new(400_000, "USD"),
            per_person: false,
        });
        let plan = plan(&t, &zanzibar()).unwrap();
        assert_eq!(
            titles(&plan),
            [
                "Stone Town Courtyard Inn",
                "Baraka Beach Lodge",
                "Coral Cove Resort"
            ]
        );
        assert_eq!(
            plan.warnings,
            ["Coral Cove Resort is estimated at USD 6,720, over the budget of USD 4,000."]
        );
    }

    #[test]
    fn a_budget_in_another_currency_is_mentioned_once() {
        let mut t = trip("Zanzibar", "2027-05-01", 7);
        t.budget = Some(Budget {
            amount: Money::new(5_000_000, "ZAR"),
            per_person: false,
        });
        let plan = plan(&t, &zanzibar()).unwrap();
        assert_eq!(plan.options.len(), 3);
        assert_eq!(plan.warnings.len(), 1);
        assert!(warned(&plan, "The budget is in ZAR"));
    }

    #[test]
    fn children_without_ages_are_a_warning() {
        let mut t = trip("Zanzibar", "2027-05-01", 7);
        t.party.children_without_age = 2;
        let plan = plan(&t, &zanzibar()).unwrap();
        assert_eq!(plan.options.len(), 3);
        assert!(warned(&plan, "2 children have no stated age"));
    }

    #[test]
    fn zero_nights_is_invalid_input() {
        let mut t = trip("Zanzibar", "2027-05-01", 7);
        t.nights = 0;
        assert_eq!(plan(&t, &zanzibar()).unwrap_err().code, "invalid-input");
    }
}
