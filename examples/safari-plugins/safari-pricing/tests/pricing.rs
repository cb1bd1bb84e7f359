//! The whole plugin, called as the host calls it: a request in, a priced quote out, checked
//! against the rules the host enforces on every pricing output.

use caravan_sdk::testing::{clear_config, set_config};
use caravan_sdk::{
    Destination, FixedCost, FxRate, LineCost, Money, NightlyRates, Party, PricedQuote, Pricing,
    PricingRequest, QuoteLine, QuoteOption, ServiceType, TenantContext, Trip,
};
use safari_pricing::{SafariPricing, Settings, price_with};
use serde_json::json;

/// The dry-run body shipped next to the README.
const DRY_RUN: &str = include_str!("../../dry-run-pricing.json");

fn dry_run_request() -> PricingRequest {
    let body: serde_json::Value = serde_json::from_str(DRY_RUN).unwrap();
    serde_json::from_value(body["input"]["request"].clone()).unwrap()
}

fn sunbird() -> TenantContext {
    TenantContext {
        tenant_id: "sunbird".into(),
        company_name: "Sunbird Safaris".into(),
        currency: "ZAR".into(),
        timezone: "Africa/Johannesburg".into(),
        destinations: vec![Destination {
            name: "Maasai Mara".into(),
            aliases: vec!["Mara".into()],
        }],
    }
}

/// The configuration the README puts on the pricing slot.
fn configure() {
    clear_config();
    set_config(
        "park_fees",
        json!({"Maasai Mara": {"adult": 8000, "child": 4000, "currency": "USD"}}),
    );
    set_config("markup_bps", json!(1500));
}

/// What the host checks on every pricing output (`host/src/plugins/validate.rs`).
fn assert_host_accepts(quote: &PricedQuote, request: &PricingRequest) {
    assert_eq!(quote.currency, request.quote_currency);
    assert_eq!(quote.options.len(), request.options.len());
    for option in &quote.options {
        let mut total: i128 = 0;
        for line in &option.lines {
            let parts: i128 = line
                .components
                .iter()
                .map(|c| {
                    assert_eq!(c.amount.currency, quote.currency, "{line:?}");
                    assert!(c.amount.amount >= 0, "{line:?}");
                    i128::from(c.amount.amount)
                })
                .sum();
            assert_eq!(parts, i128::from(line.sell.amount), "{line:?}");
            assert_eq!(line.sell.currency, quote.currency);
            assert!(line.sell.amount >= 0 && line.net.amount >= 0, "{line:?}");
            total += i128::from(line.sell.amount);
        }
        assert_eq!(i128::from(option.total.amount), total);
        assert_eq!(option.total.currency, quote.currency);
    }
}

fn components(quote: &PricedQuote, line: usize) -> Vec<(&str, i64)> {
    quote.options[0].lines[line]
        .components
        .iter()
        .map(|c| (c.label.as_str(), c.amount.amount))
        .collect()
}

#[test]
fn the_readme_dry_run_prices_the_stay_and_the_park_fees_in_rand() {
    configure();
    let request = dry_run_request();
    let quote = SafariPricing::price(request.clone(), sunbird()).unwrap();
    clear_config();
    assert_host_accepts(&quote, &request);
    assert_eq!(quote.currency, "ZAR");
    assert!(quote.warnings.is_empty());

    let option = &quote.options[0];
    assert_eq!(option.lines.len(), 2);
    // Accommodation: USD 6 300 (adults) + 1 575 (child) net, 15 % markup, × 18.25.
    assert_eq!(option.lines[0].net, Money::new(787_500, "USD"));
    assert_eq!(
        components(&quote, 0),
        [
            ("2 adults sharing × 7 nights", 11_497_500),
            ("1 child aged 8 × 7 nights", 2_874_375),
            ("Markup 15%", 2_155_781),
        ]
    );
    assert_eq!(option.lines[0].sell, Money::new(16_527_656, "ZAR"));
    // Park fees: USD 80 × 2 adults + USD 40 × 1 child, × 7 nights, × 18.25, no markup.
    let fees = &option.lines[1];
    assert_eq!(fees.service, ServiceType::Fee);
    assert_eq!(fees.description, "Conservation and park fees, Maasai Mara");
    assert_eq!(fees.nights, 7);
    assert_eq!(fees.net, Money::new(140_000, "USD"));
    assert_eq!(
        components(&quote, 1),
        [
            ("Park fees: 2 adults × 7 nights", 2_044_000),
            ("Park fees: 1 child aged 8 × 7 nights", 511_000),
        ]
    );
    assert_eq!(option.total, Money::new(19_082_656, "ZAR"));
    // (13 222 125 accommodation + 2 044 000 park fees) ÷ 2 adults.
    assert_eq!(option.per_person, Some(Money::new(7_633_063, "ZAR")));
}

