//! `/api/v1/pricing/*`: the tenant's rates and hotels (API.md §2.6, P1–P12).
//!
//! Amounts leave here as JSON numbers in major units of each rate's currency; whole-stay
//! figures (`total_7nights_*`) are the stored nightly amounts × the rate's `nights`.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{BodyLimit, Json, Query};
use super::response::{created, ok, top_level};
use super::routes::{Access, Routes};
use super::session::TenantScope;
use crate::money::{Currency, Money};
use crate::rates::model::{DestinationSummary, HotelSummary, PriceRange, Rate};
use crate::rates::{ImportReport, ListParams, RateInput, activity, home_currency, leading_range};
use crate::state::AppState;

pub fn routes() -> Routes {
    let base = "/api/v1/pricing";
    let rate = format!("{base}/rates/{{rate_id}}");
    let hotel = format!("{base}/hotels/{{hotel_name}}");
    // The static `/rates/export` and `/rates/import` win over `/rates/{rate_id}` (axum
    // matches static segments first), so neither can be read as a rate id.
    Routes::new()
        .get(&format!("{base}/rates"), Access::User, list_rates)
        .post(&format!("{base}/rates"), Access::User, create_rate)
        .get(&format!("{base}/rates/export"), Access::User, export_rates)
        .post(&format!("{base}/rates/import"), Access::User, import_rates)
        .get(&rate, Access::User, get_rate)
        .put(&rate, Access::User, update_rate)
        .delete(&rate, Access::User, delete_rate)
        .get(&format!("{base}/hotels"), Access::User, list_hotels)
        .get(&hotel, Access::User, get_hotel)
        .get(&format!("{hotel}/rates"), Access::User, hotel_rates)
        .get(&format!("{base}/destinations"), Access::User, destinations)
        .get(&format!("{base}/stats"), Access::User, stats)
}

fn major(minor: i64, currency: Currency) -> f64 {
    Money::new(minor, currency).to_major()
}

fn optional(minor: Option<i64>, currency: Currency) -> Option<f64> {
    minor.map(|m| major(m, currency))
}

/// A rate as the dashboard reads it: the P3 fields (whole-stay totals for `nights` nights)
/// and the stored nightly amounts they come from.
pub fn rate_body(r: &Rate) -> Value {
    let c = r.currency;
    let whole_stay = |minor: Option<i64>| minor.map(|m| r.whole_stay(m).to_major());
    json!({
        "id": r.id,
        "rate_id": r.rate_id,
        "hotel_name": r.hotel_name,
        "hotel_rating": r.star_rating,
        "star_rating": r.star_rating,
        "destination": r.destination,
        "room_type": r.room_type,
        "meal_plan": r.meal_plan,
        "check_in_date": r.valid_from,
        "check_out_date": r.valid_to,
        "valid_from": r.valid_from,
        "valid_to": r.valid_to,
        "nights": r.nights,
        "min_nights": r.min_nights,
        "currency": c,
        "total_7nights_pps": r.whole_stay(r.sharing_per_night).to_major(),
        "total_7nights_single": whole_stay(r.single_per_night),
        "total_7nights_child": whole_stay(r.child_per_night),
        "total_7nights_infant": whole_stay(r.infant_per_night),
        "per_person_sharing_per_night": major(r.sharing_per_night, c),
        "single_per_night": optional(r.single_per_night, c),
        "child_per_night": optional(r.child_per_night, c),
        "infant_per_night": optional(r.infant_per_night, c),
        "flights_adult": optional(r.flights_adult, c),
        "flights_child": optional(r.flights_child, c),
        "transfers_adult": optional(r.transfers_adult, c),
        "transfers_child": optional(r.transfers_child, c),
        "is_active": r.is_active,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    })
}

fn range_body(p: &PriceRange) -> Value {
    json!({
        "currency": p.currency,
        "rate_count": p.rate_count,
        "min_price": major(p.min, p.currency),
        "max_price": major(p.max, p.currency),
        "avg_price": major(p.avg.round() as i64, p.currency),
    })
}

/// `min_price`, `max_price`, `avg_price` and `currency` of the leading range (the home
/// currency's, else the most used one; zeros in the home currency when there are no
/// prices), and every range under `price_ranges`, since amounts of different currencies
/// are never compared.
fn prices_fields(prices: &[PriceRange], home: Currency) -> serde_json::Map<String, Value> {
    let lead = leading_range(prices, home);
    let currency = lead.map_or(home, |p| p.currency);
    let (min, max, avg) = lead.map_or((0, 0, 0), |p| (p.min, p.max, p.avg.round() as i64));
    let mut fields = serde_json::Map::new();
    fields.insert("min_price".into(), json!(major(min, currency)));
    fields.insert("max_price".into(), json!(major(max, currency)));
    fields.insert("avg_price".into(), json!(major(avg, currency)));
    fields.insert("currency".into(), json!(currency));
    fields.insert(
        "price_ranges".into(),
        Value::Array(prices.iter().map(range_body).collect()),
    );
    fields
}

