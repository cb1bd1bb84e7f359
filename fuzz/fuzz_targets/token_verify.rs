//! Fuzzes access-token verification: `JwtKeys::verify` directly, and the Bearer header of
//! `GET /api/v1/auth/me` through the whole router.
//!
//! Each input is used three ways:
//! 1. as a token (lossily decoded): it must be refused without a panic, since no input can
//!    carry a valid signature for a key it does not know;
//! 2. as the raw bytes of `Authorization: Bearer <input>`: the answer is a JSON 401;
//! 3. as the source of claims that are signed properly: the token verifies exactly when its
//!    times say it should and gives back the same claims; changing any one byte of it, or
//!    signing it with another algorithm, makes it fail; and through the router, a token
//!    the app signed for a real session resolves to that user with the role in the
//!    database, whatever role the token claims.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use axum::http::{HeaderValue, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use caravan::accounts::model::Role;
use caravan::accounts::tokens::{Claims, JwtKeys, TokenError};
use caravan_fuzz::{APP_JWT_SECRET, TENANT, harness};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use libfuzzer_sys::fuzz_target;

/// The key this target signs with; the app never sees it. The seed corpus holds tokens
/// signed with it, all expired, so that mutations start from well-formed, correctly signed
/// tokens without any seed ever being acceptable.
const FUZZ_SECRET: &[u8] = b"caravan-fuzz-target-secret-not-the-app-key";

/// The leeway `JwtKeys` grants on `exp` and `nbf`, in seconds.
const LEEWAY: u64 = 5;
/// Times closer than this to a validity boundary are not asserted on: the clock moves
/// between signing and verifying.
const MARGIN: u64 = 60;

/// A time relative to now, so that most generated tokens are neither all expired nor all
/// valid, plus raw values for the extremes.
#[derive(Debug, Arbitrary)]
enum Moment {
    Past(u32),
    Future(u32),
    Raw(u64),
}

impl Moment {
    fn at(&self, now: u64) -> u64 {
        match *self {
            Self::Past(d) => now.saturating_sub(u64::from(d)),
            Self::Future(d) => now.saturating_add(u64::from(d)),
            Self::Raw(v) => v,
        }
    }
}

#[derive(Debug, Arbitrary)]
struct Derived {
    sub: String,
    tenant_id: String,
    claims_admin: bool,
    exp: Moment,
    iat: u64,
    nbf: Moment,
    jti: String,
    sid: String,
    /// Where and to what one byte of the signed token is changed.
    flip_at: usize,
    flip_to: u8,
    /// Put the seeded admin's user, tenant and session in the app-signed token instead of
    /// the generated ones.
    as_seeded_admin: bool,
}

/// What verification must say about a token signed with the right key, or `None` when the
/// times are too close to a boundary to tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Valid,
    Refused(TokenError),
}

fn expected(exp: u64, nbf: u64, now: u64) -> Option<Expected> {
    let exp_passed = exp.saturating_add(LEEWAY + MARGIN) < now;
    let exp_ahead = exp > now.saturating_add(MARGIN);
    let nbf_ahead = nbf > now.saturating_add(LEEWAY + MARGIN);
    // `exp` is checked before `nbf`, so a token that is both expired and not yet valid is
    // reported as expired.
    if exp_passed {
        Some(Expected::Refused(TokenError::Expired))
    } else if exp_ahead && nbf_ahead {
        Some(Expected::Refused(TokenError::NotYetValid))
    } else if exp_ahead && nbf <= now {
        Some(Expected::Valid)
    } else {
        None
    }
}

fn role(admin: bool) -> Role {
    if admin { Role::Admin } else { Role::Consultant }
}

fn sign(claims: &Claims, alg: Algorithm, secret: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret))
        .expect("HMAC signing cannot fail")
}

fn verify_any_bytes(keys: &JwtKeys, app_keys: &JwtKeys, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for (name, k) in [("the target's", keys), ("the app's", app_keys)] {
        let verdict = k.verify(&text);
        assert!(
            verdict.is_err(),
            "an input verified with {name} key without being signed with it: {text:?} -> {verdict:?}"
        );
    }
}

fn bearer_through_router(data: &[u8]) {
    let mut value = b"Bearer ".to_vec();
    value.extend_from_slice(data);
    // Bytes that cannot appear in a header (controls, newlines) never reach the app: the
    // HTTP parser refuses them, and `http` will not build such a request either.
    let Ok(value) = HeaderValue::from_bytes(&value) else {
        return;
    };
    let reply = harness().get_with_authorization("/api/v1/auth/me", value);
    let body = reply.assert_well_formed();
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "an unsigned bearer was not refused: {data:?} -> {body:?}"
    );
    assert_eq!(body["code"], "unauthorized", "{body:?}");
}

