//! Which of the tenant's rates can apply to a trip at all: destination, dates, stay length
//! and room occupancy.

use caravan_sdk::{PluginError, Rate, Trip};

use crate::dates;

/// The facts about a trip that decide whether a rate applies.
#[derive(Debug, Clone)]
pub struct Stay {
    /// Lower-case destination, for case-insensitive comparison.
    destination: String,
    pub check_in: String,
    /// The night before check-out: the last night a rate must cover for a full fit.
    pub last_night: String,
    pub nights: u32,
    /// People who share one room when the party is spread evenly over the rooms.
    pub people_per_room: u32,
}

impl Stay {
    /// Reads the trip; the host completes trips, so a bad date or zero nights means the
    /// input is broken rather than that no rate fits.
    pub fn of(trip: &Trip) -> Result<Self, PluginError> {
        if trip.nights == 0 {
            return Err(PluginError::new(
                "invalid-input",
                "The trip has no nights; check-out must be after check-in.",
            ));
        }
        let last_night =
            dates::add_days(&trip.check_in, i64::from(trip.nights) - 1).ok_or_else(|| {
                PluginError::new(
                    "invalid-input",
                    format!(
                        "The check-in date `{}` is not a YYYY-MM-DD date.",
                        trip.check_in
                    ),
                )
            })?;
        let party = &trip.party;
        let people = u64::from(party.adults)
            + party.children_ages.len() as u64
            + u64::from(party.children_without_age)
            + u64::from(party.infants);
        let rooms = u64::from(trip.rooms.max(1));
        let per_room = people.div_ceil(rooms);
        Ok(Self {
            destination: trip.destination.trim().to_lowercase(),
            check_in: trip.check_in.clone(),
            last_night,
            nights: trip.nights,
            people_per_room: u32::try_from(per_room).unwrap_or(u32::MAX),
        })
    }

    /// Whether the rate's validity covers every night of the stay.
    pub fn fully_inside(&self, rate: &Rate) -> bool {
        rate.valid_from.as_str() <= self.check_in.as_str()
            && self.last_night.as_str() <= rate.valid_to.as_str()
    }
}

/// Why no rate applies, from the first test that left nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shortfall {
    /// The tenant has no rate for the destination.
    NoRatesForDestination,
    /// No rate's validity contains the check-in date.
    NoneCoverCheckIn,
    /// Every rate covering the dates needs a longer stay (the shortest minimum given).
    TooShort { min_nights: u32 },
    /// Every remaining rate limits a room to fewer people than the party needs.
    TooManyPeople { largest_room: u32 },
}

impl Shortfall {
    /// A sentence for the consultant.
    pub fn sentence(&self, trip: &Trip, stay: &Stay) -> String {
        let destination = &trip.destination;
        match self {
            Self::NoRatesForDestination => format!("No rates are loaded for {destination}."),
            Self::NoneCoverCheckIn => format!(
                "No rate for {destination} covers a check-in on {}.",
                stay.check_in
            ),
            Self::TooShort { min_nights } => format!(
                "Rates for {destination} on these dates need at least {min_nights} nights; \
                 this trip is {}.",
                nights(stay.nights)
            ),
            Self::TooManyPeople { largest_room } => format!(
                "No room for {destination} takes {} people (the largest takes {largest_room}); \
                 try more rooms.",
                stay.people_per_room
            ),
        }
    }
}

/// `1 night`, `7 nights`.
pub fn nights(n: u32) -> String {
    if n == 1 {
        "1 night".to_owned()
    } else {
        format!("{n} nights")
    }
}

