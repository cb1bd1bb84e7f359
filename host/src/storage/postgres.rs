//! The PostgreSQL backend, selected by a `postgres://` `DATABASE_URL`.

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
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgPool, Postgres as Db, Transaction};

use super::{Backend, ConnectOptions, OwnedTable, SchemaRepo, Scope, Storage, StorageError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

pub(super) async fn connect(options: &ConnectOptions) -> Result<Storage, StorageError> {
    let timeout_ms = options.statement_timeout.as_millis().to_string();
    let connect = PgConnectOptions::from_str(&options.url)
        .map_err(|e| StorageError::Config(e.to_string()))?
        .application_name("caravan")
        // A runaway query must not hold a connection (and its locks) for ever.
        .options([
            ("statement_timeout", timeout_ms.as_str()),
            ("lock_timeout", timeout_ms.as_str()),
            ("idle_in_transaction_session_timeout", "60000"),
        ]);
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect)
        .await
        .map_err(classify)?;
    refuse_rls_bypass(&pool).await?;
    let db = Arc::new(Postgres { pool });
    Ok(Storage {
        backend: Backend::Postgres,
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

/// Row-level security is the second wall between tenants, and a superuser or a role with
/// BYPASSRLS walks straight through it; Caravan refuses to run as one rather than run
/// with a wall that is not there.
async fn refuse_rls_bypass(pool: &PgPool) -> Result<(), StorageError> {
    let (role, superuser, bypass): (String, bool, bool) = sqlx::query_as(
        "SELECT rolname::text, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(pool)
    .await
    .map_err(classify)?;
    if superuser || bypass {
        let what = if superuser {
            "a superuser"
        } else {
            "a role with BYPASSRLS"
        };
        return Err(StorageError::Config(format!(
            "DATABASE_URL connects as `{role}`, {what}, which row-level security does not \
             apply to. Connect as a role created with NOSUPERUSER NOBYPASSRLS that owns the \
             database (see \"PostgreSQL\" in the README)"
        )));
    }
    Ok(())
}

/// Shared by every PostgreSQL repository.
struct Postgres {
    pool: PgPool,
}

impl Postgres {
    /// The same as [`Postgres::begin`]: the name the shared repository code calls.
    async fn begin_in(&self, scope: Scope<'_>) -> Result<Transaction<'static, Db>, StorageError> {
        self.begin(scope).await
    }

    /// Starts a transaction scoped for row-level security. The setting is transaction-local,
    /// so a pooled connection never carries one request's scope into the next.
    async fn begin(&self, scope: Scope<'_>) -> Result<Transaction<'static, Db>, StorageError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let (name, value) = match scope {
            Scope::Tenant(id) => ("caravan.tenant_id", id),
            Scope::Platform => ("caravan.scope", "platform"),
        };
        sqlx::query("SELECT set_config($1, $2, true)")
            .bind(name)
            .bind(value)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        Ok(tx)
    }
}

/// Commits, classifying the failure like any other statement's.
async fn commit(tx: Transaction<'static, Db>) -> Result<(), StorageError> {
    tx.commit().await.map_err(classify)
}

fn classify(err: sqlx::Error) -> StorageError {
    if let sqlx::Error::Database(db) = &err {
        let code = db.code().unwrap_or_default();
        match code.as_ref() {
            "23505" => {
                return StorageError::Conflict {
                    constraint: db.constraint().unwrap_or("unknown").to_owned(),
                };
            }
            // query_canceled (statement_timeout), lock_not_available (lock_timeout)
            "57014" | "55P03" => return StorageError::Timeout,
            // connection exceptions, shutdowns, too many connections
            c if c.starts_with("08") || c.starts_with("57P") || c == "53300" => {
                return StorageError::Unavailable(db.message().to_owned());
            }
            _ => {}
        }
    }
    StorageError::from_sqlx_common(err)
}

#[async_trait]
impl SchemaRepo for Postgres {
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
            .map_err(classify)
    }

    async fn statement_timeout(&self) -> Result<std::time::Duration, StorageError> {
        // `setting` is in milliseconds for statement_timeout.
        let ms: String =
            sqlx::query_scalar("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
                .fetch_one(&self.pool)
                .await
                .map_err(classify)?;
        let ms: u64 = ms
            .parse()
            .map_err(|_| StorageError::Corrupt(format!("statement_timeout `{ms}`")))?;
        Ok(std::time::Duration::from_millis(ms))
    }

    async fn tenant_owned_tables(&self) -> Result<Vec<OwnedTable>, StorageError> {
        let rows: Vec<(String, bool)> = sqlx::query_as(
            "SELECT c.relname::text, EXISTS ( \
                 SELECT 1 FROM pg_constraint f \
                 JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = ANY (f.conkey) \
                 WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confdeltype = 'c' \
                   AND f.confrelid = 'tenants'::regclass AND a.attname = 'tenant_id') \
             FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() \
               AND EXISTS (SELECT 1 FROM pg_attribute a \
                           WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' \
                             AND NOT a.attisdropped) \
             ORDER BY c.relname",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|(name, cascades_on_tenant_delete)| OwnedTable {
                name,
                cascades_on_tenant_delete,
            })
            .collect())
    }

    async fn tables_without_row_security(&self) -> Result<Vec<String>, StorageError> {
        sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND n.nspname = current_schema() \
               AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
                           AND a.attname = 'tenant_id' AND NOT a.attisdropped) \
               AND NOT (c.relrowsecurity AND c.relforcerowsecurity \
                        AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid \
                                    AND p.polname = 'tenant_isolation')) \
             ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)
    }

    async fn count_tenant_rows(&self, tenant_id: &str) -> Result<Vec<(String, i64)>, StorageError> {
        let tables = self.tenant_owned_tables().await?;
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let mut counts = Vec::new();
        let own: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        counts.push(("tenants".to_owned(), own));
        for table in tables {
            // Table names come from the catalog, never from input; quoting keeps odd names safe.
            let sql = format!(
                "SELECT COUNT(*) FROM \"{}\" WHERE tenant_id = $1",
                table.name.replace('"', "\"\"")
            );
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(tenant_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?;
            counts.push((table.name, n));
        }
        commit(tx).await?;
        Ok(counts)
    }
}
