//! A database outage: the process stays up, answers 503 with a detail, and recovers.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use caravan::config::Secret;
use serde_json::json;
use support::{Backend, TcpProxy, TestApp, TestDatabase, postgres_url};

#[tokio::test]
async fn while_postgres_is_down_requests_get_503_and_service_resumes_when_it_returns() {
    if postgres_url().is_none() {
        return;
    }
    let db = TestDatabase::new(Backend::Postgres).await;
    // Migrate directly, then route the application through a proxy that can be cut.
    db.storage().await;
    let proxy = TcpProxy::start(caravan::testing::socket_addr_of(&db.url, 5432).await).await;
    let proxied = caravan::testing::with_addr(&db.url, proxy.addr);
    let state = db
        .state_with(|c| {
            c.database_url = Some(Secret::new(proxied));
            c.admin_token = Some(Secret::new(support::ADMIN_TOKEN));
            c.db_acquire_timeout_ms = 1_000;
        })
        .await;
    let app = TestApp {
        router: caravan::app(state.clone()),
        state,
        db,
    };
    app.create_tenant("steady", json!({})).await;

    proxy.cut();
    let ready = app.get("/health/ready").send().await;
    ready.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.body["status"], "not_ready");
    assert_eq!(ready.body["checks"]["database"]["status"], "down");

    let list = app.get("/api/v1/admin/tenants").admin().send().await;
    list.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        list.detail().contains("Database temporarily unavailable"),
        "{}",
        list.body
    );
    assert_eq!(list.header("retry-after"), Some("5"));
    let create = app
        .post("/api/v1/admin/tenants")
        .admin()
        .json(
            &json!({"tenant_id": "during", "company_name": "During", "admin_email": "a@b.example"}),
        )
        .send()
        .await;
    create.expect(StatusCode::SERVICE_UNAVAILABLE);
    let health = app.get("/api/v1/admin/health").admin().send().await;
    assert_eq!(health.body["status"], "degraded");
    app.get("/health").send().await.expect(StatusCode::OK);

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if app.get("/health/ready").send().await.status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "the database never came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let list = app.get("/api/v1/admin/tenants").admin().send().await;
    list.expect(StatusCode::OK);
    assert_eq!(list.body["data"][0]["tenant_id"], "steady");
    app.create_tenant("after", json!({})).await;
}

#[tokio::test]
async fn inbound_mail_during_a_postgres_outage_is_refused_with_503_and_nothing_is_lost() {
    if postgres_url().is_none() {
        return;
    }
    let db = TestDatabase::new(Backend::Postgres).await;
    db.storage().await;
    let proxy = TcpProxy::start(caravan::testing::socket_addr_of(&db.url, 5432).await).await;
    let proxied = caravan::testing::with_addr(&db.url, proxy.addr);
    let state = db
        .state_with(|c| {
            c.database_url = Some(Secret::new(proxied));
            c.admin_token = Some(Secret::new(support::ADMIN_TOKEN));
            c.db_acquire_timeout_ms = 1_000;
            c.rate_limits.login_per_minute = 10_000;
        })
        .await;
    let app = TestApp {
        router: caravan::app(state.clone()),
        state,
        db,
    };
    let login = app.sunbird().await;
    let email = |id: &str| {
        format!(
            "From: Ana <ana@example.org>\r\nTo: sunbird@inbound.caravan.test\r\nSubject: Zanzibar\r\n\
             Message-ID: <{id}@example.org>\r\n\r\n2 adults to Zanzibar 12-19 March 2027\r\n"
        )
    };
    // Stored before the outage, processed after it.
    post(&app, &email("before")).await.expect(StatusCode::OK);
    proxy.cut();
    // SendGrid is told to retry: a 5xx, and nothing half-stored.
    let during = post(&app, &email("during")).await;
    during.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        app.state.inbound.drain().await.is_err(),
        "the worker cannot claim"
    );
    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.get("/health/ready").send().await.status != StatusCode::OK {
        assert!(Instant::now() < deadline, "the database never came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // SendGrid's retry of the refused post now lands; both messages are processed once.
    post(&app, &email("during")).await.expect(StatusCode::OK);
    assert_eq!(app.state.inbound.drain().await.unwrap(), 2);
    let tickets = app.get("/api/v1/inbound/tickets").user(&login).send().await;
    assert_eq!(tickets.body["count"], 2, "{}", tickets.body);
}

async fn post(app: &TestApp, email: &str) -> support::TestResponse {
    let form = support::sendgrid::raw_form(email.as_bytes(), "sunbird@inbound.caravan.test");
    app.post_email("/webhooks/email/inbound", &form).await
}
