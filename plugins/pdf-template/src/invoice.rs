//! The invoice layout: the company, who is billed, the items, the totals and where to pay.

use caravan_sdk::{
    Align, Banking, Block, Column, Document, DocumentRequest, Image, InvoiceItem, KeyValue, Money,
    Table, Text,
};

use crate::format;
use crate::style::{self, Palette};

/// Lays out an invoice.
pub fn layout(request: DocumentRequest) -> Document {
    let palette = Palette::of(&request.branding);
    let branding = &request.branding;
    let mut blocks = Vec::new();
    if branding.has_logo {
        blocks.push(Block::Image(Image {
            key: "logo".into(),
            width_mm: 40,
            align: Align::Left,
        }));
    }
    blocks.push(style::heading(
        branding.company_name.trim(),
        style::HEADING + 4,
        Some(&palette.primary),
    ));
    let contact: Vec<&str> = [
        &branding.support_email,
        &branding.support_phone,
        &branding.website,
    ]
    .into_iter()
    .flatten()
    .map(|s| s.trim())
    .filter(|s| !s.is_empty())
    .collect();
    if !contact.is_empty() {
        blocks.push(style::paragraph(contact.join(" · ")));
    }
    if let Some(vat) = branding
        .vat_number
        .as_deref()
        .filter(|v| !v.trim().is_empty())
    {
        blocks.push(style::paragraph(format!("VAT No: {}", vat.trim())));
    }
    blocks.push(Block::Rule(palette.primary.clone()));

    blocks.push(Block::Heading(Text {
        content: "INVOICE".into(),
        size: style::TITLE,
        bold: true,
        color: Some(palette.primary.clone()),
        align: Align::Right,
    }));
    blocks.push(Block::KeyValues(vec![
        row("Invoice #", &request.reference),
        row("Date", &request.issued_on),
        row(
            "Due Date",
            request.valid_until.as_deref().unwrap_or("On receipt"),
        ),
    ]));

    blocks.push(style::heading("BILL TO", style::SUBHEADING, None));
    blocks.push(style::paragraph(request.customer.name.trim()));
    for item in [&request.customer.email, &request.customer.phone]
        .into_iter()
        .flatten()
    {
        blocks.push(style::paragraph(item.trim()));
    }
    if let Some(trip) = &request.trip {
        blocks.push(style::paragraph(format!(
            "Trip: {}, {} to {} ({})",
            trip.destination,
            trip.check_in,
            trip.check_out,
            format::nights(trip.nights)
        )));
    }
    blocks.push(Block::Spacer(8));

    blocks.push(Block::Table(items(&request.items, &palette)));
    blocks.push(Block::KeyValues(totals(&request)));

    if let Some(notes) = request.notes.as_deref().filter(|n| !n.trim().is_empty()) {
        blocks.push(style::heading("Notes", style::SUBHEADING, None));
        blocks.push(style::paragraph(notes.trim()));
    }
    if !request.terms.is_empty() {
        blocks.push(style::heading("Terms", style::SUBHEADING, None));
        blocks.extend(request.terms.iter().map(|t| style::paragraph(t.trim())));
    }
    if let Some(banking) = &request.banking {
        blocks.push(style::heading("Banking Details", style::SUBHEADING, None));
        blocks.push(Block::KeyValues(bank_rows(banking, &request.reference)));
    }
    blocks.push(Block::Spacer(12));
    blocks.push(style::note("Thank you for your business."));

    Document {
        title: format!("Invoice {}", request.reference),
        blocks,
        footer: Some(style::contact_line(branding)),
    }
}

fn row(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: value.trim().into(),
    }
}

/// Columns #, Description, Unit Price, Qty, Total: widths add up to 100.
fn items(items: &[InvoiceItem], palette: &Palette) -> Table {
    let column = |header: &str, width_percent: u8, align: Align| Column {
        header: header.into(),
        width_percent,
        align,
    };
    Table {
        columns: vec![
            column("#", 6, Align::Right),
            column("Description", 46, Align::Left),
            column("Unit Price", 18, Align::Right),
            column("Qty", 10, Align::Center),
            column("Total", 20, Align::Right),
        ],
        rows: items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                vec![
                    (i + 1).to_string(),
                    format::cut(&item.description),
                    format::exact(&item.unit_price),
                    item.quantity.to_string(),
                    format::exact(&item.total),
                ]
            })
            .collect(),
        header_background: Some(palette.primary.clone()),
        striped: true,
    }
}

/// SubTotal, VAT or Tax when charged, TOTAL. Missing figures are worked out from the items
/// when they share one currency.
fn totals(request: &DocumentRequest) -> Vec<KeyValue> {
    let subtotal = request
        .subtotal
        .clone()
        .or_else(|| sum(request.items.iter().map(|i| &i.total)));
    let total = request.total.clone().or_else(|| match &request.tax {
        Some(tax) => sum(subtotal.iter().chain([tax])),
        None => subtotal.clone(),
    });
    let mut rows = Vec::new();
    if let Some(subtotal) = &subtotal {
        rows.push(row("SubTotal", &format::exact(subtotal)));
    }
    if let Some(tax) = &request.tax {
        let label = if request.branding.vat_number.is_some() {
            "VAT"
        } else {
            "Tax"
        };
        rows.push(row(label, &format::exact(tax)));
    }
    if let Some(total) = &total {
        rows.push(row("TOTAL", &format::exact(total)));
    }
    rows
}

/// The sum of `amounts`, or `None` when there are none or their currencies differ.
fn sum<'a>(mut amounts: impl Iterator<Item = &'a Money>) -> Option<Money> {
    let first = amounts.next()?;
    amounts.try_fold(first.clone(), |acc, m| {
        (m.currency == acc.currency)
            .then(|| acc.amount.checked_add(m.amount))
            .flatten()
            .map(|amount| Money::new(amount, acc.currency))
    })
}

fn bank_rows(banking: &Banking, reference: &str) -> Vec<KeyValue> {
    let mut rows = vec![
        row("Bank", &banking.bank_name),
        row("Account Name", &banking.account_name),
        row("Account Number", &banking.account_number),
    ];
    if let Some(branch) = &banking.branch_code {
        rows.push(row("Branch Code", branch));
    }
    if let Some(swift) = &banking.swift_code {
        rows.push(row("SWIFT", swift));
    }
    let prefix = banking.reference_prefix.as_deref().unwrap_or("").trim();
    rows.push(row("Reference", &format!("{prefix}{}", reference.trim())));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_need_one_currency() {
        let zar = [Money::new(100, "ZAR"), Money::new(250, "ZAR")];
        assert_eq!(sum(zar.iter()), Some(Money::new(350, "ZAR")));
        let mixed = [Money::new(100, "ZAR"), Money::new(250, "USD")];
        assert_eq!(sum(mixed.iter()), None);
        assert_eq!(sum([].iter()), None);
        let huge = [Money::new(i64::MAX, "ZAR"), Money::new(1, "ZAR")];
        assert_eq!(sum(huge.iter()), None);
    }

    #[test]
    fn item_columns_fill_the_width() {
        let palette = Palette {
            primary: "#C8102E".into(),
            on_primary: "#FFFFFF".into(),
            panel: "#FAE7EA".into(),
        };
        let table = items(&[], &palette);
        let width: u32 = table
            .columns
            .iter()
            .map(|c| u32::from(c.width_percent))
            .sum();
        assert_eq!(width, 100);
    }
}
