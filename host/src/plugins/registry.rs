//! `PluginService`: uploads, activation and rollback per (tenant, slot), and calls that run
//! whichever version is active, with the slot's limits, configuration and failure policy.
//!
//! Resolution of the active version is cached for one second, so every host converges on a
//! new activation within a second by polling alone; with Redis, activations are also
//! published and other hosts drop their cached resolution at once. A call holds the
//! resolution it started with, so an in-flight call finishes on its version.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{SubsecRound, Utc};
use futures::StreamExt;
use moka::future::Cache;
use object_store::path::Path;
use serde::Serialize;
use serde_json::{Value, json};

use super::bindings::{documents, email, quoting, types};
use super::model::{ActivationEvent, CallStat, PluginVersion, SlotSettings};
use super::{
    CallSpec, CallStats, Compiled, FailurePolicy, Limits, PluginError, PluginErrorKind,
    PluginRuntime, Slot, defaults, fixtures,
};
use crate::blobs::Blobs;
use crate::error::{Error, FieldError, Result};
use crate::metrics::Metrics;
use crate::redis::Redis;
use crate::storage::{PluginRepo, StorageError};
use crate::tenants::model::Tenant;

/// Largest component accepted on upload.
pub const UPLOAD_CAP_BYTES: usize = 10 * 1024 * 1024;
/// Uploads compiled at once on one host; more wait their turn.
const UPLOADS_COMPILING: usize = 2;
/// Largest per-slot configuration document, serialized.
pub const CONFIG_CAP_BYTES: usize = 64 * 1024;
/// How long a resolved active version is reused before the database is asked again.
const RESOLUTION_TTL: Duration = Duration::from_secs(1);
const EVENTS_CHANNEL: &str = "caravan:plugins:activations";

/// The version serving a (tenant, slot), ready to call.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// `None` for the built-in plugin.
    pub version_id: Option<String>,
    /// `Err` when the active version cannot be loaded (its stored binary is gone or no
    /// longer compiles): calls then fail with it, or fall back, as the slot's policy says.
    pub compiled: std::result::Result<Arc<Compiled>, PluginError>,
    pub spec: CallSpec,
    pub policy: FailurePolicy,
}

/// A successful plugin call.
#[derive(Debug, Clone)]
pub struct Invocation<T> {
    pub value: T,
    pub stats: CallStats,
    /// The label of the version that produced `value` (`default` for the built-in).
    pub version: String,
    /// Set when the tenant's plugin failed and the built-in answered instead.
    pub fallback_from: Option<PluginError>,
}

pub struct PluginService {
    runtime: Arc<PluginRuntime>,
    metrics: Arc<Metrics>,
    repo: Arc<dyn PluginRepo>,
    blobs: Blobs,
    redis: Option<Arc<Redis>>,
    resolved: Cache<(String, Slot), Arc<Resolved>>,
    /// Uploads compiling at once: compiling a large component takes a core for a while, and
    /// uploads must not starve the calls this host serves.
    uploads_compiling: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for PluginService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginService").finish_non_exhaustive()
    }
}

/// Where a component's bytes live: by content, shared by every tenant that uploads them.
pub fn blob_path(sha256: &str) -> Path {
    Path::from_iter(["plugins", "sha256", &format!("{sha256}.wasm")])
}

fn storage(operation: &'static str) -> impl FnOnce(StorageError) -> Error {
    move |e| Error::storage(operation, e)
}

fn not_found(what: &str) -> Error {
    Error::NotFound(what.to_owned())
}

/// The tenant as plugins see it.
pub fn tenant_context(tenant: &Tenant) -> types::TenantContext {
    types::TenantContext {
        tenant_id: tenant.id.clone(),
        company_name: tenant.name.clone(),
        currency: tenant.config.currency.clone(),
        timezone: tenant.config.timezone.clone(),
        destinations: tenant
            .config
            .destinations
            .iter()
            .filter(|d| d.enabled)
            .map(|d| types::Destination {
                name: d.name.clone(),
                aliases: d.aliases.clone(),
            })
            .collect(),
    }
}

