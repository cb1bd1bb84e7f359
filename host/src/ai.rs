//! `AiService`: chat completions and embeddings from an OpenAI-compatible API, protected by
//! a deadline, retries and a circuit breaker ([`upstream`]), and degrading instead of
//! failing: embeddings fall back to the [`local`] embedder, chat reports a typed
//! [`AiError::Unavailable`] at once so callers can answer without the model.

pub mod local;
pub mod transport;
pub mod upstream;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequest,
};
use async_openai::types::embeddings::{CreateEmbeddingRequest, EmbeddingInput};
use serde_json::{Value, json};

pub use self::local::{LOCAL_EMBEDDER_VERSION, LocalEmbedder, cosine};
pub use self::upstream::{BreakerSettings, CircuitState, Upstream};

use self::transport::{StatusTransport, UpstreamStatus};
use self::upstream::Failure;
use crate::config::{AiConfig, Secret};
use crate::metrics::Metrics;
use crate::retry::{Retry, RetryPolicy, http_status_retry};

/// The name of the OpenAI upstream in metrics, logs and health details.
pub const OPENAI: &str = "openai";

/// Which embedder produced a set of vectors. Vectors from different sources live in
/// different spaces (and lengths): an index must hold one source only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbedSource {
    /// The OpenAI embeddings API with this model and vector length.
    OpenAi { model: String, dimensions: usize },
    /// The local deterministic embedder with this vector length.
    Local { dimensions: usize },
}

impl EmbedSource {
    /// A stable identifier to store beside an index, e.g.
    /// `openai:text-embedding-3-small:1536` or `local:hash-ngram-v1:384`.
    pub fn id(&self) -> String {
        match self {
            Self::OpenAi { model, dimensions } => format!("openai:{model}:{dimensions}"),
            Self::Local { dimensions } => format!("local:{LOCAL_EMBEDDER_VERSION}:{dimensions}"),
        }
    }

    pub fn dimensions(&self) -> usize {
        match self {
            Self::OpenAi { dimensions, .. } | Self::Local { dimensions } => *dimensions,
        }
    }

    pub fn is_local(&self) -> bool {
        matches!(self, Self::Local { .. })
    }
}

/// Why the model could not be used; the caller degrades (local embeddings, extractive
/// answers).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnavailableReason {
    #[error("no OpenAI API key is configured")]
    NoApiKey,
    #[error("the circuit breaker is open after repeated failures")]
    CircuitOpen,
    #[error("{attempts} attempt(s) failed, the last with: {last_error}")]
    RetriesExhausted { attempts: u32, last_error: String },
    #[error("no answer within the {} ms deadline", deadline.as_millis())]
    Deadline { deadline: Duration },
    /// Vectors of this space cannot be made with the current configuration (another
    /// model, or no key): the index must be rebuilt in the current space.
    #[error("embeddings of `{space}` cannot be made with the current configuration")]
    OtherSpace { space: String },
}

/// The errors of [`AiService`] calls.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AiError {
    /// The upstream cannot be used now; nothing is wrong with the request.
    #[error("AI upstream unavailable: {reason}")]
    Unavailable { reason: UnavailableReason },
    /// The upstream refused this request (HTTP 4xx other than 408/429: bad key, bad request,
    /// unknown model); another attempt would get the same answer.
    #[error("AI upstream refused the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    /// The upstream answered something that is not the expected JSON.
    #[error("AI upstream sent an invalid response: {detail}")]
    InvalidResponse { detail: String },
}

impl AiError {
    /// The `outcome` label of `caravan_upstream_calls_total`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Unavailable {
                reason: UnavailableReason::CircuitOpen,
            } => "circuit_open",
            Self::Unavailable {
                reason: UnavailableReason::NoApiKey,
            } => "not_configured",
            Self::Unavailable { .. } => "unavailable",
            Self::Rejected { .. } => "rejected",
            Self::InvalidResponse { .. } => "invalid_response",
        }
    }
}

/// Who said a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatRole {
    User,
    Assistant,
}

/// One turn of a conversation (the system prompt is passed separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

impl ChatMessage {
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::User,
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::Assistant,
            content: content.into(),
        }
    }
}

