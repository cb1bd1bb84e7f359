//! Quotes and invoices laid out for a realistic tenant, checked block by block.

use caravan_plugin_pdf_template::DefaultTemplate;
use caravan_sdk::{
    Banking, Block, Branding, Customer, Document, DocumentKind, DocumentRequest, InvoiceItem,
    KeyValue, Money, Panel, PdfTemplate, PriceComponent, PricedLine, PricedOption, ServiceType,
    Table, TripSummary,
};

const RED: &str = "#C8102E";

fn branding() -> Branding {
    Branding {
        company_name: "Sunbird Safaris".into(),
        primary_color: RED.into(),
        secondary_color: "#1F3A5F".into(),
        has_logo: false,
        support_email: Some("hello@sunbird.example".into()),
        support_phone: Some("+27 21 555 0100".into()),
        website: Some("sunbird.example".into()),
        vat_number: Some("4123456789".into()),
    }
}

fn zar(amount: i64) -> Money {
    Money::new(amount, "ZAR")
}

fn option(title: &str, stars: Option<u8>, total: i64, per_person: Option<i64>) -> PricedOption {
    PricedOption {
        title: title.into(),
        hotel_name: Some(title.into()),
        star_rating: stars,
        room_type: Some("Deluxe Suite".into()),
        meal_plan: Some("HB".into()),
        lines: vec![PricedLine {
            service: ServiceType::Accommodation,
            description: format!("{title} — Deluxe Suite (HB)"),
            nights: 7,
            rate_id: Some("RATE-005".into()),
            net: Money::new(592_200, "USD"),
            sell: zar(total),
            components: vec![PriceComponent {
                label: "2 adults sharing × 7 nights".into(),
                amount: zar(total),
            }],
        }],
        total: zar(total),
        per_person: per_person.map(zar),
    }
}

fn quote_request() -> DocumentRequest {
    DocumentRequest {
        kind: DocumentKind::Quote,
        reference: "QT-20270210-4F2A9C".into(),
        issued_on: "2027-02-10".into(),
        valid_until: None,
        branding: branding(),
        customer: Customer {
            name: "Thandi Nkosi".into(),
            email: Some("thandi@example.com".into()),
            phone: Some("+27 82 555 0199".into()),
        },
        trip: Some(TripSummary {
            destination: "Zanzibar".into(),
            check_in: "2027-03-12".into(),
            check_out: "2027-03-19".into(),
            nights: 7,
            adults: 2,
            children: 1,
            rooms: 2,
        }),
        options: vec![
            option("Coral Cove Resort", Some(5), 4_860_000, Some(2_430_000)),
            option("Stone Town Courtyard Inn", None, 123_456_789, None),
        ],
        items: vec![],
        subtotal: None,
        tax: None,
        total: None,
        banking: Some(banking()),
        terms: vec![
            "A 30% deposit confirms the booking.".into(),
            "Cancellation fees apply from 60 days before arrival.".into(),
        ],
        notes: None,
    }
}

fn banking() -> Banking {
    Banking {
        bank_name: "First National Bank".into(),
        account_name: "Sunbird Safaris (Pty) Ltd".into(),
        account_number: "62812345678".into(),
        branch_code: Some("250655".into()),
        swift_code: Some("FIRNZAJJ".into()),
        reference_prefix: Some("SUN-".into()),
    }
}

fn invoice_request() -> DocumentRequest {
    DocumentRequest {
        kind: DocumentKind::Invoice,
        reference: "INV-2027-0042".into(),
        issued_on: "2027-02-12".into(),
        valid_until: Some("2027-02-19".into()),
        options: vec![],
        items: vec![
            InvoiceItem {
                description: "Coral Cove Resort — Deluxe Suite (HB), 7 nights".into(),
                quantity: 1,
                unit_price: zar(4_226_087),
                total: zar(4_226_087),
            },
            InvoiceItem {
                description: "Airport transfer".into(),
                quantity: 2,
                unit_price: zar(45_000),
                total: zar(90_000),
            },
        ],
        subtotal: Some(zar(4_316_087)),
        tax: Some(zar(647_413)),
        total: Some(zar(4_963_500)),
        ..quote_request()
    }
}

fn render(request: DocumentRequest) -> Document {
    DefaultTemplate::render(request).unwrap()
}

fn panels(doc: &Document) -> Vec<&Panel> {
    doc.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Panel(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn key_values(doc: &Document) -> Vec<&KeyValue> {
    doc.blocks
        .iter()
        .filter_map(|b| match b {
            Block::KeyValues(kv) => Some(kv),
            _ => None,
        })
        .flatten()
        .collect()
}

fn value<'a>(doc: &'a Document, key: &str) -> Option<&'a str> {
    key_values(doc)
        .into_iter()
        .find(|kv| kv.key == key)
        .map(|kv| kv.value.as_str())
}

fn texts(doc: &Document) -> Vec<&str> {
    doc.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading(t) | Block::Paragraph(t) => Some(t.content.as_str()),
            _ => None,
        })
        .collect()
}

