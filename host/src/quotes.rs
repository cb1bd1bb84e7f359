//! Quotes: generated from an enquiry through the tenant's quote-rules, pricing and
//! pdf-template plugins, stored with their PDF, emailed, and filed in the CRM.
//!
//! Generation is split into steps that can each be repeated (the inbound worker runs them
//! one by one): [`QuoteService::create`] stores the quote (once per inbound message),
//! [`QuoteService::ensure_pdf`] renders and stores its PDF if missing, [`QuoteService::send`]
//! emails it under an idempotency key, and [`QuoteService::follow_up`] files the CRM client,
//! notifies the team and resolves the ticket, each keyed to the quote.

pub mod document;
pub mod generate;

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Value, json};

use self::generate::{Inquiry, currencies_of, major, option_body, today};
use crate::blobs::Blobs;
use crate::crm::CrmService;
use crate::error::{Error, FieldError, Result};
use crate::mail::{Attachment, EmailKind, Mailer, Message};
use crate::notifications::{Notice, NotificationService};
use crate::plugins::registry::{InvokeError, PluginService, tenant_context};
use crate::rates::{RateService, to_plugin_rate};
use crate::storage::QuoteRepo;
use crate::storage::quotes::{Quote, QuoteQuery};
use crate::tenants::TenantService;
use crate::tenants::model::Tenant;
use crate::tickets::TicketService;

/// Statuses (API §3.1) and the moves `PATCH` may make.
pub const STATUSES: &[&str] = &[
    "draft",
    "quoted",
    "sent",
    "viewed",
    "accepted",
    "declined",
    "expired",
    "converted",
    "cancelled",
];

pub fn transition_allowed(from: &str, to: &str) -> bool {
    from == to
        || matches!(
            (from, to),
            ("draft", "quoted" | "cancelled")
                | (
                    "quoted",
                    "sent" | "accepted" | "declined" | "expired" | "cancelled"
                )
                | (
                    "sent",
                    "viewed" | "accepted" | "declined" | "expired" | "cancelled"
                )
                | ("viewed", "accepted" | "declined" | "expired" | "cancelled")
                | ("accepted", "converted" | "cancelled")
                | ("declined" | "expired", "quoted")
        )
}

/// The UI's reading of legacy and mixed-case statuses.
pub fn normalise_status(status: &str) -> String {
    match status.trim() {
        "" => "draft".to_owned(),
        "generated" | "Quoted" => "quoted".to_owned(),
        "rejected" | "Declined" => "declined".to_owned(),
        other => other.to_lowercase(),
    }
}

/// `QT-YYYYMMDD-XXXXXX` (UTC date, 6 upper-case hex); `QUO-` for cart quotes.
pub fn new_quote_id(prefix: &str, now: DateTime<Utc>) -> String {
    format!(
        "{prefix}-{}-{:06X}",
        now.format("%Y%m%d"),
        rand::random::<u32>() & 0xFF_FFFF
    )
}

/// What a generation request asks for besides the inquiry.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub selected_hotels: Option<Vec<String>>,
    pub ticket_id: Option<String>,
    pub save_as_draft: bool,
    pub send_email: bool,
    pub assign_consultant: bool,
    /// `manual` (the dashboard), `ticket` (from triage), `email` (automatic).
    pub source: String,
    /// Makes creation idempotent for the inbound worker.
    pub inbound_message_id: Option<String>,
}

/// Why no quote was made, when that is an answer rather than an error.
#[derive(Debug, Clone)]
pub enum Unquoted {
    /// No rate fits: `No available hotels found for <destination>`.
    NoAvailability {
        destination: String,
        warnings: Vec<String>,
    },
    /// A plugin failed under its `fail_closed` policy.
    PluginFailed { slot: &'static str, error: String },
}

/// Everything generation did, for the API's answer.
#[derive(Debug, Clone)]
pub struct Generated {
    pub quote: Quote,
    pub email_sent: bool,
    pub email_error: Option<String>,
    pub crm_added: bool,
    pub ticket_resolved: bool,
}

/// One line of a cart quote (`POST /api/v1/quotes/create-with-items`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct LineItem {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Major units of `currency`.
    pub price: f64,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default = "one")]
    pub quantity: u32,
    #[serde(default)]
    pub nights: Option<u32>,
    #[serde(default)]
    pub check_in: Option<String>,
    #[serde(default)]
    pub check_out: Option<String>,
    #[serde(default)]
    pub raw_data: Option<Value>,
}