fn with(mut base: Value, extra: serde_json::Map<String, Value>) -> Value {
    if let Value::Object(map) = &mut base {
        map.extend(extra);
    }
    base
}

/// P1.
async fn list_rates(
    State(state): State<AppState>,
    tenant: TenantScope,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    let filter = params.filter(true)?;
    let page = state.rates.list(tenant.id(), &filter).await?;
    Ok(top_level(json!({
        "data": page.rates.iter().map(rate_body).collect::<Vec<_>>(),
        "count": page.rates.len(),
        "total": page.total,
        "limit": filter.limit,
        "offset": filter.offset,
    })))
}

/// P2.
async fn get_rate(
    State(state): State<AppState>,
    tenant: TenantScope,
    Path(rate_id): Path<String>,
) -> Result<Response, ApiError> {
    let rate = state.rates.get(tenant.id(), &rate_id).await?;
    Ok(ok(rate_body(&rate)))
}

/// P3.
async fn create_rate(
    State(state): State<AppState>,
    TenantScope(tenant): TenantScope,
    Json(input): Json<RateInput>,
) -> Result<Response, ApiError> {
    let rate = state.rates.create(&tenant, input).await?;
    Ok(created(rate_body(&rate)))
}

/// P4.
async fn update_rate(
    State(state): State<AppState>,
    tenant: TenantScope,
    Path(rate_id): Path<String>,
    Json(input): Json<RateInput>,
) -> Result<Response, ApiError> {
    let rate = state.rates.update(tenant.id(), &rate_id, input).await?;
    Ok(ok(rate_body(&rate)))
}

#[derive(Debug, Deserialize)]
struct DeleteParams {
    #[serde(default)]
    hard_delete: Option<bool>,
}

/// P5.
async fn delete_rate(
    State(state): State<AppState>,
    tenant: TenantScope,
    Path(rate_id): Path<String>,
    Query(params): Query<DeleteParams>,
) -> Result<Response, ApiError> {
    let hard = params.hard_delete.unwrap_or(false);
    let rate = state.rates.delete(tenant.id(), &rate_id, hard).await?;
    let message = if hard {
        format!("Rate {} deleted", rate.rate_id)
    } else {
        format!("Rate {} deactivated", rate.rate_id)
    };
    Ok(top_level(json!({ "message": message })))
}

/// Reading the multipart body failed: too large, or not multipart at all.
fn multipart_error(status: StatusCode, text: String, limit: Option<usize>) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large(limit.unwrap_or(0))
    } else {
        ApiError::bad_request(format!("Could not read the uploaded file: {text}"))
    }
}

/// P6: the CSV arrives in the multipart field `file`.
async fn import_rates(
    State(state): State<AppState>,
    TenantScope(tenant): TenantScope,
    limit: Option<axum::Extension<BodyLimit>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let limit = limit.map(|l| l.0.0);
    let mut multipart = multipart.map_err(|_| {
        ApiError::bad_request(
            "Expected a multipart/form-data upload with the CSV in a field named `file`",
        )
    })?;
    let mut file = None;
    let mut others = Vec::new();
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| multipart_error(e.status(), e.body_text(), limit))?;
        let Some(field) = field else { break };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if file.is_some() {
                return Err(file_field_error("Send one file per import", "value_error"));
            }
            let bytes = field
                .bytes()
                .await
                .map_err(|e| multipart_error(e.status(), e.body_text(), limit))?;
            file = Some(bytes);
        } else {
            others.push(name);
        }
    }
    let Some(bytes) = file else {
        let got = if others.is_empty() {
            "no fields".to_owned()
        } else {
            format!("fields {}", others.join(", "))
        };
        return Err(file_field_error(
            &format!("Field required: send the CSV in a multipart field named `file` (got {got})"),
            "missing",
        ));
    };
    let report = state.rates.import_csv(&tenant, &bytes).await?;
    Ok(import_response(&report))
}

fn file_field_error(msg: &str, kind: &str) -> ApiError {
    ApiError::validation(vec![crate::error::FieldError {
        loc: vec!["body".to_owned(), "file".to_owned()],
        msg: msg.to_owned(),
        kind: kind.to_owned(),
    }])
}

