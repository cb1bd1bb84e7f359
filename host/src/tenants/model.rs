//! The tenant record and its configuration, as stored and as the services see them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Whether a tenant may use Caravan. Deleted tenants leave no row behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    Active,
    Suspended,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            _ => None,
        }
    }
}

/// Commercial plans. `standard` and `premium` are accepted on creation as the admin SPA sends them.
pub const PLANS: &[&str] = &["lite", "standard", "pro", "premium", "enterprise"];

/// One agency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// The slug: 3–50 characters of `a-z`, `0-9`, `_`, `-`. Immutable.
    pub id: String,
    /// Company name shown in the dashboard, emails and PDFs.
    pub name: String,
    pub status: TenantStatus,
    pub plan: String,
    /// Receives the first user's invitation.
    pub admin_email: String,
    pub support_email: Option<String>,
    pub config: TenantConfig,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub suspended_reason: Option<String>,
}

/// Everything a tenant configures about itself, stored as one JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TenantConfig {
    /// ISO 4217 home currency; prices and PDFs use it.
    pub currency: String,
    /// IANA time zone, e.g. `Africa/Johannesburg`.
    pub timezone: String,
    /// Destinations the agency sells, each with the aliases customers write.
    pub destinations: Vec<Destination>,
    /// Addresses whose mail belongs to this tenant (unique across tenants; kept in their own
    /// table so the database enforces that, and mirrored here when read).
    pub inbound_addresses: Vec<String>,
    pub branding: Branding,
    pub limits: Limits,
    /// How enquiries are quoted.
    pub quoting: QuotingSettings,
    /// Who the tenant's emails to customers come from.
    pub email: EmailIdentity,
    /// How the helpdesk answers staff questions.
    pub helpdesk: HelpdeskSettings,
    /// Conversion rates into the home currency (units of `currency` per unit of the key),
    /// over the platform's snapshot; quotes record the rates they used.
    pub fx_rates: std::collections::BTreeMap<String, f64>,
}

/// The sender of a tenant's emails to customers (quotes, replies). Unset parts fall back to
/// the company name, the platform's sending address and the support email.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailIdentity {
    pub from_name: Option<String>,
    /// A sending address the mail service accepts for this tenant (e.g. verified in SendGrid).
    pub from_email: Option<String>,
    pub reply_to: Option<String>,
}

impl Tenant {
    /// Display name, sending address (None: the platform's) and reply-to for customer mail.
    pub fn sender(&self) -> (String, Option<String>, Option<String>) {
        let identity = &self.config.email;
        (
            identity
                .from_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| self.name.clone()),
            identity.from_email.clone(),
            identity
                .reply_to
                .clone()
                .or_else(|| self.support_email.clone()),
        )
    }
}

/// The helpdesk assistant of a tenant. Unset parts use the platform's wording.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HelpdeskSettings {
    /// The assistant's name in answers, e.g. `Sunny`.
    pub assistant_name: Option<String>,
    /// Who the assistant is and how it speaks: added to the model's instructions, e.g.
    /// "a friendly senior consultant who answers in short bullet points".
    pub persona: Option<String>,
    /// Extra rules for answers, e.g. "always quote prices in ZAR".
    pub instructions: Option<String>,
}

/// How a tenant's enquiries become quotes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotingSettings {
    /// Quote each inbound enquiry automatically (the ticket is made either way).
    pub auto_quote_inbound: bool,
    /// Email automatic quotes to the customer at once; otherwise they wait as drafts.
    pub auto_send: bool,
    /// Days a quote is valid, printed on the PDF.
    pub validity_days: u32,
    /// Paragraphs printed under the options; empty uses the standard wording.
    pub terms: Vec<String>,
}

impl Default for QuotingSettings {
    fn default() -> Self {
        Self {
            auto_quote_inbound: false,
            auto_send: false,
            validity_days: 14,
            terms: Vec::new(),
        }
    }
}

impl Default for TenantConfig {
    fn default() -> Self {
        Self {
            currency: "ZAR".to_owned(),
            timezone: "Africa/Johannesburg".to_owned(),
            destinations: Vec::new(),
            inbound_addresses: Vec::new(),
            branding: Branding::default(),
            limits: Limits::default(),
            quoting: QuotingSettings::default(),
            email: EmailIdentity::default(),
            helpdesk: HelpdeskSettings::default(),
            fx_rates: std::collections::BTreeMap::new(),
        }
    }
}

/// A destination and the other names customers use for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// Canonical name, e.g. `Kruger National Park`.
    pub name: String,
    /// Short code; derived from the name when not given (`KRUGER_NATIONAL_PARK`).
    #[serde(default)]
    pub code: String,
    /// Other spellings, matched case-insensitively (`Kruger`, `Kruger Park`).
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// Branding basics; the full theme lives with the branding settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Branding {
    /// `#RRGGBB`.
    pub primary_color: Option<String>,
    /// `#RRGGBB`.
    pub secondary_color: Option<String>,
    pub logo_url: Option<String>,
}

/// Plan limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub max_users: u32,
    pub max_monthly_quotes: u32,
    pub max_storage_gb: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_users: 5,
            max_monthly_quotes: 100,
            max_storage_gb: 1,
        }
    }
}

/// How the tenant list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TenantSort {
    #[default]
    CreatedAt,
    Name,
    Id,
    Status,
}

/// Filters and paging for the tenant list.
#[derive(Debug, Clone, Default)]
pub struct TenantListQuery {
    pub status: Option<TenantStatus>,
    /// Case-insensitive substring of the id, name or admin email.
    pub search: Option<String>,
    pub limit: u32,
    pub offset: u32,
    pub sort: TenantSort,
    pub descending: bool,
}

/// A page of tenants and the number of all matches.
#[derive(Debug, Clone)]
pub struct TenantPage {
    pub tenants: Vec<Tenant>,
    pub total: i64,
}

/// Tenant counts for the platform dashboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TenantCounts {
    pub total: i64,
    pub active: i64,
    pub suspended: i64,
}
