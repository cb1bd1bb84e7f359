//! The rate table as CSV, for import and export.
//!
//! One row per rate, nightly amounts in major units of the row's currency:
//!
//! ```text
//! hotel_name,destination,star_rating,room_type,meal_plan,valid_from,valid_to,currency,
//! per_person_sharing_per_night,single_per_night,child_per_night,infant_per_night,min_nights
//! ```
//!
//! optionally followed by `nights,is_active,flights_adult,flights_child,transfers_adult,
//! transfers_child` in any order. The export writes every column, so it imports again.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::model::Rate;
use super::{
    DEFAULT_NIGHTS, MAX_AMOUNT_MINOR, blank_rate, check_nights, check_period, label, parse_date,
    stars, stay_length,
};
use crate::error::{Error, FieldError, Result};
use crate::money::Currency;
use crate::tenants::validate::{self, Checks};

/// Columns every file must have.
pub const REQUIRED: [&str; 13] = [
    "hotel_name",
    "destination",
    "star_rating",
    "room_type",
    "meal_plan",
    "valid_from",
    "valid_to",
    "currency",
    "per_person_sharing_per_night",
    "single_per_night",
    "child_per_night",
    "infant_per_night",
    "min_nights",
];

/// Columns a file may add.
pub const OPTIONAL: [&str; 6] = [
    "nights",
    "is_active",
    "flights_adult",
    "flights_child",
    "transfers_adult",
    "transfers_child",
];

/// Most data rows one import takes.
pub const MAX_ROWS: usize = 10_000;

/// One problem with one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Data row: 1 is the first row after the header.
    pub row: usize,
    /// Line of the file where the row starts (the header is line 1).
    pub line: u64,
    /// The column at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

/// A file read into rates (with fresh ids), or the problems of its bad rows.
#[derive(Debug)]
pub struct Parsed {
    /// Data rows in the file, blank lines aside.
    pub total_rows: usize,
    /// The good rows; only meaningful when `errors` is empty.
    pub rates: Vec<Rate>,
    pub errors: Vec<RowError>,
}

/// A problem with the file as a whole.
fn file_error(msg: impl Into<String>) -> Error {
    Error::validation(FieldError {
        loc: vec!["body".to_owned(), "file".to_owned()],
        msg: msg.into(),
        kind: "value_error".to_owned(),
    })
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The line of the byte at `offset` (1-based).
fn line_of(text: &[u8], offset: usize) -> usize {
    text[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Reads a rate table. File-level problems (not UTF-8, empty, columns missing, unknown or
/// repeated, too many rows) are errors; row problems are collected in [`Parsed::errors`].
pub fn parse(bytes: &[u8], tenant_id: &str, home: Currency, at: DateTime<Utc>) -> Result<Parsed> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        file_error(format!(
            "The file is not UTF-8 text (invalid bytes on line {}); save it as \"CSV UTF-8\"",
            line_of(bytes, e.valid_up_to())
        ))
    })?;
    if text.trim().is_empty() {
        return Err(file_error(
            "The file is empty; expected a header row and rates",
        ));
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| file_error(format!("The header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let columns = columns(&headers)?;

    let mut parsed = Parsed {
        total_rows: 0,
        rates: Vec::new(),
        errors: Vec::new(),
    };
    let mut seen: HashMap<(String, String, String, NaiveDate, NaiveDate), usize> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, ::csv::Position::line);
            file_error(format!("Line {line} cannot be read as CSV: {e}"))
        })?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        parsed.total_rows += 1;
        if parsed.total_rows > MAX_ROWS {
            return Err(file_error(format!(
                "The file has more than {MAX_ROWS} rows; split it into several imports"
            )));
        }
        let row = parsed.total_rows;
        let line = record.position().map_or(0, ::csv::Position::line);
        if record.len() != headers.len() {
            parsed.errors.push(RowError {
                row,
                line,
                field: None,
                message: format!(
                    "expected {} fields like the header, found {}",
                    headers.len(),
                    record.len()
                ),
            });
            continue;
        }
        let cell = |name: &str| columns.get(name).map_or("", |&i| &record[i]);
        match rate(&cell, tenant_id, home, at) {
            Ok(rate) => {
                let key = (
                    rate.hotel_name.clone(),
                    rate.room_type.clone(),
                    rate.meal_plan.clone(),
                    rate.valid_from,
                    rate.valid_to,
                );
                if let Some(first) = seen.get(&key) {
                    parsed.errors.push(RowError {
                        row,
                        line,
                        field: None,
                        message: format!(
                            "repeats row {first}: the same hotel, room type, meal plan and \
                             period may appear once"
                        ),
                    });
                } else {
                    seen.insert(key, row);
                    parsed.rates.push(rate);
                }
            }
            Err(errors) => parsed.errors.extend(errors.into_iter().map(|e| RowError {
                row,
                line,
                field: e.loc.get(1).cloned(),
                message: e.msg,
            })),
        }
    }
    if parsed.total_rows == 0 {
        return Err(file_error("The file has a header but no rates"));
    }
    Ok(parsed)
}