fn one() -> u32 {
    1
}

pub const LINE_ITEM_TYPES: &[&str] = &["hotel", "activity", "flight", "transfer", "package"];

/// A change from `PATCH /api/v1/quotes/{id}`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotePatch {
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    pub destination: Option<String>,
    pub check_in: Option<String>,
    pub check_out: Option<String>,
    pub adults: Option<i32>,
    pub children: Option<i32>,
    pub children_ages: Option<Vec<u32>>,
    pub hotels: Option<Value>,
    pub total_price: Option<f64>,
    pub status: Option<String>,
}

pub struct QuoteService {
    repo: Arc<dyn QuoteRepo>,
    rates: Arc<RateService>,
    plugins: Arc<PluginService>,
    blobs: Blobs,
    mailer: Mailer,
    crm: Arc<CrmService>,
    notifications: Arc<NotificationService>,
    tickets: Arc<TicketService>,
    tenants: Arc<TenantService>,
    /// Base URL of the API as customers reach it, for the public PDF link.
    public_url: String,
}

impl std::fmt::Debug for QuoteService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuoteService").finish_non_exhaustive()
    }
}

fn plugin_failure(slot: &'static str, e: InvokeError) -> std::result::Result<Unquoted, Error> {
    match e {
        InvokeError::Plugin(p) => Ok(Unquoted::PluginFailed {
            slot,
            error: p.to_string(),
        }),
        InvokeError::Service(e) => Err(e),
    }
}

