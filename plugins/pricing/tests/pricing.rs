//! The pricing plugin through its public entry point, configured as a tenant would.

use caravan_plugin_pricing::DefaultPricing;
use caravan_sdk::testing::{clear_config, set_config};
use caravan_sdk::{
    FixedCost, FxRate, LineCost, Money, NightlyRates, Party, PluginError, PricedOption,
    PricedQuote, Pricing, PricingRequest, QuoteLine, QuoteOption, ServiceType, TenantContext, Trip,
};
use serde_json::json;

fn tenant() -> TenantContext {
    TenantContext {
        tenant_id: "sunbird".into(),
        company_name: "Sunbird Safaris".into(),
        currency: "ZAR".into(),
        timezone: "Africa/Johannesburg".into(),
        destinations: vec![],
    }
}

fn party(adults: u32, children_ages: &[u32], infants: u32) -> Party {
    Party {
        adults,
        children_ages: children_ages.to_vec(),
        children_without_age: 0,
        infants,
    }
}

fn trip(party: Party, nights: u32) -> Trip {
    Trip {
        destination: "Cape Town".into(),
        check_in: "2027-05-10".into(),
        check_out: "2027-05-17".into(),
        nights,
        party,
        rooms: 1,
        budget: None,
        requested_hotels: vec![],
    }
}

/// Per person per night, in minor units of `currency`; children 2–11.
fn rates(currency: &str, sharing: i64, single: i64, child: i64, infant: i64) -> NightlyRates {
    NightlyRates {
        per_person_sharing: Money::new(sharing, currency),
        single: Some(Money::new(single, currency)),
        child: Some(Money::new(child, currency)),
        infant: Some(Money::new(infant, currency)),
        child_min_age: 2,
        child_max_age: 11,
    }
}

fn stay(prices: NightlyRates, nights: u32) -> QuoteLine {
    QuoteLine {
        service: ServiceType::Accommodation,
        description: "Sea Point Studios — Standard Double (BB)".into(),
        nights,
        cost: LineCost::Nightly(prices),
        rate_id: Some("RATE-026".into()),
    }
}

fn fixed(service: ServiceType, unit: Money, quantity: u32) -> QuoteLine {
    QuoteLine {
        service,
        description: format!("{service:?}"),
        nights: 0,
        cost: LineCost::Fixed(FixedCost { unit, quantity }),
        rate_id: None,
    }
}

fn option(lines: Vec<QuoteLine>) -> QuoteOption {
    QuoteOption {
        title: "Sea Point Studios".into(),
        hotel_name: Some("Sea Point Studios".into()),
        star_rating: Some(3),
        room_type: Some("Standard Double".into()),
        meal_plan: Some("BB".into()),
        lines,
    }
}

fn request(
    trip: Trip,
    options: Vec<QuoteOption>,
    currency: &str,
    fx: Vec<FxRate>,
) -> PricingRequest {
    PricingRequest {
        trip,
        options,
        quote_currency: currency.into(),
        fx,
    }
}

fn fx(source: &str, target: &str, rate_micros: u64) -> FxRate {
    FxRate {
        source: source.into(),
        target: target.into(),
        rate_micros,
    }
}

fn price(request: PricingRequest) -> Result<PricedQuote, PluginError> {
    DefaultPricing::price(request, tenant())
}

/// Every line's components add up to its sell, lines add up to the total, one currency.
fn assert_consistent(quote: &PricedQuote) {
    for option in &quote.options {
        assert_eq!(option.total.currency, quote.currency);
        let mut total = 0;
        for line in &option.lines {
            assert_eq!(line.sell.currency, quote.currency);
            let sum: i64 = line.components.iter().map(|c| c.amount.amount).sum();
            assert_eq!(sum, line.sell.amount, "{line:?}");
            for c in &line.components {
                assert_eq!(c.amount.currency, quote.currency);
                assert!(c.amount.amount >= 0, "{c:?}");
            }
            total += line.sell.amount;
        }
        assert_eq!(total, option.total.amount);
        if let Some(pp) = &option.per_person {
            assert_eq!(pp.currency, quote.currency);
        }
    }
}

