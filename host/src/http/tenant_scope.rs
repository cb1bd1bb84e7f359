//! The tenant hints a request carries outside its token: the `X-Client-ID` header, and the
//! request span's `tenant_id` field.
//!
//! Authenticated routes take their tenant from the token (see `session`); the header only
//! has to agree with it. Public tenant-scoped reads (branding) use the header alone.

use axum::http::request::Parts;

pub const CLIENT_ID: &str = "x-client-id";

/// The `X-Client-ID` value, treating absent, empty, `null` and `example` alike as not sent
/// (the dashboard sends those placeholders before it knows its tenant).
pub fn client_id(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(CLIENT_ID)?.to_str().ok()?.trim();
    match value {
        "" | "null" | "example" => None,
        v => Some(v.to_owned()),
    }
}

/// Names the tenant on the request's span, so every later log line of the request carries it.
pub fn record_tenant(tenant_id: &str) {
    tracing::Span::current().record("tenant_id", tenant_id);
}
