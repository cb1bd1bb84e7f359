//! An example tenant email-parser plugin: reads the emails of a safari operator's web
//! booking form.
//!
//! The website sends every booking request with the subject `New booking request` and a
//! body of `Field: value` lines:
//!
//! ```text
//! Name: Amina Otieno
//! Email: amina.otieno@example.com
//! Phone: +254 712 345 678
//! Destination: Mara
//! Arrival: 2027-08-10
//! Departure: 2027-08-17
//! Adults: 2
//! Children ages: 8
//! Budget (USD): 9,500
//! Notes: Our first safari.
//! ```
//!
//! Such an email becomes an enquiry with high confidence, its destination matched to the
//! tenant's canonical names. Anything else is `not-an-enquiry("not a booking form")`. That
//! is an answer, not a failure, so the host does not hand such emails to the built-in
//! parser: a tenant activating this plugin gives up free-text parsing of its inbox.

mod destinations;
mod form;
mod html;
mod values;

use caravan_sdk::{
    Budget, EmailParser, Enquiry, InboundEmail, Money, ParseOutcome, PluginError, TenantContext,
};

use crate::form::{Field, Form};

/// Why an email is not an enquiry for this parser.
pub const NOT_A_FORM: &str = "not a booking form";

/// Confidence in a form with every field filled in and nothing odd about it.
const FULL_CONFIDENCE: f32 = 0.95;
/// Taken off for each missing field or remark.
const PER_DOUBT: f32 = 0.05;
/// A form is still a form: the confidence never drops below this.
const MIN_CONFIDENCE: f32 = 0.6;

/// The booking-form parser.
#[derive(Debug)]
pub struct BookingFormParser;

impl EmailParser for BookingFormParser {
    fn parse(email: InboundEmail, tenant: TenantContext) -> Result<ParseOutcome, PluginError> {
        Ok(parse_form(&email, &tenant))
    }
}

caravan_sdk::export_email_parser!(BookingFormParser);

/// The enquiry in `email` if it is a booking form, else `not-an-enquiry`.
pub fn parse_form(email: &InboundEmail, tenant: &TenantContext) -> ParseOutcome {
    if !form::is_booking_subject(&email.subject) {
        return ParseOutcome::NotAnEnquiry(NOT_A_FORM.into());
    }
    let form = read_body(email);
    if !form.is_booking_form() {
        return ParseOutcome::NotAnEnquiry(NOT_A_FORM.into());
    }
    ParseOutcome::Enquiry(enquiry(&form, email, tenant))
}

/// The form in the plain-text body, or in the HTML body when the text has none.
fn read_body(email: &InboundEmail) -> Form {
    let text = email.text.as_deref().map(Form::read).unwrap_or_default();
    if text.is_booking_form() {
        return text;
    }
    let html = email
        .html
        .as_deref()
        .map(|h| Form::read(&html::to_text(h)))
        .unwrap_or_default();
    if html.labels() > text.labels() {
        html
    } else {
        text
    }
}