fn is_color(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Every colour is `#RRGGBB`, every size 6–36, every table row as wide as its columns.
fn assert_renderable(doc: &Document) {
    for block in &doc.blocks {
        match block {
            Block::Heading(t) | Block::Paragraph(t) => {
                assert!((6..=36).contains(&t.size), "{t:?}");
                assert!(t.color.as_deref().is_none_or(is_color), "{t:?}");
            }
            Block::Banner(b) => assert!(is_color(&b.background) && is_color(&b.foreground)),
            Block::Panel(p) => assert!(is_color(&p.background)),
            Block::Rule(c) => assert!(is_color(c)),
            Block::Table(t) => assert_table(t),
            Block::Spacer(points) => assert!((1..=200).contains(points)),
            Block::Image(i) => assert!((5..=180).contains(&i.width_mm)),
            Block::KeyValues(_) | Block::PageBreak => {}
        }
    }
}

fn assert_table(table: &Table) {
    let width: u32 = table
        .columns
        .iter()
        .map(|c| u32::from(c.width_percent))
        .sum();
    assert_eq!(width, 100);
    assert!(table.rows.iter().all(|r| r.len() == table.columns.len()));
    assert!(table.header_background.as_deref().is_none_or(is_color));
}

#[test]
fn a_quote_opens_with_a_banner_in_the_tenants_colour() {
    let doc = render(quote_request());
    let Block::Banner(banner) = &doc.blocks[0] else {
        panic!("banner first: {:?}", doc.blocks[0]);
    };
    assert_eq!(banner.title, "Sunbird Safaris");
    assert_eq!(banner.subtitle.as_deref(), Some("Travel Quote"));
    assert_eq!(banner.background, RED);
    assert_eq!(banner.foreground, "#FFFFFF");
    assert_eq!(doc.title, "Quote QT-20270210-4F2A9C");
    assert_renderable(&doc);
}

#[test]
fn a_quote_names_the_customer_and_the_trip() {
    let doc = render(quote_request());
    assert_eq!(value(&doc, "Reference"), Some("QT-20270210-4F2A9C"));
    assert_eq!(value(&doc, "Customer"), Some("Thandi Nkosi"));
    assert_eq!(value(&doc, "Email"), Some("thandi@example.com"));
    assert_eq!(value(&doc, "Destination"), Some("Zanzibar"));
    assert_eq!(value(&doc, "Dates"), Some("2027-03-12 to 2027-03-19"));
    assert_eq!(value(&doc, "Guests"), Some("2 Adults, 1 Child (2 rooms)"));
}

#[test]
fn each_option_is_a_panel_with_its_prices() {
    let doc = render(quote_request());
    assert!(texts(&doc).contains(&"Accommodation Options"));
    let panels = panels(&doc);
    let titles: Vec<&str> = panels.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Option 1: Coral Cove Resort (5 star)",
            "Option 2: Stone Town Courtyard Inn"
        ]
    );
    assert_eq!(panels[0].footer.as_deref(), Some("Total: ZAR 48,600"));
    assert_eq!(panels[1].footer.as_deref(), Some("Total: ZAR 1,234,568"));
    assert!(panels[0].lines.contains(&"Room: Deluxe Suite".to_owned()));
    assert!(
        panels[0]
            .lines
            .contains(&"Meal plan: Half Board (HB)".to_owned())
    );
    assert!(
        panels[0]
            .lines
            .contains(&"Per Person: ZAR 24,300".to_owned())
    );
    assert!(!panels[1].lines.iter().any(|l| l.starts_with("Per Person")));
    assert!(
        panels
            .iter()
            .all(|p| p.background != RED && p.background.starts_with('#'))
    );
}

#[test]
fn long_line_descriptions_are_cut() {
    let mut request = quote_request();
    request.options[0].lines[0].description = "Private sunset dhow cruise ".repeat(10);
    request.options[0].lines[0].nights = 0;
    let doc = render(request);
    let line = panels(&doc)[0]
        .lines
        .iter()
        .find(|l| l.starts_with("Private sunset"))
        .unwrap()
        .clone();
    assert!(line.chars().count() <= 120);
    assert!(line.ends_with('…'));
}

#[test]
fn a_quote_ends_with_its_terms_and_who_made_it() {
    let doc = render(quote_request());
    let texts = texts(&doc);
    assert!(texts.contains(&"A 30% deposit confirms the booking."));
    assert!(texts.contains(&"Quote generated by Sunbird Safaris"));
    assert!(texts.contains(&"This quote is valid for 7 days and subject to availability."));
    assert_eq!(
        doc.footer.as_deref(),
        Some("Sunbird Safaris · hello@sunbird.example · +27 21 555 0100 · sunbird.example")
    );
}

