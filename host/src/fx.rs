//! Foreign-exchange snapshots for pricing: the rates a quote converts supplier prices with.
//!
//! Caravan has no live rate feed (no third-party calls while quoting). A platform snapshot of
//! common currencies against the US dollar is built in; a tenant's own `fx_rates` (units of
//! its home currency per unit of another) take precedence; the pricing plugin adds the
//! tenant's buffer. Every quote records the rates it used.

use std::collections::{BTreeMap, BTreeSet};

use crate::plugins::bindings::quoting::FxRate;

/// Units of each currency per US dollar, the built-in snapshot (mid-market, November 2026,
/// rounded). Tenants that quote in other currencies set their own rates.
const PER_USD: &[(&str, f64)] = &[
    ("USD", 1.0),
    ("ZAR", 18.25),
    ("EUR", 0.92),
    ("GBP", 0.79),
    ("CHF", 0.88),
    ("AUD", 1.52),
    ("NZD", 1.66),
    ("CAD", 1.38),
    ("JPY", 151.2),
    ("CNY", 7.24),
    ("INR", 84.1),
    ("AED", 3.6725),
    ("KES", 129.0),
    ("TZS", 2600.0),
    ("UGX", 3700.0),
    ("RWF", 1370.0),
    ("MUR", 46.0),
    ("SCR", 13.8),
    ("MVR", 15.4),
    ("BWP", 13.6),
    ("NAD", 18.25),
    ("ZMW", 26.5),
    ("MZN", 63.9),
    ("NGN", 1550.0),
    ("EGP", 48.5),
    ("MAD", 9.9),
];

/// When the snapshot was taken, recorded with each quote.
pub const SNAPSHOT_DATE: &str = "2026-11-01";

/// Rates into `target` for every currency in `sources` the snapshot or the overrides know.
/// `overrides` maps a currency to units of `target` per unit of it. A source with no rate
/// is left out: the pricing plugin reports it as `missing-fx`.
pub fn rates_into(
    target: &str,
    sources: &BTreeSet<String>,
    overrides: &BTreeMap<String, f64>,
) -> Vec<FxRate> {
    let per_usd = |code: &str| PER_USD.iter().find(|(c, _)| *c == code).map(|(_, r)| *r);
    sources
        .iter()
        .filter(|s| s.as_str() != target)
        .filter_map(|source| {
            let rate = overrides
                .get(source)
                .copied()
                .or_else(|| Some(per_usd(target)? / per_usd(source)?))?;
            let micros = (rate * 1_000_000.0).round();
            (micros >= 1.0 && micros < u64::MAX as f64).then(|| FxRate {
                source: source.clone(),
                target: target.to_owned(),
                rate_micros: micros as u64,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(codes: &[&str]) -> BTreeSet<String> {
        codes.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn cross_rates_go_through_the_dollar() {
        let fx = rates_into("ZAR", &set(&["USD", "EUR", "ZAR"]), &BTreeMap::new());
        assert_eq!(fx.len(), 2, "no rate from ZAR to itself");
        let usd = fx.iter().find(|r| r.source == "USD").unwrap();
        assert_eq!(usd.rate_micros, 18_250_000);
        let eur = fx.iter().find(|r| r.source == "EUR").unwrap();
        assert_eq!(eur.rate_micros, (18.25f64 / 0.92 * 1e6).round() as u64);
    }

    #[test]
    fn a_tenant_rate_wins_and_an_unknown_currency_is_left_out() {
        let overrides = BTreeMap::from([("USD".to_owned(), 18.0)]);
        let fx = rates_into("ZAR", &set(&["USD", "XAU"]), &overrides);
        assert_eq!(fx.len(), 1);
        assert_eq!(fx[0].rate_micros, 18_000_000);
    }
}
