//! The rates area: a tenant's nightly hotel rates, their summaries, and the candidates the
//! quote pipeline prices.
//!
//! Every method is scoped by the tenant it is given. Summaries (destinations, hotels,
//! statistics) are aggregated by the database.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::StorageError;
use crate::money::Currency;
use crate::rates::model::{
    Activity, DestinationSummary, HotelDetail, HotelSummary, PriceRange, Rate, RateFilter,
    RatePage, RateStats, UpsertCounts,
};

/// The most rows [`RateRepo::candidates`] returns.
pub const CANDIDATE_CAP: u32 = 200;

#[async_trait]
pub trait RateRepo: Send + Sync {
    /// `Conflict { rates_natural_key }` when the tenant has a rate for the same hotel, room
    /// type, meal plan and period; `Conflict { rates_rate_id_key }` when the `rate_id` is taken.
    async fn insert(&self, rate: &Rate) -> Result<(), StorageError>;

    /// A rate by its `rate_id` or its row id.
    async fn get(&self, tenant_id: &str, key: &str) -> Result<Option<Rate>, StorageError>;

    /// Saves every field but the ids and `created_at`. False when the row is gone;
    /// `Conflict { rates_natural_key }` when the change collides with another offer.
    async fn update(&self, rate: &Rate) -> Result<bool, StorageError>;

    /// Activates or deactivates a rate. False when it does not exist.
    async fn set_active(
        &self,
        tenant_id: &str,
        id: &str,
        active: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// False when it did not exist.
    async fn delete(&self, tenant_id: &str, id: &str) -> Result<bool, StorageError>;

    /// A page of rates matching the filter, ordered by hotel name (case-insensitive), first
    /// night, room type, meal plan and `rate_id`, with the count of every match.
    async fn list(&self, tenant_id: &str, filter: &RateFilter) -> Result<RatePage, StorageError>;

    /// Inserts the rates, or updates the stored row of the same offer (the
    /// `rates_natural_key` columns, keeping its ids and `created_at`), all in one transaction:
    /// on any error nothing is written. `Conflict { rates_rate_id_key }` when a new row's
    /// `rate_id` is taken (the caller retries with fresh ids).
    async fn upsert_all(
        &self,
        tenant_id: &str,
        rates: &[Rate],
    ) -> Result<UpsertCounts, StorageError>;

    /// Distinct hotels (grouped by lower-cased name and destination) of the rates matching
    /// `destination` (case-insensitive) and `activity`, ordered by name.
    async fn hotels(
        &self,
        tenant_id: &str,
        destination: Option<&str>,
        activity: Activity,
    ) -> Result<Vec<HotelSummary>, StorageError>;

    /// The hotel of that name (case-insensitive) with its counts and active prices; `None`
    /// when no rate, active or not, carries the name.
    async fn hotel(&self, tenant_id: &str, name: &str)
    -> Result<Option<HotelDetail>, StorageError>;

    /// The rates of the hotel of that name (case-insensitive) matching `activity`, ordered
    /// by first night, room type and meal plan.
    async fn hotel_rates(
        &self,
        tenant_id: &str,
        name: &str,
        activity: Activity,
    ) -> Result<Vec<Rate>, StorageError>;

    /// Destinations of the active rates (grouped case-insensitively, ordered by name) with
    /// their hotel and rate counts and per-currency price ranges.
    async fn destinations(&self, tenant_id: &str) -> Result<Vec<DestinationSummary>, StorageError>;

    /// Counts over every rate; prices over active ones.
    async fn stats(&self, tenant_id: &str) -> Result<RateStats, StorageError>;

    /// Active rates of any of `destinations` (a canonical name and its aliases, compared
    /// case-insensitively) whose validity covers `check_in` or overlaps the stay
    /// [`check_in`, `check_out`). Rates covering `check_in` come first, then by hotel name
    /// and first night; at most [`CANDIDATE_CAP`].
    async fn candidates(
        &self,
        tenant_id: &str,
        destinations: &[String],
        check_in: NaiveDate,
        check_out: NaiveDate,
    ) -> Result<Vec<Rate>, StorageError>;
}

/// The last night of a stay: a stay ending on or before its first day counts as one night.
pub(super) fn stay_end(check_in: NaiveDate, check_out: NaiveDate) -> NaiveDate {
    check_out.max(check_in.succ_opt().unwrap_or(check_in))
}

pub(super) fn currency(code: &str) -> Result<Currency, StorageError> {
    Currency::parse(code).ok_or_else(|| StorageError::Corrupt(format!("rate currency `{code}`")))
}

pub(super) fn star_rating(value: Option<i64>) -> Result<Option<u8>, StorageError> {
    value
        .map(|v| u8::try_from(v).map_err(|_| StorageError::Corrupt(format!("star rating `{v}`"))))
        .transpose()
}

pub(super) fn count(value: i64, what: &str) -> Result<u32, StorageError> {
    u32::try_from(value).map_err(|_| StorageError::Corrupt(format!("{what} `{value}`")))
}

/// One aggregated price row as both backends read it.
pub(super) fn price_range(
    code: &str,
    rate_count: i64,
    min: i64,
    max: i64,
    avg: f64,
) -> Result<PriceRange, StorageError> {
    Ok(PriceRange {
        currency: currency(code)?,
        rate_count,
        min,
        max,
        avg,
    })
}

/// Columns in the order the backends bind and read them.
pub(super) const COLUMNS: &str = "id, tenant_id, rate_id, hotel_name, destination, star_rating, \
     room_type, meal_plan, valid_from, valid_to, currency, sharing_per_night_minor, \
     single_per_night_minor, child_per_night_minor, infant_per_night_minor, min_nights, nights, \
     flights_adult_minor, flights_child_minor, transfers_adult_minor, transfers_child_minor, \
     is_active, created_at, updated_at";

pub(super) const INSERT: &str = "INSERT INTO rates (id, tenant_id, rate_id, hotel_name, \
     destination, star_rating, room_type, meal_plan, valid_from, valid_to, currency, \
     sharing_per_night_minor, single_per_night_minor, child_per_night_minor, \
     infant_per_night_minor, min_nights, nights, flights_adult_minor, flights_child_minor, \
     transfers_adult_minor, transfers_child_minor, is_active, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
     $19, $20, $21, $22, $23, $24)";

