//! Pricing one quote line: net cost for the party, the service's markup, conversion into
//! the quote currency and the currency buffer, each kept as a component.

use caravan_sdk::{
    FxRate, LineCost, Money, Party, PluginError, PriceComponent, PricedLine, QuoteLine,
};

use crate::arith::{add, div_round, mul, to_i64};
use crate::fx::Conversion;
use crate::markup::write_percent;
use crate::party;
use crate::settings::Settings;

/// Basis points in one.
const BPS: i128 = 10_000;

/// One component of a price, in minor units; `i128` until the line is finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub label: String,
    pub amount: i128,
}

impl Part {
    pub fn new(label: impl Into<String>, amount: i128) -> Self {
        Self {
            label: label.into(),
            amount,
        }
    }
}

/// A line priced in the quote currency, before the option's total is rounded.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    line: QuoteLine,
    net: Money,
    /// In the quote currency; they add up to the line's selling price.
    pub parts: Vec<Part>,
    /// The adults' share of the selling price (sharing or single, not children).
    pub adults: i128,
}

impl Draft {
    /// The selling price so far.
    pub fn sell(&self) -> Result<i128, PluginError> {
        self.parts.iter().try_fold(0, |sum, p| add(sum, p.amount))
    }

    /// The finished line in `currency`.
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
            service: self.line.service,
            description: self.line.description,
            nights: self.line.nights,
            rate_id: self.line.rate_id,
            net: self.net,
            sell: Money::new(sell, currency),
            components,
        })
    }
}

