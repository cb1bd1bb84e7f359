//! The schema area: migrations, liveness, and introspection of tenant-owned tables.

use async_trait::async_trait;

use super::StorageError;

/// A table with a `tenant_id` column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedTable {
    pub name: String,
    /// Whether a foreign key from `tenant_id` to `tenants` cascades on delete.
    pub cascades_on_tenant_delete: bool,
}

#[async_trait]
pub trait SchemaRepo: Send + Sync {
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StorageError>;

    /// A round trip to the database.
    async fn ping(&self) -> Result<(), StorageError>;

    /// The statement timeout (PostgreSQL) or busy timeout (SQLite) in force on a pooled
    /// connection, as the database itself reports it.
    async fn statement_timeout(&self) -> Result<std::time::Duration, StorageError>;

    /// Every table carrying a `tenant_id` column, read from the live catalog so that tables
    /// added later are covered without a list to keep in step.
    async fn tenant_owned_tables(&self) -> Result<Vec<OwnedTable>, StorageError>;

    /// Tenant-owned tables that row-level security does not guard (PostgreSQL: not
    /// `FORCE ROW LEVEL SECURITY` with the `tenant_isolation` policy). Empty when the
    /// backend has no row-level security (SQLite, embedded and single-process).
    async fn tables_without_row_security(&self) -> Result<Vec<String>, StorageError>;

    /// Rows per table (`tenants` included) that belong to `tenant_id`.
    async fn count_tenant_rows(&self, tenant_id: &str) -> Result<Vec<(String, i64)>, StorageError>;
}
