//! The HTTP API: one router per resource, merged here with the shared layers.

pub mod admin;
pub mod auth;
pub mod error;
pub mod extract;
pub mod health;
pub mod helpdesk;
pub mod inbound;
pub mod knowledge;
pub mod middleware;
pub mod notifications;
pub mod plugins;
pub mod pricing;
pub mod quotes;
pub mod response;
pub mod routes;
pub mod session;
pub mod tenant_scope;
pub mod tickets;
pub mod users;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;
use extract::BodyLimit;

/// Every route of the API, with who may call it.
pub fn routes() -> routes::Routes {
    health::routes()
        .merge(admin::routes())
        .merge(auth::routes())
        .merge(users::routes())
        .merge(plugins::tenant_routes())
        .merge(inbound::routes())
        .merge(tickets::routes())
        .merge(notifications::routes())
        .merge(pricing::routes())
        .merge(quotes::routes())
        .merge(knowledge::routes())
        .merge(helpdesk::routes())
}

/// The table of every route, for tests and documentation.
pub fn route_table() -> Vec<routes::RouteInfo> {
    routes().into_parts().1
}

/// The whole API. Tests drive this with `tower::ServiceExt::oneshot`; `serve` binds it.
pub fn app(state: AppState) -> Router {
    let limit = state.config.body_limit_bytes;
    let (router, _) = routes().into_parts();
    let api = router
        .fallback(middleware::not_found)
        .with_state(state.clone());
    with_layers(api, &state, limit)
}

/// The layers every route shares. The last layer added runs first: the request context
/// is outermost so its log line and metrics see the final status.
pub fn with_layers(router: Router, state: &AppState, body_limit: usize) -> Router {
    let mut router = router
        .layer(axum::middleware::from_fn(session::rate_limit_headers))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::Extension(BodyLimit(body_limit)))
        .layer(cors(&state.config.cors_origins));
    for (name, value) in security_headers() {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    router
        .layer(axum::middleware::from_fn(middleware::uniform_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            middleware::request_context,
        ))
}

/// Headers for an API that serves no HTML of its own. Routes that need to differ (an inline
/// PDF shown in the dashboard's iframe) set their own values, which these do not overwrite.
fn security_headers() -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ]
}

fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    let allow = |names: &[&'static str]| -> Vec<HeaderName> {
        names.iter().map(|n| HeaderName::from_static(n)).collect()
    };
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(allow(&[
            "authorization",
            "content-type",
            "x-client-id",
            "x-tenant-id",
            "x-request-id",
            "x-admin-token",
            "accept",
            "origin",
        ]))
        .expose_headers(allow(&[
            "x-request-id",
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-response-time",
            "content-disposition",
        ]))
        .max_age(Duration::from_secs(600))
}
