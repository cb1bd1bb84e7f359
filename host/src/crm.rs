//! The CRM side of quoting: each quote upserts its customer as a client (by email) and
//! records a `quote_generated` activity; the second quote moves a `QUOTED` client to
//! `NEGOTIATING`. The activity is keyed to the quote, so recording a quote twice (a retried
//! step) counts it once.

use std::sync::Arc;

use chrono::{SubsecRound, Utc};
use serde_json::json;

use crate::error::{Error, Result};
use crate::storage::ClientRepo;
use crate::storage::quotes::{Activity, Client, Quote};

/// `CLI-XXXXXXXX` (8 upper-case hex).
pub fn new_client_id() -> String {
    format!("CLI-{:08X}", rand::random::<u32>())
}

/// What recording a quote did to the CRM.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub client: Client,
    /// The client did not exist before.
    pub created: bool,
}

pub struct CrmService {
    clients: Arc<dyn ClientRepo>,
}

impl std::fmt::Debug for CrmService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrmService").finish_non_exhaustive()
    }
}

impl CrmService {
    pub fn new(clients: Arc<dyn ClientRepo>) -> Self {
        Self { clients }
    }

    /// Upserts the quote's customer and records the quote against them.
    pub async fn record_quote(&self, quote: &Quote, source: &str) -> Result<Recorded> {
        let storage = |op| move |e| Error::storage(op, e);
        let now = Utc::now().trunc_subsecs(6);
        let email = quote.customer_email.trim().to_lowercase();
        if email.is_empty() {
            return Err(Error::BadRequest(
                "The quote has no customer email to file it under".to_owned(),
            ));
        }
        let (client, created) = self
            .clients
            .upsert_client(&Client {
                id: uuid::Uuid::new_v4().to_string(),
                tenant_id: quote.tenant_id.clone(),
                client_id: new_client_id(),
                email,
                name: quote.customer_name.clone(),
                phone: quote.customer_phone.clone(),
                source: source.to_owned(),
                consultant_id: quote.consultant_id.clone(),
                pipeline_stage: "QUOTED".to_owned(),
                quote_count: 0,
                total_value: 0,
                notes: None,
                created_at: now,
                updated_at: now,
            })
            .await
            .map_err(storage("filing the client"))?;
        let (client, _) = self
            .clients
            .record_quote(
                &Activity {
                    id: uuid::Uuid::new_v4().to_string(),
                    tenant_id: quote.tenant_id.clone(),
                    client_id: client.id.clone(),
                    activity_type: "quote_generated".to_owned(),
                    description: format!(
                        "Quote {} generated for {}",
                        quote.quote_id, quote.destination
                    ),
                    metadata: json!({
                        "quote_id": quote.quote_id,
                        "total_minor": quote.total_minor,
                        "currency": quote.currency,
                    }),
                    dedup_key: Some(format!("quote:{}", quote.quote_id)),
                    created_at: now,
                },
                quote.total_minor,
            )
            .await
            .map_err(storage("recording the quote on the client"))?;
        Ok(Recorded { client, created })
    }

    pub async fn client_by_email(&self, tenant_id: &str, email: &str) -> Result<Option<Client>> {
        self.clients
            .find_client_by_email(tenant_id, email)
            .await
            .map_err(|e| Error::storage("reading a client", e))
    }

    pub async fn activities(&self, tenant_id: &str, client: &Client) -> Result<Vec<Activity>> {
        self.clients
            .list_activities(tenant_id, &client.id, 100)
            .await
            .map_err(|e| Error::storage("listing activities", e))
    }
}
