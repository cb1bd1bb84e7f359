//! In-app notifications for a tenant's users, with an email copy where each user's
//! preferences ask for one.
//!
//! Notifications that work may retry (the inbound worker) carry a source key: each row's
//! `dedup_key` is `<source key>:<user>`, so a repeated step inserts nothing and emails no one
//! twice.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::accounts::AccountService;
use crate::error::{Error, FieldError, Result};
use crate::mail::{EmailKind, Mailer, Message};
use crate::storage::NotificationRepo;
use crate::storage::inbound::Notification;
use crate::tenants::model::Tenant;

/// Notification types (API §3.6).
pub const KINDS: &[&str] = &[
    "quote_request",
    "quote_sent",
    "email_received",
    "invoice_paid",
    "invoice_overdue",
    "booking_confirmed",
    "client_added",
    "team_invite",
    "system",
    "mention",
];

/// Boolean preference keys and their defaults, then the digest frequency.
const BOOLEAN_PREFERENCES: &[(&str, bool)] = &[
    ("email_quote_request", true),
    ("email_email_received", true),
    ("email_invoice_paid", true),
    ("email_invoice_overdue", true),
    ("email_booking_confirmed", true),
    ("email_client_added", false),
    ("email_team_invite", true),
    ("email_system", true),
    ("email_mention", true),
    ("push_enabled", true),
    ("email_digest_enabled", false),
];
const DIGEST_FREQUENCIES: &[&str] = &["realtime", "hourly", "daily", "weekly"];

/// What to tell the tenant's users.
#[derive(Debug, Clone)]
pub struct Notice {
    pub kind: &'static str,
    pub title: String,
    pub message: String,
    /// `quote`, `invoice`, `client` or `ticket`.
    pub entity_type: Option<&'static str>,
    /// The entity's public id (`TKT-…`, `QT-…`).
    pub entity_id: Option<String>,
    pub metadata: Value,
    /// Makes the notice idempotent: the same key notifies nobody twice.
    pub source_key: Option<String>,
}

pub struct NotificationService {
    repo: Arc<dyn NotificationRepo>,
    accounts: Arc<AccountService>,
    mailer: Mailer,
    app_url: String,
}

impl std::fmt::Debug for NotificationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationService")
            .finish_non_exhaustive()
    }
}

impl NotificationService {
    pub fn new(
        repo: Arc<dyn NotificationRepo>,
        accounts: Arc<AccountService>,
        mailer: Mailer,
        app_url: String,
    ) -> Self {
        Self {
            repo,
            accounts,
            mailer,
            app_url,
        }
    }

    /// One row per active user of the tenant, and an email to those whose preferences want
    /// this type by email. Returns how many rows were new.
    pub async fn notify_users(&self, tenant: &Tenant, notice: &Notice) -> Result<u64> {
        let users = self.accounts.list_users(&tenant.id).await?;
        let now = Utc::now();
        let rows: Vec<Notification> = users
            .iter()
            .map(|user| Notification {
                id: uuid::Uuid::new_v4().to_string(),
                tenant_id: tenant.id.clone(),
                user_id: Some(user.id.clone()),
                kind: notice.kind.to_owned(),
                title: notice.title.clone(),
                message: notice.message.clone(),
                entity_type: notice.entity_type.map(str::to_owned),
                entity_id: notice.entity_id.clone(),
                metadata: notice.metadata.clone(),
                read: false,
                read_at: None,
                dedup_key: notice
                    .source_key
                    .as_ref()
                    .map(|k| format!("{k}:{}", user.id)),
                created_at: now,
            })
            .collect();
        let inserted = self
            .repo
            .insert_notifications(&rows)
            .await
            .map_err(|e| Error::storage("recording notifications", e))?;
        let preference = format!("email_{}", notice.kind);
        for user in &users {
            let prefs = self.preferences(&tenant.id, &user.id).await?;
            if prefs.get(&preference).and_then(Value::as_bool) != Some(true) {
                continue;
            }
            let link = match (notice.entity_type, &notice.entity_id) {
                (Some("ticket"), _) => format!("{}/crm/triage", self.app_url),
                (Some(kind), Some(id)) => format!("{}/{kind}s/{id}", self.app_url),
                _ => self.app_url.clone(),
            };
            let message = Message {
                tenant_id: tenant.id.clone(),
                kind: EmailKind::Notification,
                to: user.email.clone(),
                from_name: tenant.name.clone(),
                from_address: None,
                reply_to: None,
                subject: notice.title.clone(),
                text: format!("{}\n\n{link}\n", notice.message),
                html: None,
                attachments: Vec::new(),
                idempotency_key: notice
                    .source_key
                    .as_ref()
                    .map(|k| format!("notify:{k}:{}", user.id)),
            };
            // A notification email is a courtesy: its failure is logged, the in-app row stays.
            if let Err(e) = self.mailer.send(&message).await {
                tracing::warn!(tenant_id = tenant.id, error = %e, "notification email not sent");
            }
        }
        Ok(inserted)
    }

