//! Rates and hotels: a tenant's nightly hotel rates, the rules they follow, CSV import and
//! export, the summaries the pricing pages read, and the rows the quote pipeline prices.
//!
//! Rates are stored per night in integer minor units of the row's currency. The dashboard
//! thinks in whole stays: a rate's `nights` (7 unless set) is the stay its
//! `total_7nights_*` figures describe, computed as the nightly amount × `nights`. Whole-stay
//! input is turned back into a nightly amount by dividing by `nights` and rounding to the
//! currency's minor unit.

pub mod csv;
pub mod model;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Deserializer};

use crate::error::{Error, FieldError, Result};
use crate::money::{Currency, Money};
use crate::plugins::bindings::{quoting, types};
use crate::storage::{RateRepo, StorageError};
use crate::tenants::model::Tenant;
use crate::tenants::validate::Checks;
use model::{
    Activity, DestinationSummary, HotelDetail, HotelSummary, PriceRange, Rate, RateFilter,
    RatePage, RateStats,
};

/// Default page size of the rate list.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest page of the rate list (a larger `limit` is a 422).
pub const MAX_LIMIT: u32 = 500;
/// Most rows an export writes.
pub const EXPORT_CAP: u32 = 100_000;
/// The stay length whole-stay totals describe unless a rate says otherwise.
pub const DEFAULT_NIGHTS: u32 = 7;
/// Longest stay a rate's `nights` and `min_nights` may name.
pub const MAX_NIGHTS: u32 = 30;
/// Largest nightly or per-trip amount in minor units (10¹²: R 10 000 000 000,00), so that
/// whole-stay figures and sums stay far inside `i64`.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000;
/// Ages the child rate of a CSV rate applies to (younger is an infant, older an adult).
pub const CHILD_MIN_AGE: u32 = 2;
pub const CHILD_MAX_AGE: u32 = 11;

const MAX_NAME_CHARS: usize = 200;
const MAX_LABEL_CHARS: usize = 100;

/// What the pricing routes call.
pub struct RateService {
    repo: Arc<dyn RateRepo>,
}

impl std::fmt::Debug for RateService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateService").finish_non_exhaustive()
    }
}

fn storage(operation: &'static str) -> impl FnOnce(StorageError) -> Error {
    move |e| Error::storage(operation, e)
}

/// Timestamps with microsecond precision, which every backend stores exactly.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A fresh public id: `RATE-` and 8 upper-case hex digits.
pub fn new_rate_id() -> String {
    format!("RATE-{:08X}", rand::random::<u32>())
}

/// A path id as stored: `RATE-…` (any case) upper-cased, a uuid in its hyphenated lower-case
/// form; `None` for anything else, which cannot name a rate.
pub fn rate_key(key: &str) -> Option<String> {
    let key = key.trim();
    if key.len() == 13
        && key.is_char_boundary(5)
        && key[..5].eq_ignore_ascii_case("RATE-")
        && key[5..].bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Some(key.to_ascii_uppercase());
    }
    uuid::Uuid::parse_str(key).ok().map(|u| u.to_string())
}

/// The query parameters of the rate list and the export, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListParams {
    pub destination: Option<String>,
    pub hotel_name: Option<String>,
    pub meal_plan: Option<String>,
    /// `true` (default), `false`, or `all`.
    pub is_active: Option<String>,
    pub check_in_after: Option<String>,
    pub check_in_before: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// `true`/`1`/`yes` (active only, also when absent or empty), `false`/`0`/`no` (inactive
/// only), `all`/`any` (both).
pub fn activity(value: Option<&str>) -> Result<Activity> {
    let value = value.map(str::trim).unwrap_or_default();
    match value.to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" => Ok(Activity::Active),
        "false" | "0" | "no" => Ok(Activity::Inactive),
        "all" | "any" => Ok(Activity::Any),
        _ => Err(Error::validation(FieldError::query(
            "is_active",
            "is_active must be true, false or all",
        ))),
    }
}

