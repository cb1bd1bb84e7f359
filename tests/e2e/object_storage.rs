//! Object storage on Google Cloud Storage, against the loopback fake of `support::fake_gcs`:
//! `Blobs::gcs` on its own (objects, credentials, retries, giving up), then the whole app
//! filing plugin binaries, quote PDFs and logos in the bucket, riding out brief failures,
//! answering 503 during an outage without recording anything, and emptying a deleted
//! tenant's part of the bucket.
//!
//! Object storage does not depend on the database, so the app tests run on SQLite only.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use bytes::Bytes;
use caravan::blobs::Blobs;
use caravan::config::{Config, GcsConfig, ObjectStoreBackend, Secret};
use caravan::metrics::Metrics;
use object_store::path::Path;
use serde_json::json;
use support::fake_gcs::{FakeGcs, Fault};
use support::{Backend, TestApp};

use crate::plugin_sandbox::hostile_bytes;

fn path(name: &str) -> Path {
    Path::parse(name).unwrap()
}

/// A registry of its own for a store used without an app.
fn metrics() -> Arc<Metrics> {
    Arc::new(Metrics::new())
}

/// An app whose object store is the fake, with the fake's settings adjusted by `adjust`.
async fn app_on(fake: &FakeGcs, adjust: impl FnOnce(&mut GcsConfig)) -> TestApp {
    let mut gcs = fake.config();
    adjust(&mut gcs);
    TestApp::with_config(Backend::Sqlite, |c| use_gcs(c, gcs)).await
}

fn use_gcs(config: &mut Config, gcs: GcsConfig) {
    config.object_store.backend = ObjectStoreBackend::Gcs;
    config.object_store.gcs = gcs;
}

async fn upload_plugin(app: &TestApp, tenant: &str, label: &str) -> support::TestResponse {
    app.post(&format!(
        "/api/v1/admin/tenants/{tenant}/plugins/pricing?label={label}"
    ))
    .admin()
    .raw("application/wasm", hostile_bytes())
    .send()
    .await
}

async fn plugin_versions(app: &TestApp, tenant: &str) -> usize {
    app.state
        .storage
        .schema
        .count_tenant_rows(tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|(table, _)| table == "plugin_versions")
        .map_or(0, |(_, n)| n as usize)
}

// ---- Blobs::gcs on its own ----

#[tokio::test]
async fn blobs_on_gcs_put_get_check_list_and_delete_objects() {
    let fake = FakeGcs::start().await;
    let blobs = Blobs::gcs(&fake.config(), &metrics()).unwrap();
    // More objects than one listing page holds, so listing follows continuation tokens.
    let names = [
        "a.pdf",
        "quotes/QT-1.pdf",
        "quotes/QT-2.pdf",
        "logo.png",
        "x y&z.txt",
    ];
    for name in names {
        let p = Blobs::tenant_path("agency", name).unwrap();
        blobs
            .put(&p, Bytes::from(format!("content of {name}")))
            .await
            .unwrap();
    }
    let neighbour = Blobs::tenant_path("agency-two", "logo.png").unwrap();
    blobs
        .put(&neighbour, Bytes::from_static(b"neighbour"))
        .await
        .unwrap();
    let shared = path("plugins/sha256/abc.wasm");
    blobs
        .put(&shared, Bytes::from_static(b"\0asm"))
        .await
        .unwrap();
    assert_eq!(
        fake.object("tenants/agency/x y&z.txt").as_deref(),
        Some(&b"content of x y&z.txt"[..]),
        "the name reached the bucket unchanged"
    );

    let p = Blobs::tenant_path("agency", "quotes/QT-1.pdf").unwrap();
    assert_eq!(
        &blobs.get(&p).await.unwrap()[..],
        b"content of quotes/QT-1.pdf"
    );
    assert!(blobs.exists(&p).await.unwrap());
    let missing = Blobs::tenant_path("agency", "quotes/QT-9.pdf").unwrap();
    assert!(!blobs.exists(&missing).await.unwrap());
    assert!(matches!(
        blobs.get(&missing).await,
        Err(caravan::blobs::BlobError::Store(
            object_store::Error::NotFound { .. }
        ))
    ));

    let mut listed: Vec<String> = blobs
        .list_tenant("agency")
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    listed.sort();
    let mut expected: Vec<String> = names
        .iter()
        .map(|n| format!("tenants/agency/{n}"))
        .collect();
    expected.sort();
    assert_eq!(listed, expected, "only agency's objects, across pages");
    assert!(
        fake.request_log()
            .iter()
            .any(|r| r.contains("continuation-token=")),
        "{:?}",
        fake.request_log()
    );

    blobs.delete(&p).await.unwrap();
    blobs.delete(&p).await.unwrap();
    assert!(!blobs.exists(&p).await.unwrap());
    assert_eq!(
        blobs.delete_tenant("agency").await.unwrap(),
        names.len() - 1
    );
    assert!(fake.names_under("tenants/agency/").is_empty());
    assert_eq!(
        fake.object_names(),
        vec!["plugins/sha256/abc.wasm", "tenants/agency-two/logo.png"]
    );
}

