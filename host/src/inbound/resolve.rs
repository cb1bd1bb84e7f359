//! Which tenant an inbound email belongs to (API §5): the recipient addresses are tried
//! against each strategy in turn, envelope recipients before `To` header addresses, and the
//! first active tenant found wins. A suspended tenant's mail does not resolve.

use std::sync::Arc;

use super::payload::ReceivedEmail;
use crate::error::Result;
use crate::storage::tenants::AddressClaim;
use crate::tenants::TenantService;
use crate::tenants::model::{Tenant, TenantStatus};

/// Local parts that name a role, never a tenant.
const RESERVED_LOCAL_PARTS: &[&str] = &[
    "quotes", "sales", "info", "support", "inbound", "mail", "admin", "noreply", "no-reply",
];

/// The strategies in the order they are tried.
pub const STRATEGIES: &[&str] = &[
    "sendgrid_email",
    "support_email",
    "primary_email",
    "subdomain",
    "direct_tenant_id",
    "plus_addressing",
    "x_tenant_id_header",
    "subject_pattern",
];

/// A tenant found for a message.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub tenant: Arc<Tenant>,
    pub strategy: &'static str,
    /// The address (or header) that decided it.
    pub matched: String,
}

/// Nothing matched.
#[derive(Debug, Clone)]
pub struct Unresolved {
    /// The first candidate address (what the sender wrote to).
    pub to_email: String,
    pub strategies_tried: Vec<&'static str>,
}

/// Recipient addresses to try: envelope first, then `To`, lower-cased, without repeats.
pub fn candidates(email: &ReceivedEmail) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for address in email.envelope_to.iter().chain(&email.to) {
        let address = address.trim().to_ascii_lowercase();
        if address.contains('@') && !out.contains(&address) {
            out.push(address);
        }
    }
    out
}

/// Finds the tenant for `email`; `domain` is the platform's inbound domain.
pub async fn resolve(
    tenants: &TenantService,
    domain: &str,
    email: &ReceivedEmail,
) -> Result<std::result::Result<Resolution, Unresolved>> {
    let addresses = candidates(email);
    let domain = domain.trim().to_ascii_lowercase();
    let active = |tenant: Option<Arc<Tenant>>| tenant.filter(|t| t.status == TenantStatus::Active);
    let found = |tenant: Arc<Tenant>, strategy: &'static str, matched: &str| {
        Ok(Ok(Resolution {
            tenant,
            strategy,
            matched: matched.to_owned(),
        }))
    };

    // 1. Addresses a tenant claims outright, and `<tenant>@<inbound domain>`.
    let mut claims = Vec::new();
    for address in &addresses {
        claims.push((address, tenants.claims_on(address).await?));
    }
    for (wanted, strategy) in [
        (AddressClaim::Inbound, "sendgrid_email"),
        (AddressClaim::Support, "support_email"),
        (AddressClaim::Admin, "primary_email"),
    ] {
        for (address, found_claims) in &claims {
            for (tenant_id, claim) in found_claims {
                if *claim == wanted
                    && let Some(tenant) = active(tenants.find(tenant_id).await?)
                {
                    return found(tenant, strategy, address);
                }
            }
            if wanted == AddressClaim::Inbound
                && let Some((local, host)) = address.split_once('@')
                && host == domain
                && let Some(tenant) = active(tenants.find(local).await?)
            {
                return found(tenant, strategy, address);
            }
        }
    }
    // 2. `<anything>@<tenant>.<inbound domain>`.
    for address in &addresses {
        if let Some((_, host)) = address.split_once('@')
            && let Some(sub) = host.strip_suffix(&format!(".{domain}"))
            && !sub.contains('.')
            && let Some(tenant) = active(tenants.find(sub).await?)
        {
            return found(tenant, "subdomain", address);
        }
    }
    // 3. The local part is a tenant id.
    for address in &addresses {
        let local = address.split('@').next().unwrap_or_default();
        if !RESERVED_LOCAL_PARTS.contains(&local)
            && !local.contains('+')
            && let Some(tenant) = active(tenants.find(local).await?)
        {
            return found(tenant, "direct_tenant_id", address);
        }
    }
    // 4. `anything+<tenant>@…`.
    for address in &addresses {
        let local = address.split('@').next().unwrap_or_default();
        if let Some((_, tag)) = local.split_once('+')
            && !tag.is_empty()
            && let Some(tenant) = active(tenants.find(tag).await?)
        {
            return found(tenant, "plus_addressing", address);
        }
    }
    // 5. An `X-Tenant-ID` header.
    if let Some(id) = email.header("X-Tenant-ID") {
        let id = id.trim().to_ascii_lowercase();
        if let Some(tenant) = active(tenants.find(&id).await?) {
            return found(tenant, "x_tenant_id_header", &id);
        }
    }
    // 6. `[TENANT:<id>]` in the subject.
    if let Some(id) = subject_tag(&email.subject)
        && let Some(tenant) = active(tenants.find(&id).await?)
    {
        return found(tenant, "subject_pattern", &id);
    }
    Ok(Err(Unresolved {
        to_email: addresses.first().cloned().unwrap_or_default(),
        strategies_tried: STRATEGIES.to_vec(),
    }))
}

/// The id in a `[TENANT:<id>]` subject tag, lower-cased.
fn subject_tag(subject: &str) -> Option<String> {
    let upper = subject.to_ascii_uppercase();
    let start = upper.find("[TENANT:")? + "[TENANT:".len();
    let end = start + subject[start..].find(']')?;
    let id = subject[start..end].trim();
    (!id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    .then(|| id.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_tag_names_a_tenant() {
        assert_eq!(
            subject_tag("Re: trip [tenant:Sunbird] please").as_deref(),
            Some("sunbird")
        );
        assert_eq!(subject_tag("no tag"), None);
        assert_eq!(subject_tag("[TENANT:bad id]"), None);
    }

    #[test]
    fn envelope_recipients_come_before_header_recipients() {
        let email = ReceivedEmail {
            envelope_to: vec!["A@x.test".into()],
            to: vec!["b@x.test".into(), "a@x.test".into()],
            ..ReceivedEmail::default()
        };
        assert_eq!(candidates(&email), vec!["a@x.test", "b@x.test"]);
    }
}
