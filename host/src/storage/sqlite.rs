//! The SQLite backend: the embedded default, one file in the data directory.

mod accounts;
mod inbound;
mod knowledge;
mod outbox;
mod plugins;
mod quotes;
mod rates;
mod tenants;

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Row, Sqlite as Db, SqlitePool, Transaction};

use super::{Backend, ConnectOptions, OwnedTable, SchemaRepo, Storage, StorageError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

pub(super) async fn connect(options: &ConnectOptions) -> Result<Storage, StorageError> {
    let connect = SqliteConnectOptions::from_str(&options.url)
        .map_err(|e| StorageError::Config(e.to_string()))?
        .create_if_missing(true)
        // WAL lets readers proceed while a writer commits; NORMAL is durable with WAL.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(options.statement_timeout)
        .foreign_keys(true);
    if let Some(parent) = connect.get_filename().parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            StorageError::Config(format!("cannot create {}: {e}", parent.display()))
        })?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect)
        .await
        .map_err(classify_plain)?;
    let db = Arc::new(Sqlite { pool });
    Ok(Storage {
        backend: Backend::Sqlite,
        tenants: db.clone(),
        plugins: db.clone(),
        accounts: db.clone(),
        outbox: db.clone(),
        inbound: db.clone(),
        knowledge: db.clone(),
        tickets: db.clone(),
        notifications: db.clone(),
        quotes: db.clone(),
        clients: db.clone(),
        rates: db.clone(),
        schema: db,
    })
}

/// Shared by every SQLite repository.
struct Sqlite {
    pool: SqlitePool,
}

impl Sqlite {
    /// Starts a transaction; SQLite takes its write lock only at the first write.
    async fn begin(&self) -> Result<Transaction<'static, Db>, StorageError> {
        self.pool.begin().await.map_err(classify_plain)
    }

    /// A transaction for the shared repository code; SQLite has no row-level security, so
    /// the scope only documents intent here.
    async fn begin_in(
        &self,
        _scope: super::Scope<'_>,
    ) -> Result<Transaction<'static, Db>, StorageError> {
        self.begin().await
    }
}

async fn commit(tx: Transaction<'static, Db>) -> Result<(), StorageError> {
    tx.commit().await.map_err(classify_plain)
}

/// SQLite-specific classification that needs no database round trip.
fn classify_plain(err: sqlx::Error) -> StorageError {
    if let sqlx::Error::Database(db) = &err {
        // SQLITE_BUSY and SQLITE_LOCKED after the busy timeout ran out.
        if matches!(
            db.code().as_deref(),
            Some("5" | "6" | "261" | "262" | "517")
        ) {
            return StorageError::Timeout;
        }
    }
    StorageError::from_sqlx_common(err)
}

impl Sqlite {
    /// Classifies an error; unique violations are named after the violated constraint.
    ///
    /// SQLite reports only `UNIQUE constraint failed: table.col, …`, so the name is looked up
    /// in the catalog: the primary key is `<table>_pkey` (as PostgreSQL names it) and any other
    /// unique index is named by its `CREATE UNIQUE INDEX`, which the migrations name exactly as
    /// the PostgreSQL ones.
    async fn classify(&self, err: sqlx::Error) -> StorageError {
        let columns = match &err {
            sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation => db
                .message()
                .strip_prefix("UNIQUE constraint failed: ")
                .map(str::to_owned),
            _ => None,
        };
        let Some(columns) = columns else {
            return classify_plain(err);
        };
        match self.unique_constraint_name(&columns).await {
            Ok(constraint) => StorageError::Conflict { constraint },
            Err(_) => classify_plain(err),
        }
    }

    async fn unique_constraint_name(&self, failed: &str) -> Result<String, sqlx::Error> {
        let mut table = String::new();
        let mut cols = Vec::new();
        for part in failed.split(", ") {
            let (t, c) = part.split_once('.').unwrap_or(("", part));
            table = t.to_owned();
            cols.push(c.to_owned());
        }
        let indexes = sqlx::query(
            "SELECT name, origin FROM pragma_index_list(?1) WHERE \"unique\" = 1 ORDER BY name",
        )
        .bind(&table)
        .fetch_all(&self.pool)
        .await?;
        for index in indexes {
            let name: String = index.try_get("name")?;
            let origin: String = index.try_get("origin")?;
            let index_cols: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(&self.pool)
                    .await?;
            if index_cols == cols {
                return Ok(match origin.as_str() {
                    "pk" => format!("{table}_pkey"),
                    "u" => format!("{table}_{}_key", cols.join("_")),
                    _ => name,
                });
            }
        }
        // A rowid primary key has no index of its own.
        Ok(format!("{table}_pkey"))
    }
}

#[async_trait]
impl SchemaRepo for Sqlite {
    async fn migrate(&self) -> Result<(), StorageError> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StorageError::Migration(e.to_string()))
    }

    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(classify_plain)
    }

    async fn statement_timeout(&self) -> Result<std::time::Duration, StorageError> {
        let ms: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&self.pool)
            .await
            .map_err(classify_plain)?;
        Ok(std::time::Duration::from_millis(ms.max(0) as u64))
    }

    async fn tenant_owned_tables(&self) -> Result<Vec<OwnedTable>, StorageError> {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT m.name FROM sqlite_master m \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%' \
               AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'tenant_id') \
             ORDER BY m.name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify_plain)?;
        let mut owned = Vec::with_capacity(tables.len());
        for name in tables {
            let cascades: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pragma_foreign_key_list(?1) \
                 WHERE \"table\" = 'tenants' AND \"from\" = 'tenant_id' AND on_delete = 'CASCADE'",
            )
            .bind(&name)
            .fetch_one(&self.pool)
            .await
            .map_err(classify_plain)?;
            owned.push(OwnedTable {
                name,
                cascades_on_tenant_delete: cascades > 0,
            });
        }
        Ok(owned)
    }

    async fn tables_without_row_security(&self) -> Result<Vec<String>, StorageError> {
        Ok(Vec::new())
    }

    async fn count_tenant_rows(&self, tenant_id: &str) -> Result<Vec<(String, i64)>, StorageError> {
        let mut counts = Vec::new();
        let own: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants WHERE id = ?1")
            .bind(tenant_id)
            .fetch_one(&self.pool)
            .await
            .map_err(classify_plain)?;
        counts.push(("tenants".to_owned(), own));
        for table in self.tenant_owned_tables().await? {
            // Table names come from the catalog, never from input; quoting keeps odd names safe.
            let sql = format!(
                "SELECT COUNT(*) FROM \"{}\" WHERE tenant_id = ?1",
                table.name.replace('"', "\"\"")
            );
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(tenant_id)
                .fetch_one(&self.pool)
                .await
                .map_err(classify_plain)?;
            counts.push((table.name, n));
        }
        Ok(counts)
    }
}
