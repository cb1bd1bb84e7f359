//! Host-side checks of plugin outputs. A plugin is untrusted: whatever it returns must obey
//! the units and ranges the WIT documents before the host uses it. A broken rule is an
//! `invalid_output` error naming the field.

use std::collections::HashSet;

use super::PluginError;
use super::bindings::{documents, email, quoting, types};
use crate::money::is_known_currency;

fn fail(message: String) -> PluginError {
    PluginError::invalid_output(message)
}

/// A field's path, formatted only when an error names it (validation runs on every call).
type Field<'a> = &'a dyn std::fmt::Display;

/// `options[i].lines[j]`.
struct LinePath(usize, usize);

/// `blocks[i]`.
struct BlockPath(usize);

impl std::fmt::Display for BlockPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "blocks[{}]", self.0)
    }
}

impl std::fmt::Display for LinePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "options[{}].lines[{}]", self.0, self.1)
    }
}

fn money(field: Field<'_>, m: &types::Money) -> Result<(), PluginError> {
    if !is_known_currency(&m.currency) {
        return Err(fail(format!("{field}: unknown currency `{}`", m.currency)));
    }
    if m.amount < 0 {
        return Err(fail(format!("{field}: negative amount {}", m.amount)));
    }
    Ok(())
}

/// `YYYY-MM-DD` naming a real calendar day.
pub fn is_date(value: &str) -> bool {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok() && value.len() == 10
}

fn date(field: &str, value: &str) -> Result<(), PluginError> {
    if is_date(value) {
        Ok(())
    } else {
        Err(fail(format!("{field}: `{value}` is not a YYYY-MM-DD date")))
    }
}

fn color(field: Field<'_>, value: &str) -> Result<(), PluginError> {
    let ok = value.len() == 7
        && value.starts_with('#')
        && value[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(fail(format!("{field}: `{value}` is not a #RRGGBB colour")))
    }
}

pub fn parse_outcome(
    outcome: &email::ParseOutcome,
    tenant: &types::TenantContext,
) -> Result<(), PluginError> {
    let email::ParseOutcome::Enquiry(e) = outcome else {
        return Ok(());
    };
    let known: HashSet<String> = tenant
        .destinations
        .iter()
        .map(|d| d.name.to_lowercase())
        .collect();
    for d in &e.destinations {
        if !known.contains(&d.to_lowercase()) {
            return Err(fail(format!(
                "destinations: `{d}` is not one of the tenant's destinations"
            )));
        }
    }
    if let Some(d) = &e.check_in {
        date("check_in", d)?;
    }
    if let Some(d) = &e.check_out {
        date("check_out", d)?;
    }
    if let (Some(a), Some(b)) = (&e.check_in, &e.check_out)
        && b <= a
    {
        return Err(fail(format!("check_out {b} is not after check_in {a}")));
    }
    if let Some(n) = e.nights
        && !(1..=365).contains(&n)
    {
        return Err(fail(format!("nights: {n} is outside 1–365")));
    }
    if let Some(a) = e.adults
        && a > 50
    {
        return Err(fail(format!("adults: {a} is more than 50")));
    }
    if let Some(age) = e.children_ages.iter().find(|a| !(2..=17).contains(*a)) {
        return Err(fail(format!("children_ages: {age} is outside 2–17")));
    }
    if let Some(b) = &e.budget {
        money(&"budget", &b.amount)?;
    }
    if !(0.0..=1.0).contains(&e.confidence) {
        return Err(fail(format!("confidence: {} is outside 0–1", e.confidence)));
    }
    Ok(())
}

fn nightly(field: Field<'_>, n: &quoting::NightlyRates) -> Result<(), PluginError> {
    money(
        &format_args!("{field}.per_person_sharing"),
        &n.per_person_sharing,
    )?;
    for (name, m) in [
        ("single", &n.single),
        ("child", &n.child),
        ("infant", &n.infant),
    ] {
        if let Some(m) = m {
            money(&format_args!("{field}.{name}"), m)?;
        }
    }
    if n.child_min_age > n.child_max_age {
        return Err(fail(format!(
            "{field}: child_min_age is above child_max_age"
        )));
    }
    Ok(())
}

pub fn quote_plan(plan: &quoting::QuotePlan, rates: &[quoting::Rate]) -> Result<(), PluginError> {
    if plan.options.len() > 3 {
        return Err(fail(format!(
            "options: {} given, at most 3",
            plan.options.len()
        )));
    }
    let ids: HashSet<&str> = rates.iter().map(|r| r.id.as_str()).collect();
    for (i, option) in plan.options.iter().enumerate() {
        if option.lines.is_empty() {
            return Err(fail(format!("options[{i}]: no lines")));
        }
        for (j, line) in option.lines.iter().enumerate() {
            let field = LinePath(i, j);
            if line.nights > 365 {
                return Err(fail(format!(
                    "{field}.nights: {} is more than 365",
                    line.nights
                )));
            }
            if let Some(id) = &line.rate_id
                && !ids.contains(id.as_str())
            {
                return Err(fail(format!(
                    "{field}.rate_id: `{id}` is not one of the given rates"
                )));
            }
            match &line.cost {
                quoting::LineCost::Nightly(n) => nightly(&format_args!("{field}.cost"), n)?,
                quoting::LineCost::Fixed(f) => {
                    money(&format_args!("{field}.cost.unit"), &f.unit)?;
                    if f.quantity == 0 {
                        return Err(fail(format!("{field}.cost.quantity: must be at least 1")));
                    }
                }
            }
        }
    }
    Ok(())
}

