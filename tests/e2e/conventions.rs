//! Conventions every response follows: request ids, error shape, security headers, CORS,
//! logs and metrics.

use axum::http::{Method, StatusCode};
use support::{Backend, TestApp};

#[tokio::test]
async fn health_endpoints_answer_without_configuration() {
    let app = TestApp::new(Backend::Sqlite).await;
    let res = app.get("/health").send().await;
    res.expect(StatusCode::OK);
    assert_eq!(res.body["status"], "healthy");
    assert!(res.body["timestamp"].is_string());
    assert_eq!(app.get("/health/live").send().await.body["status"], "alive");
    let ready = app.get("/health/ready").send().await;
    ready.expect(StatusCode::OK);
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["checks"]["database"]["status"], "up");
    assert_eq!(ready.body["checks"]["redis"]["status"], "disabled");
    app.get("/ready").send().await.expect(StatusCode::OK);
}

#[tokio::test]
async fn a_request_id_is_generated_or_echoed() {
    let app = TestApp::new(Backend::Sqlite).await;
    let generated = app.get("/health").send().await;
    let id = generated.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    assert!(generated.header("x-response-time").unwrap().ends_with("ms"));

    let echoed = app
        .get("/health")
        .header("x-request-id", "dash-1234.abc")
        .send()
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("dash-1234.abc"));

    // Ids that could break a log line are replaced rather than echoed.
    for hostile in ["two words", &"x".repeat(200)] {
        let res = app
            .get("/health")
            .header("x-request-id", hostile)
            .send()
            .await;
        let id = res.header("x-request-id").unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{hostile:?} became {id}");
    }
    // Error responses carry it too.
    let res = app
        .get("/nowhere")
        .header("x-request-id", "err-1")
        .send()
        .await;
    assert_eq!(res.header("x-request-id"), Some("err-1"));
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let app = TestApp::new(Backend::Sqlite).await;
    let res = app.get("/api/v1/nothing-here").send().await;
    res.expect(StatusCode::NOT_FOUND);
    assert_eq!(res.body["detail"], "Not Found");
    assert_eq!(res.body["code"], "not_found");

    let res = app.request(Method::PUT, "/health").send().await;
    res.expect(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.body["detail"], "Method Not Allowed");
    assert!(res.header("allow").is_some(), "Allow header kept");
}

#[tokio::test]
async fn security_headers_are_on_success_and_error_responses() {
    let app = TestApp::new(Backend::Sqlite).await;
    for path in ["/health", "/missing", "/api/v1/admin/tenants"] {
        let res = app.get(path).send().await;
        assert_eq!(res.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            res.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(res.header("referrer-policy"), Some("no-referrer"), "{path}");
        assert!(
            res.header("strict-transport-security")
                .unwrap()
                .contains("max-age="),
            "{path}"
        );
        assert!(
            res.header("content-security-policy")
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
    }
}

#[tokio::test]
async fn cors_allows_the_dashboard_origins_and_no_others() {
    let app = TestApp::new(Backend::Sqlite).await;
    let preflight = app
        .request(Method::OPTIONS, "/api/v1/admin/tenants")
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type,x-client-id,x-admin-token",
        )
        .send()
        .await;
    assert!(preflight.status.is_success(), "{:?}", preflight.status);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert_eq!(
        preflight.header("access-control-allow-credentials"),
        Some("true")
    );
    let allowed = preflight
        .header("access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    for h in [
        "authorization",
        "content-type",
        "x-client-id",
        "x-tenant-id",
        "x-request-id",
        "x-admin-token",
    ] {
        assert!(allowed.contains(h), "{h} not allowed: {allowed}");
    }
    let methods = preflight.header("access-control-allow-methods").unwrap();
    assert!(
        methods.contains("PATCH") && methods.contains("DELETE"),
        "{methods}"
    );

    let simple = app
        .get("/health")
        .header("origin", "http://127.0.0.1:3000")
        .send()
        .await;
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("http://127.0.0.1:3000")
    );
    let exposed = simple
        .header("access-control-expose-headers")
        .unwrap()
        .to_lowercase();
    for h in [
        "x-request-id",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-response-time",
        "content-disposition",
    ] {
        assert!(exposed.contains(h), "{h} not exposed: {exposed}");
    }

    let evil = app
        .get("/health")
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert_eq!(evil.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn cors_origins_come_from_configuration() {
    let app = TestApp::with_config(Backend::Sqlite, |c| {
        c.cors_origins = vec!["https://app.agency.example".into()];
    })
    .await;
    let ok = app
        .get("/health")
        .header("origin", "https://app.agency.example")
        .send()
        .await;
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://app.agency.example")
    );
    let dev = app
        .get("/health")
        .header("origin", "http://localhost:5173")
        .send()
        .await;
    assert_eq!(dev.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::new(Backend::Sqlite).await;
    app.get("/health").send().await;
    app.get("/health").send().await;
    app.get("/api/v1/admin/tenants/ghost").admin().send().await;
    app.get("/health/ready").send().await;
    let res = app.get("/metrics").send().await;
    res.expect(StatusCode::OK);
    let text = res.body.as_str().unwrap();
    assert!(
        text.contains(
            r#"caravan_http_requests_total{method="GET",route="/health",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(text.contains(
        r#"caravan_http_requests_total{method="GET",route="/api/v1/admin/tenants/{tenant_id}",status="404"} 1"#
    ));
    assert!(text.contains("caravan_http_request_duration_seconds_bucket"));
    assert!(text.contains("caravan_database_up 1"));
}
