//! Plugin benchmarks: instantiate + call per default plugin beside the same logic compiled
//! natively and beside a do-nothing component; activation latency; upload to ready; resident
//! memory with many tenants. Run with `cargo bench -p caravan-e2e --bench plugins`; PostgreSQL
//! and Redis figures need `TEST_DATABASE_URL` and `REDIS_URL`; `PLUGINS_BENCH=calls` runs the
//! per-call table alone. `PRICING_LOOP=<rounds>` prices the 10-line quote alone, 20 000 calls
//! a round, and prints each round's p50 and the call's fuel; with `PRICING_WASM=<file>` it
//! loads the pricing component from that file, so that two builds of the plugin (or two
//! builds of this bench) can be run in alternation on a noisy machine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use caravan::plugins::bindings::{documents, email, quoting, types};
use caravan::plugins::{CallSpec, PluginRuntime, Slot, defaults, fixtures};
use caravan::storage::Backend;
use caravan::testing::TestDatabase;
use caravan_sdk::{EmailParser, PdfTemplate, Pricing, QuoteRules};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Converts between the host's and the SDK's generated types (same WIT, same field names).
fn convert<A: Serialize, B: DeserializeOwned>(a: &A) -> B {
    serde_json::from_value(serde_json::to_value(a).unwrap()).unwrap()
}

struct Figures {
    p50: Duration,
    p99: Duration,
}

fn percentiles(mut samples: Vec<Duration>) -> Figures {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Figures {
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn time_native(iterations: usize, mut f: impl FnMut()) -> Figures {
    for _ in 0..iterations / 10 {
        f();
    }
    percentiles(
        (0..iterations)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed()
            })
            .collect(),
    )
}

async fn time_async<F, Fut>(iterations: usize, mut f: F) -> Figures
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..iterations / 10 {
        f().await;
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        f().await;
        samples.push(started.elapsed());
    }
    percentiles(samples)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// A copy of a component with a custom section appended: same behaviour, new content hash.
fn variant(bytes: &[u8], n: usize) -> Vec<u8> {
    let name = format!("caravan-bench-{n}");
    let mut payload = vec![name.len() as u8];
    payload.extend(name.as_bytes());
    let mut out = bytes.to_vec();
    out.push(0);
    out.push(payload.len() as u8);
    out.extend(payload);
    out
}

/// A 10-line quote: three options of an accommodation line and three extras each, plus one.
fn ten_line_request() -> quoting::PricingRequest {
    let mut request = fixtures::pricing_request();
    for option in &mut request.options {
        let extra = option.lines[1].clone();
        option.lines.push(extra.clone());
        option.lines.push(extra);
    }
    let first = request.options[0].lines[1].clone();
    request.options[0].lines.push(first);
    request
}

async fn plugin_calls(runtime: &Arc<PluginRuntime>) {
    const N: usize = 2_000;
    let spec = CallSpec::new("bench", "default");
    let tenant = fixtures::tenant();
    let sdk_tenant: caravan_sdk::TenantContext = convert(&tenant);
    let compiled = |slot| runtime.compile(slot, defaults::component(slot)).unwrap();

    println!("| plugin | wasm instantiate + call p50 | p99 | native p50 | ratio (p50) |");
    println!("|---|---|---|---|---|");

    let email_in: email::InboundEmail = fixtures::email();
    let c = compiled(Slot::EmailParser);
    let wasm = time_async(N, || async {
        black_box(
            runtime
                .parse_email(&c, &spec, &email_in, &tenant)
                .await
                .unwrap(),
        );
    })
    .await;
    let sdk_email: caravan_sdk::InboundEmail = convert(&email_in);
    let native = time_native(N, || {
        black_box(
            caravan_plugin_email_parser::DefaultParser::parse(
                sdk_email.clone(),
                sdk_tenant.clone(),
            )
            .unwrap(),
        );
    });
    row("email-parser (sample enquiry)", &wasm, &native);

    let (trip, rates) = (fixtures::trip(), fixtures::rates());
    let c = compiled(Slot::QuoteRules);
    let wasm = time_async(N, || async {
        black_box(
            runtime
                .propose(&c, &spec, &trip, &rates, &tenant)
                .await
                .unwrap(),
        );
    })
    .await;
    let (sdk_trip, sdk_rates): (caravan_sdk::Trip, Vec<caravan_sdk::Rate>) =
        (convert(&trip), convert(&rates));
    let native = time_native(N, || {
        black_box(
            caravan_plugin_quote_rules::DefaultRules::propose(
                sdk_trip.clone(),
                sdk_rates.clone(),
                sdk_tenant.clone(),
            )
            .unwrap(),
        );
    });
    row("quote-rules (3 rates)", &wasm, &native);

    let request = ten_line_request();
    let c = compiled(Slot::Pricing);
    let wasm = time_async(N, || async {
        black_box(runtime.price(&c, &spec, &request, &tenant).await.unwrap());
    })
    .await;
    let sdk_request: caravan_sdk::PricingRequest = convert(&request);
    let native = time_native(N, || {
        black_box(
            caravan_plugin_pricing::DefaultPricing::price(sdk_request.clone(), sdk_tenant.clone())
                .unwrap(),
        );
    });
    row("pricing (10-line quote)", &wasm, &native);

    let doc: documents::DocumentRequest = fixtures::quote_document();
    let c = compiled(Slot::PdfTemplate);
    let wasm = time_async(N, || async {
        black_box(runtime.render(&c, &spec, &doc).await.unwrap());
    })
    .await;
    let sdk_doc: caravan_sdk::DocumentRequest = convert(&doc);
    let native = time_native(N, || {
        black_box(caravan_plugin_pdf_template::DefaultTemplate::render(sdk_doc.clone()).unwrap());
    });
    row("pdf-template (quote)", &wasm, &native);

    let noop = runtime
        .compile(Slot::Pricing, &std::fs::read(env!("NOOP_PLUGIN")).unwrap())
        .unwrap();
    let small: quoting::PricingRequest = fixtures::pricing_request();
    let floor = time_async(N, || async {
        black_box(
            runtime
                .price(&noop, &spec, &small, &tenant)
                .await
                .unwrap_err(),
        );
    })
    .await;
    println!(
        "| floor: do-nothing component | {} | {} | — | — |",
        micros(floor.p50),
        micros(floor.p99)
    );
}

