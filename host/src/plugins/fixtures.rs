//! Sample inputs for each slot: the conformance checks every upload must pass, the default
//! input of a dry run, and the benchmarks' workload.

use super::bindings::{documents, email, quoting, types};

fn zar(amount_major: i64) -> types::Money {
    types::Money {
        amount: amount_major * 100,
        currency: "ZAR".into(),
    }
}

/// The sample tenant as plugins see it.
pub fn tenant() -> types::TenantContext {
    let d = |name: &str, aliases: &[&str]| types::Destination {
        name: name.into(),
        aliases: aliases.iter().map(|a| (*a).into()).collect(),
    };
    types::TenantContext {
        tenant_id: "sample".into(),
        company_name: "Sunbird Safaris".into(),
        currency: "ZAR".into(),
        timezone: "Africa/Johannesburg".into(),
        destinations: vec![
            d("Zanzibar", &[]),
            d("Mauritius", &[]),
            d("Cape Town", &[]),
            d("Kruger National Park", &["Kruger", "Kruger Park"]),
            d("Maasai Mara", &["Mara"]),
        ],
    }
}

/// A plain enquiry email.
pub fn email() -> email::InboundEmail {
    email::InboundEmail {
        envelope_from: Some("priya.naidoo@example.net".into()),
        envelope_to: vec!["sunbird@inbound.caravan.test".into()],
        sender: "Priya Naidoo <priya.naidoo@example.net>".into(),
        to: vec!["sunbird@inbound.caravan.test".into()],
        cc: vec![],
        subject: "Zanzibar in March".into(),
        sent_at: Some("2027-01-20T09:15:00+02:00".into()),
        received_at: "2027-01-20T07:15:05Z".into(),
        text: Some(
            "Hi there,\n\nMy husband and I would like to visit Zanzibar from 12 to 19 March 2027. \
             We are 2 adults and our budget is about R60 000 in total.\n\nKind regards,\n\
             Priya Naidoo\n082 555 0147\n"
                .into(),
        ),
        html: None,
        headers: vec![
            ("Message-ID".into(), "<sample-1@example.net>".into()),
            ("Subject".into(), "Zanzibar in March".into()),
        ],
        attachments: vec![],
    }
}

fn nightly(sharing: i64, single: i64, child: i64) -> quoting::NightlyRates {
    quoting::NightlyRates {
        per_person_sharing: zar(sharing),
        single: Some(zar(single)),
        child: Some(zar(child)),
        infant: None,
        child_min_age: 2,
        child_max_age: 11,
    }
}

/// A week in Zanzibar for two adults and a child.
pub fn trip() -> quoting::Trip {
    quoting::Trip {
        destination: "Zanzibar".into(),
        check_in: "2027-03-12".into(),
        check_out: "2027-03-19".into(),
        nights: 7,
        party: types::Party {
            adults: 2,
            children_ages: vec![8],
            children_without_age: 0,
            infants: 0,
        },
        rooms: 1,
        budget: Some(types::Budget {
            amount: zar(90_000),
            per_person: false,
        }),
        requested_hotels: vec![],
    }
}

/// Rates that cover [`trip`].
pub fn rates() -> Vec<quoting::Rate> {
    let rate = |id: &str, hotel: &str, stars: u8, room: &str, meal: &str, prices| quoting::Rate {
        id: id.into(),
        hotel_name: hotel.into(),
        destination: "Zanzibar".into(),
        star_rating: Some(stars),
        room_type: room.into(),
        meal_plan: meal.into(),
        valid_from: "2026-11-01".into(),
        valid_to: "2027-03-31".into(),
        min_nights: 2,
        max_occupancy: Some(4),
        prices,
    };
    vec![
        rate(
            "RATE-0000000A",
            "Baraka Beach Lodge",
            4,
            "Standard Double",
            "HB",
            nightly(2_500, 4_000, 1_250),
        ),
        rate(
            "RATE-0000000B",
            "Coral Cove Resort",
            5,
            "Deluxe Suite",
            "HB",
            nightly(4_800, 7_700, 2_400),
        ),
        rate(
            "RATE-0000000C",
            "Stone Town Inn",
            3,
            "Classic Room",
            "BB",
            nightly(1_400, 2_200, 700),
        ),
    ]
}

