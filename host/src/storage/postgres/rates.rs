//! Rates on PostgreSQL. Names are ordered by `lower(…) COLLATE "C"` so that the order is the
//! same as SQLite's whatever the database's collation.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Postgres as Db, Row};

use super::{Postgres, Scope, classify, commit};
use crate::rates::model::{
    Activity, DestinationSummary, HotelDetail, HotelSummary, PriceRange, Rate, RateFilter,
    RatePage, RateStats, UpsertCounts,
};
use crate::storage::StorageError;
use crate::storage::rates::{
    CANDIDATE_CAP, COLUMNS, INSERT, RateRepo, UPDATE, UPSERT, count, currency, price_range,
    star_rating, stay_end,
};
use crate::storage::tenants::like_pattern;

/// Rows matching a [`RateFilter`]: `$1` tenant, `$2`–`$7` the filter values.
const FILTER: &str = "WHERE tenant_id = $1 \
     AND ($2::text IS NULL OR lower(destination) = lower($2)) \
     AND ($3::text IS NULL OR hotel_name ILIKE $3 ESCAPE '\\') \
     AND ($4::text IS NULL OR lower(meal_plan) = lower($4)) \
     AND ($5::boolean IS NULL OR is_active = $5) \
     AND ($6::date IS NULL OR valid_from >= $6) \
     AND ($7::date IS NULL OR valid_from <= $7)";

const ORDER: &str = "ORDER BY lower(hotel_name) COLLATE \"C\", valid_from, \
     lower(room_type) COLLATE \"C\", lower(meal_plan) COLLATE \"C\", rate_id COLLATE \"C\"";

/// Whole-stay per-person-sharing prices per currency, over the rows of `WHERE`.
fn price_sql(filter: &str, group: &str) -> String {
    format!(
        "SELECT {group}currency, COUNT(*) AS rate_count, \
         MIN(sharing_per_night_minor * nights) AS min_total, \
         MAX(sharing_per_night_minor * nights) AS max_total, \
         AVG(sharing_per_night_minor * nights)::float8 AS avg_total \
         FROM rates {filter} GROUP BY {group}currency ORDER BY {group}currency COLLATE \"C\""
    )
}

fn rate(row: &PgRow) -> Result<Rate, StorageError> {
    let code: String = row.try_get("currency").map_err(classify)?;
    let min_nights: i32 = row.try_get("min_nights").map_err(classify)?;
    let nights: i32 = row.try_get("nights").map_err(classify)?;
    let stars: Option<i16> = row.try_get("star_rating").map_err(classify)?;
    Ok(Rate {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        rate_id: row.try_get("rate_id").map_err(classify)?,
        hotel_name: row.try_get("hotel_name").map_err(classify)?,
        destination: row.try_get("destination").map_err(classify)?,
        star_rating: star_rating(stars.map(i64::from))?,
        room_type: row.try_get("room_type").map_err(classify)?,
        meal_plan: row.try_get("meal_plan").map_err(classify)?,
        valid_from: row.try_get("valid_from").map_err(classify)?,
        valid_to: row.try_get("valid_to").map_err(classify)?,
        currency: currency(&code)?,
        sharing_per_night: row.try_get("sharing_per_night_minor").map_err(classify)?,
        single_per_night: row.try_get("single_per_night_minor").map_err(classify)?,
        child_per_night: row.try_get("child_per_night_minor").map_err(classify)?,
        infant_per_night: row.try_get("infant_per_night_minor").map_err(classify)?,
        min_nights: count(i64::from(min_nights), "min_nights")?,
        nights: count(i64::from(nights), "nights")?,
        flights_adult: row.try_get("flights_adult_minor").map_err(classify)?,
        flights_child: row.try_get("flights_child_minor").map_err(classify)?,
        transfers_adult: row.try_get("transfers_adult_minor").map_err(classify)?,
        transfers_child: row.try_get("transfers_child_minor").map_err(classify)?,
        is_active: row.try_get("is_active").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        updated_at: row.try_get("updated_at").map_err(classify)?,
    })
}

