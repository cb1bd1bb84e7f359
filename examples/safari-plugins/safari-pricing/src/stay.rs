//! Net cost of a quote line for the travelling party, in the supplier's currency: who pays
//! the sharing, single, child or infant rate, and for how many nights.

use caravan_sdk::{FixedCost, Money, NightlyRates, Party, PluginError};

use crate::money::{self, Part, add, div_round, mul};

/// A line's net cost, broken down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Net {
    /// Upper-case supplier currency.
    pub currency: String,
    /// Minor units of `currency`; they add up to the net cost.
    pub parts: Vec<Part>,
    /// The adults' share (sharing or single), for the price per person.
    pub adults: i128,
}

/// Nightly rates over `nights` for the party, as the built-in pricing does it.
///
/// A lone adult (no children) pays the single rate, or the sharing rate when there is none;
/// otherwise each adult pays the sharing rate. Children within the rate's child ages pay
/// the child rate, older ones the sharing rate, younger ones count as infants. Children
/// without a stated age are left out (the quote carries a warning).
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
    let currency = money::code(&prices.per_person_sharing.currency).ok_or_else(|| {
        invalid(format!(
            "The rate currency `{}` is not an ISO 4217 code.",
            prices.per_person_sharing.currency
        ))
    })?;
    let sharing = amount(&prices.per_person_sharing, &currency)?;
    let single = optional(prices.single.as_ref(), &currency)?;
    let child = optional(prices.child.as_ref(), &currency)?;
    let infant = optional(prices.infant.as_ref(), &currency)?;
    let stay = |nightly: i128, people: usize| mul(mul(nightly, people as i128)?, nights.into());
    let over = over_nights(nights);

    let (mut older, mut children, mut young) = (Vec::new(), Vec::new(), 0);
    for &age in &party.children_ages {
        if age > prices.child_max_age {
            older.push(age);
        } else if age >= prices.child_min_age {
            children.push(age);
        } else {
            young += 1;
        }
    }

    let mut parts = Vec::new();
    let alone =
        party.adults == 1 && party.children_ages.is_empty() && party.children_without_age == 0;
    if alone {
        let (rate, label) = match single {
            Some(single) => (single, format!("1 adult single{over}")),
            None => (sharing, format!("1 adult at the sharing rate{over}")),
        };
        parts.push(Part::new(label, stay(rate, 1)?));
    } else if party.adults > 0 {
        let adults = party.adults as usize;
        parts.push(Part::new(
            format!("{} sharing{over}", count(adults, "adult", "adults")),
            stay(sharing, adults)?,
        ));
    }
    let adults = parts.first().map_or(0, |p| p.amount);
    if !older.is_empty() {
        parts.push(Part::new(
            format!("{} at the adult rate{over}", aged(&older)),
            stay(sharing, older.len())?,
        ));
    }
    if !children.is_empty() {
        parts.push(match child {
            Some(rate) => Part::new(
                format!("{}{over}", aged(&children)),
                stay(rate, children.len())?,
            ),
            None => Part::new(format!("{} (free)", aged(&children)), 0),
        });
    }
    let infants = party.infants as usize + young;
    if infants > 0 {
        let who = count(infants, "infant", "infants");
        parts.push(match infant {
            Some(rate) => Part::new(format!("{who}{over}"), stay(rate, infants)?),
            None => Part::new(format!("{who} (free)"), 0),
        });
    }
    Ok(Net {
        currency,
        parts,
        adults,
    })
}

/// A fixed cost, unit × quantity. The adults' share is theirs by head among the adults and
/// the children with ages.
pub fn fixed(cost: &FixedCost, party: &Party) -> Result<Net, PluginError> {
    if cost.quantity == 0 {
        return Err(invalid("A fixed line must have a quantity of 1 or more."));
    }
    let currency = money::code(&cost.unit.currency).ok_or_else(|| {
        invalid(format!(
            "The line currency `{}` is not an ISO 4217 code.",
            cost.unit.currency
        ))
    })?;
    let unit = amount(&cost.unit, &currency)?;
    let total = mul(unit, cost.quantity.into())?;
    let heads = add(party.adults.into(), party.children_ages.len() as i128)?;
    let adults = if heads > 0 {
        div_round(mul(total, party.adults.into())?, heads)
    } else {
        0
    };
    let label = format!("{} × {}", cost.quantity, money::format(unit, &currency));
    Ok(Net {
        currency,
        parts: vec![Part::new(label, total)],
        adults,
    })
}

/// ` × 7 nights`.
pub fn over_nights(nights: u32) -> String {
    if nights == 1 {
        " × 1 night".to_owned()
    } else {
        format!(" × {nights} nights")
    }
}

