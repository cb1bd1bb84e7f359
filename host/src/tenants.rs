//! Tenants: provisioning, configuration, suspension and deletion, behind a cache.

pub mod cache;
pub mod model;
pub mod validate;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Deserializer};

use crate::blobs::Blobs;
use crate::error::{Error, Result};
use crate::storage::{PluginRepo, StorageError, TenantRepo};
use cache::TenantCache;
use model::{
    Branding, Destination, EmailIdentity, HelpdeskSettings, Limits, QuotingSettings, Tenant,
    TenantConfig, TenantCounts, TenantListQuery, TenantPage, TenantStatus,
};
use validate::Checks;

/// Where a tenant's document logo lives, under its object prefix.
const LOGO_OBJECT: &str = "branding/logo";
const LOGO_MAX_BYTES: usize = 2 * 1024 * 1024;

/// A destination as given on input: a bare name, or a name with aliases.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum DestinationInput {
    Name(String),
    Full(Destination),
}

impl From<DestinationInput> for Destination {
    fn from(input: DestinationInput) -> Self {
        match input {
            DestinationInput::Name(name) => Destination {
                name,
                code: String::new(),
                aliases: Vec::new(),
                enabled: true,
            },
            DestinationInput::Full(d) => d,
        }
    }
}

/// What it takes to provision a tenant (the platform-admin create body).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    pub tenant_id: String,
    pub company_name: String,
    pub admin_email: String,
    #[serde(default)]
    pub support_email: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub logo_url: Option<String>,
    #[serde(default)]
    pub primary_color: Option<String>,
    #[serde(default)]
    pub secondary_color: Option<String>,
    #[serde(default)]
    pub destinations: Vec<DestinationInput>,
    #[serde(default)]
    pub inbound_addresses: Vec<String>,
    #[serde(default)]
    pub limits: Option<LimitsPatch>,
    #[serde(default)]
    pub quoting: Option<QuotingSettings>,
    #[serde(default)]
    pub helpdesk: Option<HelpdeskSettings>,
    #[serde(default)]
    pub fx_rates: Option<BTreeMap<String, f64>>,
    #[serde(default)]
    pub email: Option<EmailIdentity>,
    /// Accepted for compatibility with the admin SPA; Caravan has no per-tenant cloud project.
    #[serde(default)]
    pub gcp_project_id: Option<String>,
    /// Accepted for compatibility with the admin SPA; Caravan has no per-tenant dataset.
    #[serde(default)]
    pub gcp_dataset: Option<String>,
}

/// A partial update; absent fields stay as they are, `null` clears the optional ones.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub admin_email: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub support_email: Option<Option<String>>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub logo_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub primary_color: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub secondary_color: Option<Option<String>>,
    #[serde(default)]
    pub destinations: Option<Vec<DestinationInput>>,
    #[serde(default)]
    pub inbound_addresses: Option<Vec<String>>,
    #[serde(default)]
    pub limits: Option<LimitsPatch>,
    #[serde(default)]
    pub quoting: Option<QuotingSettings>,
    #[serde(default)]
    pub helpdesk: Option<HelpdeskSettings>,
    #[serde(default)]
    pub fx_rates: Option<BTreeMap<String, f64>>,
    #[serde(default)]
    pub email: Option<EmailIdentity>,
}

impl UpdateTenant {
    fn is_empty(&self) -> bool {
        self.company_name.is_none()
            && self.admin_email.is_none()
            && self.support_email.is_none()
            && self.timezone.is_none()
            && self.currency.is_none()
            && self.plan.is_none()
            && self.logo_url.is_none()
            && self.primary_color.is_none()
            && self.secondary_color.is_none()
            && self.destinations.is_none()
            && self.inbound_addresses.is_none()
            && self.limits.is_none()
            && self.quoting.is_none()
            && self.helpdesk.is_none()
            && self.fx_rates.is_none()
            && self.email.is_none()
    }
}

/// Plan limits to change; absent ones keep their value.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsPatch {
    pub max_users: Option<u32>,
    pub max_monthly_quotes: Option<u32>,
    pub max_storage_gb: Option<u32>,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn nullable<'de, D, T>(deserializer: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Timestamps with microsecond precision, which every backend stores exactly; optimistic
/// concurrency compares them.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn apply_limits(checks: &mut Checks, limits: &mut Limits, patch: LimitsPatch) {
    let mut set = |field: &str, value: Option<u32>, max: u32, target: &mut u32| {
        if let Some(v) = value {
            if v == 0 || v > max {
                checks.fail(field, format!("{field} must be between 1 and {max}"));
            }
            *target = v;
        }
    };
    set(
        "limits.max_users",
        patch.max_users,
        100_000,
        &mut limits.max_users,
    );
    set(
        "limits.max_monthly_quotes",
        patch.max_monthly_quotes,
        10_000_000,
        &mut limits.max_monthly_quotes,
    );
    set(
        "limits.max_storage_gb",
        patch.max_storage_gb,
        100_000,
        &mut limits.max_storage_gb,
    );
}