fn price(row: &PgRow) -> Result<PriceRange, StorageError> {
    let code: String = row.try_get("currency").map_err(classify)?;
    price_range(
        &code,
        row.try_get("rate_count").map_err(classify)?,
        row.try_get("min_total").map_err(classify)?,
        row.try_get("max_total").map_err(classify)?,
        row.try_get("avg_total").map_err(classify)?,
    )
}

/// Binds every column in [`COLUMNS`] order (for `INSERT` and `UPSERT`).
fn bind_all<'q>(query: Query<'q, Db, PgArguments>, r: &Rate) -> Query<'q, Db, PgArguments> {
    query
        .bind(r.id.clone())
        .bind(r.tenant_id.clone())
        .bind(r.rate_id.clone())
        .bind(r.hotel_name.clone())
        .bind(r.destination.clone())
        .bind(r.star_rating.map(i16::from))
        .bind(r.room_type.clone())
        .bind(r.meal_plan.clone())
        .bind(r.valid_from)
        .bind(r.valid_to)
        .bind(r.currency.as_str().to_owned())
        .bind(r.sharing_per_night)
        .bind(r.single_per_night)
        .bind(r.child_per_night)
        .bind(r.infant_per_night)
        .bind(i32::try_from(r.min_nights).unwrap_or(i32::MAX))
        .bind(i32::try_from(r.nights).unwrap_or(i32::MAX))
        .bind(r.flights_adult)
        .bind(r.flights_child)
        .bind(r.transfers_adult)
        .bind(r.transfers_child)
        .bind(r.is_active)
        .bind(r.created_at)
        .bind(r.updated_at)
}

#[async_trait]
impl RateRepo for Postgres {
    async fn insert(&self, r: &Rate) -> Result<(), StorageError> {
        let mut tx = self.begin(Scope::Tenant(&r.tenant_id)).await?;
        let result = bind_all(sqlx::query(INSERT), r).execute(&mut *tx).await;
        result.map_err(classify)?;
        commit(tx).await
    }