/// An optional text filter: blank means "no filter".
fn text_filter(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn date_filter(
    checks: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
) -> Option<NaiveDate> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    match parse_date(value) {
        Some(date) => Some(date),
        None => {
            checks.push(FieldError::query(
                field,
                format!("{field} must be a date in the form YYYY-MM-DD"),
            ));
            None
        }
    }
}

impl ListParams {
    /// The filter these parameters describe. Paging applies unless `paged` is false (the
    /// export writes every match).
    pub fn filter(self, paged: bool) -> Result<RateFilter> {
        let mut errors = Vec::new();
        let activity = match activity(self.is_active.as_deref()) {
            Ok(a) => a,
            Err(Error::Validation(mut e)) => {
                errors.append(&mut e);
                Activity::Active
            }
            Err(other) => return Err(other),
        };
        let check_in_after = date_filter(
            &mut errors,
            "check_in_after",
            self.check_in_after.as_deref(),
        );
        let check_in_before = date_filter(
            &mut errors,
            "check_in_before",
            self.check_in_before.as_deref(),
        );
        let (limit, offset) = if paged {
            let limit = self.limit.unwrap_or(i64::from(DEFAULT_LIMIT));
            if !(1..=i64::from(MAX_LIMIT)).contains(&limit) {
                errors.push(FieldError::query(
                    "limit",
                    format!("limit must be between 1 and {MAX_LIMIT}"),
                ));
            }
            let offset = self.offset.unwrap_or(0);
            if !(0..=i64::from(u32::MAX)).contains(&offset) {
                errors.push(FieldError::query("offset", "offset must be 0 or more"));
            }
            (
                u32::try_from(limit).unwrap_or(DEFAULT_LIMIT),
                u32::try_from(offset).unwrap_or(0),
            )
        } else {
            (EXPORT_CAP, 0)
        };
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        Ok(RateFilter {
            destination: text_filter(self.destination),
            hotel_name: text_filter(self.hotel_name),
            meal_plan: text_filter(self.meal_plan),
            activity,
            check_in_after,
            check_in_before,
            limit,
            offset,
        })
    }
}

/// A rate as the API takes it (P3 creates, P4 changes): whole-stay per-person amounts in
/// major units for `nights` nights. Absent fields stay as they are on an update; `null`
/// clears the optional ones.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateInput {
    #[serde(default)]
    pub hotel_name: Option<String>,
    #[serde(default)]
    pub destination: Option<String>,
    /// Stars, 1–7.
    #[serde(default, alias = "star_rating", deserialize_with = "nullable")]
    pub hotel_rating: Option<Option<i64>>,
    #[serde(default)]
    pub room_type: Option<String>,
    #[serde(default)]
    pub meal_plan: Option<String>,
    /// First night, `YYYY-MM-DD`.
    #[serde(default)]
    pub check_in_date: Option<String>,
    /// Last night (inclusive), `YYYY-MM-DD`.
    #[serde(default)]
    pub check_out_date: Option<String>,
    /// The stay the totals are for, 1–30.
    #[serde(default)]
    pub nights: Option<i64>,
    /// Shortest stay, 1–30 (default 1).
    #[serde(default)]
    pub min_nights: Option<i64>,
    /// ISO 4217; the tenant's currency when absent on creation.
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub total_7nights_pps: Option<f64>,
    #[serde(default, deserialize_with = "nullable")]
    pub total_7nights_single: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub total_7nights_child: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub flights_adult: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub flights_child: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub transfers_adult: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub transfers_child: Option<Option<f64>>,
    #[serde(default)]
    pub is_active: Option<bool>,
}

impl RateInput {
    fn is_empty(&self) -> bool {
        self.hotel_name.is_none()
            && self.destination.is_none()
            && self.hotel_rating.is_none()
            && self.room_type.is_none()
            && self.meal_plan.is_none()
            && self.check_in_date.is_none()
            && self.check_out_date.is_none()
            && self.nights.is_none()
            && self.min_nights.is_none()
            && self.currency.is_none()
            && self.total_7nights_pps.is_none()
            && self.total_7nights_single.is_none()
            && self.total_7nights_child.is_none()
            && self.flights_adult.is_none()
            && self.flights_child.is_none()
            && self.transfers_adult.is_none()
            && self.transfers_child.is_none()
            && self.is_active.is_none()
    }
}

