//! A pricing plugin that misbehaves on purpose, for the sandbox tests. The tenant's
//! configuration key `behaviour` picks the misdeed; without it the plugin behaves.
//!
//! Probes of the outside world (files, sockets, environment) answer `Err` with code
//! `denied` when the sandbox held, and `Ok` with the leaked data in a warning when it did not.

use std::hint::black_box;

use caravan_sdk::{
    Money, PluginError, PriceComponent, PricedLine, PricedOption, PricedQuote, Pricing,
    PricingRequest, ServiceType, TenantContext,
};

/// The misbehaving plugin.
pub struct Hostile;

fn leaked(what: String) -> Result<PricedQuote, PluginError> {
    Ok(PricedQuote {
        currency: "ZAR".into(),
        options: vec![],
        warnings: vec![format!("LEAK: {what}")],
    })
}

fn denied(what: impl std::fmt::Display) -> Result<PricedQuote, PluginError> {
    Err(PluginError::new("denied", what.to_string()))
}

/// Every option of the request with `total` as its price and no lines.
fn priced(request: PricingRequest, total: i64) -> PricedQuote {
    PricedQuote {
        options: request
            .options
            .into_iter()
            .map(|o| PricedOption {
                title: o.title,
                hotel_name: o.hotel_name,
                star_rating: o.star_rating,
                room_type: o.room_type,
                meal_plan: o.meal_plan,
                lines: vec![],
                total: Money::new(total, request.quote_currency.clone()),
                per_person: None,
            })
            .collect(),
        currency: request.quote_currency,
        warnings: vec![],
    }
}

// Unbounded on purpose: the sandbox must turn the stack overflow into a trap.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    // black_box keeps the compiler from turning the recursion into a loop.
    black_box(depth) + recurse(black_box(depth + 1))
}

impl Pricing for Hostile {
    fn price(request: PricingRequest, _tenant: TenantContext) -> Result<PricedQuote, PluginError> {
        let behaviour: String = caravan_sdk::config("behaviour")?.unwrap_or_default();
        match behaviour.as_str() {
            "infinite-loop" => {
                let mut n: u64 = 0;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            "memory-bomb" => {
                // Reserve without filling, so memory grows faster than fuel burns.
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    let mut block = Vec::with_capacity(1 << 20);
                    block.push(7u8);
                    hoard.push(black_box(block));
                }
            }
            "deep-recursion" => Err(PluginError::new("unreachable", recurse(0).to_string())),
            "huge-output" => Ok(PricedQuote {
                currency: request.quote_currency,
                options: vec![],
                warnings: vec!["x".repeat(1 << 20)],
            }),
            "read-file" => match std::fs::read_to_string("/etc/passwd") {
                Ok(text) => leaked(text),
                Err(e) => denied(e),
            },
            "list-dir" => match std::fs::read_dir("/") {
                Ok(entries) => leaked(format!("{} entries", entries.count())),
                Err(e) => denied(e),
            },
            "open-socket" => {
                let target: String = caravan_sdk::config("target")?.unwrap_or_default();
                match std::net::TcpStream::connect(target.as_str()) {
                    Ok(_) => leaked(format!("connected to {target}")),
                    Err(e) => denied(e),
                }
            }
            "read-env" => {
                let vars: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
                if vars.is_empty() {
                    denied("no environment")
                } else {
                    leaked(vars.join(","))
                }
            }
            "panic" => panic!("boom from the hostile plugin"),
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(30));
                denied("woke up")
            }
            "negative-price" => Ok(priced(request, -100)),
            "unknown-currency" => {
                let mut quote = priced(request, 0);
                quote.options[0].total.currency = "XQQ".into();
                Ok(quote)
            }
            "component-in-another-currency" => {
                let mut quote = priced(request, 100);
                let total = quote.options[0].total.clone();
                quote.options[0].lines.push(PricedLine {
                    service: ServiceType::Fee,
                    description: "Fee".into(),
                    nights: 0,
                    rate_id: None,
                    net: total.clone(),
                    sell: total,
                    components: vec![PriceComponent {
                        label: "Fee".into(),
                        amount: Money::new(100, "USD"),
                    }],
                });
                Ok(quote)
            }
            "spin" => {
                // Busy for `spin_ms` of wall-clock time, then well-behaved: a slow but valid call.
                let ms: u64 = caravan_sdk::config("spin_ms")?.unwrap_or(50);
                let started = std::time::Instant::now();
                while started.elapsed() < std::time::Duration::from_millis(ms) {
                    black_box(());
                }
                Ok(priced(request, 0))
            }
            // Well-behaved: every option free of charge, which passes the host's checks.
            _ => Ok(priced(request, 0)),
        }
    }
}

caravan_sdk::export_pricing!(Hostile);
