//! The OpenAI clients against a fake OpenAI-compatible server: retries through transient
//! errors, the circuit breaker opening, failing fast and recovering, deadlines, broken
//! answers, the offline mode, and what `/metrics` and `/health/ready` say about it all.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use caravan::ai::{
    AiError, ChatMessage, ChatOptions, CircuitState, EmbedSource, UnavailableReason,
};
use caravan::config::Secret;
use support::fake_openai::{FakeOpenAi, Fault};
use support::{Backend, TestApp};

/// An app whose OpenAI client talks to `fake` with short waits, so outages play out in
/// milliseconds: 3 attempts, backoff from 20 ms, a breaker that opens after 3 failures for
/// 200 to 400 ms.
async fn app_on(fake: &FakeOpenAi, adjust: impl FnOnce(&mut caravan::config::AiConfig)) -> TestApp {
    let base_url = fake.base_url();
    TestApp::with_config(Backend::Sqlite, move |c| {
        c.openai_api_key = Some(Secret::new("test"));
        c.ai.base_url = base_url;
        c.ai.max_attempts = 3;
        c.ai.initial_backoff_ms = 20;
        c.ai.max_backoff_ms = 2_000;
        c.ai.breaker_failures = 3;
        c.ai.breaker_open_min_ms = 200;
        c.ai.breaker_open_max_ms = 400;
        c.ai.chat_timeout_ms = 5_000;
        c.ai.embed_timeout_ms = 5_000;
        adjust(&mut c.ai);
    })
    .await
}

fn ask(text: &str) -> Vec<ChatMessage> {
    vec![ChatMessage::user(text)]
}

/// Opens the circuit: one call against an upstream that fails every request spends its 3
/// attempts, which are the breaker's 3 consecutive failures.
async fn open_the_circuit(app: &TestApp, fake: &FakeOpenAi) {
    fake.fail_always(Fault::ServerError);
    let err = app
        .state
        .ai
        .chat("system", &ask("hello"), ChatOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, AiError::Unavailable { .. }),
        "unexpected error {err:?}"
    );
    assert_eq!(app.state.ai.circuit_state(), CircuitState::Open);
}

#[tokio::test]
async fn chat_answers_through_the_fake_with_the_configured_model_and_key() {
    let fake = FakeOpenAi::start().await;
    let app = app_on(&fake, |ai| ai.chat_model = "gpt-test".into()).await;
    let answer = app
        .state
        .ai
        .chat(
            "You are a travel helpdesk.",
            &ask("Is breakfast included?"),
            ChatOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(answer.text, "echo: Is breakfast included?");
    assert_eq!(answer.model, "gpt-test");
    assert_eq!(answer.finish_reason.as_deref(), Some("stop"));
    assert_eq!(answer.completion_tokens, Some(5));
    assert_eq!(fake.last_authorization().as_deref(), Some("Bearer test"));
    let body = fake.last_body().unwrap();
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["content"], "Is breakfast included?");
}