fn nullable<'de, D, T>(deserializer: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `YYYY-MM-DD` and nothing else.
pub fn parse_date(value: &str) -> Option<NaiveDate> {
    let value = value.trim();
    (value.len() == 10)
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten()
}

/// Checks a required text field; returns it trimmed.
pub(crate) fn label(checks: &mut Checks, field: &str, value: &str, max: usize) -> String {
    let value = value.trim();
    if value.is_empty() {
        checks.fail(field, format!("{field} must not be empty"));
    } else if value.chars().count() > max {
        checks.fail(field, format!("{field} must be at most {max} characters"));
    } else if value.chars().any(char::is_control) {
        checks.fail(
            field,
            format!("{field} must not contain control characters"),
        );
    }
    value.to_owned()
}

pub(crate) fn stars(checks: &mut Checks, field: &str, value: i64) -> Option<u8> {
    match u8::try_from(value) {
        Ok(v) if (1..=7).contains(&v) => Some(v),
        _ => {
            checks.fail(
                field,
                format!("{field} must be a whole number of stars from 1 to 7"),
            );
            None
        }
    }
}

pub(crate) fn stay_length(checks: &mut Checks, field: &str, value: i64) -> u32 {
    match u32::try_from(value) {
        Ok(v) if (1..=MAX_NIGHTS).contains(&v) => v,
        _ => {
            checks.fail(field, format!("{field} must be between 1 and {MAX_NIGHTS}"));
            1
        }
    }
}

pub(crate) fn amount_in_range(checks: &mut Checks, field: &str, minor: i64) -> i64 {
    if minor < 0 {
        checks.fail(field, format!("{field} must not be negative"));
    } else if minor > MAX_AMOUNT_MINOR {
        checks.fail(field, format!("{field} is too large"));
    }
    minor
}

/// A major-unit amount from JSON in minor units of `currency`.
fn major(checks: &mut Checks, field: &str, amount: f64, currency: Currency) -> i64 {
    if amount < 0.0 {
        checks.fail(field, format!("{field} must not be negative"));
        return 0;
    }
    match Money::from_major(amount, currency) {
        Some(m) => amount_in_range(checks, field, m.minor),
        None => {
            checks.fail(field, format!("{field} must be a finite amount"));
            0
        }
    }
}

/// `total` ÷ `nights`, rounded half away from zero to a whole minor unit.
pub fn per_night(total_minor: i64, nights: u32) -> i64 {
    let nights = i64::from(nights.max(1));
    (total_minor + nights / 2) / nights
}

/// The same major-unit amount in another currency's minor units (exponents can differ).
fn re_express(minor: i64, from: Currency, to: Currency) -> i64 {
    if from.exponent() == to.exponent() {
        return minor;
    }
    Money::from_major(Money::new(minor, from).to_major(), to).map_or(minor, |m| m.minor)
}

/// A date field of the JSON input.
fn date(checks: &mut Checks, field: &str, value: &str) -> Option<NaiveDate> {
    let parsed = parse_date(value);
    if parsed.is_none() {
        checks.fail(
            field,
            format!("{field} must be a date in the form YYYY-MM-DD"),
        );
    }
    parsed
}

/// The period rule shared by the API and the import.
pub(crate) fn check_period(
    checks: &mut Checks,
    field: &str,
    from: NaiveDate,
    to: NaiveDate,
    from_field: &str,
) {
    if to < from {
        checks.fail(field, format!("{field} must be on or after {from_field}"));
    }
}

pub(crate) fn check_nights(checks: &mut Checks, nights: u32, min_nights: u32) {
    if nights < min_nights {
        checks.fail(
            "nights",
            format!("nights must be at least min_nights ({min_nights})"),
        );
    }
}

fn missing(field: &str) -> FieldError {
    FieldError {
        loc: vec!["body".to_owned(), field.to_owned()],
        msg: "Field required".to_owned(),
        kind: "missing".to_owned(),
    }
}

