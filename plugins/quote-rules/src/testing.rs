//! Rates and trips for the unit tests.

use caravan_sdk::{Money, NightlyRates, Party, Rate, Trip};

use crate::dates;

/// `major` US dollars.
pub fn usd(major: i64) -> Money {
    Money::new(major * 100, "USD")
}

/// A year-round 2027 rate: USD 100 sharing, 160 single, 50 per child, infants free.
pub fn rate(id: &str, hotel: &str, destination: &str) -> Rate {
    Rate {
        id: id.into(),
        hotel_name: hotel.into(),
        destination: destination.into(),
        star_rating: Some(4),
        room_type: "Standard Double".into(),
        meal_plan: "BB".into(),
        valid_from: "2027-01-01".into(),
        valid_to: "2027-12-31".into(),
        min_nights: 1,
        max_occupancy: None,
        prices: NightlyRates {
            per_person_sharing: usd(100),
            single: Some(usd(160)),
            child: Some(usd(50)),
            infant: None,
            child_min_age: 2,
            child_max_age: 11,
        },
    }
}

/// Two adults in one room, no budget, no requested hotels.
pub fn trip(destination: &str, check_in: &str, nights: u32) -> Trip {
    Trip {
        destination: destination.into(),
        check_in: check_in.into(),
        check_out: dates::add_days(check_in, i64::from(nights)).unwrap_or_default(),
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
