//! Inbound email: the webhook's work (decode, find the tenant, persist, answer) and the
//! worker that turns each persisted message into a ticket and notifications.
//!
//! The message is stored before the webhook answers 2xx, so an accepted email is never lost;
//! processing happens afterwards in [`worker`], step by step, with each step's outcome
//! recorded and every step's effect keyed to the message so that a retry after a crash
//! repeats nothing visible.

pub mod payload;
pub mod resolve;
pub mod worker;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use chrono::{SubsecRound, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use self::payload::{PayloadError, ReceivedEmail};
use self::resolve::Resolution;
use crate::blobs::Blobs;
use crate::config::InboundConfig;
use crate::error::{Error, Result};
use crate::notifications::NotificationService;
use crate::plugins::registry::PluginService;
use crate::quotes::QuoteService;
use crate::storage::InboundRepo;
use crate::storage::inbound::{InboundMessage, Stored, UnroutedMessage};
use crate::tenants::TenantService;
use crate::tenants::model::TenantStatus;
use crate::tickets::TicketService;

/// What the webhook tells the sender about an accepted message.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub diagnostic_id: String,
    pub tenant_id: String,
    pub strategy: String,
    pub from: String,
    pub subject: String,
    /// The tenant already had this message: nothing new was stored.
    pub duplicate: bool,
    /// Decoding notes (an unknown charset, a broken envelope).
    pub warnings: Vec<String>,
}

/// The webhook's outcome.
#[derive(Debug, Clone)]
pub enum Received {
    Accepted(Receipt),
    /// No tenant claimed it; it is kept for the platform admin.
    Unresolved {
        diagnostic_id: String,
        to_email: String,
        strategies_tried: Vec<&'static str>,
    },
}

pub struct InboundService {
    tenants: Arc<TenantService>,
    repo: Arc<dyn InboundRepo>,
    blobs: Blobs,
    plugins: Arc<PluginService>,
    tickets: Arc<TicketService>,
    notifications: Arc<NotificationService>,
    quotes: Arc<QuoteService>,
    config: InboundConfig,
    wake: Notify,
    /// A step after whose effect the worker stops as if the process died (tests only).
    crash_after: Mutex<Option<String>>,
    /// A step whose recording fails as in an outage, and how many more times (tests only).
    transient_fault: Mutex<Option<(String, u32)>>,
}

impl std::fmt::Debug for InboundService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundService").finish_non_exhaustive()
    }
}

/// 8 upper-case hex characters.
fn diagnostic_id() -> String {
    format!("{:08X}", rand::random::<u32>())
}

