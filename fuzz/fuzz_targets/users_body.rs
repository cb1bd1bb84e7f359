//! Fuzzes the bodies of the signed-in user and user-management routes, as the seeded
//! tenant admin.
//!
//! The first byte of an input picks the route, the rest is the JSON body:
//! - `PATCH /api/v1/auth/profile`,
//! - `POST /api/v1/users/invite`,
//! - `PATCH /api/v1/users/{consultant}`,
//! - `PATCH /api/v1/users/{the admin itself}` (where a demotion must be refused).
//!
//! Every answer must be a JSON object, never a server error, with status 200, 400 or 422.
//! A success must come only from a body that is well formed for the route (the route's
//! body type read independently here, unknown fields refused) with something to change,
//! and the user or invitation returned must carry exactly the requested values. After every
//! input the admin, read back from the database, is still an active admin with its address.

#![no_main]

use axum::http::{Method, StatusCode};
use caravan_fuzz::{ADMIN_EMAIL, CONSULTANT_EMAIL, Reply, harness};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default = "consultant")]
    role: String,
}

fn consultant() -> String {
    "consultant".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatchBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    role: Option<String>,
}

/// The body as the host's JSON extractor reads it (a blank body is `{}`), or why not.
fn parse<T: DeserializeOwned>(data: &[u8]) -> Result<T, String> {
    let data: &[u8] = if data.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        data
    };
    serde_json::from_slice(data).map_err(|e| e.to_string())
}

/// Checks the status and shape; returns the body of a success, `None` for a refusal.
#[track_caller]
fn outcome(route: &str, data: &[u8], reply: &Reply) -> Option<Map<String, Value>> {
    let body = reply.assert_well_formed();
    assert!(
        matches!(reply.status.as_u16(), 200 | 400 | 422),
        "{route}: unexpected status {} for {:?}: {body:?}",
        reply.status,
        String::from_utf8_lossy(data)
    );
    (reply.status == StatusCode::OK).then_some(body)
}

fn profile(data: &[u8]) {
    let h = harness();
    let reply = h.raw_json_request(
        Method::PATCH,
        "/api/v1/auth/profile",
        Some(&h.admin_access_token),
        data,
    );
    let Some(body) = outcome("profile", data, &reply) else {
        return;
    };
    let sent: ProfileBody = parse(data).unwrap_or_else(|e| {
        panic!(
            "profile accepted a body it should refuse ({e}): {:?}",
            String::from_utf8_lossy(data)
        )
    });
    let phone = sent
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    assert!(
        sent.name.is_some() || phone.is_some(),
        "profile accepted a body with nothing to change: {sent:?}"
    );
    let user = &body["user"];
    assert_eq!(user["id"], h.admin_id.as_str(), "{body:?}");
    assert_eq!(user["role"], "admin", "{body:?}");
    if let Some(name) = &sent.name {
        assert_eq!(user["name"], name.trim(), "{sent:?} -> {body:?}");
    }
    if let Some(phone) = phone {
        assert_eq!(user["phone"], phone, "{sent:?} -> {body:?}");
    }
}

fn invite(data: &[u8]) {
    let h = harness();
    let reply = h.raw_json_request(
        Method::POST,
        "/api/v1/users/invite",
        Some(&h.admin_access_token),
        data,
    );
    let Some(body) = outcome("invite", data, &reply) else {
        return;
    };
    let sent: InviteBody = parse(data).unwrap_or_else(|e| {
        panic!(
            "invite accepted a body it should refuse ({e}): {:?}",
            String::from_utf8_lossy(data)
        )
    });
    assert!(
        sent.role == "admin" || sent.role == "consultant",
        "invite accepted role {:?}",
        sent.role
    );
    let invitation = &body["invitation"];
    let email = sent.email.trim().to_ascii_lowercase();
    assert_eq!(invitation["email"], email.as_str(), "{sent:?} -> {body:?}");
    assert!(
        email != ADMIN_EMAIL && email != CONSULTANT_EMAIL,
        "an active member was invited again: {email}"
    );
    assert_eq!(
        invitation["role"],
        sent.role.as_str(),
        "{sent:?} -> {body:?}"
    );
    assert_eq!(invitation["name"], sent.name.trim(), "{sent:?} -> {body:?}");
}

fn patch_user(data: &[u8], id: &str, is_self: bool) {
    let h = harness();
    let reply = h.raw_json_request(
        Method::PATCH,
        &format!("/api/v1/users/{id}"),
        Some(&h.admin_access_token),
        data,
    );
    let Some(body) = outcome("user patch", data, &reply) else {
        return;
    };
    let sent: UserPatchBody = parse(data).unwrap_or_else(|e| {
        panic!(
            "a user patch accepted a body it should refuse ({e}): {:?}",
            String::from_utf8_lossy(data)
        )
    });
    assert!(
        sent.name.is_some() || sent.role.is_some(),
        "a user patch accepted a body with nothing to change: {sent:?}"
    );
    if let Some(role) = &sent.role {
        assert!(
            role == "admin" || (role == "consultant" && !is_self),
            "a user patch accepted role {role:?} (self: {is_self})"
        );
    }
    let user = &body["user"];
    assert_eq!(user["id"], id, "{body:?}");
    if let Some(role) = &sent.role {
        assert_eq!(user["role"], role.as_str(), "{sent:?} -> {body:?}");
    }
    if let Some(name) = &sent.name {
        assert_eq!(user["name"], name.trim(), "{sent:?} -> {body:?}");
    }
}

/// The admin as the database has it (not the session cache `/auth/me` answers from).
fn admin_is_intact() {
    let h = harness();
    let reply = h.get_as_admin(&format!("/api/v1/users/{}", h.admin_id));
    let body = reply.assert_well_formed();
    assert_eq!(reply.status, StatusCode::OK, "{body:?}");
    let user = &body["user"];
    assert_eq!(user["role"], "admin", "the admin lost its role: {body:?}");
    assert_eq!(
        user["is_active"], true,
        "the admin was deactivated: {body:?}"
    );
    assert_eq!(
        user["email"], ADMIN_EMAIL,
        "the admin's address changed: {body:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&route, body)) = data.split_first() else {
        return;
    };
    let h = harness();
    match route % 4 {
        0 => profile(body),
        1 => invite(body),
        2 => patch_user(body, &h.consultant_id, false),
        _ => patch_user(body, &h.admin_id, true),
    }
    admin_is_intact();
});