pub fn priced_quote(
    quote: &quoting::PricedQuote,
    request: &quoting::PricingRequest,
) -> Result<(), PluginError> {
    if quote.currency != request.quote_currency {
        return Err(fail(format!(
            "currency: `{}` differs from the requested quote currency `{}`",
            quote.currency, request.quote_currency
        )));
    }
    if quote.options.len() != request.options.len() {
        return Err(fail(format!(
            "options: {} priced, {} requested",
            quote.options.len(),
            request.options.len()
        )));
    }
    for (i, option) in quote.options.iter().enumerate() {
        let mut sum: i128 = 0;
        for (j, line) in option.lines.iter().enumerate() {
            let field = LinePath(i, j);
            money(&format_args!("{field}.net"), &line.net)?;
            money(&format_args!("{field}.sell"), &line.sell)?;
            if line.sell.currency != quote.currency {
                return Err(fail(format!("{field}.sell: not in the quote currency")));
            }
            let mut parts: i128 = 0;
            for (k, c) in line.components.iter().enumerate() {
                money(&format_args!("{field}.components[{k}].amount"), &c.amount)?;
                if c.amount.currency != quote.currency {
                    return Err(fail(format!(
                        "{field}.components[{k}].amount: not in the quote currency"
                    )));
                }
                parts += i128::from(c.amount.amount);
            }
            if !line.components.is_empty() && parts != i128::from(line.sell.amount) {
                return Err(fail(format!(
                    "{field}.components add up to {parts}, not to sell {}",
                    line.sell.amount
                )));
            }
            sum += i128::from(line.sell.amount);
        }
        money(&format_args!("options[{i}].total"), &option.total)?;
        if option.total.currency != quote.currency || i128::from(option.total.amount) != sum {
            return Err(fail(format!(
                "options[{i}].total {} {} is not the sum of its lines ({sum} {})",
                option.total.amount, option.total.currency, quote.currency
            )));
        }
        if let Some(pp) = &option.per_person {
            money(&format_args!("options[{i}].per_person"), pp)?;
            if pp.currency != quote.currency {
                return Err(fail(format!(
                    "options[{i}].per_person: not in the quote currency"
                )));
            }
        }
    }
    Ok(())
}

fn text(field: Field<'_>, t: &documents::Text) -> Result<(), PluginError> {
    if !(6..=36).contains(&t.size) {
        return Err(fail(format!("{field}.size: {} is outside 6–36", t.size)));
    }
    if let Some(c) = &t.color {
        color(&format_args!("{field}.color"), c)?;
    }
    Ok(())
}

pub fn document(doc: &documents::Document) -> Result<(), PluginError> {
    const MAX_BLOCKS: usize = 2_000;
    if doc.blocks.len() > MAX_BLOCKS {
        return Err(fail(format!(
            "blocks: {} given, at most {MAX_BLOCKS}",
            doc.blocks.len()
        )));
    }
    for (i, block) in doc.blocks.iter().enumerate() {
        let field = BlockPath(i);
        match block {
            documents::Block::Banner(b) => {
                color(&format_args!("{field}.background"), &b.background)?;
                color(&format_args!("{field}.foreground"), &b.foreground)?;
            }
            documents::Block::Heading(t) | documents::Block::Paragraph(t) => text(&field, t)?,
            documents::Block::Table(t) => {
                let width: u32 = t.columns.iter().map(|c| u32::from(c.width_percent)).sum();
                if t.columns.is_empty() || width != 100 {
                    return Err(fail(format!(
                        "{field}: column widths add up to {width}, not 100"
                    )));
                }
                if let Some(row) = t.rows.iter().position(|r| r.len() != t.columns.len()) {
                    return Err(fail(format!(
                        "{field}.rows[{row}]: {} cells for {} columns",
                        t.rows[row].len(),
                        t.columns.len()
                    )));
                }
                if let Some(c) = &t.header_background {
                    color(&format_args!("{field}.header_background"), c)?;
                }
            }
            documents::Block::Panel(p) => {
                color(&format_args!("{field}.background"), &p.background)?;
            }
            documents::Block::Image(img) => {
                if !(5..=180).contains(&img.width_mm) {
                    return Err(fail(format!(
                        "{field}.width_mm: {} is outside 5–180",
                        img.width_mm
                    )));
                }
            }
            documents::Block::Spacer(points) => {
                if !(1..=200).contains(points) {
                    return Err(fail(format!(
                        "{field}: spacer of {points} points is outside 1–200"
                    )));
                }
            }
            documents::Block::Rule(c) => color(&field, c)?,
            documents::Block::KeyValues(_) | documents::Block::PageBreak => {}
        }
    }
    Ok(())
}
