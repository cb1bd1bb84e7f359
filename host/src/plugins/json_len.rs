//! Compact-JSON lengths of the quote-rules, pricing and PDF-template slots' inputs and
//! outputs, counted by walking the generated types field by field rather than through serde.
//!
//! These are the calls made for every quote: going through serde's data model for pricing's
//! request, tenant and answer took about 5 µs of a 44 µs call. The walk gives exactly what
//! [`json_size`](super::json_size::json_size) gives (the tests compare the two, and both
//! with `serde_json`), because the caps are defined as JSON lengths.

use super::bindings::{documents, quoting, types};
use super::json_size::{signed, string, unsigned};

/// The length of a value's compact JSON form, as `serde_json` writes it.
pub trait JsonLen {
    fn json_len(&self) -> usize;
}

impl JsonLen for String {
    fn json_len(&self) -> usize {
        string(self)
    }
}

impl JsonLen for bool {
    fn json_len(&self) -> usize {
        if *self { 4 } else { 5 }
    }
}

macro_rules! unsigned_len {
    ($($ty:ty),+) => {$(
        impl JsonLen for $ty {
            fn json_len(&self) -> usize {
                unsigned(u128::from(*self))
            }
        }
    )+};
}
unsigned_len!(u8, u32, u64);

impl JsonLen for i64 {
    fn json_len(&self) -> usize {
        signed(i128::from(*self))
    }
}

impl<T: JsonLen> JsonLen for Option<T> {
    fn json_len(&self) -> usize {
        self.as_ref().map_or(4, JsonLen::json_len)
    }
}

impl<T: JsonLen> JsonLen for [T] {
    fn json_len(&self) -> usize {
        // `[`, `]`, and a comma between members.
        2 + self.len().saturating_sub(1) + self.iter().map(JsonLen::json_len).sum::<usize>()
    }
}

impl<T: JsonLen> JsonLen for Vec<T> {
    fn json_len(&self) -> usize {
        self.as_slice().json_len()
    }
}

/// A call's arguments, written as an array.
impl<A: JsonLen + ?Sized, B: JsonLen + ?Sized> JsonLen for (&A, &B) {
    fn json_len(&self) -> usize {
        3 + self.0.json_len() + self.1.json_len()
    }
}

impl<A: JsonLen + ?Sized, B: JsonLen + ?Sized, C: JsonLen + ?Sized> JsonLen for (&A, &B, &C) {
    fn json_len(&self) -> usize {
        4 + self.0.json_len() + self.1.json_len() + self.2.json_len()
    }
}

/// A struct as an object of its fields. The destructuring names every field, so a field
/// added to the WIT and missing here fails to compile.
macro_rules! record {
    ($($ty:ty { $($field:ident),+ $(,)? })+) => {$(
        impl JsonLen for $ty {
            fn json_len(&self) -> usize {
                // `{`, `}`, a comma between fields, and `"key":` before each.
                const KEYS: usize = 0 $(+ stringify!($field).len() + 3)+;
                const COMMAS: usize = [$(stringify!($field)),+].len() - 1;
                let Self { $($field),+ } = self;
                2 + COMMAS + KEYS $(+ $field.json_len())+
            }
        }
    )+};
}

record! {
    types::Money { amount, currency }
    types::Budget { amount, per_person }
    types::Party { adults, children_ages, children_without_age, infants }
    types::Destination { name, aliases }
    types::TenantContext { tenant_id, company_name, currency, timezone, destinations }
    quoting::Trip {
        destination, check_in, check_out, nights, party, rooms, budget, requested_hotels
    }
    quoting::NightlyRates {
        per_person_sharing, single, child, infant, child_min_age, child_max_age
    }
    quoting::FixedCost { unit, quantity }
    quoting::QuoteLine { service, description, nights, cost, rate_id }
    quoting::QuoteOption { title, hotel_name, star_rating, room_type, meal_plan, lines }
    quoting::FxRate { source, target, rate_micros }
    quoting::PricingRequest { trip, options, quote_currency, fx }
    quoting::PriceComponent { label, amount }
    quoting::PricedLine { service, description, nights, rate_id, net, sell, components }
    quoting::PricedOption {
        title, hotel_name, star_rating, room_type, meal_plan, lines, total, per_person
    }
    quoting::PricedQuote { currency, options, warnings }
    quoting::Rate {
        id, hotel_name, destination, star_rating, room_type, meal_plan, valid_from, valid_to,
        min_nights, max_occupancy, prices
    }
    quoting::QuotePlan { options, warnings }
    documents::Branding {
        company_name, primary_color, secondary_color, has_logo, support_email, support_phone,
        website, vat_number
    }
    documents::Customer { name, email, phone }
    documents::TripSummary { destination, check_in, check_out, nights, adults, children, rooms }
    documents::InvoiceItem { description, quantity, unit_price, total }
    documents::Banking {
        bank_name, account_name, account_number, branch_code, swift_code, reference_prefix
    }
    documents::DocumentRequest {
        kind, reference, issued_on, valid_until, branding, customer, trip, options, items,
        subtotal, tax, total, banking, terms, notes
    }
    documents::Text { content, size, bold, color, align }
    documents::Banner { title, subtitle, background, foreground }
    documents::Column { header, width_percent, align }
    documents::Table { columns, rows, header_background, striped }
    documents::KeyValue { key, value }
    documents::Panel { title, lines, footer, background }
    documents::Image { key, width_mm, align }
    documents::Document { title, blocks, footer }
}

