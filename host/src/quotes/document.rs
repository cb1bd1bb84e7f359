//! A quote as a document: the request the tenant's pdf-template plugin lays out, and the
//! email that carries the PDF.

use chrono::NaiveDate;
use serde_json::Value;

use super::generate::major;
use crate::money::to_minor;
use crate::plugins::bindings::{documents, quoting, types};
use crate::storage::quotes::Quote;
use crate::tenants::model::Tenant;

const DEFAULT_PRIMARY: &str = "#1E3A8A";
const DEFAULT_SECONDARY: &str = "#334155";

/// The standard terms when the tenant has set none.
fn standard_terms(validity_days: u32) -> Vec<String> {
    vec![
        format!(
            "This quote is valid for {validity_days} days and subject to availability at the time of booking."
        ),
        "Prices are per the options shown and include accommodation as described; flights are not included unless stated.".to_owned(),
    ]
}

/// The layout request for a stored quote. Options come back from the stored `hotels[]`
/// (the priced options as the API shows them), so a re-render matches what was quoted.
pub fn request(tenant: &Tenant, quote: &Quote, issued_on: NaiveDate) -> documents::DocumentRequest {
    let branding = &tenant.config.branding;
    let validity = tenant.config.quoting.validity_days;
    let terms = if tenant.config.quoting.terms.is_empty() {
        standard_terms(validity)
    } else {
        tenant.config.quoting.terms.clone()
    };
    let trip = match (quote.check_in.as_deref(), quote.check_out.as_deref()) {
        (Some(check_in), Some(check_out)) => Some(documents::TripSummary {
            destination: quote.destination.clone(),
            check_in: check_in.to_owned(),
            check_out: check_out.to_owned(),
            nights: quote.nights.max(0) as u32,
            adults: quote.adults.max(0) as u32,
            children: quote.children.max(0) as u32,
            rooms: quote.room_count.max(1) as u32,
        }),
        _ => None,
    };
    documents::DocumentRequest {
        kind: documents::DocumentKind::Quote,
        reference: quote.quote_id.clone(),
        issued_on: issued_on.to_string(),
        valid_until: Some((issued_on + chrono::Duration::days(i64::from(validity))).to_string()),
        branding: documents::Branding {
            company_name: tenant.name.clone(),
            primary_color: branding
                .primary_color
                .clone()
                .unwrap_or_else(|| DEFAULT_PRIMARY.to_owned()),
            secondary_color: branding
                .secondary_color
                .clone()
                .unwrap_or_else(|| DEFAULT_SECONDARY.to_owned()),
            has_logo: false,
            support_email: tenant.support_email.clone(),
            support_phone: None,
            website: None,
            vat_number: None,
        },
        customer: documents::Customer {
            name: quote.customer_name.clone(),
            email: Some(quote.customer_email.clone()).filter(|e| !e.is_empty()),
            phone: quote.customer_phone.clone(),
        },
        trip,
        options: options_of(quote),
        items: Vec::new(),
        subtotal: None,
        tax: None,
        total: None,
        banking: None,
        terms,
        notes: None,
    }
}

/// The stored options back as priced options (amounts to minor units again).
fn options_of(quote: &Quote) -> Vec<quoting::PricedOption> {
    let currency = quote.currency.as_str();
    let minor = |v: &Value| to_minor(v.as_f64().unwrap_or(0.0), currency);
    let money = |amount: i64| types::Money {
        amount,
        currency: currency.to_owned(),
    };
    let text = |v: &Value| v.as_str().map(str::to_owned);
    quote
        .hotels
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|h| {
            let total = minor(&h["total_price"]);
            let lines: Vec<quoting::PricedLine> = h["lines"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|l| quoting::PricedLine {
                    service: quoting::ServiceType::Accommodation,
                    description: text(&l["description"]).unwrap_or_default(),
                    nights: l["nights"].as_u64().unwrap_or(0) as u32,
                    rate_id: text(&l["rate_id"]),
                    net: types::Money {
                        amount: to_minor(
                            l["net"]["amount"].as_f64().unwrap_or(0.0),
                            l["net"]["currency"].as_str().unwrap_or(currency),
                        ),
                        currency: l["net"]["currency"].as_str().unwrap_or(currency).to_owned(),
                    },
                    sell: money(minor(&l["sell"])),
                    components: Vec::new(),
                })
                .collect();
            let lines = if lines.is_empty() {
                vec![quoting::PricedLine {
                    service: quoting::ServiceType::Accommodation,
                    description: text(&h["description"])
                        .or_else(|| text(&h["name"]))
                        .unwrap_or_default(),
                    nights: h["nights"].as_u64().unwrap_or(0) as u32,
                    rate_id: text(&h["rate_id"]),
                    net: money(total),
                    sell: money(total),
                    components: Vec::new(),
                }]
            } else {
                lines
            };
            quoting::PricedOption {
                title: text(&h["name"]).unwrap_or_default(),
                hotel_name: text(&h["hotel_name"]),
                star_rating: h["star_rating"].as_u64().and_then(|s| u8::try_from(s).ok()),
                room_type: text(&h["room_type"]),
                meal_plan: text(&h["meal_plan"]),
                lines,
                total: money(total),
                per_person: Some(minor(&h["price_per_person"]))
                    .filter(|p| *p > 0)
                    .map(money),
            }
        })
        .collect()
}

/// The plain-text body of the quote email.
pub fn email_text(tenant: &Tenant, quote: &Quote, public_url: &str) -> String {
    let mut text = format!(
        "Dear {},\n\nThank you for your enquiry. Please find your quote {} for {} attached.\n\n",
        quote.customer_name, quote.quote_id, quote.destination
    );
    if let (Some(i), Some(o)) = (&quote.check_in, &quote.check_out) {
        text.push_str(&format!("Dates: {i} to {o} ({} nights)\n", quote.nights));
    }
    text.push_str(&format!("Guests: {} Adults", quote.adults));
    if quote.children > 0 {
        text.push_str(&format!(", {} Children", quote.children));
    }
    text.push('\n');
    if quote.room_count > 1 {
        text.push_str(&format!("Rooms: {}\n", quote.room_count));
    }
    text.push('\n');
    for (i, h) in quote
        .hotels
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        text.push_str(&format!(
            "Option {}: {} — {} {:.0}\n",
            i + 1,
            h["name"].as_str().unwrap_or_default(),
            quote.currency,
            h["total_price"].as_f64().unwrap_or(0.0)
        ));
    }
    text.push_str(&format!(
        "\nTotal (option 1): {} {:.0}\n\nView the quote online: {public_url}\n\nKind regards,\n{}\n",
        quote.currency,
        major(quote.total_minor, &quote.currency),
        tenant.name
    ));
    text
}
