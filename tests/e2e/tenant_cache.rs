//! The tenant cache: shared through the real Redis across hosts, in-process without it, and
//! correct across a Redis outage.

use std::time::{Duration, Instant};

use caravan::config::Secret;
use caravan::error::Error;
use caravan::tenants::CreateTenant;
use support::{AppState, TcpProxy, TestDatabase, backends, redis_url};

fn new_tenant(id: &str) -> CreateTenant {
    serde_json::from_value(serde_json::json!({
        "tenant_id": id,
        "company_name": "Cached Co",
        "admin_email": "admin@cached.example",
    }))
    .unwrap()
}

/// A tenant id no other test run shares, since Redis is shared by every run on the machine.
fn unique_id() -> String {
    format!("cache-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

async fn host(db: &TestDatabase, redis: &str) -> AppState {
    let redis = redis.to_owned();
    db.state_with(move |c| c.redis_url = Some(Secret::new(redis)))
        .await
}

async fn redis_get(url: &str, key: &str) -> Option<String> {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}

fn is_suspended(result: Result<std::sync::Arc<caravan::tenants::model::Tenant>, Error>) -> bool {
    matches!(result, Err(Error::Forbidden(m)) if m == "Tenant account is suspended")
}

#[tokio::test]
async fn a_suspension_on_one_host_is_seen_at_once_by_another_through_redis() {
    let Some(redis) = redis_url() else { return };
    for backend in backends() {
        let db = TestDatabase::new(backend).await;
        let (a, b) = (host(&db, &redis).await, host(&db, &redis).await);
        let id = unique_id();
        a.tenants.create(new_tenant(&id)).await.unwrap();

        a.tenants.require_active(&id).await.unwrap();
        let cached = redis_get(&redis, &format!("caravan:tenant:v1:{id}")).await;
        assert!(
            cached.is_some_and(|json| json.contains(&id)),
            "the read filled the shared cache"
        );
        assert_eq!(a.tenants.cache_mode(), "redis");

        b.tenants
            .suspend(&id, "suspended from the other host")
            .await
            .unwrap();
        assert!(
            is_suspended(a.tenants.require_active(&id).await),
            "{backend:?}"
        );

        b.tenants.activate(&id).await.unwrap();
        a.tenants.require_active(&id).await.unwrap();
        b.tenants.delete(&id).await.unwrap();
        assert!(a.tenants.find(&id).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn without_a_reachable_redis_tenants_are_served_from_memory() {
    let db = TestDatabase::new(support::Backend::Sqlite).await;
    // Nothing listens on port 1.
    let state = host(&db, "redis://127.0.0.1:1").await;
    let id = unique_id();
    state.tenants.create(new_tenant(&id)).await.unwrap();
    state.tenants.require_active(&id).await.unwrap();
    assert_eq!(state.tenants.cache_mode(), "memory-fallback");
    state
        .tenants
        .suspend(&id, "works without redis")
        .await
        .unwrap();
    assert!(is_suspended(state.tenants.require_active(&id).await));

    let app = caravan::app(state);
    use tower::ServiceExt;
    let res = app
        .oneshot(
            axum::http::Request::get("/health/ready")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "Redis does not decide readiness");
}

#[tokio::test]
async fn invalidations_missed_during_a_redis_outage_reach_it_when_it_returns() {
    let Some(redis) = redis_url() else { return };
    let proxy = TcpProxy::start(caravan::testing::socket_addr_of(&redis, 6379).await).await;
    let proxied = caravan::testing::with_addr(&redis, proxy.addr);
    let db = TestDatabase::new(support::Backend::Sqlite).await;
    let (a, b) = (host(&db, &proxied).await, host(&db, &proxied).await);
    let id = unique_id();
    let key = format!("caravan:tenant:v1:{id}");
    a.tenants.create(new_tenant(&id)).await.unwrap();
    a.tenants.require_active(&id).await.unwrap();
    assert!(redis_get(&redis, &key).await.is_some());

    proxy.cut();
    // Writes and reads keep working while Redis is away.
    b.tenants
        .suspend(&id, "suspended during the outage")
        .await
        .unwrap();
    assert!(is_suspended(a.tenants.require_active(&id).await));
    assert_eq!(a.tenants.cache_mode(), "memory-fallback");
    assert!(
        redis_get(&redis, &key).await.is_some(),
        "the stale entry is still in Redis"
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(10);
    while redis_get(&redis, &key).await.is_some() {
        assert!(
            Instant::now() < deadline,
            "the missed invalidation was never replayed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(is_suspended(a.tenants.require_active(&id).await));
    assert_eq!(
        a.tenants.cache_mode(),
        "redis",
        "back on Redis after the outage"
    );
}
