//! Shared harness for the end-to-end tests: an in-process app per backend and a small
//! HTTP client that speaks to it without a socket.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_debug_implementations
)]

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub mod documents;
pub mod fake_gcs;
pub mod fake_openai;
pub mod retrieval_set;
pub mod sendgrid;

pub use axum::Router;
pub use caravan::config::Config;
pub use caravan::storage::Backend;
pub use caravan::testing::{
    TcpProxy, TestDatabase, backends, postgres_url, redis_url, socket_addr_of, with_addr,
};
pub use caravan::{AppState, app};

pub const ADMIN_TOKEN: &str = "test-admin-token";

/// The shared sample data (emails, rates).
pub const SHARED_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures");

/// The text of a PDF as `pdftotext` extracts it (layout kept).
pub fn pdf_text(pdf: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("pdftotext")
        .args(["-layout", "-", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("pdftotext (poppler-utils; `make setup` installs it)");
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

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
                // Tests share one Redis: each app counts in its own namespace, and logins are
                // not limited unless a test is about limits (it sets its own values).
                c.rate_limits.namespace = format!("test-{}", uuid::Uuid::new_v4().simple());
                c.rate_limits.login_per_minute = 10_000;
                c.rate_limits.password_reset_per_minute = 10_000;
                c.rate_limits.password_update_per_minute = 10_000;
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

    pub fn put(&self, path: &str) -> Call<'_> {
        self.request(Method::PUT, path)
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

/// A signed-in user, as a test holds it.
#[derive(Debug, Clone)]
pub struct Login {
    pub access_token: String,
    pub refresh_token: String,
    pub user_id: String,
    pub tenant_id: String,
    pub email: String,
}

impl Login {
    /// The session a successful login response hands out; panics unless it succeeded.
    fn from_response(res: &TestResponse, email: &str) -> Self {
        assert_eq!(res.body["success"], true, "{}", res.body);
        Self {
            access_token: res.body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: res.body["refresh_token"].as_str().unwrap().to_owned(),
            user_id: res.body["user"]["id"].as_str().unwrap().to_owned(),
            tenant_id: res.body["user"]["tenant_id"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
        }
    }
}

/// The password every test user gets unless a test says otherwise.
pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// Creates a user through the platform-admin API; returns its JSON.
    pub async fn create_user(&self, tenant: &str, email: &str, role: &str) -> Value {
        let res = self
            .post(&format!("/api/v1/admin/tenants/{tenant}/users"))
            .admin()
            .json(&serde_json::json!({
                "email": email, "name": format!("{role} of {tenant}"),
                "role": role, "password": PASSWORD,
            }))
            .send()
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        res.body["data"].clone()
    }

    /// Signs in through the API; panics unless it succeeds.
    pub async fn login(&self, email: &str, password: &str) -> Login {
        let res = self
            .post("/api/v1/auth/login")
            .json(&serde_json::json!({"email": email, "password": password, "tenant_id": null}))
            .send()
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        Login::from_response(&res, email)
    }

    /// A tenant with a signed-in user of `role` (`admin@<tenant>.test` style addresses).
    pub async fn tenant_with_user(&self, tenant: &str, role: &str) -> Login {
        self.tenant_with_user_at(tenant, role, "127.0.0.1").await
    }

    /// The same, signing in from `ip` (so that tests of per-address limits keep their own
    /// address's budget untouched).
    pub async fn tenant_with_user_at(&self, tenant: &str, role: &str, ip: &str) -> Login {
        self.create_tenant(tenant, serde_json::json!({})).await;
        let email = format!("{role}@{tenant}.test");
        self.create_user(tenant, &email, role).await;
        let res = self
            .post("/api/v1/auth/login")
            .from_ip(ip)
            .json(&serde_json::json!({"email": email, "password": PASSWORD}))
            .send()
            .await;
        Login::from_response(&res, &email)
    }

    /// Another host on the same database (its own services, caches and limiter state).
    pub async fn second_host(&self, adjust: impl FnOnce(&mut Config)) -> TestHost {
        let state = self
            .db
            .state_with(|c| {
                c.admin_token = Some(caravan::config::Secret::new(ADMIN_TOKEN));
                adjust(c);
            })
            .await;
        let router = app(state.clone());
        TestHost { state, router }
    }
}

/// A second application on a [`TestApp`]'s database.
pub struct TestHost {
    pub state: AppState,
    pub router: Router,
}

impl TestHost {
    pub fn get(&self, path: &str) -> Call<'_> {
        call_on(&self.router, "GET", path)
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        call_on(&self.router, "POST", path)
    }
}

/// A request to any router.
pub fn call_on<'a>(router: &'a Router, method: &str, path: &str) -> Call<'a> {
    Call {
        router,
        builder: Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path),
        body: Body::empty(),
    }
}