#[tokio::test]
async fn retries_get_through_a_429_with_retry_after_and_a_500() {
    let fake = FakeOpenAi::start().await;
    let app = app_on(&fake, |_| {}).await;
    fake.fail_next(
        1,
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
    );
    fake.fail_next(1, Fault::ServerError);
    let started = Instant::now();
    let answer = app
        .state
        .ai
        .chat("system", &ask("still there?"), ChatOptions::default())
        .await
        .unwrap();
    assert_eq!(answer.text, "echo: still there?");
    assert_eq!(fake.chat_requests(), 3, "a 429, a 500, then the answer");
    // The server asked for a one-second pause and got it.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(app.state.ai.circuit_state(), CircuitState::Closed);
    let metrics = app.get("/metrics").send().await.body;
    let text = metrics.as_str().unwrap();
    assert!(
        text.contains(r#"caravan_upstream_retries_total{operation="chat",upstream="openai"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"caravan_upstream_failures_total{kind="http_429",upstream="openai"} 1"#)
    );
    assert!(
        text.contains(r#"caravan_upstream_failures_total{kind="http_5xx",upstream="openai"} 1"#)
    );
}

#[tokio::test]
async fn embeddings_retry_through_a_500_and_come_from_openai() {
    let fake = FakeOpenAi::start().await;
    let app = app_on(&fake, |_| {}).await;
    fake.fail_next(1, Fault::ServerError);
    let (vectors, source) = app
        .state
        .ai
        .embed(&["Zanzibar", "Serengeti"])
        .await
        .unwrap();
    assert_eq!(
        source,
        EmbedSource::OpenAi {
            model: "text-embedding-3-small".into(),
            dimensions: 1536
        }
    );
    assert_eq!(vectors.len(), 2);
    assert!(vectors.iter().all(|v| v.len() == 1536));
    assert_eq!(fake.embedding_requests(), 2);
    assert_eq!(fake.last_body().unwrap()["dimensions"], 1536);
}

#[tokio::test]
#[allow(clippy::print_stderr)]
async fn after_repeated_failures_the_breaker_opens_and_a_call_fails_fast_without_a_request() {
    let fake = FakeOpenAi::start().await;
    let app = app_on(&fake, |ai| {
        // Long enough that the circuit is still open while this test measures.
        ai.breaker_open_min_ms = 30_000;
        ai.breaker_open_max_ms = 60_000;
    })
    .await;
    open_the_circuit(&app, &fake).await;
    let seen = fake.requests();
    assert_eq!(seen, 3);

    let started = Instant::now();
    let err = app
        .state
        .ai
        .chat("system", &ask("anyone?"), ChatOptions::default())
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    eprintln!("chat with an open breaker failed in {elapsed:?}");
    assert_eq!(
        err,
        AiError::Unavailable {
            reason: UnavailableReason::CircuitOpen
        }
    );
    assert!(elapsed < Duration::from_millis(20), "{elapsed:?}");
    assert_eq!(fake.requests(), seen, "no request may reach the upstream");

    // Embeddings fall back to the local embedder just as fast.
    let started = Instant::now();
    let (vectors, source) = app.state.ai.embed(&["Zanzibar"]).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(20));
    assert_eq!(source, EmbedSource::Local { dimensions: 384 });
    assert_eq!(vectors[0], app.state.ai.local_embedder().embed("Zanzibar"));
    assert_eq!(fake.requests(), seen);
}

#[tokio::test]
async fn the_breaker_half_opens_after_its_backoff_and_recovers_on_success() {
    let fake = FakeOpenAi::start().await;
    let app = app_on(&fake, |_| {}).await;
    open_the_circuit(&app, &fake).await;
    fake.heal();
    // Still open: the call fails fast.
    let err = app
        .state
        .ai
        .chat("system", &ask("now?"), ChatOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.outcome(), "circuit_open");
    // The open period is 200 to 400 ms.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let answer = app
        .state
        .ai
        .chat("system", &ask("now?"), ChatOptions::default())
        .await
        .unwrap();
    assert_eq!(answer.text, "echo: now?");
    assert_eq!(app.state.ai.circuit_state(), CircuitState::Closed);
}

#[tokio::test]
async fn a_failed_trial_call_opens_the_circuit_again() {
    let fake = FakeOpenAi::start().await;
    let app = app_on(&fake, |ai| ai.max_attempts = 1).await;
    fake.fail_always(Fault::ServerError);
    for _ in 0..3 {
        let _ = app
            .state
            .ai
            .chat("s", &ask("x"), ChatOptions::default())
            .await;
    }
    assert_eq!(app.state.ai.circuit_state(), CircuitState::Open);
    tokio::time::sleep(Duration::from_millis(450)).await;
    let before = fake.requests();
    let err = app
        .state
        .ai
        .chat("s", &ask("x"), ChatOptions::default())
        .await
        .unwrap_err();
    assert_eq!(fake.requests(), before + 1, "one trial request");
    assert!(matches!(err, AiError::Unavailable { .. }));
    assert_eq!(app.state.ai.circuit_state(), CircuitState::Open);
}

#[tokio::test]
async fn a_hanging_upstream_never_holds_a_call_past_its_deadline() {
    let fake = FakeOpenAi::start().await;
    let app = app_on(&fake, |ai| {
        ai.chat_timeout_ms = 300;
        ai.embed_timeout_ms = 300;
    })
    .await;
    fake.fail_always(Fault::Hang);
    let started = Instant::now();
    let err = app
        .state
        .ai
        .chat("system", &ask("hello?"), ChatOptions::default())
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(
        err,
        AiError::Unavailable {
            reason: UnavailableReason::Deadline {
                deadline: Duration::from_millis(300)
            }
        }
    );
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    // The deadline plus scheduling slack on a loaded machine, far below the fake's "never".
    assert!(elapsed < Duration::from_millis(600), "{elapsed:?}");

    let started = Instant::now();
    let (_, source) = app.state.ai.embed(&["hello"]).await.unwrap();
    assert!(source.is_local());
    assert!(started.elapsed() < Duration::from_millis(600));
}

#[tokio::test]
async fn a_slow_upstream_within_the_deadline_still_answers() {
    let fake = FakeOpenAi::start().await;
    let app = app_on(&fake, |ai| ai.chat_timeout_ms = 1_000).await;
    fake.set_latency(Duration::from_millis(150));
    let answer = app
        .state
        .ai
        .chat("system", &ask("slow"), ChatOptions::default())
        .await
        .unwrap();
    assert!(answer.elapsed >= Duration::from_millis(150));
    assert_eq!(fake.chat_requests(), 1);
}

#[tokio::test]
async fn broken_json_is_an_error_not_a_panic() {
    let fake = FakeOpenAi::start().await;
    let app = app_on(&fake, |_| {}).await;
    fake.fail_next(1, Fault::BrokenJson);
    let err = app
        .state
        .ai
        .chat("system", &ask("hi"), ChatOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, AiError::InvalidResponse { .. }), "{err:?}");
    assert_eq!(
        fake.chat_requests(),
        1,
        "an unreadable answer is not retried"
    );
    // The next call is served normally.
    let answer = app
        .state
        .ai
        .chat("system", &ask("hi"), ChatOptions::default())
        .await
        .unwrap();
    assert_eq!(answer.text, "echo: hi");
}