    pub async fn list(
        &self,
        tenant_id: &str,
        user_id: &str,
        unread_only: bool,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<Notification>, i64)> {
        self.repo
            .list_notifications(tenant_id, user_id, unread_only, limit, offset)
            .await
            .map_err(|e| Error::storage("listing notifications", e))
    }

    pub async fn unread_count(&self, tenant_id: &str, user_id: &str) -> Result<i64> {
        self.repo
            .unread_count(tenant_id, user_id)
            .await
            .map_err(|e| Error::storage("counting notifications", e))
    }

    /// Marks one notification read; repeating it succeeds. `NotFound` for an id the user
    /// cannot see.
    pub async fn mark_read(&self, tenant_id: &str, user_id: &str, id: &str) -> Result<()> {
        let found = self
            .repo
            .mark_read(tenant_id, user_id, id, Utc::now())
            .await
            .map_err(|e| Error::storage("updating a notification", e))?;
        if found {
            Ok(())
        } else {
            Err(Error::NotFound("Notification not found".to_owned()))
        }
    }

    pub async fn mark_all_read(&self, tenant_id: &str, user_id: &str) -> Result<u64> {
        self.repo
            .mark_all_read(tenant_id, user_id, Utc::now())
            .await
            .map_err(|e| Error::storage("updating notifications", e))
    }

    /// Every preference key, stored values over the defaults.
    pub async fn preferences(&self, tenant_id: &str, user_id: &str) -> Result<Map<String, Value>> {
        let stored = self
            .repo
            .get_preferences(tenant_id, user_id)
            .await
            .map_err(|e| Error::storage("reading notification preferences", e))?;
        let mut prefs = default_preferences();
        if let Some(Value::Object(stored)) = stored {
            for (key, value) in stored {
                if prefs.contains_key(&key) {
                    prefs.insert(key, value);
                }
            }
        }
        Ok(prefs)
    }

    /// Merges the given keys into the user's preferences. Unknown keys and wrong types are
    /// 422; an empty update is 400.
    pub async fn update_preferences(
        &self,
        tenant_id: &str,
        user_id: &str,
        update: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        if update.is_empty() {
            return Err(Error::BadRequest(
                "No notification preferences to update".to_owned(),
            ));
        }
        let mut errors = Vec::new();
        for (key, value) in update {
            if key == "email_digest_frequency" {
                if !value
                    .as_str()
                    .is_some_and(|v| DIGEST_FREQUENCIES.contains(&v))
                {
                    errors.push(FieldError::body(
                        key,
                        format!("must be one of {}", DIGEST_FREQUENCIES.join(", ")),
                    ));
                }
            } else if BOOLEAN_PREFERENCES.iter().any(|(k, _)| k == key) {
                if !value.is_boolean() {
                    errors.push(FieldError::body(key, "must be true or false"));
                }
            } else {
                errors.push(FieldError::body(key, "is not a notification preference"));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let mut prefs = self.preferences(tenant_id, user_id).await?;
        prefs.extend(update.clone());
        self.repo
            .put_preferences(
                tenant_id,
                user_id,
                &Value::Object(prefs.clone()),
                Utc::now(),
            )
            .await
            .map_err(|e| Error::storage("saving notification preferences", e))?;
        Ok(prefs)
    }
}

fn default_preferences() -> Map<String, Value> {
    let mut prefs: Map<String, Value> = BOOLEAN_PREFERENCES
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::Bool(*v)))
        .collect();
    prefs.insert("email_digest_frequency".to_owned(), json!("daily"));
    prefs
}

/// "Just now", "5m ago", "3h ago", "2d ago", then "Mon DD" after 7 days.
pub fn time_ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds().max(0);
    match secs {
        0..60 => "Just now".to_owned(),
        60..3600 => format!("{}m ago", secs / 60),
        3600..86_400 => format!("{}h ago", secs / 3600),
        _ if secs < 7 * 86_400 => format!("{}d ago", secs / 86_400),
        _ => at.format("%b %d").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn time_ago_reads_like_the_dashboard_expects() {
        let now = Utc.with_ymd_and_hms(2027, 3, 20, 12, 0, 0).unwrap();
        let ago = |secs: i64| time_ago(now - chrono::Duration::seconds(secs), now);
        assert_eq!(ago(5), "Just now");
        assert_eq!(ago(300), "5m ago");
        assert_eq!(ago(3 * 3600), "3h ago");
        assert_eq!(ago(2 * 86_400), "2d ago");
        assert_eq!(ago(10 * 86_400), "Mar 10");
    }
}
