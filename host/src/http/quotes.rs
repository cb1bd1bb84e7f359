//! `/api/v1/quotes*` and the public quote PDF (`/api/v1/public/quotes/{id}/pdf`).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{ClientKey, per_address};
use super::error::ApiError;
use super::extract::{Json, Query, page};
use super::response::{ok, top_level};
use super::routes::{Access, Routes};
use super::session::CurrentUser;
use crate::error::Error;
use crate::quotes::generate::{Inquiry, major};
use crate::quotes::{Generated, LineItem, Options, QuotePatch, Unquoted, normalise_status};
use crate::state::AppState;
use crate::storage::quotes::{Quote, QuoteQuery};

pub fn routes() -> Routes {
    let base = "/api/v1/quotes";
    Routes::new()
        .get(base, Access::User, list)
        .post(&format!("{base}/generate"), Access::User, generate)
        .post(
            &format!("{base}/create-with-items"),
            Access::User,
            create_with_items,
        )
        .get(&format!("{base}/{{quote_id}}"), Access::User, detail)
        .patch(&format!("{base}/{{quote_id}}"), Access::User, update)
        .delete(&format!("{base}/{{quote_id}}"), Access::User, delete)
        .post(&format!("{base}/{{quote_id}}/send"), Access::User, send)
        .post(&format!("{base}/{{quote_id}}/resend"), Access::User, resend)
        .get(&format!("{base}/{{quote_id}}/pdf"), Access::User, pdf)
        .get(
            "/api/v1/public/quotes/{quote_id}/pdf",
            Access::Public,
            public_pdf,
        )
}

/// A quote as the dashboard reads it.
pub fn quote_body(q: &Quote) -> Value {
    json!({
        "id": q.id,
        "tenant_id": q.tenant_id,
        "quote_id": q.quote_id,
        "customer_name": q.customer_name,
        "customer_email": q.customer_email,
        "customer_phone": q.customer_phone,
        "destination": q.destination,
        "check_in": q.check_in,
        "check_out": q.check_out,
        "nights": q.nights,
        "adults": q.adults,
        "children": q.children,
        "children_ages": q.children_ages,
        "room_count": q.room_count,
        "hotels": q.hotels,
        "total_price": major(q.total_minor, &q.currency),
        "currency": q.currency,
        "totals": q.totals,
        "status": normalise_status(&q.status),
        "email_sent": q.email_sent,
        "pdf_generated": q.pdf_object.is_some(),
        "consultant_id": q.consultant_id,
        "source": q.source,
        "ticket_id": q.ticket_id,
        "warnings": q.details.get("warnings"),
        "created_at": q.created_at,
        "updated_at": q.updated_at,
        "sent_at": q.sent_at,
        "email_sent_at": q.sent_at,
        "viewed_at": q.viewed_at,
        "accepted_at": q.accepted_at,
    })
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    customer_email: Option<String>,
    #[serde(default)]
    search: Option<String>,
    #[serde(default = "fifty")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

fn fifty() -> i64 {
    50
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let (limit, offset) = page(q.limit, q.offset, 100, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Validation(errors).into());
    }
    let nonempty = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let quotes = state
        .quotes
        .list(
            &session.tenant.id,
            &QuoteQuery {
                status: nonempty(q.status),
                customer_email: nonempty(q.customer_email),
                search: nonempty(q.search),
                limit,
                offset,
            },
        )
        .await?;
    let data: Vec<Value> = quotes.iter().map(quote_body).collect();
    Ok(top_level(json!({"data": data, "count": data.len()})))
}