/// Prices `line` for `party` in `quote_currency` (upper-case).
pub fn price(
    line: QuoteLine,
    party: &Party,
    quote_currency: &str,
    fx: &[FxRate],
    settings: &Settings,
) -> Result<Draft, PluginError> {
    let net = match &line.cost {
        LineCost::Nightly(prices) => party::nightly(prices, party, line.nights)?,
        LineCost::Fixed(cost) => party::fixed(cost, party)?,
    };
    let net_total = net.total()?;

    // In the supplier's currency until converted below.
    let mut parts = net.parts;
    let markup_bps = settings.markups.bps(line.service);
    if markup_bps > 0 {
        let markup = div_round(mul(net_total, i128::from(markup_bps))?, BPS);
        let mut label = String::from("Markup ");
        write_percent(&mut label, markup_bps);
        parts.push(Part::new(label, markup));
    }

    let conversion = Conversion::between(&net.currency, quote_currency, fx)?;
    conversion.apply_all(parts.iter_mut().map(|p| &mut p.amount))?;
    if conversion.converts && settings.fx_buffer_bps > 0 {
        let converted = parts.iter().try_fold(0, |sum, p| add(sum, p.amount))?;
        let buffer = div_round(mul(converted, i128::from(settings.fx_buffer_bps))?, BPS);
        let mut label = String::from("Currency buffer ");
        write_percent(&mut label, settings.fx_buffer_bps);
        parts.push(Part::new(label, buffer));
    }

    let mut draft = Draft {
        line,
        net: Money::new(to_i64(net_total)?, net.currency),
        parts,
        adults: 0,
    };
    if net_total > 0 {
        draft.adults = div_round(mul(draft.sell()?, net.adults)?, net_total);
    }
    Ok(draft)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markup::Markups;
    use caravan_sdk::{FixedCost, NightlyRates, ServiceType};

    fn usd(major: i64) -> Money {
        Money::new(major * 100, "USD")
    }

    fn accommodation(sharing: Money, nights: u32) -> QuoteLine {
        QuoteLine {
            service: ServiceType::Accommodation,
            description: "Coral Cove Resort — Deluxe Suite (HB)".into(),
            nights,
            cost: LineCost::Nightly(NightlyRates {
                child: Some(Money::new(sharing.amount / 2, sharing.currency.clone())),
                per_person_sharing: sharing,
                single: None,
                infant: None,
                child_min_age: 2,
                child_max_age: 11,
            }),
            rate_id: Some("RATE-5".into()),
        }
    }

    fn transfer(unit: Money, quantity: u32) -> QuoteLine {
        QuoteLine {
            service: ServiceType::Transfer,
            description: "Airport transfer".into(),
            nights: 0,
            cost: LineCost::Fixed(FixedCost { unit, quantity }),
            rate_id: None,
        }
    }

    fn couple() -> Party {
        Party {
            adults: 2,
            children_ages: vec![],
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

    fn settings(accommodation: u32, transfer: u32, fx_buffer_bps: u32) -> Settings {
        Settings {
            markups: Markups {
                accommodation,
                transfer,
                ..Markups::default()
            },
            fx_buffer_bps,
            rounding: None,
        }
    }

    fn components(line: &PricedLine) -> Vec<(&str, i64)> {
        line.components
            .iter()
            .map(|c| (c.label.as_str(), c.amount.amount))
            .collect()
    }

    fn assert_adds_up(line: &PricedLine) {
        let sum: i64 = line.components.iter().map(|c| c.amount.amount).sum();
        assert_eq!(sum, line.sell.amount, "{line:?}");
    }

    #[test]
    fn a_line_in_the_quote_currency_is_net_plus_markup() {
        let line = accommodation(Money::new(742_000, "ZAR"), 7);
        let priced = price(line, &couple(), "ZAR", &[], &settings(1500, 0, 200))
            .unwrap()
            .finish("ZAR")
            .unwrap();
        assert_eq!(priced.net, Money::new(10_388_000, "ZAR"));
        // No conversion, so no currency buffer.
        assert_eq!(
            components(&priced),
            [
                ("2 adults sharing × 7 nights", 10_388_000),
                ("Markup 15%", 1_558_200)
            ]
        );
        assert_eq!(priced.sell, Money::new(11_946_200, "ZAR"));
        assert_eq!(priced.rate_id.as_deref(), Some("RATE-5"));
        assert_eq!(priced.nights, 7);
    }

    #[test]
    fn markups_follow_the_service_type() {
        let line = transfer(usd(45), 2);
        let priced = price(line, &couple(), "USD", &[], &settings(1500, 1000, 0))
            .unwrap()
            .finish("USD")
            .unwrap();
        assert_eq!(
            components(&priced),
            [("2 × USD 45.00", 9_000), ("Markup 10%", 900)]
        );
    }

    #[test]
    fn a_foreign_line_is_converted_and_buffered() {
        let line = accommodation(usd(423), 7);
        let priced = price(line, &couple(), "ZAR", &usd_zar(), &settings(1500, 0, 200))
            .unwrap()
            .finish("ZAR")
            .unwrap();
        // Net USD 5 922.00; markup USD 888.30; × 18.25 → ZAR 108 076.50 + 16 211.48;
        // buffer 2 % of ZAR 124 287.98 = ZAR 2 485.76.
        assert_eq!(priced.net, Money::new(592_200, "USD"));
        assert_eq!(
            components(&priced),
            [
                ("2 adults sharing × 7 nights", 10_807_650),
                ("Markup 15%", 1_621_148),
                ("Currency buffer 2%", 248_576),
            ]
        );
        assert_eq!(priced.sell, Money::new(12_677_374, "ZAR"));
        assert_adds_up(&priced);
    }

    #[test]
    fn a_missing_exchange_rate_is_missing_fx() {
        let line = accommodation(Money::new(100, "EUR"), 7);
        let err = price(line, &couple(), "ZAR", &usd_zar(), &settings(0, 0, 0)).unwrap_err();
        assert_eq!(err.code, "missing-fx");
    }

    #[test]
    fn the_adults_share_follows_markup_and_conversion() {
        let mut family = couple();
        family.children_ages = vec![8];
        let line = accommodation(usd(423), 7);
        let draft = price(line, &family, "ZAR", &usd_zar(), &settings(1500, 0, 0)).unwrap();
        // Adults are 592 200 of the 740 250 net.
        let sell = draft.sell().unwrap();
        assert_eq!(draft.adults, (sell * 592_200 + 370_125) / 740_250);
    }

    #[test]
    fn many_awkward_amounts_still_add_up() {
        let fx = vec![FxRate {
            source: "USD".into(),
            target: "JPY".into(),
            rate_micros: 151_234_567,
        }];
        for cents in [1, 3, 7, 99, 12_345, 98_765] {
            let mut family = couple();
            family.children_ages = vec![4, 13];
            family.infants = 1;
            let line = accommodation(Money::new(cents, "USD"), 3);
            let priced = price(line, &family, "JPY", &fx, &settings(1234, 0, 175))
                .unwrap()
                .finish("JPY")
                .unwrap();
            assert_adds_up(&priced);
        }
    }
}
