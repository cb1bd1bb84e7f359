//! Users, invitations and the token rows behind sessions and password resets.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a user may do inside its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages users, invitations, settings and the tenant's plugins.
    Admin,
    /// Works quotes, clients and tickets.
    Consultant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Consultant => "consultant",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "admin" => Some(Self::Admin),
            "consultant" => Some(Self::Consultant),
            _ => None,
        }
    }
}

/// A member of one tenant. The same address may belong to several tenants, each a separate
/// user with its own password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// A uuid.
    pub id: String,
    pub tenant_id: String,
    /// Lower-cased; unique within the tenant.
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub is_active: bool,
    /// An argon2id PHC string; `None` until the user sets a password (a reset link does).
    pub password_hash: Option<String>,
    pub invited_by: Option<String>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An offer to join a tenant, accepted with the token emailed to `email`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// SHA-256 of the emailed token, hex.
    pub token_hash: String,
    pub invited_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Invitation {
    pub fn is_pending(&self) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none()
    }
}

/// One opaque refresh token. A login starts a family; every refresh retires the presented
/// token (`rotated_at`, `replaced_by`) and adds its successor to the same family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub family_id: String,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub replaced_by: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A single-use password-reset token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetToken {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    /// SHA-256 of the emailed token, hex.
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}
