//! Request budgets over HTTP: login limits and lockouts, per-tenant budgets, and the same
//! limits shared by two hosts through Redis and kept in-process while Redis is down.

use axum::http::StatusCode;
use caravan::config::Secret;
use serde_json::json;
use support::{Backend, PASSWORD, TcpProxy, TestApp, backends, redis_url};

fn login_body(email: &str, password: &str) -> serde_json::Value {
    json!({"email": email, "password": password, "tenant_id": null})
}

#[tokio::test]
async fn logins_are_limited_per_address_with_rate_limit_headers() {
    for backend in backends() {
        let app = TestApp::with_config(backend, |c| c.rate_limits.login_per_minute = 5).await;
        app.tenant_with_user_at("sunbird", "admin", "198.51.100.1")
            .await;
        for _ in 0..4 {
            let res = app
                .post("/api/v1/auth/login")
                .from_ip("198.51.100.2")
                .json(&login_body("admin@sunbird.test", PASSWORD))
                .send()
                .await;
            res.expect(StatusCode::OK);
            assert_eq!(res.header("x-ratelimit-limit"), Some("5"));
        }
        let res = app
            .post("/api/v1/auth/login")
            .from_ip("198.51.100.2")
            .json(&login_body("admin@sunbird.test", PASSWORD))
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.header("x-ratelimit-remaining"), Some("0"));
        let res = app
            .post("/api/v1/auth/login")
            .from_ip("198.51.100.2")
            .json(&login_body("admin@sunbird.test", PASSWORD))
            .send()
            .await;
        res.expect(StatusCode::TOO_MANY_REQUESTS);
        assert!(!res.detail().is_empty());
        let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert_eq!(res.header("x-ratelimit-limit"), Some("5"));
        assert_eq!(res.header("x-ratelimit-remaining"), Some("0"));
        // Another address is not affected.
        app.post("/api/v1/auth/login")
            .from_ip("198.51.100.3")
            .json(&login_body("admin@sunbird.test", PASSWORD))
            .send()
            .await
            .expect(StatusCode::OK);
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account_whatever_the_address() {
    for backend in backends() {
        let app = TestApp::with_config(backend, |c| {
            c.rate_limits.login_failures_before_lock = 3;
        })
        .await;
        app.tenant_with_user("sunbird", "admin").await;
        for i in 0..3 {
            let res = app
                .post("/api/v1/auth/login")
                .from_ip(&format!("192.0.2.{i}"))
                .json(&login_body("admin@sunbird.test", "not the password"))
                .send()
                .await;
            assert_eq!(res.body["success"], false, "{}", res.body);
        }
        // Locked: even the right password from a new address waits.
        let res = app
            .post("/api/v1/auth/login")
            .from_ip("192.0.2.200")
            .json(&login_body("ADMIN@sunbird.test", PASSWORD))
            .send()
            .await;
        res.expect(StatusCode::TOO_MANY_REQUESTS);
        let detail = res.detail();
        assert!(
            detail.starts_with("Account temporarily locked. Try again in ")
                && detail.ends_with(" seconds."),
            "{detail}"
        );
        let secs: u64 = res.header("retry-after").unwrap().parse().unwrap();
        assert!(secs > 800 && secs <= 900, "{secs}");
        // Other accounts are not locked.
        app.create_user("sunbird", "other@sunbird.test", "consultant")
            .await;
        app.login("other@sunbird.test", PASSWORD).await;
    }
}

#[tokio::test]
async fn a_tenant_has_a_request_budget_per_route_reported_in_headers() {
    for backend in backends() {
        let app = TestApp::with_config(backend, |c| c.rate_limits.tenant_per_minute = 3).await;
        let login = app.tenant_with_user("sunbird", "admin").await;
        for remaining in ["2", "1", "0"] {
            let res = app.get("/api/v1/auth/me").user(&login).send().await;
            res.expect(StatusCode::OK);
            assert_eq!(res.header("x-ratelimit-limit"), Some("3"));
            assert_eq!(res.header("x-ratelimit-remaining"), Some(remaining));
        }
        let res = app.get("/api/v1/auth/me").user(&login).send().await;
        res.expect(StatusCode::TOO_MANY_REQUESTS);
        assert!(res.header("retry-after").is_some());
        assert!(res.detail().contains("Rate limit exceeded"), "{}", res.body);
        // Another route has its own budget.
        app.get("/api/v1/users")
            .user(&login)
            .send()
            .await
            .expect(StatusCode::OK);
    }
}

async fn attempt(host: &support::Router, ip: &str) -> support::TestResponse {
    support::call_on(host, "POST", "/api/v1/auth/login")
        .from_ip(ip)
        .json(&login_body("admin@sunbird.test", PASSWORD))
        .send()
        .await
}

/// Two hosts (two app states on one database) with the same Redis and namespace.
async fn two_hosts(redis: &str, namespace: &str) -> (TestApp, support::TestHost) {
    let configure = |c: &mut caravan::config::Config| {
        c.redis_url = Some(Secret::new(redis));
        c.rate_limits.namespace = namespace.to_owned();
        c.rate_limits.login_per_minute = 4;
    };
    let app = TestApp::with_config(Backend::Sqlite, configure).await;
    let other = app.second_host(configure).await;
    (app, other)
}

#[tokio::test]
async fn two_hosts_share_login_limits_through_redis() {
    let Some(redis) = redis_url() else {
        return;
    };
    let namespace = format!("shared-{}", uuid::Uuid::new_v4().simple());
    let (a, b) = two_hosts(&redis, &namespace).await;
    a.tenant_with_user_at("sunbird", "admin", "10.9.0.1").await;
    for host in [&a.router, &b.router, &a.router, &b.router] {
        attempt(host, "10.9.0.2").await.expect(StatusCode::OK);
    }
    attempt(&a.router, "10.9.0.2")
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS);
    attempt(&b.router, "10.9.0.2")
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn limits_hold_in_process_while_redis_is_down_and_are_shared_again_after() {
    let Some(redis) = redis_url() else {
        return;
    };
    let upstream = support::socket_addr_of(&redis, 6379).await;
    let proxy = TcpProxy::start(upstream).await;
    let through_proxy = support::with_addr(&redis, proxy.addr);
    let namespace = format!("outage-{}", uuid::Uuid::new_v4().simple());
    let (a, b) = two_hosts(&through_proxy, &namespace).await;
    a.tenant_with_user_at("sunbird", "admin", "10.8.0.1").await;

    proxy.cut();
    // Each host now counts alone, but it still counts.
    for _ in 0..4 {
        let started = std::time::Instant::now();
        attempt(&a.router, "10.8.0.2").await.expect(StatusCode::OK);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
    attempt(&a.router, "10.8.0.2")
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS);
    attempt(&b.router, "10.8.0.2").await.expect(StatusCode::OK);

    proxy.restore();
    // Once Redis answers again (the client probes at most once a second), a fresh address
    // is counted across both hosts again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !a.state.redis.as_ref().unwrap().ping().await
        || !b.state.redis.as_ref().unwrap().ping().await
    {
        assert!(
            std::time::Instant::now() < deadline,
            "redis did not come back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    for host in [&a.router, &b.router, &a.router, &b.router] {
        attempt(host, "10.8.0.3").await.expect(StatusCode::OK);
    }
    attempt(&b.router, "10.8.0.3")
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS);
}