fn only(quote: &PricedQuote) -> &PricedOption {
    assert_eq!(quote.options.len(), 1);
    &quote.options[0]
}

fn labels(option: &PricedOption) -> Vec<(&str, i64)> {
    option
        .lines
        .iter()
        .flat_map(|l| &l.components)
        .map(|c| (c.label.as_str(), c.amount.amount))
        .collect()
}

#[test]
fn two_adults_sharing_in_the_home_currency_with_no_configuration() {
    clear_config();
    let prices = rates("ZAR", 182_900, 292_600, 91_400, 0);
    let quote = price(request(
        trip(party(2, &[], 0), 7),
        vec![option(vec![stay(prices, 7)])],
        "ZAR",
        vec![],
    ))
    .unwrap();
    let option = only(&quote);
    assert_eq!(quote.currency, "ZAR");
    assert_eq!(option.total, Money::new(2_560_600, "ZAR"));
    assert_eq!(option.per_person, Some(Money::new(1_280_300, "ZAR")));
    assert_eq!(labels(option), [("2 adults sharing × 7 nights", 2_560_600)]);
    assert_eq!(option.lines[0].net, Money::new(2_560_600, "ZAR"));
    assert!(quote.warnings.is_empty());
    assert_consistent(&quote);
}

#[test]
fn a_single_traveller_pays_the_single_rate() {
    clear_config();
    let prices = rates("ZAR", 182_900, 292_600, 91_400, 0);
    let quote = price(request(
        trip(party(1, &[], 0), 3),
        vec![option(vec![stay(prices, 3)])],
        "ZAR",
        vec![],
    ))
    .unwrap();
    let option = only(&quote);
    assert_eq!(option.total.amount, 877_800);
    assert_eq!(option.per_person, Some(Money::new(877_800, "ZAR")));
    assert_eq!(labels(option), [("1 adult single × 3 nights", 877_800)]);
}

#[test]
fn a_family_pays_child_adult_and_infant_rates_by_age() {
    clear_config();
    let prices = rates("ZAR", 100_000, 160_000, 50_000, 10_000);
    // Ages 1 (infant by age), 5 (child), 14 (above 11: adult rate), plus one infant.
    let quote = price(request(
        trip(party(2, &[1, 5, 14], 1), 2),
        vec![option(vec![stay(prices, 2)])],
        "ZAR",
        vec![],
    ))
    .unwrap();
    let option = only(&quote);
    assert_eq!(
        labels(option),
        [
            ("2 adults sharing × 2 nights", 400_000),
            ("1 child aged 14 at the adult rate × 2 nights", 200_000),
            ("1 child aged 5 × 2 nights", 100_000),
            ("2 infants × 2 nights", 40_000),
        ]
    );
    assert_eq!(option.total.amount, 740_000);
    // Per person is an adult's sharing share only.
    assert_eq!(option.per_person, Some(Money::new(200_000, "ZAR")));
    assert_consistent(&quote);
}

#[test]
fn children_without_ages_are_left_out_with_a_warning() {
    clear_config();
    let mut p = party(2, &[], 0);
    p.children_without_age = 2;
    let prices = rates("ZAR", 100_000, 160_000, 50_000, 0);
    let quote = price(request(
        trip(p, 1),
        vec![option(vec![stay(prices, 1)])],
        "ZAR",
        vec![],
    ))
    .unwrap();
    assert_eq!(only(&quote).total.amount, 200_000);
    assert_eq!(quote.warnings.len(), 1);
    assert!(quote.warnings[0].starts_with("2 children have no stated age"));
}

