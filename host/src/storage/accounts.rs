//! The accounts area: users, invitations, refresh-token families and password-reset tokens.
//!
//! Lookups by token hash and login by email cross tenants by nature (the caller does not know
//! the tenant yet); every other method is scoped by the tenant it is given.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StorageError;
use crate::accounts::model::{Invitation, RefreshToken, ResetToken, User};

#[async_trait]
pub trait AccountRepo: Send + Sync {
    /// `Conflict { users_email_key }` when the address is taken in the tenant.
    async fn insert_user(&self, user: &User) -> Result<(), StorageError>;

    async fn get_user(&self, tenant_id: &str, id: &str) -> Result<Option<User>, StorageError>;

    async fn user_by_email(
        &self,
        tenant_id: &str,
        email: &str,
    ) -> Result<Option<User>, StorageError>;

    /// Every user with this address, in any tenant, most recent login first.
    async fn users_by_email_everywhere(&self, email: &str) -> Result<Vec<User>, StorageError>;

    /// The tenant's users, oldest first; only active ones when `active_only`.
    async fn list_users(
        &self,
        tenant_id: &str,
        active_only: bool,
    ) -> Result<Vec<User>, StorageError>;

    /// How many active users the tenant has, counted in SQL.
    async fn count_active_users(&self, tenant_id: &str) -> Result<i64, StorageError>;

    /// Saves name, phone, role, active flag, password hash and `updated_at`.
    /// False when the user no longer exists.
    async fn update_user(&self, user: &User) -> Result<bool, StorageError>;

    async fn record_login(
        &self,
        tenant_id: &str,
        user_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<(), StorageError>;

    async fn refresh_token_by_hash(&self, hash: &str)
    -> Result<Option<RefreshToken>, StorageError>;

    /// Retires `old_id` in favour of `new`, atomically, only if `old_id` is neither rotated
    /// nor revoked. False when another request rotated or revoked it first.
    async fn rotate_refresh_token(
        &self,
        old_id: &str,
        new: &RefreshToken,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    async fn get_refresh_token(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<RefreshToken>, StorageError>;

    /// Revokes every token of the family (logout, reuse detected).
    async fn revoke_family(
        &self,
        tenant_id: &str,
        family_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Revokes every token of the user (deactivation, password change), except those of
    /// `except_family` (the session that changed the password stays signed in).
    async fn revoke_user_tokens(
        &self,
        tenant_id: &str,
        user_id: &str,
        except_family: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Whether every token of the family is revoked (an access token's session has ended).
    async fn family_revoked(&self, tenant_id: &str, family_id: &str) -> Result<bool, StorageError>;

    async fn insert_reset_token(&self, token: &ResetToken) -> Result<(), StorageError>;

    async fn reset_token_by_hash(&self, hash: &str) -> Result<Option<ResetToken>, StorageError>;

    /// Marks the token used and stores the new password hash in one transaction, only if the
    /// token was unused. False when it had been used meanwhile.
    async fn complete_reset(
        &self,
        token: &ResetToken,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Revokes any pending invitation for the same address, then inserts this one.
    async fn replace_invitation(&self, invitation: &Invitation) -> Result<(), StorageError>;

    async fn get_invitation(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<Invitation>, StorageError>;

    async fn invitation_by_hash(&self, hash: &str) -> Result<Option<Invitation>, StorageError>;

    /// Pending invitations (neither accepted nor revoked), newest first.
    async fn pending_invitations(&self, tenant_id: &str) -> Result<Vec<Invitation>, StorageError>;

    /// A new token and expiry for a pending invitation. False unless it is pending.
    async fn renew_invitation(
        &self,
        tenant_id: &str,
        id: &str,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// False unless the invitation was pending.
    async fn revoke_invitation(
        &self,
        tenant_id: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Marks the invitation accepted and inserts `user` (or, when `user` already exists in the
    /// tenant, reactivates it with the invitation's role) in one transaction. False when the
    /// invitation was no longer pending.
    async fn accept_invitation(
        &self,
        invitation: &Invitation,
        user: &User,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}

pub(super) fn parse_role(value: &str) -> Result<crate::accounts::model::Role, StorageError> {
    crate::accounts::model::Role::parse(value)
        .ok_or_else(|| StorageError::Corrupt(format!("user role `{value}`")))
}
