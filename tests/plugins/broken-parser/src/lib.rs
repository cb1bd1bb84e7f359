//! An email parser that fails on purpose, chosen by the subject: `[loop]` spins until the
//! host stops it, `[bad-output]` returns dates out of order (invalid output), `[error]`
//! returns a plugin error, `[panic]` panics (a trap). Anything else is "not an enquiry", so
//! the plugin passes the upload's conformance fixtures and can be activated.

use caravan_sdk::{EmailParser, Enquiry, InboundEmail, ParseOutcome, PluginError, TenantContext};

/// Fails on tagged emails.
pub struct BrokenParser;

impl EmailParser for BrokenParser {
    fn parse(email: InboundEmail, _tenant: TenantContext) -> Result<ParseOutcome, PluginError> {
        if email.subject.contains("[loop]") {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        if email.subject.contains("[bad-output]") {
            return Ok(ParseOutcome::Enquiry(Enquiry {
                customer_name: None,
                customer_email: None,
                customer_phone: None,
                destinations: vec![],
                check_in: Some("2027-03-19".to_owned()),
                check_out: Some("2027-03-12".to_owned()),
                nights: Some(7),
                flexible_dates: false,
                adults: Some(2),
                children_ages: vec![],
                children_without_age: 0,
                infants: 0,
                rooms: None,
                budget: None,
                requested_hotel: None,
                preferences: vec![],
                notes: None,
                confidence: 0.9,
                missing_fields: vec![],
            }));
        }
        if email.subject.contains("[error]") {
            return Err(PluginError::new("unreadable", "this parser reads nothing"));
        }
        if email.subject.contains("[panic]") {
            panic!("this parser breaks on request");
        }
        Ok(ParseOutcome::NotAnEnquiry(
            "the broken parser reads nothing".to_owned(),
        ))
    }
}

caravan_sdk::export_email_parser!(BrokenParser);
