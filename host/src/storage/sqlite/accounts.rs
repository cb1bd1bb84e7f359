//! Accounts on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{Sqlite, classify_plain as classify, commit};
use crate::accounts::model::{Invitation, RefreshToken, ResetToken, User};
use crate::storage::StorageError;
use crate::storage::accounts::{AccountRepo, parse_role};

const USER_COLUMNS: &str = "id, tenant_id, email, name, phone, role, is_active, password_hash, \
     invited_by, last_login_at, created_at, updated_at";
const TOKEN_COLUMNS: &str = "id, tenant_id, user_id, family_id, token_hash, created_at, \
     expires_at, rotated_at, replaced_by, revoked_at";
const RESET_COLUMNS: &str = "id, tenant_id, user_id, token_hash, created_at, expires_at, used_at";
const INVITATION_COLUMNS: &str = "id, tenant_id, email, name, role, token_hash, invited_by, \
     created_at, expires_at, accepted_at, revoked_at";

fn user(row: &SqliteRow) -> Result<User, StorageError> {
    let role: String = row.try_get("role").map_err(classify)?;
    Ok(User {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        email: row.try_get("email").map_err(classify)?,
        name: row.try_get("name").map_err(classify)?,
        phone: row.try_get("phone").map_err(classify)?,
        role: parse_role(&role)?,
        is_active: row.try_get("is_active").map_err(classify)?,
        password_hash: row.try_get("password_hash").map_err(classify)?,
        invited_by: row.try_get("invited_by").map_err(classify)?,
        last_login_at: row.try_get("last_login_at").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        updated_at: row.try_get("updated_at").map_err(classify)?,
    })
}

fn refresh_token(row: &SqliteRow) -> Result<RefreshToken, StorageError> {
    Ok(RefreshToken {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        user_id: row.try_get("user_id").map_err(classify)?,
        family_id: row.try_get("family_id").map_err(classify)?,
        token_hash: row.try_get("token_hash").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        expires_at: row.try_get("expires_at").map_err(classify)?,
        rotated_at: row.try_get("rotated_at").map_err(classify)?,
        replaced_by: row.try_get("replaced_by").map_err(classify)?,
        revoked_at: row.try_get("revoked_at").map_err(classify)?,
    })
}

fn reset_token(row: &SqliteRow) -> Result<ResetToken, StorageError> {
    Ok(ResetToken {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        user_id: row.try_get("user_id").map_err(classify)?,
        token_hash: row.try_get("token_hash").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        expires_at: row.try_get("expires_at").map_err(classify)?,
        used_at: row.try_get("used_at").map_err(classify)?,
    })
}

fn invitation(row: &SqliteRow) -> Result<Invitation, StorageError> {
    let role: String = row.try_get("role").map_err(classify)?;
    Ok(Invitation {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        email: row.try_get("email").map_err(classify)?,
        name: row.try_get("name").map_err(classify)?,
        role: parse_role(&role)?,
        token_hash: row.try_get("token_hash").map_err(classify)?,
        invited_by: row.try_get("invited_by").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        expires_at: row.try_get("expires_at").map_err(classify)?,
        accepted_at: row.try_get("accepted_at").map_err(classify)?,
        revoked_at: row.try_get("revoked_at").map_err(classify)?,
    })
}

const INSERT_USER: &str = "INSERT INTO users (id, tenant_id, email, name, phone, role, is_active, \
     password_hash, invited_by, last_login_at, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

#[async_trait]
impl AccountRepo for Sqlite {
    async fn insert_user(&self, u: &User) -> Result<(), StorageError> {
        let mut tx = self.begin().await?;
        let result = sqlx::query(INSERT_USER)
            .bind(&u.id)
            .bind(&u.tenant_id)
            .bind(&u.email)
            .bind(&u.name)
            .bind(&u.phone)
            .bind(u.role.as_str())
            .bind(u.is_active)
            .bind(&u.password_hash)
            .bind(&u.invited_by)
            .bind(u.last_login_at)
            .bind(u.created_at)
            .bind(u.updated_at)
            .execute(&mut *tx)
            .await;
        if let Err(e) = result {
            drop(tx);
            return Err(self.classify(e).await);
        }
        commit(tx).await
    }