#[test]
fn the_dry_run_file_uses_the_field_names_and_enum_forms_of_the_contract() {
    let request = dry_run_request();
    assert_eq!(request.trip.destination, "Maasai Mara");
    assert_eq!(request.trip.party.children_ages, [8]);
    assert_eq!(
        request.options[0].lines[0].service,
        ServiceType::Accommodation
    );
    assert!(matches!(
        request.options[0].lines[0].cost,
        LineCost::Nightly(_)
    ));
    assert_eq!(request.fx[0].rate_micros, 18_250_000);
    // Serialising again gives the same JSON, so nothing in the file was ignored.
    let body: serde_json::Value = serde_json::from_str(DRY_RUN).unwrap();
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        body["input"]["request"]
    );
}

/// Like the host's upload sample: Zanzibar, rand rates, a transfer, three options.
fn zanzibar_request() -> PricingRequest {
    let zar = |major: i64| Money::new(major * 100, "ZAR");
    let option = |i: i64| QuoteOption {
        title: format!("Hotel {i}"),
        hotel_name: Some(format!("Hotel {i}")),
        star_rating: Some(4),
        room_type: Some("Standard Double".into()),
        meal_plan: Some("HB".into()),
        lines: vec![
            QuoteLine {
                service: ServiceType::Accommodation,
                description: format!("Hotel {i}, Standard Double (HB)"),
                nights: 7,
                cost: LineCost::Nightly(NightlyRates {
                    per_person_sharing: zar(2_500 + i * 100),
                    single: Some(zar(4_000)),
                    child: Some(zar(1_250)),
                    infant: None,
                    child_min_age: 2,
                    child_max_age: 11,
                }),
                rate_id: Some(format!("RATE-{i:08}")),
            },
            QuoteLine {
                service: ServiceType::Transfer,
                description: "Airport transfers".into(),
                nights: 0,
                cost: LineCost::Fixed(FixedCost {
                    unit: zar(450),
                    quantity: 2,
                }),
                rate_id: None,
            },
        ],
    };
    PricingRequest {
        trip: Trip {
            destination: "Zanzibar".into(),
            check_in: "2027-03-12".into(),
            check_out: "2027-03-19".into(),
            nights: 7,
            party: Party {
                adults: 2,
                children_ages: vec![8],
                children_without_age: 0,
                infants: 0,
            },
            rooms: 1,
            budget: None,
            requested_hotels: vec![],
        },
        options: (1..=3).map(option).collect(),
        quote_currency: "ZAR".into(),
        fx: vec![FxRate {
            source: "USD".into(),
            target: "ZAR".into(),
            rate_micros: 18_250_000,
        }],
    }
}

#[test]
fn a_destination_without_park_fees_is_priced_without_a_fee_line() {
    configure();
    let request = zanzibar_request();
    let quote = SafariPricing::price(request.clone(), sunbird()).unwrap();
    clear_config();
    assert_host_accepts(&quote, &request);
    for option in &quote.options {
        assert_eq!(option.lines.len(), 2);
        assert!(option.lines.iter().all(|l| l.service != ServiceType::Fee));
    }
    // Hotel 1: R 2 600 × 2 × 7 + R 1 250 × 7 = R 45 150, + 15 % = R 51 922.50; transfers
    // R 900 at net.
    assert_eq!(quote.options[0].lines[0].sell, Money::new(5_192_250, "ZAR"));
    assert_eq!(
        components(&quote, 1),
        [("2 × ZAR 450.00", 90_000)],
        "transfers carry no markup"
    );
    assert_eq!(quote.options[0].total, Money::new(5_282_250, "ZAR"));
}