/// Where each known column is; every required one must be there, nothing else may.
fn columns(headers: &[String]) -> Result<HashMap<&'static str, usize>> {
    let mut columns = HashMap::new();
    let mut unknown = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        match REQUIRED
            .iter()
            .chain(OPTIONAL.iter())
            .find(|c| **c == header.as_str())
        {
            Some(name) => {
                if columns.insert(*name, i).is_some() {
                    return Err(file_error(format!("The column `{name}` appears twice")));
                }
            }
            None => unknown.push(header.as_str()),
        }
    }
    if !unknown.is_empty() {
        return Err(file_error(format!(
            "Unknown column(s) {}; the columns are {} and optionally {}",
            list(&unknown),
            list(&REQUIRED),
            list(&OPTIONAL)
        )));
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| !columns.contains_key(c))
        .collect();
    if !missing.is_empty() {
        return Err(file_error(format!(
            "Missing required column(s) {}",
            list(&missing)
        )));
    }
    Ok(columns)
}

/// Why an amount cell was refused.
#[derive(Debug, PartialEq, Eq)]
enum AmountError {
    Format,
    Negative,
    Decimals,
    TooLarge,
}

/// A non-negative decimal amount in major units (`1250`, `1250.5`, `1250.50`) as minor units
/// of a currency with `exponent` decimals, exactly (no floating point).
fn minor_units(text: &str, exponent: u32) -> std::result::Result<i64, AmountError> {
    if let Some(rest) = text.strip_prefix('-') {
        return Err(if minor_units(rest, exponent).is_ok() {
            AmountError::Negative
        } else {
            AmountError::Format
        });
    }
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return Err(AmountError::Format);
    }
    let frac = frac.trim_end_matches('0');
    let exponent = exponent as usize;
    if frac.len() > exponent {
        return Err(AmountError::Decimals);
    }
    let int = int.trim_start_matches('0');
    if int.len() > 15 {
        return Err(AmountError::TooLarge);
    }
    let whole: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| AmountError::Format)?
    };
    let padded = format!("{frac:0<exponent$}");
    let part: i64 = if padded.is_empty() {
        0
    } else {
        padded.parse().map_err(|_| AmountError::Format)?
    };
    let minor = whole
        .checked_mul(10i64.pow(exponent as u32))
        .and_then(|w| w.checked_add(part))
        .ok_or(AmountError::TooLarge)?;
    if minor > MAX_AMOUNT_MINOR {
        return Err(AmountError::TooLarge);
    }
    Ok(minor)
}

/// An amount cell; `None` when empty.
fn amount(checks: &mut Checks, field: &str, text: &str, currency: Currency) -> Option<i64> {
    if text.is_empty() {
        return None;
    }
    match minor_units(text, currency.exponent()) {
        Ok(minor) => Some(minor),
        Err(e) => {
            let msg = match e {
                AmountError::Format => {
                    format!("{field} must be an amount such as 1250 or 1250.50 (got `{text}`)")
                }
                AmountError::Negative => format!("{field} must not be negative"),
                AmountError::Decimals => format!(
                    "{field} has more decimals than {currency} allows ({})",
                    currency.exponent()
                ),
                AmountError::TooLarge => format!("{field} is too large"),
            };
            checks.fail(field, msg);
            None
        }
    }
}

