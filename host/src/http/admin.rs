//! The platform-admin API under `/api/v1/admin`, authenticated by `X-Admin-Token`.

mod tenants;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use super::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    tenants::routes().merge(super::plugins::platform_routes())
}

/// Proof that the request carries the platform admin token.
///
/// Both tokens are hashed before the constant-time comparison so that neither the content
/// nor the length of the configured token can be learned from response timing.
#[derive(Debug, Clone, Copy)]
pub struct PlatformAdmin;

impl FromRequestParts<AppState> for PlatformAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(configured) = &state.config.admin_token else {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "admin_api_disabled",
                "Platform admin API is not configured: set CARAVAN_ADMIN_TOKEN on the server",
            ));
        };
        let Some(given) = parts.headers.get("x-admin-token") else {
            return Err(ApiError::unauthorized("X-Admin-Token header required"));
        };
        let expected = Sha256::digest(configured.expose().as_bytes());
        let actual = Sha256::digest(given.as_bytes());
        if bool::from(expected.ct_eq(&actual)) {
            Ok(PlatformAdmin)
        } else {
            tracing::warn!("rejected platform admin request with an invalid token");
            Err(ApiError::unauthorized("Invalid admin token"))
        }
    }
}
