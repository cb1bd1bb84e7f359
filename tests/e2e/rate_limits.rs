//! Rate limits shared by hosts through a real Redis, how they decide compared with the
//! in-process store, and what happens to them across a Redis outage.

#![allow(clippy::print_stderr)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use caravan::ratelimit::{Decision, RateLimiter, Rule};
use caravan::redis::Redis;
use support::{TcpProxy, redis_url};

fn redis_or_note() -> Option<String> {
    let url = redis_url();
    if url.is_none() {
        eprintln!("note: REDIS_URL unset; rate-limit tests against Redis skipped");
    }
    url
}

/// A host's limiter: its own Redis client, as a separate process would have.
fn host(url: &str) -> (RateLimiter, Arc<Redis>) {
    let redis = Arc::new(Redis::new(url).unwrap());
    (RateLimiter::new(Some(redis.clone())), redis)
}

/// A key no other test or earlier run uses, with the characters real keys have.
fn unique_key(what: &str) -> String {
    format!("{what}:{}@example.com", uuid::Uuid::new_v4())
}

async fn wait_until_reachable(redis: &Redis) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !redis.ping().await {
        assert!(Instant::now() < deadline, "redis never answered again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_hosts_share_one_budget_through_redis() {
    let Some(url) = redis_or_note() else { return };
    let ((a, _), (b, _)) = (host(&url), host(&url));
    let key = unique_key("login");
    let rule = Rule::per_minute(5);

    let mut remaining = Vec::new();
    for limiter in [&a, &a, &a, &b, &b] {
        let decision = limiter.hit(&key, rule).await;
        assert!(decision.allowed, "{decision:?}");
        remaining.push(decision.remaining);
    }
    assert_eq!(remaining, [4, 3, 2, 1, 0]);
    assert_eq!(a.mode(), "redis");

    for limiter in [&a, &b] {
        let refused = limiter.hit(&key, rule).await;
        assert!(!refused.allowed, "{refused:?}");
        assert_eq!(refused.remaining, 0);
        // Each hit costs 12 s of the minute; the next one is due 12 s after the first.
        assert!(
            refused.reset_after > Duration::from_secs(10)
                && refused.reset_after <= Duration::from_secs(12),
            "{refused:?}"
        );
        assert!(matches!(refused.retry_after_secs(), 11 | 12), "{refused:?}");
    }
    assert!(!a.peek(&key, rule).await.allowed);

    b.reset(&key).await;
    assert_eq!(a.hit(&key, rule).await.remaining, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_concurrent_burst_across_two_hosts_is_allowed_exactly_the_limit() {
    let Some(url) = redis_or_note() else { return };
    let ((a, _), (b, _)) = (host(&url), host(&url));
    let key = unique_key("burst");
    let rule = Rule::per_minute(10);
    let hits: Vec<_> = (0..60)
        .map(|i| {
            let limiter = if i % 2 == 0 { a.clone() } else { b.clone() };
            let key = key.clone();
            tokio::spawn(async move { limiter.hit(&key, rule).await })
        })
        .collect();
    let mut allowed = 0;
    for hit in hits {
        if hit.await.unwrap().allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 10);
}

#[tokio::test]
async fn a_block_set_on_one_host_is_seen_and_lifted_on_another() {
    let Some(url) = redis_or_note() else { return };
    let ((a, _), (b, _)) = (host(&url), host(&url));
    let key = unique_key("lockout");
    assert_eq!(b.blocked_for(&key).await, None);

    a.block(&key, Duration::from_secs(900)).await;
    let left = b.blocked_for(&key).await.unwrap();
    assert!(left > Duration::from_secs(890) && left <= Duration::from_secs(900));

    // A new block replaces the old one, even a shorter one.
    b.block(&key, Duration::from_secs(30)).await;
    let left = a.blocked_for(&key).await.unwrap();
    assert!(left <= Duration::from_secs(30), "{left:?}");

    b.unblock(&key).await;
    assert_eq!(a.blocked_for(&key).await, None);

    a.block(&key, Duration::from_millis(300)).await;
    assert!(b.blocked_for(&key).await.is_some());
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(b.blocked_for(&key).await, None, "blocks expire in Redis");
}

/// One scripted sequence of calls, with the decisions it produced.
async fn story(limiter: &RateLimiter, key: &str) -> Vec<Decision> {
    // Three hits per 600 ms: each costs 200 ms. Sleeps stay at least 100 ms from a boundary.
    let rule = Rule::new(3, Duration::from_millis(600));
    let mut out = Vec::new();
    for _ in 0..4 {
        out.push(limiter.hit(key, rule).await);
    }
    out.push(limiter.peek(key, rule).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    out.push(limiter.hit(key, rule).await);
    out.push(limiter.hit(key, rule).await);
    tokio::time::sleep(Duration::from_millis(700)).await;
    out.push(limiter.peek(key, rule).await);
    out.push(limiter.hit(key, rule).await);
    limiter.reset(key).await;
    out.push(limiter.peek(key, rule).await);
    out
}

#[tokio::test]
async fn the_in_process_and_redis_stores_decide_alike() {
    let Some(url) = redis_or_note() else { return };
    let (shared, _) = host(&url);
    let memory = RateLimiter::new(None);
    let key = unique_key("conformance");
    let (from_redis, from_memory) = tokio::join!(story(&shared, &key), story(&memory, &key));

    let outcome = |d: &Decision| (d.allowed, d.remaining);
    assert_eq!(
        from_memory.iter().map(outcome).collect::<Vec<_>>(),
        [
            (true, 2),
            (true, 1),
            (true, 0),
            (false, 0),
            (false, 0),
            (true, 0),
            (false, 0),
            (true, 3),
            (true, 2),
            (true, 3),
        ]
    );
    assert_eq!(
        from_redis.iter().map(outcome).collect::<Vec<_>>(),
        from_memory.iter().map(outcome).collect::<Vec<_>>()
    );
    for (redis, memory) in from_redis.iter().zip(&from_memory) {
        assert!(
            redis.reset_after.abs_diff(memory.reset_after) < Duration::from_millis(50),
            "redis {redis:?}, memory {memory:?}"
        );
    }
}

#[tokio::test]
async fn during_a_redis_outage_hits_are_counted_in_process_and_shared_again_after_it() {
    let Some(url) = redis_or_note() else { return };
    let proxy = TcpProxy::start(caravan::testing::socket_addr_of(&url, 6379).await).await;
    let (a, redis_a) = host(&caravan::testing::with_addr(&url, proxy.addr));
    let (b, _) = host(&url);
    let key = unique_key("outage");
    let rule = Rule::per_minute(4);
    assert_eq!(a.hit(&key, rule).await.remaining, 3);

    proxy.cut();
    // Host A now counts alone, from a fresh in-process budget, and answers at once.
    let mut outcomes = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let decision = a.hit(&key, rule).await;
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "a hit took {:?} while redis was down",
            started.elapsed()
        );
        outcomes.push((decision.allowed, decision.remaining));
    }
    assert_eq!(
        outcomes,
        [(true, 3), (true, 2), (true, 1), (true, 0), (false, 0)]
    );
    assert_eq!(a.mode(), "memory-fallback");
    assert_eq!(
        b.peek(&key, rule).await.remaining,
        3,
        "hits counted in-process do not reach redis"
    );

    proxy.restore();
    wait_until_reachable(&redis_a).await;
    assert_eq!(
        a.hit(&key, rule).await.remaining,
        2,
        "counted in redis again"
    );
    assert_eq!(b.hit(&key, rule).await.remaining, 1);
    assert_eq!(a.mode(), "redis");
}

#[tokio::test]
async fn lockouts_and_resets_made_during_a_redis_outage_reach_it_when_it_returns() {
    let Some(url) = redis_or_note() else { return };
    let proxy = TcpProxy::start(caravan::testing::socket_addr_of(&url, 6379).await).await;
    let (a, redis_a) = host(&caravan::testing::with_addr(&url, proxy.addr));
    let (b, _) = host(&url);
    let (set_during, lifted_during, reset_during) =
        (unique_key("set"), unique_key("lifted"), unique_key("reset"));
    let rule = Rule::per_minute(3);
    b.block(&lifted_during, Duration::from_secs(600)).await;
    a.hit(&reset_during, rule).await;
    a.hit(&reset_during, rule).await;

    proxy.cut();
    let started = Instant::now();
    a.block(&set_during, Duration::from_secs(600)).await;
    a.unblock(&lifted_during).await;
    a.reset(&reset_during).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // This host enforces what it did; the other does not know yet.
    assert!(a.blocked_for(&set_during).await.is_some());
    assert_eq!(a.blocked_for(&lifted_during).await, None);
    assert_eq!(b.blocked_for(&set_during).await, None);
    assert!(b.blocked_for(&lifted_during).await.is_some());
    assert_eq!(b.peek(&reset_during, rule).await.remaining, 1);

    proxy.restore();
    wait_until_reachable(&redis_a).await;
    // Host A's next call writes what Redis missed before anything else.
    let left = a.blocked_for(&set_during).await.unwrap();
    assert!(left > Duration::from_secs(590), "{left:?}");
    let left = b.blocked_for(&set_during).await.unwrap();
    assert!(left > Duration::from_secs(590), "{left:?}");
    assert_eq!(b.blocked_for(&lifted_during).await, None);
    assert_eq!(b.peek(&reset_during, rule).await.remaining, 3);
}
