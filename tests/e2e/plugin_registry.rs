//! The plugin registry over HTTP: upload validation, versions, activation, rollback,
//! configuration, limits, dry runs, failure policy and propagation across hosts.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use bytes::Bytes;
use caravan::config::Secret;
use caravan::plugins::{Slot, defaults};
use serde_json::{Value, json};
use support::{Backend, TestApp, TestDatabase, backends, postgres_url, redis_url};

use crate::plugin_sandbox::hostile_bytes;

const BASE: &str = "/api/v1/admin/tenants/agency/plugins";

async fn upload(
    app: &TestApp,
    slot: &str,
    label: &str,
    bytes: impl Into<Bytes>,
) -> support::TestResponse {
    app.post(&format!("{BASE}/{slot}?label={label}"))
        .admin()
        .raw("application/wasm", axum::body::Body::from(bytes.into()))
        .send()
        .await
}

async fn app_with_tenant(backend: Backend) -> TestApp {
    let app = TestApp::new(backend).await;
    app.create_tenant("agency", json!({"destinations": ["Zanzibar"]}))
        .await;
    app
}

async fn dry_run(app: &TestApp, slot: &str, body: Value) -> Value {
    let res = app
        .post(&format!("{BASE}/{slot}/dry-run"))
        .admin()
        .json(&body)
        .send()
        .await;
    res.expect(StatusCode::OK);
    res.body["data"].clone()
}

/// A component that instantiates `n` copies of a core module with `body`.
fn instances_of(n: usize, body: &str) -> Vec<u8> {
    let instances: String = (0..n)
        .map(|i| format!("(core instance $i{i} (instantiate $m))"))
        .collect();
    wat::parse_str(format!("(component (core module $m {body}) {instances})")).unwrap()
}

#[tokio::test]
async fn bad_uploads_are_rejected_with_a_reason() {
    let app = app_with_tenant(Backend::Sqlite).await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "pricing",
            b"definitely not wasm".to_vec(),
            "not a WebAssembly file",
        ),
        (
            "pricing",
            b"\0asm\x01\0\0\0".to_vec(),
            "core WebAssembly module",
        ),
        (
            "pricing",
            defaults::component(Slot::EmailParser).to_vec(),
            "caravan:plugins/pricer@1.0.0",
        ),
        (
            "email-parser",
            hostile_bytes(),
            "caravan:plugins/parser@1.0.0",
        ),
        // More than one slot's world in one component.
        (
            "pricing",
            std::fs::read(env!("DUAL_PLUGIN")).unwrap(),
            "also exports [caravan:plugins/parser@1.0.0]",
        ),
        // Past the per-call caps of the instance pool, found when the component compiles.
        (
            "pricing",
            instances_of(3, "(memory 1)"),
            "3 Wasm linear memories",
        ),
        ("pricing", instances_of(17, ""), "17 core module instances"),
    ];
    for (slot, bytes, reason) in cases {
        let res = upload(&app, slot, "bad", bytes).await;
        res.expect(StatusCode::UNPROCESSABLE_ENTITY);
        let msg = res.body["detail"][0]["msg"].as_str().unwrap_or_default();
        assert!(msg.contains(reason), "{slot}: expected `{reason}` in {msg}");
    }
    // A component of the right world whose answers fail the slot's fixtures; its compiled
    // code is not kept.
    let compiled_before = app.state.plugins.runtime().compiled_count();
    let res = upload(
        &app,
        "pricing",
        "noop",
        std::fs::read(env!("NOOP_PLUGIN")).unwrap(),
    )
    .await;
    res.expect(StatusCode::UNPROCESSABLE_ENTITY);
    let msg = res.body["detail"][0]["msg"].as_str().unwrap_or_default();
    assert!(
        msg.contains("conformance fixture") && msg.contains("plugin_error"),
        "{msg}"
    );
    assert_eq!(
        app.state.plugins.runtime().compiled_count(),
        compiled_before
    );
    let mut oversized = b"\0asm\x0d\0\x01\0".to_vec();
    oversized.resize(10 * 1024 * 1024 + 1, 0);
    // Just over the cap, and far over the service's request body limit: the same 422.
    let mut huge = oversized.clone();
    huge.resize(64 * 1024 * 1024, 0);
    for (label, bytes) in [("big", oversized), ("huge", huge)] {
        let res = upload(&app, "pricing", label, bytes).await;
        res.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.body["detail"][0]["msg"]
                .as_str()
                .unwrap()
                .contains("10 MB"),
            "{label}: {}",
            res.body
        );
    }

    let res = app
        .post(&format!("{BASE}/pricing"))
        .admin()
        .raw("text/plain", hostile_bytes())
        .send()
        .await;
    res.expect(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    upload(&app, "discounts", "x", hostile_bytes())
        .await
        .expect(StatusCode::NOT_FOUND);
    let res = app
        .post("/api/v1/admin/tenants/ghost/plugins/pricing")
        .admin()
        .raw("application/wasm", hostile_bytes())
        .send()
        .await;
    res.expect(StatusCode::NOT_FOUND);
    // Nothing was stored by any of these.
    let list = app.get(BASE).admin().send().await;
    let pricing = &list.body["data"]["slots"][2];
    assert_eq!(pricing["slot"], "pricing");
    assert_eq!(pricing["versions"], json!([]));
}

