//! `/api/v1/auth/*`: login, refresh, logout, the signed-in user's profile and password,
//! password resets and invitation acceptance.
//!
//! Login and refresh answer with their fields at the top level, and a refused login is a
//! 200 `{success: false, error}`, as the dashboard expects. Passwords and tokens are never
//! logged: handlers log outcomes, not inputs.

use std::time::Duration;

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::extract::{Json, Query};
use super::response::top_level;
use super::routes::{Access, Routes};
use super::session::{CurrentUser, client_key, set_rate_headers};
use super::users::user_body;
use crate::error::FieldError;
use crate::ratelimit::Rule;
use crate::state::AppState;
use crate::tenants::validate::is_valid_email;

pub fn routes() -> Routes {
    let base = "/api/v1/auth";
    Routes::new()
        .post(&format!("{base}/login"), Access::Public, login)
        .post(&format!("{base}/logout"), Access::User, logout)
        .post(&format!("{base}/refresh"), Access::Public, refresh)
        .get(&format!("{base}/me"), Access::User, me)
        .patch(&format!("{base}/profile"), Access::User, update_profile)
        .post(
            &format!("{base}/password/change"),
            Access::User,
            change_password,
        )
        .post(
            &format!("{base}/password/reset"),
            Access::Public,
            request_reset,
        )
        .post(
            &format!("{base}/password/update"),
            Access::Public,
            complete_reset,
        )
        .post(
            &format!("{base}/invite/accept"),
            Access::Public,
            accept_invitation,
        )
}

/// The client address of a public request, for per-address limits.
pub(crate) struct ClientKey(pub(crate) String);

impl FromRequestParts<AppState> for ClientKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(client_key(parts, state)))
    }
}

/// Counts one call of `what` from the address against `per_minute`; 429 when over.
pub(crate) async fn per_address(
    state: &AppState,
    what: &str,
    client: &str,
    per_minute: u32,
) -> Result<crate::ratelimit::Decision, ApiError> {
    let key = format!("{}:{what}:ip:{client}", state.config.rate_limits.namespace);
    let decision = state.limiter.hit(&key, Rule::per_minute(per_minute)).await;
    if decision.allowed {
        Ok(decision)
    } else {
        tracing::warn!(limit = what, "per-address rate limit reached");
        let mut err = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests. Please try again later.",
        )
        .retry_after(decision.retry_after_secs());
        err = err.with_rate_limit(decision.limit, decision.remaining);
        Err(err)
    }
}

fn lock_key(state: &AppState, email: &str) -> String {
    format!(
        "{}:login:account:{email}",
        state.config.rate_limits.namespace
    )
}

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: String,
    #[serde(default)]
    tenant_id: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    ClientKey(client): ClientKey,
    Json(body): Json<LoginBody>,
) -> Result<Response, ApiError> {
    let email = body.email.trim().to_ascii_lowercase();
    if !is_valid_email(&email) {
        return Err(ApiError::validation(vec![FieldError::body(
            "email",
            "value is not a valid email address",
        )]));
    }
    let limits = &state.config.rate_limits;
    let lock = lock_key(&state, &email);
    if let Some(left) = state.limiter.blocked_for(&lock).await {
        return Err(locked(left));
    }
    let decision = per_address(&state, "login", &client, limits.login_per_minute).await?;
    let tenant_hint = body.tenant_id.as_deref().filter(|t| !t.is_empty());
    let outcome = state
        .accounts
        .login(&email, &body.password, tenant_hint)
        .await?;
    let mut response = match outcome {
        Ok((pair, user)) => {
            state.limiter.reset(&lock).await;
            tracing::info!(
                user_id = user.id,
                tenant_id = user.tenant_id,
                "login succeeded"
            );
            top_level(json!({
                "access_token": pair.access_token,
                "refresh_token": pair.refresh_token,
                "expires_at": pair.expires_at,
                "token_type": "bearer",
                "user": user_body(&user),
            }))
        }
        Err(reason) => {
            let failures = Rule::new(
                limits.login_failures_before_lock,
                Duration::from_secs(limits.login_lock_secs),
            );
            let counted = state.limiter.hit(&lock, failures).await;
            if counted.remaining == 0 {
                let lock_for = Duration::from_secs(limits.login_lock_secs);
                state.limiter.block(&lock, lock_for).await;
                tracing::warn!(email = %email, "account locked after repeated failed logins");
            }
            tracing::info!(email = %email, reason, "login refused");
            axum::Json(json!({"success": false, "error": reason})).into_response()
        }
    };
    set_rate_headers(&mut response, &decision);
    Ok(response)
}