#[tokio::test]
async fn blobs_on_gcs_sign_every_request_with_the_service_account_key() {
    let (fake, key) = FakeGcs::start_with_service_account().await;
    let signed = GcsConfig {
        anonymous: false,
        service_account_key: Some(Secret::new(key.clone())),
        ..fake.config()
    };
    let blobs = Blobs::gcs(&signed, &metrics()).unwrap();
    let p = Blobs::tenant_path("agency", "logo.png").unwrap();
    blobs.put(&p, Bytes::from_static(b"png")).await.unwrap();
    assert_eq!(&blobs.get(&p).await.unwrap()[..], b"png");
    assert_eq!(blobs.list_tenant("agency").await.unwrap(), vec![p.clone()]);

    // The same key read from a file, as GOOGLE_APPLICATION_CREDENTIALS names it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("service-account.json");
    std::fs::write(&file, &key).unwrap();
    let from_file = Blobs::gcs(
        &GcsConfig {
            anonymous: false,
            service_account_path: Some(file),
            ..fake.config()
        },
        &metrics(),
    )
    .unwrap();
    assert!(from_file.exists(&p).await.unwrap());
    from_file.delete(&p).await.unwrap();
    assert!(fake.object_names().is_empty());

    // Without credentials, or with another account's key, the bucket refuses.
    let anonymous = Blobs::gcs(&fake.config(), &metrics()).unwrap();
    let err = anonymous
        .put(&p, Bytes::from_static(b"x"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let (_other, other_key) = FakeGcs::start_with_service_account().await;
    let impostor = Blobs::gcs(
        &GcsConfig {
            service_account_key: Some(Secret::new(other_key)),
            ..signed.clone()
        },
        &metrics(),
    )
    .unwrap();
    assert!(impostor.exists(&p).await.is_err());
    assert!(fake.object_names().is_empty());

    // A key that is not a key stops the store from being built at all.
    let err = Blobs::gcs(
        &GcsConfig {
            service_account_key: Some(Secret::new("{\"private_key\": \"nope\"}")),
            ..signed
        },
        &metrics(),
    )
    .unwrap_err();
    assert!(matches!(err, caravan::blobs::BlobError::Store(_)), "{err}");
}

#[tokio::test]
async fn blobs_on_gcs_retry_server_errors_and_throttling() {
    let fake = FakeGcs::start().await;
    let blobs = Blobs::gcs(&fake.config(), &metrics()).unwrap();
    let p = Blobs::tenant_path("agency", "quotes/QT-1.pdf").unwrap();

    fake.fail_next(2);
    blobs.put(&p, Bytes::from_static(b"%PDF")).await.unwrap();
    assert_eq!(fake.injected_failures(), 2);
    assert_eq!(fake.requests(), 3, "two 503s, then the upload");
    assert_eq!(fake.object(p.as_ref()).as_deref(), Some(&b"%PDF"[..]));

    fake.throttle_next(2, 1);
    assert_eq!(&blobs.get(&p).await.unwrap()[..], b"%PDF");
    assert_eq!(fake.injected_failures(), 4);
    assert_eq!(fake.requests(), 6);

    fake.fail_next(2);
    assert_eq!(blobs.list_tenant("agency").await.unwrap(), vec![p.clone()]);
    fake.fail_next(2);
    blobs.delete(&p).await.unwrap();
    assert_eq!(fake.injected_failures(), 8);
    assert!(fake.object_names().is_empty());
}

#[tokio::test]
async fn blobs_on_gcs_give_up_within_the_retry_timeout_and_the_request_timeout() {
    let fake = FakeGcs::start().await;
    let config = GcsConfig {
        max_retries: 1_000,
        retry_timeout_ms: 400,
        request_timeout_ms: 300,
        ..fake.config()
    };
    let blobs = Blobs::gcs(&config, &metrics()).unwrap();
    let p = Blobs::tenant_path("agency", "logo.png").unwrap();

    fake.fail_always(Fault::Unavailable);
    let started = Instant::now();
    let err = blobs.put(&p, Bytes::from_static(b"png")).await.unwrap_err();
    let took = started.elapsed();
    assert!(err.is_unavailable(), "{err}");
    // The last retry may start just before the deadline and wait one backoff (≤ 50 ms).
    assert!(
        took < Duration::from_millis(1_500),
        "gave up after {took:?}"
    );
    let attempts = fake.requests();
    assert!(attempts >= 3, "retried: {attempts} attempts");

    // A bucket that stops answering: each attempt is cut off at the request timeout.
    fake.heal();
    fake.set_latency(Duration::from_secs(30));
    let started = Instant::now();
    let err = blobs.exists(&p).await.unwrap_err();
    let took = started.elapsed();
    assert!(err.is_unavailable(), "{err}");
    assert!(took < Duration::from_secs(3), "gave up after {took:?}");

    fake.heal();
    blobs.put(&p, Bytes::from_static(b"png")).await.unwrap();
    assert!(blobs.exists(&p).await.unwrap());
}

#[tokio::test]
async fn the_fake_serves_ranges_delimiters_and_multipart_uploads_as_object_store_expects() {
    use object_store::gcp::GoogleCloudStorageBuilder;
    use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, WriteMultipart};

    let fake = FakeGcs::start().await;
    let blobs = Blobs::gcs(&fake.config(), &metrics()).unwrap();
    blobs
        .put(&path("docs/a.txt"), Bytes::from_static(b"0123456789"))
        .await
        .unwrap();
    blobs
        .put(&path("docs/sub/b.txt"), Bytes::from_static(b"b"))
        .await
        .unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(
        GoogleCloudStorageBuilder::new()
            .with_bucket_name(support::fake_gcs::BUCKET)
            .with_base_url(&fake.base_url())
            .with_client_options(ClientOptions::new().with_allow_http(true))
            .with_bearer_token("unchecked")
            .build()
            .unwrap(),
    );

    let range = store.get_range(&path("docs/a.txt"), 2..5).await.unwrap();
    assert_eq!(&range[..], b"234");
    let head = store.head(&path("docs/a.txt")).await.unwrap();
    assert_eq!(head.size, 10);

    let listed = store
        .list_with_delimiter(Some(&path("docs")))
        .await
        .unwrap();
    assert_eq!(
        listed
            .objects
            .iter()
            .map(|o| o.location.to_string())
            .collect::<Vec<_>>(),
        vec!["docs/a.txt"]
    );
    assert_eq!(listed.common_prefixes, vec![path("docs/sub")]);

    let upload = store.put_multipart(&path("big.bin")).await.unwrap();
    let mut writer = WriteMultipart::new_with_chunk_size(upload, 5 * 1024 * 1024);
    let chunk = vec![7u8; 1024 * 1024];
    for _ in 0..6 {
        writer.write(&chunk);
    }
    writer.finish().await.unwrap();
    assert_eq!(
        fake.object("big.bin").map(|b| b.len()),
        Some(6 * 1024 * 1024)
    );
    assert!(
        fake.request_log()
            .iter()
            .any(|r| r.starts_with("POST caravan-test/big.bin?uploads")),
        "{:?}",
        fake.request_log()
    );
    assert_eq!(fake.open_uploads(), 0);
}

// ---- The app on GCS ----

#[tokio::test]
async fn a_plugin_binary_is_filed_in_gcs_despite_two_503s_and_loaded_from_there() {
    let fake = FakeGcs::start().await;
    let app = app_on(&fake, |_| {}).await;
    app.create_tenant("agency", json!({"destinations": ["Zanzibar"]}))
        .await;

    fake.fail_next(2);
    let res = upload_plugin(&app, "agency", "v1").await;
    res.expect(StatusCode::CREATED);
    assert_eq!(fake.injected_failures(), 2, "both failures were retried");
    let sha = res.body["data"]["sha256"].as_str().unwrap();
    let key = format!("plugins/sha256/{sha}.wasm");
    assert_eq!(
        fake.object(&key).as_deref(),
        Some(&hostile_bytes()[..]),
        "the binary as uploaded"
    );
    let puts = fake
        .request_log()
        .iter()
        .filter(|r| **r == format!("PUT caravan-test/{key}"))
        .count();
    assert_eq!(puts, 3, "{:?}", fake.request_log());

    // Another host has never seen the binary: it loads it from the bucket to run it.
    let host = app.second_host(|c| use_gcs(c, fake.config())).await;
    let version_id = res.body["data"]["id"].as_str().unwrap().to_owned();
    let before = fake.requests();
    let run = support::call_on(
        &host.router,
        "POST",
        "/api/v1/admin/tenants/agency/plugins/pricing/dry-run",
    )
    .admin()
    .json(&json!({"version_id": version_id}))
    .send()
    .await;
    run.expect(StatusCode::OK);
    assert_eq!(run.body["data"]["version"], "v1", "{}", run.body);
    assert!(
        fake.request_log()[before..].contains(&format!("GET caravan-test/{key}")),
        "{:?}",
        fake.request_log()
    );
}

#[tokio::test]
async fn a_quote_pdf_is_filed_in_gcs_and_served_from_there() {
    let fake = FakeGcs::start().await;
    let app = app_on(&fake, |_| {}).await;
    let login = app.sunbird().await;
    app.import_sample_rates(&login).await;

    fake.fail_next(2);
    let res = app
        .post("/api/v1/quotes/generate")
        .user(&login)
        .json(&json!({"inquiry": inquiry()}))
        .send()
        .await;
    res.expect(StatusCode::OK);
    assert_eq!(fake.injected_failures(), 2);
    let quote_id = res.body["quote_id"].as_str().unwrap().to_owned();
    let key = format!("tenants/sunbird/quotes/{quote_id}.pdf");
    let stored = fake.object(&key).expect("the PDF is in the bucket");
    assert!(stored.starts_with(b"%PDF"));

    let before = fake.requests();
    let pdf = app
        .get(&format!("/api/v1/quotes/{quote_id}/pdf"))
        .user(&login)
        .send()
        .await;
    pdf.expect(StatusCode::OK);
    assert_eq!(pdf.bytes, stored.to_vec(), "the stored PDF, byte for byte");
    assert!(
        fake.request_log()[before..].contains(&format!("GET caravan-test/{key}")),
        "{:?}",
        fake.request_log()
    );
    assert!(support::pdf_text(&pdf.bytes).contains("Priya Naidoo"));
}

fn inquiry() -> serde_json::Value {
    json!({
        "name": "Priya Naidoo",
        "email": "priya.naidoo@example.net",
        "destination": "zanzibar",
        "check_in": "2027-03-12",
        "check_out": "2027-03-19",
        "adults": 2,
    })
}

#[tokio::test]
async fn a_quote_generated_during_an_outage_answers_503_and_leaves_no_quote() {
    let fake = FakeGcs::start().await;
    let app = app_on(&fake, |gcs| gcs.retry_timeout_ms = 300).await;
    let login = app.sunbird().await;
    app.import_sample_rates(&login).await;

    fake.fail_always(Fault::Unavailable);
    let started = Instant::now();
    let res = app
        .post("/api/v1/quotes/generate")
        .user(&login)
        .json(&json!({"inquiry": inquiry()}))
        .send()
        .await;
    let took = started.elapsed();
    res.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        res.detail(),
        "File storage temporarily unavailable. Please try again shortly."
    );
    assert!(took < Duration::from_secs(15), "answered after {took:?}");
    let quotes = app.get("/api/v1/quotes").user(&login).send().await;
    quotes.expect(StatusCode::OK);
    assert_eq!(
        quotes.body["count"], 0,
        "no quote left behind: {}",
        quotes.body
    );
    assert!(
        app.last_email_of("sunbird", "priya.naidoo@example.net", "quote")
            .await
            .is_none(),
        "nothing was emailed"
    );

    // Retried once the bucket is back: one quote, with its PDF filed.
    fake.heal();
    let res = app
        .post("/api/v1/quotes/generate")
        .user(&login)
        .json(&json!({"inquiry": inquiry()}))
        .send()
        .await;
    res.expect(StatusCode::OK);
    let quotes = app.get("/api/v1/quotes").user(&login).send().await;
    assert_eq!(quotes.body["count"], 1, "{}", quotes.body);
    assert_eq!(fake.names_under("tenants/sunbird/quotes/").len(), 1);
}