/// Per-call knobs of a chat completion.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ChatOptions {
    /// Cap on the answer's length in tokens (`max_completion_tokens`).
    pub max_tokens: Option<u32>,
    /// Sampling temperature, 0 to 2.
    pub temperature: Option<f32>,
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatAnswer {
    pub text: String,
    /// The model that answered, as the upstream named it.
    pub model: String,
    /// `stop`, `length`, `content_filter`… as the upstream said.
    pub finish_reason: Option<String>,
    pub prompt_tokens: Option<u32>,
    pub completion_tokens: Option<u32>,
    /// Wall time of the call, retries and waits included.
    pub elapsed: Duration,
}

/// Chat and embeddings for the rest of Caravan, with the offline fallbacks.
#[derive(Debug, Clone)]
pub struct AiService {
    client: Option<Client<OpenAIConfig>>,
    config: AiConfig,
    upstream: Upstream,
    local: LocalEmbedder,
}

impl AiService {
    /// The service for `config`; without `api_key` every call stays offline.
    pub fn new(config: &AiConfig, api_key: Option<&Secret>, metrics: Arc<Metrics>) -> Self {
        let client = api_key.map(|key| {
            let openai = OpenAIConfig::new()
                .with_api_base(config.base_url.trim_end_matches('/'))
                .with_api_key(key.expose());
            // Our own retries and breaker replace async-openai's built-in retry layer.
            Client::with_config(openai).with_http_service(StatusTransport::default())
        });
        let policy = RetryPolicy {
            max_attempts: config.max_attempts.max(1),
            initial_backoff: Duration::from_millis(config.initial_backoff_ms),
            max_backoff: Duration::from_millis(config.max_backoff_ms),
            // Each attempt gets what is left of the call's deadline.
            attempt_timeout: Duration::from_millis(config.chat_timeout_ms),
        };
        let breaker = BreakerSettings {
            failures: config.breaker_failures,
            open_min: Duration::from_millis(config.breaker_open_min_ms),
            open_max: Duration::from_millis(config.breaker_open_max_ms),
        };
        Self {
            client,
            config: config.clone(),
            upstream: Upstream::new(OPENAI, policy, breaker, metrics),
            local: LocalEmbedder::new(config.local_embedding_dimensions),
        }
    }

    /// Whether an API key is configured (the model may still be unavailable).
    pub fn is_configured(&self) -> bool {
        self.client.is_some()
    }

    /// The OpenAI circuit's state.
    pub fn circuit_state(&self) -> CircuitState {
        self.upstream.circuit_state()
    }

    /// The local embedder, for callers that must stay in its vector space.
    pub fn local_embedder(&self) -> &LocalEmbedder {
        &self.local
    }

    /// The source [`AiService::embed`] uses while the upstream is healthy: OpenAI with a
    /// key, the local embedder without.
    pub fn preferred_embed_source(&self) -> EmbedSource {
        if self.is_configured() {
            self.openai_source()
        } else {
            self.local_source()
        }
    }

    fn openai_source(&self) -> EmbedSource {
        EmbedSource::OpenAi {
            model: self.config.embedding_model.clone(),
            dimensions: self.config.embedding_dimensions as usize,
        }
    }

    fn local_source(&self) -> EmbedSource {
        EmbedSource::Local {
            dimensions: self.local.dimensions(),
        }
    }

    /// Vectors for `texts`, in order, and the source that made them: OpenAI when a key is
    /// configured and the call succeeds, the local embedder otherwise (no key, open circuit,
    /// deadline, errors after retries). Never fails; the `Result` leaves room for callers
    /// that treat a fallback as an error through [`AiService::embed_remote`].
    pub async fn embed<S: AsRef<str>>(
        &self,
        texts: &[S],
    ) -> Result<(Vec<Vec<f32>>, EmbedSource), AiError> {
        match self.embed_remote(texts).await {
            Ok(vectors) => Ok((vectors, self.openai_source())),
            Err(error) => {
                if self.is_configured() {
                    tracing::info!(%error, "embeddings from the local embedder instead of OpenAI");
                }
                Ok((self.local.embed_all(texts), self.local_source()))
            }
        }
    }

    /// Vectors in the embedding space `space` (an [`EmbedSource::id`]): the local embedder's
    /// or OpenAI's, whichever made the index they will be compared with. No fallback: a
    /// vector from another space would be meaningless there.
    pub async fn embed_in<S: AsRef<str>>(
        &self,
        space: &str,
        texts: &[S],
    ) -> Result<Vec<Vec<f32>>, AiError> {
        if space == self.local_source().id() {
            return Ok(self.local.embed_all(texts));
        }
        if self.is_configured() && space == self.openai_source().id() {
            return self.embed_remote(texts).await;
        }
        Err(AiError::Unavailable {
            reason: UnavailableReason::OtherSpace {
                space: space.to_owned(),
            },
        })
    }