fn whole_number(checks: &mut Checks, field: &str, text: &str, rule: &str) -> Option<i64> {
    match text.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            checks.fail(field, format!("{field} {rule} (got `{text}`)"));
            None
        }
    }
}

fn flag(checks: &mut Checks, field: &str, text: &str) -> bool {
    match text.to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" | "y" => true,
        "false" | "0" | "no" | "n" => false,
        _ => {
            checks.fail(
                field,
                format!("{field} must be true or false (got `{text}`)"),
            );
            true
        }
    }
}

/// One row as a rate, or every rule it breaks.
fn rate<'a>(
    cell: &impl Fn(&str) -> &'a str,
    tenant_id: &str,
    home: Currency,
    at: DateTime<Utc>,
) -> std::result::Result<Rate, Vec<FieldError>> {
    let mut checks = Checks::default();
    let mut rate = blank_rate(tenant_id, home, at);
    rate.hotel_name = label(&mut checks, "hotel_name", cell("hotel_name"), 200);
    rate.destination = label(&mut checks, "destination", cell("destination"), 100);
    rate.room_type = label(&mut checks, "room_type", cell("room_type"), 100);
    rate.meal_plan = label(&mut checks, "meal_plan", cell("meal_plan"), 100);
    let stars_text = cell("star_rating");
    if !stars_text.is_empty() {
        let rule = "must be a whole number of stars from 1 to 7";
        rate.star_rating = whole_number(&mut checks, "star_rating", stars_text, rule)
            .and_then(|n| stars(&mut checks, "star_rating", n));
    }
    let mut date = |field: &str| {
        let text = cell(field);
        let parsed = parse_date(text);
        if parsed.is_none() {
            checks.fail(
                field,
                format!("{field} must be a date in the form YYYY-MM-DD (got `{text}`)"),
            );
        }
        parsed
    };
    let (from, to) = (date("valid_from"), date("valid_to"));
    if let (Some(from), Some(to)) = (from, to) {
        check_period(&mut checks, "valid_to", from, to, "valid_from");
        rate.valid_from = from;
        rate.valid_to = to;
    }
    let code = cell("currency");
    if !code.is_empty() {
        let code = validate::currency(&mut checks, code);
        rate.currency = Currency::parse(&code).unwrap_or(home);
    }
    let cur = rate.currency;
    let sharing = cell("per_person_sharing_per_night");
    if sharing.is_empty() {
        checks.fail(
            "per_person_sharing_per_night",
            "per_person_sharing_per_night must not be empty",
        );
    }
    rate.sharing_per_night =
        amount(&mut checks, "per_person_sharing_per_night", sharing, cur).unwrap_or(0);
    rate.single_per_night = amount(
        &mut checks,
        "single_per_night",
        cell("single_per_night"),
        cur,
    );
    rate.child_per_night = amount(&mut checks, "child_per_night", cell("child_per_night"), cur);
    rate.infant_per_night = amount(
        &mut checks,
        "infant_per_night",
        cell("infant_per_night"),
        cur,
    );
    let nights_rule = "must be a whole number of nights from 1 to 30";
    let min_text = cell("min_nights");
    if !min_text.is_empty() {
        rate.min_nights = whole_number(&mut checks, "min_nights", min_text, nights_rule)
            .map_or(1, |n| stay_length(&mut checks, "min_nights", n));
    }
    let nights_text = cell("nights");
    rate.nights = if nights_text.is_empty() {
        DEFAULT_NIGHTS.max(rate.min_nights)
    } else {
        whole_number(&mut checks, "nights", nights_text, nights_rule)
            .map_or(DEFAULT_NIGHTS, |n| stay_length(&mut checks, "nights", n))
    };
    check_nights(&mut checks, rate.nights, rate.min_nights);
    rate.is_active = flag(&mut checks, "is_active", cell("is_active"));
    rate.flights_adult = amount(&mut checks, "flights_adult", cell("flights_adult"), cur);
    rate.flights_child = amount(&mut checks, "flights_child", cell("flights_child"), cur);
    rate.transfers_adult = amount(&mut checks, "transfers_adult", cell("transfers_adult"), cur);
    rate.transfers_child = amount(&mut checks, "transfers_child", cell("transfers_child"), cur);
    if checks.0.is_empty() {
        Ok(rate)
    } else {
        Err(checks.0)
    }
}