#[tokio::test]
async fn without_a_key_everything_works_offline_and_chat_is_unavailable_at_once() {
    let app = TestApp::new(Backend::Sqlite).await;
    let ai = &app.state.ai;
    assert!(!ai.is_configured());
    let (vectors, source) = ai
        .embed(&["Lodge with a view", "Lodge with a view"])
        .await
        .unwrap();
    assert_eq!(source, EmbedSource::Local { dimensions: 384 });
    assert_eq!(vectors[0], vectors[1]);
    let started = Instant::now();
    let err = ai
        .chat("system", &ask("hi"), ChatOptions::default())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(20));
    assert_eq!(
        err,
        AiError::Unavailable {
            reason: UnavailableReason::NoApiKey
        }
    );
    let ready = app.get("/health/ready").send().await;
    ready.expect(StatusCode::OK);
    assert_eq!(ready.body["checks"]["ai"]["mode"], "offline");
    assert_eq!(
        ready.body["checks"]["ai"]["embeddings"],
        "local:hash-ngram-v1:384"
    );
}

#[tokio::test]
async fn metrics_show_the_breaker_state() {
    let fake = FakeOpenAi::start().await;
    let app = app_on(&fake, |_| {}).await;
    let gauge = |text: &str, value: u8| {
        text.contains(&format!(
            "caravan_upstream_circuit_state{{upstream=\"openai\"}} {value}"
        ))
    };
    let text = app.get("/metrics").send().await.body;
    assert!(gauge(text.as_str().unwrap(), 0), "{text}");
    open_the_circuit(&app, &fake).await;
    let text = app.get("/metrics").send().await.body;
    let text = text.as_str().unwrap();
    assert!(gauge(text, 2), "{text}");
    assert!(text.contains(
        r#"caravan_upstream_calls_total{operation="chat",outcome="unavailable",upstream="openai"} 1"#
    ));
    assert!(
        text.contains(r#"caravan_upstream_failures_total{kind="http_5xx",upstream="openai"} 3"#)
    );
}

#[tokio::test]
async fn health_ready_reports_an_open_breaker_without_failing() {
    let fake = FakeOpenAi::start().await;
    let app = app_on(&fake, |_| {}).await;
    let ready = app.get("/health/ready").send().await;
    ready.expect(StatusCode::OK);
    assert_eq!(ready.body["checks"]["ai"]["circuit"], "closed");
    assert_eq!(ready.body["checks"]["ai"]["mode"], "online");
    open_the_circuit(&app, &fake).await;
    let ready = app.get("/health/ready").send().await;
    ready.expect(StatusCode::OK);
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["checks"]["ai"]["circuit"], "open");
    assert_eq!(ready.body["checks"]["ai"]["mode"], "degraded");
}
