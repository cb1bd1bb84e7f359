//! Configuration: defaults, an optional TOML file, then `CARAVAN_*` environment variables.
//!
//! Every value has a working default so that `caravan serve` runs with nothing configured:
//! SQLite in `./data`, listening on `127.0.0.1:8000`, no Redis, no external keys.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A value that must never appear in logs or `Debug` output.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call sites that use it are easy to audit with grep.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"[redacted]\"")
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line (the default; what log collectors expect).
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
}

/// The whole server configuration.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds (`CARAVAN_LISTEN`).
    pub listen: SocketAddr,
    /// Directory for the SQLite database, local objects and generated secrets (`CARAVAN_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…` (`DATABASE_URL`); `None` means SQLite inside `data_dir`.
    pub database_url: Option<Secret>,
    /// Enables the shared cache, shared rate limits and plugin events (`REDIS_URL`).
    pub redis_url: Option<Secret>,
    /// Token for the platform-admin API (`CARAVAN_ADMIN_TOKEN`); unset disables that API.
    pub admin_token: Option<Secret>,
    /// Key for the OpenAI API (`OPENAI_API_KEY`); unset selects the offline fallbacks.
    pub openai_api_key: Option<Secret>,
    /// HS256 key for access tokens, at least 32 bytes (`CARAVAN_JWT_SECRET`). Unset: a secret
    /// generated once and kept in `<data_dir>/jwt-secret`, fine for one host; every host of a
    /// deployment must share the same value.
    pub jwt_secret: Option<Secret>,
    /// The dashboard's base URL, used in emailed links (`CARAVAN_APP_URL`).
    pub app_url: String,
    /// The API's base URL as customers reach it, for public PDF links in emails
    /// (`CARAVAN_PUBLIC_URL`).
    pub public_url: String,
    /// Sender address of the emails Caravan sends (`CARAVAN_MAIL_FROM`); the display name is
    /// the tenant's.
    pub mail_from: String,
    /// Browser origins allowed by CORS (`CARAVAN_CORS_ORIGINS`, comma-separated).
    pub cors_origins: Vec<String>,
    /// Largest accepted request body in bytes (`CARAVAN_BODY_LIMIT_BYTES`).
    pub body_limit_bytes: usize,
    /// Log filter in `tracing` syntax (`CARAVAN_LOG`).
    pub log: String,
    /// `json` or `pretty` (`CARAVAN_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Maximum pooled database connections (`CARAVAN_DB_MAX_CONNECTIONS`).
    pub db_max_connections: u32,
    /// How long a request waits for a database connection before answering 503
    /// (`CARAVAN_DB_ACQUIRE_TIMEOUT_MS`).
    pub db_acquire_timeout_ms: u64,
    /// PostgreSQL `statement_timeout`; SQLite's busy timeout uses the same value
    /// (`CARAVAN_DB_STATEMENT_TIMEOUT_MS`).
    pub db_statement_timeout_ms: u64,
    /// Time-to-live of cached tenant records (`CARAVAN_TENANT_CACHE_TTL_SECS`).
    pub tenant_cache_ttl_secs: u64,
    /// How long in-flight requests may run after SIGINT/SIGTERM (`CARAVAN_SHUTDOWN_GRACE_SECS`).
    pub shutdown_grace_secs: u64,
    /// Take the client address from the first `X-Forwarded-For` entry
    /// (`CARAVAN_TRUST_FORWARDED_FOR`); only behind a proxy that sets it, or clients could
    /// pick their own address and dodge per-address limits.
    pub trust_forwarded_for: bool,
    /// Request budgets (`[rate_limits]` in the file; `CARAVAN_RATE_*` variables).
    pub rate_limits: RateLimitConfig,
    /// Token lifetimes (`[auth]` in the file).
    pub auth: AuthConfig,
    /// How emails leave (`[mail]` in the file; `CARAVAN_MAIL_TRANSPORT` and friends).
    pub mail: MailConfig,
    /// How emails arrive and are processed (`[inbound]` in the file; `CARAVAN_INBOUND_*`).
    pub inbound: InboundConfig,
    /// Knowledge documents: upload cap, chunking, the indexing worker (`[knowledge]` in the
    /// file; `CARAVAN_KNOWLEDGE_*`).
    pub knowledge: KnowledgeConfig,
    /// Where files (PDFs, inbound posts, plugin binaries, logos) are kept (`[object_store]` in
    /// the file; `CARAVAN_OBJECT_STORE`, `CARAVAN_GCS_*`).
    pub object_store: ObjectStoreConfig,
    /// The OpenAI clients: base URL, models, deadlines, retries and circuit breaker (`[ai]` in
    /// the file; `CARAVAN_OPENAI_BASE_URL`, `CARAVAN_OPENAI_CHAT_MODEL`,
    /// `CARAVAN_OPENAI_EMBEDDING_MODEL`).
    pub ai: AiConfig,
}

/// The OpenAI-compatible upstream and how Caravan protects itself from it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AiConfig {
    /// The API root, `/v1` included, no trailing slash (`CARAVAN_OPENAI_BASE_URL`).
    pub base_url: String,
    /// Model for chat completions (`CARAVAN_OPENAI_CHAT_MODEL`).
    pub chat_model: String,
    /// Model for embeddings (`CARAVAN_OPENAI_EMBEDDING_MODEL`).
    pub embedding_model: String,
    /// Length of the vectors asked of the embedding model.
    pub embedding_dimensions: u32,
    /// Length of the vectors of the local embedder (the offline fallback).
    pub local_embedding_dimensions: usize,
    /// Deadline of one chat call, every attempt and wait included.
    pub chat_timeout_ms: u64,
    /// Deadline of one embeddings call, every attempt and wait included.
    pub embed_timeout_ms: u64,
    /// Attempts per call, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait after the first failed attempt; it doubles for each further one (with jitter).
    pub initial_backoff_ms: u64,
    /// Longest wait between attempts, and the longest `Retry-After` that is waited for.
    pub max_backoff_ms: u64,
    /// Consecutive failed requests after which the circuit opens.
    pub breaker_failures: u32,
    /// How long the circuit stays open the first time before a trial request (half-open);
    /// up to half as long again, at random.
    pub breaker_open_min_ms: u64,
    /// Cap on the open period, which doubles while trial requests keep failing.
    pub breaker_open_max_ms: u64,
}

impl Default for AiConfig {
    fn default() -> Self {
        Self {
            base_url: "https://api.openai.com/v1".to_owned(),
            chat_model: "gpt-4o-mini".to_owned(),
            embedding_model: "text-embedding-3-small".to_owned(),
            embedding_dimensions: 1536,
            local_embedding_dimensions: 384,
            chat_timeout_ms: 20_000,
            embed_timeout_ms: 10_000,
            max_attempts: 3,
            initial_backoff_ms: 250,
            max_backoff_ms: 5_000,
            breaker_failures: 5,
            breaker_open_min_ms: 10_000,
            breaker_open_max_ms: 60_000,
        }
    }
}