/// Reasons must say something but not carry an essay.
const REASON_RULE: std::ops::RangeInclusive<usize> = 5..=500;

pub struct TenantService {
    repo: Arc<dyn TenantRepo>,
    plugins: Arc<dyn PluginRepo>,
    cache: TenantCache,
    blobs: Blobs,
}

impl std::fmt::Debug for TenantService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantService")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl TenantService {
    pub fn new(
        repo: Arc<dyn TenantRepo>,
        plugins: Arc<dyn PluginRepo>,
        cache: TenantCache,
        blobs: Blobs,
    ) -> Self {
        Self {
            repo,
            plugins,
            cache,
            blobs,
        }
    }

    /// Which cache answers tenant reads (for diagnostics).
    pub fn cache_mode(&self) -> &'static str {
        self.cache.mode()
    }

    pub async fn create(&self, input: CreateTenant) -> Result<Tenant> {
        let mut checks = Checks::default();
        let id = input.tenant_id.trim().to_owned();
        if !validate::is_valid_slug(&id) {
            checks.fail("tenant_id", format!("tenant_id {}", validate::SLUG_RULE));
        }
        let name = validate::text(&mut checks, "company_name", &input.company_name, 200);
        let admin_email = validate::email(&mut checks, "admin_email", &input.admin_email);
        let support_email = input
            .support_email
            .map(|e| validate::email(&mut checks, "support_email", &e));
        let mut config = TenantConfig::default();
        if let Some(tz) = input.timezone {
            config.timezone = validate::timezone(&mut checks, &tz);
        }
        if let Some(c) = input.currency {
            config.currency = validate::currency(&mut checks, &c);
        }
        let plan = validate::plan(&mut checks, input.plan.as_deref().unwrap_or("lite"));
        config.branding = Branding {
            primary_color: input
                .primary_color
                .map(|c| validate::color(&mut checks, "primary_color", &c)),
            secondary_color: input
                .secondary_color
                .map(|c| validate::color(&mut checks, "secondary_color", &c)),
            logo_url: input
                .logo_url
                .map(|u| validate::url(&mut checks, "logo_url", &u)),
        };
        config.destinations = validate::destinations(
            &mut checks,
            input.destinations.into_iter().map(Into::into).collect(),
        );
        config.inbound_addresses =
            validate::inbound_addresses(&mut checks, input.inbound_addresses);
        if let Some(limits) = input.limits {
            apply_limits(&mut checks, &mut config.limits, limits);
        }
        if let Some(quoting) = input.quoting {
            config.quoting = validate::quoting(&mut checks, quoting);
        }
        if let Some(helpdesk) = input.helpdesk {
            config.helpdesk = validate::helpdesk(&mut checks, helpdesk);
        }
        if let Some(fx) = input.fx_rates {
            config.fx_rates = validate::fx_rates(&mut checks, fx);
        }
        if let Some(identity) = input.email {
            config.email = validate::email_identity(&mut checks, identity);
        }
        checks.into_result()?;

        let at = now();
        let tenant = Tenant {
            id,
            name,
            status: TenantStatus::Active,
            plan,
            admin_email,
            support_email,
            config,
            created_at: at,
            updated_at: at,
            suspended_at: None,
            suspended_reason: None,
        };
        self.repo
            .insert(&tenant)
            .await
            .map_err(|e| conflict_or(e, &tenant.id, "creating the tenant"))?;
        tracing::info!(tenant_id = %tenant.id, "tenant created");
        Ok(tenant)
    }

    /// The tenant, from the cache when possible.
    pub async fn find(&self, id: &str) -> Result<Option<Arc<Tenant>>> {
        if let Some(t) = self.cache.get(id).await {
            return Ok(Some(t));
        }
        let found = self
            .repo
            .get(id)
            .await
            .map_err(|e| Error::storage("loading the tenant", e))?;
        if let Some(t) = &found {
            self.cache.put(t).await;
        }
        Ok(found.map(Arc::new))
    }

    /// Tenants that claim an email address (inbound address, support or admin email),
    /// strongest claim first, whatever their status.
    pub async fn claims_on(
        &self,
        address: &str,
    ) -> Result<Vec<(String, crate::storage::tenants::AddressClaim)>> {
        self.repo
            .find_by_email(address)
            .await
            .map_err(|e| Error::storage("looking up an email address", e))
    }

    /// Stores the tenant's logo (PNG or JPEG, up to 2 MB) for its documents.
    pub async fn put_logo(&self, id: &str, bytes: bytes::Bytes) -> Result<()> {
        self.get(id).await?;
        let is_png = bytes.starts_with(b"\x89PNG\r\n\x1a\n");
        let is_jpeg = bytes.starts_with(&[0xFF, 0xD8, 0xFF]);
        if !(is_png || is_jpeg) {
            return Err(Error::validation(crate::error::FieldError::body(
                "logo",
                "the logo must be a PNG or JPEG image",
            )));
        }
        if bytes.len() > LOGO_MAX_BYTES {
            return Err(Error::validation(crate::error::FieldError::body(
                "logo",
                format!("the logo is {} bytes; the limit is 2 MB", bytes.len()),
            )));
        }
        let path = Blobs::tenant_path(id, LOGO_OBJECT).map_err(|e| Error::Internal {
            operation: "naming the logo",
            cause: e.into(),
        })?;
        self.blobs
            .put(&path, bytes)
            .await
            .map_err(|e| Error::blobs("storing the logo", e))
    }

    /// The tenant's logo, when it has one.
    pub async fn logo(&self, id: &str) -> Option<bytes::Bytes> {
        let path = Blobs::tenant_path(id, LOGO_OBJECT).ok()?;
        self.blobs.get(&path).await.ok()
    }

    pub async fn get(&self, id: &str) -> Result<Arc<Tenant>> {
        self.find(id).await?.ok_or_else(|| not_found(id))
    }

    /// The tenant if it may be served: 404 when unknown, 403 when suspended.
    pub async fn require_active(&self, id: &str) -> Result<Arc<Tenant>> {
        let tenant = self.get(id).await?;
        match tenant.status {
            TenantStatus::Active => Ok(tenant),
            TenantStatus::Suspended => Err(Error::Forbidden("Tenant account is suspended".into())),
        }
    }

    pub async fn list(&self, query: &TenantListQuery) -> Result<TenantPage> {
        self.repo
            .list(query)
            .await
            .map_err(|e| Error::storage("listing tenants", e))
    }

    pub async fn counts(&self) -> Result<TenantCounts> {
        self.repo
            .counts()
            .await
            .map_err(|e| Error::storage("counting tenants", e))
    }

    pub async fn update(&self, id: &str, patch: UpdateTenant) -> Result<Tenant> {
        if patch.is_empty() {
            return Err(Error::BadRequest("No updates provided".into()));
        }
        // Optimistic concurrency: a concurrent write makes the update re-read and re-apply.
        for _ in 0..3 {
            let current = self
                .repo
                .get(id)
                .await
                .map_err(|e| Error::storage("loading the tenant", e))?
                .ok_or_else(|| not_found(id))?;
            let expected = current.updated_at;
            let updated = apply_patch(current, patch.clone())?;
            let stored = self
                .repo
                .update(&updated, expected)
                .await
                .map_err(|e| conflict_or(e, id, "updating the tenant"))?;
            if stored {
                self.refresh(&updated).await;
                tracing::info!(tenant_id = %id, "tenant updated");
                return Ok(updated);
            }
        }
        Err(Error::Conflict(
            "The tenant was modified concurrently; please retry".into(),
        ))
    }

    pub async fn suspend(&self, id: &str, reason: &str) -> Result<Tenant> {
        let reason = reason.trim();
        if !REASON_RULE.contains(&reason.chars().count()) {
            return Err(Error::validation(crate::error::FieldError::body(
                "reason",
                "reason must be 5–500 characters",
            )));
        }
        self.set_status(id, TenantStatus::Suspended, Some(reason))
            .await
    }

    pub async fn activate(&self, id: &str) -> Result<Tenant> {
        self.set_status(id, TenantStatus::Active, None).await
    }

    async fn set_status(
        &self,
        id: &str,
        status: TenantStatus,
        reason: Option<&str>,
    ) -> Result<Tenant> {
        let tenant = self
            .repo
            .set_status(id, status, reason, now())
            .await
            .map_err(|e| Error::storage("changing the tenant status", e))?
            .ok_or_else(|| not_found(id))?;
        self.refresh(&tenant).await;
        tracing::info!(tenant_id = %id, status = status.as_str(), "tenant status changed");
        Ok(tenant)
    }

    /// Deletes the tenant's stored objects, then its rows (every tenant-owned table cascades),
    /// then the plugin binaries no other tenant uses.
    ///
    /// The tenant's own objects go first: if the row deletion then fails, the tenant still
    /// exists and the deletion can simply be repeated, whereas the other order could orphan
    /// objects that nothing points to any more. Plugin binaries are stored by content and may
    /// be shared, so each is removed only once no version references it.
    pub async fn delete(&self, id: &str) -> Result<usize> {
        if self
            .repo
            .get(id)
            .await
            .map_err(|e| Error::storage("loading the tenant", e))?
            .is_none()
        {
            return Err(not_found(id));
        }
        let shared = self
            .plugins
            .tenant_sha256s(id)
            .await
            .map_err(|e| Error::storage("listing the tenant's plugins", e))?;
        let mut objects = self
            .blobs
            .delete_tenant(id)
            .await
            .map_err(|e| Error::blobs("deleting the tenant's files", e))?;
        let deleted = self
            .repo
            .delete(id)
            .await
            .map_err(|e| Error::storage("deleting the tenant", e))?;
        self.cache.invalidate(id).await;
        if !deleted {
            return Err(not_found(id));
        }
        for sha256 in shared {
            let in_use = self
                .plugins
                .sha256_in_use(&sha256)
                .await
                .map_err(|e| Error::storage("checking shared plugin binaries", e))?;
            if !in_use {
                let path = crate::plugins::registry::blob_path(&sha256);
                self.blobs
                    .delete(&path)
                    .await
                    .map_err(|e| Error::blobs("deleting the tenant's plugin binaries", e))?;
                objects += 1;
            }
        }
        tracing::info!(tenant_id = %id, objects, "tenant deleted");
        Ok(objects)
    }

    async fn refresh(&self, tenant: &Tenant) {
        self.cache.invalidate(&tenant.id).await;
        self.cache.put(tenant).await;
    }
}

