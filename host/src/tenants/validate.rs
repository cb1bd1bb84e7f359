//! The rules tenant input must follow, each stated in its error message.

use std::collections::HashSet;
use std::str::FromStr;

use crate::error::FieldError;
use crate::money::Currency;
use crate::tenants::model::{Destination, PLANS};

pub const SLUG_RULE: &str =
    "must be 3–50 characters, only lower-case letters a-z, digits 0-9, '_' and '-'";

/// Collects every broken rule rather than stopping at the first.
#[derive(Debug, Default)]
pub struct Checks(pub Vec<FieldError>);

impl Checks {
    pub fn fail(&mut self, field: &str, msg: impl Into<String>) {
        self.0.push(FieldError::body(field, msg));
    }

    pub fn into_result(self) -> crate::error::Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(crate::error::Error::Validation(self.0))
        }
    }
}

pub fn is_valid_slug(slug: &str) -> bool {
    (3..=50).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A pragmatic address check: one `@`, a non-empty local part, a dotted domain, no spaces.
/// Deliverability is the mail server's business; this catches typos and pasted garbage.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        // The mailer must be able to write to whatever is accepted here, so an address it
        // would refuse (`a[b@x.test`) is refused at the door rather than stored unreachable.
        && email.parse::<lettre::Address>().is_ok()
}

/// Trims and checks a required text field; returns the trimmed value.
pub fn text(checks: &mut Checks, field: &str, value: &str, max: usize) -> String {
    let value = value.trim();
    if value.is_empty() {
        checks.fail(field, format!("{field} must not be empty"));
    } else if value.chars().count() > max {
        checks.fail(field, format!("{field} must be at most {max} characters"));
    }
    value.to_owned()
}

/// Lower-cases and checks an email field.
pub fn email(checks: &mut Checks, field: &str, value: &str) -> String {
    let value = value.trim().to_ascii_lowercase();
    if !is_valid_email(&value) {
        checks.fail(field, format!("{field} must be a valid email address"));
    }
    value
}

pub fn currency(checks: &mut Checks, value: &str) -> String {
    match Currency::parse(value) {
        Some(c) => c.as_str().to_owned(),
        None => {
            checks.fail(
                "currency",
                format!(
                    "currency must be an ISO 4217 code such as ZAR, USD or EUR (got `{value}`)"
                ),
            );
            value.to_owned()
        }
    }
}

pub fn timezone(checks: &mut Checks, value: &str) -> String {
    let value = value.trim();
    if chrono_tz::Tz::from_str(value).is_err() {
        checks.fail(
            "timezone",
            format!("timezone must be an IANA zone such as Africa/Johannesburg (got `{value}`)"),
        );
    }
    value.to_owned()
}

pub fn plan(checks: &mut Checks, value: &str) -> String {
    let value = value.trim().to_ascii_lowercase();
    if !PLANS.contains(&value.as_str()) {
        checks.fail("plan", format!("plan must be one of {}", PLANS.join(", ")));
    }
    value
}

pub fn color(checks: &mut Checks, field: &str, value: &str) -> String {
    let value = value.trim();
    let ok = value.len() == 7
        && value.starts_with('#')
        && value[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        checks.fail(
            field,
            format!("{field} must be a colour in the form #RRGGBB"),
        );
    }
    value.to_ascii_uppercase()
}

pub fn url(checks: &mut Checks, field: &str, value: &str) -> String {
    let value = value.trim();
    let ok = (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() <= 2048
        && !value.chars().any(char::is_whitespace);
    if !ok {
        checks.fail(
            field,
            format!("{field} must be an http(s) URL of at most 2048 characters"),
        );
    }
    value.to_owned()
}

/// Destination code derived from a name: `Kruger National Park` → `KRUGER_NATIONAL_PARK`.
pub fn derive_code(name: &str) -> String {
    let mut code = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            code.push(c.to_ascii_uppercase());
        } else if !code.ends_with('_') {
            code.push('_');
        }
    }
    code.trim_matches('_').to_owned()
}

/// Normalises destinations and rejects names or aliases that would route ambiguously.
pub fn destinations(checks: &mut Checks, input: Vec<Destination>) -> Vec<Destination> {
    const MAX: usize = 200;
    if input.len() > MAX {
        checks.fail("destinations", format!("at most {MAX} destinations"));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(input.len());
    for d in input {
        let name = d.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            checks.fail("destinations", "destination names must be 1–100 characters");
            continue;
        }
        let mut aliases = Vec::new();
        for alias in d.aliases {
            let alias = alias.trim().to_owned();
            if alias.is_empty() || alias.chars().count() > 100 {
                checks.fail(
                    "destinations",
                    format!("aliases of `{name}` must be 1–100 characters"),
                );
            } else if !aliases
                .iter()
                .any(|a: &String| a.eq_ignore_ascii_case(&alias))
            {
                aliases.push(alias);
            }
        }
        for label in std::iter::once(&name).chain(aliases.iter()) {
            if !seen.insert(label.to_lowercase()) {
                checks.fail(
                    "destinations",
                    format!("`{label}` names more than one destination; names and aliases must be unique"),
                );
            }
        }
        let code = match d.code.trim() {
            "" => derive_code(&name),
            c => c.to_owned(),
        };
        out.push(Destination {
            name,
            code,
            aliases,
            enabled: d.enabled,
        });
    }
    out
}

