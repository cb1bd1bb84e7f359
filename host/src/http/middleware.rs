//! Cross-cutting request handling: request ids, the request span and its log line, metrics,
//! and one error shape for responses that did not come from a handler.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tracing::Instrument;

use super::error::ApiError;
use crate::metrics::Metrics;

pub const REQUEST_ID: &str = "x-request-id";

/// The request's id, readable by handlers.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A client-supplied id is kept when it is short and printable, so that it cannot forge or
/// break log lines; otherwise a fresh UUID is used.
fn accept_request_id(value: Option<&HeaderValue>) -> String {
    value
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// Wraps each request in a span carrying `request_id` (and, once known, `tenant_id`), logs one
/// line when it finishes, records metrics, and echoes `X-Request-ID` and `X-Response-Time`.
pub async fn request_context(
    State(metrics): State<Arc<Metrics>>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id = accept_request_id(req.headers().get(REQUEST_ID));
    // The route template, not the path: paths carry ids and addresses, and metrics need a
    // bounded set of labels.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = req.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        route = %route,
        tenant_id = tracing::field::Empty,
    );
    req.extensions_mut().insert(RequestId(request_id.clone()));

    let mut response = next.run(req).instrument(span.clone()).await;

    let elapsed = started.elapsed();
    let status = response.status();
    metrics.observe_request(method.as_str(), &route, status.as_u16(), elapsed);
    span.in_scope(|| {
        let latency_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3;
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), latency_ms, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), latency_ms, "request finished");
        }
    });
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{:.1}ms", elapsed.as_secs_f64() * 1000.0)) {
        headers.insert("x-response-time", v);
    }
    response
}

/// Gives every error response the `{"detail", "code"}` body, including those produced by
/// axum itself (unknown route, wrong method, a path that does not parse) and by layers.
pub async fn uniform_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Bodies from axum's own rejections are one short line of text; keep it as the detail.
    let text = match body.collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes())
            .trim()
            .to_owned(),
        Err(_) => String::new(),
    };
    let (code, default_detail) = match status {
        StatusCode::NOT_FOUND => ("not_found", "Not Found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "Method Not Allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "Request body too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "Unsupported media type"),
        StatusCode::BAD_REQUEST => ("bad_request", "Bad Request"),
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "Request timed out"),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "Too many requests"),
        s if s.is_server_error() => (
            "internal_error",
            "An internal error occurred while handling the request. Please try again later.",
        ),
        _ => ("error", "Request failed"),
    };
    // Server errors never reveal what went wrong inside.
    let detail = if text.is_empty() || status.is_server_error() {
        default_detail.to_owned()
    } else {
        text
    };
    let mut rebuilt = ApiError::new(status, code, detail).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rebuilt.headers_mut().append(name.clone(), value.clone());
        }
    }
    rebuilt
}

/// The fallback for unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::not_found("Not Found")
}
