//! The plugins area: versions, activations, settings and call statistics.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StorageError;
use crate::plugins::Slot;
use crate::plugins::model::{Activation, ActivationEvent, CallStat, PluginVersion, SlotSettings};

#[async_trait]
pub trait PluginRepo: Send + Sync {
    /// `Conflict { plugin_versions_label_key }` when the label is taken in that slot.
    async fn insert_version(&self, version: &PluginVersion) -> Result<(), StorageError>;

    async fn get_version(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<PluginVersion>, StorageError>;

    /// Every version of the tenant, newest first.
    async fn list_versions(&self, tenant_id: &str) -> Result<Vec<PluginVersion>, StorageError>;

    async fn activation(
        &self,
        tenant_id: &str,
        slot: Slot,
    ) -> Result<Option<Activation>, StorageError>;

    /// Points the slot at `version_id` (`None` = built-in) and records the change in the
    /// history, in one transaction. Returns the version that was active before.
    async fn activate(
        &self,
        tenant_id: &str,
        slot: Slot,
        version_id: Option<&str>,
        action: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<String>, StorageError>;

    /// The slot's changes, newest first.
    async fn history(
        &self,
        tenant_id: &str,
        slot: Slot,
        limit: u32,
    ) -> Result<Vec<ActivationEvent>, StorageError>;

    async fn settings(
        &self,
        tenant_id: &str,
        slot: Slot,
    ) -> Result<Option<SlotSettings>, StorageError>;

    async fn put_settings(
        &self,
        tenant_id: &str,
        slot: Slot,
        settings: &SlotSettings,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Adds one call to the statistics of (tenant, slot, version, outcome).
    #[allow(clippy::too_many_arguments)]
    async fn record_call(
        &self,
        tenant_id: &str,
        slot: Slot,
        version_key: &str,
        outcome: &str,
        fuel: u64,
        wall_us: u64,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    async fn call_stats(&self, tenant_id: &str) -> Result<Vec<CallStat>, StorageError>;

    /// Content hashes of every version the tenant uploaded.
    async fn tenant_sha256s(&self, tenant_id: &str) -> Result<Vec<String>, StorageError>;

    /// Whether any version of any tenant still uses this content.
    async fn sha256_in_use(&self, sha256: &str) -> Result<bool, StorageError>;
}

pub(super) fn parse_slot(value: &str) -> Result<Slot, StorageError> {
    Slot::parse(value).ok_or_else(|| StorageError::Corrupt(format!("plugin slot `{value}`")))
}

pub(super) fn parse_policy(value: &str) -> Result<crate::plugins::FailurePolicy, StorageError> {
    match value {
        "fail_closed" => Ok(crate::plugins::FailurePolicy::FailClosed),
        "fallback_default" => Ok(crate::plugins::FailurePolicy::FallbackDefault),
        other => Err(StorageError::Corrupt(format!("failure policy `{other}`"))),
    }
}
