//! `TenantScope`, the extractor every tenant-scoped route takes its tenant from.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use caravan::http::tenant_scope::TenantScope;
use serde_json::json;
use support::{Backend, TestApp, backends};

/// A router with one tenant-scoped route, wrapped in the application's layers.
fn probe(app: &TestApp) -> Router {
    let routes = Router::new()
        .route(
            "/probe",
            get(|scope: TenantScope| async move { scope.id().to_owned() }),
        )
        .with_state(app.state.clone());
    caravan::http::with_layers(routes, &app.state, 1024)
}

async fn call(router: &Router, client_id: Option<&str>) -> (StatusCode, serde_json::Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = axum::http::Request::get("/probe");
    if let Some(id) = client_id {
        req = req.header("x-client-id", id);
    }
    let res = router
        .clone()
        .oneshot(req.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)));
    (status, body)
}

#[tokio::test]
async fn a_suspended_tenant_is_refused_at_once_and_served_again_when_activated() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.create_tenant("scoped", json!({})).await;
        let router = probe(&app);
        assert_eq!(
            call(&router, Some("scoped")).await,
            (StatusCode::OK, json!("scoped"))
        );

        app.post("/api/v1/admin/tenants/scoped/suspend")
            .admin()
            .json(&json!({"reason": "chargeback investigation"}))
            .send()
            .await
            .expect(StatusCode::OK);
        let (status, body) = call(&router, Some("scoped")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["detail"], "Tenant account is suspended");

        app.post("/api/v1/admin/tenants/scoped/activate")
            .admin()
            .send()
            .await
            .expect(StatusCode::OK);
        assert_eq!(call(&router, Some("scoped")).await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn an_unknown_or_absent_tenant_is_refused() {
    let app = TestApp::new(Backend::Sqlite).await;
    let router = probe(&app);
    let (status, body) = call(&router, Some("nobody")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["detail"], "Tenant 'nobody' not found");
    for placeholder in [None, Some(""), Some("null"), Some("example")] {
        let (status, body) = call(&router, placeholder).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{placeholder:?}");
        assert_eq!(body["detail"], "X-Client-ID header required");
    }
}