#[tokio::test]
async fn a_version_is_uploaded_activated_dry_run_and_rolled_back() {
    for backend in backends() {
        let app = app_with_tenant(backend).await;
        let res = upload(&app, "pricing", "v1", hostile_bytes()).await;
        res.expect(StatusCode::CREATED);
        let v1 = res.body["data"]["id"].as_str().unwrap().to_owned();
        assert_eq!(res.body["data"]["label"], "v1");
        assert_eq!(res.body["data"]["sha256"].as_str().unwrap().len(), 64);
        assert_eq!(res.body["data"]["validation"]["fixtures"][0]["ok"], true);
        upload(&app, "pricing", "v1", hostile_bytes())
            .await
            .expect(StatusCode::CONFLICT);

        let before = dry_run(&app, "pricing", json!({})).await;
        assert_eq!(before["version"], "default");
        assert_eq!(before["ok"], true, "{before}");

        let res = app
            .post(&format!("{BASE}/pricing/activate"))
            .admin()
            .json(&json!({"version_id": v1}))
            .send()
            .await;
        res.expect(StatusCode::OK);
        let after = dry_run(&app, "pricing", json!({})).await;
        assert_eq!(after["version"], "v1");
        assert!(after["fuel_used"].as_u64().unwrap() > 0);
        assert!(after["peak_memory_bytes"].as_u64().unwrap() > 0);
        // The hostile plugin prices everything at zero; the default does not.
        assert_eq!(after["output"]["options"][0]["total"]["amount"], 0);

        let list = app.get(BASE).admin().send().await;
        let pricing = &list.body["data"]["slots"][2];
        assert_eq!(pricing["active"]["label"], "v1");
        assert_eq!(pricing["versions"][0]["active"], true);
        assert!(pricing["stats"].as_array().is_some());

        // A version cannot serve another slot.
        let res = app
            .post(&format!("{BASE}/email-parser/activate"))
            .admin()
            .json(&json!({"version_id": v1}))
            .send()
            .await;
        res.expect(StatusCode::UNPROCESSABLE_ENTITY);
        let res = app
            .post(&format!("{BASE}/pricing/activate"))
            .admin()
            .json(&json!({"version_id": "00000000-0000-0000-0000-000000000000"}))
            .send()
            .await;
        res.expect(StatusCode::NOT_FOUND);

        let res = app
            .post(&format!("{BASE}/pricing/rollback"))
            .admin()
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["data"]["active_version_id"], Value::Null);
        assert_eq!(
            dry_run(&app, "pricing", json!({})).await["version"],
            "default"
        );
        // Trying a stored version without activating it.
        let trial = dry_run(&app, "pricing", json!({"version_id": v1})).await;
        assert_eq!(trial["version"], "v1");

        let list = app.get(BASE).admin().send().await;
        let history = list.body["data"]["slots"][2]["history"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0]["action"], "rollback");
        assert_eq!(history[1]["action"], "activate");

        let res = app
            .post(&format!("{BASE}/quote-rules/rollback"))
            .admin()
            .send()
            .await;
        res.expect(StatusCode::CONFLICT);
    }
}

