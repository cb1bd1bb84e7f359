//! The route table: every route is registered here with who may call it, so that tests can
//! enumerate the API (the isolation matrix covers a route the moment it is added).
//!
//! Architecture Invariant: routes are added through [`Routes`], never with `Router::route`
//! directly, so the table and the router cannot drift apart.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, on};

use crate::state::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (login, health, public PDFs).
    Public,
    /// The platform admin token (`X-Admin-Token`), never a tenant token.
    Platform,
    /// Any active user of the tenant (Bearer token; `X-Client-ID` must match).
    User,
    /// A user of the tenant whose role is `admin`.
    Admin,
}

impl Access {
    /// Whether the route serves one tenant's data to that tenant's users.
    pub fn is_tenant_scoped(self) -> bool {
        matches!(self, Self::User | Self::Admin)
    }
}

/// One registered route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    /// The axum path template, e.g. `/api/v1/users/{user_id}`.
    pub path: String,
    pub access: Access,
}

/// A router that remembers what it serves.
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    table: Vec<RouteInfo>,
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routes")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one method on one path.
    pub fn add<H, T>(self, method: Method, path: &str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = axum::routing::MethodFilter::try_from(method.clone())
            .unwrap_or(axum::routing::MethodFilter::GET);
        self.add_router(method, path, access, on(filter, handler))
    }

    /// Adds one method on one path with a prepared method router (to add route layers).
    pub fn add_router(
        mut self,
        method: Method,
        path: &str,
        access: Access,
        route: MethodRouter<AppState>,
    ) -> Self {
        self.router = self.router.route(path, route);
        self.table.push(RouteInfo {
            method,
            path: path.to_owned(),
            access,
        });
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, p: &str, a: Access, h: H) -> Self {
        self.add(Method::GET, p, a, h)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, p: &str, a: Access, h: H) -> Self {
        self.add(Method::POST, p, a, h)
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(self, p: &str, a: Access, h: H) -> Self {
        self.add(Method::PUT, p, a, h)
    }

    pub fn patch<H: Handler<T, AppState>, T: 'static>(self, p: &str, a: Access, h: H) -> Self {
        self.add(Method::PATCH, p, a, h)
    }

    pub fn delete<H: Handler<T, AppState>, T: 'static>(self, p: &str, a: Access, h: H) -> Self {
        self.add(Method::DELETE, p, a, h)
    }

    /// Adds every route of `other`.
    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteInfo>) {
        (self.router, self.table)
    }
}