/// A pricing request for one option with an accommodation line and a transfer.
pub fn pricing_request() -> quoting::PricingRequest {
    let lines = |i: i64| {
        vec![
            quoting::QuoteLine {
                service: quoting::ServiceType::Accommodation,
                description: format!("Hotel {i}, Standard Double (HB)"),
                nights: 7,
                cost: quoting::LineCost::Nightly(nightly(2_500 + i * 100, 4_000, 1_250)),
                rate_id: Some(format!("RATE-{i:08}")),
            },
            quoting::QuoteLine {
                service: quoting::ServiceType::Transfer,
                description: "Airport transfers".into(),
                nights: 0,
                cost: quoting::LineCost::Fixed(quoting::FixedCost {
                    unit: zar(450),
                    quantity: 2,
                }),
                rate_id: None,
            },
        ]
    };
    let options = (1..=3)
        .map(|i| quoting::QuoteOption {
            title: format!("Hotel {i}"),
            hotel_name: Some(format!("Hotel {i}")),
            star_rating: Some(4),
            room_type: Some("Standard Double".into()),
            meal_plan: Some("HB".into()),
            lines: lines(i),
        })
        .collect();
    quoting::PricingRequest {
        trip: trip(),
        options,
        quote_currency: "ZAR".into(),
        fx: vec![quoting::FxRate {
            source: "USD".into(),
            target: "ZAR".into(),
            rate_micros: 18_250_000,
        }],
    }
}

fn branding() -> documents::Branding {
    documents::Branding {
        company_name: "Sunbird Safaris".into(),
        primary_color: "#C8102E".into(),
        secondary_color: "#1A1A1A".into(),
        has_logo: false,
        support_email: Some("hello@sunbird.example".into()),
        support_phone: Some("+27 21 555 0100".into()),
        website: None,
        vat_number: Some("4123456789".into()),
    }
}

/// A quote document request.
pub fn quote_document() -> documents::DocumentRequest {
    let priced = quoting::PricedOption {
        title: "Coral Cove Resort".into(),
        hotel_name: Some("Coral Cove Resort".into()),
        star_rating: Some(5),
        room_type: Some("Deluxe Suite".into()),
        meal_plan: Some("HB".into()),
        lines: vec![],
        total: zar(84_000),
        per_person: Some(zar(33_600)),
    };
    documents::DocumentRequest {
        kind: documents::DocumentKind::Quote,
        reference: "QT-20270120-4F2A9C".into(),
        issued_on: "2027-01-20".into(),
        valid_until: Some("2027-01-27".into()),
        branding: branding(),
        customer: documents::Customer {
            name: "Priya Naidoo".into(),
            email: Some("priya.naidoo@example.net".into()),
            phone: Some("+27825550147".into()),
        },
        trip: Some(documents::TripSummary {
            destination: "Zanzibar".into(),
            check_in: "2027-03-12".into(),
            check_out: "2027-03-19".into(),
            nights: 7,
            adults: 2,
            children: 1,
            rooms: 1,
        }),
        options: vec![priced],
        items: vec![],
        subtotal: None,
        tax: None,
        total: None,
        banking: None,
        terms: vec!["Prices are subject to availability at the time of booking.".into()],
        notes: None,
    }
}

/// An invoice document request.
pub fn invoice_document() -> documents::DocumentRequest {
    let item = documents::InvoiceItem {
        description: "Coral Cove Resort, Deluxe Suite (HB), 7 nights".into(),
        quantity: 1,
        unit_price: zar(84_000),
        total: zar(84_000),
    };
    documents::DocumentRequest {
        kind: documents::DocumentKind::Invoice,
        reference: "INV-20270121-9B1C2D".into(),
        items: vec![item],
        options: vec![],
        subtotal: Some(zar(84_000)),
        tax: Some(zar(12_600)),
        total: Some(zar(96_600)),
        banking: Some(documents::Banking {
            bank_name: "First National Bank".into(),
            account_name: "Sunbird Safaris (Pty) Ltd".into(),
            account_number: "62812345678".into(),
            branch_code: Some("250655".into()),
            swift_code: Some("FIRNZAJJ".into()),
            reference_prefix: Some("SUN-".into()),
        }),
        ..quote_document()
    }
}