impl InboundService {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        tenants: Arc<TenantService>,
        repo: Arc<dyn InboundRepo>,
        blobs: Blobs,
        plugins: Arc<PluginService>,
        tickets: Arc<TicketService>,
        notifications: Arc<NotificationService>,
        quotes: Arc<QuoteService>,
        config: InboundConfig,
    ) -> Self {
        Self {
            tenants,
            repo,
            blobs,
            plugins,
            tickets,
            notifications,
            quotes,
            config,
            wake: Notify::new(),
            crash_after: Mutex::new(None),
            transient_fault: Mutex::new(None),
        }
    }

    pub fn config(&self) -> &InboundConfig {
        &self.config
    }

    /// Decodes, resolves and stores one webhook post. `forced_tenant` comes from the
    /// `/webhooks/email/inbound/{tenant}` path. A body that is not an email is kept under
    /// `inbound/rejected/` (for diagnosis) and refused with 400.
    pub async fn receive(
        &self,
        content_type: &str,
        body: Bytes,
        forced_tenant: Option<&str>,
    ) -> Result<Received> {
        let started = Instant::now();
        let diagnostic_id = diagnostic_id();
        let email = match payload::decode(content_type, body.clone()).await {
            Ok(email) => email,
            Err(e) => {
                self.keep_rejected(&diagnostic_id, body, &e).await;
                return Err(Error::BadRequest(format!(
                    "{e} (diagnostic id {diagnostic_id})"
                )));
            }
        };
        let resolution = match forced_tenant {
            Some(id) => match self.tenants.find(id).await? {
                Some(tenant) if tenant.status == TenantStatus::Active => Ok(Resolution {
                    tenant,
                    strategy: "url_tenant_id",
                    matched: id.to_owned(),
                }),
                _ => return Err(Error::NotFound(format!("Tenant `{id}` not found"))),
            },
            None => resolve::resolve(&self.tenants, &self.config.domain, &email).await?,
        };
        let resolution = match resolution {
            Ok(resolution) => resolution,
            Err(unresolved) => {
                let raw_object = format!("inbound/unrouted/{diagnostic_id}.form");
                self.put(&raw_object, body).await?;
                self.repo
                    .insert_unrouted(&UnroutedMessage {
                        id: uuid::Uuid::new_v4().to_string(),
                        diagnostic_id: diagnostic_id.clone(),
                        to_email: unresolved.to_email.clone(),
                        sender: email.sender(),
                        subject: email.subject.clone(),
                        strategies_tried: serde_json::to_string(&unresolved.strategies_tried)
                            .unwrap_or_default(),
                        raw_object,
                        received_at: Utc::now(),
                    })
                    .await
                    .map_err(|e| Error::storage("keeping an unrouted email", e))?;
                tracing::warn!(
                    diagnostic_id,
                    to = unresolved.to_email,
                    "inbound email matched no tenant; kept as unrouted"
                );
                return Ok(Received::Unresolved {
                    diagnostic_id,
                    to_email: unresolved.to_email,
                    strategies_tried: unresolved.strategies_tried,
                });
            }
        };
        let tenant_id = resolution.tenant.id.clone();
        let dedup_key = email.dedup_key();
        // Content-addressed per tenant and key: a retried post overwrites the same object.
        let raw_object = format!(
            "tenants/{tenant_id}/inbound/{}.form",
            hex::encode(Sha256::digest(dedup_key.as_bytes()))
        );
        self.put(&raw_object, body).await?;
        let now = Utc::now().trunc_subsecs(6);
        let message = InboundMessage {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: tenant_id.clone(),
            diagnostic_id: diagnostic_id.clone(),
            dedup_key,
            message_id: email.message_id.clone(),
            resolution_strategy: resolution.strategy.to_owned(),
            sender: email.sender(),
            subject: email.subject.clone(),
            email: serde_json::to_string(&email).map_err(|e| Error::Internal {
                operation: "storing an inbound email",
                cause: e.into(),
            })?,
            raw_object,
            state: "pending".to_owned(),
            attempts: 0,
            next_attempt_at: now,
            locked_until: None,
            last_error: None,
            steps: "{}".to_owned(),
            ticket_id: None,
            received_at: now,
            updated_at: now,
        };
        let stored = self
            .repo
            .insert_message(&message)
            .await
            .map_err(|e| Error::storage("storing an inbound email", e))?;
        let (diagnostic_id, duplicate) = match stored {
            Stored::New => {
                self.wake.notify_one();
                (diagnostic_id, false)
            }
            Stored::Duplicate(first) => (first.diagnostic_id, true),
        };
        tracing::info!(
            tenant_id,
            diagnostic_id,
            strategy = resolution.strategy,
            duplicate,
            mode = email.mode,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "inbound email stored"
        );
        Ok(Received::Accepted(Receipt {
            diagnostic_id,
            tenant_id,
            strategy: resolution.strategy.to_owned(),
            from: email.sender(),
            subject: email.subject,
            duplicate,
            warnings: email.warnings,
        }))
    }

    async fn put(&self, key: &str, body: Bytes) -> Result<()> {
        let path = object_store::path::Path::parse(key).map_err(|e| Error::Internal {
            operation: "naming an inbound object",
            cause: e.into(),
        })?;
        self.blobs.put(&path, body).await.map_err(|e| {
            tracing::error!(error = %e, key, "cannot store an inbound payload");
            Error::Unavailable("Storage temporarily unavailable. Please retry.".to_owned())
        })
    }

    /// Keeps a body that could not be read, so that nothing posted is lost without trace.
    async fn keep_rejected(&self, diagnostic_id: &str, body: Bytes, why: &PayloadError) {
        let key = format!("inbound/rejected/{diagnostic_id}.form");
        let kept = self.put(&key, body).await.is_ok();
        tracing::warn!(diagnostic_id, error = %why, kept, "inbound post refused");
    }

    /// Messages per processing state, across tenants (for health and the admin).
    pub async fn counts(&self) -> Result<Vec<(String, i64)>> {
        self.repo
            .count_by_state()
            .await
            .map_err(|e| Error::storage("counting inbound emails", e))
    }

    /// The platform's unrouted messages, newest first.
    pub async fn unrouted(&self, limit: u32) -> Result<Vec<UnroutedMessage>> {
        self.repo
            .list_unrouted(limit)
            .await
            .map_err(|e| Error::storage("listing unrouted emails", e))
    }

    /// The tenant's received messages with their processing state, newest first.
    pub async fn messages(&self, tenant_id: &str, limit: u32) -> Result<Vec<InboundMessage>> {
        self.repo
            .list_messages(tenant_id, limit)
            .await
            .map_err(|e| Error::storage("listing inbound emails", e))
    }

    /// Makes the worker stop right after the effect of `step`, before recording it, as if
    /// the process died there. For tests of crash recovery.
    #[doc(hidden)]
    pub fn crash_after_step(&self, step: Option<&str>) {
        if let Ok(mut guard) = self.crash_after.lock() {
            *guard = step.map(str::to_owned);
        }
    }

    /// Makes recording `step` fail `times` times as a database outage would, after the
    /// step's effect. For tests of retries and backoff.
    #[doc(hidden)]
    pub fn fail_step_transiently(&self, step: &str, times: u32) {
        if let Ok(mut guard) = self.transient_fault.lock() {
            *guard = Some((step.to_owned(), times));
        }
    }

    /// Decodes a stored message back into the email the webhook received.
    pub fn email_of(message: &InboundMessage) -> Result<ReceivedEmail> {
        serde_json::from_str(&message.email).map_err(|e| Error::Internal {
            operation: "reading a stored inbound email",
            cause: e.into(),
        })
    }
}
