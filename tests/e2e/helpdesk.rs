//! The helpdesk with a model: answers synthesised through the OpenAI code path (against the
//! local fake), and what happens when the model fails, hangs or recovers: fallback answers,
//! the breaker opening and closing, documents waiting for embeddings, and rebuilds that
//! move a tenant into the current embedding space.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use caravan::config::Secret;
use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, Fault};
use support::{Backend, Login, TestApp, backends};

const POLICY: &str = "# Booking conditions\n\n## Deposits\n\nA non-refundable deposit of 30% of \
the package price secures every booking. The balance is due 60 days before departure.\n\n\
## Luggage\n\nLight aircraft transfers to the Kruger lodges allow 20 kg per guest in soft bags.\n";

/// An app whose model is `fake`, with short waits: 3 attempts from 20 ms, a breaker that
/// opens after 3 failures for 300–600 ms, 2 s deadlines.
async fn app_on(fake: &FakeOpenAi, backend: Backend) -> TestApp {
    let base_url = fake.base_url();
    TestApp::with_config(backend, move |c| {
        c.openai_api_key = Some(Secret::new("test"));
        c.ai.base_url = base_url;
        c.ai.max_attempts = 3;
        c.ai.initial_backoff_ms = 20;
        c.ai.max_backoff_ms = 1_000;
        c.ai.breaker_failures = 3;
        c.ai.breaker_open_min_ms = 300;
        c.ai.breaker_open_max_ms = 600;
        c.ai.chat_timeout_ms = 2_000;
        c.ai.embed_timeout_ms = 2_000;
        c.knowledge.initial_backoff_ms = 50;
        c.knowledge.max_backoff_ms = 200;
    })
    .await
}

async fn upload_and_index(app: &TestApp, login: &Login) -> String {
    let res = app
        .upload_document(login, "booking-conditions.md", POLICY.as_bytes(), &[])
        .await;
    res.expect(StatusCode::OK);
    app.drain_knowledge().await;
    res.body["data"]["document_id"].as_str().unwrap().to_owned()
}

async fn ask(app: &TestApp, login: &Login, question: &str) -> Value {
    let res = app
        .post("/api/v1/helpdesk/ask")
        .user(login)
        .json(&json!({ "question": question }))
        .send()
        .await;
    res.expect(StatusCode::OK);
    res.body
}