/// Applies the input to `base` (a new rate's defaults, or the stored rate) and checks every
/// rule; every broken rule is reported.
fn apply(mut rate: Rate, input: RateInput, creating: bool) -> Result<Rate> {
    let mut checks = Checks::default();
    if creating {
        let required = [
            ("hotel_name", input.hotel_name.is_none()),
            ("destination", input.destination.is_none()),
            ("room_type", input.room_type.is_none()),
            ("meal_plan", input.meal_plan.is_none()),
            ("check_in_date", input.check_in_date.is_none()),
            ("check_out_date", input.check_out_date.is_none()),
            ("nights", input.nights.is_none()),
            ("total_7nights_pps", input.total_7nights_pps.is_none()),
        ];
        checks.0.extend(
            required
                .iter()
                .filter(|(_, absent)| *absent)
                .map(|(field, _)| missing(field)),
        );
    }
    if let Some(v) = &input.hotel_name {
        rate.hotel_name = label(&mut checks, "hotel_name", v, MAX_NAME_CHARS);
    }
    if let Some(v) = &input.destination {
        rate.destination = label(&mut checks, "destination", v, MAX_LABEL_CHARS);
    }
    if let Some(v) = &input.room_type {
        rate.room_type = label(&mut checks, "room_type", v, MAX_LABEL_CHARS);
    }
    if let Some(v) = &input.meal_plan {
        rate.meal_plan = label(&mut checks, "meal_plan", v, MAX_LABEL_CHARS);
    }
    if let Some(v) = input.hotel_rating {
        rate.star_rating = v.and_then(|s| stars(&mut checks, "hotel_rating", s));
    }
    let from = input
        .check_in_date
        .as_deref()
        .and_then(|v| date(&mut checks, "check_in_date", v));
    let to = input
        .check_out_date
        .as_deref()
        .and_then(|v| date(&mut checks, "check_out_date", v));
    rate.valid_from = from.unwrap_or(rate.valid_from);
    rate.valid_to = to.unwrap_or(rate.valid_to);
    if (from.is_some() || input.check_in_date.is_none())
        && (to.is_some() || input.check_out_date.is_none())
    {
        check_period(
            &mut checks,
            "check_out_date",
            rate.valid_from,
            rate.valid_to,
            "check_in_date",
        );
    }
    if let Some(v) = input.min_nights {
        rate.min_nights = stay_length(&mut checks, "min_nights", v);
    }
    if let Some(v) = input.nights {
        rate.nights = stay_length(&mut checks, "nights", v);
    }
    check_nights(&mut checks, rate.nights, rate.min_nights);
    if let Some(code) = &input.currency {
        let code = crate::tenants::validate::currency(&mut checks, code);
        if let Some(new) = Currency::parse(&code)
            && new != rate.currency
        {
            // Amounts not restated below keep their value in major units.
            let old = rate.currency;
            let convert = |v: &mut i64| *v = re_express(*v, old, new);
            convert(&mut rate.sharing_per_night);
            for v in [
                &mut rate.single_per_night,
                &mut rate.child_per_night,
                &mut rate.infant_per_night,
                &mut rate.flights_adult,
                &mut rate.flights_child,
                &mut rate.transfers_adult,
                &mut rate.transfers_child,
            ]
            .into_iter()
            .flatten()
            {
                convert(v);
            }
            rate.currency = new;
        }
    }
    let cur = rate.currency;
    let nights = rate.nights;
    if let Some(total) = input.total_7nights_pps {
        rate.sharing_per_night =
            per_night(major(&mut checks, "total_7nights_pps", total, cur), nights);
    }
    let mut whole_stay = |field: &str, value: Option<Option<f64>>, target: &mut Option<i64>| {
        if let Some(v) = value {
            *target = v.map(|t| per_night(major(&mut checks, field, t, cur), nights));
        }
    };
    whole_stay(
        "total_7nights_single",
        input.total_7nights_single,
        &mut rate.single_per_night,
    );
    whole_stay(
        "total_7nights_child",
        input.total_7nights_child,
        &mut rate.child_per_night,
    );
    let mut per_trip = |field: &str, value: Option<Option<f64>>, target: &mut Option<i64>| {
        if let Some(v) = value {
            *target = v.map(|t| major(&mut checks, field, t, cur));
        }
    };
    per_trip(
        "flights_adult",
        input.flights_adult,
        &mut rate.flights_adult,
    );
    per_trip(
        "flights_child",
        input.flights_child,
        &mut rate.flights_child,
    );
    per_trip(
        "transfers_adult",
        input.transfers_adult,
        &mut rate.transfers_adult,
    );
    per_trip(
        "transfers_child",
        input.transfers_child,
        &mut rate.transfers_child,
    );
    if let Some(active) = input.is_active {
        rate.is_active = active;
    }
    checks.into_result()?;
    Ok(rate)
}