#[tokio::test]
async fn a_gcs_outage_answers_503_within_the_retry_timeout_and_records_nothing() {
    let fake = FakeGcs::start().await;
    // The circuit breaker, which would open after this test's five failures in a row, is
    // another test's subject.
    let app = app_on(&fake, |gcs| {
        gcs.max_retries = 1_000;
        gcs.retry_timeout_ms = 500;
        gcs.request_timeout_ms = 1_000;
        gcs.breaker_failures = 1_000;
    })
    .await;
    app.create_tenant("agency", json!({"destinations": ["Zanzibar"]}))
        .await;

    fake.fail_always(Fault::Unavailable);
    let started = Instant::now();
    let res = upload_plugin(&app, "agency", "v1").await;
    let took = started.elapsed();
    res.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        res.detail(),
        "File storage temporarily unavailable. Please try again shortly."
    );
    assert!(!res.detail().contains("127.0.0.1"), "no internals");
    assert!(res.header("retry-after").is_some());
    assert!(took < Duration::from_secs(10), "answered after {took:?}");
    assert!(fake.injected_failures() >= 3, "the store retried first");
    assert_eq!(plugin_versions(&app, "agency").await, 0, "no version row");
    assert!(fake.object_names().is_empty());

    // Throttled for good: the same.
    fake.fail_always(Fault::TooManyRequests {
        retry_after_secs: 1,
    });
    let res = app
        .put("/api/v1/admin/tenants/agency/logo")
        .admin()
        .raw("image/png", &b"\x89PNG\r\n\x1a\n-logo"[..])
        .send()
        .await;
    res.expect(StatusCode::SERVICE_UNAVAILABLE);

    // A bucket that stops answering: cut off by the request timeout, not waited out.
    fake.heal();
    fake.set_latency(Duration::from_secs(30));
    let started = Instant::now();
    let res = upload_plugin(&app, "agency", "v1").await;
    let took = started.elapsed();
    res.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert!(took < Duration::from_secs(10), "answered after {took:?}");
    assert_eq!(plugin_versions(&app, "agency").await, 0);

    // Deleting the tenant during an outage keeps it whole, to be retried.
    fake.fail_always(Fault::Unavailable);
    app.delete("/api/v1/admin/tenants/agency?confirm=true")
        .admin()
        .send()
        .await
        .expect(StatusCode::SERVICE_UNAVAILABLE);
    fake.heal();
    app.get("/api/v1/admin/tenants/agency")
        .admin()
        .send()
        .await
        .expect(StatusCode::OK);

    // Once the bucket is back, the same upload goes through.
    upload_plugin(&app, "agency", "v1")
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(plugin_versions(&app, "agency").await, 1);
}

