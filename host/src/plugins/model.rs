//! Registry records: uploaded versions, activations and their history, per-slot settings,
//! and call statistics.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{FailurePolicy, Limits, Slot};

/// An uploaded component. Immutable once stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginVersion {
    /// A UUID.
    pub id: String,
    pub tenant_id: String,
    pub slot: Slot,
    /// Unique per (tenant, slot), e.g. `v2` or `2027-01-20-fix-budgets`.
    pub label: String,
    /// Content address of the component in object storage.
    pub sha256: String,
    pub size_bytes: i64,
    /// The `caravan:plugins` version the component targets.
    pub wit_version: String,
    pub uploaded_by: String,
    pub created_at: DateTime<Utc>,
    /// What upload validation checked and measured.
    pub validation: serde_json::Value,
}

/// Which version serves a slot. `version_id: None` is the built-in plugin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activation {
    pub tenant_id: String,
    pub slot: Slot,
    pub version_id: Option<String>,
    pub activated_at: DateTime<Utc>,
    pub activated_by: String,
}

/// One change of the active version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivationEvent {
    pub id: String,
    pub slot: Slot,
    /// `activate` or `rollback`.
    pub action: String,
    pub version_id: Option<String>,
    pub previous_version_id: Option<String>,
    pub at: DateTime<Utc>,
    pub actor: String,
}

/// A tenant's settings for one slot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotSettings {
    /// Keys the plugin reads with `config-get`, each a JSON value.
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Overrides of the default limits, when set.
    pub limits: Option<Limits>,
    pub failure_policy: FailurePolicy,
}

impl Default for SlotSettings {
    fn default() -> Self {
        Self {
            config: serde_json::Map::new(),
            limits: None,
            failure_policy: FailurePolicy::FailClosed,
        }
    }
}

/// Calls of one version with one outcome (`ok`, an error kind, or `fallback`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallStat {
    pub slot: Slot,
    /// A version id, or `default`.
    pub version_key: String,
    pub outcome: String,
    pub calls: i64,
    pub fuel_total: i64,
    pub wall_us_total: i64,
    pub last_at: DateTime<Utc>,
}
