//! Authenticated requests: the extractors that turn a Bearer token into a user and a tenant,
//! enforce `X-Client-ID`, roles and the per-tenant request budget.
//!
//! Architecture Invariant: a tenant-scoped handler's tenant comes from [`TenantScope`] (or
//! the [`CurrentUser`]/[`TenantAdmin`] it derives from) and never from a body or query.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use super::tenant_scope::{client_id, record_tenant};
use crate::accounts::Session;
use crate::ratelimit::{Decision, Rule};
use crate::state::AppState;
use crate::tenants::model::Tenant;

/// The signed-in user of a request, with its tenant.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Session);

/// A signed-in user whose role is `admin`.
#[derive(Debug, Clone)]
pub struct TenantAdmin(pub Session);

/// The tenant a request is scoped to: the signed-in user's.
#[derive(Debug, Clone)]
pub struct TenantScope(pub Arc<Tenant>);

impl TenantScope {
    pub fn id(&self) -> &str {
        &self.0.id
    }
}

/// The client's address: the peer, or the first `X-Forwarded-For` entry when the
/// configuration trusts the proxy in front. `None` when neither is known (in-process tests).
pub fn client_ip(parts: &Parts, state: &AppState) -> Option<IpAddr> {
    if state.config.trust_forwarded_for
        && let Some(ip) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return Some(ip);
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The address as a limiter key part.
pub fn client_key(parts: &Parts, state: &AppState) -> String {
    client_ip(parts, state).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// `Authorization: Bearer <token>`; anything else is a 401 that says what was wrong.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized("Not authenticated"));
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("Invalid authorization header"))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("Invalid authorization header"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(ApiError::unauthorized("Invalid authorization header"));
    }
    Ok(token)
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(user.clone());
        }
        let token = bearer(parts)?;
        let session = state.accounts.authenticate(token).await?;
        record_tenant(&session.tenant.id);
        // Both checks may ask Redis; asking at once costs one round trip instead of two.
        let (client_id, budget) = tokio::join!(
            check_client_id(parts, state, &session),
            charge_budget(parts, state, &session.tenant.id)
        );
        client_id?;
        budget?;
        let user = CurrentUser(session);
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

impl FromRequestParts<AppState> for TenantAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let CurrentUser(session) = CurrentUser::from_request_parts(parts, state).await?;
        if session.is_admin() {
            Ok(Self(session))
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "admin_required",
                "Admin access required",
            ))
        }
    }
}

impl FromRequestParts<AppState> for TenantScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let CurrentUser(session) = CurrentUser::from_request_parts(parts, state).await?;
        Ok(Self(session.tenant))
    }
}

/// `X-Client-ID` names the tenant the dashboard believes it is in; a different tenant than
/// the token's is refused, and an address that keeps trying is blocked for half an hour.
async fn check_client_id(
    parts: &Parts,
    state: &AppState,
    session: &Session,
) -> Result<(), ApiError> {
    let limits = &state.config.rate_limits;
    let key = format!(
        "{}:mismatch:{}:{}",
        limits.namespace,
        client_key(parts, state),
        session.tenant.id
    );
    let too_many = |secs: u64| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests",
        )
        .retry_after(secs)
    };
    if let Some(left) = state.limiter.blocked_for(&key).await {
        return Err(too_many(left.as_secs().max(1)));
    }
    let Some(claimed) = client_id(parts) else {
        return Ok(());
    };
    if claimed == session.tenant.id {
        return Ok(());
    }
    tracing::warn!(
        claimed_tenant = claimed,
        "X-Client-ID does not match the token's tenant"
    );
    let rule = Rule::new(limits.tenant_mismatch_limit, Duration::from_secs(5 * 60));
    let decision = state.limiter.hit(&key, rule).await;
    if decision.remaining == 0 {
        let block = Duration::from_secs(30 * 60);
        state.limiter.block(&key, block).await;
        return Err(too_many(block.as_secs()));
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "tenant_mismatch",
        "Access denied: tenant mismatch",
    ))
}

/// Where the budget check leaves its decision for [`rate_limit_headers`] to report.
#[derive(Debug, Clone, Default)]
pub struct BudgetSlot(Arc<Mutex<Option<Decision>>>);

/// Counts the request against the tenant's budget for this route.
async fn charge_budget(parts: &Parts, state: &AppState, tenant_id: &str) -> Result<(), ApiError> {
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let limits = &state.config.rate_limits;
    let key = format!("{}:tenant:{tenant_id}:{route}", limits.namespace);
    let decision = state
        .limiter
        .hit(&key, Rule::per_minute(limits.tenant_per_minute))
        .await;
    if let Some(slot) = parts.extensions.get::<BudgetSlot>()
        && let Ok(mut slot) = slot.0.lock()
    {
        *slot = Some(decision);
    }
    if decision.allowed {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "Rate limit exceeded: {} requests per minute for this endpoint",
                decision.limit
            ),
        )
        .retry_after(decision.retry_after_secs()))
    }
}

/// Adds `X-RateLimit-Limit`/`-Remaining`/`-Reset` to responses of budgeted requests.
pub async fn rate_limit_headers(mut req: Request, next: Next) -> Response {
    let slot = BudgetSlot::default();
    req.extensions_mut().insert(slot.clone());
    let mut response = next.run(req).await;
    let decision = slot.0.lock().ok().and_then(|d| *d);
    if let Some(d) = decision {
        set_rate_headers(&mut response, &d);
    }
    response
}

/// Writes the `X-RateLimit-*` headers of a decision.
pub fn set_rate_headers(response: &mut Response, d: &Decision) {
    let headers = response.headers_mut();
    let reset = d.reset_after.as_secs_f64().ceil() as u64;
    for (name, value) in [
        ("x-ratelimit-limit", u64::from(d.limit)),
        ("x-ratelimit-remaining", u64::from(d.remaining)),
        ("x-ratelimit-reset", reset),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
            headers.insert(name, v);
        }
    }
}