/// A unit variant is its name as a string.
macro_rules! unit_variants {
    ($($ty:ty { $($variant:ident),+ $(,)? })+) => {$(
        impl JsonLen for $ty {
            fn json_len(&self) -> usize {
                2 + match self {
                    $(Self::$variant => stringify!($variant).len(),)+
                }
            }
        }
    )+};
}

unit_variants! {
    quoting::ServiceType { Accommodation, Transfer, Activity, Flight, Fee, Package }
    documents::DocumentKind { Quote, Invoice }
    documents::Align { Left, Center, Right }
}

/// `{"Name":payload}` for a variant with a payload, `"Name"` for one without.
impl JsonLen for documents::Block {
    fn json_len(&self) -> usize {
        use documents::Block as B;
        let (name, payload) = match self {
            B::Banner(b) => ("Banner", b.json_len()),
            B::Heading(t) => ("Heading", t.json_len()),
            B::Paragraph(t) => ("Paragraph", t.json_len()),
            B::KeyValues(kv) => ("KeyValues", kv.json_len()),
            B::Table(t) => ("Table", t.json_len()),
            B::Panel(p) => ("Panel", p.json_len()),
            B::Image(i) => ("Image", i.json_len()),
            B::Spacer(mm) => ("Spacer", mm.json_len()),
            B::Rule(color) => ("Rule", color.json_len()),
            B::PageBreak => return string("PageBreak"),
        };
        1 + string(name) + 1 + payload + 1
    }
}

