//! The SendGrid Inbound Parse webhook (`/webhooks/email/inbound` and its aliases) and the
//! platform admin's inbound diagnostics.
//!
//! The webhook reads the body itself, with its own size cap (SendGrid posts up to 30 MB),
//! instead of the API's 10 MB default; a larger body is refused with 413 before any of it
//! is stored.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::admin::PlatformAdmin;
use super::auth::{ClientKey, per_address};
use super::error::ApiError;
use super::extract::Query;
use super::response::top_level;
use super::routes::{Access, Routes};
use crate::inbound::Received;
use crate::state::AppState;

pub fn routes() -> Routes {
    let webhook = || axum::routing::post(receive).layer(axum::extract::DefaultBodyLimit::disable());
    let for_tenant =
        axum::routing::post(receive_for_tenant).layer(axum::extract::DefaultBodyLimit::disable());
    Routes::new()
        .add_router(
            Method::POST,
            "/webhooks/email/inbound",
            Access::Public,
            webhook(),
        )
        .add_router(
            Method::POST,
            "/api/webhooks/sendgrid-inbound",
            Access::Public,
            webhook(),
        )
        .add_router(
            Method::POST,
            "/api/v1/inbound/email",
            Access::Public,
            webhook(),
        )
        .add_router(
            Method::POST,
            "/webhooks/email/inbound/{tenant_id}",
            Access::Public,
            for_tenant,
        )
        .get("/webhooks/email/status", Access::Platform, status)
        .get("/webhooks/email/unrouted", Access::Platform, unrouted)
}

#[derive(Debug, Deserialize, Default)]
struct WebhookQuery {
    #[serde(default)]
    token: Option<String>,
}

async fn receive(
    State(state): State<AppState>,
    ClientKey(client): ClientKey,
    Query(query): Query<WebhookQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    handle(state, &client, query, headers, body, None).await
}

async fn receive_for_tenant(
    State(state): State<AppState>,
    ClientKey(client): ClientKey,
    Path(tenant_id): Path<String>,
    Query(query): Query<WebhookQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    handle(state, &client, query, headers, body, Some(tenant_id)).await
}

async fn handle(
    state: AppState,
    client: &str,
    query: WebhookQuery,
    headers: HeaderMap,
    body: Body,
    tenant: Option<String>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    check_secret(&state, &query, &headers)?;
    per_address(
        &state,
        "inbound",
        client,
        state.config.rate_limits.inbound_per_minute,
    )
    .await?;
    let limit = state.config.inbound.body_limit_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::payload_too_large(limit));
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            || e.to_string().contains("length limit")
        {
            ApiError::payload_too_large(limit)
        } else {
            ApiError::bad_request(format!("The request body could not be read: {e}"))
        }
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let received = state
        .inbound
        .receive(&content_type, bytes, tenant.as_deref())
        .await?;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(match received {
        Received::Accepted(receipt) => {
            let mut body = json!({
                "diagnostic_id": receipt.diagnostic_id,
                "tenant_id": receipt.tenant_id,
                "resolution_strategy": receipt.strategy,
                "from": receipt.from,
                "subject": receipt.subject,
                "message": if receipt.duplicate {
                    "Email already received"
                } else {
                    "Email queued for processing"
                },
                "elapsed_ms": elapsed_ms,
            });
            if receipt.duplicate {
                body["duplicate"] = json!(true);
            }
            if !receipt.warnings.is_empty() {
                body["warnings"] = json!(receipt.warnings);
            }
            top_level(body)
        }
        // 200, so SendGrid does not retry a message no retry can route.
        Received::Unresolved {
            diagnostic_id,
            to_email,
            strategies_tried,
        } => axum::Json(json!({
            "success": false,
            "error": "Could not determine tenant",
            "diagnostic_id": diagnostic_id,
            "to_email": to_email,
            "strategies_tried": strategies_tried,
        }))
        .into_response(),
    })
}

use axum::response::IntoResponse;

/// With a webhook secret configured, the post must carry it as `?token=` or as the
/// basic-auth password (SendGrid supports credentials in the URL).
fn check_secret(
    state: &AppState,
    query: &WebhookQuery,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let Some(secret) = &state.config.inbound.webhook_secret else {
        return Ok(());
    };
    let expected = secret.expose().as_bytes();
    let from_query = query.token.as_deref().map(str::as_bytes);
    let from_basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|raw| {
            let text = String::from_utf8(raw).ok()?;
            text.split_once(':').map(|(_, p)| p.as_bytes().to_vec())
        });
    let matches = |given: &[u8]| bool::from(given.ct_eq(expected));
    if from_query.is_some_and(matches) || from_basic.as_deref().is_some_and(matches) {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            "Inbound webhook credentials missing or wrong",
        ))
    }
}

async fn status(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
) -> Result<Response, ApiError> {
    let counts = state.inbound.counts().await?;
    let by_state: serde_json::Map<String, serde_json::Value> =
        counts.into_iter().map(|(s, n)| (s, json!(n))).collect();
    let config = state.inbound.config();
    Ok(top_level(json!({
        "data": {
            "inbound_domain": config.domain,
            "webhook_protected": config.webhook_secret.is_some(),
            "body_limit_bytes": config.body_limit_bytes,
            "workers": config.workers,
            "messages": by_state,
        }
    })))
}

#[derive(Debug, Deserialize)]
struct UnroutedQuery {
    #[serde(default = "fifty")]
    limit: u32,
}

fn fifty() -> u32 {
    50
}

async fn unrouted(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
    Query(query): Query<UnroutedQuery>,
) -> Result<Response, ApiError> {
    let rows = state.inbound.unrouted(query.limit.clamp(1, 200)).await?;
    let data: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "diagnostic_id": r.diagnostic_id,
                "to_email": r.to_email,
                "from": r.sender,
                "subject": r.subject,
                "strategies_tried": serde_json::from_str::<serde_json::Value>(&r.strategies_tried)
                    .unwrap_or_default(),
                "received_at": r.received_at,
            })
        })
        .collect();
    Ok(top_level(json!({"count": data.len(), "data": data})))
}
