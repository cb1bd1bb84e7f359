//! Choosing among the candidate rates: one rate per room, then the best room of each hotel,
//! then the best three hotels.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use caravan_sdk::{Rate, Trip};

use crate::matching::Stay;

/// Options offered at most.
pub const MAX_OPTIONS: usize = 3;

/// A chosen rate and what the ranking found out about it.
#[derive(Debug)]
pub struct Ranked<'a> {
    pub rate: &'a Rate,
    /// The rate's validity covers every night of the stay.
    pub fits: bool,
    pub budget: BudgetCheck,
}

/// How a rate compares with the customer's budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetCheck {
    /// No budget was given.
    NoBudget,
    /// The budget is in another currency, so the rate cannot be compared without fx.
    OtherCurrency,
    Within,
    /// Over the budget: the estimate and the budget in minor units of the rate's currency,
    /// both per person when the budget is.
    Over {
        estimate: i128,
        budget: i128,
        per_person: bool,
    },
}

/// The best rate of up to [`MAX_OPTIONS`] hotels, best first.
pub fn rank<'a>(pool: &[&'a Rate], stay: &Stay, trip: &Trip) -> Vec<Ranked<'a>> {
    let rooms = best_per_room(pool, stay);
    // Totals in different currencies cannot be compared without exchange rates.
    let one_currency = rooms.windows(2).all(|pair| {
        pair[0]
            .prices
            .per_person_sharing
            .currency
            .eq_ignore_ascii_case(&pair[1].prices.per_person_sharing.currency)
    });
    let mut scored: Vec<Scored<'a>> = rooms
        .into_iter()
        .map(|rate| {
            let estimate = estimate(rate, trip);
            Scored {
                ranked: Ranked {
                    rate,
                    fits: stay.fully_inside(rate),
                    budget: budget_check(rate, estimate, trip),
                },
                estimate: if one_currency { estimate } else { 0 },
                hotel: hotel_key(rate),
            }
        })
        .collect();
    scored.sort_by(|a, b| {
        (!a.ranked.fits)
            .cmp(&!b.ranked.fits)
            .then_with(|| a.over_budget().cmp(&b.over_budget()))
            .then_with(|| a.estimate.cmp(&b.estimate))
            .then_with(|| a.hotel.cmp(&b.hotel))
            .then_with(|| tie_break(a.ranked.rate, b.ranked.rate))
    });
    let mut hotels_seen: Vec<String> = Vec::with_capacity(MAX_OPTIONS);
    let mut chosen = Vec::with_capacity(MAX_OPTIONS);
    for candidate in scored {
        if chosen.len() == MAX_OPTIONS {
            break;
        }
        if hotels_seen.contains(&candidate.hotel) {
            continue;
        }
        hotels_seen.push(candidate.hotel);
        chosen.push(candidate.ranked);
    }
    chosen
}

struct Scored<'a> {
    ranked: Ranked<'a>,
    estimate: i128,
    hotel: String,
}

impl Scored<'_> {
    fn over_budget(&self) -> bool {
        matches!(self.ranked.budget, BudgetCheck::Over { .. })
    }
}

fn hotel_key(rate: &Rate) -> String {
    rate.hotel_name.trim().to_lowercase()
}

/// One rate per (hotel, room type, meal plan): the one whose validity fits the stay best.
fn best_per_room<'a>(pool: &[&'a Rate], stay: &Stay) -> Vec<&'a Rate> {
    let mut best: HashMap<(String, String, String), &'a Rate> = HashMap::new();
    for &rate in pool {
        let key = (
            hotel_key(rate),
            rate.room_type.trim().to_lowercase(),
            rate.meal_plan.trim().to_lowercase(),
        );
        match best.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(rate);
            }
            Entry::Occupied(mut slot) => {
                if validity_fit(rate, slot.get(), stay) == Ordering::Less {
                    slot.insert(rate);
                }
            }
        }
    }
    best.into_values().collect()
}

/// `Less` when `a` fits the stay better than `b`: a period holding the whole stay beats a
/// partial one; then the period reaching furthest into the stay; then the latest-starting
/// (most specific) period.
fn validity_fit(a: &Rate, b: &Rate, stay: &Stay) -> Ordering {
    (!stay.fully_inside(a))
        .cmp(&!stay.fully_inside(b))
        .then_with(|| b.valid_to.cmp(&a.valid_to))
        .then_with(|| b.valid_from.cmp(&a.valid_from))
        .then_with(|| tie_break(a, b))
}

