//! From an enquiry to priced options: the inputs completed as API §6.1 says, candidate rates
//! from the tenant's table, then the tenant's quote-rules and pricing plugins.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, FieldError, Result};
use crate::money::{to_major, to_minor};
use crate::plugins::bindings::{quoting, types};
use crate::tenants::model::Tenant;

/// Ages below this are infants (priced as infants, not children).
const INFANT_BELOW: u32 = 2;
/// Ages from this are adults.
const ADULT_FROM: u32 = 18;

/// A room the customer asked for.
#[derive(Debug, Clone, Deserialize)]
pub struct RoomRequest {
    #[serde(default)]
    pub adults: u32,
    #[serde(default)]
    pub children: u32,
}

/// The customer's request, as the quote form or an enquiry gives it.
/// Fields the dashboard may add beyond these are ignored (its forms evolve on their own).
#[derive(Debug, Clone, Deserialize)]
pub struct Inquiry {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    pub destination: String,
    #[serde(default)]
    pub check_in: Option<String>,
    #[serde(default)]
    pub check_out: Option<String>,
    #[serde(default = "two")]
    pub adults: u32,
    #[serde(default)]
    pub children: u32,
    #[serde(default)]
    pub children_ages: Vec<u32>,
    #[serde(default)]
    pub rooms: Option<Vec<RoomRequest>>,
    #[serde(default = "one")]
    pub room_count: u32,
    /// In the tenant's currency unless `budget_currency` says otherwise.
    #[serde(default)]
    pub budget: Option<f64>,
    #[serde(default)]
    pub budget_currency: Option<String>,
    #[serde(default)]
    pub budget_per_person: Option<bool>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub requested_hotel: Option<String>,
}

fn two() -> u32 {
    2
}

fn one() -> u32 {
    1
}

/// An inquiry completed and checked: what quoting works with.
#[derive(Debug, Clone)]
pub struct Trip {
    pub destination: String,
    /// The destination's name and aliases, for matching rates.
    pub destination_names: Vec<String>,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub nights: u32,
    pub adults: u32,
    /// Ages 2–17.
    pub children_ages: Vec<u32>,
    pub children_without_age: u32,
    pub infants: u32,
    pub rooms: u32,
    pub budget: Option<types::Budget>,
    pub requested_hotels: Vec<String>,
}

impl Trip {
    /// Children as the quote shows them: with and without an age, infants not included.
    pub fn children(&self) -> u32 {
        self.children_ages.len() as u32 + self.children_without_age
    }

    pub fn to_plugin(&self) -> quoting::Trip {
        quoting::Trip {
            destination: self.destination.clone(),
            check_in: self.check_in.to_string(),
            check_out: self.check_out.to_string(),
            nights: self.nights,
            party: types::Party {
                adults: self.adults,
                children_ages: self.children_ages.clone(),
                children_without_age: self.children_without_age,
                infants: self.infants,
            },
            rooms: self.rooms,
            budget: self.budget.clone(),
            requested_hotels: self.requested_hotels.clone(),
        }
    }
}

/// Completes an inquiry (API §6.1): the destination corrected to the tenant's name for it,
/// dates defaulted and moved out of the past, ages sorted into children and infants.
pub fn complete(
    tenant: &Tenant,
    inquiry: &Inquiry,
    selected_hotels: Option<&[String]>,
    today: NaiveDate,
) -> Result<Trip> {
    let mut errors = Vec::new();
    let field = |name: &str, msg: &str| FieldError {
        loc: vec!["body".to_owned(), "inquiry".to_owned(), name.to_owned()],
        msg: msg.to_owned(),
        kind: "value_error".to_owned(),
    };
    let name_len = inquiry.name.trim().chars().count();
    if !(2..=100).contains(&name_len) {
        errors.push(field("name", "must be 2–100 characters"));
    }
    let email = inquiry.email.trim();
    if !(email.contains('@') && email.len() <= 254 && !email.contains(char::is_whitespace)) {
        errors.push(field("email", "must be an email address"));
    }
    if inquiry.destination.trim().is_empty() {
        errors.push(field("destination", "is required"));
    }
    if !(1..=20).contains(&inquiry.adults) {
        errors.push(field("adults", "must be between 1 and 20"));
    }
    if inquiry.children > 10 || inquiry.children_ages.len() > 10 {
        errors.push(field("children", "must be between 0 and 10"));
    }
    if inquiry.children_ages.iter().any(|a| *a > 17) {
        errors.push(field("children_ages", "ages must be 0–17"));
    }
    if !(1..=10).contains(&inquiry.room_count) {
        errors.push(field("room_count", "must be between 1 and 10"));
    }
    let parse_date = |name: &str, value: &Option<String>, errors: &mut Vec<FieldError>| {
        let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
        match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(field(name, "must be a date as YYYY-MM-DD"));
                None
            }
        }
    };
    let check_in = parse_date("check_in", &inquiry.check_in, &mut errors);
    let check_out = parse_date("check_out", &inquiry.check_out, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }

    let (destination, destination_names) = match_destination(tenant, &inquiry.destination);
    let mut check_in = check_in.unwrap_or(today + chrono::Duration::days(30));
    let mut check_out = check_out.unwrap_or(check_in + chrono::Duration::days(7));
    if check_out <= check_in {
        return Err(Error::validation(field(
            "check_out",
            "must be after check_in",
        )));
    }
    // A stay in the past moves forward by whole years, keeping its length.
    while check_in < today {
        let (Some(i), Some(o)) = (add_year(check_in), add_year(check_out)) else {
            break;
        };
        check_in = i;
        check_out = o;
    }
    let nights = u32::try_from((check_out - check_in).num_days()).unwrap_or(0);
    if !(1..=365).contains(&nights) {
        return Err(Error::validation(field(
            "check_out",
            "the stay must be 1–365 nights",
        )));
    }
    let mut children_ages = Vec::new();
    let mut infants = 0;
    let mut adults = inquiry.adults;
    for &age in &inquiry.children_ages {
        if age < INFANT_BELOW {
            infants += 1;
        } else if age >= ADULT_FROM {
            adults += 1;
        } else {
            children_ages.push(age);
        }
    }
    let aged = inquiry.children_ages.len() as u32;
    let children_without_age = inquiry.children.saturating_sub(aged);
    let rooms = inquiry
        .rooms
        .as_ref()
        .map_or(inquiry.room_count, |r| r.len().max(1) as u32)
        .clamp(1, 10);
    let currency = inquiry
        .budget_currency
        .as_deref()
        .map(str::to_ascii_uppercase)
        .filter(|c| crate::money::is_known_currency(c))
        .unwrap_or_else(|| tenant.config.currency.clone());
    let budget = inquiry
        .budget
        .filter(|b| b.is_finite() && *b > 0.0)
        .map(|b| types::Budget {
            amount: types::Money {
                amount: to_minor(b, &currency),
                currency: currency.clone(),
            },
            per_person: inquiry.budget_per_person.unwrap_or(false),
        });
    let mut requested_hotels: Vec<String> = selected_hotels
        .unwrap_or_default()
        .iter()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .collect();
    if requested_hotels.is_empty()
        && let Some(h) = inquiry.requested_hotel.as_deref().map(str::trim)
        && !h.is_empty()
    {
        requested_hotels.push(h.to_owned());
    }
    Ok(Trip {
        destination,
        destination_names,
        check_in,
        check_out,
        nights,
        adults,
        children_ages,
        children_without_age,
        infants,
        rooms,
        budget,
        requested_hotels,
    })
}