#[test]
fn markups_apply_by_service_type() {
    clear_config();
    set_config("markups", json!({"accommodation": 1500, "transfer": 1000}));
    let prices = rates("ZAR", 100_000, 160_000, 50_000, 0);
    let lines = vec![
        stay(prices, 1),
        fixed(ServiceType::Transfer, Money::new(45_000, "ZAR"), 2),
        fixed(ServiceType::Activity, Money::new(30_000, "ZAR"), 1),
    ];
    let quote = price(request(
        trip(party(2, &[], 0), 1),
        vec![option(lines)],
        "ZAR",
        vec![],
    ))
    .unwrap();
    let option = only(&quote);
    let sells: Vec<i64> = option.lines.iter().map(|l| l.sell.amount).collect();
    assert_eq!(sells, [230_000, 99_000, 30_000]);
    assert_eq!(option.total.amount, 359_000);
    assert_eq!(option.lines[1].components[1].label, "Markup 10%");
    // An adult's share: the room plus half of the shared transfer and activity.
    assert_eq!(option.per_person, Some(Money::new(179_500, "ZAR")));
    assert_consistent(&quote);
    clear_config();
}

#[test]
fn foreign_rates_are_converted_with_the_buffer() {
    clear_config();
    set_config("fx_buffer_bps", json!(200));
    let prices = rates("USD", 42_300, 67_700, 21_200, 0);
    let quote = price(request(
        trip(party(2, &[], 0), 7),
        vec![option(vec![stay(prices, 7)])],
        "ZAR",
        vec![fx("EUR", "ZAR", 20_100_000), fx("USD", "ZAR", 18_250_000)],
    ))
    .unwrap();
    let option = only(&quote);
    // USD 5 922.00 × 18.25 = ZAR 108 076.50; + 2 % = ZAR 2 161.53.
    assert_eq!(
        labels(option),
        [
            ("2 adults sharing × 7 nights", 10_807_650),
            ("Currency buffer 2%", 216_153)
        ]
    );
    assert_eq!(option.lines[0].net, Money::new(592_200, "USD"));
    assert_eq!(option.total, Money::new(11_023_803, "ZAR"));
    assert_consistent(&quote);
    clear_config();
}

#[test]
fn a_missing_exchange_rate_is_a_missing_fx_error() {
    clear_config();
    let prices = rates("EUR", 38_400, 61_400, 19_200, 0);
    let err = price(request(
        trip(party(2, &[], 0), 7),
        vec![option(vec![stay(prices, 7)])],
        "ZAR",
        vec![fx("USD", "ZAR", 18_250_000)],
    ))
    .unwrap_err();
    assert_eq!(err.code, "missing-fx");
}

#[test]
fn quotes_in_yen_have_no_minor_unit() {
    clear_config();
    let prices = rates("USD", 25_300, 40_500, 12_600, 0);
    let quote = price(request(
        trip(party(2, &[], 0), 7),
        vec![option(vec![stay(prices, 7)])],
        "jpy",
        vec![fx("USD", "JPY", 151_200_000)],
    ))
    .unwrap();
    // USD 3 542.00 × 151.2 = JPY 535 550.4 → 535 550 yen.
    assert_eq!(quote.currency, "JPY");
    assert_eq!(only(&quote).total, Money::new(535_550, "JPY"));
    assert_consistent(&quote);
}

#[test]
fn rates_in_yen_quoted_in_dinars_keep_three_decimals() {
    clear_config();
    let prices = rates("JPY", 20_000, 32_000, 10_000, 0);
    let quote = price(request(
        trip(party(2, &[], 0), 1),
        vec![option(vec![stay(prices, 1)])],
        "KWD",
        vec![fx("JPY", "KWD", 2_034)],
    ))
    .unwrap();
    // JPY 40 000 × 0.002034 = KWD 81.360.
    assert_eq!(only(&quote).total, Money::new(81_360, "KWD"));
}

#[test]
fn rounding_up_to_a_step_adds_a_rounding_component() {
    clear_config();
    set_config("markups", json!({"accommodation": 1500}));
    set_config("rounding", json!({"step_minor": 10000, "mode": "up"}));
    let prices = rates("ZAR", 182_900, 292_600, 91_400, 0);
    let quote = price(request(
        trip(party(2, &[], 0), 7),
        vec![option(vec![stay(prices, 7)])],
        "ZAR",
        vec![],
    ))
    .unwrap();
    let option = only(&quote);
    // ZAR 25 606 + 15 % = ZAR 29 446.90 → ZAR 29 500.
    assert_eq!(
        labels(option),
        [
            ("2 adults sharing × 7 nights", 2_560_600),
            ("Markup 15%", 384_090),
            ("Rounding", 5_310),
        ]
    );
    assert_eq!(option.total.amount, 2_950_000);
    assert_eq!(option.per_person, Some(Money::new(1_475_000, "ZAR")));
    assert_consistent(&quote);
    clear_config();
}