#[tokio::test]
async fn deleting_a_tenant_removes_its_objects_from_the_bucket() {
    let (fake, key) = FakeGcs::start_with_service_account().await;
    let app = app_on(&fake, |gcs| {
        gcs.anonymous = false;
        gcs.service_account_key = Some(Secret::new(key));
    })
    .await;
    for tenant in ["doomed", "neighbour"] {
        app.create_tenant(tenant, json!({"destinations": ["Zanzibar"]}))
            .await;
        app.put(&format!("/api/v1/admin/tenants/{tenant}/logo"))
            .admin()
            .raw("image/png", &b"\x89PNG\r\n\x1a\n-logo"[..])
            .send()
            .await
            .expect(StatusCode::OK);
    }
    for n in 0..4 {
        let p = Blobs::tenant_path("doomed", &format!("quotes/QT-{n}.pdf")).unwrap();
        app.state
            .blobs
            .put(&p, Bytes::from_static(b"%PDF"))
            .await
            .unwrap();
    }
    let res = upload_plugin(&app, "doomed", "v1").await;
    res.expect(StatusCode::CREATED);
    let binary = format!(
        "plugins/sha256/{}.wasm",
        res.body["data"]["sha256"].as_str().unwrap()
    );
    assert_eq!(fake.names_under("tenants/doomed/").len(), 5);
    assert!(fake.object(&binary).is_some());

    app.delete("/api/v1/admin/tenants/doomed?confirm=true")
        .admin()
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(fake.names_under("tenants/doomed/").is_empty());
    assert!(
        fake.object(&binary).is_none(),
        "no other tenant uses the binary"
    );
    assert_eq!(
        fake.object_names(),
        vec!["tenants/neighbour/branding/logo"],
        "the neighbour keeps its logo"
    );
}