impl QuoteService {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        repo: Arc<dyn QuoteRepo>,
        rates: Arc<RateService>,
        plugins: Arc<PluginService>,
        blobs: Blobs,
        mailer: Mailer,
        crm: Arc<CrmService>,
        notifications: Arc<NotificationService>,
        tickets: Arc<TicketService>,
        tenants: Arc<TenantService>,
        public_url: String,
    ) -> Self {
        Self {
            repo,
            rates,
            plugins,
            blobs,
            mailer,
            crm,
            notifications,
            tickets,
            tenants,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The whole of `POST /api/v1/quotes/generate`: create, render, send, follow up.
    pub async fn generate(
        &self,
        tenant: &Tenant,
        inquiry: &Inquiry,
        options: &Options,
    ) -> Result<std::result::Result<Generated, Unquoted>> {
        let quote = match self.create(tenant, inquiry, options).await? {
            Ok(quote) => quote,
            Err(unquoted) => return Ok(Err(unquoted)),
        };
        // With an inbound message, `create` may have returned that message's earlier quote,
        // which must stay; otherwise the quote is this request's own.
        let fresh = options.inbound_message_id.is_none();
        let quote = self.file_pdf(tenant, quote, fresh).await?;
        let (quote, email_sent, email_error) = if options.send_email && !options.save_as_draft {
            match self.send(tenant, &quote, None).await {
                Ok(q) => (q, true, None),
                Err(e) => (quote, false, Some(e.to_string())),
            }
        } else {
            (quote, false, None)
        };
        let (crm_added, ticket_resolved) = self.follow_up(tenant, &quote).await?;
        Ok(Ok(Generated {
            quote,
            email_sent,
            email_error,
            crm_added,
            ticket_resolved,
        }))
    }

    /// Runs the plugins and stores the quote (status `draft` or `quoted`). For an inbound
    /// message that already has its quote, returns that quote.
    pub async fn create(
        &self,
        tenant: &Tenant,
        inquiry: &Inquiry,
        options: &Options,
    ) -> Result<std::result::Result<Quote, Unquoted>> {
        let trip =
            generate::complete(tenant, inquiry, options.selected_hotels.as_deref(), today())?;
        let rates = self
            .rates
            .candidates(
                &tenant.id,
                &trip.destination_names,
                trip.check_in,
                trip.check_out,
            )
            .await?;
        let candidates: Vec<_> = rates.iter().map(to_plugin_rate).collect();
        let context = tenant_context(tenant);
        let plugin_trip = trip.to_plugin();
        let plan = match self
            .plugins
            .propose(&tenant.id, &plugin_trip, &candidates, &context)
            .await
        {
            Ok(invocation) => invocation,
            Err(e) => return plugin_failure("quote-rules", e).map(Err),
        };
        if plan.value.options.is_empty() {
            return Ok(Err(Unquoted::NoAvailability {
                destination: trip.destination.clone(),
                warnings: plan.value.warnings,
            }));
        }
        let currency = tenant.config.currency.clone();
        let fx = crate::fx::rates_into(
            &currency,
            &currencies_of(&plan.value),
            &tenant.config.fx_rates,
        );
        let request = crate::plugins::bindings::quoting::PricingRequest {
            trip: plugin_trip,
            options: plan.value.options.clone(),
            quote_currency: currency.clone(),
            fx: fx.clone(),
        };
        let priced = match self.plugins.price(&tenant.id, &request, &context).await {
            Ok(invocation) => invocation,
            Err(e) => return plugin_failure("pricing", e).map(Err),
        };
        let Some(first) = priced.value.options.first() else {
            return Ok(Err(Unquoted::NoAvailability {
                destination: trip.destination.clone(),
                warnings: priced.value.warnings,
            }));
        };
        let total_minor = first.total.amount;
        let hotels: Vec<Value> = priced
            .value
            .options
            .iter()
            .map(|o| option_body(o, &trip, &priced.value.currency))
            .collect();
        let now = Utc::now().trunc_subsecs(6);
        let consultant_id = if options.assign_consultant {
            self.repo
                .next_consultant(&tenant.id, now)
                .await
                .map_err(|e| Error::storage("assigning a consultant", e))?
        } else {
            None
        };
        let mut warnings = plan.value.warnings.clone();
        warnings.extend(priced.value.warnings.iter().cloned());
        let quote = Quote {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: tenant.id.clone(),
            quote_id: new_quote_id("QT", now),
            customer_name: inquiry.name.trim().to_owned(),
            customer_email: inquiry.email.trim().to_lowercase(),
            customer_phone: inquiry.phone.clone().filter(|p| !p.trim().is_empty()),
            destination: trip.destination.clone(),
            check_in: Some(trip.check_in.to_string()),
            check_out: Some(trip.check_out.to_string()),
            nights: trip.nights as i32,
            adults: trip.adults as i32,
            children: trip.children() as i32,
            children_ages: json!(trip.children_ages),
            room_count: trip.rooms as i32,
            hotels: Value::Array(hotels),
            total_minor: total_minor.max(0),
            currency: priced.value.currency.clone(),
            totals: json!({}),
            details: json!({
                "warnings": warnings,
                "infants": trip.infants,
                "budget": trip.budget,
                "message": inquiry.message,
                "candidate_rates": candidates.len(),
                "fx": fx.iter().map(|r| json!({
                    "source": r.source, "target": r.target,
                    "rate": r.rate_micros as f64 / 1e6,
                })).collect::<Vec<_>>(),
                "fx_snapshot": crate::fx::SNAPSHOT_DATE,
                "plugins": {
                    "quote_rules": plan.version,
                    "pricing": priced.version,
                },
            }),
            status: if options.save_as_draft {
                "draft".to_owned()
            } else {
                "quoted".to_owned()
            },
            email_sent: false,
            pdf_object: None,
            consultant_id,
            source: options.source.clone(),
            ticket_id: options.ticket_id.clone(),
            inbound_message_id: options.inbound_message_id.clone(),
            created_at: now,
            updated_at: now,
            sent_at: None,
            viewed_at: None,
            accepted_at: None,
        };
        Ok(Ok(self.insert(quote).await?))
    }

    /// A cart quote from priced line items (no plugins price them: the prices are given).
    /// Each currency is summed on its own; the quote's total is the tenant-currency sum.
    pub async fn create_with_items(
        &self,
        tenant: &Tenant,
        inquiry: &Inquiry,
        items: &[LineItem],
        options: &Options,
        consultant_id: Option<String>,
    ) -> Result<Generated> {
        let mut errors = Vec::new();
        if items.is_empty() {
            errors.push(FieldError::body(
                "line_items",
                "at least one item is required",
            ));
        }
        let home = tenant.config.currency.clone();
        let mut totals: std::collections::BTreeMap<String, i64> = Default::default();
        let mut hotels = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = |f: &str| format!("line_items.{i}.{f}");
            if !LINE_ITEM_TYPES.contains(&item.kind.as_str()) {
                errors.push(FieldError::body(
                    &at("type"),
                    format!("must be one of {}", LINE_ITEM_TYPES.join(", ")),
                ));
            }
            if item.name.trim().is_empty() {
                errors.push(FieldError::body(&at("name"), "is required"));
            }
            if !(item.price.is_finite() && item.price >= 0.0) {
                errors.push(FieldError::body(&at("price"), "must be a number ≥ 0"));
            }
            if item.quantity == 0 {
                errors.push(FieldError::body(&at("quantity"), "must be at least 1"));
            }
            let currency = item
                .currency
                .as_deref()
                .map(str::to_ascii_uppercase)
                .unwrap_or_else(|| home.clone());
            if !crate::money::is_known_currency(&currency) {
                errors.push(FieldError::body(
                    &at("currency"),
                    "must be an ISO 4217 code",
                ));
                continue;
            }
            let unit = crate::money::to_minor(item.price, &currency);
            let line_total = unit.saturating_mul(i64::from(item.quantity));
            *totals.entry(currency.clone()).or_default() += line_total;
            hotels.push(json!({
                "type": item.kind,
                "name": item.name,
                "hotel_name": item.name,
                "description": item.description,
                "price_per_person": item.price,
                "quantity": item.quantity,
                "currency": currency,
                "total_price": major(line_total, &currency),
                "nights": item.nights,
                "check_in": item.check_in,
                "check_out": item.check_out,
                "destination": inquiry.destination,
                "raw_data": item.raw_data,
            }));
        }
        let trip = match generate::complete(tenant, inquiry, None, today()) {
            Ok(trip) => Some(trip),
            Err(Error::Validation(mut e)) => {
                errors.append(&mut e);
                None
            }
            Err(e) => return Err(e),
        };
        let (Some(trip), true) = (trip, errors.is_empty()) else {
            return Err(Error::Validation(errors));
        };
        let now = Utc::now().trunc_subsecs(6);
        let quote = Quote {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: tenant.id.clone(),
            quote_id: new_quote_id("QUO", now),
            customer_name: inquiry.name.trim().to_owned(),
            customer_email: inquiry.email.trim().to_lowercase(),
            customer_phone: inquiry.phone.clone().filter(|p| !p.trim().is_empty()),
            destination: trip.destination.clone(),
            check_in: Some(trip.check_in.to_string()),
            check_out: Some(trip.check_out.to_string()),
            nights: trip.nights as i32,
            adults: trip.adults as i32,
            children: trip.children() as i32,
            children_ages: json!(trip.children_ages),
            room_count: trip.rooms as i32,
            hotels: Value::Array(hotels),
            total_minor: totals.get(&home).copied().unwrap_or(0).max(0),
            currency: home,
            totals: Value::Object(
                totals
                    .iter()
                    .map(|(c, m)| (c.clone(), json!(major(*m, c))))
                    .collect(),
            ),
            details: json!({"cart": true}),
            status: if options.save_as_draft {
                "draft"
            } else {
                "quoted"
            }
            .to_owned(),
            email_sent: false,
            pdf_object: None,
            consultant_id,
            source: "shopping_cart".to_owned(),
            ticket_id: None,
            inbound_message_id: None,
            created_at: now,
            updated_at: now,
            sent_at: None,
            viewed_at: None,
            accepted_at: None,
        };
        let quote = self.insert(quote).await?;
        let quote = self.file_pdf(tenant, quote, true).await?;
        let (quote, email_sent, email_error) = if options.send_email && !options.save_as_draft {
            match self.send(tenant, &quote, None).await {
                Ok(q) => (q, true, None),
                Err(e) => (quote, false, Some(e.to_string())),
            }
        } else {
            (quote, false, None)
        };
        let (crm_added, _) = self.follow_up(tenant, &quote).await?;
        Ok(Generated {
            quote,
            email_sent,
            email_error,
            crm_added,
            ticket_resolved: false,
        })
    }

    /// Inserts, retrying with a fresh id on the (rare) clash of generated ids.
    async fn insert(&self, mut quote: Quote) -> Result<Quote> {
        for _ in 0..3 {
            match self.repo.insert_quote(&quote).await {
                Ok(stored) => return Ok(stored),
                Err(crate::storage::StorageError::Conflict { constraint })
                    if constraint == "quotes_quote_id_key" =>
                {
                    let prefix = quote.quote_id.split('-').next().unwrap_or("QT").to_owned();
                    quote.quote_id = new_quote_id(&prefix, quote.created_at);
                }
                Err(e) => return Err(Error::storage("saving the quote", e)),
            }
        }
        Err(Error::Conflict("Could not allocate a quote id".to_owned()))
    }

    /// Renders the quote's PDF through the tenant's pdf-template plugin and stores it,
    /// unless it already has one.
    pub async fn ensure_pdf(&self, tenant: &Tenant, quote: &Quote) -> Result<Quote> {
        if quote.pdf_object.is_some() {
            return Ok(quote.clone());
        }
        let bytes = self.render_pdf(tenant, quote).await?;
        let key = format!("quotes/{}.pdf", quote.quote_id);
        let path = Blobs::tenant_path(&tenant.id, &key).map_err(|e| Error::Internal {
            operation: "naming the quote PDF",
            cause: e.into(),
        })?;
        self.blobs
            .put(&path, Bytes::from(bytes))
            .await
            .map_err(|e| Error::blobs("storing the quote PDF", e))?;
        self.modify(&tenant.id, &quote.id, |q| {
            q.pdf_object = Some(path.to_string());
            Ok(())
        })
        .await
    }

    /// [`Self::ensure_pdf`] for a quote just made by the caller. When object storage is
    /// unavailable and the quote is `fresh` (made by this request), the quote row is removed
    /// again: the request fails as a whole, records nothing, and a retry makes one quote.
    async fn file_pdf(&self, tenant: &Tenant, quote: Quote, fresh: bool) -> Result<Quote> {
        match self.ensure_pdf(tenant, &quote).await {
            Err(e @ Error::Unavailable(_)) if fresh => {
                if let Err(cleanup) = self.repo.delete_quote(&tenant.id, &quote.id).await {
                    tracing::warn!(
                        tenant_id = %tenant.id,
                        quote_id = %quote.quote_id,
                        error = %cleanup,
                        "could not remove a quote whose PDF was not stored"
                    );
                }
                Err(e)
            }
            other => other,
        }
    }

    /// The PDF bytes of a quote: stored ones, else rendered (and not stored) now.
    pub async fn pdf(&self, tenant: &Tenant, quote: &Quote) -> Result<Vec<u8>> {
        if let Some(key) = &quote.pdf_object
            && let Ok(path) = object_store::path::Path::parse(key)
            && let Ok(bytes) = self.blobs.get(&path).await
        {
            return Ok(bytes.to_vec());
        }
        self.render_pdf(tenant, quote).await
    }

    async fn render_pdf(&self, tenant: &Tenant, quote: &Quote) -> Result<Vec<u8>> {
        let logo = self.tenants.logo(&tenant.id).await;
        let mut request = document::request(tenant, quote, quote.created_at.date_naive());
        request.branding.has_logo = logo.is_some();
        let layout = self
            .plugins
            .render(&tenant.id, &request)
            .await
            .map_err(|e| match e {
                InvokeError::Plugin(p) => {
                    Error::BadRequest(format!("The PDF template plugin failed: {p}"))
                }
                InvokeError::Service(e) => e,
            })?
            .value;
        // Drawing is CPU work; keep it off the async executor's threads.
        tokio::task::spawn_blocking(move || {
            crate::pdf::render(
                &layout,
                &crate::pdf::Images {
                    logo: logo.as_deref(),
                },
            )
        })
        .await
        .map_err(|e| Error::Internal {
            operation: "rendering the quote PDF",
            cause: e.into(),
        })?
        .map_err(|e| Error::Internal {
            operation: "rendering the quote PDF",
            cause: e.into(),
        })
    }

    /// Emails the quote with its PDF; the status becomes `sent` (unless it was further on)
    /// and `sent_at` is set. The idempotency key makes a repeat return the first email:
    /// `resend` passes its own key to send again.
    pub async fn send(&self, tenant: &Tenant, quote: &Quote, key: Option<String>) -> Result<Quote> {
        if quote.customer_email.trim().is_empty() {
            return Err(Error::BadRequest("Quote has no customer email".to_owned()));
        }
        let quote = self.ensure_pdf(tenant, quote).await?;
        let pdf = self.pdf(tenant, &quote).await?;
        let public = format!(
            "{}/api/v1/public/quotes/{}/pdf",
            self.public_url, quote.quote_id
        );
        let (from_name, from_address, reply_to) = tenant.sender();
        let record = self
            .mailer
            .send(&Message {
                tenant_id: tenant.id.clone(),
                kind: EmailKind::Quote,
                to: quote.customer_email.clone(),
                from_name,
                from_address,
                reply_to,
                subject: format!(
                    "Your travel quote {} – {}",
                    quote.quote_id, quote.destination
                ),
                text: document::email_text(tenant, &quote, &public),
                html: None,
                attachments: vec![Attachment {
                    filename: format!("Quote_{}.pdf", quote.quote_id),
                    content_type: "application/pdf".to_owned(),
                    bytes: pdf,
                }],
                idempotency_key: Some(key.unwrap_or_else(|| format!("quote:{}", quote.quote_id))),
            })
            .await
            .map_err(|e| Error::BadRequest(format!("The quote email could not be sent: {e}")))?;
        if record.status == "failed" {
            return Err(Error::BadRequest(format!(
                "The quote email could not be delivered: {}",
                record.last_error.unwrap_or_default()
            )));
        }
        let sent_at = record.created_at.trunc_subsecs(6);
        self.modify(&tenant.id, &quote.id, |q| {
            q.email_sent = true;
            q.sent_at = Some(q.sent_at.unwrap_or(sent_at));
            if matches!(q.status.as_str(), "draft" | "quoted") {
                q.status = "sent".to_owned();
            }
            Ok(())
        })
        .await
    }

    /// The CRM client and activity, the `quote_request` notification, and the ticket's
    /// resolution; each is keyed to the quote so repeating this changes nothing more.
    /// Returns (client newly added, ticket resolved).
    pub async fn follow_up(&self, tenant: &Tenant, quote: &Quote) -> Result<(bool, bool)> {
        let source = match quote.source.as_str() {
            "email" => "email",
            "shopping_cart" => "shopping_cart",
            _ => "quote",
        };
        let crm_added = match self.crm.record_quote(quote, source).await {
            Ok(recorded) => recorded.created,
            Err(Error::BadRequest(_)) => false,
            Err(e) => return Err(e),
        };
        self.notifications
            .notify_users(
                tenant,
                &Notice {
                    kind: "quote_request",
                    title: "New quote generated".to_owned(),
                    message: format!(
                        "Quote {} for {}: {} ({} {:.0})",
                        quote.quote_id,
                        quote.customer_name,
                        quote.destination,
                        quote.currency,
                        major(quote.total_minor, &quote.currency)
                    ),
                    entity_type: Some("quote"),
                    entity_id: Some(quote.quote_id.clone()),
                    metadata: json!({"status": quote.status, "source": quote.source}),
                    source_key: Some(format!("quote:{}", quote.quote_id)),
                },
            )
            .await?;
        let mut ticket_resolved = false;
        // An automatic quote kept as a draft leaves its ticket open for the review.
        let reviewed = quote.source != "email" || quote.email_sent;
        if let Some(ticket_id) = quote.ticket_id.as_ref().filter(|_| reviewed) {
            let note = if quote.email_sent {
                format!("Quote {} generated and sent to customer", quote.quote_id)
            } else {
                format!("Quote {} generated", quote.quote_id)
            };
            match self
                .tickets
                .resolve_with_note(&tenant.id, ticket_id, &note)
                .await
            {
                Ok(_) => ticket_resolved = true,
                Err(Error::Conflict(_) | Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok((crm_added, ticket_resolved))
    }

    pub async fn get(&self, tenant_id: &str, key: &str) -> Result<Quote> {
        self.repo
            .get_quote(tenant_id, key)
            .await
            .map_err(|e| Error::storage("reading a quote", e))?
            .ok_or_else(|| Error::NotFound("Quote not found".to_owned()))
    }

    /// A quote by its public id or row id, from any tenant (public PDF links).
    pub async fn find_public(&self, key: &str) -> Result<Quote> {
        self.repo
            .find_quote_anywhere(key)
            .await
            .map_err(|e| Error::storage("reading a quote", e))?
            .ok_or_else(|| Error::NotFound("Quote not found".to_owned()))
    }

    pub async fn list(&self, tenant_id: &str, query: &QuoteQuery) -> Result<Vec<Quote>> {
        self.repo
            .list_quotes(tenant_id, query)
            .await
            .map_err(|e| Error::storage("listing quotes", e))
    }

    pub async fn delete(&self, tenant: &Tenant, key: &str) -> Result<()> {
        let quote = self.get(&tenant.id, key).await?;
        self.repo
            .delete_quote(&tenant.id, &quote.id)
            .await
            .map_err(|e| Error::storage("deleting a quote", e))?;
        if let Some(key) = &quote.pdf_object
            && let Ok(path) = object_store::path::Path::parse(key)
        {
            let _ = self.blobs.delete(&path).await;
        }
        Ok(())
    }

    /// Applies a dashboard edit; a status change must follow §3.1 (409 otherwise).
    pub async fn patch(&self, tenant: &Tenant, key: &str, patch: QuotePatch) -> Result<Quote> {
        let quote = self.get(&tenant.id, key).await?;
        let mut errors = Vec::new();
        let date = |name: &str, v: &Option<String>, errors: &mut Vec<FieldError>| {
            if let Some(v) = v
                && chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_err()
            {
                errors.push(FieldError::body(name, "must be a date as YYYY-MM-DD"));
            }
        };
        date("check_in", &patch.check_in, &mut errors);
        date("check_out", &patch.check_out, &mut errors);
        if patch
            .total_price
            .is_some_and(|t| !(t.is_finite() && t >= 0.0))
        {
            errors.push(FieldError::body("total_price", "must be a number ≥ 0"));
        }
        if patch.hotels.as_ref().is_some_and(|h| !h.is_array()) {
            errors.push(FieldError::body("hotels", "must be a list"));
        }
        let status = patch.status.as_deref().map(normalise_status);
        if status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
            errors.push(FieldError::body(
                "status",
                format!("must be one of {}", STATUSES.join(", ")),
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        self.modify(&tenant.id, &quote.id, |q| {
            if let Some(s) = &status {
                let from = normalise_status(&q.status);
                if !transition_allowed(&from, s) {
                    return Err(Error::Conflict(format!(
                        "Cannot change quote status from {from} to {s}"
                    )));
                }
                if s == "accepted" && q.accepted_at.is_none() {
                    q.accepted_at = Some(Utc::now().trunc_subsecs(6));
                }
                if s == "viewed" && q.viewed_at.is_none() {
                    q.viewed_at = Some(Utc::now().trunc_subsecs(6));
                }
                q.status.clone_from(s);
            }
            if let Some(v) = &patch.customer_name {
                q.customer_name.clone_from(v);
            }
            if let Some(v) = &patch.customer_email {
                q.customer_email = v.trim().to_lowercase();
            }
            if let Some(v) = &patch.customer_phone {
                q.customer_phone = Some(v.clone());
            }
            if let Some(v) = &patch.destination {
                q.destination.clone_from(v);
            }
            if let Some(v) = &patch.check_in {
                q.check_in = Some(v.clone());
            }
            if let Some(v) = &patch.check_out {
                q.check_out = Some(v.clone());
            }
            if let (Some(i), Some(o)) = (&q.check_in, &q.check_out)
                && let (Ok(i), Ok(o)) = (
                    chrono::NaiveDate::parse_from_str(i, "%Y-%m-%d"),
                    chrono::NaiveDate::parse_from_str(o, "%Y-%m-%d"),
                )
            {
                q.nights = (o - i).num_days().max(0) as i32;
            }
            if let Some(v) = patch.adults {
                q.adults = v;
            }
            if let Some(v) = patch.children {
                q.children = v;
            }
            if let Some(v) = &patch.children_ages {
                q.children_ages = json!(v);
            }
            if let Some(v) = &patch.hotels {
                q.hotels = v.clone();
            }
            if let Some(v) = patch.total_price {
                q.total_minor = crate::money::to_minor(v, &q.currency);
            }
            // What the PDF shows changed: render it again on the next read.
            if patch.hotels.is_some()
                || patch.total_price.is_some()
                || patch.customer_name.is_some()
                || patch.destination.is_some()
                || patch.check_in.is_some()
                || patch.check_out.is_some()
            {
                q.pdf_object = None;
            }
            Ok(())
        })
        .await
    }

    /// `POST …/send`: only a draft; it then becomes `sent` and the team is told.
    pub async fn send_draft(&self, tenant: &Tenant, key: &str) -> Result<Quote> {
        let quote = self.get(&tenant.id, key).await?;
        if quote.status != "draft" {
            return Err(Error::BadRequest(format!(
                "Quote is not a draft (current status: {})",
                quote.status
            )));
        }
        let sent = self.send(tenant, &quote, None).await?;
        self.notifications
            .notify_users(
                tenant,
                &Notice {
                    kind: "quote_sent",
                    title: "Quote sent".to_owned(),
                    message: format!("Quote {} sent to {}", sent.quote_id, sent.customer_email),
                    entity_type: Some("quote"),
                    entity_id: Some(sent.quote_id.clone()),
                    metadata: json!({}),
                    source_key: Some(format!("quote-sent:{}", sent.quote_id)),
                },
            )
            .await?;
        Ok(sent)
    }

    /// `POST …/resend`: emails the quote again; the status does not change.
    pub async fn resend(&self, tenant: &Tenant, key: &str) -> Result<Quote> {
        let quote = self.get(&tenant.id, key).await?;
        let status = quote.status.clone();
        let key = format!(
            "quote:{}:resend:{}",
            quote.quote_id,
            uuid::Uuid::new_v4().simple()
        );
        let sent = self.send(tenant, &quote, Some(key)).await?;
        if sent.status != status {
            return self
                .modify(&tenant.id, &sent.id, |q| {
                    q.status.clone_from(&status);
                    Ok(())
                })
                .await;
        }
        Ok(sent)
    }

    /// Read, change, write with optimistic concurrency (retried on a concurrent change).
    async fn modify(
        &self,
        tenant_id: &str,
        id: &str,
        mut change: impl FnMut(&mut Quote) -> Result<()>,
    ) -> Result<Quote> {
        for _ in 0..5 {
            let mut quote = self.get(tenant_id, id).await?;
            let expected = quote.updated_at;
            change(&mut quote)?;
            quote.updated_at = Utc::now()
                .trunc_subsecs(6)
                .max(expected + chrono::Duration::microseconds(1));
            let stored = self
                .repo
                .update_quote(&quote, expected)
                .await
                .map_err(|e| Error::storage("updating a quote", e))?;
            if stored {
                return Ok(quote);
            }
        }
        Err(Error::Conflict(
            "The quote is being changed by someone else; try again".to_owned(),
        ))
    }
}

/// The trip of an enquiry ticket's parsed details, as a generation inquiry. Dates and
/// party come from the parser; the sender fills in what it left out.
pub fn inquiry_from_enquiry(
    enquiry: &Value,
    fallback_name: &str,
    fallback_email: &str,
) -> Option<Inquiry> {
    let text = |k: &str| enquiry.get(k).and_then(Value::as_str).map(str::to_owned);
    let destination = enquiry["destinations"].get(0)?.as_str()?.to_owned();
    let mut ages: Vec<u32> = enquiry["children_ages"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_u64)
                .map(|a| a as u32)
                .collect()
        })
        .unwrap_or_default();
    let infants = enquiry["infants"].as_u64().unwrap_or(0) as u32;
    ages.extend(std::iter::repeat_n(0, infants as usize));
    let without_age = enquiry["children_without_age"].as_u64().unwrap_or(0) as u32;
    let budget = enquiry.get("budget").filter(|b| b.is_object());
    let budget_currency = budget
        .and_then(|b| b["amount"]["currency"].as_str())
        .map(str::to_owned);
    Some(Inquiry {
        name: text("customer_name").unwrap_or_else(|| fallback_name.to_owned()),
        email: text("customer_email").unwrap_or_else(|| fallback_email.to_owned()),
        phone: text("customer_phone"),
        destination,
        check_in: text("check_in"),
        check_out: text("check_out").or_else(|| {
            let check_in =
                chrono::NaiveDate::parse_from_str(&text("check_in")?, "%Y-%m-%d").ok()?;
            let nights = enquiry["nights"].as_u64()?;
            Some((check_in + chrono::Duration::days(nights as i64)).to_string())
        }),
        adults: enquiry["adults"]
            .as_u64()
            .map_or(2, |a| a as u32)
            .clamp(1, 20),
        children: ages.len() as u32 + without_age,
        children_ages: ages,
        rooms: None,
        room_count: enquiry["rooms"]
            .as_u64()
            .map_or(1, |r| r as u32)
            .clamp(1, 10),
        budget: budget.and_then(|b| {
            let currency = budget_currency.as_deref()?;
            Some(major(b["amount"]["amount"].as_i64()?, currency))
        }),
        budget_currency,
        budget_per_person: budget.and_then(|b| b["per_person"].as_bool()),
        message: text("notes"),
        requested_hotel: text("requested_hotel"),
    })
}
