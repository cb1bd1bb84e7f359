//! `/api/v1/notifications*`: the header's notification list, unread badge and preferences.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::extract::{Json, Query, page};
use super::response::{ok, top_level};
use super::routes::{Access, Routes};
use super::session::CurrentUser;
use crate::error::Error;
use crate::notifications::time_ago;
use crate::state::AppState;
use crate::storage::inbound::Notification;

pub fn routes() -> Routes {
    let base = "/api/v1/notifications";
    Routes::new()
        .get(base, Access::User, list)
        .get(&format!("{base}/unread-count"), Access::User, unread_count)
        .post(
            &format!("{base}/mark-all-read"),
            Access::User,
            mark_all_read,
        )
        .get(&format!("{base}/preferences"), Access::User, preferences)
        .put(
            &format!("{base}/preferences"),
            Access::User,
            update_preferences,
        )
        .patch(
            &format!("{base}/{{notification_id}}/read"),
            Access::User,
            mark_read,
        )
}

fn notification_body(n: &Notification, now: chrono::DateTime<Utc>) -> Value {
    json!({
        "id": n.id,
        "type": n.kind,
        "title": n.title,
        "message": n.message,
        "entity_type": n.entity_type,
        "entity_id": n.entity_id,
        "metadata": n.metadata,
        "read": n.read,
        "read_at": n.read_at,
        "created_at": n.created_at,
        "time_ago": time_ago(n.created_at, now),
    })
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default = "twenty")]
    limit: i64,
    #[serde(default)]
    offset: i64,
    #[serde(default)]
    unread_only: bool,
}

fn twenty() -> i64 {
    20
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let (limit, offset) = page(q.limit, q.offset, 100, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Validation(errors).into());
    }
    let (rows, total) = state
        .notifications
        .list(
            &session.tenant.id,
            &session.user.id,
            q.unread_only,
            limit,
            offset,
        )
        .await?;
    let now = Utc::now();
    Ok(top_level(json!({
        "data": rows.iter().map(|n| notification_body(n, now)).collect::<Vec<_>>(),
        "total": total,
        "limit": q.limit,
        "offset": q.offset,
    })))
}

async fn unread_count(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> Result<Response, ApiError> {
    let n = state
        .notifications
        .unread_count(&session.tenant.id, &session.user.id)
        .await?;
    Ok(top_level(json!({"unread_count": n})))
}

async fn mark_read(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(notification_id): Path<String>,
) -> Result<Response, ApiError> {
    state
        .notifications
        .mark_read(&session.tenant.id, &session.user.id, &notification_id)
        .await?;
    Ok(top_level(json!({"message": "Notification marked as read"})))
}

async fn mark_all_read(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> Result<Response, ApiError> {
    let n = state
        .notifications
        .mark_all_read(&session.tenant.id, &session.user.id)
        .await?;
    Ok(top_level(json!({
        "message": format!("{n} notifications marked as read"),
        "count": n,
    })))
}

async fn preferences(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> Result<Response, ApiError> {
    let prefs = state
        .notifications
        .preferences(&session.tenant.id, &session.user.id)
        .await?;
    Ok(ok(prefs))
}

async fn update_preferences(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Json(body): Json<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let prefs = state
        .notifications
        .update_preferences(&session.tenant.id, &session.user.id, &body)
        .await?;
    Ok(ok(prefs))
}