    /// Vectors from OpenAI only, for indexes built in its space: no fallback.
    pub async fn embed_remote<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>, AiError> {
        let Some(client) = &self.client else {
            self.upstream.count_skipped("embeddings", "not_configured");
            return Err(AiError::Unavailable {
                reason: UnavailableReason::NoApiKey,
            });
        };
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let request = CreateEmbeddingRequest {
            model: self.config.embedding_model.clone(),
            input: EmbeddingInput::StringArray(
                texts.iter().map(|t| t.as_ref().to_owned()).collect(),
            ),
            dimensions: Some(self.config.embedding_dimensions),
            ..Default::default()
        };
        let deadline = Duration::from_millis(self.config.embed_timeout_ms);
        let expected = texts.len();
        let dimensions = self.config.embedding_dimensions as usize;
        self.upstream
            .call(
                "embeddings",
                deadline,
                || {
                    let client = client.clone();
                    let request = request.clone();
                    async move {
                        let response = client.embeddings().create(request).await?;
                        let mut data = response.data;
                        data.sort_by_key(|e| e.index);
                        let vectors: Vec<Vec<f32>> =
                            data.into_iter().map(|e| e.embedding).collect();
                        if vectors.len() != expected
                            || vectors.iter().any(|v| v.len() != dimensions)
                        {
                            return Err(OpenAIError::InvalidArgument(format!(
                                "expected {expected} vectors of {dimensions} floats"
                            )));
                        }
                        Ok(vectors)
                    }
                },
                classify,
            )
            .await
    }

    /// A chat completion: `system` first, then `messages` in order. Without a key, or while
    /// the circuit is open, the error comes at once ([`UnavailableReason::NoApiKey`],
    /// [`UnavailableReason::CircuitOpen`]) without a request.
    pub async fn chat(
        &self,
        system: &str,
        messages: &[ChatMessage],
        options: ChatOptions,
    ) -> Result<ChatAnswer, AiError> {
        let Some(client) = &self.client else {
            self.upstream.count_skipped("chat", "not_configured");
            return Err(AiError::Unavailable {
                reason: UnavailableReason::NoApiKey,
            });
        };
        let mut wire: Vec<ChatCompletionRequestMessage> = Vec::with_capacity(messages.len() + 1);
        wire.push(ChatCompletionRequestSystemMessage::from(system).into());
        for message in messages {
            wire.push(match message.role {
                ChatRole::User => {
                    ChatCompletionRequestUserMessage::from(message.content.as_str()).into()
                }
                ChatRole::Assistant => ChatCompletionRequestAssistantMessage {
                    content: Some(message.content.as_str().into()),
                    ..Default::default()
                }
                .into(),
            });
        }
        let request = CreateChatCompletionRequest {
            model: self.config.chat_model.clone(),
            messages: wire,
            max_completion_tokens: options.max_tokens,
            temperature: options.temperature,
            ..Default::default()
        };
        let started = Instant::now();
        let deadline = Duration::from_millis(self.config.chat_timeout_ms);
        let response = self
            .upstream
            .call(
                "chat",
                deadline,
                || {
                    let client = client.clone();
                    let request = request.clone();
                    async move { client.chat().create(request).await }
                },
                classify,
            )
            .await?;
        let choice = response.choices.into_iter().next();
        let finish_reason = choice
            .as_ref()
            .and_then(|c| c.finish_reason.as_ref())
            .and_then(|r| serde_json::to_value(r).ok())
            .and_then(|v| v.as_str().map(str::to_owned));
        let text = choice.and_then(|c| c.message.content).unwrap_or_default();
        Ok(ChatAnswer {
            text,
            model: response.model,
            finish_reason,
            prompt_tokens: response.usage.as_ref().map(|u| u.prompt_tokens),
            completion_tokens: response.usage.as_ref().map(|u| u.completion_tokens),
            elapsed: started.elapsed(),
        })
    }