async fn detail(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(quote_id): Path<String>,
) -> Result<Response, ApiError> {
    let quote = state.quotes.get(&session.tenant.id, &quote_id).await?;
    Ok(ok(quote_body(&quote)))
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct GenerateBody {
    inquiry: Inquiry,
    #[serde(default = "yes")]
    send_email: bool,
    #[serde(default = "yes")]
    assign_consultant: bool,
    #[serde(default)]
    selected_hotels: Option<Vec<String>>,
    #[serde(default)]
    ticket_id: Option<String>,
    #[serde(default)]
    save_as_draft: bool,
}

fn generated_body(g: &Generated) -> Value {
    json!({
        "quote_id": g.quote.quote_id,
        "email_sent": g.email_sent,
        "email_error": g.email_error,
        "hotels_count": g.quote.hotels.as_array().map_or(0, Vec::len),
        "status": normalise_status(&g.quote.status),
        "quote": quote_body(&g.quote),
        "consultant": g.quote.consultant_id,
        "crm_added": g.crm_added,
        "call_queued": false,
        "ticket_resolved": g.ticket_resolved,
    })
}

async fn generate(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Json(body): Json<GenerateBody>,
) -> Result<Response, ApiError> {
    let options = Options {
        selected_hotels: body.selected_hotels,
        source: if body.ticket_id.is_some() {
            "ticket"
        } else {
            "manual"
        }
        .to_owned(),
        ticket_id: body.ticket_id,
        save_as_draft: body.save_as_draft,
        send_email: body.send_email,
        assign_consultant: body.assign_consultant,
        inbound_message_id: None,
    };
    let outcome = state
        .quotes
        .generate(&session.tenant, &body.inquiry, &options)
        .await;
    // The page shows `error` from a 200 for what a person can act on; validation stays 422.
    Ok(match outcome {
        Ok(Ok(generated)) => top_level(generated_body(&generated)),
        Ok(Err(Unquoted::NoAvailability {
            destination,
            warnings,
        })) => axum::Json(json!({
            "success": false,
            "quote_id": null,
            "status": "no_availability",
            "error": format!("No available hotels found for {destination}"),
            "warnings": warnings,
        }))
        .into_response(),
        Ok(Err(Unquoted::PluginFailed { slot, error })) => axum::Json(json!({
            "success": false,
            "quote_id": null,
            "status": "error",
            "error": format!("The {slot} plugin failed: {error}"),
        }))
        .into_response(),
        Err(e @ (Error::Validation(_) | Error::NotFound(_))) => return Err(e.into()),
        Err(e @ Error::Unavailable(_)) => return Err(e.into()),
        Err(e) => {
            tracing::error!(tenant_id = %session.tenant.id, error = %e, "quote generation failed");
            axum::Json(json!({
                "success": false,
                "quote_id": null,
                "status": "error",
                "error": "The quote could not be generated. Please try again.",
            }))
            .into_response()
        }
    })
}

#[derive(Debug, Deserialize)]
struct CartBody {
    inquiry: Inquiry,
    line_items: Vec<LineItem>,
    #[serde(default = "yes")]
    send_email: bool,
    #[serde(default = "yes")]
    assign_consultant: bool,
    #[serde(default)]
    save_as_draft: bool,
}

async fn create_with_items(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Json(body): Json<CartBody>,
) -> Result<Response, ApiError> {
    let options = Options {
        save_as_draft: body.save_as_draft,
        send_email: body.send_email,
        assign_consultant: body.assign_consultant,
        source: "shopping_cart".to_owned(),
        ..Options::default()
    };
    let consultant = body.assign_consultant.then(|| session.user.id.clone());
    let g = state
        .quotes
        .create_with_items(
            &session.tenant,
            &body.inquiry,
            &body.line_items,
            &options,
            consultant,
        )
        .await?;
    Ok(top_level(json!({
        "quote_id": g.quote.quote_id,
        "email_sent": g.email_sent,
        "email_error": g.email_error,
        "items_count": body.line_items.len(),
        "totals": g.quote.totals,
        "is_draft": g.quote.status == "draft",
        "quote": quote_body(&g.quote),
    })))
}

async fn update(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(quote_id): Path<String>,
    Json(body): Json<QuotePatch>,
) -> Result<Response, ApiError> {
    let quote = state.quotes.patch(&session.tenant, &quote_id, body).await?;
    Ok(ok(quote_body(&quote)))
}

async fn delete(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(quote_id): Path<String>,
) -> Result<Response, ApiError> {
    state.quotes.delete(&session.tenant, &quote_id).await?;
    Ok(top_level(json!({"message": "Quote deleted"})))
}

async fn send(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(quote_id): Path<String>,
) -> Result<Response, ApiError> {
    let quote = state.quotes.send_draft(&session.tenant, &quote_id).await?;
    Ok(top_level(json!({
        "quote_id": quote.quote_id,
        "status": "sent",
        "email_sent_at": quote.sent_at,
        "message": format!("Quote sent to {}", quote.customer_email),
    })))
}

async fn resend(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(quote_id): Path<String>,
) -> Result<Response, ApiError> {
    let quote = state.quotes.resend(&session.tenant, &quote_id).await?;
    Ok(top_level(json!({
        "quote_id": quote.quote_id,
        "email_sent": true,
        "email_sent_at": chrono::Utc::now(),
        "message": format!("Quote resent to {}", quote.customer_email),
    })))
}

fn pdf_response(bytes: Vec<u8>, disposition: String, inline: bool) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if inline {
        // Shown in the dashboard's iframe: framing is allowed, scripts are not.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
        );
        headers.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
    }
    response
}

async fn pdf(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(quote_id): Path<String>,
) -> Result<Response, ApiError> {
    let quote = state.quotes.get(&session.tenant.id, &quote_id).await?;
    let bytes = state.quotes.pdf(&session.tenant, &quote).await?;
    Ok(pdf_response(
        bytes,
        format!("attachment; filename=\"Quote_{}.pdf\"", quote.quote_id),
        false,
    ))
}

/// `^(QT|QUO)-\d{8}-[A-F0-9]{6}$` (any case) or a uuid; anything else is 404 before any
/// lookup.
fn is_public_quote_id(id: &str) -> bool {
    let upper = id.to_ascii_uppercase();
    let parts: Vec<&str> = upper.split('-').collect();
    let shaped = parts.len() == 3
        && matches!(parts[0], "QT" | "QUO")
        && parts[1].len() == 8
        && parts[1].bytes().all(|b| b.is_ascii_digit())
        && parts[2].len() == 6
        && parts[2].bytes().all(|b| b.is_ascii_hexdigit());
    shaped || uuid::Uuid::try_parse(id).is_ok()
}

async fn public_pdf(
    State(state): State<AppState>,
    ClientKey(client): ClientKey,
    Path(quote_id): Path<String>,
) -> Result<Response, ApiError> {
    // Ids are guessable only by brute force; the per-address budget makes that slow.
    per_address(
        &state,
        "public_pdf",
        &client,
        state.config.rate_limits.public_pdf_per_minute,
    )
    .await?;
    if !is_public_quote_id(&quote_id) {
        return Err(ApiError::not_found("Quote not found"));
    }
    let quote = state.quotes.find_public(&quote_id).await?;
    let tenant = state.tenants.get(&quote.tenant_id).await?;
    let bytes = state.quotes.pdf(&tenant, &quote).await?;
    Ok(pdf_response(
        bytes,
        format!("inline; filename=\"Quote_{}.pdf\"", quote.quote_id),
        true,
    ))
}
