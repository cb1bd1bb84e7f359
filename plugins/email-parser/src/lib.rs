//! Caravan's built-in email parser: a rule-based reader of travel enquiries written in
//! English, plain or HTML.
//!
//! The email is reduced to the customer's own words (HTML converted, quoted replies cut,
//! a forwarded message unwrapped), tokenised once, and each field is read by its own
//! module. Every pass is linear in the text, which is capped at [`text::MAX_TEXT`] bytes
//! and [`tokens::MAX_TOKENS`] tokens: plugins run on a budget of 11 million WebAssembly
//! instructions, and `caravan plugin test` measures about 0.9 million for a typical enquiry
//! and at most 9.8 million for adversarial 110 kB bodies (numbers, dates, tags, quote
//! headers) with these caps.
//!
//! Tenant configuration (all optional):
//! - `date_order`: `"dmy"` (default) or `"mdy"`, for all-numeric dates such as `04/05/2027`;
//! - `hotels`: hotel names to recognise as `requested_hotel`, e.g. `["Coral Cove Resort"]`;
//! - `preferences`: extra wishes to report, e.g. `["dive centre"]`.

pub mod budget;
pub mod civil;
pub mod classify;
pub mod contact;
pub mod currency;
pub mod dates;
pub mod destinations;
pub mod encoded_words;
pub mod forward;
pub mod html;
pub mod lexicon;
pub mod numbers;
pub mod party;
pub mod phrases;
pub mod text;
pub mod tokens;
pub mod wishes;

use caravan_sdk::{
    Budget, EmailParser, Enquiry, InboundEmail, LogLevel, Money, ParseOutcome, PluginError,
    TenantContext,
};

use crate::civil::Date;
use crate::classify::BodyHint;
use crate::dates::DateOrder;
use crate::tokens::{Kind, Tokens};

/// The built-in parser.
#[derive(Debug)]
pub struct DefaultParser;

impl EmailParser for DefaultParser {
    fn parse(email: InboundEmail, tenant: TenantContext) -> Result<ParseOutcome, PluginError> {
        let options = Options::from_config()?;
        let outcome = parse_email(&email, &tenant, &options);
        if let ParseOutcome::NotAnEnquiry(reason) = &outcome {
            caravan_sdk::log(LogLevel::Debug, &format!("not an enquiry: {reason}"));
        }
        Ok(outcome)
    }
}

/// The tenant's settings for this parser.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// How to read all-numeric dates.
    pub date_order: DateOrder,
    /// Hotel names to recognise.
    pub hotels: Vec<String>,
    /// Extra preference phrases to report.
    pub preferences: Vec<String>,
}

impl Options {
    /// Reads the options from the tenant's configuration.
    pub fn from_config() -> Result<Self, PluginError> {
        let date_order = match caravan_sdk::config::<String>("date_order")?.as_deref() {
            None | Some("dmy" | "day-first" | "DMY") => DateOrder::DayFirst,
            Some("mdy" | "month-first" | "MDY") => DateOrder::MonthFirst,
            Some(other) => {
                return Err(PluginError::new(
                    "invalid-config",
                    format!(
                        "configuration key `date_order` must be \"dmy\" or \"mdy\", not {other:?}"
                    ),
                ));
            }
        };
        Ok(Self {
            date_order,
            hotels: caravan_sdk::config("hotels")?.unwrap_or_default(),
            preferences: caravan_sdk::config("preferences")?.unwrap_or_default(),
        })
    }
}

/// The customer's part of an email, ready for extraction.
struct Prepared {
    /// Subject, then the customer's text, then any forwarding note, separated by empty
    /// lines: text order is relevance order.
    analysis: String,
    /// Byte range of the customer's own text in `analysis`.
    own: std::ops::Range<usize>,
    /// The customer's own text alone.
    original: String,
    /// The original `From` of a forwarded message.
    forwarded_from: Option<String>,
    /// The original date of a forwarded message.
    forwarded_date: Option<String>,
}