/// [`INSERT`], or, for an offer the tenant already has, an update of everything but the ids
/// and `created_at`. Returns the stored row's id: the new one when it was inserted.
pub(super) const UPSERT: &str = "INSERT INTO rates (id, tenant_id, rate_id, hotel_name, \
     destination, star_rating, room_type, meal_plan, valid_from, valid_to, currency, \
     sharing_per_night_minor, single_per_night_minor, child_per_night_minor, \
     infant_per_night_minor, min_nights, nights, flights_adult_minor, flights_child_minor, \
     transfers_adult_minor, transfers_child_minor, is_active, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
     $19, $20, $21, $22, $23, $24) \
     ON CONFLICT (tenant_id, hotel_name, room_type, meal_plan, valid_from, valid_to) DO UPDATE SET \
     destination = excluded.destination, star_rating = excluded.star_rating, \
     currency = excluded.currency, sharing_per_night_minor = excluded.sharing_per_night_minor, \
     single_per_night_minor = excluded.single_per_night_minor, \
     child_per_night_minor = excluded.child_per_night_minor, \
     infant_per_night_minor = excluded.infant_per_night_minor, \
     min_nights = excluded.min_nights, nights = excluded.nights, \
     flights_adult_minor = excluded.flights_adult_minor, \
     flights_child_minor = excluded.flights_child_minor, \
     transfers_adult_minor = excluded.transfers_adult_minor, \
     transfers_child_minor = excluded.transfers_child_minor, \
     is_active = excluded.is_active, updated_at = excluded.updated_at \
     RETURNING id";

/// Binds `$1` tenant, `$2` id, then every mutable column.
pub(super) const UPDATE: &str = "UPDATE rates SET hotel_name = $3, destination = $4, \
     star_rating = $5, room_type = $6, meal_plan = $7, valid_from = $8, valid_to = $9, \
     currency = $10, sharing_per_night_minor = $11, single_per_night_minor = $12, \
     child_per_night_minor = $13, infant_per_night_minor = $14, min_nights = $15, nights = $16, \
     flights_adult_minor = $17, flights_child_minor = $18, transfers_adult_minor = $19, \
     transfers_child_minor = $20, is_active = $21, updated_at = $22 \
     WHERE tenant_id = $1 AND id = $2";