    async fn get(&self, tenant_id: &str, key: &str) -> Result<Option<Rate>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM rates WHERE tenant_id = $1 AND (rate_id = $2 OR id = $2)"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(tenant_id)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        row.as_ref().map(rate).transpose()
    }

    async fn update(&self, r: &Rate) -> Result<bool, StorageError> {
        let mut tx = self.begin(Scope::Tenant(&r.tenant_id)).await?;
        let result = sqlx::query(UPDATE)
            .bind(&r.tenant_id)
            .bind(&r.id)
            .bind(&r.hotel_name)
            .bind(&r.destination)
            .bind(r.star_rating.map(i16::from))
            .bind(&r.room_type)
            .bind(&r.meal_plan)
            .bind(r.valid_from)
            .bind(r.valid_to)
            .bind(r.currency.as_str())
            .bind(r.sharing_per_night)
            .bind(r.single_per_night)
            .bind(r.child_per_night)
            .bind(r.infant_per_night)
            .bind(i32::try_from(r.min_nights).unwrap_or(i32::MAX))
            .bind(i32::try_from(r.nights).unwrap_or(i32::MAX))
            .bind(r.flights_adult)
            .bind(r.flights_child)
            .bind(r.transfers_adult)
            .bind(r.transfers_child)
            .bind(r.is_active)
            .bind(r.updated_at)
            .execute(&mut *tx)
            .await;
        let done = result.map_err(classify)?;
        commit(tx).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_active(
        &self,
        tenant_id: &str,
        id: &str,
        active: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let done = sqlx::query(
            "UPDATE rates SET is_active = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(active)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete(&self, tenant_id: &str, id: &str) -> Result<bool, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let done = sqlx::query("DELETE FROM rates WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list(&self, tenant_id: &str, f: &RateFilter) -> Result<RatePage, StorageError> {
        let pattern = f.hotel_name.as_deref().map(like_pattern);
        let bind = |sql: String| {
            sqlx::query(AssertSqlSafe(sql))
                .bind(tenant_id.to_owned())
                .bind(f.destination.clone())
                .bind(pattern.clone())
                .bind(f.meal_plan.clone())
                .bind(f.activity.as_flag())
                .bind(f.check_in_after)
                .bind(f.check_in_before)
        };
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let rows = bind(format!(
            "SELECT {COLUMNS} FROM rates {FILTER} {ORDER} LIMIT $8 OFFSET $9"
        ))
        .bind(i64::from(f.limit))
        .bind(i64::from(f.offset))
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        let total: i64 = bind(format!("SELECT COUNT(*) FROM rates {FILTER}"))
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?
            .try_get(0)
            .map_err(classify)?;
        commit(tx).await?;
        Ok(RatePage {
            rates: rows.iter().map(rate).collect::<Result<_, _>>()?,
            total,
        })
    }

    async fn upsert_all(
        &self,
        tenant_id: &str,
        rates: &[Rate],
    ) -> Result<UpsertCounts, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let mut counts = UpsertCounts::default();
        for r in rates {
            if r.tenant_id != tenant_id {
                return Err(StorageError::Corrupt(format!(
                    "a rate of tenant `{}` in an import for `{tenant_id}`",
                    r.tenant_id
                )));
            }
            let result = bind_all(sqlx::query(UPSERT), r)
                .fetch_one(&mut *tx)
                .await
                .and_then(|row| row.try_get::<String, _>("id"));
            match result {
                Ok(id) if id == r.id => counts.created += 1,
                Ok(_) => counts.updated += 1,
                Err(e) => return Err(classify(e)),
            }
        }
        commit(tx).await?;
        Ok(counts)
    }

    async fn hotels(
        &self,
        tenant_id: &str,
        destination: Option<&str>,
        activity: Activity,
    ) -> Result<Vec<HotelSummary>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let rows = sqlx::query(
            "SELECT MIN(hotel_name) AS hotel_name, MIN(destination) AS destination, \
             MAX(star_rating) AS star_rating, bool_or(is_active) AS any_active, \
             COUNT(*) AS rate_count \
             FROM rates WHERE tenant_id = $1 \
               AND ($2::text IS NULL OR lower(destination) = lower($2)) \
               AND ($3::boolean IS NULL OR is_active = $3) \
             GROUP BY lower(hotel_name), lower(destination) \
             ORDER BY lower(hotel_name) COLLATE \"C\", lower(destination) COLLATE \"C\"",
        )
        .bind(tenant_id)
        .bind(destination)
        .bind(activity.as_flag())
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        rows.iter()
            .map(|row| {
                let stars: Option<i16> = row.try_get("star_rating").map_err(classify)?;
                Ok(HotelSummary {
                    hotel_name: row.try_get("hotel_name").map_err(classify)?,
                    destination: row.try_get("destination").map_err(classify)?,
                    star_rating: star_rating(stars.map(i64::from))?,
                    is_active: row.try_get("any_active").map_err(classify)?,
                    rate_count: row.try_get("rate_count").map_err(classify)?,
                })
            })
            .collect()
    }

    async fn hotel(
        &self,
        tenant_id: &str,
        name: &str,
    ) -> Result<Option<HotelDetail>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let row = sqlx::query(
            "SELECT MIN(hotel_name) AS hotel_name, MIN(destination) AS destination, \
             MAX(star_rating) AS star_rating, COALESCE(bool_or(is_active), FALSE) AS any_active, \
             COUNT(CASE WHEN is_active THEN 1 END) AS active_rates, COUNT(*) AS total_rates \
             FROM rates WHERE tenant_id = $1 AND lower(hotel_name) = lower($2)",
        )
        .bind(tenant_id)
        .bind(name)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        let total_rates: i64 = row.try_get("total_rates").map_err(classify)?;
        if total_rates == 0 {
            commit(tx).await?;
            return Ok(None);
        }
        let prices = sqlx::query(AssertSqlSafe(price_sql(
            "WHERE tenant_id = $1 AND lower(hotel_name) = lower($2) AND is_active",
            "",
        )))
        .bind(tenant_id)
        .bind(name)
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        let stars: Option<i16> = row.try_get("star_rating").map_err(classify)?;
        Ok(Some(HotelDetail {
            hotel_name: row.try_get("hotel_name").map_err(classify)?,
            destination: row.try_get("destination").map_err(classify)?,
            star_rating: star_rating(stars.map(i64::from))?,
            is_active: row.try_get("any_active").map_err(classify)?,
            rate_count: row.try_get("active_rates").map_err(classify)?,
            total_rates,
            prices: prices.iter().map(price).collect::<Result<_, _>>()?,
        }))
    }

    async fn hotel_rates(
        &self,
        tenant_id: &str,
        name: &str,
        activity: Activity,
    ) -> Result<Vec<Rate>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM rates WHERE tenant_id = $1 AND lower(hotel_name) = lower($2) \
             AND ($3::boolean IS NULL OR is_active = $3) {ORDER}"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(tenant_id)
            .bind(name)
            .bind(activity.as_flag())
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        rows.iter().map(rate).collect()
    }

    async fn destinations(&self, tenant_id: &str) -> Result<Vec<DestinationSummary>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let rows = sqlx::query(
            "SELECT lower(destination) AS dkey, MIN(destination) AS destination, \
             COUNT(DISTINCT lower(hotel_name)) AS hotel_count, COUNT(*) AS rate_count \
             FROM rates WHERE tenant_id = $1 AND is_active \
             GROUP BY lower(destination) ORDER BY lower(destination) COLLATE \"C\"",
        )
        .bind(tenant_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        let prices = sqlx::query(AssertSqlSafe(price_sql(
            "WHERE tenant_id = $1 AND is_active",
            "lower(destination), ",
        )))
        .bind(tenant_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let key: String = row.try_get("dkey").map_err(classify)?;
            let mut ranges = Vec::new();
            for p in &prices {
                let pkey: String = p.try_get(0).map_err(classify)?;
                if pkey == key {
                    ranges.push(price(p)?);
                }
            }
            out.push(DestinationSummary {
                destination: row.try_get("destination").map_err(classify)?,
                hotel_count: row.try_get("hotel_count").map_err(classify)?,
                rate_count: row.try_get("rate_count").map_err(classify)?,
                prices: ranges,
            });
        }
        Ok(out)
    }

    async fn stats(&self, tenant_id: &str) -> Result<RateStats, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let row = sqlx::query(
            "SELECT COUNT(*) AS total_rates, COUNT(CASE WHEN is_active THEN 1 END) AS active_rates, \
             COUNT(DISTINCT lower(hotel_name)) AS total_hotels, \
             COUNT(DISTINCT lower(destination)) AS total_destinations \
             FROM rates WHERE tenant_id = $1",
        )
        .bind(tenant_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        let prices = sqlx::query(AssertSqlSafe(price_sql(
            "WHERE tenant_id = $1 AND is_active",
            "",
        )))
        .bind(tenant_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok(RateStats {
            total_rates: row.try_get("total_rates").map_err(classify)?,
            active_rates: row.try_get("active_rates").map_err(classify)?,
            total_hotels: row.try_get("total_hotels").map_err(classify)?,
            total_destinations: row.try_get("total_destinations").map_err(classify)?,
            prices: prices.iter().map(price).collect::<Result<_, _>>()?,
        })
    }

    async fn candidates(
        &self,
        tenant_id: &str,
        destinations: &[String],
        check_in: NaiveDate,
        check_out: NaiveDate,
    ) -> Result<Vec<Rate>, StorageError> {
        if destinations.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM rates WHERE tenant_id = $1 AND is_active \
               AND lower(destination) IN (SELECT lower(d) FROM unnest($2::text[]) AS d) \
               AND valid_from < $4 AND valid_to >= $3 \
             ORDER BY CASE WHEN valid_from <= $3 THEN 0 ELSE 1 END, \
               lower(hotel_name) COLLATE \"C\", valid_from, lower(room_type) COLLATE \"C\", \
               lower(meal_plan) COLLATE \"C\", rate_id COLLATE \"C\" \
             LIMIT $5"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(tenant_id)
            .bind(destinations)
            .bind(check_in)
            .bind(stay_end(check_in, check_out))
            .bind(i64::from(CANDIDATE_CAP))
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        rows.iter().map(rate).collect()
    }
}