/// A new rate of `tenant` with its ids and defaults, before any field is set.
pub fn blank_rate(tenant_id: &str, currency: Currency, at: DateTime<Utc>) -> Rate {
    Rate {
        id: uuid::Uuid::new_v4().to_string(),
        tenant_id: tenant_id.to_owned(),
        rate_id: new_rate_id(),
        hotel_name: String::new(),
        destination: String::new(),
        star_rating: None,
        room_type: String::new(),
        meal_plan: String::new(),
        valid_from: NaiveDate::MIN,
        valid_to: NaiveDate::MIN,
        currency,
        sharing_per_night: 0,
        single_per_night: None,
        child_per_night: None,
        infant_per_night: None,
        min_nights: 1,
        nights: DEFAULT_NIGHTS,
        flights_adult: None,
        flights_child: None,
        transfers_adult: None,
        transfers_child: None,
        is_active: true,
        created_at: at,
        updated_at: at,
    }
}

/// The tenant's home currency, which new rates default to and summaries lead with. Tenant
/// input is validated, so an unknown code here is a corrupt configuration.
pub fn home_currency(tenant: &Tenant) -> Result<Currency> {
    Currency::parse(&tenant.config.currency).ok_or_else(|| Error::Internal {
        operation: "reading the tenant's currency",
        cause: anyhow::anyhow!("unknown currency `{}`", tenant.config.currency),
    })
}

/// The price range the summaries lead with: the tenant's home currency when some rates use
/// it, else the currency with the most rates (ties by code). Mixed currencies are never
/// compared with each other; every range is reported beside it.
pub fn leading_range(prices: &[PriceRange], home: Currency) -> Option<&PriceRange> {
    prices.iter().find(|p| p.currency == home).or_else(|| {
        prices.iter().max_by(|a, b| {
            a.rate_count
                .cmp(&b.rate_count)
                .then_with(|| b.currency.as_str().cmp(a.currency.as_str()))
        })
    })
}

/// What an import did, or why it did nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Data rows in the file.
    pub total_rows: usize,
    /// Rows written (created + updated); 0 when any row is bad.
    pub imported: usize,
    pub created: usize,
    pub updated: usize,
    /// Every bad row's problems; when not empty, nothing was imported.
    pub errors: Vec<csv::RowError>,
}

/// How many times an import or a creation draws fresh `RATE-` ids after a collision.
const ID_ATTEMPTS: usize = 4;

fn is_rate_id_collision(err: &StorageError) -> bool {
    matches!(err, StorageError::Conflict { constraint } if constraint == "rates_rate_id_key")
}

fn offer_conflict(err: StorageError, operation: &'static str) -> Error {
    match err {
        StorageError::Conflict { constraint } if constraint == "rates_natural_key" => {
            Error::Conflict(
                "A rate for this hotel, room type, meal plan and period already exists".into(),
            )
        }
        other => Error::storage(operation, other),
    }
}

impl RateService {
    pub fn new(repo: Arc<dyn RateRepo>) -> Self {
        Self { repo }
    }

    /// A page of the tenant's rates.
    pub async fn list(&self, tenant_id: &str, filter: &RateFilter) -> Result<RatePage> {
        self.repo
            .list(tenant_id, filter)
            .await
            .map_err(storage("listing rates"))
    }

