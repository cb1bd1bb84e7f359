//! Access tokens (HS256 JWTs) and the opaque random tokens behind refresh, reset and invite.
//!
//! Opaque tokens are stored only as their SHA-256, so a database leak yields nothing usable.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::model::Role;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    pub tenant_id: String,
    pub role: Role,
    /// Expiry, epoch seconds.
    pub exp: u64,
    /// Issued at, epoch seconds.
    pub iat: u64,
    /// Not before, epoch seconds (equal to `iat`).
    pub nbf: u64,
    /// A unique id per token.
    pub jti: String,
    /// The refresh-token family (the session) this token belongs to; logging out ends it.
    pub sid: String,
}

/// Why a bearer token was refused. The HTTP layer answers every kind with 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("invalid token")]
    Invalid,
}

/// The key that signs and verifies access tokens.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys([redacted])")
    }
}

/// Shortest secret accepted from configuration: HS256 is only as strong as its key.
pub const MIN_SECRET_BYTES: usize = 32;

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        // Only HS256 is accepted: a token naming `none` or another algorithm is refused
        // before its signature is even looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iat", "nbf", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// The configured secret, else the development secret kept in `<data_dir>/jwt-secret`
    /// (created with 64 random bytes on first use, readable by the owner only).
    pub fn load(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(secret) = configured {
            anyhow::ensure!(
                secret.len() >= MIN_SECRET_BYTES,
                "CARAVAN_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long"
            );
            return Ok(Self::from_secret(secret.as_bytes()));
        }
        let path = data_dir.join("jwt-secret");
        let secret = match std::fs::read_to_string(&path) {
            Ok(s) if s.trim().len() >= MIN_SECRET_BYTES => s.trim().to_owned(),
            _ => {
                std::fs::create_dir_all(data_dir)?;
                let secret = hex::encode(random_bytes::<64>());
                write_private(&path, &secret)?;
                tracing::info!(
                    path = %path.display(),
                    "generated a development JWT secret; set CARAVAN_JWT_SECRET when several hosts serve the API"
                );
                secret
            }
        };
        Ok(Self::from_secret(secret.as_bytes()))
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        use jsonwebtoken::errors::ErrorKind;
        // A JWT is three base64url segments; anything much longer is not one of ours.
        if token.len() > 4096 {
            return Err(TokenError::Invalid);
        }
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) => Err(match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                _ => TokenError::Invalid,
            }),
        }
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// A new opaque token of `N` random bytes, URL-safe base64 without padding.
pub fn opaque<const N: usize>() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

/// How an opaque token is stored and looked up.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_offset: i64, nbf_offset: i64) -> Claims {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        Claims {
            sub: "u1".into(),
            tenant_id: "t1".into(),
            role: Role::Admin,
            exp: (now + exp_offset) as u64,
            iat: now as u64,
            nbf: (now + nbf_offset) as u64,
            jti: "j".into(),
            sid: "s".into(),
        }
    }

    #[test]
    fn a_signed_token_verifies_with_its_key_only() {
        let keys = JwtKeys::from_secret(&[7; 32]);
        let token = keys.sign(&claims(60, 0)).unwrap();
        assert_eq!(keys.verify(&token).unwrap().sub, "u1");
        let other = JwtKeys::from_secret(&[8; 32]);
        assert_eq!(other.verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn expired_and_future_tokens_are_refused() {
        let keys = JwtKeys::from_secret(&[7; 32]);
        let expired = keys.sign(&claims(-60, -120)).unwrap();
        assert_eq!(keys.verify(&expired), Err(TokenError::Expired));
        let future = keys.sign(&claims(600, 300)).unwrap();
        assert_eq!(keys.verify(&future), Err(TokenError::NotYetValid));
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        let keys = JwtKeys::from_secret(&[7; 32]);
        let token = keys.sign(&claims(60, 0)).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        for forged in [
            format!("{none_header}.{payload}."),
            format!("{none_header}.{payload}"),
        ] {
            assert_eq!(keys.verify(&forged), Err(TokenError::Invalid));
        }
    }

    #[test]
    fn opaque_tokens_are_random_and_stored_as_digests() {
        let a = opaque::<32>();
        assert_eq!(a.len(), 43);
        assert_ne!(a, opaque::<32>());
        assert_eq!(digest(&a).len(), 64);
        assert_eq!(opaque::<48>().len(), 64);
    }

    #[test]
    fn the_development_secret_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let a = JwtKeys::load(None, dir.path()).unwrap();
        let token = a.sign(&claims(60, 0)).unwrap();
        let b = JwtKeys::load(None, dir.path()).unwrap();
        assert!(b.verify(&token).is_ok());
        assert!(JwtKeys::load(Some("too short"), dir.path()).is_err());
    }
}
