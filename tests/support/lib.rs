//! Shared harness for the end-to-end tests: an in-process app per backend and a small
//! HTTP client that speaks to it without a socket.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_debug_implementations
)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub use caravan::config::Config;
pub use caravan::storage::Backend;
pub use caravan::testing::{TcpProxy, TestDatabase, backends, postgres_url, redis_url};
pub use caravan::{AppState, app};

pub const ADMIN_TOKEN: &str = "test-admin-token";

/// One running application on its own database.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub db: TestDatabase,
}

impl TestApp {
    /// An app on a fresh database of `backend`, with the admin token set.
    pub async fn new(backend: Backend) -> Self {
        Self::with_config(backend, |_| {}).await
    }

    pub async fn with_config(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let db = TestDatabase::new(backend).await;
        let state = db
            .state_with(|c| {
                c.admin_token = Some(caravan::config::Secret::new(ADMIN_TOKEN));
                adjust(c);
            })
            .await;
        let router = app(state.clone());
        Self { state, router, db }
    }

    pub fn request(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            router: &self.router,
            builder: Request::builder().method(method).uri(path),
            body: Body::empty(),
        }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        self.request(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> Call<'_> {
        self.request(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> Call<'_> {
        self.request(Method::DELETE, path)
    }

    /// Creates a tenant through the admin API and returns its id.
    pub async fn create_tenant(&self, id: &str, extra: Value) -> Value {
        let mut body = serde_json::json!({
            "tenant_id": id,
            "company_name": format!("{id} Travel"),
            "admin_email": format!("admin@{id}.example"),
        });
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        let res = self
            .post("/api/v1/admin/tenants")
            .admin()
            .json(&body)
            .send()
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        res.body
    }
}

/// A request being built.
pub struct Call<'a> {
    router: &'a Router,
    builder: axum::http::request::Builder,
    body: Body,
}

impl Call<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    pub fn admin(self) -> Self {
        self.header("x-admin-token", ADMIN_TOKEN)
    }

    pub fn json(mut self, value: &Value) -> Self {
        self.builder = self.builder.header("content-type", "application/json");
        self.body = Body::from(serde_json::to_vec(value).unwrap());
        self
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Body>) -> Self {
        self.builder = self.builder.header("content-type", content_type);
        self.body = body.into();
        self
    }

    pub async fn send(self) -> TestResponse {
        let request = self.builder.body(self.body).unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        TestResponse {
            status,
            headers,
            body,
        }
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `detail` string of an error body.
    pub fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or_default()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.body);
        self
    }
}