#[test]
fn a_quote_with_a_validity_date_names_it() {
    let mut request = quote_request();
    request.valid_until = Some("2027-02-17".into());
    let texts_doc = render(request);
    assert!(
        texts(&texts_doc)
            .contains(&"This quote is valid until 2027-02-17 and subject to availability.")
    );
}

#[test]
fn banking_details_appear_on_invoices_only() {
    let quote = render(quote_request());
    assert_eq!(value(&quote, "Account Number"), None);
    let invoice = render(invoice_request());
    assert_eq!(value(&invoice, "Bank"), Some("First National Bank"));
    assert_eq!(
        value(&invoice, "Account Name"),
        Some("Sunbird Safaris (Pty) Ltd")
    );
    assert_eq!(value(&invoice, "Account Number"), Some("62812345678"));
    assert_eq!(value(&invoice, "Branch Code"), Some("250655"));
    assert_eq!(value(&invoice, "SWIFT"), Some("FIRNZAJJ"));
    assert_eq!(value(&invoice, "Reference"), Some("SUN-INV-2027-0042"));
}

#[test]
fn an_invoice_has_the_company_the_customer_and_its_dates() {
    let doc = render(invoice_request());
    let texts = texts(&doc);
    assert_eq!(texts[0], "Sunbird Safaris");
    assert!(texts.contains(&"VAT No: 4123456789"));
    assert!(texts.contains(&"INVOICE"));
    assert!(texts.contains(&"BILL TO"));
    assert!(texts.contains(&"Thandi Nkosi"));
    assert!(texts.contains(&"thandi@example.com"));
    assert!(texts.contains(&"+27 82 555 0199"));
    assert_eq!(value(&doc, "Invoice #"), Some("INV-2027-0042"));
    assert_eq!(value(&doc, "Date"), Some("2027-02-12"));
    assert_eq!(value(&doc, "Due Date"), Some("2027-02-19"));
    assert_eq!(doc.title, "Invoice INV-2027-0042");
    assert!(
        !doc.blocks
            .iter()
            .any(|b| matches!(b, Block::Banner(_) | Block::Panel(_)))
    );
    assert_renderable(&doc);
}

#[test]
fn an_invoice_lists_its_items_in_a_table() {
    let doc = render(invoice_request());
    let tables: Vec<&Table> = doc
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Table(t) => Some(t),
            _ => None,
        })
        .collect();
    let [table] = tables.as_slice() else {
        panic!("one table expected");
    };
    let headers: Vec<&str> = table.columns.iter().map(|c| c.header.as_str()).collect();
    assert_eq!(headers, ["#", "Description", "Unit Price", "Qty", "Total"]);
    assert_eq!(
        table.rows[1],
        ["2", "Airport transfer", "ZAR 450.00", "2", "ZAR 900.00"]
    );
    assert_eq!(table.header_background.as_deref(), Some(RED));
    assert_table(table);
}

#[test]
fn an_invoice_totals_with_vat() {
    let doc = render(invoice_request());
    assert_eq!(value(&doc, "SubTotal"), Some("ZAR 43,160.87"));
    assert_eq!(value(&doc, "VAT"), Some("ZAR 6,474.13"));
    assert_eq!(value(&doc, "TOTAL"), Some("ZAR 49,635.00"));
}

#[test]
fn missing_invoice_totals_are_worked_out_from_the_items() {
    let mut request = invoice_request();
    request.branding.vat_number = None;
    request.subtotal = None;
    request.total = None;
    let doc = render(request);
    assert_eq!(value(&doc, "SubTotal"), Some("ZAR 43,160.87"));
    assert_eq!(value(&doc, "Tax"), Some("ZAR 6,474.13"));
    assert_eq!(value(&doc, "TOTAL"), Some("ZAR 49,635.00"));
    assert!(!texts(&doc).iter().any(|t| t.starts_with("VAT No")));
}

#[test]
fn an_invoice_without_banking_details_has_none() {
    let mut request = invoice_request();
    request.banking = None;
    let doc = render(request);
    assert_eq!(value(&doc, "Account Number"), None);
    assert!(!texts(&doc).contains(&"Banking Details"));
}

#[test]
fn a_bad_brand_colour_falls_back_to_a_safe_one() {
    let mut request = quote_request();
    request.branding.primary_color = "crimson".into();
    request.branding.has_logo = true;
    let doc = render(request);
    assert!(matches!(&doc.blocks[0], Block::Image(i) if i.key == "logo"));
    let Block::Banner(banner) = &doc.blocks[1] else {
        panic!("banner after the logo");
    };
    assert_eq!(banner.background, "#1F3A5F");
    assert_renderable(&doc);
}

#[test]
fn a_quote_without_options_or_trip_still_renders() {
    let mut request = quote_request();
    request.options = vec![];
    request.trip = None;
    request.customer.email = None;
    let doc = render(request);
    assert!(panels(&doc).is_empty());
    assert_eq!(value(&doc, "Dates"), None);
    assert_eq!(value(&doc, "Email"), None);
    assert_renderable(&doc);
}
