//! Net cost of a line for the travelling party, in the supplier's currency: who pays the
//! sharing, single, child or infant rate, and for how many nights.

use caravan_sdk::{FixedCost, Money, NightlyRates, Party, PluginError};

use crate::arith::{add, mul};
use crate::currency;
use crate::label::{self, count};
use crate::line::Part;

/// A line's net cost, broken down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Net {
    /// Upper-case supplier currency.
    pub currency: String,
    /// Amounts in minor units of `currency`; they add up to the net cost.
    pub parts: Vec<Part>,
    /// The share paid by the adults (sharing or single), for the per-person price.
    pub adults: i128,
}

impl Net {
    /// The net cost.
    pub fn total(&self) -> Result<i128, PluginError> {
        self.parts.iter().try_fold(0, |sum, p| add(sum, p.amount))
    }
}

/// Nightly rates over `nights` for the party.
///
/// One adult alone pays the single rate; otherwise adults pay the sharing rate each.
/// Children within the rate's child ages pay the child rate, older children the sharing
/// rate, younger ones count as infants. Children without ages are left out.
pub fn nightly(prices: &NightlyRates, party: &Party, nights: u32) -> Result<Net, PluginError> {
    if nights == 0 {
        return Err(invalid("A nightly line must cover at least one night."));
    }
    if prices.child_min_age > prices.child_max_age {
        return Err(invalid(format!(
            "The rate's child ages {}–{} are the wrong way round.",
            prices.child_min_age, prices.child_max_age
        )));
    }
    let currency = currency::code(&prices.per_person_sharing.currency, "rate")?;
    let sharing = amount(&prices.per_person_sharing, &currency)?;
    let single = optional(prices.single.as_ref(), &currency)?;
    let child = optional(prices.child.as_ref(), &currency)?;
    let infant = optional(prices.infant.as_ref(), &currency)?;
    let per_stay = |nightly: i128, people: usize| -> Result<i128, PluginError> {
        mul(mul(nightly, people as i128)?, i128::from(nights))
    };

    let mut older = Vec::new();
    let mut children = Vec::new();
    let mut infants_by_age = 0_usize;
    for &age in &party.children_ages {
        if age > prices.child_max_age {
            older.push(age);
        } else if age >= prices.child_min_age {
            children.push(age);
        } else {
            infants_by_age += 1;
        }
    }

    let mut parts = Vec::new();
    let alone =
        party.adults == 1 && party.children_ages.is_empty() && party.children_without_age == 0;
    let adults_amount = if alone {
        let (nightly, who) = match single {
            Some(single) => (single, "1 adult single"),
            None => (sharing, "1 adult at the sharing rate"),
        };
        let amount = per_stay(nightly, 1)?;
        parts.push(Part::new(over_nights(who.to_owned(), nights), amount));
        amount
    } else if party.adults > 0 {
        let adults = party.adults as usize;
        let amount = per_stay(sharing, adults)?;
        let mut who = String::with_capacity(40);
        count(&mut who, adults, "adult", "adults");
        who.push_str(" sharing");
        parts.push(Part::new(over_nights(who, nights), amount));
        amount
    } else {
        0
    };
    if !older.is_empty() {
        let mut who = aged(&older);
        who.push_str(" at the adult rate");
        parts.push(Part::new(
            over_nights(who, nights),
            per_stay(sharing, older.len())?,
        ));
    }
    if !children.is_empty() {
        parts.push(priced_or_free(
            aged(&children),
            child,
            children.len(),
            nights,
            per_stay,
        )?);
    }
    let infants = party.infants as usize + infants_by_age;
    if infants > 0 {
        let mut who = String::with_capacity(40);
        count(&mut who, infants, "infant", "infants");
        parts.push(priced_or_free(who, infant, infants, nights, per_stay)?);
    }
    Ok(Net {
        currency,
        parts,
        adults: adults_amount,
    })
}