impl AiConfig {
    /// Rejects settings that could never make a call, so that they stop the server at
    /// start-up.
    pub fn check(&self) -> Result<(), String> {
        let url = self.base_url.as_str();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "CARAVAN_OPENAI_BASE_URL must be an http(s) URL, got `{url}`"
            ));
        }
        if self.max_attempts == 0 {
            return Err("ai max_attempts must be at least 1".into());
        }
        if self.chat_timeout_ms == 0 || self.embed_timeout_ms == 0 {
            return Err("ai chat_timeout_ms and embed_timeout_ms must be more than 0".into());
        }
        if self.breaker_failures == 0 {
            return Err("ai breaker_failures must be at least 1".into());
        }
        if self.breaker_open_min_ms == 0 || self.breaker_open_max_ms < self.breaker_open_min_ms {
            return Err(
                "ai breaker_open_min_ms must be more than 0 and at most breaker_open_max_ms".into(),
            );
        }
        if self.local_embedding_dimensions == 0 || self.embedding_dimensions == 0 {
            return Err("ai embedding dimensions must be more than 0".into());
        }
        Ok(())
    }
}

/// Which object store keeps Caravan's files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectStoreBackend {
    /// A directory on this host (`<data_dir>/objects`): one host, or a shared volume.
    #[default]
    Local,
    /// A Google Cloud Storage bucket, shared by every host of a deployment.
    Gcs,
}

impl ObjectStoreBackend {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Gcs => "gcs",
        }
    }
}

/// Object storage: the backend and, for GCS, its bucket, credentials and retry budget.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObjectStoreConfig {
    /// `local` or `gcs` (`CARAVAN_OBJECT_STORE`).
    pub backend: ObjectStoreBackend,
    /// Used when `backend` is `gcs` (`[object_store.gcs]` in the file).
    pub gcs: GcsConfig,
}

impl ObjectStoreConfig {
    /// Rejects a GCS configuration that could not work, so that it stops the server at
    /// start-up rather than at the first file.
    pub fn check(&self) -> Result<(), String> {
        match self.backend {
            ObjectStoreBackend::Local => Ok(()),
            ObjectStoreBackend::Gcs => self.gcs.check(),
        }
    }
}

/// Google's endpoint for Cloud Storage (the XML API object_store speaks).
pub const DEFAULT_GCS_BASE_URL: &str = "https://storage.googleapis.com";

/// A Google Cloud Storage bucket and how to reach it.
///
/// Credentials, in order: the service-account key itself, the path of a service-account key
/// file, else Google's application-default credentials (the gcloud file in the home
/// directory, or the metadata server on GCE/GKE). `anonymous` sends none at all.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GcsConfig {
    /// The bucket (`CARAVAN_GCS_BUCKET`); required with the `gcs` backend.
    pub bucket: Option<String>,
    /// Path of a service-account key file (`GOOGLE_APPLICATION_CREDENTIALS`).
    pub service_account_path: Option<PathBuf>,
    /// A service-account key, the JSON itself (`CARAVAN_GCS_SERVICE_ACCOUNT_KEY`).
    pub service_account_key: Option<Secret>,
    /// Where the API lives (`CARAVAN_GCS_BASE_URL`); tests point it at a local fake.
    pub base_url: String,
    /// Send requests without credentials (`CARAVAN_GCS_ANONYMOUS`): for a local emulator
    /// or fake, never for a real bucket.
    pub anonymous: bool,
    /// Retries of one request after its first attempt (`CARAVAN_GCS_MAX_RETRIES`); server
    /// errors (5xx), 408, 429 and connection failures are retried.
    pub max_retries: u32,
    /// Wait before the first retry; each further one waits a random time up to twice the
    /// previous wait (`CARAVAN_GCS_INITIAL_BACKOFF_MS`).
    pub initial_backoff_ms: u64,
    /// Longest wait between two attempts (`CARAVAN_GCS_MAX_BACKOFF_MS`).
    pub max_backoff_ms: u64,
    /// No retry starts once this much time has passed since the first attempt
    /// (`CARAVAN_GCS_RETRY_TIMEOUT_MS`).
    pub retry_timeout_ms: u64,
    /// How long one attempt may take, connection and whole answer included
    /// (`CARAVAN_GCS_REQUEST_TIMEOUT_MS`).
    pub request_timeout_ms: u64,
    /// Consecutive failed operations (each after its own retries) after which the bucket's
    /// circuit opens and operations fail at once (`CARAVAN_GCS_BREAKER_FAILURES`).
    pub breaker_failures: u32,
    /// How long the circuit stays open the first time before a trial operation (half-open);
    /// up to half as long again, at random (`CARAVAN_GCS_BREAKER_OPEN_MIN_MS`).
    pub breaker_open_min_ms: u64,
    /// Cap on the open period, which doubles while trial operations keep failing
    /// (`CARAVAN_GCS_BREAKER_OPEN_MAX_MS`).
    pub breaker_open_max_ms: u64,
}

impl Default for GcsConfig {
    fn default() -> Self {
        Self {
            bucket: None,
            service_account_path: None,
            service_account_key: None,
            base_url: DEFAULT_GCS_BASE_URL.to_owned(),
            anonymous: false,
            max_retries: 5,
            initial_backoff_ms: 100,
            max_backoff_ms: 5_000,
            retry_timeout_ms: 30_000,
            request_timeout_ms: 10_000,
            breaker_failures: 5,
            breaker_open_min_ms: 10_000,
            breaker_open_max_ms: 60_000,
        }
    }
}

impl GcsConfig {
    /// The rules a usable GCS configuration follows, each stated in its message.
    pub fn check(&self) -> Result<(), String> {
        if self.bucket.as_deref().is_none_or(|b| b.trim().is_empty()) {
            return Err("object store `gcs` needs CARAVAN_GCS_BUCKET \
                        (or `bucket` in [object_store.gcs])"
                .into());
        }
        let has_key = self.service_account_key.is_some();
        let has_path = self.service_account_path.is_some();
        if has_key && has_path {
            return Err("set either GOOGLE_APPLICATION_CREDENTIALS or \
                        CARAVAN_GCS_SERVICE_ACCOUNT_KEY, not both"
                .into());
        }
        if self.anonymous && (has_key || has_path) {
            return Err(
                "CARAVAN_GCS_ANONYMOUS sends no credentials; unset it or unset \
                        GOOGLE_APPLICATION_CREDENTIALS / CARAVAN_GCS_SERVICE_ACCOUNT_KEY"
                    .into(),
            );
        }
        let url = self.base_url.as_str();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "CARAVAN_GCS_BASE_URL must be an http(s) URL, got `{url}`"
            ));
        }
        if self.initial_backoff_ms == 0 {
            return Err("CARAVAN_GCS_INITIAL_BACKOFF_MS must be at least 1".into());
        }
        if self.max_backoff_ms < self.initial_backoff_ms {
            return Err(format!(
                "CARAVAN_GCS_MAX_BACKOFF_MS ({}) must not be below \
                 CARAVAN_GCS_INITIAL_BACKOFF_MS ({})",
                self.max_backoff_ms, self.initial_backoff_ms
            ));
        }
        if self.request_timeout_ms == 0 {
            return Err("CARAVAN_GCS_REQUEST_TIMEOUT_MS must be more than 0".into());
        }
        check_breaker(
            "CARAVAN_GCS_BREAKER",
            self.breaker_failures,
            self.breaker_open_min_ms,
            self.breaker_open_max_ms,
        )
    }
}