/// Minor units as a major-unit amount with the currency's decimals (`253`, `253.50`).
pub fn format_major(minor: i64, currency: Currency) -> String {
    let exponent = currency.exponent();
    let scale = 10i64.pow(exponent);
    let (whole, part) = (minor / scale, (minor % scale).abs());
    if part == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{part:0width$}", width = exponent as usize)
    }
}

/// Writes rates in the import's format, every column included.
pub fn write(rates: &[Rate]) -> Result<Vec<u8>> {
    let internal = |e: ::csv::Error| Error::Internal {
        operation: "writing the rates CSV",
        cause: e.into(),
    };
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer
        .write_record(REQUIRED.iter().chain(OPTIONAL.iter()))
        .map_err(internal)?;
    for r in rates {
        let amount =
            |minor: Option<i64>| minor.map_or_else(String::new, |m| format_major(m, r.currency));
        writer
            .write_record([
                r.hotel_name.clone(),
                r.destination.clone(),
                r.star_rating.map_or_else(String::new, |s| s.to_string()),
                r.room_type.clone(),
                r.meal_plan.clone(),
                r.valid_from.format("%Y-%m-%d").to_string(),
                r.valid_to.format("%Y-%m-%d").to_string(),
                r.currency.as_str().to_owned(),
                amount(Some(r.sharing_per_night)),
                amount(r.single_per_night),
                amount(r.child_per_night),
                amount(r.infant_per_night),
                r.min_nights.to_string(),
                r.nights.to_string(),
                r.is_active.to_string(),
                amount(r.flights_adult),
                amount(r.flights_child),
                amount(r.transfers_adult),
                amount(r.transfers_child),
            ])
            .map_err(internal)?;
    }
    writer.into_inner().map_err(|e| Error::Internal {
        operation: "writing the rates CSV",
        cause: anyhow::anyhow!("{e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "hotel_name,destination,star_rating,room_type,meal_plan,valid_from,\
        valid_to,currency,per_person_sharing_per_night,single_per_night,child_per_night,\
        infant_per_night,min_nights";

    fn zar() -> Currency {
        Currency::parse("ZAR").unwrap()
    }

    fn read(text: &str) -> Result<Parsed> {
        parse(text.as_bytes(), "t", zar(), Utc::now())
    }

    fn detail(err: Error) -> String {
        match err {
            Error::Validation(e) => e[0].msg.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn amounts_are_read_exactly_in_minor_units() {
        assert_eq!(minor_units("253", 2), Ok(25_300));
        assert_eq!(minor_units("253.5", 2), Ok(25_350));
        assert_eq!(minor_units("253.50", 2), Ok(25_350));
        assert_eq!(minor_units("0.07", 2), Ok(7));
        assert_eq!(minor_units(".5", 2), Ok(50));
        assert_eq!(minor_units("1500", 0), Ok(1500));
        assert_eq!(minor_units("1.2345", 3), Err(AmountError::Decimals));
        assert_eq!(minor_units("1.000", 0), Ok(1));
        assert_eq!(minor_units("-5", 2), Err(AmountError::Negative));
        assert_eq!(minor_units("1,250", 2), Err(AmountError::Format));
        assert_eq!(minor_units("R250", 2), Err(AmountError::Format));
        assert_eq!(minor_units(".", 2), Err(AmountError::Format));
        assert_eq!(
            minor_units("99999999999999999", 2),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn amounts_are_written_with_the_currency_decimals() {
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(format_major(25_300, zar()), "253");
        assert_eq!(format_major(25_305, zar()), "253.05");
        assert_eq!(format_major(1_500, jpy), "1500");
    }

    #[test]
    fn a_good_row_becomes_a_rate_with_defaults() {
        let parsed = read(&format!(
            "\u{feff}{HEADER}\nBaraka Beach Lodge,Zanzibar,4,Standard Double,HB,2026-11-01,\
             2027-03-31,usd,253,405,126,0,2\n\n"
        ))
        .unwrap();
        assert_eq!(parsed.total_rows, 1);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let r = &parsed.rates[0];
        assert_eq!(r.currency.as_str(), "USD");
        assert_eq!(r.sharing_per_night, 25_300);
        assert_eq!(r.infant_per_night, Some(0));
        assert_eq!((r.min_nights, r.nights, r.is_active), (2, 7, true));
        assert!(r.rate_id.starts_with("RATE-"));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_field() {
        let parsed = read(&format!(
            "{HEADER}\n\
             Good Lodge,Zanzibar,4,Double,HB,2026-11-01,2027-03-31,USD,253,,,,2\n\
             ,Zanzibar,9,Double,HB,2027-03-31,2026-11-01,XXX,-1,abc,,,0\n\
             Short,Row\n"
        ))
        .unwrap();
        assert_eq!(parsed.total_rows, 3);
        let fields: Vec<_> = parsed
            .errors
            .iter()
            .filter(|e| e.row == 2)
            .map(|e| e.field.clone().unwrap_or_default())
            .collect();
        for f in [
            "hotel_name",
            "star_rating",
            "valid_to",
            "currency",
            "per_person_sharing_per_night",
            "single_per_night",
            "min_nights",
        ] {
            assert!(fields.iter().any(|x| x == f), "{f} not in {fields:?}");
        }
        assert!(parsed.errors.iter().all(|e| e.row == 2 || e.row == 3));
        let short = parsed.errors.iter().find(|e| e.row == 3).unwrap();
        assert_eq!((short.line, short.field.as_deref()), (4, None));
    }

    #[test]
    fn the_same_offer_twice_in_one_file_is_an_error() {
        let row = "Lodge,Zanzibar,4,Double,HB,2026-11-01,2027-03-31,USD,253,,,,2";
        let parsed = read(&format!("{HEADER}\n{row}\n{row}\n")).unwrap();
        assert_eq!(parsed.errors.len(), 1);
        assert!(parsed.errors[0].message.contains("repeats row 1"));
    }

    #[test]
    fn files_that_are_not_rate_tables_are_refused_whole() {
        assert!(detail(read("").unwrap_err()).contains("empty"));
        assert!(detail(read(&format!("{HEADER}\n")).unwrap_err()).contains("no rates"));
        assert!(
            detail(read("hotel_name,destination\nA,B\n").unwrap_err())
                .contains("Missing required column(s) `star_rating`")
        );
        assert!(
            detail(read(&format!("{HEADER},colour\n")).unwrap_err())
                .contains("Unknown column(s) `colour`")
        );
        assert!(detail(read(&format!("{HEADER},hotel_name\n")).unwrap_err()).contains("twice"));
        let latin1 = b"hotel_name\nCaf\xe9\n";
        let err = parse(latin1, "t", zar(), Utc::now()).unwrap_err();
        assert!(detail(err).contains("not UTF-8 text (invalid bytes on line 2)"));
    }

    #[test]
    fn an_export_reads_back_as_the_same_rates() {
        let parsed = read(&format!(
            "{HEADER},nights,is_active,flights_adult,transfers_child\n\
             Lodge,Zanzibar,,Double,HB,2026-11-01,2027-03-31,EUR,253.5,,12,0,3,5,false,4500,\n"
        ))
        .unwrap();
        let written = write(&parsed.rates).unwrap();
        let again = parse(&written, "t", zar(), Utc::now()).unwrap();
        assert!(again.errors.is_empty(), "{:?}", again.errors);
        let (a, b) = (&parsed.rates[0], &again.rates[0]);
        assert!(a.same_offer(b));
        assert_eq!(
            (
                a.currency,
                a.sharing_per_night,
                a.child_per_night,
                a.nights,
                a.is_active
            ),
            (
                b.currency,
                b.sharing_per_night,
                b.child_per_night,
                b.nights,
                b.is_active
            )
        );
        assert_eq!((a.flights_adult, a.transfers_child), (Some(450_000), None));
        assert_eq!((b.flights_adult, b.transfers_child), (Some(450_000), None));
    }
}