fn add_year(date: NaiveDate) -> Option<NaiveDate> {
    date.with_year(date.year() + 1)
        .or_else(|| NaiveDate::from_ymd_opt(date.year() + 1, date.month(), 28))
}

/// The tenant's canonical name for a destination (by name or alias, any case) and every
/// name it goes by; an unknown destination is kept as written.
pub fn match_destination(tenant: &Tenant, wanted: &str) -> (String, Vec<String>) {
    let wanted = wanted.trim();
    for d in &tenant.config.destinations {
        let matches = d.name.eq_ignore_ascii_case(wanted)
            || d.aliases.iter().any(|a| a.eq_ignore_ascii_case(wanted));
        if matches {
            let mut names = vec![d.name.clone()];
            names.extend(d.aliases.iter().cloned());
            return (d.name.clone(), names);
        }
    }
    (wanted.to_owned(), vec![wanted.to_owned()])
}

/// Every currency the plan's lines cost in.
pub fn currencies_of(plan: &quoting::QuotePlan) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for option in &plan.options {
        for line in &option.lines {
            match &line.cost {
                quoting::LineCost::Nightly(n) => {
                    out.insert(n.per_person_sharing.currency.to_ascii_uppercase());
                }
                quoting::LineCost::Fixed(f) => {
                    out.insert(f.unit.currency.to_ascii_uppercase());
                }
            }
        }
    }
    out
}

/// Minor units as a JSON number in major units.
pub fn major(minor: i64, currency: &str) -> f64 {
    to_major(minor, currency)
}

/// A priced option as the dashboard reads it in `hotels[]`.
pub fn option_body(option: &quoting::PricedOption, trip: &Trip, currency: &str) -> Value {
    let total = major(option.total.amount, currency);
    let per_person = option
        .per_person
        .as_ref()
        .map(|m| major(m.amount, currency));
    let adults_total = per_person.map(|p| p * f64::from(trip.adults));
    let rate_id = option.lines.iter().find_map(|l| l.rate_id.clone());
    let lines: Vec<Value> = option
        .lines
        .iter()
        .map(|l| {
            json!({
                "service": format!("{:?}", l.service).to_lowercase(),
                "description": l.description,
                "nights": l.nights,
                "rate_id": l.rate_id,
                "net": {"amount": major(l.net.amount, &l.net.currency), "currency": l.net.currency},
                "sell": major(l.sell.amount, currency),
                "components": l.components.iter().map(|c| json!({
                    "label": c.label,
                    "amount": major(c.amount.amount, currency),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "type": "hotel",
        "name": option.title,
        "hotel_name": option.hotel_name.clone().unwrap_or_else(|| option.title.clone()),
        "rating": option.star_rating.map(|s| format!("{s}*")),
        "star_rating": option.star_rating,
        "hotel_rating": option.star_rating,
        "room_type": option.room_type,
        "meal_plan": option.meal_plan,
        "nights": trip.nights,
        "price_per_person": per_person.unwrap_or(0.0),
        "price_per_night": if trip.nights > 0 { total / f64::from(trip.nights) } else { total },
        "total_price": total,
        "currency": currency,
        "includes_flights": false,
        "includes_transfers": option.lines.iter().any(|l| matches!(l.service, quoting::ServiceType::Transfer)),
        "rate_id": rate_id,
        "source": "rates",
        "lines": lines,
        "pricing_breakdown": {
            "per_person_rates": {"adult_sharing": per_person.unwrap_or(0.0)},
            "traveler_counts": {
                "adults_sharing": trip.adults,
                "adults_single": 0,
                "children": trip.children(),
                "infants": trip.infants,
            },
            "totals": {
                "adults": adults_total,
                "grand_total": total,
            },
        },
    })
}

/// Today in UTC: quote dates are calendar days and the API's ids use UTC dates.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}
