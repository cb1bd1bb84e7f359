//! `/api/v1/users/*`: a tenant admin's management of users and invitations.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::Json;
use super::response::top_level;
use super::routes::{Access, Routes};
use super::session::TenantAdmin;
use crate::accounts::UserPatch;
use crate::accounts::model::{Invitation, User};
use crate::state::AppState;

pub fn routes() -> Routes {
    let base = "/api/v1/users";
    Routes::new()
        .get(base, Access::Admin, list_users)
        .post(&format!("{base}/invite"), Access::Admin, invite)
        .get(
            &format!("{base}/invitations"),
            Access::Admin,
            list_invitations,
        )
        .delete(
            &format!("{base}/invitations/{{invitation_id}}"),
            Access::Admin,
            revoke_invitation,
        )
        .post(
            &format!("{base}/invitations/{{invitation_id}}/resend"),
            Access::Admin,
            resend_invitation,
        )
        .get(&format!("{base}/{{user_id}}"), Access::Admin, get_user)
        .patch(&format!("{base}/{{user_id}}"), Access::Admin, update_user)
        .delete(
            &format!("{base}/{{user_id}}"),
            Access::Admin,
            deactivate_user,
        )
}

/// A user as the dashboard reads it (never the password hash).
pub fn user_body(user: &User) -> Value {
    json!({
        "id": user.id,
        "auth_user_id": user.id,
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "role": user.role.as_str(),
        "tenant_id": user.tenant_id,
        "is_active": user.is_active,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    })
}

fn invitation_body(invitation: &Invitation) -> Value {
    json!({
        "id": invitation.id,
        "email": invitation.email,
        "name": invitation.name,
        "role": invitation.role.as_str(),
        "expires_at": invitation.expires_at,
        "created_at": invitation.created_at,
    })
}

async fn list_users(
    State(state): State<AppState>,
    TenantAdmin(session): TenantAdmin,
) -> Result<Response, ApiError> {
    let users = state.accounts.list_users(&session.tenant.id).await?;
    Ok(top_level(json!({
        "users": users.iter().map(user_body).collect::<Vec<_>>(),
        "total": users.len(),
    })))
}

async fn get_user(
    State(state): State<AppState>,
    TenantAdmin(session): TenantAdmin,
    Path(user_id): Path<String>,
) -> Result<Response, ApiError> {
    let user = state
        .accounts
        .get_user(&session.tenant.id, &user_id)
        .await?;
    Ok(top_level(json!({ "user": user_body(&user) })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatchBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    role: Option<String>,
}

async fn update_user(
    State(state): State<AppState>,
    TenantAdmin(session): TenantAdmin,
    Path(user_id): Path<String>,
    Json(body): Json<UserPatchBody>,
) -> Result<Response, ApiError> {
    let patch = UserPatch {
        name: body.name,
        role: body.role,
    };
    let user = state
        .accounts
        .update_user(&session, &user_id, patch)
        .await?;
    Ok(top_level(json!({ "user": user_body(&user) })))
}

async fn deactivate_user(
    State(state): State<AppState>,
    TenantAdmin(session): TenantAdmin,
    Path(user_id): Path<String>,
) -> Result<Response, ApiError> {
    state.accounts.deactivate_user(&session, &user_id).await?;
    Ok(top_level(json!({"message": "User deactivated"})))
}

#[derive(Deserialize)]
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

async fn invite(
    State(state): State<AppState>,
    TenantAdmin(session): TenantAdmin,
    Json(body): Json<InviteBody>,
) -> Result<Response, ApiError> {
    let invitation = state
        .accounts
        .invite(
            &session.tenant,
            Some(&session.user),
            &body.email,
            &body.name,
            &body.role,
        )
        .await?;
    Ok(top_level(json!({
        "message": format!("Invitation sent to {}", invitation.email),
        "invitation": invitation_body(&invitation),
    })))
}

async fn list_invitations(
    State(state): State<AppState>,
    TenantAdmin(session): TenantAdmin,
) -> Result<Response, ApiError> {
    let invitations = state
        .accounts
        .pending_invitations(&session.tenant.id)
        .await?;
    Ok(top_level(json!({
        "invitations": invitations.iter().map(invitation_body).collect::<Vec<_>>(),
        "total": invitations.len(),
    })))
}

async fn revoke_invitation(
    State(state): State<AppState>,
    TenantAdmin(session): TenantAdmin,
    Path(invitation_id): Path<String>,
) -> Result<Response, ApiError> {
    state
        .accounts
        .revoke_invitation(&session.tenant.id, &invitation_id)
        .await?;
    Ok(top_level(json!({"message": "Invitation revoked"})))
}

async fn resend_invitation(
    State(state): State<AppState>,
    TenantAdmin(session): TenantAdmin,
    Path(invitation_id): Path<String>,
) -> Result<Response, ApiError> {
    let invitation = state
        .accounts
        .resend_invitation(&session.tenant, &invitation_id, Some(&session.user))
        .await?;
    Ok(top_level(json!({
        "message": format!("Invitation resent to {}", invitation.email),
        "invitation": invitation_body(&invitation),
    })))
}
