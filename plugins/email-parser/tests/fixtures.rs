//! Accuracy on real MIME messages, field by field: the shared fixtures
//! (`shared/fixtures/emails`) and this crate's own cases (`tests/emails`). Each `.eml` is
//! decoded with `mail-parser` into the `InboundEmail` the host would pass, parsed with the
//! sample tenant, and compared with `expected.json` on its non-null values.
//!
//! `cargo test -p caravan-plugin-email-parser --test fixtures -- --nocapture` prints the
//! tables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use caravan_plugin_email_parser::{DefaultParser, currency};
use caravan_sdk::{
    AttachmentInfo, Destination, EmailParser, InboundEmail, ParseOutcome, TenantContext,
};
use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde_json::{Value, json};

/// The fields scored, in table order.
const FIELDS: &[&str] = &[
    "is_enquiry",
    "destination",
    "check_in",
    "check_out",
    "nights",
    "adults",
    "children_ages",
    "infants",
    "budget_amount",
    "budget_currency",
    "budget_per_person",
    "customer_name",
    "customer_email",
    "phone",
];

fn sample_tenant() -> TenantContext {
    let d = |name: &str, aliases: &[&str]| Destination {
        name: name.to_owned(),
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
    };
    TenantContext {
        tenant_id: "sunbird".to_owned(),
        company_name: "Sunbird Safaris".to_owned(),
        currency: "ZAR".to_owned(),
        timezone: "Africa/Johannesburg".to_owned(),
        destinations: vec![
            d("Zanzibar", &[]),
            d("Mauritius", &[]),
            d("Cape Town", &[]),
            d("Kruger National Park", &["Kruger", "Kruger Park"]),
            d("Maldives", &[]),
            d("Victoria Falls", &[]),
            d("Seychelles", &[]),
            d("Maasai Mara", &["Mara"]),
        ],
    }
}

/// A header's value as written, unfolded.
fn raw_value(raw: &[u8], start: u32, end: u32) -> String {
    let bytes = raw.get(start as usize..end as usize).unwrap_or_default();
    String::from_utf8_lossy(bytes)
        .replace("\r\n", "\n")
        .replace("\n ", " ")
        .replace("\n\t", " ")
        .trim()
        .to_owned()
}

/// Decodes a message as the host does.
fn decode(raw: &[u8]) -> InboundEmail {
    let message = MessageParser::default().parse(raw).expect("a MIME message");
    let headers: Vec<(String, String)> = message
        .headers()
        .iter()
        .map(|h| {
            (
                h.name.as_str().to_owned(),
                raw_value(raw, h.offset_start, h.offset_end),
            )
        })
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let addresses = |a: Option<&mail_parser::Address>| -> Vec<String> {
        a.map(|a| {
            a.iter()
                .filter_map(|x| x.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
    };
    let to = addresses(message.to());
    let envelope_to = header("X-Original-To")
        .or_else(|| header("Delivered-To"))
        .map(|v| vec![v])
        .unwrap_or_else(|| to.clone());
    let text = message
        .text_body
        .iter()
        .find_map(|&i| match &message.parts[i as usize].body {
            PartType::Text(t) => Some(t.to_string()),
            _ => None,
        });
    let html = message
        .html_body
        .iter()
        .find_map(|&i| match &message.parts[i as usize].body {
            PartType::Html(h) => Some(h.to_string()),
            _ => None,
        });
    let attachments = message
        .attachments()
        .map(|p| AttachmentInfo {
            filename: p.attachment_name().unwrap_or("attachment").to_owned(),
            content_type: p
                .content_type()
                .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("octet-stream")))
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            size: p.body.len() as u64,
        })
        .collect();
    let sent_at = message.date().map(|d| d.to_rfc3339());
    InboundEmail {
        envelope_from: header("Return-Path"),
        envelope_to,
        sender: header("From").unwrap_or_default(),
        to,
        cc: addresses(message.cc()),
        subject: message.subject().unwrap_or("").to_owned(),
        received_at: sent_at
            .clone()
            .unwrap_or_else(|| "2026-12-01T08:00:00+02:00".to_owned()),
        sent_at,
        text,
        html,
        headers,
        attachments,
    }
}

/// The scored fields of an outcome, as `expected.json` writes them.
fn actual(outcome: &ParseOutcome) -> BTreeMap<&'static str, Value> {
    let mut m = BTreeMap::new();
    let ParseOutcome::Enquiry(e) = outcome else {
        m.insert("is_enquiry", json!(false));
        return m;
    };
    m.insert("is_enquiry", json!(true));
    m.insert("destination", json!(e.destinations.first()));
    m.insert("check_in", json!(e.check_in));
    m.insert("check_out", json!(e.check_out));
    m.insert("nights", json!(e.nights));
    m.insert("adults", json!(e.adults));
    let mut ages = e.children_ages.clone();
    ages.sort_unstable();
    m.insert("children_ages", json!(ages));
    m.insert("infants", json!(e.infants));
    if let Some(b) = &e.budget {
        let scale = 10f64.powi(currency::exponent(&b.amount.currency) as i32);
        m.insert("budget_amount", json!(b.amount.amount as f64 / scale));
        m.insert("budget_currency", json!(b.amount.currency));
        m.insert("budget_per_person", json!(b.per_person));
    }
    m.insert("customer_name", json!(e.customer_name));
    m.insert("customer_email", json!(e.customer_email));
    m.insert("phone", json!(e.customer_phone));
    m
}