    /// The `/health/ready` details: informational, never a reason to be unready.
    pub fn health(&self) -> Value {
        let circuit = self.circuit_state();
        let mode = if !self.is_configured() {
            "offline"
        } else if circuit == CircuitState::Closed {
            "online"
        } else {
            "degraded"
        };
        json!({
            "upstream": OPENAI,
            "configured": self.is_configured(),
            "circuit": circuit.as_str(),
            "mode": mode,
            "embeddings": self.preferred_embed_source().id(),
        })
    }
}

/// How one failed request counts: retryable statuses and connection trouble are transient,
/// other refusals permanent, an unreadable answer an upstream fault that is not retried.
fn classify(error: OpenAIError) -> Failure {
    match error {
        OpenAIError::Boxed(boxed) => match boxed.downcast::<UpstreamStatus>() {
            Ok(status) => Failure {
                retry: http_status_retry(status.status, status.retry_after),
                kind: if status.status == 429 {
                    "http_429"
                } else {
                    "http_5xx"
                },
                message: status.to_string(),
                counts_against_upstream: true,
                terminal: None,
            },
            Err(other) => transient("connection", other.to_string()),
        },
        OpenAIError::Reqwest(e) => transient("connection", e.to_string()),
        OpenAIError::ApiError(api) => {
            let status = api.status_code.as_u16();
            let message = api.api_error.message;
            match http_status_retry(status, None) {
                Retry::Transient { .. } => transient("http_5xx", format!("HTTP {status}")),
                Retry::Permanent => Failure {
                    retry: Retry::Permanent,
                    kind: "rejected",
                    message: format!("HTTP {status}: {message}"),
                    counts_against_upstream: false,
                    terminal: Some(AiError::Rejected { status, message }),
                },
            }
        }
        OpenAIError::JSONDeserialize(e, _) => invalid(format!("unreadable JSON: {e}")),
        OpenAIError::InvalidArgument(detail) => invalid(detail),
        other => invalid(other.to_string()),
    }
}

fn transient(kind: &'static str, message: String) -> Failure {
    Failure {
        retry: Retry::Transient { after: None },
        kind,
        message,
        counts_against_upstream: true,
        terminal: None,
    }
}

/// A well-formed HTTP answer whose body is not what the API promises: asking again is
/// unlikely to help, and the upstream is not behaving.
fn invalid(detail: String) -> Failure {
    Failure {
        retry: Retry::Permanent,
        kind: "invalid_response",
        message: detail.clone(),
        counts_against_upstream: true,
        terminal: Some(AiError::InvalidResponse { detail }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline() -> AiService {
        AiService::new(&AiConfig::default(), None, Arc::new(Metrics::new()))
    }

    #[tokio::test]
    async fn without_a_key_embeddings_come_from_the_local_embedder() {
        let ai = offline();
        let (vectors, source) = ai.embed(&["hello", "world"]).await.unwrap();
        assert_eq!(source, EmbedSource::Local { dimensions: 384 });
        assert_eq!(vectors.len(), 2);
        assert_eq!(vectors[0], ai.local_embedder().embed("hello"));
        assert_eq!(source.id(), "local:hash-ngram-v1:384");
    }

    #[tokio::test]
    async fn without_a_key_chat_is_unavailable_at_once() {
        let started = Instant::now();
        let err = offline()
            .chat("system", &[ChatMessage::user("hi")], ChatOptions::default())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            AiError::Unavailable {
                reason: UnavailableReason::NoApiKey
            }
        );
        assert!(started.elapsed() < Duration::from_millis(50));
    }

    #[test]
    fn retryable_statuses_are_transient_and_keep_their_retry_after() {
        let after = Some(Duration::from_secs(2));
        let f = classify(OpenAIError::Boxed(Box::new(UpstreamStatus {
            status: 429,
            retry_after: after,
        })));
        assert_eq!(f.retry, Retry::Transient { after });
        assert_eq!(f.kind, "http_429");
        assert!(f.counts_against_upstream);
    }

    #[test]
    fn broken_json_is_an_invalid_response_that_is_not_retried() {
        let e = serde_json::from_str::<Value>("{oops").unwrap_err();
        let f = classify(OpenAIError::JSONDeserialize(e, "{oops".into()));
        assert_eq!(f.retry, Retry::Permanent);
        assert!(matches!(f.terminal, Some(AiError::InvalidResponse { .. })));
    }

    #[test]
    fn the_offline_health_says_so_and_names_the_local_embedder() {
        let h = offline().health();
        assert_eq!(h["mode"], "offline");
        assert_eq!(h["circuit"], "closed");
        assert_eq!(h["configured"], false);
    }
}
