//! Helpdesk benchmarks: retrieval quality of the labelled set (`tests/fixtures/knowledge/`)
//! with the local embedder and through the OpenAI code path (against the local fake), and
//! the end-to-end latency of `POST /api/v1/helpdesk/ask` in fallback mode and of search.
//! Run with `cargo bench -p caravan-e2e --bench helpdesk`; PostgreSQL figures need
//! `TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use caravan::config::Secret;
use serde_json::json;
use support::fake_openai::FakeOpenAi;
use support::retrieval_set::{self, Score};
use support::{Backend, TestApp, backends};

/// Requests per latency run (cycling through the set's questions).
const ROUNDS: usize = 300;

fn report(label: &str, score: &Score) {
    println!(
        "{label}: {} questions, hit@1 {:.3} ({}), hit@5 {:.3} ({})",
        score.questions,
        score.hit_rate(score.hits_at_1),
        score.hits_at_1,
        score.hit_rate(score.hits_at_5),
        score.hits_at_5
    );
    for miss in &score.misses {
        println!("  miss: {miss}");
    }
}

fn percentiles(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{label}: n={} p50 {:.2} ms, p99 {:.2} ms",
        samples.len(),
        at(0.5).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0
    );
}

#[tokio::main]
async fn main() {
    for backend in backends() {
        let name = backend.as_str();
        let app = TestApp::new(backend).await;
        let login = app.sunbird().await;
        let started = Instant::now();
        let documents = retrieval_set::load(&app, &login).await;
        println!(
            "[{name}] indexed {documents} documents with the local embedder in {:.2} s",
            started.elapsed().as_secs_f64()
        );
        report(
            &format!("[{name}] local embedder"),
            &retrieval_set::evaluate(&app, &login).await,
        );

        let questions = retrieval_set::questions();
        let mut asks = Vec::with_capacity(ROUNDS);
        let mut searches = Vec::with_capacity(ROUNDS);
        for i in 0..ROUNDS {
            let q = &questions[i % questions.len()].question;
            let t = Instant::now();
            let res = app
                .post("/api/v1/helpdesk/ask")
                .user(&login)
                .json(&json!({"question": q}))
                .send()
                .await;
            asks.push(t.elapsed());
            assert_eq!(res.status, StatusCode::OK);
            assert_eq!(res.body["method"], "fallback");
            let t = Instant::now();
            app.post("/api/v1/knowledge/search")
                .user(&login)
                .json(&json!({"query": q, "top_k": 5, "min_score": 0.0}))
                .send()
                .await
                .expect(StatusCode::OK);
            searches.push(t.elapsed());
        }
        percentiles(&format!("[{name}] ask, fallback mode, end to end"), asks);
        percentiles(&format!("[{name}] search (K8), end to end"), searches);
    }

    // The OpenAI code path: embeddings and chat from the fake (its vectors are hashes of the
    // bytes, so the vector side carries no meaning there: this measures the code path).
    let fake = FakeOpenAi::start().await;
    let base_url = fake.base_url();
    let app = TestApp::with_config(Backend::Sqlite, move |c| {
        c.openai_api_key = Some(Secret::new("bench"));
        c.ai.base_url = base_url;
    })
    .await;
    let login = app.sunbird().await;
    retrieval_set::load(&app, &login).await;
    println!(
        "[fake openai] {} embedding requests while indexing",
        fake.embedding_requests()
    );
    report(
        "[fake openai] OpenAI code path",
        &retrieval_set::evaluate(&app, &login).await,
    );
}