fn same(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(_)) => {
            let mut a: Vec<u64> = a.iter().filter_map(Value::as_u64).collect();
            a.sort_unstable();
            json!(a) == *actual
        }
        _ => expected == actual,
    }
}

/// Scores every `.eml` in `dir` against its `expected.json`; prints the tables and returns
/// the overall accuracy with the misses.
fn score(dir: &Path, title: &str) -> (f64, Vec<String>) {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected.json"),
    )
    .expect("valid JSON");
    let expected = expected.as_object().expect("an object of cases");
    let mut per_field: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    let mut misses = Vec::new();
    for (case, want) in expected {
        let path = dir.join(format!("{case}.eml"));
        let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let outcome = DefaultParser::parse(decode(&raw), sample_tenant()).expect("parsed");
        let got = actual(&outcome);
        for field in FIELDS {
            let Some(w) = want.get(*field).filter(|v| !v.is_null()) else {
                continue;
            };
            let g = got.get(field).cloned().unwrap_or(Value::Null);
            let entry = per_field.entry(field).or_default();
            entry.1 += 1;
            if same(w, &g) {
                entry.0 += 1;
            } else {
                misses.push(format!("  {case}: {field} expected {w}, got {g}"));
            }
        }
    }
    let (mut right, mut total) = (0, 0);
    println!("\n{title}: {} emails", expected.len());
    println!("| field | correct | accuracy |\n|---|---|---|");
    for field in FIELDS {
        if let Some((r, t)) = per_field.get(field) {
            println!(
                "| {field} | {r}/{t} | {:.0}% |",
                100.0 * f64::from(*r) / f64::from(*t)
            );
            right += r;
            total += t;
        }
    }
    let overall = 100.0 * f64::from(right) / f64::from(total.max(1));
    println!("| **overall** | {right}/{total} | {overall:.1}% |");
    if !misses.is_empty() {
        println!("misses:\n{}", misses.join("\n"));
    }
    (overall, misses)
}

fn shared_fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("CARAVAN_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"))
        .join("emails");
    dir.join("expected.json").exists().then_some(dir)
}

#[test]
fn the_shared_fixtures_are_parsed_at_least_90_percent_right() {
    let Some(dir) = shared_fixtures() else {
        // CI lays shared/ beside the clone; without it there is nothing to score.
        assert!(
            std::env::var_os("CI").is_none(),
            "shared/fixtures/emails is missing"
        );
        return;
    };
    let (overall, _) = score(&dir, "shared fixtures");
    assert!(
        overall >= 90.0,
        "overall accuracy {overall:.1}% is under 90%"
    );
}

/// Each of the crate's own cases was written for one feature (a date format, a budget form,
/// a forwarded message…), so every expected field must come out right: a regression in any
/// one feature fails here rather than hiding in an overall score.
#[test]
fn this_crates_own_cases_are_all_parsed_right() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emails");
    let (_, misses) = score(&dir, "own cases");
    assert!(misses.is_empty(), "misses:\n{}", misses.join("\n"));
}
