//! The parser's work stays linear on the largest, most awkward inputs: each of these
//! 128 kB emails is parsed well within a second even in an unoptimised build, where
//! anything quadratic would take many seconds.

use std::time::{Duration, Instant};

use caravan_plugin_email_parser::DefaultParser;
use caravan_sdk::{Destination, EmailParser, InboundEmail, ParseOutcome, TenantContext};

const SIZE: usize = 128 * 1024;

fn tenant() -> TenantContext {
    TenantContext {
        tenant_id: "t".into(),
        company_name: "T".into(),
        currency: "ZAR".into(),
        timezone: "Africa/Johannesburg".into(),
        destinations: (0..200)
            .map(|i| Destination {
                name: format!("Place {i}"),
                aliases: vec![format!("P{i} Bay")],
            })
            .chain([Destination {
                name: "Zanzibar".into(),
                aliases: vec![],
            }])
            .collect(),
    }
}

fn email(text: Option<String>, html: Option<String>) -> InboundEmail {
    InboundEmail {
        envelope_from: None,
        envelope_to: vec!["t@inbound.caravan.test".into()],
        sender: "Priya <priya@example.net>".into(),
        to: vec![],
        cc: vec![],
        subject: "Zanzibar".into(),
        sent_at: Some("2026-11-20T09:14:00+02:00".into()),
        received_at: "2026-11-20T09:14:00+02:00".into(),
        text,
        html,
        headers: vec![],
        attachments: vec![],
    }
}

fn repeat(unit: &str) -> String {
    unit.repeat(SIZE / unit.len() + 1)
}

fn time(name: &str, e: InboundEmail) -> Duration {
    let start = Instant::now();
    let outcome = DefaultParser::parse(e, tenant()).expect("parsed");
    let elapsed = start.elapsed();
    println!(
        "{name}: {elapsed:?} ({})",
        matches!(outcome, ParseOutcome::Enquiry(_))
    );
    elapsed
}

#[test]
fn awkward_128_kb_emails_are_parsed_in_linear_time() {
    let cases = [
        (
            "numbers",
            email(Some(repeat("1 2 3 4 5 6 7 8 9 10 ")), None),
        ),
        (
            "dates",
            email(
                Some(repeat("12-19 March 2027 to 3 April, 7 nights from 5 Jan; ")),
                None,
            ),
        ),
        (
            "money",
            email(
                Some(repeat("budget R60 000 - R70 000 pp, $5k, 6.500 € ")),
                None,
            ),
        ),
        (
            "people",
            email(
                Some(repeat("2 adults and 2 kids aged 6 and 9, my wife and I, ")),
                None,
            ),
        ),
        (
            "phones",
            email(Some(repeat("+27 (0)82 555 0147 082-555-0147 ")), None),
        ),
        ("dots", email(Some(repeat("a.")), None)),
        ("at signs", email(Some(repeat("a.b@")), None)),
        (
            "places",
            email(Some(repeat("Place 1 Place 2 P3 Bay Zanzibar ")), None),
        ),
        ("one long line", email(Some("x".repeat(SIZE)), None)),
        (
            "quote headers",
            email(Some(repeat("On Mon wrote\nFrom: a\n> q\n")), None),
        ),
        (
            "forward markers",
            email(
                Some(repeat(
                    "---------- Forwarded message ---------\nFrom: a <b@c.de>\n",
                )),
                None,
            ),
        ),
        ("open tags", email(None, Some(repeat("<a href=\"x")))),
        ("unclosed angles", email(None, Some(repeat("< ")))),
        (
            "entities",
            email(None, Some(repeat("&amp;&#x41;&nbsp;&bogus"))),
        ),
        (
            "nested quotes",
            email(None, Some(repeat("<blockquote><p>2 adults</p>"))),
        ),
        (
            "unclosed script",
            email(
                None,
                Some(format!("<p>hi</p><script>{}", repeat("<p>x</p>"))),
            ),
        ),
        (
            "hotels",
            email(Some(repeat("Coral Cove Resort Hotel Verde Lodge ")), None),
        ),
    ];
    for (name, e) in cases {
        let elapsed = time(name, e);
        assert!(elapsed < Duration::from_secs(1), "{name} took {elapsed:?}");
    }
}