    /// A rate by `RATE-…` or row id; 404 for anything else, including another tenant's.
    pub async fn get(&self, tenant_id: &str, key: &str) -> Result<Rate> {
        let not_found = || Error::NotFound("Rate not found".into());
        let key = rate_key(key).ok_or_else(not_found)?;
        self.repo
            .get(tenant_id, &key)
            .await
            .map_err(storage("loading a rate"))?
            .ok_or_else(not_found)
    }

    /// Creates a rate from whole-stay amounts (P3).
    pub async fn create(&self, tenant: &Tenant, input: RateInput) -> Result<Rate> {
        let at = now();
        let mut rate = apply(
            blank_rate(&tenant.id, home_currency(tenant)?, at),
            input,
            true,
        )?;
        for _ in 0..ID_ATTEMPTS {
            match self.repo.insert(&rate).await {
                Ok(()) => return Ok(rate),
                Err(e) if is_rate_id_collision(&e) => rate.rate_id = new_rate_id(),
                Err(e) => return Err(offer_conflict(e, "creating a rate")),
            }
        }
        Err(Error::Conflict(
            "Could not allocate a rate id; please try again".into(),
        ))
    }

    /// Changes some fields of a rate (P4). 404 before 400: an empty change to a rate that
    /// does not exist is reported as not found.
    pub async fn update(&self, tenant_id: &str, key: &str, input: RateInput) -> Result<Rate> {
        let stored = self.get(tenant_id, key).await?;
        if input.is_empty() {
            return Err(Error::BadRequest("No updates provided".into()));
        }
        let mut rate = apply(stored, input, false)?;
        rate.updated_at = now();
        let saved = self
            .repo
            .update(&rate)
            .await
            .map_err(|e| offer_conflict(e, "saving a rate"))?;
        if saved {
            Ok(rate)
        } else {
            Err(Error::NotFound("Rate not found".into()))
        }
    }

    /// Deactivates a rate, or deletes it when `hard` (P5). Returns the rate as it was.
    pub async fn delete(&self, tenant_id: &str, key: &str, hard: bool) -> Result<Rate> {
        let rate = self.get(tenant_id, key).await?;
        let done = if hard {
            self.repo.delete(tenant_id, &rate.id).await
        } else {
            self.repo
                .set_active(tenant_id, &rate.id, false, now())
                .await
        }
        .map_err(storage("deleting a rate"))?;
        if done {
            Ok(rate)
        } else {
            Err(Error::NotFound("Rate not found".into()))
        }
    }

    /// Imports a CSV file (P6) in one transaction: when any row is bad, the report lists
    /// every bad row and nothing is written. A file that cannot be read as a rate table (not
    /// UTF-8, empty, missing or unknown columns) is a validation error.
    pub async fn import_csv(&self, tenant: &Tenant, bytes: &[u8]) -> Result<ImportReport> {
        let parsed = csv::parse(bytes, &tenant.id, home_currency(tenant)?, now())?;
        let total_rows = parsed.total_rows;
        if !parsed.errors.is_empty() {
            return Ok(ImportReport {
                total_rows,
                imported: 0,
                created: 0,
                updated: 0,
                errors: parsed.errors,
            });
        }
        let mut rates = parsed.rates;
        for _ in 0..ID_ATTEMPTS {
            match self.repo.upsert_all(&tenant.id, &rates).await {
                Ok(counts) => {
                    return Ok(ImportReport {
                        total_rows,
                        imported: counts.created + counts.updated,
                        created: counts.created,
                        updated: counts.updated,
                        errors: Vec::new(),
                    });
                }
                Err(e) if is_rate_id_collision(&e) => {
                    for rate in &mut rates {
                        rate.rate_id = new_rate_id();
                    }
                }
                Err(e) => return Err(Error::storage("importing rates", e)),
            }
        }
        Err(Error::Conflict(
            "Could not allocate rate ids; please try again".into(),
        ))
    }

    /// The rates matching `filter` as CSV in the import's format (P7).
    pub async fn export_csv(&self, tenant_id: &str, filter: &RateFilter) -> Result<Vec<u8>> {
        let page = self.list(tenant_id, filter).await?;
        csv::write(&page.rates)
    }

