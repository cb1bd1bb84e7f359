//! The sandbox: hostile plugins are contained with a typed error, within their deadline,
//! while other tenants' calls go on.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use caravan::plugins::bindings::quoting;
use caravan::plugins::runtime::{MAX_CONCURRENT_CALLS, TENANT_SHARE};
use caravan::plugins::{
    CallSpec, Compiled, Limits, PluginError, PluginErrorKind, PluginRuntime, Slot, defaults,
    fixtures,
};

fn runtime() -> Arc<PluginRuntime> {
    static RUNTIME: OnceLock<Arc<PluginRuntime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| Arc::new(PluginRuntime::new().expect("plugin runtime")))
        .clone()
}

pub fn hostile_bytes() -> Vec<u8> {
    std::fs::read(env!("HOSTILE_PLUGIN")).expect("the hostile test plugin was built")
}

fn hostile() -> Arc<Compiled> {
    runtime()
        .compile(Slot::Pricing, &hostile_bytes())
        .expect("hostile plugin compiles")
}

fn spec(behaviour: &str) -> CallSpec {
    let mut spec = CallSpec::new("hostile-tenant", "hostile");
    let mut config = std::collections::HashMap::new();
    config.insert("behaviour".to_owned(), format!("\"{behaviour}\""));
    spec.config = Arc::new(config);
    spec
}

/// Calls the (already compiled) hostile plugin; timings taken around this exclude compiling.
async fn price(spec: &CallSpec) -> Result<quoting::PricedQuote, PluginError> {
    let compiled = hostile();
    let request = fixtures::pricing_request();
    runtime()
        .price(&compiled, spec, &request, &fixtures::tenant())
        .await
        .map(|(out, _)| out)
}

async fn expect_kind(behaviour: &str, kind: PluginErrorKind) -> PluginError {
    hostile();
    let started = Instant::now();
    let err = price(&spec(behaviour)).await.expect_err(behaviour);
    assert_eq!(err.kind, kind, "{behaviour}: {err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{behaviour} took {:?}",
        started.elapsed()
    );
    err
}

#[tokio::test]
async fn a_well_behaved_plugin_returns_its_output_and_costs() {
    let request = fixtures::pricing_request();
    let (out, stats) = runtime()
        .price(&hostile(), &spec("none"), &request, &fixtures::tenant())
        .await
        .unwrap();
    assert_eq!(out.options.len(), 3);
    assert!(stats.fuel_used > 0 && stats.fuel_used < Limits::default().fuel);
    assert!(stats.peak_memory_bytes > 0);
}

#[tokio::test]
async fn an_infinite_loop_runs_out_of_fuel() {
    let err = expect_kind("infinite-loop", PluginErrorKind::OutOfFuel).await;
    assert!(err.message.contains("11000000"), "{}", err.message);
}