/// A fixed cost: unit × quantity. The adults' share is theirs by head among the adults
/// and children with ages (infants travel free on such services).
pub fn fixed(cost: &FixedCost, party: &Party) -> Result<Net, PluginError> {
    if cost.quantity == 0 {
        return Err(invalid("A fixed line must have a quantity of 1 or more."));
    }
    let currency = currency::code(&cost.unit.currency, "line")?;
    let unit = amount(&cost.unit, &currency)?;
    let total = mul(unit, i128::from(cost.quantity))?;
    let heads = i128::from(party.adults) + party.children_ages.len() as i128;
    let adults = if heads > 0 {
        crate::arith::div_round(mul(total, i128::from(party.adults))?, heads)
    } else {
        0
    };
    let mut label = String::with_capacity(24);
    label::number(&mut label, u64::from(cost.quantity));
    label.push_str(" × ");
    currency::write(&mut label, cost.unit.amount, &currency);
    Ok(Net {
        currency,
        parts: vec![Part::new(label, total)],
        adults,
    })
}

fn priced_or_free(
    mut who: String,
    nightly: Option<i128>,
    people: usize,
    nights: u32,
    per_stay: impl Fn(i128, usize) -> Result<i128, PluginError>,
) -> Result<Part, PluginError> {
    Ok(match nightly {
        Some(rate) => Part::new(over_nights(who, nights), per_stay(rate, people)?),
        None => {
            who.push_str(" (free)");
            Part::new(who, 0)
        }
    })
}

/// `label` followed by ` × 7 nights`.
fn over_nights(mut label: String, nights: u32) -> String {
    label.push_str(" × ");
    count(&mut label, nights as usize, "night", "nights");
    label
}

/// `1 child aged 8`, `2 children aged 4, 8`.
fn aged(ages: &[u32]) -> String {
    let mut label = String::with_capacity(48);
    count(&mut label, ages.len(), "child", "children");
    label.push_str(" aged ");
    for (i, &age) in ages.iter().enumerate() {
        if i > 0 {
            label.push_str(", ");
        }
        label::number(&mut label, u64::from(age));
    }
    label
}

fn amount(money: &Money, currency: &str) -> Result<i128, PluginError> {
    if !currency::same(&money.currency, currency) {
        return Err(invalid(format!(
            "A rate mixes currencies ({} and {currency}).",
            money.currency
        )));
    }
    if money.amount < 0 {
        return Err(invalid(format!(
            "A rate has a negative price ({} {}).",
            money.currency, money.amount
        )));
    }
    Ok(i128::from(money.amount))
}

fn optional(money: Option<&Money>, currency: &str) -> Result<Option<i128>, PluginError> {
    money.map(|m| amount(m, currency)).transpose()
}

