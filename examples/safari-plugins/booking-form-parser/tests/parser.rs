//! The whole parser, called as the host calls it, on complete emails.

use booking_form_parser::{BookingFormParser, NOT_A_FORM, parse_form};
use caravan_sdk::{
    Budget, Destination, EmailParser, Enquiry, InboundEmail, Money, ParseOutcome, TenantContext,
};

/// The dry-run body shipped next to the README.
const DRY_RUN: &str = include_str!("../../dry-run-booking-form.json");

fn dry_run_email() -> InboundEmail {
    let body: serde_json::Value = serde_json::from_str(DRY_RUN).unwrap();
    serde_json::from_value(body["input"]["email"].clone()).unwrap()
}

/// The destinations of `examples/tenants/sunbird.json`.
fn sunbird() -> TenantContext {
    let d = |name: &str, aliases: &[&str]| Destination {
        name: name.into(),
        aliases: aliases.iter().map(|a| (*a).into()).collect(),
    };
    TenantContext {
        tenant_id: "sunbird".into(),
        company_name: "Sunbird Safaris".into(),
        currency: "ZAR".into(),
        timezone: "Africa/Johannesburg".into(),
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

fn form_email(body: &str) -> InboundEmail {
    InboundEmail {
        text: Some(body.into()),
        headers: vec![],
        ..dry_run_email()
    }
}

fn enquiry(email: InboundEmail) -> Enquiry {
    match BookingFormParser::parse(email, sunbird()).unwrap() {
        ParseOutcome::Enquiry(e) => e,
        other => panic!("expected an enquiry, got {other:?}"),
    }
}

/// What the host checks on every parser output (`host/src/plugins/validate.rs`).
fn assert_host_accepts(e: &Enquiry) {
    let tenant = sunbird();
    for d in &e.destinations {
        assert!(tenant.destinations.iter().any(|t| &t.name == d), "{d}");
    }
    if let (Some(a), Some(b)) = (&e.check_in, &e.check_out) {
        assert!(b > a, "{a} {b}");
    }
    assert!(e.nights.is_none_or(|n| (1..=365).contains(&n)));
    assert!(e.adults.is_none_or(|a| a <= 50));
    assert!(e.children_ages.iter().all(|a| (2..=17).contains(a)));
    assert!((0.0..=1.0).contains(&e.confidence));
}

#[test]
fn the_readme_dry_run_email_becomes_a_complete_enquiry() {
    let e = enquiry(dry_run_email());
    assert_host_accepts(&e);
    assert_eq!(e.customer_name.as_deref(), Some("Amina Otieno"));
    assert_eq!(
        e.customer_email.as_deref(),
        Some("amina.otieno@example.com")
    );
    assert_eq!(e.customer_phone.as_deref(), Some("+254712345678"));
    assert_eq!(e.destinations, ["Maasai Mara"]);
    assert_eq!(e.check_in.as_deref(), Some("2027-08-10"));
    assert_eq!(e.check_out.as_deref(), Some("2027-08-17"));
    assert_eq!(e.nights, Some(7));
    assert_eq!(e.adults, Some(2));
    assert_eq!(e.children_ages, [8]);
    assert_eq!(e.infants, 0);
    assert_eq!(
        e.budget,
        Some(Budget {
            amount: Money::new(950_000, "USD"),
            per_person: false
        })
    );
    assert_eq!(
        e.notes.as_deref(),
        Some("Our first safari. We would love a hot-air balloon ride.")
    );
    assert!(e.missing_fields.is_empty());
    assert_eq!(e.confidence, 0.95);
}

#[test]
fn the_dry_run_file_uses_the_field_names_of_the_contract() {
    let body: serde_json::Value = serde_json::from_str(DRY_RUN).unwrap();
    // Serialising again gives the same JSON, so nothing in the file was ignored.
    assert_eq!(
        serde_json::to_value(dry_run_email()).unwrap(),
        body["input"]["email"]
    );
}

#[test]
fn emails_with_another_subject_are_not_an_enquiry() {
    let mut email = dry_run_email();
    email.subject = "Safari in August?".into();
    assert_eq!(
        parse_form(&email, &sunbird()),
        ParseOutcome::NotAnEnquiry(NOT_A_FORM.into())
    );
}

#[test]
fn a_free_text_email_with_the_form_subject_is_not_an_enquiry() {
    let email = form_email("Hi, we'd like to see the Mara in August: 2 adults. Thanks!");
    assert_eq!(
        parse_form(&email, &sunbird()),
        ParseOutcome::NotAnEnquiry("not a booking form".into())
    );
}

#[test]
fn an_email_without_a_body_is_not_an_enquiry() {
    let mut email = dry_run_email();
    email.text = None;
    assert_eq!(
        parse_form(&email, &sunbird()),
        ParseOutcome::NotAnEnquiry(NOT_A_FORM.into())
    );
}

#[test]
fn a_form_sent_as_html_only_is_read_too() {
    let mut email = dry_run_email();
    email.text = None;
    email.html = Some(
        "<html><head><style>td{padding:4px}</style></head><body><table>\
         <tr><td><b>Name:</b></td><td>Amina Otieno</td></tr>\
         <tr><td><b>Email:</b></td><td>amina@example.com</td></tr>\
         <tr><td><b>Destination:</b></td><td>Kruger &amp; Cape Town</td></tr>\
         <tr><td><b>Arrival:</b></td><td>2027-08-10</td></tr>\
         <tr><td><b>Departure:</b></td><td>2027-08-14</td></tr>\
         <tr><td><b>Adults:</b></td><td>2</td></tr>\
         </table></body></html>"
            .into(),
    );
    let e = enquiry(email);
    assert_host_accepts(&e);
    assert_eq!(e.customer_name.as_deref(), Some("Amina Otieno"));
    assert_eq!(e.destinations, ["Kruger National Park", "Cape Town"]);
    assert_eq!(e.nights, Some(4));
}

#[test]
fn an_empty_form_is_still_a_form_with_its_missing_fields_named() {
    let e = enquiry(form_email(
        "Name: Amina\nEmail:\nPhone:\nDestination:\nArrival:\nDeparture:\nAdults:\n\
         Children ages:\nBudget (USD):\nNotes:\n",
    ));
    assert_host_accepts(&e);
    assert_eq!(e.customer_name.as_deref(), Some("Amina"));
    assert_eq!(
        e.missing_fields,
        ["destinations", "check-in", "check-out", "adults"]
    );
    assert_eq!(e.notes, None);
    assert!(
        e.confidence < 0.95 && e.confidence >= 0.6,
        "{}",
        e.confidence
    );
}

#[test]
fn destinations_are_matched_by_alias_and_case_and_unknown_ones_noted() {
    let e = enquiry(form_email(
        "Name: A\nDestination: the MARA, Serengeti\nArrival: 2027-08-10\nAdults: 2\n",
    ));
    assert_host_accepts(&e);
    assert_eq!(e.destinations, ["Maasai Mara"]);
    let notes = e.notes.unwrap();
    assert!(notes.contains("`Serengeti` is not one of"), "{notes}");
}

#[test]
fn a_departure_before_the_arrival_is_left_out_and_noted() {
    let e = enquiry(form_email(
        "Name: A\nDestination: Mara\nArrival: 2027-08-17\nDeparture: 2027-08-10\nAdults: 2\n",
    ));
    assert_host_accepts(&e);
    assert_eq!(e.check_in.as_deref(), Some("2027-08-17"));
    assert_eq!(e.check_out, None);
    assert_eq!(e.nights, None);
    assert_eq!(e.missing_fields, ["check-out"]);
    assert!(e.notes.unwrap().contains("not after arrival"));
}

#[test]
fn dates_not_in_the_form_format_are_left_out_and_noted() {
    let e = enquiry(form_email(
        "Name: A\nDestination: Mara\nArrival: 10/08/2027\nDeparture: 2027-02-30\nAdults: 2\n",
    ));
    assert_host_accepts(&e);
    assert_eq!((e.check_in, e.check_out), (None, None));
    let notes = e.notes.unwrap();
    assert!(notes.contains("Arrival `10/08/2027`"), "{notes}");
    assert!(notes.contains("Departure `2027-02-30`"), "{notes}");
}

#[test]
fn an_arrival_before_the_email_arrived_is_noted() {
    let e = enquiry(form_email(
        "Name: A\nDestination: Mara\nArrival: 2026-08-10\nDeparture: 2026-08-17\nAdults: 2\n",
    ));
    assert_eq!(e.nights, Some(7));
    assert!(e.notes.unwrap().contains("in the past"));
}

#[test]
fn children_infants_and_unclear_ages_are_told_apart() {
    let e = enquiry(form_email(
        "Name: A\nDestination: Mara\nArrival: 2027-08-10\nAdults: 2\n\
         Children ages: 8, 14, 1, 19, toddler\n",
    ));
    assert_host_accepts(&e);
    assert_eq!(e.children_ages, [8, 14]);
    assert_eq!(e.infants, 1);
    assert_eq!(e.children_without_age, 1);
    assert!(e.missing_fields.contains(&"children-ages".to_owned()));
    assert!(e.notes.unwrap().contains("age of 19"));
}

#[test]
fn implausible_adults_and_budgets_are_left_out_and_noted() {
    let e = enquiry(form_email(
        "Name: A\nDestination: Mara\nArrival: 2027-08-10\nAdults: 500\n\
         Budget (USD): around 5-6k\n",
    ));
    assert_host_accepts(&e);
    assert_eq!(e.adults, None);
    assert_eq!(e.budget, None);
    let notes = e.notes.unwrap();
    assert!(notes.contains("Adults `500`"), "{notes}");
    assert!(notes.contains("Budget `around 5-6k`"), "{notes}");
}

#[test]
fn a_per_person_budget_is_marked_as_such() {
    let e = enquiry(form_email(
        "Name: A\nDestination: Mara\nAdults: 2\nBudget (USD): 4,000 per person\n",
    ));
    assert_eq!(
        e.budget,
        Some(Budget {
            amount: Money::new(400_000, "USD"),
            per_person: true
        })
    );
}

#[test]
fn the_reply_to_address_stands_in_for_a_missing_email() {
    let mut email = form_email("Name: A\nDestination: Mara\nAdults: 2\n");
    email.headers = vec![("reply-to".into(), "Amina <Amina@Example.com>".into())];
    assert_eq!(
        enquiry(email).customer_email.as_deref(),
        Some("amina@example.com")
    );
}

#[test]
fn a_tenant_without_the_destination_gets_no_destination() {
    let mut tenant = sunbird();
    tenant.destinations.retain(|d| d.name != "Maasai Mara");
    let ParseOutcome::Enquiry(e) = parse_form(&dry_run_email(), &tenant) else {
        panic!("expected an enquiry");
    };
    assert!(e.destinations.is_empty());
    assert!(e.missing_fields.contains(&"destinations".to_owned()));
}
