//! The harness the fuzz targets share: one in-process Caravan per fuzzing process, on a
//! throw-away SQLite database seeded with a tenant, an admin and a consultant, and a way
//! to send it requests without a socket.
//!
//! Setting up costs a database, migrations and two argon2 hashes, so it happens once per
//! process (on the first input) and every input reuses it. Panicking here is deliberate:
//! a harness that cannot start must stop the fuzzer at once rather than report crashes
//! that are not the host's.

use std::path::PathBuf;
use std::sync::LazyLock;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use caravan::accounts::tokens::{Claims, JwtKeys};
use caravan::config::{Config, Secret};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// The platform-admin token the harness configures, for seeding through the admin API.
pub const ADMIN_API_TOKEN: &str = "fuzz-platform-admin-token";
/// The key the in-process app signs its access tokens with. Known here so that targets can
/// mint tokens the app will accept and check what it does with their claims.
pub const APP_JWT_SECRET: &[u8] = b"caravan-fuzz-app-jwt-secret-0123456789abcdef";
/// The seeded tenant.
pub const TENANT: &str = "fuzz";
/// The seeded tenant admin.
pub const ADMIN_EMAIL: &str = "admin@fuzz.test";
/// The seeded consultant.
pub const CONSULTANT_EMAIL: &str = "consultant@fuzz.test";
/// Both seeded users' password.
pub const PASSWORD: &str = "fuzzing password 1";

/// Budgets high enough that no fuzzing run reaches them: a 429 would hide every code path
/// behind it, and the limits themselves are tested elsewhere.
const UNLIMITED: u32 = 1_000_000_000;

/// The running app: a router and the runtime its futures run on.
#[derive(Debug)]
struct App {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
}

impl App {
    fn send(&self, request: Request<Body>) -> Reply {
        self.runtime.block_on(async {
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("the router is infallible");
            let status = response.status();
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = response
                .into_body()
                .collect()
                .await
                .expect("an in-memory body")
                .to_bytes();
            Reply {
                status,
                content_type,
                bytes,
            }
        })
    }

    /// Posts a JSON body with the platform-admin token; the answer must be a 201.
    fn seed(&self, path: &str, body: Value) -> serde_json::Map<String, Value> {
        let reply = self.send(
            Request::post(path)
                .header("x-admin-token", ADMIN_API_TOKEN)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        );
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "seeding {path}: {reply:?}"
        );
        reply.json_object()
    }
}

/// The running app and what seeding it produced.
#[derive(Debug)]
pub struct Harness {
    app: App,
    /// The data directory (database, objects, outbox). Left behind when the process ends,
    /// because libFuzzer exits without running destructors; it lives in the system temporary
    /// directory under a `caravan-fuzz-` prefix.
    pub data_dir: PathBuf,
    pub admin_id: String,
    /// A live access token of the admin, good for the whole run.
    pub admin_access_token: String,
    /// The claims inside [`Self::admin_access_token`] (its `sid` names a live session).
    pub admin_claims: Claims,
    pub consultant_id: String,
}

/// The process's harness, started on first use.
pub fn harness() -> &'static Harness {
    static HARNESS: LazyLock<Harness> = LazyLock::new(Harness::start);
    &HARNESS
}

/// A response, read to the end.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

impl Reply {
    /// The body as JSON, or a panic naming the response: every answer of the API, errors
    /// included, is documented to be a JSON object.
    #[track_caller]
    pub fn json_object(&self) -> serde_json::Map<String, Value> {
        let ct = self.content_type.as_deref().unwrap_or_default();
        assert!(
            ct.starts_with("application/json"),
            "status {} answered with content type {ct:?}: {:?}",
            self.status,
            String::from_utf8_lossy(&self.bytes)
        );
        match serde_json::from_slice(&self.bytes) {
            Ok(Value::Object(map)) => map,
            other => panic!(
                "status {} body is not a JSON object ({other:?}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.bytes)
            ),
        }
    }

    /// Checks the shape every response shares: never a server error, always a JSON object,
    /// `success: true` on success and a string `code` with a `detail` on failure.
    #[track_caller]
    pub fn assert_well_formed(&self) -> serde_json::Map<String, Value> {
        assert!(
            !self.status.is_server_error(),
            "server error {}: {:?}",
            self.status,
            String::from_utf8_lossy(&self.bytes)
        );
        let body = self.json_object();
        if self.status.is_success() {
            assert_eq!(
                body.get("success"),
                Some(&Value::Bool(true)),
                "a {} without success: true: {body:?}",
                self.status
            );
        } else {
            assert!(
                body.get("code").is_some_and(Value::is_string) && body.contains_key("detail"),
                "a {} without the error shape: {body:?}",
                self.status
            );
        }
        body
    }
}

