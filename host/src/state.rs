//! `AppState`: the services every handler can reach, built once from the configuration.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::accounts::tokens::JwtKeys;
use crate::accounts::{AccountService, AuthSettings};
use crate::ai::AiService;
use crate::blobs::Blobs;
use crate::config::{Config, ObjectStoreBackend, redact_url};
use crate::crm::CrmService;
use crate::helpdesk::HelpdeskService;
use crate::inbound::InboundService;
use crate::knowledge::KnowledgeService;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::notifications::NotificationService;
use crate::plugins::PluginRuntime;
use crate::plugins::registry::PluginService;
use crate::quotes::QuoteService;
use crate::ratelimit::RateLimiter;
use crate::rates::RateService;
use crate::redis::Redis;
use crate::storage::{ConnectOptions, Storage};
use crate::tenants::TenantService;
use crate::tenants::cache::TenantCache;
use crate::tickets::TicketService;
use crate::vectors::{IndexOptions, VectorIndexes};

#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub storage: Storage,
    pub blobs: Blobs,
    pub redis: Option<Arc<Redis>>,
    pub tenants: Arc<TenantService>,
    pub plugins: Arc<PluginService>,
    pub accounts: Arc<AccountService>,
    pub mailer: Mailer,
    pub tickets: Arc<TicketService>,
    pub notifications: Arc<NotificationService>,
    pub inbound: Arc<InboundService>,
    pub crm: Arc<CrmService>,
    pub quotes: Arc<QuoteService>,
    /// Per-tenant vector indexes (FAISS), loaded lazily from their snapshots.
    pub vectors: Arc<VectorIndexes>,
    /// Knowledge documents, their indexing worker and retrieval.
    pub knowledge: Arc<KnowledgeService>,
    /// Answers staff questions from the knowledge base.
    pub helpdesk: Arc<HelpdeskService>,
    pub rates: Arc<RateService>,
    /// Chat and embeddings (OpenAI behind a deadline, retries and a circuit breaker, with
    /// offline fallbacks).
    pub ai: Arc<AiService>,
    /// Request budgets, shared through Redis when it is configured.
    pub limiter: RateLimiter,
    pub metrics: Arc<Metrics>,
}

/// The database options the configuration asks for.
pub fn connect_options(config: &Config) -> ConnectOptions {
    ConnectOptions {
        url: config.effective_database_url(),
        max_connections: config.db_max_connections,
        acquire_timeout: Duration::from_millis(config.db_acquire_timeout_ms),
        statement_timeout: Duration::from_millis(config.db_statement_timeout_ms),
    }
}

impl AppState {
    /// Connects to the database, applies migrations and assembles the services.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let options = connect_options(&config);
        let storage = Storage::connect(&options)
            .await
            .with_context(|| format!("connecting to {}", redact_url(&options.url)))?;
        storage.migrate().await.context("applying migrations")?;
        Self::with_storage(config, storage)
    }

    /// Assembles the services on an already migrated database.
    pub fn with_storage(config: Config, storage: Storage) -> anyhow::Result<Self> {
        crate::tls::install_crypto_provider();
        let metrics = Arc::new(Metrics::new());
        let blobs = match config.object_store.backend {
            ObjectStoreBackend::Local => Blobs::local(&config.data_dir.join("objects")),
            ObjectStoreBackend::Gcs => Blobs::gcs(&config.object_store.gcs, &metrics),
        }
        .with_context(|| {
            format!(
                "opening the object store ({})",
                config.object_store.backend.as_str()
            )
        })?;
        let redis = match &config.redis_url {
            Some(url) => {
                metrics.enable_redis();
                Some(Arc::new(Redis::new(url.expose()).with_context(|| {
                    format!("invalid REDIS_URL {}", redact_url(url.expose()))
                })?))
            }
            None => None,
        };
        let cache = TenantCache::new(
            redis.clone(),
            Duration::from_secs(config.tenant_cache_ttl_secs),
        );
        let tenants = Arc::new(TenantService::new(
            storage.tenants.clone(),
            storage.plugins.clone(),
            cache,
            blobs.clone(),
        ));
        let runtime = Arc::new(PluginRuntime::new().context("starting the plugin runtime")?);
        let plugins = Arc::new(PluginService::new(
            runtime,
            storage.plugins.clone(),
            blobs.clone(),
            redis.clone(),
            metrics.clone(),
        ));
        let mailer = Mailer::from_config(
            storage.outbox.clone(),
            config.data_dir.join("outbox"),
            config.mail_from.clone(),
            &config.mail,
            &metrics,
        )
        .context("configuring outbound email")?;
        let keys = JwtKeys::load(
            config.jwt_secret.as_ref().map(|s| s.expose()),
            &config.data_dir,
        )
        .context("loading the access-token key")?;
        let accounts = Arc::new(AccountService::new(
            storage.accounts.clone(),
            tenants.clone(),
            mailer.clone(),
            keys,
            AuthSettings::from_config(&config),
        ));
        let tickets = Arc::new(TicketService::new(storage.tickets.clone(), mailer.clone()));
        let notifications = Arc::new(NotificationService::new(
            storage.notifications.clone(),
            accounts.clone(),
            mailer.clone(),
            config.app_url.clone(),
        ));
        let rates = Arc::new(RateService::new(storage.rates.clone()));
        let crm = Arc::new(CrmService::new(storage.clients.clone()));
        let quotes = Arc::new(QuoteService::new(
            storage.quotes.clone(),
            rates.clone(),
            plugins.clone(),
            blobs.clone(),
            mailer.clone(),
            crm.clone(),
            notifications.clone(),
            tickets.clone(),
            tenants.clone(),
            config.public_url.clone(),
        ));
        let inbound = Arc::new(InboundService::new(
            tenants.clone(),
            storage.inbound.clone(),
            blobs.clone(),
            plugins.clone(),
            tickets.clone(),
            notifications.clone(),
            quotes.clone(),
            config.inbound.clone(),
        ));
        if let Some(url) = &config.redis_url
            && tokio::runtime::Handle::try_current().is_ok()
        {
            plugins.spawn_event_listener(url.expose().to_owned());
        }
        let vectors = Arc::new(VectorIndexes::new(blobs.clone(), IndexOptions::default()));
        let limiter = RateLimiter::new(redis.clone());
        let ai = Arc::new(AiService::new(
            &config.ai,
            config.openai_api_key.as_ref(),
            metrics.clone(),
        ));
        let knowledge = Arc::new(KnowledgeService::new(
            storage.knowledge.clone(),
            blobs.clone(),
            vectors.clone(),
            ai.clone(),
            config.knowledge.clone(),
        ));
        let helpdesk = Arc::new(HelpdeskService::new(knowledge.clone(), ai.clone()));
        Ok(Self {
            config: Arc::new(config),
            storage,
            blobs,
            redis,
            tenants,
            plugins,
            accounts,
            mailer,
            tickets,
            notifications,
            inbound,
            crm,
            quotes,
            vectors,
            knowledge,
            helpdesk,
            rates,
            ai,
            limiter,
            metrics,
        })
    }
}