/// A variant with a payload is `{"Name":payload}`.
impl JsonLen for quoting::LineCost {
    fn json_len(&self) -> usize {
        let (name, payload) = match self {
            quoting::LineCost::Nightly(rates) => ("Nightly", rates.json_len()),
            quoting::LineCost::Fixed(cost) => ("Fixed", cost.json_len()),
        };
        1 + string(name) + 1 + payload + 1
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::super::json_size::json_size;
    use super::*;

    fn exact<T: JsonLen + serde::Serialize>(what: &str, value: &T) {
        let written = serde_json::to_vec(value).unwrap().len();
        assert_eq!(value.json_len(), written, "{what}");
        assert_eq!(json_size(value), written, "{what}");
    }

    fn money(amount: i64, currency: &str) -> types::Money {
        types::Money {
            amount,
            currency: currency.into(),
        }
    }

    /// Every field shape: escapes and non-ASCII text, empty lists, `None` and `Some`, both
    /// line costs, every service type, extreme numbers.
    fn awkward_request() -> quoting::PricingRequest {
        let mut request = fixtures::pricing_request();
        request.trip.destination = "Z\"anzi\\bar\n\u{1}é".into();
        request.trip.budget = None;
        request.trip.requested_hotels = vec!["Coral \"Cove\"".into(), String::new()];
        request.trip.party.children_ages = vec![];
        request.trip.nights = u32::MAX;
        let services = [
            quoting::ServiceType::Accommodation,
            quoting::ServiceType::Transfer,
            quoting::ServiceType::Activity,
            quoting::ServiceType::Flight,
            quoting::ServiceType::Fee,
            quoting::ServiceType::Package,
        ];
        let lines = &mut request.options[0].lines;
        for (i, service) in services.into_iter().enumerate() {
            lines.push(quoting::QuoteLine {
                service,
                description: format!("line\t{i}"),
                nights: i as u32,
                cost: if i % 2 == 0 {
                    quoting::LineCost::Fixed(quoting::FixedCost {
                        unit: money(i64::MIN, "ZAR"),
                        quantity: u32::MAX,
                    })
                } else {
                    quoting::LineCost::Nightly(quoting::NightlyRates {
                        per_person_sharing: money(i64::MAX, "USD"),
                        single: None,
                        child: Some(money(0, "EUR")),
                        infant: Some(money(-1, "")),
                        child_min_age: 0,
                        child_max_age: 17,
                    })
                },
                rate_id: (i % 3 == 0).then(|| format!("RATE-{i}")),
            });
        }
        request.options[1].hotel_name = None;
        request.options[1].star_rating = None;
        request.options[2].lines.clear();
        request.fx.push(quoting::FxRate {
            source: "EUR".into(),
            target: "ZAR".into(),
            rate_micros: u64::MAX,
        });
        request
    }

    fn awkward_answer() -> quoting::PricedQuote {
        let line = |components: Vec<quoting::PriceComponent>| quoting::PricedLine {
            service: quoting::ServiceType::Package,
            description: "Safari \"Big 5\"\r\n".into(),
            nights: 7,
            rate_id: None,
            net: money(1_234_567, "USD"),
            sell: money(i64::MAX, "ZAR"),
            components,
        };
        quoting::PricedQuote {
            currency: "ZAR".into(),
            options: vec![
                quoting::PricedOption {
                    title: "Opción 1".into(),
                    hotel_name: Some("Hôtel".into()),
                    star_rating: Some(u8::MAX),
                    room_type: None,
                    meal_plan: Some("HB".into()),
                    lines: vec![
                        line(vec![]),
                        line(vec![
                            quoting::PriceComponent {
                                label: "2 adults sharing × 7 nights".into(),
                                amount: money(-5, "ZAR"),
                            },
                            quoting::PriceComponent {
                                label: "\u{7f}\u{1f}".into(),
                                amount: money(0, "ZAR"),
                            },
                        ]),
                    ],
                    total: money(100, "ZAR"),
                    per_person: None,
                },
                quoting::PricedOption {
                    title: String::new(),
                    hotel_name: None,
                    star_rating: None,
                    room_type: None,
                    meal_plan: None,
                    lines: vec![],
                    total: money(0, "ZAR"),
                    per_person: Some(money(1, "ZAR")),
                },
            ],
            warnings: vec!["a \\ warning".into(), String::new()],
        }
    }

    #[test]
    fn the_sample_pricing_call_is_counted_exactly() {
        let (request, tenant) = (fixtures::pricing_request(), fixtures::tenant());
        exact("request", &request);
        exact("tenant", &tenant);
        exact("the call's input", &(&request, &tenant));
    }

    #[test]
    fn the_quote_rules_call_is_counted_exactly() {
        let (trip, mut rates, tenant) = (fixtures::trip(), fixtures::rates(), fixtures::tenant());
        rates[0].star_rating = None;
        rates[0].max_occupancy = Some(u32::MAX);
        rates[1].meal_plan = "B\"B\"".into();
        exact("rates", &rates);
        let input = (&trip, rates.as_slice(), &tenant);
        assert_eq!(input.json_len(), serde_json::to_vec(&input).unwrap().len());
        let request = fixtures::pricing_request();
        exact(
            "plan",
            &quoting::QuotePlan {
                options: request.options,
                warnings: vec!["No rate covers 12 nights; showing \"7\"".into()],
            },
        );
        exact(
            "empty plan",
            &quoting::QuotePlan {
                options: vec![],
                warnings: vec![],
            },
        );
    }

    #[test]
    fn documents_and_their_requests_are_counted_exactly() {
        use documents::{Align, Block, Column, KeyValue, Table, Text};
        let mut request = fixtures::quote_document();
        exact("quote request", &request);
        exact("invoice request", &fixtures::invoice_document());
        request.valid_until = None;
        request.trip = None;
        request.notes = Some("Pay \"now\"\n".into());
        exact("bare request", &request);
        let text = |content: &str, align| Text {
            content: content.into(),
            size: u8::MAX,
            bold: true,
            color: None,
            align,
        };
        let document = documents::Document {
            title: "Quote \\ QT-1".into(),
            blocks: vec![
                Block::Banner(documents::Banner {
                    title: "Sunbird".into(),
                    subtitle: None,
                    background: "#C8102E".into(),
                    foreground: "#FFFFFF".into(),
                }),
                Block::Heading(text("Options", Align::Left)),
                Block::Paragraph(text("", Align::Center)),
                Block::KeyValues(vec![KeyValue {
                    key: "Nights".into(),
                    value: "7".into(),
                }]),
                Block::KeyValues(vec![]),
                Block::Table(Table {
                    columns: vec![Column {
                        header: "Item".into(),
                        width_percent: 0,
                        align: Align::Right,
                    }],
                    rows: vec![vec!["a\tb".into(), String::new()], vec![]],
                    header_background: Some("#1A1A1A".into()),
                    striped: false,
                }),
                Block::Panel(documents::Panel {
                    title: "Banking".into(),
                    lines: vec![],
                    footer: Some("é".into()),
                    background: "#EEEEEE".into(),
                }),
                Block::Image(documents::Image {
                    key: "logo".into(),
                    width_mm: u32::MAX,
                    align: Align::Center,
                }),
                Block::Spacer(0),
                Block::Rule("#000000".into()),
                Block::PageBreak,
            ],
            footer: None,
        };
        exact("document", &document);
        exact(
            "empty document",
            &documents::Document {
                title: String::new(),
                blocks: vec![],
                footer: Some(String::new()),
            },
        );
    }

    #[test]
    fn every_field_shape_is_counted_exactly() {
        exact("request", &awkward_request());
        exact("answer", &awkward_answer());
        let mut tenant = fixtures::tenant();
        tenant.destinations.clear();
        tenant.company_name = "O'Brien \"Tours\"\u{0}".into();
        exact("tenant", &tenant);
        exact(
            "empty answer",
            &quoting::PricedQuote {
                currency: String::new(),
                options: vec![],
                warnings: vec![],
            },
        );
    }
}