pub fn inbound_addresses(checks: &mut Checks, input: Vec<String>) -> Vec<String> {
    const MAX: usize = 50;
    if input.len() > MAX {
        checks.fail(
            "inbound_addresses",
            format!("at most {MAX} inbound addresses"),
        );
    }
    let mut out: Vec<String> = Vec::with_capacity(input.len());
    for address in input {
        let address = email(checks, "inbound_addresses", &address);
        if !out.contains(&address) {
            out.push(address);
        }
    }
    out.sort();
    out
}

/// Quoting settings: a validity of 1–365 days, at most 20 terms of up to 1 000 characters.
pub fn quoting(
    checks: &mut Checks,
    settings: super::model::QuotingSettings,
) -> super::model::QuotingSettings {
    if !(1..=365).contains(&settings.validity_days) {
        checks.fail("quoting.validity_days", "must be between 1 and 365");
    }
    if settings.terms.len() > 20 || settings.terms.iter().any(|t| t.chars().count() > 1000) {
        checks.fail(
            "quoting.terms",
            "at most 20 paragraphs of up to 1000 characters",
        );
    }
    settings
}

/// Helpdesk settings: a name of up to 60 characters, persona and instructions of up to
/// 2 000 characters each.
pub fn helpdesk(
    checks: &mut Checks,
    settings: super::model::HelpdeskSettings,
) -> super::model::HelpdeskSettings {
    let too_long = |value: &Option<String>, max: usize| {
        value.as_ref().is_some_and(|v| v.chars().count() > max)
    };
    if too_long(&settings.assistant_name, 60) {
        checks.fail("helpdesk.assistant_name", "at most 60 characters");
    }
    if too_long(&settings.persona, 2000) {
        checks.fail("helpdesk.persona", "at most 2000 characters");
    }
    if too_long(&settings.instructions, 2000) {
        checks.fail("helpdesk.instructions", "at most 2000 characters");
    }
    settings
}

/// A sender identity: addresses must be valid, the name at most 100 characters.
pub fn email_identity(
    checks: &mut Checks,
    identity: super::model::EmailIdentity,
) -> super::model::EmailIdentity {
    if identity
        .from_name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 100 || n.contains(['\r', '\n']))
    {
        checks.fail("email.from_name", "at most 100 characters on one line");
    }
    super::model::EmailIdentity {
        from_name: identity.from_name.map(|n| n.trim().to_owned()),
        from_email: identity
            .from_email
            .map(|e| email(checks, "email.from_email", &e)),
        reply_to: identity
            .reply_to
            .map(|e| email(checks, "email.reply_to", &e)),
    }
}

/// Conversion rates: ISO 4217 codes mapped to positive, finite numbers.
pub fn fx_rates(
    checks: &mut Checks,
    rates: std::collections::BTreeMap<String, f64>,
) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    for (code, rate) in rates {
        let upper = code.trim().to_ascii_uppercase();
        if !crate::money::is_known_currency(&upper) {
            checks.fail(
                "fx_rates",
                format!("`{code}` is not an ISO 4217 currency code"),
            );
        } else if !(rate.is_finite() && rate > 0.0) {
            checks.fail(
                "fx_rates",
                format!("the rate for {upper} must be a positive number"),
            );
        } else {
            out.insert(upper, rate);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_stated_rule() {
        for ok in ["abc", "sunbird", "sun-bird_2", &"a".repeat(50)] {
            assert!(is_valid_slug(ok), "{ok}");
        }
        for bad in [
            "ab",
            "Sunbird",
            "sun bird",
            "sün",
            "a/b",
            "",
            &"a".repeat(51),
        ] {
            assert!(!is_valid_slug(bad), "{bad}");
        }
    }

    #[test]
    fn emails_are_checked_pragmatically() {
        assert!(is_valid_email("ops@sunbird.example"));
        assert!(is_valid_email("quotes+sunbird@inbound.caravan.test"));
        for bad in [
            "",
            "nobody",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "@c.com",
            "a@.com",
            "a@c..com",
            "a[b@fuzz.test",
            "consultant@fu[zz.test",
            "consultanv@f,zz.tesw",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn destination_codes_are_derived_from_names() {
        assert_eq!(derive_code("Kruger National Park"), "KRUGER_NATIONAL_PARK");
        assert_eq!(derive_code("  Cape  Town! "), "CAPE_TOWN");
    }

    #[test]
    fn an_alias_shared_by_two_destinations_is_rejected() {
        let mut checks = Checks::default();
        let d = |name: &str, aliases: &[&str]| Destination {
            name: name.to_owned(),
            code: String::new(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            enabled: true,
        };
        destinations(
            &mut checks,
            vec![d("Kruger National Park", &["Kruger"]), d("Kruger", &[])],
        );
        assert_eq!(checks.0.len(), 1, "{:?}", checks.0);
    }
}
