//! Persistence: per-area repository traits with a SQLite and a PostgreSQL implementation.
//!
//! Architecture Invariant: SQL lives only under `storage/sqlite*` and `storage/postgres*`.
//! Every tenant-owned table has a `tenant_id` column with a foreign key to `tenants` that
//! cascades on delete, which is what makes deleting a tenant complete (`schema` checks it).

pub mod accounts;
pub mod inbound;
pub mod knowledge;
pub mod outbox;
pub mod plugins;
pub mod quotes;
pub mod rates;
pub mod schema;
pub mod tenants;

mod postgres;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

pub use accounts::AccountRepo;
pub use inbound::{InboundRepo, NotificationRepo, TicketRepo};
pub use knowledge::KnowledgeRepo;
pub use outbox::OutboxRepo;
pub use plugins::PluginRepo;
pub use quotes::{ClientRepo, QuoteRepo};
pub use rates::RateRepo;
pub use schema::{OwnedTable, SchemaRepo};
pub use tenants::TenantRepo;

/// Which rows of tenant-owned tables a transaction may see (PostgreSQL row-level security,
/// see the 0004 migration; SQLite ignores it).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    /// One tenant's rows: every tenant-scoped operation.
    Tenant(&'a str),
    /// Every tenant's rows: only for lookups that cannot know the tenant in advance.
    Platform,
}

/// Which database engine is behind the traits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `sqlite://path` (created if missing) or `postgres://…`.
    pub url: String,
    pub max_connections: u32,
    /// How long a caller waits for a pooled connection before getting `Unavailable`.
    pub acquire_timeout: Duration,
    /// PostgreSQL `statement_timeout`, SQLite busy timeout.
    pub statement_timeout: Duration,
}

impl ConnectOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(8),
        }
    }
}

/// Every repository, behind trait objects so services do not care which backend runs.
#[derive(Clone)]
pub struct Storage {
    pub backend: Backend,
    pub tenants: Arc<dyn TenantRepo>,
    pub plugins: Arc<dyn PluginRepo>,
    pub accounts: Arc<dyn AccountRepo>,
    pub outbox: Arc<dyn OutboxRepo>,
    pub inbound: Arc<dyn InboundRepo>,
    pub knowledge: Arc<dyn KnowledgeRepo>,
    pub tickets: Arc<dyn TicketRepo>,
    pub notifications: Arc<dyn NotificationRepo>,
    pub quotes: Arc<dyn QuoteRepo>,
    pub clients: Arc<dyn ClientRepo>,
    pub rates: Arc<dyn RateRepo>,
    pub schema: Arc<dyn SchemaRepo>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Storage {
    /// Connects to the database named by the URL's scheme. Migrations are not applied here:
    /// call [`Storage::migrate`].
    pub async fn connect(options: &ConnectOptions) -> Result<Self, StorageError> {
        if options.url.starts_with("postgres://") || options.url.starts_with("postgresql://") {
            postgres::connect(options).await
        } else if options.url.starts_with("sqlite:") {
            sqlite::connect(options).await
        } else {
            Err(StorageError::Config(format!(
                "unsupported database URL scheme in `{}` (expected sqlite:// or postgres://)",
                crate::config::redact_url(&options.url)
            )))
        }
    }

    /// Applies the backend's pending migrations (idempotent).
    pub async fn migrate(&self) -> Result<(), StorageError> {
        self.schema.migrate().await
    }
}

/// What went wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database cannot be reached or no connection became free in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A statement ran past the statement or busy timeout.
    #[error("database statement timed out")]
    Timeout,
    /// A unique or primary-key constraint rejected the write. The name is the same on every
    /// backend (e.g. `tenants_pkey`, `tenant_inbound_addresses_address_key`).
    #[error("constraint `{constraint}` violated")]
    Conflict { constraint: String },
    /// A stored value could not be decoded (a bug or a manual edit of the database).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("invalid database configuration: {0}")]
    Config(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Other(sqlx::Error),
}

impl StorageError {
    /// Whether retrying later can help (the condition is outside the request's control).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Timeout)
    }

    /// Classifies errors that look the same on both backends; backend-specific codes are
    /// handled by each backend before falling back to this.
    fn from_sqlx_common(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut => {
                Self::Unavailable("no database connection became available in time".into())
            }
            sqlx::Error::PoolClosed => Self::Unavailable("the connection pool is closed".into()),
            sqlx::Error::Io(e) => Self::Unavailable(e.to_string()),
            sqlx::Error::Tls(e) => Self::Unavailable(format!("TLS: {e}")),
            sqlx::Error::Protocol(e) => Self::Unavailable(format!("protocol: {e}")),
            sqlx::Error::WorkerCrashed => Self::Unavailable("database worker crashed".into()),
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                Self::Corrupt(err.to_string())
            }
            other => Self::Other(other),
        }
    }
}