/// The rules of an upstream's breaker settings, named by their variables' common prefix
/// (`CARAVAN_MAIL_BREAKER`, `CARAVAN_GCS_BREAKER`).
fn check_breaker(
    prefix: &str,
    failures: u32,
    open_min_ms: u64,
    open_max_ms: u64,
) -> Result<(), String> {
    if failures == 0 {
        return Err(format!("{prefix}_FAILURES must be at least 1"));
    }
    if open_min_ms == 0 || open_max_ms < open_min_ms {
        return Err(format!(
            "{prefix}_OPEN_MIN_MS must be more than 0 and at most {prefix}_OPEN_MAX_MS \
             (got {open_min_ms} and {open_max_ms})"
        ));
    }
    Ok(())
}

impl fmt::Debug for GcsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcsConfig")
            .field("bucket", &self.bucket)
            .field("service_account_path", &self.service_account_path)
            .field("service_account_key", &self.service_account_key)
            .field("base_url", &redact_url(&self.base_url))
            .field("anonymous", &self.anonymous)
            .field("max_retries", &self.max_retries)
            .field("initial_backoff_ms", &self.initial_backoff_ms)
            .field("max_backoff_ms", &self.max_backoff_ms)
            .field("retry_timeout_ms", &self.retry_timeout_ms)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("breaker_failures", &self.breaker_failures)
            .field("breaker_open_min_ms", &self.breaker_open_min_ms)
            .field("breaker_open_max_ms", &self.breaker_open_max_ms)
            .finish()
    }
}

/// The inbound-email webhook and the worker that processes what it stores.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InboundConfig {
    /// The domain of tenants' inbound addresses (`<tenant>@<domain>`, `<x>@<tenant>.<domain>`;
    /// `CARAVAN_INBOUND_DOMAIN`); the dashboard's `VITE_INBOUND_EMAIL_DOMAIN` must match.
    pub domain: String,
    /// When set, the webhook requires it as `?token=` or as the basic-auth password
    /// (`CARAVAN_INBOUND_SECRET`).
    pub webhook_secret: Option<Secret>,
    /// Largest accepted webhook body (`CARAVAN_INBOUND_BODY_LIMIT_BYTES`); SendGrid posts
    /// up to 30 MB.
    pub body_limit_bytes: usize,
    /// Messages processed at the same time by one host (`CARAVAN_INBOUND_WORKERS`); 0 runs
    /// no worker on this host.
    pub workers: u32,
    /// Attempts before a message is marked `failed` (kept, and visible to the admin).
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt up to `max_backoff_ms`.
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// How long a claimed message stays with one worker; a crashed worker's messages are
    /// taken over after it.
    pub lease_secs: u64,
    /// How often an idle worker looks for due messages (new ones wake it at once).
    pub poll_interval_ms: u64,
}

impl Default for InboundConfig {
    fn default() -> Self {
        Self {
            domain: "inbound.caravan.localhost".to_owned(),
            webhook_secret: None,
            body_limit_bytes: 30 * 1024 * 1024,
            workers: 2,
            max_attempts: 8,
            initial_backoff_ms: 1_000,
            max_backoff_ms: 300_000,
            lease_secs: 120,
            poll_interval_ms: 1_000,
        }
    }
}

impl fmt::Debug for InboundConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboundConfig")
            .field("domain", &self.domain)
            .field("webhook_secret", &self.webhook_secret)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("workers", &self.workers)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff_ms", &self.initial_backoff_ms)
            .field("max_backoff_ms", &self.max_backoff_ms)
            .field("lease_secs", &self.lease_secs)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .finish()
    }
}

/// Knowledge documents and the worker that indexes them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnowledgeConfig {
    /// Largest accepted upload request (`CARAVAN_KNOWLEDGE_UPLOAD_LIMIT_BYTES`; 50 MB).
    pub upload_limit_bytes: usize,
    /// Words per chunk, and words repeated from the end of one chunk at the start of the
    /// next.
    pub chunk_words: usize,
    pub chunk_overlap_words: usize,
    /// Documents indexed at the same time by one host (`CARAVAN_KNOWLEDGE_WORKERS`); 0 runs
    /// no worker on this host.
    pub workers: u32,
    /// Attempts before a document whose indexing keeps failing for outside reasons (object
    /// storage, embeddings, database) is marked `error`.
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt up to `max_backoff_ms`.
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// How long a claimed document stays with one worker.
    pub lease_secs: u64,
    /// How often an idle worker looks for due documents (uploads wake it at once).
    pub poll_interval_ms: u64,
    /// How often changed vector indexes are written to object storage.
    pub snapshot_interval_secs: u64,
    /// Texts per embeddings request.
    pub embed_batch: usize,
}

impl Default for KnowledgeConfig {
    fn default() -> Self {
        Self {
            upload_limit_bytes: 50 * 1024 * 1024,
            chunk_words: 500,
            chunk_overlap_words: 50,
            workers: 1,
            max_attempts: 8,
            initial_backoff_ms: 2_000,
            max_backoff_ms: 600_000,
            lease_secs: 300,
            poll_interval_ms: 1_000,
            snapshot_interval_secs: 30,
            embed_batch: 64,
        }
    }
}

/// Token and link lifetimes, in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Access tokens (JWT).
    pub access_token_ttl_secs: u64,
    /// Refresh tokens.
    pub refresh_token_ttl_secs: u64,
    /// How long a just-rotated refresh token is still accepted (two tabs refreshing at once).
    pub refresh_grace_secs: u64,
    /// Password-reset links.
    pub reset_token_ttl_secs: u64,
    /// Invitation links.
    pub invitation_ttl_secs: u64,
    /// How long a host trusts a verified session before asking the database again (so a
    /// logout or deactivation on another host takes effect within this time).
    pub session_cache_ttl_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            refresh_grace_secs: 30,
            reset_token_ttl_secs: 3600,
            invitation_ttl_secs: 48 * 3600,
            session_cache_ttl_secs: 30,
        }
    }
}