/// What a dry run or a conformance fixture produced.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub name: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<PluginError>,
    pub stats: Option<CallStats>,
}

impl PluginService {
    pub fn new(
        runtime: Arc<PluginRuntime>,
        repo: Arc<dyn PluginRepo>,
        blobs: Blobs,
        redis: Option<Arc<Redis>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            runtime,
            metrics,
            repo,
            blobs,
            redis,
            resolved: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(RESOLUTION_TTL)
                .build(),
            uploads_compiling: Arc::new(tokio::sync::Semaphore::new(UPLOADS_COMPILING)),
        }
    }

    pub fn runtime(&self) -> &Arc<PluginRuntime> {
        &self.runtime
    }

    /// Compiles on a blocking thread: compilation takes tens of milliseconds or more.
    async fn compile(
        &self,
        slot: Slot,
        bytes: Bytes,
    ) -> std::result::Result<Arc<Compiled>, PluginError> {
        self.compile_holding(slot, bytes, None).await
    }

    /// Compiles on the blocking pool; `permit` is held until the compilation ends, even when
    /// the caller stops waiting for it (a client that hangs up mid-upload).
    async fn compile_holding(
        &self,
        slot: Slot,
        bytes: Bytes,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> std::result::Result<Arc<Compiled>, PluginError> {
        let runtime = self.runtime.clone();
        tokio::task::spawn_blocking(move || {
            let compiled = runtime.compile(slot, &bytes);
            drop(permit);
            compiled
        })
        .await
        .unwrap_or_else(|e| Err(PluginError::new(PluginErrorKind::Trap, e.to_string())))
    }

    /// The built-in plugin of a slot, compiled.
    pub async fn default_component(&self, slot: Slot) -> Result<Arc<Compiled>> {
        self.compile(slot, Bytes::from_static(defaults::component(slot)))
            .await
            .map_err(|e| Error::Internal {
                operation: "loading the built-in plugin",
                cause: e.into(),
            })
    }

    /// A stored version, compiled (from the cache when the same content was seen before).
    pub async fn compiled_version(&self, version: &PluginVersion) -> Result<Arc<Compiled>> {
        if let Some(compiled) = self.runtime.cached(&version.sha256, version.slot) {
            return Ok(compiled);
        }
        let bytes = self
            .blobs
            .get(&blob_path(&version.sha256))
            .await
            .map_err(|e| Error::blobs("loading the plugin binary", e))?;
        self.compile(version.slot, bytes)
            .await
            .map_err(|e| Error::Internal {
                operation: "loading the tenant's plugin",
                cause: e.into(),
            })
    }

    async fn settings(&self, tenant_id: &str, slot: Slot) -> Result<SlotSettings> {
        Ok(self
            .repo
            .settings(tenant_id, slot)
            .await
            .map_err(storage("loading plugin settings"))?
            .unwrap_or_default())
    }

    fn spec(tenant_id: &str, label: &str, settings: &SlotSettings) -> CallSpec {
        let config: HashMap<String, String> = settings
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        CallSpec {
            tenant_id: tenant_id.to_owned(),
            version: label.to_owned(),
            limits: settings.limits.unwrap_or_default(),
            config: Arc::new(config),
            admin: false,
        }
    }

    /// The version serving (tenant, slot) now.
    pub async fn resolve(&self, tenant_id: &str, slot: Slot) -> Result<Arc<Resolved>> {
        let key = (tenant_id.to_owned(), slot);
        if let Some(found) = self.resolved.get(&key).await {
            return Ok(found);
        }
        let activation = self
            .repo
            .activation(tenant_id, slot)
            .await
            .map_err(storage("loading the active plugin"))?;
        let settings = self.settings(tenant_id, slot).await?;
        let version_id = activation.and_then(|a| a.version_id);
        let resolved = match &version_id {
            Some(id) => {
                let version = self
                    .repo
                    .get_version(tenant_id, id)
                    .await
                    .map_err(storage("loading the active plugin"))?
                    .ok_or_else(|| not_found("Active plugin version not found"))?;
                Resolved {
                    version_id: version_id.clone(),
                    compiled: match self.compiled_version(&version).await {
                        Ok(compiled) => Ok(compiled),
                        // An outage passes; retrying later can succeed.
                        Err(e @ Error::Unavailable(_)) => return Err(e),
                        Err(e) => {
                            tracing::error!(
                                tenant_id,
                                slot = slot.as_str(),
                                version = %version.label,
                                error = %e,
                                "the active plugin version cannot be loaded"
                            );
                            Err(PluginError::new(
                                PluginErrorKind::Incompatible,
                                format!(
                                    "the active version `{}` cannot be loaded: {e}",
                                    version.label
                                ),
                            ))
                        }
                    },
                    spec: Self::spec(tenant_id, &version.label, &settings),
                    policy: settings.failure_policy,
                }
            }
            None => Resolved {
                version_id: None,
                compiled: Ok(self.default_component(slot).await?),
                spec: Self::spec(tenant_id, "default", &settings),
                policy: settings.failure_policy,
            },
        };
        let resolved = Arc::new(resolved);
        self.resolved.insert(key, resolved.clone()).await;
        Ok(resolved)
    }

    /// Runs `call` on the active version; on failure, runs the built-in when the slot's
    /// policy says so. Every outcome is added to the call statistics.
    async fn invoke<T, F, Fut>(
        &self,
        tenant_id: &str,
        slot: Slot,
        call: F,
    ) -> Result<Invocation<T>, InvokeError>
    where
        F: Fn(Arc<Compiled>, CallSpec) -> Fut,
        Fut: Future<Output = std::result::Result<(T, CallStats), PluginError>>,
    {
        let resolved = self
            .resolve(tenant_id, slot)
            .await
            .map_err(InvokeError::Service)?;
        let version_key = resolved
            .version_id
            .clone()
            .unwrap_or_else(|| "default".into());
        let outcome = match &resolved.compiled {
            Ok(compiled) => call(compiled.clone(), resolved.spec.clone()).await,
            Err(unloadable) => Err(unloadable.clone()),
        };
        match outcome {
            Ok((value, stats)) => {
                self.record(tenant_id, slot, &version_key, "ok", &stats)
                    .await;
                Ok(Invocation {
                    value,
                    stats,
                    version: resolved.spec.version.clone(),
                    fallback_from: None,
                })
            }
            Err(err) => {
                tracing::warn!(
                    tenant_id,
                    slot = slot.as_str(),
                    version = resolved.spec.version,
                    kind = err.kind.as_str(),
                    error = err.message,
                    "plugin call failed"
                );
                self.record(
                    tenant_id,
                    slot,
                    &version_key,
                    err.kind.as_str(),
                    &err.stats.unwrap_or_default(),
                )
                .await;
                if resolved.policy != FailurePolicy::FallbackDefault
                    || resolved.version_id.is_none()
                {
                    return Err(InvokeError::Plugin(err));
                }
                let compiled = self
                    .default_component(slot)
                    .await
                    .map_err(InvokeError::Service)?;
                let spec = CallSpec {
                    version: "default".into(),
                    limits: Limits::default(),
                    ..resolved.spec.clone()
                };
                let (value, stats) = match call(compiled, spec).await {
                    Ok(done) => done,
                    Err(fallback_err) => {
                        // Both failed: the built-in's failure is recorded under its own
                        // version, and the caller hears about the tenant's plugin's.
                        self.record(
                            tenant_id,
                            slot,
                            "default",
                            fallback_err.kind.as_str(),
                            &fallback_err.stats.unwrap_or_default(),
                        )
                        .await;
                        return Err(InvokeError::Plugin(err));
                    }
                };
                self.record(tenant_id, slot, "default", "fallback", &stats)
                    .await;
                Ok(Invocation {
                    value,
                    stats,
                    version: "default".into(),
                    fallback_from: Some(err),
                })
            }
        }
    }

    async fn record(
        &self,
        tenant_id: &str,
        slot: Slot,
        version_key: &str,
        outcome: &str,
        stats: &CallStats,
    ) {
        let succeeded = outcome == "ok" || outcome == "fallback";
        self.metrics.observe_plugin_call(
            slot.as_str(),
            outcome,
            succeeded.then_some(stats.fuel_used),
        );
        if succeeded {
            tracing::debug!(
                tenant_id,
                slot = slot.as_str(),
                version = version_key,
                outcome,
                fuel_used = stats.fuel_used,
                wall_us = stats.wall_us,
                peak_memory_bytes = stats.peak_memory_bytes,
                "plugin call"
            );
        }
        let at = Utc::now().trunc_subsecs(6);
        if let Err(e) = self
            .repo
            .record_call(
                tenant_id,
                slot,
                version_key,
                outcome,
                stats.fuel_used,
                stats.wall_us,
                at,
            )
            .await
        {
            tracing::warn!(error = %e, "could not record plugin call statistics");
        }
    }

    pub async fn parse_email(
        &self,
        tenant_id: &str,
        email: &email::InboundEmail,
        tenant: &types::TenantContext,
    ) -> Result<Invocation<email::ParseOutcome>, InvokeError> {
        let runtime = &self.runtime;
        self.invoke(tenant_id, Slot::EmailParser, |c, s| async move {
            runtime.parse_email(&c, &s, email, tenant).await
        })
        .await
    }

    pub async fn propose(
        &self,
        tenant_id: &str,
        trip: &quoting::Trip,
        rates: &[quoting::Rate],
        tenant: &types::TenantContext,
    ) -> Result<Invocation<quoting::QuotePlan>, InvokeError> {
        let runtime = &self.runtime;
        self.invoke(tenant_id, Slot::QuoteRules, |c, s| async move {
            runtime.propose(&c, &s, trip, rates, tenant).await
        })
        .await
    }

    pub async fn price(
        &self,
        tenant_id: &str,
        request: &quoting::PricingRequest,
        tenant: &types::TenantContext,
    ) -> Result<Invocation<quoting::PricedQuote>, InvokeError> {
        let runtime = &self.runtime;
        self.invoke(tenant_id, Slot::Pricing, |c, s| async move {
            runtime.price(&c, &s, request, tenant).await
        })
        .await
    }

    pub async fn render(
        &self,
        tenant_id: &str,
        request: &documents::DocumentRequest,
    ) -> Result<Invocation<documents::Document>, InvokeError> {
        let runtime = &self.runtime;
        self.invoke(tenant_id, Slot::PdfTemplate, |c, s| async move {
            runtime.render(&c, &s, request).await
        })
        .await
    }

    /// Validates and stores a new version. Every rejection is `Validation` (422) with the
    /// reason: too large, not a component, the wrong world, a failed conformance fixture.
    pub async fn upload(
        &self,
        tenant: &Tenant,
        slot: Slot,
        label: Option<&str>,
        bytes: Bytes,
        uploaded_by: &str,
    ) -> Result<PluginVersion> {
        let reject = |msg: String| Error::validation(FieldError::body("component", msg));
        if bytes.len() > UPLOAD_CAP_BYTES {
            return Err(reject(format!(
                "the component is {} bytes; the limit is {UPLOAD_CAP_BYTES} bytes (10 MB)",
                bytes.len()
            )));
        }
        let existing = self
            .repo
            .list_versions(&tenant.id)
            .await
            .map_err(storage("listing plugin versions"))?;
        let label = match label.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) => {
                let valid = l.len() <= 64
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
                if !valid {
                    return Err(Error::validation(FieldError::query(
                        "label",
                        "label must be 1–64 characters of letters, digits, '.', '_' or '-'",
                    )));
                }
                l.to_owned()
            }
            None => format!(
                "v{}",
                existing.iter().filter(|v| v.slot == slot).count() + 1
            ),
        };
        let permit = self.uploads_compiling.clone().acquire_owned().await.ok();
        let started = std::time::Instant::now();
        let compiled = self
            .compile_holding(slot, bytes.clone(), permit)
            .await
            .map_err(|e| reject(e.message))?;
        let compile_ms = started.elapsed().as_millis() as u64;
        let settings = self.settings(&tenant.id, slot).await?;
        let spec = Self::spec(&tenant.id, &label, &settings);
        let reports = conformance(&self.runtime, &compiled, &spec, &tenant_context(tenant)).await?;
        if let Some(failed) = reports.iter().find(|r| !r.ok) {
            self.runtime.forget(compiled);
            let error = failed
                .error
                .clone()
                .unwrap_or_else(|| PluginError::new(PluginErrorKind::Trap, "failed"));
            return Err(reject(format!(
                "conformance fixture `{}` failed: {}: {}",
                failed.name,
                error.kind.as_str(),
                error.message
            )));
        }
        self.blobs
            .put(&blob_path(&compiled.sha256), bytes.clone())
            .await
            .map_err(|e| Error::blobs("storing the component", e))?;
        let version = PluginVersion {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: tenant.id.clone(),
            slot,
            label,
            sha256: compiled.sha256.clone(),
            size_bytes: bytes.len() as i64,
            wit_version: compiled.wit_version.clone(),
            uploaded_by: uploaded_by.to_owned(),
            created_at: Utc::now().trunc_subsecs(6),
            validation: json!({
                "component": true,
                "world": format!("caravan:plugins/{}@{}", slot.as_str(), compiled.wit_version),
                "compile_ms": compile_ms,
                "fixtures": reports,
            }),
        };
        self.repo
            .insert_version(&version)
            .await
            .map_err(|e| match e {
                StorageError::Conflict { .. } => Error::Conflict(format!(
                    "A {slot} version labelled '{}' already exists",
                    version.label
                )),
                other => Error::storage("storing the plugin version", other),
            })?;
        tracing::info!(
            tenant_id = %tenant.id,
            slot = slot.as_str(),
            version = %version.label,
            sha256 = %version.sha256,
            "plugin version uploaded"
        );
        Ok(version)
    }

    pub async fn versions(&self, tenant_id: &str) -> Result<Vec<PluginVersion>> {
        self.repo
            .list_versions(tenant_id)
            .await
            .map_err(storage("listing plugin versions"))
    }

    pub async fn version(&self, tenant_id: &str, id: &str) -> Result<PluginVersion> {
        self.repo
            .get_version(tenant_id, id)
            .await
            .map_err(storage("loading the plugin version"))?
            .ok_or_else(|| not_found("Plugin version not found"))
    }

    /// The active version id per slot (`None` = built-in).
    pub async fn active(&self, tenant_id: &str, slot: Slot) -> Result<Option<String>> {
        Ok(self
            .repo
            .activation(tenant_id, slot)
            .await
            .map_err(storage("loading the active plugin"))?
            .and_then(|a| a.version_id))
    }

    pub async fn history(&self, tenant_id: &str, slot: Slot) -> Result<Vec<ActivationEvent>> {
        self.repo
            .history(tenant_id, slot, 50)
            .await
            .map_err(storage("loading the activation history"))
    }

    pub async fn call_stats(&self, tenant_id: &str) -> Result<Vec<CallStat>> {
        self.repo
            .call_stats(tenant_id)
            .await
            .map_err(storage("loading plugin statistics"))
    }

    /// Makes `version_id` (or the built-in, for `None`) serve the slot.
    pub async fn activate(
        &self,
        tenant_id: &str,
        slot: Slot,
        version_id: Option<&str>,
        actor: &str,
    ) -> Result<Option<String>> {
        if let Some(id) = version_id {
            let version = self.version(tenant_id, id).await?;
            if version.slot != slot {
                return Err(Error::validation(FieldError::body(
                    "version_id",
                    format!("version {id} is a {} plugin, not {slot}", version.slot),
                )));
            }
        }
        self.switch(tenant_id, slot, version_id, "activate", actor)
            .await
    }

    /// Returns the slot to the version active before the last change.
    pub async fn rollback(
        &self,
        tenant_id: &str,
        slot: Slot,
        actor: &str,
    ) -> Result<Option<String>> {
        let last = self.history(tenant_id, slot).await?;
        let Some(last) = last.first() else {
            return Err(Error::Conflict(format!(
                "The {slot} slot has never changed; there is nothing to roll back to"
            )));
        };
        let target = last.previous_version_id.clone();
        self.switch(tenant_id, slot, target.as_deref(), "rollback", actor)
            .await?;
        Ok(target)
    }

    async fn switch(
        &self,
        tenant_id: &str,
        slot: Slot,
        version_id: Option<&str>,
        action: &str,
        actor: &str,
    ) -> Result<Option<String>> {
        let at = Utc::now().trunc_subsecs(6);
        self.repo
            .activate(tenant_id, slot, version_id, action, actor, at)
            .await
            .map_err(storage("activating the plugin"))?;
        self.invalidate(tenant_id, slot).await;
        self.publish(tenant_id, slot).await;
        tracing::info!(
            tenant_id,
            slot = slot.as_str(),
            version = version_id.unwrap_or("default"),
            action,
            "plugin activation changed"
        );
        Ok(version_id.map(str::to_owned))
    }

    async fn invalidate(&self, tenant_id: &str, slot: Slot) {
        self.resolved
            .invalidate(&(tenant_id.to_owned(), slot))
            .await;
    }

    async fn publish(&self, tenant_id: &str, slot: Slot) {
        let Some(redis) = &self.redis else { return };
        let message = format!("{tenant_id}\t{}", slot.as_str());
        redis
            .call("PUBLISH", |mut c| async move {
                redis::cmd("PUBLISH")
                    .arg(EVENTS_CHANNEL)
                    .arg(message)
                    .query_async::<i64>(&mut c)
                    .await
            })
            .await;
    }

    /// Listens for activations published by other hosts and drops their cached resolution.
    /// Reconnects after a Redis outage; in the meantime the one-second resolution TTL keeps
    /// hosts converging.
    pub fn spawn_event_listener(self: &Arc<Self>, redis_url: String) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(service) = weak.upgrade() else {
                    return;
                };
                drop(service);
                let subscribed = async {
                    let client = redis::Client::open(redis_url.as_str())?;
                    let mut pubsub = client.get_async_pubsub().await?;
                    pubsub.subscribe(EVENTS_CHANNEL).await?;
                    Ok::<_, redis::RedisError>(pubsub)
                }
                .await;
                match subscribed {
                    Ok(mut pubsub) => {
                        let mut messages = pubsub.on_message();
                        while let Some(msg) = messages.next().await {
                            let Some(service) = weak.upgrade() else {
                                return;
                            };
                            let payload: String = msg.get_payload().unwrap_or_default();
                            if let Some((tenant, slot)) = payload.split_once('\t')
                                && let Some(slot) = Slot::parse(slot)
                            {
                                service.invalidate(tenant, slot).await;
                            }
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "plugin events: cannot subscribe yet"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    pub async fn settings_of(&self, tenant_id: &str, slot: Slot) -> Result<SlotSettings> {
        self.settings(tenant_id, slot).await
    }

    /// Replaces the slot's configuration (a JSON object the plugin reads key by key).
    pub async fn put_config(
        &self,
        tenant_id: &str,
        slot: Slot,
        config: serde_json::Map<String, Value>,
    ) -> Result<SlotSettings> {
        let size = serde_json::to_vec(&config)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > CONFIG_CAP_BYTES {
            return Err(Error::validation(FieldError::body(
                "config",
                format!("the configuration is {size} bytes; the limit is {CONFIG_CAP_BYTES}"),
            )));
        }
        let mut settings = self.settings(tenant_id, slot).await?;
        settings.config = config;
        self.save(tenant_id, slot, settings).await
    }

    /// Replaces the slot's limits and failure policy.
    pub async fn put_limits(
        &self,
        tenant_id: &str,
        slot: Slot,
        limits: Limits,
        policy: Option<FailurePolicy>,
    ) -> Result<SlotSettings> {
        let violations = limits.violations();
        if !violations.is_empty() {
            return Err(Error::Validation(
                violations
                    .into_iter()
                    .map(|m| FieldError::body("limits", m))
                    .collect(),
            ));
        }
        let mut settings = self.settings(tenant_id, slot).await?;
        settings.limits = Some(limits);
        if let Some(policy) = policy {
            settings.failure_policy = policy;
        }
        self.save(tenant_id, slot, settings).await
    }

    async fn save(
        &self,
        tenant_id: &str,
        slot: Slot,
        settings: SlotSettings,
    ) -> Result<SlotSettings> {
        self.repo
            .put_settings(tenant_id, slot, &settings, Utc::now().trunc_subsecs(6))
            .await
            .map_err(storage("saving plugin settings"))?;
        self.invalidate(tenant_id, slot).await;
        self.publish(tenant_id, slot).await;
        Ok(settings)
    }
}

/// Runs one slot's input (JSON in the slot's shape, or the sample input when `None`)
/// through `compiled`, reporting output or error and the cost.
pub async fn run_json(
    rt: &PluginRuntime,
    compiled: &Compiled,
    spec: &CallSpec,
    tenant: &types::TenantContext,
    name: &str,
    input: Option<&Value>,
) -> Result<RunReport> {
    let spec = &CallSpec {
        admin: true,
        ..spec.clone()
    };
    fn parse<T: serde::de::DeserializeOwned>(
        input: Option<&Value>,
        key: &str,
        sample: T,
    ) -> Result<T> {
        match input.and_then(|v| v.get(key)) {
            None => Ok(sample),
            Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
                Error::validation(FieldError::body(&format!("input.{key}"), e.to_string()))
            }),
        }
    }
    fn report<T: Serialize>(
        name: &str,
        r: std::result::Result<(T, CallStats), PluginError>,
    ) -> RunReport {
        match r {
            Ok((out, stats)) => RunReport {
                name: name.to_owned(),
                ok: true,
                output: serde_json::to_value(out).ok(),
                error: None,
                stats: Some(stats),
            },
            Err(e) => RunReport {
                name: name.to_owned(),
                ok: false,
                output: None,
                stats: e.stats,
                error: Some(e),
            },
        }
    }
    Ok(match compiled.slot {
        Slot::EmailParser => {
            let email = parse(input, "email", fixtures::email())?;
            let tenant = parse(input, "tenant", tenant.clone())?;
            report(name, rt.parse_email(compiled, spec, &email, &tenant).await)
        }
        Slot::QuoteRules => {
            let trip = parse(input, "trip", fixtures::trip())?;
            let rates = parse(input, "rates", fixtures::rates())?;
            let tenant = parse(input, "tenant", tenant.clone())?;
            report(
                name,
                rt.propose(compiled, spec, &trip, &rates, &tenant).await,
            )
        }
        Slot::Pricing => {
            let request = parse(input, "request", fixtures::pricing_request())?;
            let tenant = parse(input, "tenant", tenant.clone())?;
            report(name, rt.price(compiled, spec, &request, &tenant).await)
        }
        Slot::PdfTemplate => {
            let request = parse(input, "request", fixtures::quote_document())?;
            report(name, rt.render(compiled, spec, &request).await)
        }
    })
}

/// The conformance fixtures of a slot, run in the sandbox with the tenant's settings.
pub async fn conformance(
    runtime: &PluginRuntime,
    compiled: &Compiled,
    spec: &CallSpec,
    tenant: &types::TenantContext,
) -> Result<Vec<RunReport>> {
    let mut reports = vec![run_json(runtime, compiled, spec, tenant, "sample", None).await?];
    if compiled.slot == Slot::PdfTemplate {
        let invoice = json!({ "request": fixtures::invoice_document() });
        reports.push(run_json(runtime, compiled, spec, tenant, "invoice", Some(&invoice)).await?);
    }
    Ok(reports)
}

/// Why a plugin-backed operation failed: the plugin itself, or the service around it.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error(transparent)]
    Plugin(PluginError),
    #[error(transparent)]
    Service(Error),
}
