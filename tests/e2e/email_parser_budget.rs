//! The built-in email parser stays inside its default budget on the largest, most awkward
//! inputs. Fuel is an exact instruction count, so these assertions do not depend on the
//! machine's speed: anything quadratic would exhaust the 11 million instructions.

use caravan::plugins::bindings::{email, types};
use caravan::plugins::{CallSpec, Limits, PluginRuntime, Slot, defaults};

const SIZE: usize = 128 * 1024;

fn tenant() -> types::TenantContext {
    types::TenantContext {
        tenant_id: "t".into(),
        company_name: "T".into(),
        currency: "ZAR".into(),
        timezone: "Africa/Johannesburg".into(),
        destinations: (0..200)
            .map(|i| types::Destination {
                name: format!("Place {i}"),
                aliases: vec![format!("P{i} Bay")],
            })
            .chain([types::Destination {
                name: "Zanzibar".into(),
                aliases: vec![],
            }])
            .collect(),
    }
}

fn email(text: Option<String>, html: Option<String>) -> email::InboundEmail {
    email::InboundEmail {
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

/// `unit` repeated to 96 kB: with JSON escaping and the 200-destination tenant, the input stays
/// under the 128 kB cap.
fn repeat(unit: &str) -> String {
    unit.repeat((SIZE - 32 * 1024) / unit.len())
}

#[tokio::test]
async fn awkward_emails_at_the_input_cap_are_parsed_within_the_default_fuel() {
    let runtime = PluginRuntime::new().unwrap();
    let parser = runtime
        .compile(Slot::EmailParser, defaults::component(Slot::EmailParser))
        .unwrap();
    let mut spec = CallSpec::new("t", "default");
    // Generous wall clock: this asserts on instructions, which do not vary with machine load.
    spec.limits.deadline_ms = Limits::PLATFORM_MAX.deadline_ms;
    let tenant = tenant();
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
        (
            "one long line",
            email(Some("x".repeat(SIZE - 32 * 1024)), None),
        ),
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
    let mut worst = (0, "");
    for (name, e) in cases {
        let result = runtime.parse_email(&parser, &spec, &e, &tenant).await;
        let (_, stats) = result.unwrap_or_else(|err| panic!("{name}: {err}"));
        if stats.fuel_used > worst.0 {
            worst = (stats.fuel_used, name);
        }
    }
    eprintln!(
        "most expensive: {} with {} instructions of {}",
        worst.1, worst.0, spec.limits.fuel
    );
}