/// `1 adult`, `2 adults`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `1 child aged 8`, `2 children aged 4, 8`.
pub fn aged(ages: &[u32]) -> String {
    let list: Vec<String> = ages.iter().map(u32::to_string).collect();
    format!(
        "{} aged {}",
        count(ages.len(), "child", "children"),
        list.join(", ")
    )
}

fn amount(money: &Money, currency: &str) -> Result<i128, PluginError> {
    if !money.currency.trim().eq_ignore_ascii_case(currency) {
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
    Ok(money.amount.into())
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

    /// A tented camp: USD 450 sharing, 600 single, 225 child (2–11), infants free.
    fn camp() -> NightlyRates {
        NightlyRates {
            per_person_sharing: usd(450),
            single: Some(usd(600)),
            child: Some(usd(225)),
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

    fn parts(net: &Net) -> Vec<(&str, i128)> {
        net.parts
            .iter()
            .map(|p| (p.label.as_str(), p.amount))
            .collect()
    }

    #[test]
    fn two_adults_share_for_every_night() {
        let net = nightly(&camp(), &party(2, &[], 0), 7).unwrap();
        assert_eq!(parts(&net), [("2 adults sharing × 7 nights", 630_000)]);
        assert_eq!(net.adults, 630_000);
        assert_eq!(net.currency, "USD");
    }

    #[test]
    fn a_lone_adult_pays_the_single_supplement_rate() {
        let net = nightly(&camp(), &party(1, &[], 0), 3).unwrap();
        assert_eq!(parts(&net), [("1 adult single × 3 nights", 180_000)]);
    }

    #[test]
    fn a_lone_adult_without_a_single_rate_pays_the_sharing_rate() {
        let mut prices = camp();
        prices.single = None;
        let net = nightly(&prices, &party(1, &[], 0), 1).unwrap();
        assert_eq!(
            parts(&net),
            [("1 adult at the sharing rate × 1 night", 45_000)]
        );
    }

    #[test]
    fn one_adult_with_a_child_shares_rather_than_paying_single() {
        let net = nightly(&camp(), &party(1, &[6], 0), 2).unwrap();
        assert_eq!(
            parts(&net),
            [
                ("1 adult sharing × 2 nights", 90_000),
                ("1 child aged 6 × 2 nights", 45_000)
            ]
        );
    }

    #[test]
    fn children_are_priced_by_age_band() {
        let net = nightly(&camp(), &party(2, &[8, 14, 1], 1), 7).unwrap();
        assert_eq!(
            parts(&net),
            [
                ("2 adults sharing × 7 nights", 630_000),
                ("1 child aged 14 at the adult rate × 7 nights", 315_000),
                ("1 child aged 8 × 7 nights", 157_500),
                ("2 infants (free)", 0),
            ]
        );
        // Older children pay like adults but are not adults for the per-person price.
        assert_eq!(net.adults, 630_000);
    }

    #[test]
    fn infants_pay_the_infant_rate_when_there_is_one() {
        let mut prices = camp();
        prices.infant = Some(usd(20));
        let net = nightly(&prices, &party(2, &[], 1), 7).unwrap();
        assert_eq!(parts(&net)[1], ("1 infant × 7 nights", 14_000));
    }

    #[test]
    fn children_without_ages_are_not_priced() {
        let mut p = party(2, &[], 0);
        p.children_without_age = 2;
        let net = nightly(&camp(), &p, 7).unwrap();
        assert_eq!(parts(&net), [("2 adults sharing × 7 nights", 630_000)]);
    }

    #[test]
    fn zero_nights_mixed_currencies_and_negative_prices_are_invalid_input() {
        assert_eq!(
            nightly(&camp(), &party(2, &[], 0), 0).unwrap_err().code,
            "invalid-input"
        );
        let mut mixed = camp();
        mixed.child = Some(Money::new(100, "EUR"));
        assert_eq!(
            nightly(&mixed, &party(2, &[5], 0), 7).unwrap_err().code,
            "invalid-input"
        );
        let mut negative = camp();
        negative.per_person_sharing.amount = -1;
        assert_eq!(
            nightly(&negative, &party(2, &[], 0), 7).unwrap_err().code,
            "invalid-input"
        );
    }

    #[test]
    fn a_fixed_cost_is_unit_times_quantity_shared_by_head() {
        let cost = FixedCost {
            unit: usd(45),
            quantity: 3,
        };
        let net = fixed(&cost, &party(2, &[8], 0)).unwrap();
        assert_eq!(parts(&net), [("3 × USD 45.00", 13_500)]);
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