/// Request budgets. Defaults are the dashboard contract's (API.md §1.10).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Shared by every host of a deployment; prefixes every limiter key.
    pub namespace: String,
    /// Requests per minute per (tenant, route) (`CARAVAN_RATE_TENANT_PER_MINUTE`).
    pub tenant_per_minute: u32,
    /// Logins per minute per client address (`CARAVAN_RATE_LOGIN_PER_MINUTE`).
    pub login_per_minute: u32,
    /// Failed logins for one address before it is locked.
    pub login_failures_before_lock: u32,
    /// How long a locked address stays locked.
    pub login_lock_secs: u64,
    /// Password-reset requests per minute per client address.
    pub password_reset_per_minute: u32,
    /// Password updates (with a reset token) per minute per client address.
    pub password_update_per_minute: u32,
    /// `X-Client-ID` mismatches from one client address and tenant within five minutes
    /// before that address is blocked for half an hour.
    pub tenant_mismatch_limit: u32,
    /// Inbound-email webhook posts per minute per client address
    /// (`CARAVAN_RATE_INBOUND_PER_MINUTE`).
    pub inbound_per_minute: u32,
    /// Public PDF downloads per minute per client address (`CARAVAN_RATE_PUBLIC_PDF_PER_MINUTE`).
    pub public_pdf_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            namespace: "caravan".to_owned(),
            tenant_per_minute: 600,
            login_per_minute: 5,
            login_failures_before_lock: 10,
            login_lock_secs: 15 * 60,
            password_reset_per_minute: 3,
            password_update_per_minute: 5,
            tenant_mismatch_limit: 3,
            inbound_per_minute: 2000,
            public_pdf_per_minute: 120,
        }
    }
}

/// Which system carries outbound email.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// No network: every message stays in the outbox (row + `.eml`) with status `queued`.
    #[default]
    Outbox,
    /// An SMTP server (`smtp_url`).
    Smtp,
    /// The SendGrid v3 HTTP API (`sendgrid_api_key`).
    Sendgrid,
}

impl MailTransport {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outbox => "outbox",
            Self::Smtp => "smtp",
            Self::Sendgrid => "sendgrid",
        }
    }
}

/// Outbound email: the transport, its credentials, and the retry budget of one send.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// `outbox`, `smtp` or `sendgrid` (`CARAVAN_MAIL_TRANSPORT`).
    pub transport: MailTransport,
    /// `smtp://user:pass@host:587` (plain; add `?tls=required` for STARTTLS or
    /// `?tls=opportunistic`) or `smtps://user:pass@host:465` (TLS from the first byte)
    /// (`CARAVAN_SMTP_URL`).
    pub smtp_url: Option<Secret>,
    /// API key with the Mail Send permission (`SENDGRID_API_KEY`).
    pub sendgrid_api_key: Option<Secret>,
    /// Where the SendGrid API lives; tests point it at a local fake
    /// (`CARAVAN_SENDGRID_BASE_URL`).
    pub sendgrid_base_url: String,
    /// Attempts per email, the first included.
    pub max_attempts: u32,
    /// Wait after the first failed attempt; it doubles for each further one.
    pub initial_backoff_ms: u64,
    /// Longest wait between attempts. A server asking (`Retry-After`) for a longer pause
    /// than this gets no further attempt: the email is recorded as failed instead of
    /// holding its sender for longer.
    pub max_backoff_ms: u64,
    /// How long one attempt may take, connection and answer included.
    pub attempt_timeout_ms: u64,
    /// Consecutive failed deliveries (connection errors, timeouts, 429, 5xx, SMTP 4xx) after
    /// which the transport's circuit opens and emails wait, queued, instead of being sent
    /// (`CARAVAN_MAIL_BREAKER_FAILURES`).
    pub breaker_failures: u32,
    /// How long the circuit stays open the first time before a trial delivery (half-open);
    /// up to half as long again, at random (`CARAVAN_MAIL_BREAKER_OPEN_MIN_MS`).
    pub breaker_open_min_ms: u64,
    /// Cap on the open period, which doubles while trial deliveries keep failing
    /// (`CARAVAN_MAIL_BREAKER_OPEN_MAX_MS`).
    pub breaker_open_max_ms: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            transport: MailTransport::Outbox,
            smtp_url: None,
            sendgrid_api_key: None,
            sendgrid_base_url: "https://api.sendgrid.com".to_owned(),
            max_attempts: 3,
            initial_backoff_ms: 500,
            max_backoff_ms: 5_000,
            attempt_timeout_ms: 10_000,
            breaker_failures: 5,
            breaker_open_min_ms: 10_000,
            breaker_open_max_ms: 60_000,
        }
    }
}

impl MailConfig {
    /// Rejects combinations that could not send anything (a transport without its
    /// credentials), so that they stop the server at start-up rather than at the first email.
    pub fn check(&self) -> Result<(), String> {
        match self.transport {
            MailTransport::Outbox => {}
            MailTransport::Smtp if self.smtp_url.is_none() => {
                return Err(
                    "mail transport `smtp` needs CARAVAN_SMTP_URL (or `smtp_url` in [mail])".into(),
                );
            }
            MailTransport::Smtp => {}
            MailTransport::Sendgrid if self.sendgrid_api_key.is_none() => {
                return Err("mail transport `sendgrid` needs SENDGRID_API_KEY \
                            (or `sendgrid_api_key` in [mail])"
                    .into());
            }
            MailTransport::Sendgrid => {
                let url = self.sendgrid_base_url.as_str();
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(format!(
                        "CARAVAN_SENDGRID_BASE_URL must be an http(s) URL, got `{url}`"
                    ));
                }
            }
        }
        if self.max_attempts == 0 {
            return Err("mail max_attempts must be at least 1".into());
        }
        if self.attempt_timeout_ms == 0 {
            return Err("mail attempt_timeout_ms must be more than 0".into());
        }
        check_breaker(
            "CARAVAN_MAIL_BREAKER",
            self.breaker_failures,
            self.breaker_open_min_ms,
            self.breaker_open_max_ms,
        )?;
        Ok(())
    }
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("transport", &self.transport)
            .field(
                "smtp_url",
                &self.smtp_url.as_ref().map(|s| redact_url(s.expose())),
            )
            .field("sendgrid_api_key", &self.sendgrid_api_key)
            .field("sendgrid_base_url", &self.sendgrid_base_url)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff_ms", &self.initial_backoff_ms)
            .field("max_backoff_ms", &self.max_backoff_ms)
            .field("attempt_timeout_ms", &self.attempt_timeout_ms)
            .field("breaker_failures", &self.breaker_failures)
            .field("breaker_open_min_ms", &self.breaker_open_min_ms)
            .field("breaker_open_max_ms", &self.breaker_open_max_ms)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            redis_url: None,
            admin_token: None,
            openai_api_key: None,
            jwt_secret: None,
            app_url: "http://localhost:5173".to_owned(),
            public_url: "http://127.0.0.1:8000".to_owned(),
            mail_from: "no-reply@caravan.localhost".to_owned(),
            cors_origins: default_cors_origins(),
            body_limit_bytes: 10 * 1024 * 1024,
            log: "info".to_owned(),
            log_format: LogFormat::Json,
            db_max_connections: 10,
            db_acquire_timeout_ms: 3_000,
            db_statement_timeout_ms: 8_000,
            tenant_cache_ttl_secs: 300,
            shutdown_grace_secs: 20,
            trust_forwarded_for: false,
            rate_limits: RateLimitConfig::default(),
            auth: AuthConfig::default(),
            mail: MailConfig::default(),
            inbound: InboundConfig::default(),
            knowledge: KnowledgeConfig::default(),
            object_store: ObjectStoreConfig::default(),
            ai: AiConfig::default(),
        }
    }
}

