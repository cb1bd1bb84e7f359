//! Fuzzes the body of `POST /api/v1/auth/login`.
//!
//! Every input is sent as is with `Content-Type: application/json`. The answer must be a
//! JSON object with status 200, 400, 422 or 429, never a server error. A 200 carries a
//! boolean `success`, and `success: true` comes exactly when the body is a well-formed
//! login naming a seeded user's address (in any case, with surrounding whitespace) and that
//! user's password, for no tenant or the seeded one: the fuzzer must never sign in with
//! anything else, and a correct login must never be refused. A successful login's access
//! token must be the app's, for that user.
//!
//! Logins that reach password verification run argon2, so this target is slow by design
//! (tens of milliseconds per such input).

#![no_main]

use axum::http::{Method, StatusCode};
use caravan::accounts::tokens::JwtKeys;
use caravan_fuzz::{ADMIN_EMAIL, APP_JWT_SECRET, CONSULTANT_EMAIL, PASSWORD, TENANT, harness};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_json::Value;

/// The host's login body, read the way the host reads it, to tell which inputs are correct
/// logins independently of the host's answer.
#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: String,
    #[serde(default)]
    tenant_id: Option<String>,
}

/// The seeded user an input correctly logs in as, if any: `(email, user id, role)`.
fn correct_login(data: &[u8]) -> Option<(&'static str, &'static str, &'static str)> {
    // A blank body reads as `{}`, which lacks both fields.
    if data.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let body: LoginBody = serde_json::from_slice(data).ok()?;
    let h = harness();
    let email = body.email.trim().to_ascii_lowercase();
    let user = if email == ADMIN_EMAIL {
        (ADMIN_EMAIL, h.admin_id.as_str(), "admin")
    } else if email == CONSULTANT_EMAIL {
        (CONSULTANT_EMAIL, h.consultant_id.as_str(), "consultant")
    } else {
        return None;
    };
    let tenant_ok = matches!(body.tenant_id.as_deref(), None | Some("") | Some(TENANT));
    (body.password == PASSWORD && tenant_ok).then_some(user)
}

fuzz_target!(|data: &[u8]| {
    let h = harness();
    let reply = h.raw_json_request(Method::POST, "/api/v1/auth/login", None, data);
    let correct = correct_login(data);
    assert!(
        matches!(reply.status.as_u16(), 200 | 400 | 422 | 429),
        "unexpected status {} for {:?}: {:?}",
        reply.status,
        String::from_utf8_lossy(data),
        String::from_utf8_lossy(&reply.bytes)
    );
    if reply.status != StatusCode::OK {
        reply.assert_well_formed();
        assert!(
            correct.is_none(),
            "a correct login got {}: {:?} -> {:?}",
            reply.status,
            String::from_utf8_lossy(data),
            String::from_utf8_lossy(&reply.bytes)
        );
        return;
    }
    let body = reply.json_object();
    let Some(success) = body.get("success").and_then(Value::as_bool) else {
        panic!("a 200 without a boolean success: {body:?}");
    };
    match (success, correct) {
        (true, Some((email, id, role))) => {
            let token = body["access_token"].as_str().expect("an access token");
            let claims = JwtKeys::from_secret(APP_JWT_SECRET)
                .verify(token)
                .expect("the access token is the app's and valid");
            assert_eq!(claims.sub, id, "{body:?}");
            assert_eq!(claims.tenant_id, TENANT, "{body:?}");
            assert_eq!(claims.role.as_str(), role, "{body:?}");
            assert_eq!(body["user"]["id"], id, "{body:?}");
            assert_eq!(body["user"]["email"], email, "{body:?}");
            assert_eq!(body["token_type"], "bearer", "{body:?}");
            assert!(
                body["refresh_token"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()),
                "{body:?}"
            );
        }
        (true, None) => panic!(
            "signed in without a correct login: {:?} -> {body:?}",
            String::from_utf8_lossy(data)
        ),
        (false, Some(_)) => panic!(
            "a correct login was refused: {:?} -> {body:?}",
            String::from_utf8_lossy(data)
        ),
        (false, None) => {
            assert!(body.get("error").is_some_and(Value::is_string), "{body:?}");
            assert!(!body.contains_key("access_token"), "{body:?}");
        }
    }
});
