//! The sample rate table through the built-in quote rules and then pricing, as the host
//! chains them: every option priced in rand, converted, marked up and rounded.

use caravan_plugin_pricing::DefaultPricing;
use caravan_plugin_quote_rules::DefaultRules;
use caravan_sdk::testing::{clear_config, set_config};
use caravan_sdk::{
    FxRate, Money, NightlyRates, Party, Pricing, PricingRequest, QuoteRules, Rate, TenantContext,
    Trip,
};
use serde_json::json;

const RATES_CSV: &str = include_str!("../../quote-rules/tests/data/rates.csv");

fn money(major: &str, currency: &str) -> Money {
    Money::new(major.parse::<i64>().unwrap() * 100, currency)
}

fn rates() -> Vec<Rate> {
    RATES_CSV
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split(',').collect();
            Rate {
                id: format!("RATE-{:03}", i + 1),
                hotel_name: f[0].into(),
                destination: f[1].into(),
                star_rating: Some(f[2].parse().unwrap()),
                room_type: f[3].into(),
                meal_plan: f[4].into(),
                valid_from: f[5].into(),
                valid_to: f[6].into(),
                min_nights: f[12].parse().unwrap(),
                max_occupancy: None,
                prices: NightlyRates {
                    per_person_sharing: money(f[8], f[7]),
                    single: Some(money(f[9], f[7])),
                    child: Some(money(f[10], f[7])),
                    infant: Some(money(f[11], f[7])),
                    child_min_age: 2,
                    child_max_age: 11,
                },
            }
        })
        .collect()
}

fn tenant() -> TenantContext {
    TenantContext {
        tenant_id: "sunbird".into(),
        company_name: "Sunbird Safaris".into(),
        currency: "ZAR".into(),
        timezone: "Africa/Johannesburg".into(),
        destinations: vec![],
    }
}

fn family_trip(destination: &str) -> Trip {
    Trip {
        destination: destination.into(),
        check_in: "2027-05-10".into(),
        check_out: "2027-05-17".into(),
        nights: 7,
        party: Party {
            adults: 2,
            children_ages: vec![7, 13],
            children_without_age: 0,
            infants: 1,
        },
        rooms: 2,
        budget: None,
        requested_hotels: vec![],
    }
}

#[test]
fn a_zanzibar_family_holiday_is_priced_in_rand_and_rounded_to_r100() {
    clear_config();
    set_config("markups", json!({"accommodation": 1500}));
    set_config("fx_buffer_bps", json!(200));
    set_config("rounding", json!({"step_minor": 10000, "mode": "up"}));
    let trip = family_trip("Zanzibar");
    let plan = DefaultRules::propose(trip.clone(), rates(), tenant()).unwrap();
    assert_eq!(plan.options.len(), 3);
    let quote = DefaultPricing::price(
        PricingRequest {
            trip,
            options: plan.options,
            quote_currency: "ZAR".into(),
            fx: vec![FxRate {
                source: "USD".into(),
                target: "ZAR".into(),
                rate_micros: 18_250_000,
            }],
        },
        tenant(),
    )
    .unwrap();
    assert_eq!(quote.currency, "ZAR");
    let totals: Vec<i64> = quote.options.iter().map(|o| o.total.amount).collect();
    // Stone Town: USD (110 × 3 + 55) × 7 = USD 2 695; + 15 % = USD 3 099.25
    // → ZAR 56 561.31 + 2 % = ZAR 57 692.54 → ZAR 57 700.
    assert_eq!(totals[0], 5_770_000);
    assert!(totals.windows(2).all(|w| w[0] < w[1]), "{totals:?}");
    for option in &quote.options {
        assert_eq!(option.total.amount % 10_000, 0);
        let line = &option.lines[0];
        let sum: i64 = line.components.iter().map(|c| c.amount.amount).sum();
        assert_eq!(sum, line.sell.amount);
        assert_eq!(line.sell, option.total);
        assert_eq!(line.net.currency, "USD");
        assert!(option.per_person.as_ref().is_some_and(|p| p.amount > 0));
    }
    clear_config();
}