#[tokio::test]
async fn configuration_limits_and_the_failure_policy_apply_to_calls() {
    for backend in backends() {
        let app = app_with_tenant(backend).await;
        let v1 = upload(&app, "pricing", "v1", hostile_bytes()).await.body["data"]["id"].clone();
        app.post(&format!("{BASE}/pricing/activate"))
            .admin()
            .json(&json!({"version_id": v1}))
            .send()
            .await
            .expect(StatusCode::OK);

        let res = app
            .request("PUT".parse().unwrap(), &format!("{BASE}/pricing/config"))
            .admin()
            .json(&json!({"behaviour": "panic"}))
            .send()
            .await;
        res.expect(StatusCode::OK);
        let read = app
            .get(&format!("{BASE}/pricing/config"))
            .admin()
            .send()
            .await;
        assert_eq!(read.body["data"], json!({"behaviour": "panic"}));
        let run = dry_run(&app, "pricing", json!({})).await;
        assert_eq!(run["ok"], false);
        assert_eq!(run["error"]["kind"], "trap");
        // A failed run still says what it cost, like a successful one.
        assert!(run["fuel_used"].as_u64().unwrap() > 0, "{run}");
        assert!(run["wall_us"].is_u64(), "{run}");
        assert!(run["peak_memory_bytes"].as_u64().unwrap() > 0, "{run}");

        for bad in [
            json!({"fuel": 0}),
            json!({"memory_bytes": 1u64 << 40}),
            json!({"deadline_ms": 60000}),
        ] {
            app.request("PUT".parse().unwrap(), &format!("{BASE}/pricing/limits"))
                .admin()
                .json(&bad)
                .send()
                .await
                .expect(StatusCode::UNPROCESSABLE_ENTITY);
        }

        // Fail closed (the default): the tenant's failure reaches the caller.
        let tenant = app.state.tenants.get("agency").await.unwrap();
        let ctx = caravan::plugins::registry::tenant_context(&tenant);
        let request = caravan::plugins::fixtures::pricing_request();
        let failed = app.state.plugins.price("agency", &request, &ctx).await;
        assert!(failed.is_err());

        let res = app
            .request("PUT".parse().unwrap(), &format!("{BASE}/pricing/limits"))
            .admin()
            .json(&json!({"fuel": 5000000, "failure_policy": "fallback_default"}))
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["data"]["limits"]["fuel"], 5_000_000);
        let served = app
            .state
            .plugins
            .price("agency", &request, &ctx)
            .await
            .unwrap();
        assert_eq!(served.version, "default");
        assert_eq!(
            served.fallback_from.unwrap().kind,
            caravan::plugins::PluginErrorKind::Trap
        );

        let list = app.get(BASE).admin().send().await;
        let stats = list.body["data"]["slots"][2]["stats"]
            .as_array()
            .unwrap()
            .clone();
        let outcome = |o: &str| {
            stats
                .iter()
                .filter(|s| s["outcome"] == o)
                .map(|s| s["calls"].as_i64().unwrap())
                .sum::<i64>()
        };
        assert_eq!(outcome("trap"), 2, "{stats:?}");
        assert_eq!(outcome("fallback"), 1, "{stats:?}");

        let metrics = app.get("/metrics").send().await;
        let text = metrics.body.as_str().unwrap();
        assert!(
            text.contains(r#"caravan_plugin_calls_total{outcome="trap",slot="pricing"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"caravan_plugin_calls_total{outcome="fallback",slot="pricing"} 1"#),
            "{text}"
        );
    }
}