/// `rounds` rounds of 20 000 pricing calls (after 2 000 warm-up calls each).
async fn pricing_loop(runtime: &Arc<PluginRuntime>, rounds: usize) {
    let spec = CallSpec::new("bench", "default");
    let tenant = fixtures::tenant();
    let request = ten_line_request();
    let bytes = match std::env::var("PRICING_WASM") {
        Ok(path) => std::fs::read(path).unwrap(),
        Err(_) => defaults::component(Slot::Pricing).to_vec(),
    };
    let c = runtime.compile(Slot::Pricing, &bytes).unwrap();
    let mut p50s = Vec::new();
    for _ in 0..rounds {
        let f = time_async(20_000, || async {
            black_box(runtime.price(&c, &spec, &request, &tenant).await.unwrap());
        })
        .await;
        p50s.push(format!("{:.2}", f.p50.as_secs_f64() * 1e6));
    }
    let (_, stats) = runtime.price(&c, &spec, &request, &tenant).await.unwrap();
    println!(
        "pricing p50 µs: {} fuel {}",
        p50s.join(" "),
        stats.fuel_used
    );
}

fn row(name: &str, wasm: &Figures, native: &Figures) {
    println!(
        "| {name} | {} | {} | {} | {:.1}× |",
        micros(wasm.p50),
        micros(wasm.p99),
        micros(native.p50),
        wasm.p50.as_secs_f64() / native.p50.as_secs_f64().max(1e-9)
    );
}

async fn tenant(state: &caravan::AppState, id: &str) -> types::TenantContext {
    let input = serde_json::from_value(serde_json::json!({
        "tenant_id": id, "company_name": id, "admin_email": format!("a@{id}.example"),
        "destinations": ["Zanzibar"],
    }))
    .unwrap();
    let t = state.tenants.create(input).await.unwrap();
    caravan::plugins::registry::tenant_context(&t)
}