fn prepare(email: &InboundEmail) -> Prepared {
    let body = text::body(email);
    let outer_subject = forward::clean_subject(&email.subject);
    let fwd = forward::split(&body, forward::subject_is_forward(&email.subject));
    let (original, note, subject) = match &fwd {
        Some(f) => (
            text::strip_quoted(&f.body),
            text::strip_quoted(&f.note),
            f.subject
                .as_deref()
                .map_or(outer_subject, forward::clean_subject)
                .to_owned(),
        ),
        None => (
            text::strip_quoted(&body),
            String::new(),
            outer_subject.to_owned(),
        ),
    };
    let subject = text::normalise(text::truncate(&subject, 1000));
    let mut analysis = String::with_capacity(subject.len() + original.len() + note.len() + 4);
    analysis.push_str(&subject);
    analysis.push_str("\n\n");
    let start = analysis.len();
    analysis.push_str(&original);
    let end = analysis.len();
    analysis.push_str("\n\n");
    analysis.push_str(&note);
    Prepared {
        analysis,
        own: start..end,
        original,
        forwarded_from: fwd.as_ref().and_then(|f| f.from.clone()),
        forwarded_date: fwd.and_then(|f| f.date),
    }
}

/// The email's date: the forwarded original's when it is readable, else `sent_at`, else
/// `received_at`.
fn reference_date(email: &InboundEmail, forwarded_date: Option<&str>) -> Option<Date> {
    let outer = email
        .sent_at
        .as_deref()
        .and_then(Date::parse_iso_prefix)
        .or_else(|| Date::parse_iso_prefix(&email.received_at));
    let inner = forwarded_date.and_then(dates::date_in_text);
    match (inner, outer) {
        // A forwarded message is older than its forward, and not by years.
        (Some(i), Some(o)) if i <= o && i.days_until(o) < 730 => Some(i),
        (Some(i), None) => Some(i),
        _ => outer,
    }
}

/// Reads `email` for `tenant`.
pub fn parse_email(
    email: &InboundEmail,
    tenant: &TenantContext,
    options: &Options,
) -> ParseOutcome {
    if let Some(reason) = classify::by_headers(&email.headers, &email.subject, &email.sender) {
        return ParseOutcome::NotAnEnquiry(reason);
    }
    let prepared = prepare(email);
    if prepared.analysis.trim().is_empty() {
        return ParseOutcome::NotAnEnquiry("empty message".to_owned());
    }
    let t = Tokens::new(&prepared.analysis);
    let own_from = t.index_at(prepared.own.start);
    let own_to = t.index_at(prepared.own.end);
    let reference = reference_date(email, prepared.forwarded_date.as_deref());

    let stay = dates::find_stay(&t, reference, options.date_order);
    let party = party::find_party(&t);
    let found_budget = budget::find_budget(&t, &tenant.currency);
    let destinations = destinations::find_destinations(&t, &tenant.destinations);

    let key_fields = [
        !destinations.is_empty(),
        stay.check_in.is_some(),
        party.adults.is_some(),
        found_budget.is_some(),
    ]
    .iter()
    .filter(|f| **f)
    .count();
    let hint = classify::by_body(&prepared.original);
    let forwarded = prepared.forwarded_from.is_some();
    let not_enquiry = match hint {
        Some(BodyHint::Newsletter) if !forwarded || key_fields == 0 => Some("newsletter"),
        // An auto-reply names its return date and often the subject's destination.
        Some(BodyHint::AutoReply) if key_fields <= 2 => Some("automatic reply"),
        Some(BodyHint::Unsubscribe) if key_fields == 0 => Some("bulk mail"),
        _ => None,
    };
    if let Some(reason) = not_enquiry {
        return ParseOutcome::NotAnEnquiry(reason.to_owned());
    }

    let (name, address) = customer(email, &prepared, &t, own_from, own_to);
    let phone = contact::find_phone(&t, own_from, own_to);
    let mut notes: Vec<String> = Vec::new();
    if let Some(n) = &party.note {
        notes.push(n.clone());
    }
    if let Some(m) = &stay.month_only {
        notes.push(format!("travel around {m}"));
    }
    if stay.nights_from_days
        && let Some(n) = stay.nights
    {
        notes.push(format!("stay given in days, read as {n} nights"));
    }
    let budget = found_budget.map(|b| {
        let mut amount = b.amount_minor;
        if b.per_night {
            match stay.nights {
                Some(n) => {
                    amount = amount.saturating_mul(i64::from(n));
                    notes.push(format!("budget stated per night, multiplied by {n} nights"));
                }
                None => notes.push("budget stated per night".to_owned()),
            }
        }
        Budget {
            amount: Money::new(amount, b.currency),
            per_person: b.per_person,
        }
    });
    if let Some(by) = forwarded.then(|| contact::parse_mailbox(&email.sender)) {
        let who = by.name.or(by.email).unwrap_or_else(|| email.sender.clone());
        notes.push(format!("forwarded by {who}"));
    }
    if !email.attachments.is_empty() {
        let names: Vec<&str> = email
            .attachments
            .iter()
            .map(|a| a.filename.as_str())
            .take(5)
            .collect();
        notes.push(format!("attachments: {}", names.join(", ")));
    }
    let notes = (!notes.is_empty()).then(|| text::truncate(&notes.join("; "), 400).to_owned());

    let mut missing = Vec::new();
    if destinations.is_empty() {
        missing.push("destination".to_owned());
    }
    if stay.check_in.is_none() {
        missing.push("check-in".to_owned());
    }
    if stay.check_out.is_none() {
        missing.push("check-out".to_owned());
    }
    if party.adults.is_none() {
        missing.push("adults".to_owned());
    }
    let confidence = confidence(&[
        (0.2, !destinations.is_empty()),
        (0.2, stay.check_in.is_some()),
        (0.1, stay.check_out.is_some() || stay.nights.is_some()),
        (0.15, party.adults.is_some()),
        (0.05, budget.is_some()),
        (0.05, address.is_some()),
        (0.05, name.is_some()),
    ]);
    ParseOutcome::Enquiry(Enquiry {
        customer_name: name,
        customer_email: address,
        customer_phone: phone,
        destinations,
        check_in: stay.check_in.map(|d| d.to_string()),
        check_out: stay.check_out.map(|d| d.to_string()),
        nights: stay.nights,
        flexible_dates: stay.flexible,
        adults: party.adults,
        children_ages: party.children_ages,
        children_without_age: party.children_without_age,
        infants: party.infants,
        rooms: party.rooms,
        budget,
        requested_hotel: wishes::find_hotel(&t, &options.hotels),
        preferences: wishes::find_preferences(&t, &options.preferences),
        notes,
        confidence,
        missing_fields: missing,
    })
}