/// A stable last resort so the same rates always give the same plan.
fn tie_break(a: &Rate, b: &Rate) -> Ordering {
    a.room_type
        .cmp(&b.room_type)
        .then_with(|| a.meal_plan.cmp(&b.meal_plan))
        .then_with(|| a.id.cmp(&b.id))
}

/// Estimated cost of the stay for the party in minor units of the rate's currency: adults at
/// the sharing rate plus every child at the child rate. Good enough to rank and to compare
/// with a budget; the pricing plugin works out the real price.
pub fn estimate(rate: &Rate, trip: &Trip) -> i128 {
    let prices = &rate.prices;
    let party = &trip.party;
    let children = party.children_ages.len() as i128 + i128::from(party.children_without_age);
    let child = prices.child.as_ref().map_or(0, |m| i128::from(m.amount));
    let per_night =
        i128::from(prices.per_person_sharing.amount) * i128::from(party.adults) + child * children;
    per_night * i128::from(trip.nights)
}

fn budget_check(rate: &Rate, estimate: i128, trip: &Trip) -> BudgetCheck {
    let Some(budget) = &trip.budget else {
        return BudgetCheck::NoBudget;
    };
    if !budget
        .amount
        .currency
        .eq_ignore_ascii_case(&rate.prices.per_person_sharing.currency)
    {
        return BudgetCheck::OtherCurrency;
    }
    // A per-person budget is compared with what one adult sharing pays.
    let estimate = if budget.per_person {
        i128::from(rate.prices.per_person_sharing.amount) * i128::from(trip.nights)
    } else {
        estimate
    };
    let limit = i128::from(budget.amount.amount);
    if estimate <= limit {
        BudgetCheck::Within
    } else {
        BudgetCheck::Over {
            estimate,
            budget: limit,
            per_person: budget.per_person,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{rate, trip, usd};
    use caravan_sdk::{Budget, Money};

    fn hotels(ranked: &[Ranked]) -> Vec<String> {
        ranked.iter().map(|r| r.rate.hotel_name.clone()).collect()
    }

    fn priced(id: &str, hotel: &str, sharing_usd: i64) -> Rate {
        let mut r = rate(id, hotel, "Zanzibar");
        r.prices.per_person_sharing = usd(sharing_usd);
        r
    }

    #[test]
    fn cheaper_hotels_rank_first_within_one_currency() {
        let rates = [
            priced("A", "Coral Cove Resort", 480),
            priced("B", "Baraka Beach Lodge", 253),
            priced("C", "Stone Town Courtyard Inn", 125),
        ];
        let pool: Vec<&Rate> = rates.iter().collect();
        let t = trip("Zanzibar", "2027-05-01", 7);
        let stay = Stay::of(&t).unwrap();
        assert_eq!(
            hotels(&rank(&pool, &stay, &t)),
            [
                "Stone Town Courtyard Inn",
                "Baraka Beach Lodge",
                "Coral Cove Resort"
            ]
        );
    }

    #[test]
    fn a_stay_fully_inside_the_validity_beats_a_cheaper_partial_one() {
        let mut partial = priced("A", "Stone Town Courtyard Inn", 100);
        partial.valid_to = "2027-05-03".into();
        let rates = [partial, priced("B", "Coral Cove Resort", 480)];
        let pool: Vec<&Rate> = rates.iter().collect();
        let t = trip("Zanzibar", "2027-05-01", 7);
        let stay = Stay::of(&t).unwrap();
        let ranked = rank(&pool, &stay, &t);
        assert_eq!(
            hotels(&ranked),
            ["Coral Cove Resort", "Stone Town Courtyard Inn"]
        );
        assert!(ranked[0].fits);
        assert!(!ranked[1].fits);
    }

    #[test]
    fn one_rate_per_room_keeps_the_period_that_holds_the_whole_stay() {
        let mut season = priced("SEASON", "Coral Cove Resort", 400);
        season.valid_from = "2027-04-01".into();
        season.valid_to = "2027-05-03".into();
        let mut year = priced("YEAR", "Coral Cove Resort", 480);
        year.valid_from = "2027-01-01".into();
        year.valid_to = "2027-12-31".into();
        let rates = [season, year];
        let pool: Vec<&Rate> = rates.iter().collect();
        let t = trip("Zanzibar", "2027-05-01", 7);
        let stay = Stay::of(&t).unwrap();
        let ranked = rank(&pool, &stay, &t);
        assert_eq!(ranked.len(), 1);
        assert_eq!(ranked[0].rate.id, "YEAR");
    }

    #[test]
    fn each_hotel_appears_once_with_its_best_room() {
        let mut suite = priced("SUITE", "Coral Cove Resort", 480);
        suite.room_type = "Deluxe Suite".into();
        let mut double = priced("DOUBLE", "Coral Cove Resort", 300);
        double.room_type = "Garden Double".into();
        let rates = [suite, double, priced("B", "Baraka Beach Lodge", 253)];
        let pool: Vec<&Rate> = rates.iter().collect();
        let t = trip("Zanzibar", "2027-05-01", 7);
        let stay = Stay::of(&t).unwrap();
        let ranked = rank(&pool, &stay, &t);
        let ids: Vec<&str> = ranked.iter().map(|r| r.rate.id.as_str()).collect();
        assert_eq!(ids, ["B", "DOUBLE"]);
    }

    #[test]
    fn at_most_three_hotels_are_chosen() {
        let rates: Vec<Rate> = (0..6)
            .map(|i| priced(&format!("R{i}"), &format!("Hotel {i}"), 100 + i))
            .collect();
        let pool: Vec<&Rate> = rates.iter().collect();
        let t = trip("Zanzibar", "2027-05-01", 7);
        let stay = Stay::of(&t).unwrap();
        assert_eq!(
            hotels(&rank(&pool, &stay, &t)),
            ["Hotel 0", "Hotel 1", "Hotel 2"]
        );
    }

    #[test]
    fn options_within_the_budget_come_before_those_over_it() {
        let rates = [
            priced("A", "Coral Cove Resort", 480),
            priced("B", "Baraka Beach Lodge", 253),
        ];
        let pool: Vec<&Rate> = rates.iter().collect();
        let mut t = trip("Zanzibar", "2027-05-01", 7);
        // 2 adults × USD 253 × 7 = USD 3 542; Coral Cove is USD 6 720.
        t.budget = Some(Budget {
            amount: Money::new(400_000, "USD"),
            per_person: false,
        });
        let stay = Stay::of(&t).unwrap();
        let ranked = rank(&pool, &stay, &t);
        assert_eq!(hotels(&ranked), ["Baraka Beach Lodge", "Coral Cove Resort"]);
        assert_eq!(ranked[0].budget, BudgetCheck::Within);
        assert_eq!(
            ranked[1].budget,
            BudgetCheck::Over {
                estimate: 672_000,
                budget: 400_000,
                per_person: false
            }
        );
    }

    #[test]
    fn a_per_person_budget_is_compared_with_one_adult_sharing() {
        let rates = [priced("A", "Coral Cove Resort", 480)];
        let pool: Vec<&Rate> = rates.iter().collect();
        let mut t = trip("Zanzibar", "2027-05-01", 7);
        t.budget = Some(Budget {
            amount: Money::new(336_000, "USD"),
            per_person: true,
        });
        let stay = Stay::of(&t).unwrap();
        assert_eq!(rank(&pool, &stay, &t)[0].budget, BudgetCheck::Within);
    }

    #[test]
    fn a_budget_in_another_currency_is_not_compared() {
        let rates = [priced("A", "Coral Cove Resort", 480)];
        let pool: Vec<&Rate> = rates.iter().collect();
        let mut t = trip("Zanzibar", "2027-05-01", 7);
        t.budget = Some(Budget {
            amount: Money::new(100, "ZAR"),
            per_person: false,
        });
        let stay = Stay::of(&t).unwrap();
        assert_eq!(rank(&pool, &stay, &t)[0].budget, BudgetCheck::OtherCurrency);
    }

    #[test]
    fn mixed_currencies_rank_by_fit_then_name() {
        let mut euro = priced("A", "Blue Bay Villas", 9_000);
        euro.prices.per_person_sharing.currency = "EUR".into();
        let rates = [
            priced("B", "Azure Atoll", 1),
            euro,
            priced("C", "Coral Cove", 5),
        ];
        let pool: Vec<&Rate> = rates.iter().collect();
        let t = trip("Zanzibar", "2027-05-01", 7);
        let stay = Stay::of(&t).unwrap();
        assert_eq!(
            hotels(&rank(&pool, &stay, &t)),
            ["Azure Atoll", "Blue Bay Villas", "Coral Cove"]
        );
    }

    #[test]
    fn the_estimate_prices_adults_sharing_and_children_at_the_child_rate() {
        let mut r = priced("A", "Coral Cove Resort", 480);
        r.prices.child = Some(usd(240));
        let mut t = trip("Zanzibar", "2027-05-01", 7);
        t.party.children_ages = vec![6];
        t.party.children_without_age = 1;
        assert_eq!(estimate(&r, &t), (2 * 48_000 + 2 * 24_000) * 7);
    }
}