impl TestApp {
    /// The sample tenant of `examples/tenants/sunbird.json` (destinations with aliases,
    /// inbound address `sunbird@inbound.caravan.test`), with an admin user signed in.
    pub async fn sunbird(&self) -> Login {
        let body: Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../examples/tenants/sunbird.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let res = self
            .post("/api/v1/admin/tenants")
            .admin()
            .json(&body)
            .send()
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        let email = "consultant@sunbird.example";
        self.create_user("sunbird", email, "admin").await;
        self.login(email, PASSWORD).await
    }

    /// Posts a SendGrid form to the inbound webhook (or another path).
    pub async fn post_email(&self, path: &str, form: &sendgrid::Form) -> TestResponse {
        self.post(path)
            .raw(&form.content_type(), form.body())
            .send()
            .await
    }

    /// Imports `shared/fixtures/rates.csv` (66 nightly rates) for the user's tenant.
    pub async fn import_sample_rates(&self, login: &Login) {
        let csv = std::fs::read(format!("{SHARED_FIXTURES}/rates.csv")).unwrap();
        let form = sendgrid::Form::new().file("file", "rates.csv", "text/csv", &csv);
        let res = self
            .post("/api/v1/pricing/rates/import")
            .user(login)
            .raw(&form.content_type(), form.body())
            .send()
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.body["imported"], 66, "{}", res.body);
    }

    /// Runs the inbound worker until nothing is due; returns how many messages it handled.
    pub async fn drain_inbound(&self) -> usize {
        self.state.inbound.drain().await.unwrap()
    }

    /// Uploads a knowledge document (`POST /api/v1/knowledge/documents`).
    pub async fn upload_document(
        &self,
        login: &Login,
        filename: &str,
        bytes: &[u8],
        fields: &[(&str, &str)],
    ) -> TestResponse {
        let (content_type, body) = documents::upload_form(filename, bytes, fields);
        self.post("/api/v1/knowledge/documents")
            .user(login)
            .raw(&content_type, body)
            .send()
            .await
    }

    /// Runs the knowledge indexing worker until nothing is due; returns how many documents
    /// it handled.
    pub async fn drain_knowledge(&self) -> usize {
        self.state.knowledge.drain().await.unwrap()
    }
}

impl TestApp {
    /// The newest email of `kind` sent to `to` for `tenant`: its record and the MIME
    /// message as kept in the outbox.
    pub async fn last_email_of(
        &self,
        tenant: &str,
        to: &str,
        kind: &str,
    ) -> Option<(caravan::mail::OutboundEmail, Vec<u8>)> {
        let emails = self
            .state
            .storage
            .outbox
            .list_emails(tenant, 200)
            .await
            .unwrap();
        let email = emails
            .into_iter()
            .find(|e| e.to_address == to && e.kind == kind)?;
        let raw = std::fs::read(self.state.mailer.dir().join(&email.object_key)).unwrap();
        Some((email, raw))
    }

    /// The text of the newest email sent to `to` on behalf of `tenant`, decoded from the
    /// outbox copy (quoted-printable soft breaks and `=3D` undone).
    pub async fn last_email_to(&self, tenant: &str, to: &str) -> Option<String> {
        let emails = self
            .state
            .storage
            .outbox
            .list_emails(tenant, 100)
            .await
            .unwrap();
        let email = emails.into_iter().find(|e| e.to_address == to)?;
        let path = self.state.accounts.mailer().dir().join(&email.object_key);
        let raw = std::fs::read_to_string(path).unwrap();
        Some(
            raw.replace("=\r\n", "")
                .replace("=\n", "")
                .replace("=3D", "="),
        )
    }

    /// The `token=` value of the link in the newest email to `to`.
    pub async fn emailed_token(&self, tenant: &str, to: &str) -> String {
        let text = self
            .last_email_to(tenant, to)
            .await
            .unwrap_or_else(|| panic!("no email to {to}"));
        let start = text.find("token=").expect("a link with a token") + "token=".len();
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
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

    /// `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// As a signed-in user: the token and the tenant header the dashboard sends.
    pub fn user(self, login: &Login) -> Self {
        let tenant = login.tenant_id.clone();
        self.bearer(&login.access_token)
            .header("x-client-id", &tenant)
    }

    /// As if the request came from `ip` (what the server would see as the peer).
    pub fn from_ip(mut self, ip: &str) -> Self {
        let addr: std::net::SocketAddr = format!("{ip}:40000").parse().unwrap();
        self.builder = self.builder.extension(axum::extract::ConnectInfo(addr));
        self
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
            bytes: bytes.to_vec(),
        }
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as JSON (or as a JSON string when it is not JSON).
    pub body: Value,
    /// The body as sent (PDFs, CSV).
    pub bytes: Vec<u8>,
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