fn invalid(message: impl Into<String>) -> PluginError {
    PluginError::new("invalid-input", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(major: i64) -> Money {
        Money::new(major * 100, "USD")
    }

    /// Coral Cove Resort, winter: USD 423 sharing, 677 single, 212 child (2–11), infants free.
    fn coral() -> NightlyRates {
        NightlyRates {
            per_person_sharing: usd(423),
            single: Some(usd(677)),
            child: Some(usd(212)),
            infant: None,
            child_min_age: 2,
            child_max_age: 11,
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

    fn labels_and_amounts(net: &Net) -> Vec<(&str, i128)> {
        net.parts
            .iter()
            .map(|p| (p.label.as_str(), p.amount))
            .collect()
    }

    #[test]
    fn two_adults_share_for_every_night() {
        let net = nightly(&coral(), &party(2, &[], 0), 7).unwrap();
        assert_eq!(net.currency, "USD");
        assert_eq!(
            labels_and_amounts(&net),
            [("2 adults sharing × 7 nights", 592_200)]
        );
        assert_eq!(net.adults, 592_200);
        assert_eq!(net.total().unwrap(), 592_200);
    }

    #[test]
    fn a_single_traveller_pays_the_single_rate() {
        let net = nightly(&coral(), &party(1, &[], 0), 3).unwrap();
        assert_eq!(
            labels_and_amounts(&net),
            [("1 adult single × 3 nights", 203_100)]
        );
    }

    #[test]
    fn a_single_traveller_without_a_single_rate_pays_the_sharing_rate() {
        let mut prices = coral();
        prices.single = None;
        let net = nightly(&prices, &party(1, &[], 0), 1).unwrap();
        assert_eq!(
            labels_and_amounts(&net),
            [("1 adult at the sharing rate × 1 night", 42_300)]
        );
    }

    #[test]
    fn one_adult_with_a_child_shares() {
        let net = nightly(&coral(), &party(1, &[6], 0), 2).unwrap();
        assert_eq!(
            labels_and_amounts(&net),
            [
                ("1 adult sharing × 2 nights", 84_600),
                ("1 child aged 6 × 2 nights", 42_400)
            ]
        );
    }

    #[test]
    fn children_within_the_child_ages_pay_the_child_rate() {
        let net = nightly(&coral(), &party(2, &[2, 11], 0), 7).unwrap();
        assert_eq!(net.parts[1].label, "2 children aged 2, 11 × 7 nights");
        assert_eq!(net.parts[1].amount, 2 * 21_200 * 7);
        assert_eq!(net.adults, 592_200);
    }

    #[test]
    fn children_above_the_child_ages_pay_the_adult_sharing_rate() {
        let net = nightly(&coral(), &party(2, &[12, 15], 0), 7).unwrap();
        assert_eq!(
            labels_and_amounts(&net)[1],
            (
                "2 children aged 12, 15 at the adult rate × 7 nights",
                2 * 42_300 * 7
            )
        );
        // They are not adults for the per-person price.
        assert_eq!(net.adults, 592_200);
    }

    #[test]
    fn children_below_the_child_ages_are_infants() {
        let mut prices = coral();
        prices.child_min_age = 3;
        prices.infant = Some(usd(20));
        let net = nightly(&prices, &party(2, &[2], 1), 7).unwrap();
        assert_eq!(
            labels_and_amounts(&net)[1],
            ("2 infants × 7 nights", 2 * 2_000 * 7)
        );
    }

    #[test]
    fn children_and_infants_without_a_rate_stay_free() {
        let mut prices = coral();
        prices.child = None;
        let net = nightly(&prices, &party(2, &[5], 1), 7).unwrap();
        assert_eq!(
            labels_and_amounts(&net)[1..],
            [("1 child aged 5 (free)", 0), ("1 infant (free)", 0)]
        );
        assert_eq!(net.total().unwrap(), 592_200);
    }

    #[test]
    fn children_without_ages_are_not_priced() {
        let mut p = party(2, &[], 0);
        p.children_without_age = 2;
        let net = nightly(&coral(), &p, 7).unwrap();
        assert_eq!(net.total().unwrap(), 592_200);
    }

    #[test]
    fn zero_nights_is_invalid_input() {
        assert_eq!(
            nightly(&coral(), &party(2, &[], 0), 0).unwrap_err().code,
            "invalid-input"
        );
    }

    #[test]
    fn a_rate_mixing_currencies_or_with_negative_prices_is_invalid_input() {
        let mut mixed = coral();
        mixed.child = Some(Money::new(100, "EUR"));
        assert_eq!(
            nightly(&mixed, &party(2, &[5], 0), 7).unwrap_err().code,
            "invalid-input"
        );
        let mut negative = coral();
        negative.per_person_sharing.amount = -1;
        assert_eq!(
            nightly(&negative, &party(2, &[], 0), 7).unwrap_err().code,
            "invalid-input"
        );
    }

    #[test]
    fn huge_prices_are_an_error_not_an_overflow() {
        let mut prices = coral();
        prices.per_person_sharing.amount = i64::MAX;
        let net = nightly(&prices, &party(50, &[], 0), 365).unwrap();
        assert_eq!(net.total().unwrap(), i128::from(i64::MAX) * 50 * 365);
    }

    #[test]
    fn a_fixed_cost_is_unit_times_quantity() {
        let cost = FixedCost {
            unit: usd(45),
            quantity: 3,
        };
        let net = fixed(&cost, &party(2, &[8], 0)).unwrap();
        assert_eq!(labels_and_amounts(&net), [("3 × USD 45.00", 13_500)]);
        assert_eq!(net.adults, 9_000);
    }

    #[test]
    fn a_fixed_cost_of_zero_units_is_invalid_input() {
        let cost = FixedCost {
            unit: usd(45),
            quantity: 0,
        };
        assert_eq!(
            fixed(&cost, &party(2, &[], 0)).unwrap_err().code,
            "invalid-input"
        );
    }
}
