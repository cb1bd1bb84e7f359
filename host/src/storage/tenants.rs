//! The tenants area: tenant records and their inbound addresses.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StorageError;
use crate::tenants::model::{Tenant, TenantCounts, TenantListQuery, TenantPage, TenantStatus};

/// Stores tenants. `config.inbound_addresses` is persisted in its own table, so an address
/// can belong to one tenant only (`tenant_inbound_addresses_address_key`).
#[async_trait]
pub trait TenantRepo: Send + Sync {
    /// Inserts a tenant and its inbound addresses in one transaction.
    /// `Conflict { tenants_pkey }` when the id exists.
    async fn insert(&self, tenant: &Tenant) -> Result<(), StorageError>;

    async fn get(&self, id: &str) -> Result<Option<Tenant>, StorageError>;

    async fn list(&self, query: &TenantListQuery) -> Result<TenantPage, StorageError>;

    /// Replaces every mutable field if the stored `updated_at` still equals `expected_updated_at`
    /// (optimistic concurrency). Returns false when the row is gone or was changed meanwhile.
    async fn update(
        &self,
        tenant: &Tenant,
        expected_updated_at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Sets the status, with the reason and time for a suspension (cleared on activation).
    /// Returns the updated tenant, or `None` when it does not exist.
    async fn set_status(
        &self,
        id: &str,
        status: TenantStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Option<Tenant>, StorageError>;

    /// Deletes the tenant and, by cascade, every row it owns. False when it did not exist.
    async fn delete(&self, id: &str) -> Result<bool, StorageError>;

    async fn counts(&self) -> Result<TenantCounts, StorageError>;

    /// Tenants an email address belongs to, strongest claim first: a configured inbound
    /// address, then a support email, then an admin (primary) email. Addresses compare
    /// lower-cased; every status is returned (the caller decides who may receive mail).
    async fn find_by_email(
        &self,
        address: &str,
    ) -> Result<Vec<(String, AddressClaim)>, StorageError>;
}

/// How a tenant claims an email address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClaim {
    Inbound,
    Support,
    Admin,
}

/// The lookup behind [`TenantRepo::find_by_email`]; the same SQL on both backends.
pub(super) const FIND_BY_EMAIL: &str = "\
    SELECT tenant_id, 0 AS claim FROM tenant_inbound_addresses WHERE address = $1 \
    UNION ALL SELECT id, 1 FROM tenants WHERE lower(support_email) = $1 \
    UNION ALL SELECT id, 2 FROM tenants WHERE lower(admin_email) = $1 \
    ORDER BY claim LIMIT 10";

pub(super) fn claim_of(code: i32) -> AddressClaim {
    match code {
        0 => AddressClaim::Inbound,
        1 => AddressClaim::Support,
        _ => AddressClaim::Admin,
    }
}

use crate::tenants::model::{TenantConfig, TenantSort};

/// `ORDER BY` for the tenant list; only these fixed fragments ever reach the SQL text.
pub(super) fn order_by(sort: TenantSort, descending: bool) -> &'static str {
    match (sort, descending) {
        (TenantSort::CreatedAt, true) => "ORDER BY t.created_at DESC, t.id",
        (TenantSort::CreatedAt, false) => "ORDER BY t.created_at ASC, t.id",
        (TenantSort::Name, true) => "ORDER BY lower(t.name) DESC, t.id",
        (TenantSort::Name, false) => "ORDER BY lower(t.name) ASC, t.id",
        (TenantSort::Id, true) => "ORDER BY t.id DESC",
        (TenantSort::Id, false) => "ORDER BY t.id ASC",
        (TenantSort::Status, true) => "ORDER BY t.status DESC, t.created_at DESC, t.id",
        (TenantSort::Status, false) => "ORDER BY t.status ASC, t.created_at DESC, t.id",
    }
}

/// A `LIKE` pattern matching `search` as a literal substring (escape character `\`).
pub(super) fn like_pattern(search: &str) -> String {
    let escaped = search
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The configuration as stored: inbound addresses live in their own table.
pub(super) fn stored_config(config: &TenantConfig) -> TenantConfig {
    TenantConfig {
        inbound_addresses: Vec::new(),
        ..config.clone()
    }
}

/// Columns read back from a `tenants` row, whichever backend produced them.
pub(super) struct TenantColumns {
    pub id: String,
    pub name: String,
    pub status: String,
    pub plan: String,
    pub admin_email: String,
    pub support_email: Option<String>,
    pub config: TenantConfig,
    pub addresses: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub suspended_reason: Option<String>,
}

impl TryFrom<TenantColumns> for Tenant {
    type Error = StorageError;

    fn try_from(c: TenantColumns) -> Result<Self, Self::Error> {
        let status = TenantStatus::parse(&c.status)
            .ok_or_else(|| StorageError::Corrupt(format!("tenant status `{}`", c.status)))?;
        Ok(Tenant {
            id: c.id,
            name: c.name,
            status,
            plan: c.plan,
            admin_email: c.admin_email,
            support_email: c.support_email,
            config: TenantConfig {
                inbound_addresses: c.addresses,
                ..c.config
            },
            created_at: c.created_at,
            updated_at: c.updated_at,
            suspended_at: c.suspended_at,
            suspended_reason: c.suspended_reason,
        })
    }
}
