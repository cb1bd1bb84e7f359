//! The quote rules against the sample rate table (`tests/data/rates.csv`, a copy of the
//! shared fixture: prices per person per night in major units, children aged 2–11).

use caravan_plugin_quote_rules::DefaultRules;
use caravan_sdk::{
    Budget, LineCost, Money, NightlyRates, Party, QuotePlan, QuoteRules, Rate, TenantContext, Trip,
};

const RATES_CSV: &str = include_str!("data/rates.csv");

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
            assert_eq!(f.len(), 13, "{line}");
            let currency = f[7];
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
                    per_person_sharing: money(f[8], currency),
                    single: Some(money(f[9], currency)),
                    child: Some(money(f[10], currency)),
                    infant: Some(money(f[11], currency)),
                    child_min_age: 2,
                    child_max_age: 11,
                },
            }
        })
        .collect()
}

fn trip(destination: &str, check_in: &str, check_out: &str, nights: u32) -> Trip {
    Trip {
        destination: destination.into(),
        check_in: check_in.into(),
        check_out: check_out.into(),
        nights,
        party: Party {
            adults: 2,
            children_ages: vec![],
            children_without_age: 0,
            infants: 0,
        },
        rooms: 1,
        budget: None,
        requested_hotels: vec![],
    }
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

fn propose(trip: Trip) -> QuotePlan {
    DefaultRules::propose(trip, rates(), tenant()).unwrap()
}

fn titles(plan: &QuotePlan) -> Vec<&str> {
    plan.options.iter().map(|o| o.title.as_str()).collect()
}

#[test]
fn the_fixture_has_every_row() {
    assert_eq!(rates().len(), 66);
}

#[test]
fn a_winter_week_in_zanzibar_offers_three_hotels_cheapest_first() {
    let plan = propose(trip("Zanzibar", "2027-05-10", "2027-05-17", 7));
    assert_eq!(
        titles(&plan),
        [
            "Stone Town Courtyard Inn",
            "Baraka Beach Lodge",
            "Coral Cove Resort"
        ]
    );
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    let coral = &plan.options[2];
    assert_eq!(coral.star_rating, Some(5));
    assert_eq!(
        coral.lines[0].description,
        "Coral Cove Resort — Deluxe Suite (HB)"
    );
    let LineCost::Nightly(prices) = &coral.lines[0].cost else {
        panic!("nightly cost expected");
    };
    assert_eq!(prices.per_person_sharing, Money::new(42_300, "USD"));
}

#[test]
fn a_check_in_on_the_first_day_of_a_season_uses_that_seasons_rate() {
    let plan = propose(trip("Cape Town", "2027-04-01", "2027-04-04", 3));
    let LineCost::Nightly(prices) = &plan.options[0].lines[0].cost else {
        panic!("nightly cost expected");
    };
    assert_eq!(plan.options[0].title, "Sea Point Studios");
    assert_eq!(prices.per_person_sharing, Money::new(182_900, "ZAR"));
}

#[test]
fn a_stay_across_a_season_change_warns_for_every_option() {
    let plan = propose(trip("Cape Town", "2027-03-28", "2027-04-04", 7));
    assert_eq!(plan.options.len(), 3);
    let past_end = plan
        .warnings
        .iter()
        .filter(|w| w.contains("runs past the end"))
        .count();
    assert_eq!(past_end, 3, "{:?}", plan.warnings);
}

#[test]
fn the_maldives_has_only_two_hotels() {
    let plan = propose(trip("maldives", "2027-06-01", "2027-06-08", 7));
    assert_eq!(
        titles(&plan),
        ["Maafushi Island Hotel", "Azure Atoll Overwater Villas"]
    );
    assert_eq!(
        plan.warnings,
        ["Only 2 hotels in maldives have rates for these dates."]
    );
}

#[test]
fn two_nights_leave_out_lodges_with_a_three_night_minimum() {
    let plan = propose(trip("Kruger National Park", "2027-06-01", "2027-06-03", 2));
    assert_eq!(titles(&plan), ["Bushveld Rest Tents", "Sabie River Camp"]);
}

#[test]
fn a_requested_lodge_with_a_longer_minimum_stay_falls_back_to_the_others() {
    let mut t = trip("Kruger National Park", "2027-06-01", "2027-06-03", 2);
    t.requested_hotels = vec!["Marula Private Lodge".into()];
    let plan = propose(t);
    assert_eq!(plan.options.len(), 2);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("None of the requested hotels (Marula Private Lodge)"))
    );
}

#[test]
fn a_luxury_request_with_a_per_person_budget_flags_what_is_over_it() {
    let mut t = trip("Mauritius", "2027-12-01", "2027-12-08", 7);
    t.budget = Some(Budget {
        amount: Money::new(200_000, "EUR"),
        per_person: true,
    });
    let plan = propose(t);
    assert_eq!(
        titles(&plan),
        [
            "Flic en Flac Guesthouse",
            "Blue Bay Villas",
            "Lagoon Pearl Resort"
        ]
    );
    assert_eq!(
        plan.warnings,
        [
            "Lagoon Pearl Resort is estimated at EUR 3,374 per person, over the budget of EUR \
          2,000 per person."
        ]
    );
}

#[test]
fn ten_thousand_rates_are_handled() {
    let base = rates();
    let many: Vec<Rate> = (0..10_000)
        .map(|i| {
            let mut r = base[i % base.len()].clone();
            r.hotel_name = format!("{} {}", r.hotel_name, i % 400);
            r.id = format!("RATE-{i}");
            r
        })
        .collect();
    let plan = DefaultRules::propose(
        trip("Zanzibar", "2027-05-10", "2027-05-17", 7),
        many,
        tenant(),
    )
    .unwrap();
    assert_eq!(plan.options.len(), 3);
}