async fn registry_figures() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let state = db.state_with(|_| {}).await;
    let plugins = &state.plugins;
    let request = fixtures::pricing_request();

    // Upload → ready: upload (compile + conformance + store), activate, first call served.
    let bulky = std::fs::read(env!("BULKY_PLUGIN")).unwrap();
    let ctx = tenant(&state, "uploads").await;
    let record = state.tenants.get("uploads").await.unwrap();
    let mut ready = Vec::new();
    for n in 0..5 {
        let bytes = Bytes::from(variant(&bulky, n));
        let started = Instant::now();
        let v = plugins
            .upload(
                &record,
                Slot::Pricing,
                Some(&format!("bulky-{n}")),
                bytes,
                "bench",
            )
            .await
            .unwrap();
        plugins
            .activate("uploads", Slot::Pricing, Some(&v.id), "bench")
            .await
            .unwrap();
        let served = plugins.price("uploads", &request, &ctx).await.unwrap();
        assert_eq!(served.version, format!("bulky-{n}"));
        ready.push(started.elapsed());
    }
    let ready = percentiles(ready);
    println!(
        "| upload → ready, {} KiB component (5 uploads) | p50 {:.0} ms | max {:.0} ms |",
        bulky.len() / 1024,
        ready.p50.as_secs_f64() * 1e3,
        ready.p99.as_secs_f64() * 1e3
    );

    // Activation on the same host: the next call after `activate` returns runs the new version.
    let hostile = std::fs::read(env!("HOSTILE_PLUGIN")).unwrap();
    let a = plugins
        .upload(
            &record,
            Slot::Pricing,
            Some("a"),
            Bytes::from(hostile.clone()),
            "bench",
        )
        .await
        .unwrap();
    let mut samples = Vec::new();
    for n in 0..50 {
        let target = if n % 2 == 0 {
            Some(a.id.as_str())
        } else {
            None
        };
        let started = Instant::now();
        plugins
            .activate("uploads", Slot::Pricing, target, "bench")
            .await
            .unwrap();
        let served = plugins.price("uploads", &request, &ctx).await.unwrap();
        assert_eq!(
            served.version,
            if target.is_some() { "a" } else { "default" }
        );
        samples.push(started.elapsed());
    }
    let act = percentiles(samples);
    println!(
        "| activation on the same host → first call on the new version (SQLite, 50 switches) | p50 {:.2} ms | p99 {:.2} ms |",
        act.p50.as_secs_f64() * 1e3,
        act.p99.as_secs_f64() * 1e3
    );

    // Resident memory: 1,000 tenants on the defaults, then 100 tenants with distinct components.
    let before = rss_kib();
    for i in 0..1_000 {
        let id = format!("shared-{i:04}");
        let ctx = tenant(&state, &id).await;
        black_box(plugins.price(&id, &request, &ctx).await.unwrap());
    }
    let shared = rss_kib();
    println!(
        "| RSS: process after 1,000 tenants called the default pricing | {:.1} MiB ({:+.1} MiB for the 1,000) |",
        shared as f64 / 1024.0,
        // Signed: the allocator may hand memory back during the loop.
        (shared as f64 - before as f64) / 1024.0
    );
    for i in 0..100 {
        let id = format!("distinct-{i:03}");
        let ctx = tenant(&state, &id).await;
        let record = state.tenants.get(&id).await.unwrap();
        let v = plugins
            .upload(
                &record,
                Slot::Pricing,
                Some("own"),
                Bytes::from(variant(&hostile, 1_000 + i)),
                "bench",
            )
            .await
            .unwrap();
        plugins
            .activate(&id, Slot::Pricing, Some(&v.id), "bench")
            .await
            .unwrap();
        black_box(plugins.price(&id, &request, &ctx).await.unwrap());
    }
    let distinct = rss_kib();
    println!(
        "| RSS: after 100 more tenants with 100 distinct components | {:.1} MiB ({:+.1} MiB, {:.2} MiB per component) |",
        distinct as f64 / 1024.0,
        (distinct as f64 - shared as f64) / 1024.0,
        (distinct as f64 - shared as f64) / 1024.0 / 100.0
    );
    println!(
        "| compiled components held | {} |",
        plugins.runtime().compiled_count()
    );
}

async fn cross_host_activation() {
    let (Ok(pg), Ok(redis)) = (
        std::env::var("TEST_DATABASE_URL"),
        std::env::var("REDIS_URL"),
    ) else {
        println!("(cross-host activation skipped: set TEST_DATABASE_URL and REDIS_URL)");
        return;
    };
    let _ = pg;
    let db = TestDatabase::new(Backend::Postgres).await;
    db.storage().await;
    let host = |redis: Option<String>| {
        let db = &db;
        async move {
            db.state_with(|c| c.redis_url = redis.map(caravan::config::Secret::new))
                .await
        }
    };
    let a = host(Some(redis.clone())).await;
    let b = host(Some(redis.clone())).await;
    let c = host(None).await;
    let ctx = tenant(&a, "cross").await;
    let record = a.tenants.get("cross").await.unwrap();
    let hostile = std::fs::read(env!("HOSTILE_PLUGIN")).unwrap();
    let v = a
        .plugins
        .upload(
            &record,
            Slot::Pricing,
            Some("x"),
            Bytes::from(hostile),
            "bench",
        )
        .await
        .unwrap();
    let request = fixtures::pricing_request();
    // Warm both hosts' compile caches.
    for host in [&b, &c] {
        let compiled = host.plugins.compiled_version(&v).await.unwrap();
        black_box(compiled);
        host.plugins.price("cross", &request, &ctx).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (name, host) in [("Redis pub/sub", &b), ("polling (no Redis)", &c)] {
        let mut samples = Vec::new();
        for n in 0..10 {
            let target = if n % 2 == 0 {
                Some(v.id.as_str())
            } else {
                None
            };
            let want = if target.is_some() { "x" } else { "default" };
            let started = Instant::now();
            a.plugins
                .activate("cross", Slot::Pricing, target, "bench")
                .await
                .unwrap();
            loop {
                if host
                    .plugins
                    .price("cross", &request, &ctx)
                    .await
                    .unwrap()
                    .version
                    == want
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            samples.push(started.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let f = percentiles(samples);
        println!(
            "| activation across two hosts on PostgreSQL, {name} (10 switches) | p50 {:.1} ms | max {:.1} ms |",
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3
        );
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let plugins = Arc::new(PluginRuntime::new().unwrap());
        if let Ok(n) = std::env::var("PRICING_LOOP") {
            pricing_loop(&plugins, n.parse().unwrap()).await;
            return;
        }
        plugin_calls(&plugins).await;
        // `PLUGINS_BENCH=calls` stops after the per-call figures (the registry figures
        // compile a hundred components and take minutes).
        if std::env::var("PLUGINS_BENCH").as_deref() == Ok("calls") {
            return;
        }
        println!();
        registry_figures().await;
        cross_host_activation().await;
    });
}
