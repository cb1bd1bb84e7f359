//! Pricing one quote line: net cost for the party, the accommodation markup and conversion
//! into the quote currency, each kept as a component.

use caravan_sdk::{
    FxRate, LineCost, Money, Party, PluginError, PriceComponent, PricedLine, QuoteLine, ServiceType,
};

use crate::money::{BPS, Conversion, Part, div_round, mul, percent, sum, to_i64};
use crate::stay;

/// A line priced in the quote currency, before it becomes a [`PricedLine`].
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub service: ServiceType,
    pub description: String,
    pub nights: u32,
    pub rate_id: Option<String>,
    /// Net cost in the supplier's currency.
    pub net: Money,
    /// In the quote currency; they add up to the selling price.
    pub parts: Vec<Part>,
    /// The adults' share of the selling price, in the quote currency.
    pub adults: i128,
}

impl Draft {
    /// The selling price.
    pub fn sell(&self) -> Result<i128, PluginError> {
        sum(&self.parts)
    }

    /// The finished line, every amount in `currency`.
    pub fn finish(self, currency: &str) -> Result<PricedLine, PluginError> {
        let sell = to_i64(self.sell()?)?;
        let components = self
            .parts
            .into_iter()
            .map(|p| {
                Ok(PriceComponent {
                    label: p.label,
                    amount: Money::new(to_i64(p.amount)?, currency),
                })
            })
            .collect::<Result<Vec<_>, PluginError>>()?;
        Ok(PricedLine {
            service: self.service,
            description: self.description,
            nights: self.nights,
            rate_id: self.rate_id,
            net: self.net,
            sell: Money::new(sell, currency),
            components,
        })
    }
}

/// Prices `line` for `party` in `currency`; accommodation lines get `markup_bps` on top of
/// their net cost, every other line sells at net.
pub fn price(
    line: QuoteLine,
    party: &Party,
    currency: &str,
    fx: &[FxRate],
    markup_bps: u32,
) -> Result<Draft, PluginError> {
    let net = match &line.cost {
        LineCost::Nightly(prices) => stay::nightly(prices, party, line.nights)?,
        LineCost::Fixed(cost) => stay::fixed(cost, party)?,
    };
    let net_total = sum(&net.parts)?;
    let mut parts = net.parts;
    if line.service == ServiceType::Accommodation && markup_bps > 0 {
        let markup = div_round(mul(net_total, markup_bps.into())?, BPS);
        parts.push(Part::new(format!("Markup {}", percent(markup_bps)), markup));
    }
    let parts = Conversion::between(&net.currency, currency, fx)?.apply_all(parts)?;
    let sell = sum(&parts)?;
    let adults = if net_total > 0 {
        div_round(mul(sell, net.adults)?, net_total)
    } else {
        0
    };
    Ok(Draft {
        service: line.service,
        description: line.description,
        nights: line.nights,
        rate_id: line.rate_id,
        net: Money::new(to_i64(net_total)?, net.currency),
        parts,
        adults,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use caravan_sdk::{FixedCost, NightlyRates};

    fn usd(major: i64) -> Money {
        Money::new(major * 100, "USD")
    }

    fn camp(nights: u32) -> QuoteLine {
        QuoteLine {
            service: ServiceType::Accommodation,
            description: "Acacia Ridge Camp, Luxury Tent (FB)".into(),
            nights,
            cost: LineCost::Nightly(NightlyRates {
                per_person_sharing: usd(450),
                single: Some(usd(600)),
                child: Some(usd(225)),
                infant: None,
                child_min_age: 2,
                child_max_age: 11,
            }),
            rate_id: Some("RATE-MARA-01".into()),
        }
    }

    fn flight() -> QuoteLine {
        QuoteLine {
            service: ServiceType::Flight,
            description: "Wilson Airport to Mara airstrip, return".into(),
            nights: 0,
            cost: LineCost::Fixed(FixedCost {
                unit: usd(410),
                quantity: 3,
            }),
            rate_id: None,
        }
    }

    fn family() -> Party {
        Party {
            adults: 2,
            children_ages: vec![8],
            children_without_age: 0,
            infants: 0,
        }
    }

    fn usd_zar() -> Vec<FxRate> {
        vec![FxRate {
            source: "USD".into(),
            target: "ZAR".into(),
            rate_micros: 18_250_000,
        }]
    }

    fn components(line: &PricedLine) -> Vec<(&str, i64)> {
        line.components
            .iter()
            .map(|c| (c.label.as_str(), c.amount.amount))
            .collect()
    }

    #[test]
    fn accommodation_gets_the_markup_and_is_converted() {
        let draft = price(camp(7), &family(), "ZAR", &usd_zar(), 1500).unwrap();
        let adults = draft.adults;
        let line = draft.finish("ZAR").unwrap();
        assert_eq!(line.net, Money::new(787_500, "USD"));
        // USD 6 300 + 1 575 net, 15 % markup USD 1 181.25, all × 18.25.
        assert_eq!(
            components(&line),
            [
                ("2 adults sharing × 7 nights", 11_497_500),
                ("1 child aged 8 × 7 nights", 2_874_375),
                ("Markup 15%", 2_155_781),
            ]
        );
        assert_eq!(line.sell, Money::new(16_527_656, "ZAR"));
        // The adults paid 630 000 of the 787 500 net.
        assert_eq!(adults, 13_222_125);
        assert_eq!(line.rate_id.as_deref(), Some("RATE-MARA-01"));
    }

    #[test]
    fn lines_other_than_accommodation_sell_at_net() {
        let line = price(flight(), &family(), "USD", &[], 1500)
            .unwrap()
            .finish("USD")
            .unwrap();
        assert_eq!(components(&line), [("3 × USD 410.00", 123_000)]);
        assert_eq!(line.sell, line.net);
    }

    #[test]
    fn a_line_in_a_currency_without_a_rate_is_missing_fx() {
        let err = price(camp(7), &family(), "EUR", &usd_zar(), 0).unwrap_err();
        assert_eq!(err.code, "missing-fx");
    }

    #[test]
    fn awkward_amounts_and_rates_still_add_up() {
        let fx = vec![FxRate {
            source: "USD".into(),
            target: "JPY".into(),
            rate_micros: 151_234_567,
        }];
        for cents in [1, 3, 7, 99, 12_345, 98_765] {
            let mut line = camp(3);
            if let LineCost::Nightly(prices) = &mut line.cost {
                prices.per_person_sharing.amount = cents;
            }
            let priced = price(line, &family(), "JPY", &fx, 1234)
                .unwrap()
                .finish("JPY")
                .unwrap();
            let parts: i64 = priced.components.iter().map(|c| c.amount.amount).sum();
            assert_eq!(parts, priced.sell.amount);
            assert!(priced.components.iter().all(|c| c.amount.amount >= 0));
        }
    }
}
