//! Accounts: users, sessions (access and refresh tokens), password resets and invitations.
//!
//! Architecture Invariant: a request's user and tenant come from [`AccountService::authenticate`]
//! and nothing else; the token's claims only point at the user, whose current row (role,
//! active flag) and tenant (status) decide, so a demotion or deactivation takes effect within
//! the session cache's lifetime even for tokens already issued.

pub mod model;
pub mod password;
pub mod tokens;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use moka::future::Cache;

use crate::error::{Error, Result};
use crate::mail::{EmailKind, Mailer, Message};
use crate::storage::{AccountRepo, StorageError};
use crate::tenants::TenantService;
use crate::tenants::model::{Tenant, TenantStatus};
use crate::tenants::validate::{self, Checks};
use model::{Invitation, RefreshToken, ResetToken, Role, User};
use tokens::{Claims, JwtKeys, TokenError};

/// Lifetimes and links; defaults follow the dashboard's contract.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// How long a just-rotated refresh token still works (two tabs refreshing at once).
    pub rotation_grace: Duration,
    pub reset_ttl: Duration,
    pub invitation_ttl: Duration,
    /// How long a verified session (user active, tenant active, not logged out) is trusted
    /// before the database is asked again.
    pub session_cache_ttl: Duration,
    /// The dashboard's base URL, for links in emails.
    pub app_url: String,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            rotation_grace: Duration::from_secs(30),
            reset_ttl: Duration::from_secs(3600),
            invitation_ttl: Duration::from_secs(48 * 3600),
            session_cache_ttl: Duration::from_secs(30),
            app_url: "http://localhost:5173".to_owned(),
        }
    }
}

impl AuthSettings {
    pub fn from_config(config: &crate::config::Config) -> Self {
        let a = &config.auth;
        Self {
            access_ttl: Duration::from_secs(a.access_token_ttl_secs),
            refresh_ttl: Duration::from_secs(a.refresh_token_ttl_secs),
            rotation_grace: Duration::from_secs(a.refresh_grace_secs),
            reset_ttl: Duration::from_secs(a.reset_token_ttl_secs),
            invitation_ttl: Duration::from_secs(a.invitation_ttl_secs),
            session_cache_ttl: Duration::from_secs(a.session_cache_ttl_secs),
            app_url: config.app_url.clone(),
        }
    }
}

/// What a successful login or refresh hands out.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Expiry of the access token, epoch seconds.
    pub expires_at: u64,
}

/// An authenticated request's user and tenant.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: Arc<User>,
    pub tenant: Arc<Tenant>,
    pub claims: Claims,
}

impl Session {
    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    /// How this user is named in audit fields (`uploaded_by`, `activated_by`).
    pub fn actor(&self) -> String {
        format!("user:{}", self.user.id)
    }
}

/// The answer to a login that did not succeed, shown to the user as is. The texts never say
/// whether an address has an account.
pub const INVALID_CREDENTIALS: &str = "Invalid email or password";

/// Changes to a user by a tenant admin.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<String>,
}

/// A user created directly (CLI, platform admin) rather than through an invitation.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub phone: Option<String>,
    /// Without one, the user is emailed a link to choose a password.
    pub password: Option<String>,
}

pub struct AccountService {
    repo: Arc<dyn AccountRepo>,
    tenants: Arc<TenantService>,
    mailer: Mailer,
    keys: JwtKeys,
    settings: AuthSettings,
    /// Verified users by (tenant, user, session); see [`AuthSettings::session_cache_ttl`].
    sessions: Cache<(String, String, String), Arc<User>>,
}

impl std::fmt::Debug for AccountService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn storage(operation: &'static str) -> impl FnOnce(StorageError) -> Error {
    move |e| Error::storage(operation, e)
}

fn internal(operation: &'static str, cause: impl Into<anyhow::Error>) -> Error {
    Error::Internal {
        operation,
        cause: cause.into(),
    }
}