fn enquiry(form: &Form, email: &InboundEmail, tenant: &TenantContext) -> Enquiry {
    // Sentences for the consultant about values the form got wrong.
    let mut remarks = Vec::new();

    let customer_email = match form.get(Field::Email) {
        Some(raw) => values::email(raw).or_else(|| {
            remarks.push(format!("Email `{raw}` is not an address."));
            None
        }),
        None => None,
    }
    .or_else(|| reply_to(email));

    let destinations = match form.get(Field::Destination) {
        Some(raw) => {
            let matched = destinations::find(raw, &tenant.destinations);
            for unknown in &matched.unknown {
                remarks.push(format!(
                    "Destination `{unknown}` is not one of the agency's destinations."
                ));
            }
            matched.names
        }
        None => Vec::new(),
    };

    let (check_in, check_out, nights) = dates(form, email, &mut remarks);

    let adults = form
        .get(Field::Adults)
        .and_then(|raw| match values::leading_number(raw) {
            Some(n @ 1..=50) => Some(n),
            _ => {
                remarks.push(format!("Adults `{raw}` is not a number from 1 to 50."));
                None
            }
        });

    let children = form
        .get(Field::ChildrenAges)
        .map(values::children)
        .unwrap_or_default();
    for age in &children.too_old {
        remarks.push(format!(
            "A child's age of {age} is over 17 and was not counted; they may travel as an adult."
        ));
    }

    let budget = form
        .get(Field::Budget)
        .and_then(|raw| match values::budget_cents(raw) {
            Some((cents, per_person)) => Some(Budget {
                amount: Money::new(cents, "USD"),
                per_person,
            }),
            None => {
                remarks.push(format!("Budget `{raw}` is not one amount in US dollars."));
                None
            }
        });

    let mut missing = Vec::new();
    for (absent, name) in [
        (destinations.is_empty(), "destinations"),
        (check_in.is_none(), "check-in"),
        (check_out.is_none(), "check-out"),
        (adults.is_none(), "adults"),
        (children.without_age > 0, "children-ages"),
    ] {
        if absent {
            missing.push(name.to_owned());
        }
    }

    let doubts = (remarks.len() + missing.len()) as f32;
    let confidence = (FULL_CONFIDENCE - PER_DOUBT * doubts).max(MIN_CONFIDENCE);

    let mut notes = Vec::new();
    if let Some(customer) = form.get(Field::Notes) {
        notes.push(customer.to_owned());
    }
    if !remarks.is_empty() {
        notes.push(format!("Booking form: {}", remarks.join(" ")));
    }

    Enquiry {
        customer_name: form.get(Field::Name).map(str::to_owned),
        customer_email,
        customer_phone: form.get(Field::Phone).and_then(values::phone),
        destinations,
        check_in,
        check_out,
        nights,
        flexible_dates: false,
        adults,
        children_ages: children.ages,
        children_without_age: children.without_age,
        infants: children.infants,
        rooms: None,
        budget,
        requested_hotel: None,
        preferences: Vec::new(),
        notes: (!notes.is_empty()).then(|| notes.join("\n")),
        confidence,
        missing_fields: missing,
    }
}

/// Check-in, check-out and nights from `Arrival` and `Departure`; a departure that is not
/// after the arrival, or more than 365 nights later, is dropped with a remark.
fn dates(
    form: &Form,
    email: &InboundEmail,
    remarks: &mut Vec<String>,
) -> (Option<String>, Option<String>, Option<u32>) {
    let mut read = |field: Field, label: &str| {
        let raw = form.get(field)?;
        match values::date(raw) {
            Some(day) => Some((raw.to_owned(), day)),
            None => {
                remarks.push(format!("{label} `{raw}` is not a YYYY-MM-DD date."));
                None
            }
        }
    };
    let arrival = read(Field::Arrival, "Arrival");
    let departure = read(Field::Departure, "Departure");

    if let Some((raw, day)) = &arrival {
        let received = email.received_at.get(..10).and_then(values::date);
        if received.is_some_and(|today| *day < today) {
            remarks.push(format!("Arrival {raw} is in the past."));
        }
    }
    match (arrival, departure) {
        (Some((a, a_day)), Some((d, d_day))) => {
            let nights = d_day - a_day;
            if nights < 1 {
                remarks.push(format!(
                    "Departure {d} is not after arrival {a}; it was left out."
                ));
                (Some(a), None, None)
            } else if nights > 365 {
                remarks.push(format!(
                    "Departure {d} is more than 365 nights after arrival {a}; it was left out."
                ));
                (Some(a), None, None)
            } else {
                (Some(a), Some(d), u32::try_from(nights).ok())
            }
        }
        (a, d) => (a.map(|(a, _)| a), d.map(|(d, _)| d), None),
    }
}

/// The `Reply-To` address, which form mailers often set to the visitor's.
fn reply_to(email: &InboundEmail) -> Option<String> {
    email
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("reply-to"))
        .and_then(|(_, value)| values::email(value))
}