#[test]
fn rounding_to_the_nearest_step_down_keeps_every_component_positive() {
    clear_config();
    set_config("markups", json!({"accommodation": 1000}));
    set_config("rounding", json!({"step_minor": 10000, "mode": "nearest"}));
    let prices = rates("ZAR", 100_100, 160_000, 50_000, 0);
    let quote = price(request(
        trip(party(2, &[], 0), 1),
        vec![option(vec![stay(prices, 1)])],
        "ZAR",
        vec![],
    ))
    .unwrap();
    let option = only(&quote);
    // ZAR 2 002 + 10 % = ZAR 2 202.20 → ZAR 2 200.
    assert_eq!(option.total.amount, 220_000);
    assert_eq!(
        labels(option),
        [
            ("2 adults sharing × 1 night", 200_200),
            ("Markup 10%, less rounding", 19_800)
        ]
    );
    assert_consistent(&quote);
    clear_config();
}

#[test]
fn every_option_is_priced_in_order() {
    clear_config();
    let cheap = option(vec![stay(rates("ZAR", 100_000, 0, 0, 0), 2)]);
    let mut dear = option(vec![stay(rates("ZAR", 300_000, 0, 0, 0), 2)]);
    dear.title = "Table Bay Heights".into();
    let quote = price(request(
        trip(party(2, &[], 0), 2),
        vec![cheap, dear],
        "ZAR",
        vec![],
    ))
    .unwrap();
    let totals: Vec<(&str, i64)> = quote
        .options
        .iter()
        .map(|o| (o.title.as_str(), o.total.amount))
        .collect();
    assert_eq!(
        totals,
        [
            ("Sea Point Studios", 400_000),
            ("Table Bay Heights", 1_200_000)
        ]
    );
}

#[test]
fn nonsense_input_is_rejected() {
    clear_config();
    let prices = rates("ZAR", 100_000, 160_000, 50_000, 0);
    let cases = [
        request(
            trip(party(2, &[], 0), 7),
            vec![option(vec![stay(prices.clone(), 0)])],
            "ZAR",
            vec![],
        ),
        request(
            trip(party(2, &[], 0), 7),
            vec![option(vec![])],
            "ZAR",
            vec![],
        ),
        request(
            trip(party(0, &[], 0), 7),
            vec![option(vec![stay(prices.clone(), 7)])],
            "ZAR",
            vec![],
        ),
        request(
            trip(party(2, &[], 0), 7),
            vec![option(vec![stay(prices.clone(), 7)])],
            "rand",
            vec![],
        ),
        request(
            trip(party(2, &[], 0), 7),
            vec![option(vec![fixed(
                ServiceType::Fee,
                Money::new(-100, "ZAR"),
                1,
            )])],
            "ZAR",
            vec![],
        ),
    ];
    for case in cases {
        let err = price(case.clone()).unwrap_err();
        assert_eq!(err.code, "invalid-input", "{case:?}");
    }
}

#[test]
fn an_unusable_configuration_is_invalid_config() {
    clear_config();
    set_config("rounding", json!({"step_minor": 10000, "mode": "sideways"}));
    let prices = rates("ZAR", 100_000, 160_000, 50_000, 0);
    let err = price(request(
        trip(party(2, &[], 0), 7),
        vec![option(vec![stay(prices, 7)])],
        "ZAR",
        vec![],
    ))
    .unwrap_err();
    assert_eq!(err.code, "invalid-config");
    clear_config();
}

#[test]
fn the_largest_prices_fail_cleanly_instead_of_overflowing() {
    clear_config();
    let prices = rates("ZAR", i64::MAX, i64::MAX, i64::MAX, 0);
    let err = price(request(
        trip(party(50, &[], 0), 365),
        vec![option(vec![stay(prices, 365)])],
        "ZAR",
        vec![],
    ))
    .unwrap_err();
    assert_eq!(err.code, "invalid-input");
}