#[tokio::test]
async fn a_loop_with_a_large_budget_is_stopped_at_its_deadline() {
    let mut spec = spec("infinite-loop");
    spec.limits.fuel = Limits::PLATFORM_MAX.fuel * 50_000;
    spec.limits.deadline_ms = 30;
    hostile();
    let started = Instant::now();
    let err = price(&spec).await.unwrap_err();
    assert_eq!(err.kind, PluginErrorKind::Deadline, "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_plugin_blocked_in_a_host_call_is_cut_off_at_its_deadline() {
    hostile();
    let started = Instant::now();
    let err = price(&spec("sleep")).await.unwrap_err();
    assert_eq!(err.kind, PluginErrorKind::Deadline, "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_cap() {
    let err = expect_kind("memory-bomb", PluginErrorKind::Memory).await;
    assert!(
        err.message
            .contains(&Limits::default().memory_bytes.to_string()),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn deep_recursion_is_a_trap() {
    let err = expect_kind("deep-recursion", PluginErrorKind::Trap).await;
    assert!(err.message.contains("stack overflow"), "{}", err.message);
}

#[tokio::test]
async fn a_huge_output_is_refused() {
    expect_kind("huge-output", PluginErrorKind::OutputTooLarge).await;
}

#[tokio::test]
async fn a_panic_is_a_trap_that_carries_its_message() {
    let err = expect_kind("panic", PluginErrorKind::Trap).await;
    assert!(
        err.message.contains("boom from the hostile plugin"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_negative_price_is_invalid_output() {
    let err = expect_kind("negative-price", PluginErrorKind::InvalidOutput).await;
    assert!(err.message.contains("negative"), "{}", err.message);
}

#[tokio::test]
async fn an_unknown_currency_is_invalid_output() {
    let err = expect_kind("unknown-currency", PluginErrorKind::InvalidOutput).await;
    assert!(
        err.message
            .contains("options[0].total: unknown currency `XQQ`"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_price_component_in_another_currency_is_invalid_output() {
    let err = expect_kind(
        "component-in-another-currency",
        PluginErrorKind::InvalidOutput,
    )
    .await;
    assert!(
        err.message
            .contains("components[0].amount: not in the quote currency"),
        "{}",
        err.message
    );
}

async fn expect_denied(behaviour: &str, spec: CallSpec) {
    let err = price(&spec).await.expect_err(behaviour);
    assert_eq!(err.kind, PluginErrorKind::PluginError, "{behaviour}: {err}");
    assert_eq!(err.code.as_deref(), Some("denied"), "{behaviour}: {err}");
}

#[tokio::test]
async fn the_host_filesystem_is_invisible() {
    expect_denied("read-file", spec("read-file")).await;
    expect_denied("list-dir", spec("list-dir")).await;
}

#[tokio::test]
async fn the_environment_is_empty() {
    // The test process has variables (PATH at least); none may reach the plugin.
    assert!(std::env::vars().next().is_some());
    expect_denied("read-env", spec("read-env")).await;
}

#[tokio::test]
async fn sockets_cannot_be_opened() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let mut spec = spec("open-socket");
    let mut config = (*spec.config).clone();
    config.insert("target".into(), format!("\"{target}\""));
    spec.config = Arc::new(config);
    expect_denied("open-socket", spec).await;
    let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
    assert!(accepted.is_err(), "the plugin reached the listener");
}

#[tokio::test]
async fn an_oversized_input_is_refused_before_the_call() {
    let mut spec = spec("none");
    spec.limits.input_bytes = 100;
    let err = price(&spec).await.unwrap_err();
    assert_eq!(err.kind, PluginErrorKind::InputTooLarge);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_call_succeeds_while_a_plugin_misbehaves() {
    let mut looping = spec("infinite-loop");
    looping.limits.fuel = Limits::PLATFORM_MAX.fuel * 50_000;
    looping.limits.deadline_ms = 1_000;
    hostile();
    let default = runtime()
        .compile(Slot::Pricing, defaults::component(Slot::Pricing))
        .unwrap();
    let hostile_call = tokio::spawn(async move { price(&looping).await });
    tokio::time::sleep(Duration::from_millis(50)).await;

    let started = Instant::now();
    let request = fixtures::pricing_request();
    let other = runtime()
        .price(
            &default,
            &CallSpec::new("other-tenant", "default"),
            &request,
            &fixtures::tenant(),
        )
        .await;
    let other_took = started.elapsed();
    assert!(other.is_ok(), "{other:?}");
    assert!(
        !hostile_call.is_finished(),
        "the hostile call is still running meanwhile"
    );
    assert!(other_took < Duration::from_millis(500), "{other_took:?}");
    let err = hostile_call.await.unwrap().unwrap_err();
    assert_eq!(err.kind, PluginErrorKind::Deadline);
}

#[tokio::test]
async fn the_same_component_compiles_once_for_every_tenant() {
    let a = runtime().compile(Slot::Pricing, &hostile_bytes()).unwrap();
    let b = runtime().compile(Slot::Pricing, &hostile_bytes()).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_misbehaviour_leaves_a_concurrent_call_unharmed() {
    hostile();
    let default = runtime()
        .compile(Slot::Pricing, defaults::component(Slot::Pricing))
        .unwrap();
    use PluginErrorKind as K;
    let behaviours = [
        ("infinite-loop", K::OutOfFuel),
        ("memory-bomb", K::Memory),
        ("deep-recursion", K::Trap),
        ("huge-output", K::OutputTooLarge),
        ("read-file", K::PluginError),
        ("list-dir", K::PluginError),
        ("open-socket", K::PluginError),
        ("read-env", K::PluginError),
        ("panic", K::Trap),
        ("sleep", K::Deadline),
        ("negative-price", K::InvalidOutput),
        ("unknown-currency", K::InvalidOutput),
    ];
    for (behaviour, kind) in behaviours {
        let spec = spec(behaviour);
        let misbehaving = tokio::spawn(async move { price(&spec).await });
        let request = fixtures::pricing_request();
        let other = runtime()
            .price(
                &default,
                &CallSpec::new("other-tenant", "default"),
                &request,
                &fixtures::tenant(),
            )
            .await;
        assert!(other.is_ok(), "{behaviour}: {other:?}");
        let contained = misbehaving.await.unwrap().expect_err(behaviour);
        assert_eq!(contained.kind, kind, "{behaviour}: {contained}");
    }
}

/// `n` concurrent calls of `compiled` on `runtime`, each with the sample request, spread
/// round-robin over `tenants` tenants named after the spec's.
fn spawn_calls(
    runtime: &Arc<PluginRuntime>,
    compiled: &Arc<Compiled>,
    spec: &CallSpec,
    n: usize,
    tenants: usize,
) -> tokio::task::JoinSet<Result<(), PluginError>> {
    let mut running = tokio::task::JoinSet::new();
    for i in 0..n {
        let (runtime, compiled, mut spec) = (runtime.clone(), compiled.clone(), spec.clone());
        spec.tenant_id = format!("{}-{}", spec.tenant_id, i % tenants);
        running.spawn(async move {
            let request = fixtures::pricing_request();
            runtime
                .price(&compiled, &spec, &request, &fixtures::tenant())
                .await
                .map(|_| ())
        });
    }
    running
}

#[tokio::test]
async fn calls_beyond_the_instance_pool_wait_for_a_slot_instead_of_failing() {
    // A runtime of its own: this test fills every instance slot.
    let runtime = Arc::new(PluginRuntime::new().unwrap());
    let compiled = runtime.compile(Slot::Pricing, &hostile_bytes()).unwrap();
    let mut spec = spec("spin");
    Arc::make_mut(&mut spec.config).insert("spin_ms".to_owned(), "20".to_owned());
    // Room for the second wave to wait for the first on a busy machine: this test is about
    // slots, not deadlines.
    spec.limits.deadline_ms = Limits::PLATFORM_MAX.deadline_ms;
    spec.limits.fuel = Limits::PLATFORM_MAX.fuel;
    let calls = MAX_CONCURRENT_CALLS as usize + 16;
    // Enough tenants that their shares together cover the whole pool.
    let tenants = (MAX_CONCURRENT_CALLS / TENANT_SHARE) as usize + 1;
    let outcomes = spawn_calls(&runtime, &compiled, &spec, calls, tenants)
        .join_all()
        .await;
    let failed: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} of {calls} failed: {failed:?}",
        failed.len()
    );
}

/// A runtime of its own (these calls fill its slots) running as many calls as it has slots,
/// spread over `tenants` tenants, each sleeping until its 1 s deadline; returns once they
/// have had time to take their slots.
async fn sleepers(
    tenants: usize,
) -> (
    Arc<PluginRuntime>,
    Arc<Compiled>,
    CallSpec,
    tokio::task::JoinSet<Result<(), PluginError>>,
) {
    let runtime = Arc::new(PluginRuntime::new().unwrap());
    let compiled = runtime.compile(Slot::Pricing, &hostile_bytes()).unwrap();
    // Compiled now, so that compiling it later does not eat into the sleepers' second.
    runtime
        .compile(Slot::Pricing, defaults::component(Slot::Pricing))
        .unwrap();
    let mut sleeping = spec("sleep");
    sleeping.limits.deadline_ms = 1_000;
    let running = spawn_calls(
        &runtime,
        &compiled,
        &sleeping,
        MAX_CONCURRENT_CALLS as usize,
        tenants,
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    (runtime, compiled, sleeping, running)
}

/// A 50 ms call for `tenant_id` that cannot be admitted: it fails as `deadline` saying `why`,
/// long before the sleepers' second is up.
async fn expect_refused(runtime: &PluginRuntime, compiled: &Compiled, tenant_id: &str, why: &str) {
    let mut impatient = spec("none");
    impatient.tenant_id = tenant_id.to_owned();
    impatient.limits.deadline_ms = 50;
    let started = Instant::now();
    let request = fixtures::pricing_request();
    let err = runtime
        .price(compiled, &impatient, &request, &fixtures::tenant())
        .await
        .unwrap_err();
    assert_eq!(err.kind, PluginErrorKind::Deadline, "{err}");
    assert!(err.message.contains(why), "{}", err.message);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_call_that_finds_every_slot_busy_for_its_whole_deadline_fails_as_deadline() {
    // Every tenant's share full, and with them the whole pool.
    let (runtime, compiled, _, running) =
        sleepers((MAX_CONCURRENT_CALLS / TENANT_SHARE) as usize).await;
    expect_refused(
        &runtime,
        &compiled,
        "hostile-tenant",
        &format!("all {MAX_CONCURRENT_CALLS} plugin instance slots"),
    )
    .await;
    for outcome in running.join_all().await {
        assert_eq!(outcome.unwrap_err().kind, PluginErrorKind::Deadline);
    }
}

#[tokio::test]
async fn a_tenant_with_every_call_stuck_waits_on_its_own_share_while_others_are_served() {
    // One tenant sends as many sleeping calls as the pool has slots.
    let (runtime, compiled, sleeping, running) = sleepers(1).await;

    // At the same moment, served within their deadlines: another tenant's own plugin; the
    // stuck tenant's built-in plugin (what its calls fall back to); and a call the stuck
    // tenant's administrator starts (a dry-run, an upload's fixtures).
    let stuck = format!("{}-0", sleeping.tenant_id);
    let builtin = runtime
        .compile(Slot::Pricing, defaults::component(Slot::Pricing))
        .unwrap();
    let mut other = spec("none");
    other.tenant_id = "another-tenant".into();
    let mut fallback = CallSpec::new(stuck.clone(), "default");
    fallback.limits.deadline_ms = 100;
    let mut admin = spec("none");
    admin.tenant_id = stuck.clone();
    admin.admin = true;
    let request = fixtures::pricing_request();
    for (who, compiled, spec) in [
        ("another tenant", &compiled, &other),
        ("the built-in", &builtin, &fallback),
        ("an administrator", &compiled, &admin),
    ] {
        let started = Instant::now();
        runtime
            .price(compiled, spec, &request, &fixtures::tenant())
            .await
            .unwrap_or_else(|e| panic!("{who}: {e}"));
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{who}: {:?}",
            started.elapsed()
        );
    }

    // The stuck tenant's own next call finds its share full and says so.
    expect_refused(
        &runtime,
        &compiled,
        &stuck,
        &format!("this tenant's share of {TENANT_SHARE} plugin instance slots"),
    )
    .await;

    // Every one of the stuck tenant's calls ends at its deadline, sleeping or waiting for
    // its share.
    let outcomes = running.join_all().await;
    assert_eq!(outcomes.len(), MAX_CONCURRENT_CALLS as usize);
    for outcome in outcomes {
        assert_eq!(outcome.unwrap_err().kind, PluginErrorKind::Deadline);
    }
}