fn not_found(id: &str) -> Error {
    Error::NotFound(format!("Tenant '{id}' not found"))
}

/// Maps the tenant tables' unique constraints to the conflict they mean.
fn conflict_or(err: StorageError, id: &str, operation: &'static str) -> Error {
    match &err {
        StorageError::Conflict { constraint } if constraint == "tenants_pkey" => {
            Error::Conflict(format!("Tenant '{id}' already exists"))
        }
        StorageError::Conflict { constraint }
            if constraint == "tenant_inbound_addresses_address_key" =>
        {
            Error::Conflict("An inbound address is already used by another tenant".into())
        }
        _ => Error::storage(operation, err),
    }
}

fn apply_patch(mut t: Tenant, patch: UpdateTenant) -> Result<Tenant> {
    let mut checks = Checks::default();
    if let Some(name) = patch.company_name {
        t.name = validate::text(&mut checks, "company_name", &name, 200);
    }
    if let Some(email) = patch.admin_email {
        t.admin_email = validate::email(&mut checks, "admin_email", &email);
    }
    if let Some(email) = patch.support_email {
        t.support_email = email.map(|e| validate::email(&mut checks, "support_email", &e));
    }
    if let Some(tz) = patch.timezone {
        t.config.timezone = validate::timezone(&mut checks, &tz);
    }
    if let Some(c) = patch.currency {
        t.config.currency = validate::currency(&mut checks, &c);
    }
    if let Some(plan) = patch.plan {
        t.plan = validate::plan(&mut checks, &plan);
    }
    if let Some(url) = patch.logo_url {
        t.config.branding.logo_url = url.map(|u| validate::url(&mut checks, "logo_url", &u));
    }
    if let Some(c) = patch.primary_color {
        t.config.branding.primary_color =
            c.map(|c| validate::color(&mut checks, "primary_color", &c));
    }
    if let Some(c) = patch.secondary_color {
        t.config.branding.secondary_color =
            c.map(|c| validate::color(&mut checks, "secondary_color", &c));
    }
    if let Some(d) = patch.destinations {
        t.config.destinations =
            validate::destinations(&mut checks, d.into_iter().map(Into::into).collect());
    }
    if let Some(a) = patch.inbound_addresses {
        t.config.inbound_addresses = validate::inbound_addresses(&mut checks, a);
    }
    if let Some(l) = patch.limits {
        apply_limits(&mut checks, &mut t.config.limits, l);
    }
    if let Some(q) = patch.quoting {
        t.config.quoting = validate::quoting(&mut checks, q);
    }
    if let Some(h) = patch.helpdesk {
        t.config.helpdesk = validate::helpdesk(&mut checks, h);
    }
    if let Some(fx) = patch.fx_rates {
        t.config.fx_rates = validate::fx_rates(&mut checks, fx);
    }
    if let Some(identity) = patch.email {
        t.config.email = validate::email_identity(&mut checks, identity);
    }
    checks.into_result()?;
    t.updated_at = now().max(t.updated_at + chrono::Duration::microseconds(1));
    Ok(t)
}