    /// Distinct hotels (P8).
    pub async fn hotels(
        &self,
        tenant_id: &str,
        destination: Option<&str>,
        activity: Activity,
    ) -> Result<Vec<HotelSummary>> {
        let destination = destination.map(str::trim).filter(|d| !d.is_empty());
        self.repo
            .hotels(tenant_id, destination, activity)
            .await
            .map_err(storage("listing hotels"))
    }

    /// One hotel by name, case-insensitively (P9).
    pub async fn hotel(&self, tenant_id: &str, name: &str) -> Result<HotelDetail> {
        self.repo
            .hotel(tenant_id, name.trim())
            .await
            .map_err(storage("loading a hotel"))?
            .ok_or_else(|| Error::NotFound("Hotel not found".into()))
    }

    /// A hotel's active rates (P10), with the hotel's stored name.
    pub async fn hotel_rates(&self, tenant_id: &str, name: &str) -> Result<(String, Vec<Rate>)> {
        let rates = self
            .repo
            .hotel_rates(tenant_id, name.trim(), Activity::Active)
            .await
            .map_err(storage("listing a hotel's rates"))?;
        match rates.first() {
            Some(first) => Ok((first.hotel_name.clone(), rates)),
            // No active rate: the hotel may still exist with deactivated ones only.
            None => Ok((self.hotel(tenant_id, name).await?.hotel_name, rates)),
        }
    }

    /// Destinations of the active rates (P11).
    pub async fn destinations(&self, tenant_id: &str) -> Result<Vec<DestinationSummary>> {
        self.repo
            .destinations(tenant_id)
            .await
            .map_err(storage("listing destinations"))
    }

    /// The rate table at a glance (P12).
    pub async fn stats(&self, tenant_id: &str) -> Result<RateStats> {
        self.repo
            .stats(tenant_id)
            .await
            .map_err(storage("computing rate statistics"))
    }

    /// The rates the quote pipeline may price for a stay: see [`RateRepo::candidates`].
    pub async fn candidates(
        &self,
        tenant_id: &str,
        destinations: &[String],
        check_in: NaiveDate,
        check_out: NaiveDate,
    ) -> Result<Vec<Rate>> {
        self.repo
            .candidates(tenant_id, destinations, check_in, check_out)
            .await
            .map_err(storage("finding rates for a quote"))
    }
}

fn plugin_money(minor: i64, currency: Currency) -> types::Money {
    types::Money {
        amount: minor,
        currency: currency.as_str().to_owned(),
    }
}