fn locked(left: Duration) -> ApiError {
    let secs = left.as_secs().max(1);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "account_locked",
        format!("Account temporarily locked. Try again in {secs} seconds."),
    )
    .retry_after(secs)
}

async fn logout(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> Result<Response, ApiError> {
    state.accounts.logout(&session).await?;
    Ok(top_level(json!({"message": "Logged out successfully"})))
}

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshBody>,
) -> Result<Response, ApiError> {
    let pair = state.accounts.refresh(body.refresh_token.trim()).await?;
    Ok(top_level(json!({
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "expires_at": pair.expires_at,
        "token_type": "bearer",
    })))
}

async fn me(CurrentUser(session): CurrentUser) -> Response {
    top_level(json!({ "user": user_body(&session.user) }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

async fn update_profile(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Json(body): Json<ProfileBody>,
) -> Result<Response, ApiError> {
    let user = state
        .accounts
        .update_profile(&session, body.name, body.phone)
        .await?;
    Ok(top_level(json!({
        "user": user_body(&user),
        "message": "Profile updated",
    })))
}

#[derive(Deserialize)]
struct ChangePasswordBody {
    new_password: String,
    /// Collected by the dashboard's form but not sent; accepted if a client sends it.
    #[serde(default)]
    #[allow(dead_code)]
    current_password: Option<String>,
}

async fn change_password(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Json(body): Json<ChangePasswordBody>,
) -> Result<Response, ApiError> {
    state
        .accounts
        .change_password(&session, &body.new_password)
        .await?;
    tracing::info!("password changed");
    Ok(top_level(
        json!({"message": "Password changed successfully"}),
    ))
}

#[derive(Deserialize)]
struct ResetBody {
    email: String,
}

async fn request_reset(
    State(state): State<AppState>,
    ClientKey(client): ClientKey,
    Json(body): Json<ResetBody>,
) -> Result<Response, ApiError> {
    let per_minute = state.config.rate_limits.password_reset_per_minute;
    per_address(&state, "password-reset", &client, per_minute).await?;
    state.accounts.request_password_reset(&body.email).await?;
    Ok(top_level(json!({
        "message": "If an account exists for this email, a password reset link has been sent."
    })))
}

#[derive(Deserialize)]
struct UpdateBody {
    token: String,
    new_password: String,
}

async fn complete_reset(
    State(state): State<AppState>,
    ClientKey(client): ClientKey,
    Json(body): Json<UpdateBody>,
) -> Result<Response, ApiError> {
    let per_minute = state.config.rate_limits.password_update_per_minute;
    per_address(&state, "password-update", &client, per_minute).await?;
    state
        .accounts
        .complete_password_reset(body.token.trim(), &body.new_password)
        .await?;
    tracing::info!("password reset completed");
    Ok(top_level(
        json!({"message": "Password updated successfully"}),
    ))
}

#[derive(Deserialize)]
struct AcceptQuery {
    token: String,
}

#[derive(Deserialize)]
struct AcceptBody {
    password: String,
    #[serde(default)]
    name: Option<String>,
}

async fn accept_invitation(
    State(state): State<AppState>,
    ClientKey(client): ClientKey,
    Query(query): Query<AcceptQuery>,
    Json(body): Json<AcceptBody>,
) -> Result<Response, ApiError> {
    let per_minute = state.config.rate_limits.password_update_per_minute;
    per_address(&state, "invite-accept", &client, per_minute).await?;
    let user = state
        .accounts
        .accept_invitation(query.token.trim(), &body.password, body.name.as_deref())
        .await?;
    tracing::info!(
        user_id = user.id,
        tenant_id = user.tenant_id,
        "invitation accepted"
    );
    Ok(top_level(json!({
        "message": "Invitation accepted. You can now sign in.",
        "user": user_body(&user),
    })))
}
