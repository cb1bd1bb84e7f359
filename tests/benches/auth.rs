//! Authentication benchmarks: the argon2 cost of one password check, login throughput over
//! HTTP, and what the authentication layer adds to a cheap route. Run with
//! `cargo bench -p caravan-e2e --bench auth`; the Redis variant needs `REDIS_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use caravan::accounts::password;
use caravan::config::Secret;
use serde_json::json;
use support::{Backend, Login, PASSWORD, TestApp};

fn percentile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * q).round() as usize]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn argon2_cost() {
    let phc = password::hash(PASSWORD).unwrap();
    let mut samples: Vec<Duration> = (0..30)
        .map(|_| {
            let started = Instant::now();
            assert!(password::verify(PASSWORD, &phc));
            started.elapsed()
        })
        .collect();
    println!(
        "argon2id verify (m=19 MiB, t=2, p=1): p50 {:.1} ms, p99 {:.1} ms",
        percentile(&mut samples, 0.5).as_secs_f64() * 1e3,
        percentile(&mut samples, 0.99).as_secs_f64() * 1e3
    );
}

/// Successful logins per second with `concurrency` requests in flight for `duration`.
async fn login_throughput(app: &Arc<TestApp>, concurrency: usize, duration: Duration) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while started.elapsed() < duration {
                let res = app
                    .post("/api/v1/auth/login")
                    .json(&json!({"email": "admin@bench.test", "password": PASSWORD}))
                    .send()
                    .await;
                assert_eq!(res.body["success"], true);
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

async fn route_latency(
    app: &TestApp,
    login: Option<&Login>,
    path: &str,
    n: usize,
) -> [Duration; 2] {
    let mut samples = Vec::with_capacity(n);
    for i in 0..n + n / 10 {
        let mut call = app.get(path);
        if let Some(login) = login {
            call = call.user(login);
        }
        let started = Instant::now();
        let res = call.send().await;
        let elapsed = started.elapsed();
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        if i >= n / 10 {
            samples.push(elapsed);
        }
    }
    [
        percentile(&mut samples, 0.5),
        percentile(&mut samples, 0.99),
    ]
}

async fn scenario(name: &str, redis: Option<&str>) {
    let redis = redis.map(str::to_owned);
    let app = TestApp::with_config(Backend::Sqlite, move |c| {
        c.redis_url = redis.map(Secret::new);
        c.rate_limits.tenant_per_minute = 10_000_000;
    })
    .await;
    let login = app.tenant_with_user("bench", "admin").await;
    let app = Arc::new(app);
    for concurrency in [1, 2, 4] {
        let rate = login_throughput(&app, concurrency, Duration::from_secs(4)).await;
        println!("{name}: logins/s with {concurrency} in flight: {rate:.1}");
    }
    let n = 3000;
    let [h50, h99] = route_latency(&app, None, "/health", n).await;
    let [m50, m99] = route_latency(&app, Some(&login), "/api/v1/auth/me", n).await;
    println!(
        "{name}: GET /health p50 {} p99 {}; GET /api/v1/auth/me (Bearer, X-Client-ID) p50 {} p99 {}; \
         authentication adds {} at p50",
        micros(h50),
        micros(h99),
        micros(m50),
        micros(m99),
        micros(m50.saturating_sub(h50))
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    argon2_cost();
    rt.block_on(async {
        scenario("in-process limits", None).await;
        match std::env::var("REDIS_URL").ok().filter(|v| !v.is_empty()) {
            Some(url) => scenario("limits in Redis", Some(&url)).await,
            None => println!("(Redis variant skipped: set REDIS_URL)"),
        }
    });
}