/// A stored rate as the quote-rules and pricing plugins see it: nightly prices in the rate's
/// currency; the child rate applies from 2 to 11 years, as the CSV format states.
pub fn to_plugin_rate(rate: &Rate) -> quoting::Rate {
    let money = |minor: i64| plugin_money(minor, rate.currency);
    quoting::Rate {
        id: rate.rate_id.clone(),
        hotel_name: rate.hotel_name.clone(),
        destination: rate.destination.clone(),
        star_rating: rate.star_rating,
        room_type: rate.room_type.clone(),
        meal_plan: rate.meal_plan.clone(),
        valid_from: rate.valid_from.format("%Y-%m-%d").to_string(),
        valid_to: rate.valid_to.format("%Y-%m-%d").to_string(),
        min_nights: rate.min_nights,
        max_occupancy: None,
        prices: quoting::NightlyRates {
            per_person_sharing: money(rate.sharing_per_night),
            single: rate.single_per_night.map(money),
            child: rate.child_per_night.map(money),
            infant: rate.infant_per_night.map(money),
            child_min_age: CHILD_MIN_AGE,
            child_max_age: CHILD_MAX_AGE,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_ids_are_normalised_or_refused() {
        assert_eq!(rate_key("rate-00ab12cd").as_deref(), Some("RATE-00AB12CD"));
        assert_eq!(
            rate_key("6F9619FF-8B86-D011-B42D-00C04FC964FF").as_deref(),
            Some("6f9619ff-8b86-d011-b42d-00c04fc964ff")
        );
        assert_eq!(rate_key("RATE-0000000G"), None);
        assert_eq!(rate_key("RATE-123"), None);
        assert_eq!(rate_key("../etc/passwd"), None);
        assert_eq!(rate_key("RATÉ-00000000"), None);
    }

    #[test]
    fn whole_stay_amounts_become_nightly_ones_rounded_to_the_minor_unit() {
        assert_eq!(per_night(700_000, 7), 100_000);
        // R 1 000,00 over 3 nights is R 333,33 a night (333,333… rounded).
        assert_eq!(per_night(100_000, 3), 33_333);
        // Half a cent rounds away from zero.
        assert_eq!(per_night(5, 2), 3);
    }

    #[test]
    fn a_currency_change_keeps_amounts_in_major_units() {
        let zar = Currency::parse("ZAR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(re_express(150_000, zar, jpy), 1_500);
        assert_eq!(re_express(1_500, jpy, zar), 150_000);
    }

    #[test]
    fn the_home_currency_leads_the_summaries_else_the_most_used_one() {
        let range = |code: &str, n: i64| PriceRange {
            currency: Currency::parse(code).unwrap(),
            rate_count: n,
            min: 1,
            max: 2,
            avg: 1.5,
        };
        let prices = vec![range("EUR", 15), range("USD", 33), range("ZAR", 18)];
        let zar = Currency::parse("ZAR").unwrap();
        let gbp = Currency::parse("GBP").unwrap();
        assert_eq!(leading_range(&prices, zar).unwrap().currency, zar);
        assert_eq!(
            leading_range(&prices, gbp).unwrap().currency.as_str(),
            "USD"
        );
        let tie = vec![range("USD", 3), range("EUR", 3)];
        assert_eq!(leading_range(&tie, gbp).unwrap().currency.as_str(), "EUR");
        assert!(leading_range(&[], zar).is_none());
    }

    #[test]
    fn creation_reports_every_missing_and_broken_field() {
        let zar = Currency::parse("ZAR").unwrap();
        let input = RateInput {
            hotel_name: Some("  ".into()),
            check_in_date: Some("2027-02-30".into()),
            nights: Some(31),
            total_7nights_pps: Some(-1.0),
            ..RateInput::default()
        };
        let Err(Error::Validation(errors)) = apply(blank_rate("t", zar, now()), input, true) else {
            panic!("expected a validation error");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.loc[1].as_str()).collect();
        for field in [
            "destination",
            "room_type",
            "meal_plan",
            "check_out_date",
            "hotel_name",
            "check_in_date",
            "nights",
            "total_7nights_pps",
        ] {
            assert!(fields.contains(&field), "{field} not in {fields:?}");
        }
    }

    #[test]
    fn a_plugin_rate_carries_nightly_prices_and_the_csv_child_ages() {
        let usd = Currency::parse("USD").unwrap();
        let mut rate = blank_rate("t", usd, now());
        rate.hotel_name = "Baraka Beach Lodge".into();
        rate.valid_from = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        rate.valid_to = NaiveDate::from_ymd_opt(2027, 3, 31).unwrap();
        rate.sharing_per_night = 25_300;
        rate.child_per_night = Some(12_600);
        rate.infant_per_night = Some(0);
        rate.star_rating = Some(4);
        let p = to_plugin_rate(&rate);
        assert_eq!(p.id, rate.rate_id);
        assert_eq!(p.valid_from, "2026-11-01");
        assert_eq!(p.valid_to, "2027-03-31");
        assert_eq!(p.star_rating, Some(4));
        assert_eq!(p.prices.per_person_sharing.amount, 25_300);
        assert_eq!(p.prices.per_person_sharing.currency, "USD");
        assert_eq!(p.prices.single, None);
        assert_eq!(p.prices.child.as_ref().map(|m| m.amount), Some(12_600));
        assert_eq!(p.prices.infant.as_ref().map(|m| m.amount), Some(0));
        assert_eq!((p.prices.child_min_age, p.prices.child_max_age), (2, 11));
    }
}