// ---- The bucket's circuit breaker ----

/// The value of `caravan_upstream_circuit_state{upstream="gcs"}` in `/metrics`.
async fn gcs_gauge(app: &TestApp) -> Option<i64> {
    let res = app.get("/metrics").send().await;
    let text = res.body.as_str().unwrap_or_default().to_owned();
    text.lines()
        .find_map(|line| line.strip_prefix("caravan_upstream_circuit_state{upstream=\"gcs\"} "))
        .map(|value| value.trim().parse().unwrap())
}

#[tokio::test]
async fn a_gcs_outage_opens_the_circuit_which_fails_fast_and_closes_once_the_bucket_is_back() {
    let fake = FakeGcs::start().await;
    // Each failing operation spends at least the 1.5 s retry timeout; two in a row open the
    // circuit for 1.5–2.25 s.
    let app = app_on(&fake, |gcs| {
        gcs.max_retries = 1_000;
        gcs.retry_timeout_ms = 1_500;
        gcs.request_timeout_ms = 1_000;
        gcs.breaker_failures = 2;
        gcs.breaker_open_min_ms = 1_500;
        gcs.breaker_open_max_ms = 3_000;
    })
    .await;
    assert_eq!(gcs_gauge(&app).await, Some(0), "exported from start-up");
    let ready = app.get("/health/ready").send().await;
    assert_eq!(
        ready.body["checks"]["object_store"],
        json!({"backend": "gcs", "circuit": "closed", "status": "up"})
    );
    app.create_tenant("agency", json!({"destinations": ["Zanzibar"]}))
        .await;

    fake.fail_always(Fault::Unavailable);
    for _ in 0..2 {
        let started = Instant::now();
        upload_plugin(&app, "agency", "v1")
            .await
            .expect(StatusCode::SERVICE_UNAVAILABLE);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(1_400),
            "the retry path: {took:?}"
        );
    }
    assert_eq!(gcs_gauge(&app).await, Some(2));

    // Open: the same upload answers 503 at once, without a request to the bucket.
    let before = fake.requests();
    let started = Instant::now();
    let res = upload_plugin(&app, "agency", "v1").await;
    let took = started.elapsed();
    res.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        res.detail(),
        "File storage temporarily unavailable. Please try again shortly."
    );
    assert!(res.header("retry-after").is_some());
    assert!(took < Duration::from_secs(1), "failed fast: {took:?}");
    assert_eq!(fake.requests(), before, "nothing reached the bucket");
    let ready = app.get("/health/ready").send().await;
    ready.expect(StatusCode::OK);
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["degraded"], json!(["object_store"]));
    assert_eq!(
        ready.body["checks"]["object_store"],
        json!({"backend": "gcs", "circuit": "open", "status": "degraded"})
    );
    assert_eq!(plugin_versions(&app, "agency").await, 0);

    // The bucket is back: once the open period is over, a trial upload goes through and
    // closes the circuit.
    fake.heal();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let res = upload_plugin(&app, "agency", "v1").await;
        if res.status == StatusCode::CREATED {
            break;
        }
        res.expect(StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "the circuit never closed");
    }
    assert_eq!(gcs_gauge(&app).await, Some(0));
    let ready = app.get("/health/ready").send().await;
    assert_eq!(ready.body["checks"]["object_store"]["circuit"], "closed");
    assert_eq!(ready.body["degraded"], json!([]));
    assert_eq!(plugin_versions(&app, "agency").await, 1);
    app.put("/api/v1/admin/tenants/agency/logo")
        .admin()
        .raw("image/png", &b"\x89PNG\r\n\x1a\n-logo"[..])
        .send()
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn missing_objects_and_refused_credentials_do_not_open_the_circuit() {
    let (fake, _key) = FakeGcs::start_with_service_account().await;
    let config = GcsConfig {
        breaker_failures: 2,
        ..fake.config()
    };
    let metrics = metrics();
    // Anonymous requests to a bucket that wants a signature: every write is refused (401).
    let blobs = Blobs::gcs(&config, &metrics).unwrap();
    let p = Blobs::tenant_path("agency", "logo.png").unwrap();
    for _ in 0..3 {
        let err = blobs.put(&p, Bytes::from_static(b"png")).await.unwrap_err();
        assert!(err.to_string().contains("401"), "{err}");
    }
    assert_eq!(
        blobs.circuit_state(),
        Some(caravan::breaker::CircuitState::Closed)
    );

    let fake = FakeGcs::start().await;
    let blobs = Blobs::gcs(
        &GcsConfig {
            breaker_failures: 2,
            ..fake.config()
        },
        &metrics,
    )
    .unwrap();
    for n in 0..3 {
        let missing = Blobs::tenant_path("agency", &format!("quotes/QT-{n}.pdf")).unwrap();
        assert!(!blobs.exists(&missing).await.unwrap());
        assert!(blobs.get(&missing).await.is_err());
        blobs.delete(&missing).await.unwrap();
    }
    assert_eq!(
        blobs.circuit_state(),
        Some(caravan::breaker::CircuitState::Closed)
    );
}