/// 0.2 for reading the email at all, plus the weight of each field found.
fn confidence(found: &[(f32, bool)]) -> f32 {
    let sum: f32 = found.iter().filter(|(_, f)| *f).map(|(w, _)| w).sum();
    (0.2 + sum).clamp(0.0, 1.0)
}

/// The customer's name and address: the forwarded message's sender, else `From`; for a
/// web form or relay (`noreply@…`) the `Reply-To` or a labelled "Email:" line instead.
fn customer(
    email: &InboundEmail,
    prepared: &Prepared,
    t: &Tokens,
    own_from: usize,
    own_to: usize,
) -> (Option<String>, Option<String>) {
    let mailbox =
        contact::parse_mailbox(prepared.forwarded_from.as_deref().unwrap_or(&email.sender));
    let (mut name, mut address) = (mailbox.name, mailbox.email);
    let automated = address.as_deref().is_none_or(contact::is_automated_address);
    if automated {
        let reply_to = email
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("reply-to"))
            .map(|(_, v)| contact::parse_mailbox(v))
            .filter(|m| {
                m.email
                    .as_deref()
                    .is_some_and(|e| !contact::is_automated_address(e))
            });
        let labelled = contact::labelled_value(
            &prepared.original,
            &["email", "e-mail", "email address", "your email"],
        )
        .map(contact::parse_mailbox);
        let in_text = (own_from..own_to)
            .find(|&i| t.kind(i) == Some(Kind::Email))
            .map(|i| contact::parse_mailbox(t.raw(i)));
        if let Some(m) = reply_to.or(labelled).or(in_text) {
            address = m
                .email
                .or(address.filter(|a| !contact::is_automated_address(a)));
            name = name.or(m.name);
        } else if prepared.forwarded_from.is_some() {
            address = address.filter(|a| !contact::is_automated_address(a));
        }
    }
    let name = name
        .or_else(|| {
            contact::labelled_value(&prepared.original, &["name", "full name", "your name"])
                .and_then(contact::clean_name)
        })
        .or_else(|| contact::signoff_name(&prepared.original))
        .or_else(|| {
            address
                .as_deref()
                .and_then(|a| contact::signoff_matching_address(&prepared.original, a))
        })
        .or_else(|| address.as_deref().and_then(contact::name_from_address));
    (name, address)
}

caravan_sdk::export_email_parser!(DefaultParser);
