//! `TenantScope`: the one place a tenant-scoped handler gets its tenant from.
//!
//! Architecture Invariant: handlers never read a tenant id from a body or a query string; they
//! take a `TenantScope`, which also refuses unknown and suspended tenants and records the
//! tenant on the request's span so every log line of the request names it.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::state::AppState;
use crate::tenants::model::Tenant;

pub const CLIENT_ID: &str = "x-client-id";

/// An active tenant the request is scoped to.
#[derive(Debug, Clone)]
pub struct TenantScope(pub Arc<Tenant>);

impl TenantScope {
    pub fn id(&self) -> &str {
        &self.0.id
    }
}

/// The `X-Client-ID` value, treating absent, empty, `null` and `example` alike as not sent
/// (the dashboard sends those placeholders before it knows its tenant).
pub fn client_id(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(CLIENT_ID)?.to_str().ok()?.trim();
    match value {
        "" | "null" | "example" => None,
        v => Some(v.to_owned()),
    }
}

impl FromRequestParts<AppState> for TenantScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(id) = client_id(parts) else {
            return Err(ApiError::bad_request("X-Client-ID header required"));
        };
        let tenant = state.tenants.require_active(&id).await?;
        record_tenant(&tenant.id);
        Ok(Self(tenant))
    }
}

/// Names the tenant on the request's span, so every later log line of the request carries it.
pub fn record_tenant(tenant_id: &str) {
    tracing::Span::current().record("tenant_id", tenant_id);
}
