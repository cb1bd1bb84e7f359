//! Rates as stored: nightly prices in integer minor units of the row's currency, and the
//! summaries the pricing pages read (computed by the database, never by fetching rows).

use chrono::{DateTime, NaiveDate, Utc};

use crate::money::{Currency, Money};

/// One row of a tenant's rate table: what one room type with one meal plan costs per night
/// at one hotel during one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    /// Row id (uuid); paths accept it as well as `rate_id`.
    pub id: String,
    pub tenant_id: String,
    /// `RATE-XXXXXXXX` (8 upper-case hex), unique in the tenant.
    pub rate_id: String,
    pub hotel_name: String,
    pub destination: String,
    /// Stars, 1–7, when known.
    pub star_rating: Option<u8>,
    pub room_type: String,
    /// Meal plan code or words (`BB`, `HB`, `FB`, `AI`, …).
    pub meal_plan: String,
    /// First night the rate applies to.
    pub valid_from: NaiveDate,
    /// Last night the rate applies to (inclusive).
    pub valid_to: NaiveDate,
    pub currency: Currency,
    /// Per adult per night when sharing, minor units.
    pub sharing_per_night: i64,
    /// Per night for an adult alone, minor units.
    pub single_per_night: Option<i64>,
    /// Per child (2–11) per night, minor units.
    pub child_per_night: Option<i64>,
    /// Per infant (under 2) per night, minor units.
    pub infant_per_night: Option<i64>,
    /// Shortest stay in nights, 1–30.
    pub min_nights: u32,
    /// The stay length the whole-stay totals on the wire describe (`total_7nights_*`),
    /// 1–30 and at least `min_nights`.
    pub nights: u32,
    /// Per person for the whole trip, minor units.
    pub flights_adult: Option<i64>,
    pub flights_child: Option<i64>,
    pub transfers_adult: Option<i64>,
    pub transfers_child: Option<i64>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Rate {
    /// An amount of this rate's currency.
    pub fn money(&self, minor: i64) -> Money {
        Money::new(minor, self.currency)
    }

    /// A nightly amount times `nights`: the whole-stay figure the dashboard shows.
    /// Amounts are capped on input so that this cannot overflow.
    pub fn whole_stay(&self, per_night: i64) -> Money {
        self.money(per_night.saturating_mul(i64::from(self.nights)))
    }

    /// Whether two rows describe the same offer (the `rates_natural_key` columns).
    pub fn same_offer(&self, other: &Rate) -> bool {
        self.hotel_name == other.hotel_name
            && self.room_type == other.room_type
            && self.meal_plan == other.meal_plan
            && self.valid_from == other.valid_from
            && self.valid_to == other.valid_to
    }
}

/// Which rows a list reads, by their active flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activity {
    /// Active rates only (the default of every list).
    #[default]
    Active,
    /// Deactivated rates only.
    Inactive,
    /// Both.
    Any,
}

impl Activity {
    /// The `is_active` value rows must have; `None` for any.
    pub fn as_flag(self) -> Option<bool> {
        match self {
            Self::Active => Some(true),
            Self::Inactive => Some(false),
            Self::Any => None,
        }
    }
}

/// The filters of the rate list and the export. Text filters are compared
/// case-insensitively; `hotel_name` is a substring, the others whole values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateFilter {
    pub destination: Option<String>,
    pub hotel_name: Option<String>,
    pub meal_plan: Option<String>,
    pub activity: Activity,
    /// `valid_from` on or after this date.
    pub check_in_after: Option<NaiveDate>,
    /// `valid_from` on or before this date.
    pub check_in_before: Option<NaiveDate>,
    pub limit: u32,
    pub offset: u32,
}

/// One page of rates, ordered by hotel name then first night.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatePage {
    pub rates: Vec<Rate>,
    /// Every match, not only this page.
    pub total: i64,
}

/// What an import did: rows inserted and rows that replaced an existing offer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub created: usize,
    pub updated: usize,
}

/// Whole-stay per-person-sharing prices (`total_7nights_pps`) of some rates in one currency.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceRange {
    pub currency: Currency,
    pub rate_count: i64,
    /// Minor units.
    pub min: i64,
    pub max: i64,
    /// Minor units, not rounded.
    pub avg: f64,
}

/// A destination of the tenant's active rates.
#[derive(Debug, Clone, PartialEq)]
pub struct DestinationSummary {
    pub destination: String,
    pub hotel_count: i64,
    pub rate_count: i64,
    /// One range per currency, ordered by currency code.
    pub prices: Vec<PriceRange>,
}

/// A distinct hotel (name and destination, both compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotelSummary {
    pub hotel_name: String,
    pub destination: String,
    pub star_rating: Option<u8>,
    /// Whether any of the hotel's rates is active.
    pub is_active: bool,
    pub rate_count: i64,
}

/// One hotel with its active rates' counts and prices.
#[derive(Debug, Clone, PartialEq)]
pub struct HotelDetail {
    pub hotel_name: String,
    pub destination: String,
    pub star_rating: Option<u8>,
    /// Whether any of the hotel's rates is active.
    pub is_active: bool,
    /// Active rates.
    pub rate_count: i64,
    /// Every rate, active or not.
    pub total_rates: i64,
    /// Over active rates, one range per currency.
    pub prices: Vec<PriceRange>,
}

/// The tenant's rate table at a glance.
#[derive(Debug, Clone, PartialEq)]
pub struct RateStats {
    pub total_rates: i64,
    pub active_rates: i64,
    pub total_hotels: i64,
    pub total_destinations: i64,
    /// Over active rates, one range per currency.
    pub prices: Vec<PriceRange>,
}