async fn circuit_gauge(app: &TestApp) -> String {
    let text = app.get("/metrics").send().await.body;
    let text = text.as_str().unwrap().to_owned();
    text.lines()
        .find(|l| l.starts_with("caravan_upstream_circuit_state{upstream=\"openai\"}"))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn with_a_model_answers_are_synthesised_from_the_sources_in_the_tenants_persona() {
    for backend in backends() {
        let fake = FakeOpenAi::start().await;
        let app = app_on(&fake, backend).await;
        let login = app.sunbird().await;
        app.patch("/api/v1/admin/tenants/sunbird")
            .admin()
            .json(&json!({"helpdesk": {
                "assistant_name": "Sunny",
                "persona": "a senior safari consultant who answers in two sentences",
                "instructions": "Quote prices in ZAR."
            }}))
            .send()
            .await
            .expect(StatusCode::OK);
        upload_and_index(&app, &login).await;
        assert!(
            fake.embedding_requests() >= 1,
            "chunks were embedded by the model"
        );
        let status = app
            .get("/api/v1/knowledge/status")
            .user(&login)
            .send()
            .await;
        assert_eq!(
            status.body["data"]["index"]["embedding_space"],
            "openai:text-embedding-3-small:1536"
        );
        let b = ask(&app, &login, "What deposit secures a booking?").await;
        assert_eq!(b["method"], "private_kb_synthesis", "{b}");
        assert_eq!(b["degraded"], false);
        assert!(b.get("_service_status").is_none(), "{b}");
        // The fake echoes the prompt: the sources are numbered, then the question.
        let answer = b["answer"].as_str().unwrap();
        assert!(answer.starts_with("echo: Sources:"), "{answer}");
        assert!(
            answer.contains("[1] booking conditions (booking-conditions.md)"),
            "{answer}"
        );
        assert!(answer.contains("deposit of 30%"), "{answer}");
        assert!(
            answer.ends_with("Question: What deposit secures a booking?"),
            "{answer}"
        );
        assert_eq!(b["sources"][0]["filename"], "booking-conditions.md");
        let request = fake.last_body().unwrap();
        let system = request["messages"][0]["content"].as_str().unwrap();
        assert!(system.contains("You are Sunny for Sunbird"), "{system}");
        assert!(system.contains("senior safari consultant"), "{system}");
        assert!(system.contains("Quote prices in ZAR."), "{system}");
    }
}

#[tokio::test]
async fn when_the_model_fails_the_breaker_opens_ask_falls_back_fast_and_recovers() {
    let fake = FakeOpenAi::start().await;
    let app = app_on(&fake, Backend::Sqlite).await;
    let login = app.sunbird().await;
    upload_and_index(&app, &login).await;
    fake.fail_always(Fault::ServerError);

    // The first question spends the retries and opens the circuit; it still gets an answer.
    let b = ask(&app, &login, "What deposit secures a booking?").await;
    assert_eq!(b["success"], true);
    assert_eq!(b["method"], "fallback", "{b}");
    assert_eq!(b["degraded"], true);
    assert!(
        b["answer"].as_str().unwrap().contains("deposit of 30%"),
        "{b}"
    );
    assert!(
        circuit_gauge(&app).await.ends_with(" 2"),
        "{}",
        circuit_gauge(&app).await
    );

    // While it is open, nothing is sent and the answer comes at once.
    let before = fake.requests();
    let b = ask(&app, &login, "How much luggage on light aircraft?").await;
    assert_eq!(b["method"], "fallback");
    assert!(
        b["answer"].as_str().unwrap().contains("20 kg per guest"),
        "{b}"
    );
    let total = b["timing"]["total_ms"].as_f64().unwrap();
    assert!(
        total < 100.0,
        "answered in {total} ms with the circuit open"
    );
    let message = b["_service_status"]["message"].as_str().unwrap();
    assert!(message.contains("circuit breaker is open"), "{message}");
    assert_eq!(fake.requests(), before, "an open circuit sends nothing");

    // The model comes back: after the open period a trial request closes the circuit.
    fake.heal();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let b = ask(&app, &login, "What deposit secures a booking?").await;
        if b["method"] == "private_kb_synthesis" {
            break;
        }
        assert!(Instant::now() < deadline, "never recovered: {b}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The answer whose synthesis closed the circuit may have searched while it was still open
    // (the open period can end between the search and the synthesis); the next one has both.
    let b = ask(&app, &login, "What deposit secures a booking?").await;
    assert_eq!(b["method"], "private_kb_synthesis", "{b}");
    assert_eq!(b["degraded"], false, "{b}");
    assert!(circuit_gauge(&app).await.ends_with(" 0"));
}

#[tokio::test]
async fn a_hanging_model_never_holds_an_answer_past_its_deadline() {
    let fake = FakeOpenAi::start().await;
    let app = app_on(&fake, Backend::Sqlite).await;
    let login = app.sunbird().await;
    upload_and_index(&app, &login).await;
    fake.fail_always(Fault::Hang);
    let started = Instant::now();
    let b = ask(&app, &login, "What deposit secures a booking?").await;
    let elapsed = started.elapsed();
    assert_eq!(b["method"], "fallback", "{b}");
    assert!(
        b["answer"].as_str().unwrap().contains("deposit of 30%"),
        "{b}"
    );
    // Two calls (the query's embedding, the chat), each bounded by its 2 s deadline.
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
    assert!(
        b["_service_status"]["message"]
            .as_str()
            .unwrap()
            .contains("deadline"),
        "{b}"
    );
}

#[tokio::test]
async fn documents_wait_for_embeddings_during_an_outage_and_are_indexed_after_it() {
    for backend in backends() {
        let fake = FakeOpenAi::start().await;
        let app = app_on(&fake, backend).await;
        let login = app.sunbird().await;
        fake.fail_always(Fault::ServerError);
        let res = app
            .upload_document(&login, "booking-conditions.md", POLICY.as_bytes(), &[])
            .await;
        res.expect(StatusCode::OK);
        let id = res.body["data"]["document_id"].as_str().unwrap().to_owned();
        app.drain_knowledge().await;
        let doc = app
            .get(&format!("/api/v1/knowledge/documents/{id}"))
            .user(&login)
            .send()
            .await;
        assert_eq!(doc.body["data"]["status"], "pending", "{}", doc.body);
        let error = doc.body["data"]["error_message"].as_str().unwrap();
        assert!(error.contains("will be retried"), "{error}");
        fake.heal();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            app.drain_knowledge().await;
            let doc = app
                .get(&format!("/api/v1/knowledge/documents/{id}"))
                .user(&login)
                .send()
                .await;
            if doc.body["data"]["status"] == "indexed" {
                assert!(doc.body["data"]["error_message"].is_null());
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{backend:?} never indexed: {}",
                doc.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test]
async fn a_rebuild_moves_the_tenant_into_the_current_embedding_space() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.sunbird().await;
        upload_and_index(&app, &login).await;
        let status = app
            .get("/api/v1/knowledge/status")
            .user(&login)
            .send()
            .await;
        assert_eq!(
            status.body["data"]["index"]["embedding_space"],
            "local:hash-ngram-v1:384"
        );

        // A host configured with a key rebuilds: every chunk is embedded by the model.
        let fake = FakeOpenAi::start().await;
        let base_url = fake.base_url();
        let keyed = app
            .second_host(move |c| {
                c.openai_api_key = Some(Secret::new("test"));
                c.ai.base_url = base_url;
            })
            .await;
        let res = keyed
            .post("/api/v1/knowledge/rebuild")
            .user(&login)
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["documents_indexed"], 1, "{}", res.body);
        assert!(fake.embedding_requests() >= 1);
        let status = keyed
            .get("/api/v1/knowledge/status")
            .user(&login)
            .send()
            .await;
        assert_eq!(
            status.body["data"]["index"]["embedding_space"], "openai:text-embedding-3-small:1536",
            "{}",
            status.body
        );
        let found = keyed
            .post("/api/v1/knowledge/search")
            .user(&login)
            .json(&json!({"query": "deposit", "min_score": 0.0}))
            .send()
            .await;
        assert!(
            found.body["data"][0]["vector_score"].is_number(),
            "{}",
            found.body
        );
        assert!(found.body.get("degraded").is_none(), "{}", found.body);

        // The host without a key cannot embed queries in that space: keyword results, said so.
        let found = app
            .post("/api/v1/knowledge/search")
            .user(&login)
            .json(&json!({"query": "deposit", "min_score": 0.0}))
            .send()
            .await;
        found.expect(StatusCode::OK);
        assert_eq!(found.body["degraded"], true, "{}", found.body);
        assert!(
            found.body["data"][0]["content"]
                .as_str()
                .unwrap()
                .contains("deposit of 30%")
        );
    }
}