#[test]
fn the_plugin_works_with_no_configuration_at_all() {
    clear_config();
    let request = zanzibar_request();
    let quote = SafariPricing::price(request.clone(), sunbird()).unwrap();
    assert_host_accepts(&quote, &request);
    assert_eq!(quote.options[0].lines[0].sell, Money::new(4_515_000, "ZAR"));
}

#[test]
fn destinations_match_the_configuration_without_regard_to_case() {
    let mut request = dry_run_request();
    request.trip.destination = "MAASAI MARA".into();
    let settings = Settings {
        park_fees: [(
            "Maasai Mara".to_owned(),
            safari_pricing::ParkFee {
                adult: 8_000,
                child: 4_000,
                currency: "USD".into(),
                child_max_age: None,
            },
        )]
        .into(),
        markup_bps: 0,
    };
    let quote = price_with(request, &settings).unwrap();
    assert_eq!(quote.options[0].lines.len(), 2);
}

#[test]
fn park_fees_cover_the_nights_of_the_stay_offered() {
    configure();
    let mut request = dry_run_request();
    // The quote rules could only offer 5 of the 7 nights asked for.
    request.options[0].lines[0].nights = 5;
    let quote = SafariPricing::price(request.clone(), sunbird()).unwrap();
    clear_config();
    assert_host_accepts(&quote, &request);
    assert_eq!(quote.options[0].lines[1].nights, 5);
    assert_eq!(
        components(&quote, 1)[0],
        ("Park fees: 2 adults × 5 nights", 1_460_000)
    );
}

#[test]
fn a_lone_traveller_pays_the_single_rate_and_one_park_fee() {
    configure();
    let mut request = dry_run_request();
    request.trip.party.children_ages.clear();
    request.trip.party.adults = 1;
    let quote = SafariPricing::price(request.clone(), sunbird()).unwrap();
    clear_config();
    assert_host_accepts(&quote, &request);
    assert_eq!(
        components(&quote, 0)[0],
        ("1 adult single × 7 nights", 7_665_000)
    );
    assert_eq!(
        components(&quote, 1),
        [("Park fees: 1 adult × 7 nights", 1_022_000)]
    );
}

#[test]
fn children_without_ages_produce_a_warning_for_the_consultant() {
    configure();
    let mut request = dry_run_request();
    request.trip.party.children_without_age = 1;
    let quote = SafariPricing::price(request, sunbird()).unwrap();
    clear_config();
    assert_eq!(quote.warnings.len(), 1);
    assert!(quote.warnings[0].contains("no stated age"), "{quote:?}");
}

#[test]
fn park_fees_without_an_exchange_rate_are_missing_fx() {
    configure();
    set_config(
        "park_fees",
        json!({"Maasai Mara": {"adult": 8000, "child": 4000, "currency": "KES"}}),
    );
    let err = SafariPricing::price(dry_run_request(), sunbird()).unwrap_err();
    clear_config();
    assert_eq!(err.code, "missing-fx");
    assert!(err.message.contains("KES to ZAR"), "{}", err.message);
}

#[test]
fn a_quote_in_the_park_fee_currency_needs_no_exchange_rate() {
    configure();
    let mut request = dry_run_request();
    request.fx.clear();
    request.quote_currency = "USD".into();
    let quote = SafariPricing::price(request.clone(), sunbird()).unwrap();
    clear_config();
    assert_host_accepts(&quote, &request);
    assert_eq!(
        components(&quote, 1),
        [
            ("Park fees: 2 adults × 7 nights", 112_000),
            ("Park fees: 1 child aged 8 × 7 nights", 28_000),
        ]
    );
    // USD 7 875 + 15 % + USD 1 400 of fees.
    assert_eq!(quote.options[0].total, Money::new(1_045_625, "USD"));
}

#[test]
fn a_malformed_configuration_is_reported_rather_than_guessed() {
    configure();
    set_config("markup_bps", json!("15%"));
    let err = SafariPricing::price(dry_run_request(), sunbird()).unwrap_err();
    clear_config();
    assert_eq!(err.code, "invalid-config");
    assert!(err.message.contains("markup_bps"), "{}", err.message);
}

#[test]
fn a_lower_case_quote_currency_is_invalid_input() {
    clear_config();
    let mut request = dry_run_request();
    request.quote_currency = "zar".into();
    let err = SafariPricing::price(request, sunbird()).unwrap_err();
    assert_eq!(err.code, "invalid-input");
}
