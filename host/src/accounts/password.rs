//! Password hashing (argon2id) and the password policy.
//!
//! Hashing costs tens of milliseconds of CPU by design, so callers run it on the blocking
//! pool. The parameters are argon2's RFC 9106 "second recommended option" sized for a
//! 2-core host: 19 MiB, 2 passes, 1 lane (see docs/benchmarks.md for the measured cost).

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest accepted password, in characters.
pub const MIN_LENGTH: usize = 8;
/// Longest accepted password, in bytes: hashing cost grows with input, and no one types more.
pub const MAX_BYTES: usize = 256;

fn hasher() -> Argon2<'static> {
    // The constants are argon2's own defaults, so `Params::new` cannot reject them.
    let params = Params::new(
        Params::DEFAULT_M_COST,
        Params::DEFAULT_T_COST,
        Params::DEFAULT_P_COST,
        None,
    )
    .unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// What is wrong with a proposed password, in words for the user; `None` when it is fine.
pub fn policy_violation(password: &str) -> Option<String> {
    if password.chars().count() < MIN_LENGTH {
        return Some(format!(
            "Password must be at least {MIN_LENGTH} characters long"
        ));
    }
    if password.len() > MAX_BYTES {
        return Some(format!("Password must be at most {MAX_BYTES} bytes long"));
    }
    if password.trim().is_empty() {
        return Some("Password must not be only spaces".to_owned());
    }
    if password.chars().any(char::is_control) {
        return Some("Password must not contain control characters".to_owned());
    }
    None
}

/// An argon2id PHC string for `password`, with a fresh random salt.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(hasher().hash_password(password.as_bytes())?.to_string())
}

/// Whether `password` matches the PHC string. The parameters come from the string, so
/// hashes made with older parameters keep verifying.
pub fn verify(password: &str, phc: &str) -> bool {
    password.len() <= MAX_BYTES && hasher().verify_password(password.as_bytes(), phc).is_ok()
}

/// A hash of no one's password, verified against when an account does not exist so that
/// a login for an unknown address costs the same time as one for a known address.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy password that matches nothing").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterz", &phc));
        assert!(!verify("correct horse battery", "not a phc string"));
    }

    #[test]
    fn the_policy_names_what_is_wrong() {
        assert!(policy_violation("short").unwrap().contains("at least 8"));
        assert!(policy_violation("        ").unwrap().contains("spaces"));
        assert!(policy_violation(&"x".repeat(300)).unwrap().contains("256"));
        assert!(
            policy_violation("abc\u{0}defgh")
                .unwrap()
                .contains("control")
        );
        assert_eq!(policy_violation("a fine passphrase"), None);
    }
}