/// 200 with the counts, or 422 when any row is bad: nothing was imported, and the body
/// carries both the usual `detail` list and the P6 fields with every row's problems.
fn import_response(report: &ImportReport) -> Response {
    if report.errors.is_empty() {
        return top_level(json!({
            "total_rows": report.total_rows,
            "imported": report.imported,
            "created": report.created,
            "updated": report.updated,
            "errors": [],
        }));
    }
    let detail: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            let mut loc = vec![
                json!("body"),
                json!("file"),
                json!(format!("row {}", e.row)),
            ];
            if let Some(field) = &e.field {
                loc.push(json!(field));
            }
            json!({
                "loc": loc,
                "msg": format!("row {}: {}", e.row, e.message),
                "type": "value_error",
            })
        })
        .collect();
    let bad_rows = {
        let mut rows: Vec<usize> = report.errors.iter().map(|e| e.row).collect();
        rows.dedup();
        rows.len()
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({
            "detail": detail,
            "code": "invalid_rows",
            "success": false,
            "message": format!(
                "{bad_rows} of {} rows are invalid; nothing was imported",
                report.total_rows
            ),
            "total_rows": report.total_rows,
            "imported": 0,
            "errors": report.errors,
        })),
    )
        .into_response()
}

/// P7: the P1 filters, every match, in the import's format.
async fn export_rates(
    State(state): State<AppState>,
    tenant: TenantScope,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    let filter = params.filter(false)?;
    let csv = state.rates.export_csv(tenant.id(), &filter).await?;
    let mut response = csv.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"rates.csv\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct HotelParams {
    destination: Option<String>,
    is_active: Option<String>,
}

fn hotel_body(h: &HotelSummary) -> Value {
    json!({
        "hotel_name": h.hotel_name,
        "destination": h.destination,
        "star_rating": h.star_rating,
        "hotel_rating": h.star_rating,
        "is_active": h.is_active,
        "rate_count": h.rate_count,
    })
}

/// P8.
async fn list_hotels(
    State(state): State<AppState>,
    tenant: TenantScope,
    Query(params): Query<HotelParams>,
) -> Result<Response, ApiError> {
    let activity = activity(params.is_active.as_deref())?;
    let hotels = state
        .rates
        .hotels(tenant.id(), params.destination.as_deref(), activity)
        .await?;
    Ok(top_level(json!({
        "data": hotels.iter().map(hotel_body).collect::<Vec<_>>(),
        "count": hotels.len(),
    })))
}

/// P9.
async fn get_hotel(
    State(state): State<AppState>,
    TenantScope(tenant): TenantScope,
    Path(hotel_name): Path<String>,
) -> Result<Response, ApiError> {
    let home = home_currency(&tenant)?;
    let h = state.rates.hotel(&tenant.id, &hotel_name).await?;
    let body = json!({
        "hotel_name": h.hotel_name,
        "destination": h.destination,
        "star_rating": h.star_rating,
        "hotel_rating": h.star_rating,
        "is_active": h.is_active,
        "rate_count": h.rate_count,
        "total_rates": h.total_rates,
    });
    Ok(ok(with(body, prices_fields(&h.prices, home))))
}

/// P10.
async fn hotel_rates(
    State(state): State<AppState>,
    tenant: TenantScope,
    Path(hotel_name): Path<String>,
) -> Result<Response, ApiError> {
    let (name, rates) = state.rates.hotel_rates(tenant.id(), &hotel_name).await?;
    Ok(top_level(json!({
        "hotel_name": name,
        "data": rates.iter().map(rate_body).collect::<Vec<_>>(),
        "count": rates.len(),
    })))
}

fn destination_body(d: &DestinationSummary, home: Currency) -> Value {
    let body = json!({
        "destination": d.destination,
        "hotel_count": d.hotel_count,
        "rate_count": d.rate_count,
    });
    with(body, prices_fields(&d.prices, home))
}

/// P11.
async fn destinations(
    State(state): State<AppState>,
    TenantScope(tenant): TenantScope,
) -> Result<Response, ApiError> {
    let home = home_currency(&tenant)?;
    let list = state.rates.destinations(&tenant.id).await?;
    Ok(top_level(json!({
        "data": list.iter().map(|d| destination_body(d, home)).collect::<Vec<_>>(),
        "count": list.len(),
    })))
}

/// P12.
async fn stats(
    State(state): State<AppState>,
    TenantScope(tenant): TenantScope,
) -> Result<Response, ApiError> {
    let home = home_currency(&tenant)?;
    let s = state.rates.stats(&tenant.id).await?;
    let body = json!({
        "total_rates": s.total_rates,
        "active_rates": s.active_rates,
        "total_hotels": s.total_hotels,
        "total_destinations": s.total_destinations,
    });
    Ok(ok(with(body, prices_fields(&s.prices, home))))
}