impl Harness {
    fn start() -> Self {
        // One thread runs the app: the machine is shared and libFuzzer drives one input at
        // a time anyway. argon2 still runs on tokio's blocking pool, as in production.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let data_dir = tempfile::Builder::new()
            .prefix("caravan-fuzz-")
            .tempdir()
            .expect("a temporary directory")
            .keep();
        let mut config = Config {
            data_dir: data_dir.clone(),
            database_url: Some(Secret::new(format!(
                "sqlite://{}",
                data_dir.join("caravan.db").display()
            ))),
            admin_token: Some(Secret::new(ADMIN_API_TOKEN)),
            jwt_secret: Some(Secret::new(
                std::str::from_utf8(APP_JWT_SECRET).expect("an ASCII secret"),
            )),
            ..Config::default()
        };
        let limits = &mut config.rate_limits;
        limits.tenant_per_minute = UNLIMITED;
        limits.login_per_minute = UNLIMITED;
        limits.login_failures_before_lock = UNLIMITED;
        limits.password_reset_per_minute = UNLIMITED;
        limits.password_update_per_minute = UNLIMITED;
        limits.tenant_mismatch_limit = UNLIMITED;
        // The admin's token must outlive the longest run.
        config.auth.access_token_ttl_secs = 7 * 24 * 3600;
        let state = runtime
            .block_on(caravan::AppState::build(config))
            .expect("the app state");
        let app = App {
            runtime,
            router: caravan::app(state),
        };

        app.seed(
            "/api/v1/admin/tenants",
            json!({"tenant_id": TENANT, "company_name": "Fuzz", "admin_email": "admin@fuzz.example"}),
        );
        let users = format!("/api/v1/admin/tenants/{TENANT}/users");
        let admin = app.seed(
            &users,
            json!({"email": ADMIN_EMAIL, "name": "Fuzz Admin", "password": PASSWORD, "role": "admin"}),
        );
        let consultant = app.seed(
            &users,
            json!({"email": CONSULTANT_EMAIL, "name": "Fuzz Consultant", "password": PASSWORD, "role": "consultant"}),
        );
        // The admin's session, held for the whole run by the targets that act as the admin.
        let login = app.send(
            Request::post("/api/v1/auth/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"email": ADMIN_EMAIL, "password": PASSWORD, "tenant_id": TENANT})
                        .to_string(),
                ))
                .unwrap(),
        );
        assert_eq!(login.status, StatusCode::OK, "seeding a login: {login:?}");
        let body = login.json_object();
        assert_eq!(body["success"], true, "seeding a login: {body:?}");
        let admin_access_token = body["access_token"].as_str().unwrap().to_owned();
        let admin_claims = JwtKeys::from_secret(APP_JWT_SECRET)
            .verify(&admin_access_token)
            .expect("the app's own token verifies");
        Self {
            app,
            data_dir,
            admin_id: admin["data"]["id"].as_str().unwrap().to_owned(),
            admin_access_token,
            admin_claims,
            consultant_id: consultant["data"]["id"].as_str().unwrap().to_owned(),
        }
    }

    /// Sends one request through the whole router (every middleware included).
    pub fn send(&self, request: Request<Body>) -> Reply {
        self.app.send(request)
    }

    /// A request with `body` as its raw JSON body, as `bearer` when given.
    pub fn raw_json_request(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = bearer {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(builder.body(Body::from(body.to_vec())).unwrap())
    }

    /// A request with a JSON value as its body.
    pub fn json_request(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Value,
    ) -> Reply {
        self.raw_json_request(method, path, bearer, body.to_string().as_bytes())
    }

    /// `GET path` with an `Authorization` header of exactly `authorization`.
    pub fn get_with_authorization(&self, path: &str, authorization: HeaderValue) -> Reply {
        self.send(
            Request::get(path)
                .header(header::AUTHORIZATION, authorization)
                .body(Body::empty())
                .unwrap(),
        )
    }

    /// `GET path` as the seeded admin.
    pub fn get_as_admin(&self, path: &str) -> Reply {
        self.send(
            Request::get(path)
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", self.admin_access_token),
                )
                .body(Body::empty())
                .unwrap(),
        )
    }
}
