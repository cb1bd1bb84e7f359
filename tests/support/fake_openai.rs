//! A fake OpenAI-compatible API on loopback, speaking the wire protocol async-openai parses,
//! with fault injection for the retry, deadline and circuit-breaker tests.
//!
//! | request | answer |
//! |---|---|
//! | `POST /v1/chat/completions` | a `chat.completion` whose text echoes the last user message |
//! | `POST /v1/embeddings` | one `embedding` per input, of the requested `dimensions` (default 1536) |
//!
//! Faults are queued and each answers one request, in order: [`Fault::TooManyRequests`]
//! (429 with `Retry-After`), [`Fault::ServerError`] (500), [`Fault::BrokenJson`] (200 with a
//! body that is not JSON) and [`Fault::Hang`] (no answer until the client gives up). A
//! latency can be added to every answer. Every request is counted, faulty or not.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// One misbehaviour, answering one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 429 with `Retry-After: <secs>` and OpenAI's rate-limit error body.
    TooManyRequests { retry_after_secs: u64 },
    /// HTTP 500 with a plain-text body, as a failing proxy would send.
    ServerError,
    /// HTTP 200 whose body is truncated JSON.
    BrokenJson,
    /// Never answers (until the server is dropped).
    Hang,
}

#[derive(Default)]
struct Shared {
    faults: Mutex<VecDeque<Fault>>,
    /// Every request gets this fault while set, after the queue is empty.
    always: Mutex<Option<Fault>>,
    latency_ms: AtomicU64,
    requests: AtomicUsize,
    chat_requests: AtomicUsize,
    embedding_requests: AtomicUsize,
    last_body: Mutex<Option<Value>>,
    last_authorization: Mutex<Option<String>>,
}

/// The fake server; it stops when dropped.
pub struct FakeOpenAi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeOpenAi {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let router = axum::Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/embeddings", post(embeddings))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            addr,
            shared,
            server,
        }
    }

    /// The API root to configure (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues `fault` for the next `n` requests (after those already queued).
    pub fn fail_next(&self, n: usize, fault: Fault) {
        let mut faults = self.shared.faults.lock().unwrap();
        faults.extend(std::iter::repeat_n(fault, n));
    }

    /// Answers every request with `fault` until [`FakeOpenAi::heal`].
    pub fn fail_always(&self, fault: Fault) {
        *self.shared.always.lock().unwrap() = Some(fault);
    }

    /// Clears every queued and standing fault.
    pub fn heal(&self) {
        self.shared.faults.lock().unwrap().clear();
        *self.shared.always.lock().unwrap() = None;
    }

    /// Delays every answer (faulty ones included) by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.shared
            .latency_ms
            .store(latency.as_millis() as u64, Ordering::SeqCst);
    }

    /// Requests received so far, every endpoint and fault included.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    pub fn chat_requests(&self) -> usize {
        self.shared.chat_requests.load(Ordering::SeqCst)
    }

    pub fn embedding_requests(&self) -> usize {
        self.shared.embedding_requests.load(Ordering::SeqCst)
    }

    /// The JSON body of the last request.
    pub fn last_body(&self) -> Option<Value> {
        self.shared.last_body.lock().unwrap().clone()
    }

    /// The `Authorization` header of the last request.
    pub fn last_authorization(&self) -> Option<String> {
        self.shared.last_authorization.lock().unwrap().clone()
    }
}

/// Counts the request, waits the latency and answers the next fault, if any.
async fn before(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Option<Response> {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    *shared.last_body.lock().unwrap() = serde_json::from_slice(body).ok();
    *shared.last_authorization.lock().unwrap() = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let latency = shared.latency_ms.load(Ordering::SeqCst);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let fault = {
        let queued = shared.faults.lock().unwrap().pop_front();
        queued.or(*shared.always.lock().unwrap())
    };
    match fault? {
        Fault::TooManyRequests { retry_after_secs } => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, retry_after_secs.to_string())],
                axum::Json(json!({
                    "error": {
                        "message": "Rate limit reached for requests",
                        "type": "requests",
                        "param": null,
                        "code": "rate_limit_exceeded"
                    }
                })),
            )
                .into_response(),
        ),
        Fault::ServerError => Some(
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "upstream connect error or disconnect/reset before headers",
            )
                .into_response(),
        ),
        Fault::BrokenJson => Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"id": "chatcmpl-broken", "object": "chat.completion", "choices": [{"#,
            )
                .into_response(),
        ),
        Fault::Hang => {
            std::future::pending::<()>().await;
            None
        }
    }
}

async fn chat(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    shared.chat_requests.fetch_add(1, Ordering::SeqCst);
    if let Some(fault) = before(&shared, &headers, &body).await {
        return fault;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("the body is not JSON");
    };
    let model = request["model"]
        .as_str()
        .unwrap_or("gpt-4o-mini")
        .to_owned();
    let last_user = request["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    axum::Json(json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_764_000_000u32,
        "model": model,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": format!("echo: {last_user}"), "refusal": null },
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": { "prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17 }
    }))
    .into_response()
}

async fn embeddings(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    shared.embedding_requests.fetch_add(1, Ordering::SeqCst);
    if let Some(fault) = before(&shared, &headers, &body).await {
        return fault;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("the body is not JSON");
    };
    let inputs: Vec<String> = match &request["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect(),
        _ => return bad_request("input must be a string or an array of strings"),
    };
    let dimensions = request["dimensions"].as_u64().unwrap_or(1536) as usize;
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| {
            json!({ "object": "embedding", "index": index, "embedding": vector(text, dimensions) })
        })
        .collect();
    axum::Json(json!({
        "object": "list",
        "data": data,
        "model": request["model"].as_str().unwrap_or("text-embedding-3-small"),
        "usage": { "prompt_tokens": inputs.len() * 4, "total_tokens": inputs.len() * 4 }
    }))
    .into_response()
}

/// A deterministic unit vector derived from the text's bytes.
fn vector(text: &str, dimensions: usize) -> Vec<f32> {
    let mut v = vec![0.0f32; dimensions.max(1)];
    for (i, b) in text.bytes().enumerate() {
        let slot = (i * 31 + usize::from(b)) % v.len();
        v[slot] += 1.0;
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    } else {
        v[0] = 1.0;
    }
    v
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({
            "error": { "message": message, "type": "invalid_request_error", "param": null, "code": null }
        })),
    )
        .into_response()
}