fn signed_tokens(keys: &JwtKeys, d: &Derived) {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: d.sub.clone(),
        tenant_id: d.tenant_id.clone(),
        role: role(d.claims_admin),
        exp: d.exp.at(now),
        iat: d.iat,
        nbf: d.nbf.at(now),
        jti: d.jti.clone(),
        sid: d.sid.clone(),
    };
    let token = keys.sign(&claims).expect("HMAC signing cannot fail");
    let verdict = keys.verify(&token);
    match expected(claims.exp, claims.nbf, now) {
        Some(Expected::Valid) => assert_eq!(
            verdict.as_ref(),
            Ok(&claims),
            "a valid token did not round-trip: {token}"
        ),
        Some(Expected::Refused(why)) => assert_eq!(
            verdict,
            Err(why),
            "exp {} nbf {} at {now}: {token}",
            claims.exp,
            claims.nbf
        ),
        None => {}
    }

    // One changed byte anywhere: the header and payload are covered by the HMAC, and the
    // signature segment decodes strictly (no padding, no stray trailing bits), so no
    // change can leave a token that still verifies.
    let mut bytes = token.clone().into_bytes();
    let at = d.flip_at % bytes.len();
    let to = d.flip_to & 0x7f;
    if bytes[at] != to {
        bytes[at] = to;
        let mutated = String::from_utf8(bytes).expect("ASCII stays UTF-8");
        let verdict = keys.verify(&mutated);
        assert!(
            verdict.is_err(),
            "a token with byte {at} changed to {to:#04x} still verified: {token} -> {mutated} = {verdict:?}"
        );
    }

    // The same claims under another algorithm, with the same secret, or under none at all:
    // only HS256 is accepted, so each is refused as invalid, not as expired.
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let other = sign(&claims, alg, FUZZ_SECRET);
        assert_eq!(
            keys.verify(&other),
            Err(TokenError::Invalid),
            "{alg:?}: {other}"
        );
    }
    let payload = token.split('.').nth(1).expect("three segments");
    let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    for forged in [format!("{none}.{payload}."), format!("{none}.{payload}")] {
        assert_eq!(keys.verify(&forged), Err(TokenError::Invalid), "{forged}");
    }
}

/// A token the app itself would accept the signature of: the session behind it decides.
fn app_signed_through_router(app_keys: &JwtKeys, d: &Derived) {
    let h = harness();
    let now = jsonwebtoken::get_current_timestamp();
    let seeded = &h.admin_claims;
    let (sub, tenant_id, sid) = if d.as_seeded_admin {
        (
            seeded.sub.clone(),
            seeded.tenant_id.clone(),
            seeded.sid.clone(),
        )
    } else {
        (d.sub.clone(), d.tenant_id.clone(), d.sid.clone())
    };
    let is_live_session = tenant_id == TENANT && sub == h.admin_id && sid == seeded.sid;
    let claims = Claims {
        sub,
        tenant_id,
        role: role(d.claims_admin),
        exp: d.exp.at(now),
        iat: d.iat,
        nbf: d.nbf.at(now),
        jti: d.jti.clone(),
        sid,
    };
    let token = app_keys.sign(&claims).expect("HMAC signing cannot fail");
    let value = HeaderValue::from_str(&format!("Bearer {token}"))
        .expect("a JWT is base64url and dots, all valid in a header");
    let reply = h.get_with_authorization("/api/v1/auth/me", value);
    let body = reply.assert_well_formed();
    let expectation = expected(claims.exp, claims.nbf, now);
    match (is_live_session, expectation) {
        (true, Some(Expected::Valid)) => {
            assert_eq!(reply.status, StatusCode::OK, "{claims:?}: {body:?}");
            assert_eq!(body["user"]["id"], h.admin_id.as_str(), "{body:?}");
            // The role is the database's, never the token's.
            assert_eq!(body["user"]["role"], "admin", "{claims:?}: {body:?}");
        }
        (true, None) => assert!(
            reply.status == StatusCode::OK || reply.status == StatusCode::UNAUTHORIZED,
            "{claims:?}: {} {body:?}",
            reply.status
        ),
        // Unknown users, tenants or sessions, and tokens outside their validity window.
        _ => assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{claims:?}: {body:?}"
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let keys = JwtKeys::from_secret(FUZZ_SECRET);
    let app_keys = JwtKeys::from_secret(APP_JWT_SECRET);
    verify_any_bytes(&keys, &app_keys, data);
    bearer_through_router(data);
    if let Ok(derived) = Derived::arbitrary(&mut Unstructured::new(data)) {
        signed_tokens(&keys, &derived);
        app_signed_through_router(&app_keys, &derived);
    }
});
