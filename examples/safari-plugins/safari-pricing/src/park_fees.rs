//! Conservation and park fees: per person per night for the trip's destination, priced as
//! their own line (service `fee`, no markup) and converted into the quote currency.

use caravan_sdk::{FxRate, Money, Party, PluginError, ServiceType};

use crate::line::Draft;
use crate::money::{self, Conversion, Part, mul, sum, to_i64};
use crate::settings::ParkFee;
use crate::stay::{aged, count, over_nights};

/// Youngest age that pays the child fee; younger children are infants and free.
const CHILD_MIN_AGE: u32 = 2;

/// The park-fee line for `party` spending `nights` nights in `destination`.
pub fn line(
    fee: &ParkFee,
    destination: &str,
    party: &Party,
    nights: u32,
    currency: &str,
    fx: &[FxRate],
) -> Result<Draft, PluginError> {
    let fee_currency = money::code(&fee.currency).ok_or_else(|| {
        PluginError::new(
            "invalid-config",
            format!(
                "The park fee currency `{}` is not an ISO 4217 code.",
                fee.currency
            ),
        )
    })?;
    let stay =
        |nightly: i64, people: usize| mul(mul(nightly.into(), people as i128)?, nights.into());
    let over = over_nights(nights);

    let (mut older, mut children, mut young) = (Vec::new(), Vec::new(), 0);
    for &age in &party.children_ages {
        if fee.child_max_age.is_some_and(|max| age > max) {
            older.push(age);
        } else if age >= CHILD_MIN_AGE {
            children.push(age);
        } else {
            young += 1;
        }
    }

    let mut parts = Vec::new();
    if party.adults > 0 {
        let adults = party.adults as usize;
        parts.push(Part::new(
            format!("Park fees: {}{over}", count(adults, "adult", "adults")),
            stay(fee.adult, adults)?,
        ));
    }
    if !older.is_empty() {
        parts.push(Part::new(
            format!("Park fees: {} at the adult fee{over}", aged(&older)),
            stay(fee.adult, older.len())?,
        ));
    }
    if !children.is_empty() {
        parts.push(Part::new(
            format!("Park fees: {}{over}", aged(&children)),
            stay(fee.child, children.len())?,
        ));
    }
    let infants = party.infants as usize + young;
    if infants > 0 {
        parts.push(Part::new(
            format!("Park fees: {} (free)", count(infants, "infant", "infants")),
            0,
        ));
    }

    let net = sum(&parts)?;
    let parts = Conversion::between(&fee_currency, currency, fx)?.apply_all(parts)?;
    let adults = if party.adults > 0 { parts[0].amount } else { 0 };
    Ok(Draft {
        service: ServiceType::Fee,
        description: format!("Conservation and park fees, {destination}"),
        nights,
        rate_id: None,
        net: Money::new(to_i64(net)?, fee_currency),
        parts,
        adults,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mara() -> ParkFee {
        ParkFee {
            adult: 8_000,
            child: 4_000,
            currency: "USD".into(),
            child_max_age: None,
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

    fn usd_zar() -> Vec<FxRate> {
        vec![FxRate {
            source: "USD".into(),
            target: "ZAR".into(),
            rate_micros: 18_250_000,
        }]
    }

    fn parts(draft: &Draft) -> Vec<(&str, i128)> {
        draft
            .parts
            .iter()
            .map(|p| (p.label.as_str(), p.amount))
            .collect()
    }

    #[test]
    fn every_traveller_pays_the_fee_for_every_night() {
        let draft = line(&mara(), "Maasai Mara", &party(2, &[8], 0), 7, "USD", &[]).unwrap();
        assert_eq!(
            parts(&draft),
            [
                ("Park fees: 2 adults × 7 nights", 112_000),
                ("Park fees: 1 child aged 8 × 7 nights", 28_000),
            ]
        );
        assert_eq!(draft.net, Money::new(140_000, "USD"));
        assert_eq!(draft.service, ServiceType::Fee);
        assert_eq!(draft.description, "Conservation and park fees, Maasai Mara");
        assert_eq!(draft.adults, 112_000);
    }

    #[test]
    fn fees_are_converted_into_the_quote_currency() {
        let draft = line(
            &mara(),
            "Maasai Mara",
            &party(2, &[8], 0),
            7,
            "ZAR",
            &usd_zar(),
        )
        .unwrap();
        assert_eq!(
            parts(&draft),
            [
                ("Park fees: 2 adults × 7 nights", 2_044_000),
                ("Park fees: 1 child aged 8 × 7 nights", 511_000),
            ]
        );
        // The net stays in the park's currency.
        assert_eq!(draft.net, Money::new(140_000, "USD"));
    }

    #[test]
    fn infants_are_free_and_shown_as_such() {
        let draft = line(&mara(), "Maasai Mara", &party(2, &[1], 1), 3, "USD", &[]).unwrap();
        assert_eq!(
            parts(&draft),
            [
                ("Park fees: 2 adults × 3 nights", 48_000),
                ("Park fees: 2 infants (free)", 0),
            ]
        );
    }

    #[test]
    fn children_above_the_park_child_age_pay_the_adult_fee() {
        let fee = ParkFee {
            child_max_age: Some(11),
            ..mara()
        };
        let draft = line(&fee, "Maasai Mara", &party(1, &[8, 15], 0), 1, "USD", &[]).unwrap();
        assert_eq!(
            parts(&draft),
            [
                ("Park fees: 1 adult × 1 night", 8_000),
                (
                    "Park fees: 1 child aged 15 at the adult fee × 1 night",
                    8_000
                ),
                ("Park fees: 1 child aged 8 × 1 night", 4_000),
            ]
        );
    }

    #[test]
    fn fees_in_a_currency_without_a_rate_are_missing_fx() {
        let err = line(
            &mara(),
            "Maasai Mara",
            &party(2, &[], 0),
            7,
            "EUR",
            &usd_zar(),
        )
        .unwrap_err();
        assert_eq!(err.code, "missing-fx");
    }
}