#[tokio::test]
async fn an_activation_on_one_host_serves_on_another_within_a_second() {
    let (Some(_), Some(redis)) = (postgres_url(), redis_url()) else {
        return;
    };
    let db = TestDatabase::new(Backend::Postgres).await;
    db.storage().await;
    let host = |redis: Option<String>| {
        let db = &db;
        async move {
            db.state_with(|c| {
                c.admin_token = Some(Secret::new(support::ADMIN_TOKEN));
                c.redis_url = redis.map(Secret::new);
            })
            .await
        }
    };
    let a_state = host(Some(redis.clone())).await;
    let b_state = host(Some(redis.clone())).await;
    let polling_state = host(None).await;
    let a = TestApp {
        router: caravan::app(a_state.clone()),
        state: a_state,
        db: TestDatabase::new(Backend::Sqlite).await,
    };
    let b = TestApp {
        router: caravan::app(b_state.clone()),
        state: b_state,
        db: TestDatabase::new(Backend::Sqlite).await,
    };
    let c = TestApp {
        router: caravan::app(polling_state.clone()),
        state: polling_state,
        db: TestDatabase::new(Backend::Sqlite).await,
    };
    a.create_tenant("agency", json!({})).await;
    let v1 = upload(&a, "pricing", "v1", hostile_bytes()).await.body["data"]["id"].clone();
    for host in [&b, &c] {
        // Compile v1 on each host first, so the timing below measures propagation only.
        assert_eq!(
            dry_run(host, "pricing", json!({"version_id": v1})).await["version"],
            "v1"
        );
        assert_eq!(
            dry_run(host, "pricing", json!({})).await["version"],
            "default"
        );
    }
    // Let the subscriber connect before the event is published.
    tokio::time::sleep(Duration::from_millis(300)).await;

    a.post(&format!("{BASE}/pricing/activate"))
        .admin()
        .json(&json!({"version_id": v1}))
        .send()
        .await
        .expect(StatusCode::OK);
    let activated = Instant::now();
    // One second is the promise; the margins cover dry runs of a debug build on a busy machine.
    for (name, host, within) in [("redis", &b, 500), ("polling", &c, 1_500)] {
        loop {
            if dry_run(host, "pricing", json!({})).await["version"] == "v1" {
                break;
            }
            assert!(
                activated.elapsed() < Duration::from_millis(within),
                "{name} host did not converge within {within} ms"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!(
            "{name} host serves v1 {:?} after activation",
            activated.elapsed()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_flight_finishes_on_the_version_it_started_with() {
    let app = app_with_tenant(Backend::Sqlite).await;
    let v1 = upload(&app, "pricing", "v1", hostile_bytes()).await.body["data"]["id"].clone();
    app.post(&format!("{BASE}/pricing/activate"))
        .admin()
        .json(&json!({"version_id": v1}))
        .send()
        .await
        .expect(StatusCode::OK);
    app.request("PUT".parse().unwrap(), &format!("{BASE}/pricing/config"))
        .admin()
        .json(&json!({"behaviour": "spin", "spin_ms": 300}))
        .send()
        .await
        .expect(StatusCode::OK);
    app.request("PUT".parse().unwrap(), &format!("{BASE}/pricing/limits"))
        .admin()
        .json(&json!({"fuel": 200_000_000, "deadline_ms": 2000}))
        .send()
        .await
        .expect(StatusCode::OK);

    let state = app.state.clone();
    let slow = tokio::spawn(async move {
        let tenant = state.tenants.get("agency").await.unwrap();
        let ctx = caravan::plugins::registry::tenant_context(&tenant);
        let request = caravan::plugins::fixtures::pricing_request();
        state.plugins.price("agency", &request, &ctx).await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let res = app
        .post(&format!("{BASE}/pricing/activate"))
        .admin()
        .json(&json!({"version_id": null}))
        .send()
        .await;
    res.expect(StatusCode::OK);
    assert!(
        !slow.is_finished(),
        "the slow call is still running when the swap happens"
    );
    let finished = slow.await.unwrap().unwrap();
    assert_eq!(
        finished.version, "v1",
        "the in-flight call kept its version"
    );
    assert_eq!(
        dry_run(&app, "pricing", json!({})).await["version"],
        "default"
    );
}

#[tokio::test]
async fn deleting_a_tenant_removes_its_plugin_binaries_unless_another_tenant_uses_them() {
    for backend in backends() {
        let app = app_with_tenant(backend).await;
        app.create_tenant("other", json!({})).await;
        let uploaded = upload(&app, "pricing", "v1", hostile_bytes()).await;
        uploaded.expect(StatusCode::CREATED);
        let sha = uploaded.body["data"]["sha256"].as_str().unwrap().to_owned();
        let path = caravan::plugins::registry::blob_path(&sha);
        app.post("/api/v1/admin/tenants/other/plugins/pricing")
            .admin()
            .raw("application/wasm", hostile_bytes())
            .send()
            .await
            .expect(StatusCode::CREATED);

        app.delete("/api/v1/admin/tenants/agency?confirm=true")
            .admin()
            .send()
            .await
            .expect(StatusCode::OK);
        assert!(
            app.state.blobs.exists(&path).await.unwrap(),
            "still used by the other tenant"
        );
        app.delete("/api/v1/admin/tenants/other?confirm=true")
            .admin()
            .send()
            .await
            .expect(StatusCode::OK);
        assert!(
            !app.state.blobs.exists(&path).await.unwrap(),
            "{backend:?}: no tenant uses it now"
        );
        for tenant in ["agency", "other"] {
            for (table, n) in app
                .state
                .storage
                .schema
                .count_tenant_rows(tenant)
                .await
                .unwrap()
            {
                assert_eq!(n, 0, "{table} keeps rows of {tenant}");
            }
        }
    }
}

#[tokio::test]
async fn tenant_admins_manage_their_own_plugins_under_api_v1_plugins() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = app.tenant_with_user("agency", "admin").await;
        app.create_user("agency", "con@agency.test", "consultant")
            .await;
        let consultant = app.login("con@agency.test", support::PASSWORD).await;

        let res = app
            .post("/api/v1/plugins/pricing?label=mine")
            .user(&admin)
            .raw("application/wasm", axum::body::Body::from(hostile_bytes()))
            .send()
            .await;
        res.expect(StatusCode::CREATED);
        let id = res.body["data"]["id"].as_str().unwrap().to_owned();
        app.post("/api/v1/plugins/pricing/activate")
            .user(&admin)
            .json(&json!({"version_id": id}))
            .send()
            .await
            .expect(StatusCode::OK);
        let res = app
            .post("/api/v1/plugins/pricing/dry-run")
            .user(&admin)
            .json(&json!({}))
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["data"]["version"], "mine");

        // The registry records who did it, and the platform admin sees the same state.
        let list = app.get(BASE).admin().send().await;
        let pricing = &list.body["data"]["slots"][2];
        assert_eq!(pricing["active"]["label"], "mine");
        let actor = format!("user:{}", admin.user_id);
        assert_eq!(pricing["versions"][0]["uploaded_by"], actor.as_str());
        assert_eq!(pricing["history"][0]["actor"], actor.as_str());

        app.put("/api/v1/plugins/pricing/limits")
            .user(&admin)
            .json(&json!({"fuel": 5_000_000, "failure_policy": "fail_closed"}))
            .send()
            .await
            .expect(StatusCode::OK);
        app.post("/api/v1/plugins/pricing/rollback")
            .user(&admin)
            .send()
            .await
            .expect(StatusCode::OK);
        let res = app.get("/api/v1/plugins").user(&admin).send().await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["data"]["tenant_id"], "agency");
        assert_eq!(res.body["data"]["slots"][2]["active"]["label"], "default");
        assert_eq!(res.body["data"]["slots"][2]["limits"]["fuel"], 5_000_000);

        // Consultants may not manage plugins.
        let res = app.get("/api/v1/plugins").user(&consultant).send().await;
        res.expect(StatusCode::FORBIDDEN);
        assert_eq!(res.detail(), "Admin access required");
    }
}

#[tokio::test]
async fn an_active_version_that_cannot_be_loaded_fails_as_a_plugin_failure_or_falls_back() {
    use caravan::plugins::registry::{InvokeError, blob_path, tenant_context};
    use caravan::plugins::{PluginErrorKind, fixtures};
    for backend in backends() {
        let app = app_with_tenant(backend).await;
        let uploaded = upload(&app, "pricing", "v1", hostile_bytes()).await;
        uploaded.expect(StatusCode::CREATED);
        let sha = uploaded.body["data"]["sha256"].as_str().unwrap().to_owned();
        app.post(&format!("{BASE}/pricing/activate"))
            .admin()
            .json(&json!({"version_id": uploaded.body["data"]["id"]}))
            .send()
            .await
            .expect(StatusCode::OK);
        // The stored binary is damaged; a host that has not compiled it yet finds out.
        app.state
            .blobs
            .put(
                &blob_path(&sha),
                Bytes::from_static(b"\0asm\x0d\0\x01\0damaged"),
            )
            .await
            .unwrap();
        let state = app
            .db
            .state_with(|c| c.admin_token = Some(Secret::new(support::ADMIN_TOKEN)))
            .await;
        let other = TestApp {
            router: caravan::app(state.clone()),
            state,
            db: TestDatabase::new(Backend::Sqlite).await,
        };
        let tenant = other.state.tenants.get("agency").await.unwrap();
        let (ctx, request) = (tenant_context(&tenant), fixtures::pricing_request());

        // Failing closed, it is the tenant's plugin failing, not the service.
        match other.state.plugins.price("agency", &request, &ctx).await {
            Err(InvokeError::Plugin(e)) => {
                assert_eq!(e.kind, PluginErrorKind::Incompatible, "{e}");
                assert!(e.message.contains("`v1` cannot be loaded"), "{e}");
            }
            unexpected => panic!("{backend:?}: {unexpected:?}"),
        }
        let res = other
            .post(&format!("{BASE}/pricing/dry-run"))
            .admin()
            .json(&json!({}))
            .send()
            .await;
        res.expect(StatusCode::CONFLICT);
        assert_eq!(res.body["code"], "plugin_unloadable", "{}", res.body);
        assert_eq!(
            dry_run(&other, "pricing", json!({"version_id": "default"})).await["ok"],
            true
        );

        // With the fallback policy the built-in serves instead.
        other
            .request("PUT".parse().unwrap(), &format!("{BASE}/pricing/limits"))
            .admin()
            .json(&json!({"failure_policy": "fallback_default"}))
            .send()
            .await
            .expect(StatusCode::OK);
        let served = other
            .state
            .plugins
            .price("agency", &request, &ctx)
            .await
            .unwrap();
        assert_eq!(served.version, "default");
        assert_eq!(
            served.fallback_from.map(|e| e.kind),
            Some(PluginErrorKind::Incompatible)
        );
    }
}