    async fn get_user(&self, tenant_id: &str, id: &str) -> Result<Option<User>, StorageError> {
        let mut tx = self.begin().await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        row.as_ref().map(user).transpose()
    }

    async fn user_by_email(
        &self,
        tenant_id: &str,
        email: &str,
    ) -> Result<Option<User>, StorageError> {
        let mut tx = self.begin().await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND email = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant_id)
            .bind(email)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        row.as_ref().map(user).transpose()
    }

    async fn users_by_email_everywhere(&self, email: &str) -> Result<Vec<User>, StorageError> {
        // Login does not know the tenant yet: the deliberate cross-tenant user read.
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1 \
             ORDER BY last_login_at DESC NULLS LAST, created_at DESC, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        rows.iter().map(user).collect()
    }

    async fn list_users(
        &self,
        tenant_id: &str,
        active_only: bool,
    ) -> Result<Vec<User>, StorageError> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND (is_active OR NOT $2) \
             ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant_id)
            .bind(active_only)
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        rows.iter().map(user).collect()
    }

    async fn count_active_users(&self, tenant_id: &str) -> Result<i64, StorageError> {
        let mut tx = self.begin().await?;
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND is_active")
                .bind(tenant_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?;
        commit(tx).await?;
        Ok(n)
    }

    async fn update_user(&self, u: &User) -> Result<bool, StorageError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE users SET name = $3, phone = $4, role = $5, is_active = $6, \
             password_hash = $7, updated_at = $8 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&u.tenant_id)
        .bind(&u.id)
        .bind(&u.name)
        .bind(&u.phone)
        .bind(u.role.as_str())
        .bind(u.is_active)
        .bind(&u.password_hash)
        .bind(u.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn record_login(
        &self,
        tenant_id: &str,
        user_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET last_login_at = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(user_id)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await
    }

    async fn insert_refresh_token(&self, t: &RefreshToken) -> Result<(), StorageError> {
        let mut tx = self.begin().await?;
        insert_refresh(&mut tx, t).await.map_err(classify)?;
        commit(tx).await
    }

    async fn refresh_token_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<RefreshToken>, StorageError> {
        let mut tx = self.begin().await?;
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        row.as_ref().map(refresh_token).transpose()
    }

    async fn rotate_refresh_token(
        &self,
        old_id: &str,
        new: &RefreshToken,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE refresh_tokens SET rotated_at = $3, replaced_by = $4 \
             WHERE tenant_id = $1 AND id = $2 AND rotated_at IS NULL AND revoked_at IS NULL",
        )
        .bind(&new.tenant_id)
        .bind(old_id)
        .bind(at)
        .bind(&new.id)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_refresh(&mut tx, new).await.map_err(classify)?;
        commit(tx).await?;
        Ok(true)
    }

    async fn get_refresh_token(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<RefreshToken>, StorageError> {
        let mut tx = self.begin().await?;
        let sql =
            format!("SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        row.as_ref().map(refresh_token).transpose()
    }

    async fn revoke_family(
        &self,
        tenant_id: &str,
        family_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $3 \
             WHERE tenant_id = $1 AND family_id = $2 AND revoked_at IS NULL",
        )
        .bind(tenant_id)
        .bind(family_id)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await
    }

    async fn revoke_user_tokens(
        &self,
        tenant_id: &str,
        user_id: &str,
        except_family: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $3 \
             WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL \
               AND (CAST($4 AS TEXT) IS NULL OR family_id <> $4)",
        )
        .bind(tenant_id)
        .bind(user_id)
        .bind(at)
        .bind(except_family)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await
    }

    async fn family_revoked(&self, tenant_id: &str, family_id: &str) -> Result<bool, StorageError> {
        let mut tx = self.begin().await?;
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM refresh_tokens \
             WHERE tenant_id = $1 AND family_id = $2 AND revoked_at IS NULL",
        )
        .bind(tenant_id)
        .bind(family_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok(live == 0)
    }

    async fn insert_reset_token(&self, t: &ResetToken) -> Result<(), StorageError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO password_reset_tokens (id, tenant_id, user_id, token_hash, created_at, \
             expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&t.id)
        .bind(&t.tenant_id)
        .bind(&t.user_id)
        .bind(&t.token_hash)
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.used_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await
    }

    async fn reset_token_by_hash(&self, hash: &str) -> Result<Option<ResetToken>, StorageError> {
        let mut tx = self.begin().await?;
        let sql =
            format!("SELECT {RESET_COLUMNS} FROM password_reset_tokens WHERE token_hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        row.as_ref().map(reset_token).transpose()
    }

    async fn complete_reset(
        &self,
        t: &ResetToken,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin().await?;
        let used = sqlx::query(
            "UPDATE password_reset_tokens SET used_at = $3 \
             WHERE tenant_id = $1 AND id = $2 AND used_at IS NULL",
        )
        .bind(&t.tenant_id)
        .bind(&t.id)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if used.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE users SET password_hash = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&t.tenant_id)
        .bind(&t.user_id)
        .bind(password_hash)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok(true)
    }

    async fn replace_invitation(&self, i: &Invitation) -> Result<(), StorageError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE invitations SET revoked_at = $3 WHERE tenant_id = $1 AND email = $2 \
             AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(&i.tenant_id)
        .bind(&i.email)
        .bind(i.created_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        sqlx::query(
            "INSERT INTO invitations (id, tenant_id, email, name, role, token_hash, invited_by, \
             created_at, expires_at, accepted_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&i.id)
        .bind(&i.tenant_id)
        .bind(&i.email)
        .bind(&i.name)
        .bind(i.role.as_str())
        .bind(&i.token_hash)
        .bind(&i.invited_by)
        .bind(i.created_at)
        .bind(i.expires_at)
        .bind(i.accepted_at)
        .bind(i.revoked_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await
    }

    async fn get_invitation(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<Invitation>, StorageError> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE tenant_id = $1 AND id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        row.as_ref().map(invitation).transpose()
    }

    async fn invitation_by_hash(&self, hash: &str) -> Result<Option<Invitation>, StorageError> {
        let mut tx = self.begin().await?;
        let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        row.as_ref().map(invitation).transpose()
    }

    async fn pending_invitations(&self, tenant_id: &str) -> Result<Vec<Invitation>, StorageError> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE tenant_id = $1 \
             AND accepted_at IS NULL AND revoked_at IS NULL ORDER BY created_at DESC, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        rows.iter().map(invitation).collect()
    }

    async fn renew_invitation(
        &self,
        tenant_id: &str,
        id: &str,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE invitations SET token_hash = $3, expires_at = $4 WHERE tenant_id = $1 \
             AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(token_hash)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_invitation(
        &self,
        tenant_id: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE invitations SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 \
             AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn accept_invitation(
        &self,
        i: &Invitation,
        u: &User,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE invitations SET accepted_at = $3 WHERE tenant_id = $1 AND id = $2 \
             AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(&i.tenant_id)
        .bind(&i.id)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let sql = format!(
            "{INSERT_USER} ON CONFLICT (tenant_id, email) DO UPDATE SET role = excluded.role, \
             is_active = TRUE, name = excluded.name, password_hash = excluded.password_hash, \
             updated_at = excluded.updated_at"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&u.id)
            .bind(&u.tenant_id)
            .bind(&u.email)
            .bind(&u.name)
            .bind(&u.phone)
            .bind(u.role.as_str())
            .bind(u.is_active)
            .bind(&u.password_hash)
            .bind(&u.invited_by)
            .bind(u.last_login_at)
            .bind(u.created_at)
            .bind(u.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        Ok(true)
    }
}

async fn insert_refresh(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    t: &RefreshToken,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refresh_tokens (id, tenant_id, user_id, family_id, token_hash, created_at, \
         expires_at, rotated_at, replaced_by, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&t.id)
    .bind(&t.tenant_id)
    .bind(&t.user_id)
    .bind(&t.family_id)
    .bind(&t.token_hash)
    .bind(t.created_at)
    .bind(t.expires_at)
    .bind(t.rotated_at)
    .bind(&t.replaced_by)
    .bind(t.revoked_at)
    .execute(&mut **tx)
    .await
    .map(drop)
}