/// Hashing is deliberately slow; it runs on the blocking pool so it never stalls the reactor.
async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| internal("hashing a password", e))?
        .map_err(|e| internal("hashing a password", anyhow::anyhow!("{e}")))
}

async fn verify_password(password: &str, phc: &str) -> bool {
    let (password, phc) = (password.to_owned(), phc.to_owned());
    tokio::task::spawn_blocking(move || password::verify(&password, &phc))
        .await
        .unwrap_or(false)
}

/// Password screens read a single message (`detail` as a string), so a policy violation is a
/// 400 that states the rule rather than a 422 list.
fn check_password(password: &str) -> Result<()> {
    match password::policy_violation(password) {
        Some(msg) => Err(Error::BadRequest(msg)),
        None => Ok(()),
    }
}

fn epoch(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp()).unwrap_or_default()
}

fn ttl(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl AccountService {
    pub fn new(
        repo: Arc<dyn AccountRepo>,
        tenants: Arc<TenantService>,
        mailer: Mailer,
        keys: JwtKeys,
        settings: AuthSettings,
    ) -> Self {
        let sessions = Cache::builder()
            .time_to_live(settings.session_cache_ttl)
            .max_capacity(100_000)
            .support_invalidation_closures()
            .build();
        Self {
            repo,
            tenants,
            mailer,
            keys,
            settings,
            sessions,
        }
    }

    pub fn keys(&self) -> &JwtKeys {
        &self.keys
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    // ----- sessions -------------------------------------------------------------------

    /// Checks a login. `Ok(Err(text))` is a refusal to show the user (the dashboard's
    /// soft-failure shape); `Err` is a fault. With several memberships for the address, a
    /// named tenant wins, else the most recently used membership whose password matches.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        tenant_hint: Option<&str>,
    ) -> Result<std::result::Result<(TokenPair, User), &'static str>> {
        let email = email.trim().to_ascii_lowercase();
        let mut candidates = self
            .repo
            .users_by_email_everywhere(&email)
            .await
            .map_err(storage("logging in"))?;
        if let Some(hint) = tenant_hint {
            candidates.retain(|u| u.tenant_id == hint);
        }
        // Verification is slow on purpose; a handful of memberships is the realistic most.
        candidates.truncate(5);
        let mut matched = None;
        for user in candidates {
            let Some(phc) = &user.password_hash else {
                continue;
            };
            if verify_password(password, phc).await {
                matched = Some(user);
                break;
            }
        }
        let Some(user) = matched else {
            // Spend the same time as a real check so timing does not reveal the address.
            verify_password(password, password::decoy_hash()).await;
            return Ok(Err(INVALID_CREDENTIALS));
        };
        if !user.is_active {
            return Ok(Err("User account is deactivated"));
        }
        let tenant = match self.tenants.find(&user.tenant_id).await? {
            Some(t) if t.status == TenantStatus::Active => t,
            Some(_) => return Ok(Err("Tenant account is suspended")),
            None => return Ok(Err(INVALID_CREDENTIALS)),
        };
        let now = Utc::now();
        let pair = self.start_session(&user, now).await?;
        self.repo
            .record_login(&tenant.id, &user.id, now)
            .await
            .map_err(storage("logging in"))?;
        let mut user = user;
        user.last_login_at = Some(now);
        Ok(Ok((pair, user)))
    }

    async fn start_session(&self, user: &User, now: DateTime<Utc>) -> Result<TokenPair> {
        let family = uuid::Uuid::new_v4().to_string();
        let (refresh, row) = self.new_refresh_token(user, &family, now);
        self.repo
            .insert_refresh_token(&row)
            .await
            .map_err(storage("starting a session"))?;
        self.token_pair(user, &family, refresh, now)
    }

    fn new_refresh_token(
        &self,
        user: &User,
        family: &str,
        now: DateTime<Utc>,
    ) -> (String, RefreshToken) {
        let token = tokens::opaque::<32>();
        let row = RefreshToken {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: user.tenant_id.clone(),
            user_id: user.id.clone(),
            family_id: family.to_owned(),
            token_hash: tokens::digest(&token),
            created_at: now,
            expires_at: now + ttl(self.settings.refresh_ttl),
            rotated_at: None,
            replaced_by: None,
            revoked_at: None,
        };
        (token, row)
    }

    fn token_pair(
        &self,
        user: &User,
        family: &str,
        refresh_token: String,
        now: DateTime<Utc>,
    ) -> Result<TokenPair> {
        let exp = epoch(now + ttl(self.settings.access_ttl));
        let claims = Claims {
            sub: user.id.clone(),
            tenant_id: user.tenant_id.clone(),
            role: user.role,
            exp,
            iat: epoch(now),
            nbf: epoch(now),
            jti: uuid::Uuid::new_v4().to_string(),
            sid: family.to_owned(),
        };
        let access_token = self
            .keys
            .sign(&claims)
            .map_err(|e| internal("signing an access token", e))?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            expires_at: exp,
        })
    }

    /// Exchanges a refresh token for a new pair. A token already rotated is accepted within
    /// the grace period (a second tab); after it, presenting it again means it was copied,
    /// and the whole family is revoked.
    pub async fn refresh(&self, token: &str) -> Result<TokenPair> {
        let refused = || Error::Unauthorized("Invalid or expired refresh token".into());
        if token.is_empty() || token.len() > 256 {
            return Err(refused());
        }
        let Some(row) = self
            .repo
            .refresh_token_by_hash(&tokens::digest(token))
            .await
            .map_err(storage("refreshing a session"))?
        else {
            return Err(refused());
        };
        let now = Utc::now();
        if row.revoked_at.is_some() || row.expires_at <= now {
            return Err(refused());
        }
        if let Some(rotated_at) = row.rotated_at
            && now - rotated_at > ttl(self.settings.rotation_grace)
        {
            tracing::warn!(
                user_id = row.user_id,
                family_id = row.family_id,
                "a rotated refresh token was presented again; revoking its session"
            );
            self.end_family(&row.tenant_id, &row.user_id, &row.family_id)
                .await?;
            return Err(refused());
        }
        let user = self
            .repo
            .get_user(&row.tenant_id, &row.user_id)
            .await
            .map_err(storage("refreshing a session"))?
            .filter(|u| u.is_active)
            .ok_or_else(refused)?;
        match self.tenants.find(&row.tenant_id).await? {
            Some(t) if t.status == TenantStatus::Active => {}
            Some(_) => return Err(Error::Forbidden("Tenant account is suspended".into())),
            None => return Err(refused()),
        }
        let (refresh, next) = self.new_refresh_token(&user, &row.family_id, now);
        if row.rotated_at.is_some() {
            // Within the grace period: a sibling in the same family, the old one stays retired.
            self.repo
                .insert_refresh_token(&next)
                .await
                .map_err(storage("refreshing a session"))?;
        } else if !self
            .repo
            .rotate_refresh_token(&row.id, &next, now)
            .await
            .map_err(storage("refreshing a session"))?
        {
            // Another request rotated it a moment ago: the same grace applies.
            self.repo
                .insert_refresh_token(&next)
                .await
                .map_err(storage("refreshing a session"))?;
        }
        self.token_pair(&user, &row.family_id, refresh, now)
    }

    /// Ends the session the access token belongs to.
    pub async fn logout(&self, session: &Session) -> Result<()> {
        self.end_family(&session.tenant.id, &session.user.id, &session.claims.sid)
            .await
    }

    async fn end_family(&self, tenant_id: &str, user_id: &str, family_id: &str) -> Result<()> {
        self.repo
            .revoke_family(tenant_id, family_id, Utc::now())
            .await
            .map_err(storage("ending a session"))?;
        let key = (
            tenant_id.to_owned(),
            user_id.to_owned(),
            family_id.to_owned(),
        );
        self.sessions.invalidate(&key).await;
        Ok(())
    }

    /// Forgets cached sessions of a user whose row changed, so this host sees it at once.
    fn forget_user(&self, tenant_id: &str, user_id: &str) {
        let (tenant_id, user_id) = (tenant_id.to_owned(), user_id.to_owned());
        // Fails only when closures are unsupported, which the builder enables.
        let _ = self
            .sessions
            .invalidate_entries_if(move |k, _| k.0 == tenant_id && k.1 == user_id);
    }

    /// Resolves a bearer token to its session: 401 for a bad token or a user that is gone or
    /// deactivated, or a session that was logged out; 403 for a suspended tenant.
    pub async fn authenticate(&self, token: &str) -> Result<Session> {
        let claims = self.keys.verify(token).map_err(|e| {
            Error::Unauthorized(
                match e {
                    TokenError::Expired => "Token has expired",
                    TokenError::NotYetValid => "Token is not valid yet",
                    TokenError::Invalid => "Invalid authentication token",
                }
                .into(),
            )
        })?;
        let Some(tenant) = self.tenants.find(&claims.tenant_id).await? else {
            return Err(Error::Unauthorized(
                "User not found in this organization".into(),
            ));
        };
        if tenant.status == TenantStatus::Suspended {
            return Err(Error::Forbidden("Tenant account is suspended".into()));
        }
        let key = (
            claims.tenant_id.clone(),
            claims.sub.clone(),
            claims.sid.clone(),
        );
        let user = match self.sessions.get(&key).await {
            Some(user) => user,
            None => {
                let user = self
                    .repo
                    .get_user(&claims.tenant_id, &claims.sub)
                    .await
                    .map_err(storage("authenticating"))?
                    .ok_or_else(|| {
                        Error::Unauthorized("User not found in this organization".into())
                    })?;
                if !user.is_active {
                    return Err(Error::Unauthorized("User account is deactivated".into()));
                }
                if self
                    .repo
                    .family_revoked(&claims.tenant_id, &claims.sid)
                    .await
                    .map_err(storage("authenticating"))?
                {
                    return Err(Error::Unauthorized("Session has ended".into()));
                }
                let user = Arc::new(user);
                self.sessions.insert(key, user.clone()).await;
                user
            }
        };
        Ok(Session {
            user,
            tenant,
            claims,
        })
    }

    // ----- the user's own account -----------------------------------------------------

    pub async fn update_profile(
        &self,
        session: &Session,
        name: Option<String>,
        phone: Option<String>,
    ) -> Result<User> {
        let mut checks = Checks::default();
        let name = name.map(|n| validate::text(&mut checks, "name", &n, 200));
        let phone = phone.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
        if let Some(p) = &phone
            && (p.chars().count() > 40
                || !p
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-().".contains(c)))
        {
            checks.fail(
                "phone",
                "phone may contain only digits, spaces and + - ( ) . (at most 40 characters)",
            );
        }
        checks.into_result()?;
        if name.is_none() && phone.is_none() {
            return Err(Error::BadRequest("No updates provided".into()));
        }
        let mut user = self.current(session).await?;
        if let Some(name) = name {
            user.name = name;
        }
        if phone.is_some() {
            user.phone = phone;
        }
        user.updated_at = Utc::now();
        self.save(&user).await?;
        Ok(user)
    }

    /// Sets a new password for the signed-in user and ends every other session.
    pub async fn change_password(&self, session: &Session, new_password: &str) -> Result<()> {
        check_password(new_password)?;
        let mut user = self.current(session).await?;
        user.password_hash = Some(hash_password(new_password).await?);
        user.updated_at = Utc::now();
        self.save(&user).await?;
        self.repo
            .revoke_user_tokens(
                &user.tenant_id,
                &user.id,
                Some(&session.claims.sid),
                Utc::now(),
            )
            .await
            .map_err(storage("changing a password"))?;
        self.forget_user(&user.tenant_id, &user.id);
        Ok(())
    }

    async fn current(&self, session: &Session) -> Result<User> {
        self.repo
            .get_user(&session.tenant.id, &session.user.id)
            .await
            .map_err(storage("loading a user"))?
            .ok_or_else(|| Error::Unauthorized("User not found in this organization".into()))
    }

    async fn save(&self, user: &User) -> Result<()> {
        if !self
            .repo
            .update_user(user)
            .await
            .map_err(storage("saving a user"))?
        {
            return Err(Error::NotFound("User not found".into()));
        }
        self.forget_user(&user.tenant_id, &user.id);
        Ok(())
    }

    /// Emails a reset link to every active membership of the address; says nothing about
    /// whether there was one.
    pub async fn request_password_reset(&self, email: &str) -> Result<()> {
        let email = email.trim().to_ascii_lowercase();
        if !validate::is_valid_email(&email) {
            return Ok(());
        }
        let users = self
            .repo
            .users_by_email_everywhere(&email)
            .await
            .map_err(storage("requesting a password reset"))?;
        for user in users.into_iter().filter(|u| u.is_active) {
            let Some(tenant) = self.tenants.find(&user.tenant_id).await? else {
                continue;
            };
            if tenant.status != TenantStatus::Active {
                continue;
            }
            self.send_reset_link(&tenant, &user).await?;
        }
        Ok(())
    }

    async fn send_reset_link(&self, tenant: &Tenant, user: &User) -> Result<()> {
        let token = tokens::opaque::<32>();
        let now = Utc::now();
        let row = ResetToken {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: user.tenant_id.clone(),
            user_id: user.id.clone(),
            token_hash: tokens::digest(&token),
            created_at: now,
            expires_at: now + ttl(self.settings.reset_ttl),
            used_at: None,
        };
        self.repo
            .insert_reset_token(&row)
            .await
            .map_err(storage("requesting a password reset"))?;
        let link = format!(
            "{}/reset-password?token={token}&type=recovery",
            self.settings.app_url.trim_end_matches('/')
        );
        let minutes = self.settings.reset_ttl.as_secs() / 60;
        let message = Message {
            tenant_id: tenant.id.clone(),
            kind: EmailKind::PasswordReset,
            to: user.email.clone(),
            from_name: tenant.name.clone(),
            from_address: None,
            reply_to: tenant.support_email.clone(),
            subject: format!("Reset your {} password", tenant.name),
            text: format!(
                "Hello {name},\n\nSomeone asked to reset the password of your {company} account. \
                 To choose a new password, open this link within {minutes} minutes:\n\n{link}\n\n\
                 If you did not ask for this, ignore this email; your password stays as it is.\n",
                name = if user.name.is_empty() {
                    &user.email
                } else {
                    &user.name
                },
                company = tenant.name,
            ),
            html: None,
            attachments: Vec::new(),
            idempotency_key: None,
        };
        // A mail failure must not reveal the address (the caller always answers success).
        if let Err(e) = self.mailer.send(&message).await {
            tracing::error!(error = %e, "password reset email could not be recorded");
        }
        Ok(())
    }

    /// Sets a new password with an emailed token (single use) and ends every session.
    pub async fn complete_password_reset(&self, token: &str, new_password: &str) -> Result<()> {
        let invalid = || Error::BadRequest("Invalid or expired reset token".into());
        if token.is_empty() || token.len() > 256 {
            return Err(invalid());
        }
        let row = self
            .repo
            .reset_token_by_hash(&tokens::digest(token))
            .await
            .map_err(storage("resetting a password"))?
            .ok_or_else(invalid)?;
        if row.used_at.is_some() || row.expires_at <= Utc::now() {
            return Err(invalid());
        }
        check_password(new_password)?;
        let hash = hash_password(new_password).await?;
        let now = Utc::now();
        if !self
            .repo
            .complete_reset(&row, &hash, now)
            .await
            .map_err(storage("resetting a password"))?
        {
            return Err(invalid());
        }
        self.repo
            .revoke_user_tokens(&row.tenant_id, &row.user_id, None, now)
            .await
            .map_err(storage("resetting a password"))?;
        self.forget_user(&row.tenant_id, &row.user_id);
        Ok(())
    }

    // ----- users and invitations (tenant admins) --------------------------------------

    pub async fn list_users(&self, tenant_id: &str) -> Result<Vec<User>> {
        self.repo
            .list_users(tenant_id, true)
            .await
            .map_err(storage("listing users"))
    }

    pub async fn count_active_users(&self, tenant_id: &str) -> Result<i64> {
        self.repo
            .count_active_users(tenant_id)
            .await
            .map_err(storage("counting users"))
    }

    /// Every user of the tenant, deactivated ones included (administration tools).
    pub async fn list_all_users(&self, tenant_id: &str) -> Result<Vec<User>> {
        self.repo
            .list_users(tenant_id, false)
            .await
            .map_err(storage("listing users"))
    }

    pub async fn get_user(&self, tenant_id: &str, id: &str) -> Result<User> {
        self.repo
            .get_user(tenant_id, id)
            .await
            .map_err(storage("loading a user"))?
            .ok_or_else(|| Error::NotFound("User not found".into()))
    }

    pub async fn update_user(&self, session: &Session, id: &str, patch: UserPatch) -> Result<User> {
        let mut user = self.get_user(&session.tenant.id, id).await?;
        let role = match patch.role.as_deref() {
            Some(r) => Some(Role::parse(r).ok_or_else(|| {
                Error::BadRequest("Invalid role: must be 'admin' or 'consultant'".into())
            })?),
            None => None,
        };
        let mut checks = Checks::default();
        let name = patch
            .name
            .map(|n| validate::text(&mut checks, "name", &n, 200));
        checks.into_result()?;
        if name.is_none() && role.is_none() {
            return Err(Error::BadRequest("No updates provided".into()));
        }
        if user.id == session.user.id && role.is_some_and(|r| r != Role::Admin) {
            return Err(Error::BadRequest("You cannot demote yourself".into()));
        }
        if let Some(name) = name {
            user.name = name;
        }
        if let Some(role) = role {
            user.role = role;
        }
        user.updated_at = Utc::now();
        self.save(&user).await?;
        Ok(user)
    }

    /// Deactivates a user and revokes every token it holds.
    pub async fn deactivate_user(&self, session: &Session, id: &str) -> Result<User> {
        if id == session.user.id {
            return Err(Error::BadRequest(
                "You cannot deactivate your own account".into(),
            ));
        }
        let mut user = self.get_user(&session.tenant.id, id).await?;
        user.is_active = false;
        user.updated_at = Utc::now();
        self.save(&user).await?;
        self.repo
            .revoke_user_tokens(&user.tenant_id, &user.id, None, Utc::now())
            .await
            .map_err(storage("deactivating a user"))?;
        Ok(user)
    }

    /// Creates a user directly. Without a password, the user is emailed a link to set one.
    pub async fn create_user(&self, tenant: &Tenant, input: NewUser) -> Result<User> {
        let mut checks = Checks::default();
        let email = validate::email(&mut checks, "email", &input.email);
        let name = input.name.trim().to_owned();
        if name.chars().count() > 200 {
            checks.fail("name", "name must be at most 200 characters");
        }
        if let Some(p) = &input.password
            && let Some(msg) = password::policy_violation(p)
        {
            checks.fail("password", msg);
        }
        checks.into_result()?;
        let password_hash = match &input.password {
            Some(p) => Some(hash_password(p).await?),
            None => None,
        };
        let now = Utc::now();
        let user = User {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: tenant.id.clone(),
            email,
            name,
            phone: input.phone,
            role: input.role,
            is_active: true,
            password_hash,
            invited_by: None,
            last_login_at: None,
            created_at: now,
            updated_at: now,
        };
        match self.repo.insert_user(&user).await {
            Ok(()) => {}
            Err(StorageError::Conflict { .. }) => {
                return Err(Error::Conflict(
                    "User with this email already exists".into(),
                ));
            }
            Err(e) => return Err(Error::storage("creating a user", e)),
        }
        if user.password_hash.is_none() {
            self.send_reset_link(tenant, &user).await?;
        }
        Ok(user)
    }

    /// Invites an address to the tenant, replacing a pending invitation for it. The email
    /// is recorded in the outbox; a mail failure is logged and does not fail the call.
    pub async fn invite(
        &self,
        tenant: &Tenant,
        invited_by: Option<&User>,
        email: &str,
        name: &str,
        role: &str,
    ) -> Result<Invitation> {
        let role = Role::parse(role).ok_or_else(|| {
            Error::BadRequest("Invalid role: must be 'admin' or 'consultant'".into())
        })?;
        let mut checks = Checks::default();
        let email = validate::email(&mut checks, "email", email);
        let name = name.trim().to_owned();
        if name.chars().count() > 200 {
            checks.fail("name", "name must be at most 200 characters");
        }
        checks.into_result()?;
        if let Some(existing) = self
            .repo
            .user_by_email(&tenant.id, &email)
            .await
            .map_err(storage("inviting a user"))?
            && existing.is_active
        {
            return Err(Error::BadRequest(
                "User with this email already exists".into(),
            ));
        }
        let token = tokens::opaque::<48>();
        let now = Utc::now();
        let invitation = Invitation {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: tenant.id.clone(),
            email,
            name,
            role,
            token_hash: tokens::digest(&token),
            invited_by: invited_by.map(|u| u.id.clone()),
            created_at: now,
            expires_at: now + ttl(self.settings.invitation_ttl),
            accepted_at: None,
            revoked_at: None,
        };
        self.repo
            .replace_invitation(&invitation)
            .await
            .map_err(storage("inviting a user"))?;
        self.send_invitation(tenant, &invitation, invited_by, &token)
            .await;
        Ok(invitation)
    }

    async fn send_invitation(
        &self,
        tenant: &Tenant,
        invitation: &Invitation,
        invited_by: Option<&User>,
        token: &str,
    ) {
        let link = format!(
            "{}/accept-invite?token={token}",
            self.settings.app_url.trim_end_matches('/')
        );
        let inviter = invited_by
            .map(|u| {
                if u.name.is_empty() {
                    u.email.clone()
                } else {
                    u.name.clone()
                }
            })
            .unwrap_or_else(|| tenant.name.clone());
        let hours = self.settings.invitation_ttl.as_secs() / 3600;
        let message = Message {
            tenant_id: tenant.id.clone(),
            kind: EmailKind::Invitation,
            to: invitation.email.clone(),
            from_name: tenant.name.clone(),
            from_address: None,
            reply_to: tenant.support_email.clone(),
            subject: format!("You are invited to join {} on Caravan", tenant.name),
            text: format!(
                "Hello{name},\n\n{inviter} invited you to join {company} as {role}. \
                 To accept and choose your password, open this link within {hours} hours:\n\n\
                 {link}\n",
                name = if invitation.name.is_empty() {
                    String::new()
                } else {
                    format!(" {}", invitation.name)
                },
                company = tenant.name,
                role = invitation.role.as_str(),
            ),
            html: None,
            attachments: Vec::new(),
            idempotency_key: None,
        };
        if let Err(e) = self.mailer.send(&message).await {
            tracing::error!(error = %e, invitation_id = invitation.id, "invitation email failed");
        }
    }

    pub async fn pending_invitations(&self, tenant_id: &str) -> Result<Vec<Invitation>> {
        self.repo
            .pending_invitations(tenant_id)
            .await
            .map_err(storage("listing invitations"))
    }

    /// A new token and expiry for a pending invitation, emailed again.
    pub async fn resend_invitation(
        &self,
        tenant: &Tenant,
        id: &str,
        by: Option<&User>,
    ) -> Result<Invitation> {
        let not_found = || Error::NotFound("Invitation not found".into());
        let mut invitation = self
            .repo
            .get_invitation(&tenant.id, id)
            .await
            .map_err(storage("resending an invitation"))?
            .filter(Invitation::is_pending)
            .ok_or_else(not_found)?;
        let token = tokens::opaque::<48>();
        invitation.token_hash = tokens::digest(&token);
        invitation.expires_at = Utc::now() + ttl(self.settings.invitation_ttl);
        if !self
            .repo
            .renew_invitation(
                &tenant.id,
                id,
                &invitation.token_hash,
                invitation.expires_at,
            )
            .await
            .map_err(storage("resending an invitation"))?
        {
            return Err(not_found());
        }
        self.send_invitation(tenant, &invitation, by, &token).await;
        Ok(invitation)
    }

    pub async fn revoke_invitation(&self, tenant_id: &str, id: &str) -> Result<()> {
        if self
            .repo
            .revoke_invitation(tenant_id, id, Utc::now())
            .await
            .map_err(storage("revoking an invitation"))?
        {
            Ok(())
        } else {
            Err(Error::NotFound("Invitation not found".into()))
        }
    }

    /// Accepts an invitation found by its token in any tenant, creating (or reactivating)
    /// the user with the invitation's role.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: &str,
        name: Option<&str>,
    ) -> Result<User> {
        let invalid = || Error::BadRequest("Invalid or expired invitation".into());
        if token.is_empty() || token.len() > 256 {
            return Err(invalid());
        }
        let invitation = self
            .repo
            .invitation_by_hash(&tokens::digest(token))
            .await
            .map_err(storage("accepting an invitation"))?
            .ok_or_else(invalid)?;
        if invitation.accepted_at.is_some() {
            return Err(Error::BadRequest("Invitation already accepted".into()));
        }
        if invitation.revoked_at.is_some() {
            return Err(invalid());
        }
        if invitation.expires_at <= Utc::now() {
            return Err(Error::BadRequest("Invitation has expired".into()));
        }
        let tenant = self.tenants.require_active(&invitation.tenant_id).await?;
        let existing = self
            .repo
            .user_by_email(&tenant.id, &invitation.email)
            .await
            .map_err(storage("accepting an invitation"))?;
        let password_hash = match existing.as_ref().and_then(|u| u.password_hash.clone()) {
            Some(phc) => {
                if !verify_password(password, &phc).await {
                    return Err(Error::BadRequest(
                        "Email already registered with different password".into(),
                    ));
                }
                phc
            }
            None => {
                check_password(password)?;
                hash_password(password).await?
            }
        };
        let mut checks = Checks::default();
        let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => validate::text(&mut checks, "name", n, 200),
            None => existing
                .as_ref()
                .map(|u| u.name.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| invitation.name.clone()),
        };
        checks.into_result()?;
        let now = Utc::now();
        let user = User {
            id: existing
                .as_ref()
                .map_or_else(|| uuid::Uuid::new_v4().to_string(), |u| u.id.clone()),
            tenant_id: tenant.id.clone(),
            email: invitation.email.clone(),
            name,
            phone: existing.as_ref().and_then(|u| u.phone.clone()),
            role: invitation.role,
            is_active: true,
            password_hash: Some(password_hash),
            invited_by: invitation.invited_by.clone(),
            last_login_at: existing.as_ref().and_then(|u| u.last_login_at),
            created_at: existing.as_ref().map_or(now, |u| u.created_at),
            updated_at: now,
        };
        if !self
            .repo
            .accept_invitation(&invitation, &user, now)
            .await
            .map_err(storage("accepting an invitation"))?
        {
            return Err(Error::BadRequest("Invitation already accepted".into()));
        }
        self.forget_user(&user.tenant_id, &user.id);
        self.repo
            .user_by_email(&tenant.id, &user.email)
            .await
            .map_err(storage("accepting an invitation"))?
            .ok_or_else(|| internal("accepting an invitation", anyhow::anyhow!("user vanished")))
    }
}