/// The dashboard's local development servers (Vite picks 5173 and up; some setups use 3000).
fn default_cors_origins() -> Vec<String> {
    let ports = (5173..=5180).chain(std::iter::once(3000));
    ports
        .flat_map(|port| {
            [
                format!("http://localhost:{port}"),
                format!("http://127.0.0.1:{port}"),
            ]
        })
        .collect()
}

/// A configuration that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("invalid value for {var}: {message}")]
    Env { var: &'static str, message: String },
    #[error("invalid mail configuration: {0}")]
    Mail(String),
    #[error("invalid object storage configuration: {0}")]
    ObjectStore(String),
    #[error("invalid AI configuration: {0}")]
    Ai(String),
}

/// Reads one environment variable; anything implementing [`EnvSource`] can stand in for the
/// process environment, which keeps loading testable without touching global state.
pub trait EnvSource {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl<F: Fn(&str) -> Option<String>> EnvSource for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

impl Config {
    /// Loads defaults, then the TOML file (`file`, else `CARAVAN_CONFIG`), then the environment.
    pub fn load(file: Option<&Path>, env: &impl EnvSource) -> Result<Self, ConfigError> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| env.var("CARAVAN_CONFIG").map(PathBuf::from));
        let mut config = match file {
            Some(path) => Self::from_file(&path)?,
            None => Self::default(),
        };
        config.apply_env(env)?;
        config.mail.check().map_err(ConfigError::Mail)?;
        config.ai.check().map_err(ConfigError::Ai)?;
        config
            .object_store
            .check()
            .map_err(ConfigError::ObjectStore)?;
        Ok(config)
    }

    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source: Box::new(source),
        })
    }

    fn apply_env(&mut self, env: &impl EnvSource) -> Result<(), ConfigError> {
        if let Some(v) = env.var("CARAVAN_LISTEN") {
            self.listen = parse("CARAVAN_LISTEN", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = env.var("DATABASE_URL") {
            self.database_url = Some(Secret(v));
        }
        if let Some(v) = env.var("REDIS_URL") {
            self.redis_url = Some(Secret(v));
        }
        if let Some(v) = env.var("CARAVAN_ADMIN_TOKEN") {
            self.admin_token = Some(Secret(v));
        }
        if let Some(v) = env.var("OPENAI_API_KEY") {
            self.openai_api_key = Some(Secret(v));
        }
        if let Some(v) = env.var("CARAVAN_OPENAI_BASE_URL") {
            self.ai.base_url = v.trim().trim_end_matches('/').to_owned();
        }
        if let Some(v) = env.var("CARAVAN_OPENAI_CHAT_MODEL") {
            self.ai.chat_model = v.trim().to_owned();
        }
        if let Some(v) = env.var("CARAVAN_OPENAI_EMBEDDING_MODEL") {
            self.ai.embedding_model = v.trim().to_owned();
        }
        if let Some(v) = env.var("CARAVAN_JWT_SECRET") {
            self.jwt_secret = Some(Secret(v));
        }
        if let Some(v) = env.var("CARAVAN_APP_URL") {
            self.app_url = v;
        }
        if let Some(v) = env.var("CARAVAN_PUBLIC_URL") {
            self.public_url = v;
        }
        if let Some(v) = env.var("CARAVAN_MAIL_FROM") {
            self.mail_from = v;
        }
        if let Some(v) = env.var("CARAVAN_CORS_ORIGINS") {
            self.cors_origins = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = env.var("CARAVAN_BODY_LIMIT_BYTES") {
            self.body_limit_bytes = parse("CARAVAN_BODY_LIMIT_BYTES", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_INBOUND_DOMAIN") {
            self.inbound.domain = v.trim().to_ascii_lowercase();
        }
        if let Some(v) = env.var("CARAVAN_INBOUND_SECRET") {
            self.inbound.webhook_secret = (!v.is_empty()).then_some(Secret(v));
        }
        if let Some(v) = env.var("CARAVAN_INBOUND_BODY_LIMIT_BYTES") {
            self.inbound.body_limit_bytes = parse("CARAVAN_INBOUND_BODY_LIMIT_BYTES", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_INBOUND_WORKERS") {
            self.inbound.workers = parse("CARAVAN_INBOUND_WORKERS", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_KNOWLEDGE_UPLOAD_LIMIT_BYTES") {
            self.knowledge.upload_limit_bytes = parse("CARAVAN_KNOWLEDGE_UPLOAD_LIMIT_BYTES", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_KNOWLEDGE_WORKERS") {
            self.knowledge.workers = parse("CARAVAN_KNOWLEDGE_WORKERS", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_LOG") {
            self.log = v;
        }
        if let Some(v) = env.var("CARAVAN_LOG_FORMAT") {
            self.log_format = match v.as_str() {
                "json" => LogFormat::Json,
                "pretty" => LogFormat::Pretty,
                other => {
                    return Err(ConfigError::Env {
                        var: "CARAVAN_LOG_FORMAT",
                        message: format!("expected `json` or `pretty`, got `{other}`"),
                    });
                }
            };
        }
        if let Some(v) = env.var("CARAVAN_DB_MAX_CONNECTIONS") {
            self.db_max_connections = parse("CARAVAN_DB_MAX_CONNECTIONS", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_DB_ACQUIRE_TIMEOUT_MS") {
            self.db_acquire_timeout_ms = parse("CARAVAN_DB_ACQUIRE_TIMEOUT_MS", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_DB_STATEMENT_TIMEOUT_MS") {
            self.db_statement_timeout_ms = parse("CARAVAN_DB_STATEMENT_TIMEOUT_MS", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_TENANT_CACHE_TTL_SECS") {
            self.tenant_cache_ttl_secs = parse("CARAVAN_TENANT_CACHE_TTL_SECS", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_SHUTDOWN_GRACE_SECS") {
            self.shutdown_grace_secs = parse("CARAVAN_SHUTDOWN_GRACE_SECS", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_TRUST_FORWARDED_FOR") {
            self.trust_forwarded_for = parse("CARAVAN_TRUST_FORWARDED_FOR", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_RATE_TENANT_PER_MINUTE") {
            self.rate_limits.tenant_per_minute = parse("CARAVAN_RATE_TENANT_PER_MINUTE", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_RATE_PUBLIC_PDF_PER_MINUTE") {
            self.rate_limits.public_pdf_per_minute =
                parse("CARAVAN_RATE_PUBLIC_PDF_PER_MINUTE", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_RATE_INBOUND_PER_MINUTE") {
            self.rate_limits.inbound_per_minute = parse("CARAVAN_RATE_INBOUND_PER_MINUTE", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_RATE_LOGIN_PER_MINUTE") {
            self.rate_limits.login_per_minute = parse("CARAVAN_RATE_LOGIN_PER_MINUTE", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_MAIL_TRANSPORT") {
            self.mail.transport = match v.trim() {
                "outbox" => MailTransport::Outbox,
                "smtp" => MailTransport::Smtp,
                "sendgrid" => MailTransport::Sendgrid,
                other => {
                    return Err(ConfigError::Env {
                        var: "CARAVAN_MAIL_TRANSPORT",
                        message: format!("expected `outbox`, `smtp` or `sendgrid`, got `{other}`"),
                    });
                }
            };
        }
        if let Some(v) = env.var("CARAVAN_SMTP_URL") {
            self.mail.smtp_url = Some(Secret(v));
        }
        if let Some(v) = env.var("SENDGRID_API_KEY") {
            self.mail.sendgrid_api_key = Some(Secret(v));
        }
        if let Some(v) = env.var("CARAVAN_SENDGRID_BASE_URL") {
            self.mail.sendgrid_base_url = v.trim().trim_end_matches('/').to_owned();
        }
        if let Some(v) = env.var("CARAVAN_MAIL_BREAKER_FAILURES") {
            self.mail.breaker_failures = parse("CARAVAN_MAIL_BREAKER_FAILURES", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_MAIL_BREAKER_OPEN_MIN_MS") {
            self.mail.breaker_open_min_ms = parse("CARAVAN_MAIL_BREAKER_OPEN_MIN_MS", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_MAIL_BREAKER_OPEN_MAX_MS") {
            self.mail.breaker_open_max_ms = parse("CARAVAN_MAIL_BREAKER_OPEN_MAX_MS", &v)?;
        }
        self.apply_object_store_env(env)
    }

    fn apply_object_store_env(&mut self, env: &impl EnvSource) -> Result<(), ConfigError> {
        let store = &mut self.object_store;
        if let Some(v) = env.var("CARAVAN_OBJECT_STORE") {
            store.backend = match v.trim() {
                "local" => ObjectStoreBackend::Local,
                "gcs" => ObjectStoreBackend::Gcs,
                other => {
                    return Err(ConfigError::Env {
                        var: "CARAVAN_OBJECT_STORE",
                        message: format!("expected `local` or `gcs`, got `{other}`"),
                    });
                }
            };
        }
        let gcs = &mut store.gcs;
        if let Some(v) = env.var("CARAVAN_GCS_BUCKET") {
            gcs.bucket = Some(v.trim().to_owned());
        }
        if let Some(v) = env.var("GOOGLE_APPLICATION_CREDENTIALS") {
            gcs.service_account_path = Some(PathBuf::from(v));
        }
        if let Some(v) = env.var("CARAVAN_GCS_SERVICE_ACCOUNT_KEY") {
            gcs.service_account_key = Some(Secret(v));
        }
        if let Some(v) = env.var("CARAVAN_GCS_BASE_URL") {
            gcs.base_url = v.trim().trim_end_matches('/').to_owned();
        }
        if let Some(v) = env.var("CARAVAN_GCS_ANONYMOUS") {
            gcs.anonymous = parse("CARAVAN_GCS_ANONYMOUS", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_GCS_MAX_RETRIES") {
            gcs.max_retries = parse("CARAVAN_GCS_MAX_RETRIES", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_GCS_INITIAL_BACKOFF_MS") {
            gcs.initial_backoff_ms = parse("CARAVAN_GCS_INITIAL_BACKOFF_MS", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_GCS_MAX_BACKOFF_MS") {
            gcs.max_backoff_ms = parse("CARAVAN_GCS_MAX_BACKOFF_MS", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_GCS_RETRY_TIMEOUT_MS") {
            gcs.retry_timeout_ms = parse("CARAVAN_GCS_RETRY_TIMEOUT_MS", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_GCS_REQUEST_TIMEOUT_MS") {
            gcs.request_timeout_ms = parse("CARAVAN_GCS_REQUEST_TIMEOUT_MS", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_GCS_BREAKER_FAILURES") {
            gcs.breaker_failures = parse("CARAVAN_GCS_BREAKER_FAILURES", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_GCS_BREAKER_OPEN_MIN_MS") {
            gcs.breaker_open_min_ms = parse("CARAVAN_GCS_BREAKER_OPEN_MIN_MS", &v)?;
        }
        if let Some(v) = env.var("CARAVAN_GCS_BREAKER_OPEN_MAX_MS") {
            gcs.breaker_open_max_ms = parse("CARAVAN_GCS_BREAKER_OPEN_MAX_MS", &v)?;
        }
        Ok(())
    }

    /// The database to connect to: `DATABASE_URL`, else `caravan.db` inside the data directory.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!("sqlite://{}", self.data_dir.join("caravan.db").display()),
        }
    }
}

fn parse<T: std::str::FromStr>(var: &'static str, value: &str) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    value.trim().parse().map_err(|e| ConfigError::Env {
        var,
        message: format!("`{value}`: {e}"),
    })
}

/// Hides the password of a connection URL (`postgres://user:***@host/db`).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = |s: &Option<Secret>| s.as_ref().map(|s| redact_url(s.expose()));
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &url(&self.database_url))
            .field("redis_url", &url(&self.redis_url))
            .field("admin_token", &self.admin_token)
            .field("openai_api_key", &self.openai_api_key)
            .field("jwt_secret", &self.jwt_secret)
            .field("app_url", &self.app_url)
            .field("public_url", &self.public_url)
            .field("mail_from", &self.mail_from)
            .field("cors_origins", &self.cors_origins)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("log", &self.log)
            .field("log_format", &self.log_format)
            .field("db_max_connections", &self.db_max_connections)
            .field("db_acquire_timeout_ms", &self.db_acquire_timeout_ms)
            .field("db_statement_timeout_ms", &self.db_statement_timeout_ms)
            .field("tenant_cache_ttl_secs", &self.tenant_cache_ttl_secs)
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("rate_limits", &self.rate_limits)
            .field("auth", &self.auth)
            .field("mail", &self.mail)
            .field("inbound", &self.inbound)
            .field("knowledge", &self.knowledge)
            .field("object_store", &self.object_store)
            .field("ai", &self.ai)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl EnvSource {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn defaults_need_no_configuration() {
        let config = Config::load(None, &env(&[])).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(
            config.effective_database_url(),
            "sqlite://./data/caravan.db"
        );
        assert!(config.redis_url.is_none() && config.admin_token.is_none());
        assert!(
            config
                .cors_origins
                .contains(&"http://localhost:5173".to_owned())
        );
        assert!(
            config
                .cors_origins
                .contains(&"http://127.0.0.1:3000".to_owned())
        );
        assert_eq!(config.body_limit_bytes, 10 * 1024 * 1024);
    }

    #[test]
    fn environment_overrides_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("caravan.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:9000\"\nlog = \"debug\"\n").unwrap();
        let config = Config::load(
            Some(&path),
            &env(&[
                ("CARAVAN_LOG", "warn"),
                ("CARAVAN_CORS_ORIGINS", "https://a.test, https://b.test"),
            ]),
        )
        .unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(config.log, "warn");
        assert_eq!(
            config.cors_origins,
            vec!["https://a.test", "https://b.test"]
        );
    }

    #[test]
    fn ai_settings_come_from_the_ai_table_and_the_openai_variables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("caravan.toml");
        std::fs::write(
            &path,
            "[ai]\nchat_model = \"from-file\"\nmax_attempts = 5\nbreaker_failures = 2\n",
        )
        .unwrap();
        let config = Config::load(
            Some(&path),
            &env(&[
                ("CARAVAN_OPENAI_BASE_URL", "http://127.0.0.1:9999/v1/"),
                ("CARAVAN_OPENAI_EMBEDDING_MODEL", "embed-test"),
            ]),
        )
        .unwrap();
        assert_eq!(config.ai.base_url, "http://127.0.0.1:9999/v1");
        assert_eq!(config.ai.chat_model, "from-file");
        assert_eq!(config.ai.embedding_model, "embed-test");
        assert_eq!(config.ai.max_attempts, 5);
        assert_eq!(config.ai.breaker_failures, 2);
        assert_eq!(config.ai.chat_timeout_ms, 20_000);
        assert_eq!(config.ai.local_embedding_dimensions, 384);
        let defaults = Config::load(None, &env(&[])).unwrap();
        assert_eq!(defaults.ai.base_url, "https://api.openai.com/v1");
        assert_eq!(defaults.ai.chat_model, "gpt-4o-mini");
        assert_eq!(defaults.ai.embedding_model, "text-embedding-3-small");
    }

    #[test]
    fn ai_settings_that_could_never_call_stop_start_up() {
        let err =
            Config::load(None, &env(&[("CARAVAN_OPENAI_BASE_URL", "api.openai.com")])).unwrap_err();
        assert!(err.to_string().contains("CARAVAN_OPENAI_BASE_URL"), "{err}");
    }

    #[test]
    fn unknown_keys_in_the_file_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("caravan.toml");
        std::fs::write(&path, "listne = \"0.0.0.0:9000\"\n").unwrap();
        let err = Config::load(Some(&path), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("listne"), "{err}");
    }

    #[test]
    fn a_malformed_variable_names_itself() {
        let err = Config::load(None, &env(&[("CARAVAN_LISTEN", "nowhere")])).unwrap_err();
        assert!(err.to_string().contains("CARAVAN_LISTEN"), "{err}");
    }

    #[test]
    fn debug_output_redacts_every_secret() {
        let config = Config::load(
            None,
            &env(&[
                ("DATABASE_URL", "postgres://app:hunter2@db.internal/caravan"),
                ("REDIS_URL", "redis://:s3cret@cache:6379"),
                ("CARAVAN_ADMIN_TOKEN", "admin-token-value"),
                ("OPENAI_API_KEY", "sk-live-key"),
                (
                    "CARAVAN_JWT_SECRET",
                    "jwt-secret-value-long-enough-0123456789",
                ),
                ("CARAVAN_MAIL_TRANSPORT", "smtp"),
                (
                    "CARAVAN_SMTP_URL",
                    "smtp://mailer:smtp-pass@mail.internal:587",
                ),
                ("SENDGRID_API_KEY", "SG.sendgrid-key"),
                ("CARAVAN_OBJECT_STORE", "gcs"),
                ("CARAVAN_GCS_BUCKET", "caravan-files"),
                (
                    "CARAVAN_GCS_SERVICE_ACCOUNT_KEY",
                    r#"{"private_key": "-----BEGIN PRIVATE KEY-----gcs-key-material"}"#,
                ),
            ]),
        )
        .unwrap();
        let shown = format!("{config:?}");
        for secret in [
            "hunter2",
            "s3cret",
            "admin-token-value",
            "sk-live-key",
            "jwt-secret-value",
            "smtp-pass",
            "sendgrid-key",
            "gcs-key-material",
        ] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        assert!(
            shown.contains("postgres://app:***@db.internal/caravan"),
            "{shown}"
        );
    }

    #[test]
    fn mail_defaults_to_the_outbox_and_reads_its_variables() {
        let config = Config::load(None, &env(&[])).unwrap();
        assert_eq!(config.mail.transport, MailTransport::Outbox);
        let config = Config::load(
            None,
            &env(&[
                ("CARAVAN_MAIL_TRANSPORT", "sendgrid"),
                ("SENDGRID_API_KEY", "SG.key"),
                ("CARAVAN_SENDGRID_BASE_URL", "http://127.0.0.1:9999/"),
            ]),
        )
        .unwrap();
        assert_eq!(config.mail.transport, MailTransport::Sendgrid);
        assert_eq!(config.mail.sendgrid_base_url, "http://127.0.0.1:9999");
        assert_eq!(
            config.mail.sendgrid_api_key.as_ref().map(Secret::expose),
            Some("SG.key")
        );
    }

    #[test]
    fn a_mail_transport_without_its_credentials_stops_start_up() {
        let err = Config::load(None, &env(&[("CARAVAN_MAIL_TRANSPORT", "sendgrid")])).unwrap_err();
        assert!(err.to_string().contains("SENDGRID_API_KEY"), "{err}");
        let err = Config::load(None, &env(&[("CARAVAN_MAIL_TRANSPORT", "smtp")])).unwrap_err();
        assert!(err.to_string().contains("CARAVAN_SMTP_URL"), "{err}");
        let err = Config::load(None, &env(&[("CARAVAN_MAIL_TRANSPORT", "pigeon")])).unwrap_err();
        assert!(err.to_string().contains("CARAVAN_MAIL_TRANSPORT"), "{err}");
    }

    #[test]
    fn the_mail_table_configures_the_transport_and_its_retries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("caravan.toml");
        std::fs::write(
            &path,
            "[mail]\ntransport = \"smtp\"\nsmtp_url = \"smtp://127.0.0.1:2525\"\n\
             max_attempts = 5\nattempt_timeout_ms = 2000\n",
        )
        .unwrap();
        let config = Config::load(Some(&path), &env(&[])).unwrap();
        assert_eq!(config.mail.transport, MailTransport::Smtp);
        assert_eq!(config.mail.max_attempts, 5);
        assert_eq!(config.mail.attempt_timeout_ms, 2000);
        assert_eq!(config.mail.initial_backoff_ms, 500);
    }

    #[test]
    fn object_storage_defaults_to_the_local_directory_and_reads_the_gcs_variables() {
        let config = Config::load(None, &env(&[])).unwrap();
        assert_eq!(config.object_store.backend, ObjectStoreBackend::Local);
        let gcs = &config.object_store.gcs;
        assert_eq!(gcs.base_url, "https://storage.googleapis.com");
        assert_eq!(
            (
                gcs.max_retries,
                gcs.initial_backoff_ms,
                gcs.max_backoff_ms,
                gcs.retry_timeout_ms,
                gcs.request_timeout_ms
            ),
            (5, 100, 5_000, 30_000, 10_000)
        );

        let config = Config::load(
            None,
            &env(&[
                ("CARAVAN_OBJECT_STORE", "gcs"),
                ("CARAVAN_GCS_BUCKET", "caravan-files"),
                ("GOOGLE_APPLICATION_CREDENTIALS", "/secrets/gcs.json"),
                ("CARAVAN_GCS_BASE_URL", "http://127.0.0.1:4443/"),
                ("CARAVAN_GCS_MAX_RETRIES", "2"),
                ("CARAVAN_GCS_INITIAL_BACKOFF_MS", "10"),
                ("CARAVAN_GCS_MAX_BACKOFF_MS", "50"),
                ("CARAVAN_GCS_RETRY_TIMEOUT_MS", "1000"),
                ("CARAVAN_GCS_REQUEST_TIMEOUT_MS", "500"),
            ]),
        )
        .unwrap();
        assert_eq!(config.object_store.backend, ObjectStoreBackend::Gcs);
        let gcs = &config.object_store.gcs;
        assert_eq!(gcs.bucket.as_deref(), Some("caravan-files"));
        assert_eq!(
            gcs.service_account_path.as_deref(),
            Some(Path::new("/secrets/gcs.json"))
        );
        assert_eq!(gcs.base_url, "http://127.0.0.1:4443");
        assert_eq!(
            (
                gcs.max_retries,
                gcs.initial_backoff_ms,
                gcs.max_backoff_ms,
                gcs.retry_timeout_ms,
                gcs.request_timeout_ms
            ),
            (2, 10, 50, 1000, 500)
        );
    }

    #[test]
    fn the_gcs_backend_without_a_bucket_stops_start_up_naming_the_variable() {
        let err = Config::load(None, &env(&[("CARAVAN_OBJECT_STORE", "gcs")])).unwrap_err();
        assert!(err.to_string().contains("CARAVAN_GCS_BUCKET"), "{err}");
        let err = Config::load(None, &env(&[("CARAVAN_OBJECT_STORE", "s3")])).unwrap_err();
        assert!(err.to_string().contains("CARAVAN_OBJECT_STORE"), "{err}");
        let err = Config::load(
            None,
            &env(&[
                ("CARAVAN_OBJECT_STORE", "gcs"),
                ("CARAVAN_GCS_BUCKET", "b"),
                ("GOOGLE_APPLICATION_CREDENTIALS", "/secrets/gcs.json"),
                ("CARAVAN_GCS_SERVICE_ACCOUNT_KEY", "{}"),
            ]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
        let err = Config::load(
            None,
            &env(&[
                ("CARAVAN_OBJECT_STORE", "gcs"),
                ("CARAVAN_GCS_BUCKET", "b"),
                ("CARAVAN_GCS_INITIAL_BACKOFF_MS", "0"),
            ]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("CARAVAN_GCS_INITIAL_BACKOFF_MS"),
            "{err}"
        );
        // The local backend ignores GCS settings it does not use.
        Config::load(None, &env(&[("CARAVAN_GCS_INITIAL_BACKOFF_MS", "0")])).unwrap();
    }

    #[test]
    fn the_object_store_table_configures_gcs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("caravan.toml");
        std::fs::write(
            &path,
            "[object_store]\nbackend = \"gcs\"\n\n[object_store.gcs]\nbucket = \"files\"\n\
             service_account_key = \"{}\"\nretry_timeout_ms = 2000\n",
        )
        .unwrap();
        let config = Config::load(Some(&path), &env(&[])).unwrap();
        assert_eq!(config.object_store.backend, ObjectStoreBackend::Gcs);
        assert_eq!(config.object_store.gcs.bucket.as_deref(), Some("files"));
        assert_eq!(config.object_store.gcs.retry_timeout_ms, 2000);
        assert_eq!(config.object_store.gcs.max_retries, 5);
        assert!(config.object_store.gcs.service_account_key.is_some());
    }

    #[test]
    fn breaker_settings_of_mail_and_gcs_come_from_their_tables_and_variables() {
        let defaults = Config::load(None, &env(&[])).unwrap();
        let breaker = |failures, min, max| (failures, min, max);
        let mail = &defaults.mail;
        assert_eq!(
            breaker(
                mail.breaker_failures,
                mail.breaker_open_min_ms,
                mail.breaker_open_max_ms
            ),
            (5, 10_000, 60_000)
        );
        let gcs = &defaults.object_store.gcs;
        assert_eq!(
            breaker(
                gcs.breaker_failures,
                gcs.breaker_open_min_ms,
                gcs.breaker_open_max_ms
            ),
            (5, 10_000, 60_000)
        );

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("caravan.toml");
        std::fs::write(
            &path,
            "[mail]\nbreaker_failures = 2\n\n[object_store.gcs]\nbreaker_open_max_ms = 90000\n",
        )
        .unwrap();
        let config = Config::load(
            Some(&path),
            &env(&[
                ("CARAVAN_MAIL_BREAKER_OPEN_MIN_MS", "300"),
                ("CARAVAN_MAIL_BREAKER_OPEN_MAX_MS", "600"),
                ("CARAVAN_GCS_BREAKER_FAILURES", "3"),
                ("CARAVAN_GCS_BREAKER_OPEN_MIN_MS", "400"),
            ]),
        )
        .unwrap();
        let mail = &config.mail;
        assert_eq!(
            breaker(
                mail.breaker_failures,
                mail.breaker_open_min_ms,
                mail.breaker_open_max_ms
            ),
            (2, 300, 600)
        );
        let gcs = &config.object_store.gcs;
        assert_eq!(
            breaker(
                gcs.breaker_failures,
                gcs.breaker_open_min_ms,
                gcs.breaker_open_max_ms
            ),
            (3, 400, 90_000)
        );
    }

    #[test]
    fn breaker_settings_that_could_never_close_stop_start_up_naming_the_variable() {
        let err = Config::load(None, &env(&[("CARAVAN_MAIL_BREAKER_FAILURES", "0")])).unwrap_err();
        assert!(
            err.to_string().contains("CARAVAN_MAIL_BREAKER_FAILURES"),
            "{err}"
        );
        let err = Config::load(
            None,
            &env(&[
                ("CARAVAN_OBJECT_STORE", "gcs"),
                ("CARAVAN_GCS_BUCKET", "b"),
                ("CARAVAN_GCS_BREAKER_OPEN_MIN_MS", "5000"),
                ("CARAVAN_GCS_BREAKER_OPEN_MAX_MS", "1000"),
            ]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("CARAVAN_GCS_BREAKER_OPEN_MIN_MS"),
            "{err}"
        );
    }
}