/// The rates that can apply to the stay, in their original order.
pub fn candidates<'a>(rates: &'a [Rate], stay: &Stay) -> Result<Vec<&'a Rate>, Shortfall> {
    let at_destination: Vec<&Rate> = rates
        .iter()
        .filter(|r| r.destination.trim().to_lowercase() == stay.destination)
        .collect();
    if at_destination.is_empty() {
        return Err(Shortfall::NoRatesForDestination);
    }
    // ISO dates compare correctly as strings.
    let dated: Vec<&Rate> = at_destination
        .into_iter()
        .filter(|r| {
            r.valid_from.as_str() <= stay.check_in.as_str()
                && stay.check_in.as_str() <= r.valid_to.as_str()
        })
        .collect();
    if dated.is_empty() {
        return Err(Shortfall::NoneCoverCheckIn);
    }
    let min_nights = dated.iter().map(|r| r.min_nights).min().unwrap_or(0);
    let long_enough: Vec<&Rate> = dated
        .into_iter()
        .filter(|r| r.min_nights <= stay.nights)
        .collect();
    if long_enough.is_empty() {
        return Err(Shortfall::TooShort { min_nights });
    }
    let largest_room = long_enough
        .iter()
        .filter_map(|r| r.max_occupancy)
        .max()
        .unwrap_or(0);
    let fitting: Vec<&Rate> = long_enough
        .into_iter()
        .filter(|r| {
            r.max_occupancy
                .is_none_or(|max| stay.people_per_room <= max)
        })
        .collect();
    if fitting.is_empty() {
        return Err(Shortfall::TooManyPeople { largest_room });
    }
    Ok(fitting)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{rate, trip};

    fn ids(rates: &[&Rate]) -> Vec<String> {
        rates.iter().map(|r| r.id.clone()).collect()
    }

    #[test]
    fn the_last_night_is_the_night_before_check_out() {
        let stay = Stay::of(&trip("Zanzibar", "2027-03-28", 4)).unwrap();
        assert_eq!(stay.last_night, "2027-03-31");
    }

    #[test]
    fn destinations_match_without_regard_to_case() {
        let rates = vec![
            rate("A", "Coral", "zanzibar"),
            rate("B", "Other", "Mauritius"),
        ];
        let stay = Stay::of(&trip("Zanzibar", "2027-05-01", 7)).unwrap();
        assert_eq!(ids(&candidates(&rates, &stay).unwrap()), ["A"]);
    }

    #[test]
    fn a_check_in_on_either_edge_of_the_validity_counts() {
        let mut r = rate("A", "Coral", "Zanzibar");
        r.valid_from = "2027-04-01".into();
        r.valid_to = "2027-10-31".into();
        let rates = vec![r];
        for day in ["2027-04-01", "2027-10-31"] {
            let stay = Stay::of(&trip("Zanzibar", day, 2)).unwrap();
            assert_eq!(candidates(&rates, &stay).unwrap().len(), 1, "{day}");
        }
        for day in ["2027-03-31", "2027-11-01"] {
            let stay = Stay::of(&trip("Zanzibar", day, 2)).unwrap();
            assert_eq!(
                candidates(&rates, &stay).unwrap_err(),
                Shortfall::NoneCoverCheckIn,
                "{day}"
            );
        }
    }

    #[test]
    fn a_stay_ending_on_the_last_valid_night_is_fully_inside() {
        let mut r = rate("A", "Coral", "Zanzibar");
        r.valid_to = "2027-03-31".into();
        // Nights 28, 29, 30, 31; check-out on 1 April.
        let stay = Stay::of(&trip("Zanzibar", "2027-03-28", 4)).unwrap();
        assert!(stay.fully_inside(&r));
        let longer = Stay::of(&trip("Zanzibar", "2027-03-28", 5)).unwrap();
        assert!(!longer.fully_inside(&r));
    }

    #[test]
    fn rates_needing_more_nights_than_the_trip_are_dropped() {
        let mut long = rate("A", "Coral", "Zanzibar");
        long.min_nights = 3;
        let mut short = rate("B", "Baraka", "Zanzibar");
        short.min_nights = 2;
        let rates = vec![long, short];
        let two = Stay::of(&trip("Zanzibar", "2027-05-01", 2)).unwrap();
        assert_eq!(ids(&candidates(&rates, &two).unwrap()), ["B"]);
        let three = Stay::of(&trip("Zanzibar", "2027-05-01", 3)).unwrap();
        assert_eq!(candidates(&rates, &three).unwrap().len(), 2);
    }

    #[test]
    fn a_trip_shorter_than_every_minimum_says_how_long_it_must_be() {
        let mut r = rate("A", "Coral", "Zanzibar");
        r.min_nights = 3;
        let t = trip("Zanzibar", "2027-05-01", 1);
        let stay = Stay::of(&t).unwrap();
        let shortfall = candidates(std::slice::from_ref(&r), &stay).unwrap_err();
        assert_eq!(shortfall, Shortfall::TooShort { min_nights: 3 });
        assert!(shortfall.sentence(&t, &stay).contains("at least 3 nights"));
    }

    #[test]
    fn occupancy_counts_everyone_spread_over_the_rooms() {
        let mut small = rate("A", "Coral", "Zanzibar");
        small.max_occupancy = Some(2);
        let mut family = rate("B", "Baraka", "Zanzibar");
        family.max_occupancy = Some(4);
        let open = rate("C", "Stone Town", "Zanzibar");
        let rates = vec![small, family, open];

        let mut t = trip("Zanzibar", "2027-05-01", 7);
        t.party.children_ages = vec![8];
        t.party.infants = 1;
        let stay = Stay::of(&t).unwrap();
        assert_eq!(stay.people_per_room, 4);
        assert_eq!(ids(&candidates(&rates, &stay).unwrap()), ["B", "C"]);

        t.rooms = 2;
        let stay = Stay::of(&t).unwrap();
        assert_eq!(stay.people_per_room, 2);
        assert_eq!(candidates(&rates, &stay).unwrap().len(), 3);
    }

    #[test]
    fn a_party_too_big_for_every_room_is_a_shortfall() {
        let mut r = rate("A", "Coral", "Zanzibar");
        r.max_occupancy = Some(2);
        let mut t = trip("Zanzibar", "2027-05-01", 7);
        t.party.adults = 3;
        let stay = Stay::of(&t).unwrap();
        let shortfall = candidates(std::slice::from_ref(&r), &stay).unwrap_err();
        assert_eq!(shortfall, Shortfall::TooManyPeople { largest_room: 2 });
    }

    #[test]
    fn a_bad_check_in_date_is_invalid_input() {
        let t = trip("Zanzibar", "next week", 7);
        assert_eq!(Stay::of(&t).unwrap_err().code, "invalid-input");
    }
}
