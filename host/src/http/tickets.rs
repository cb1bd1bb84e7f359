//! `/api/v1/inbound/tickets*` and `/api/v1/inbound/stats`: the enquiry triage queue.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{Json, Query, page};
use super::response::{ok, top_level};
use super::routes::{Access, Routes};
use super::session::CurrentUser;
use crate::error::{Error, FieldError};
use crate::state::AppState;
use crate::storage::inbound::{Ticket, TicketQuery, TicketStats};
use crate::tickets::{PRIORITIES, STATUSES, TicketPatch};

pub fn routes() -> Routes {
    let base = "/api/v1/inbound";
    Routes::new()
        .get(&format!("{base}/tickets"), Access::User, list)
        .post(&format!("{base}/tickets/seed"), Access::User, seed)
        .get(
            &format!("{base}/tickets/{{ticket_id}}"),
            Access::User,
            detail,
        )
        .patch(
            &format!("{base}/tickets/{{ticket_id}}"),
            Access::User,
            update,
        )
        .post(
            &format!("{base}/tickets/{{ticket_id}}/reply"),
            Access::User,
            reply,
        )
        .get(&format!("{base}/stats"), Access::User, stats)
}

/// A ticket as the dashboard reads it.
pub fn ticket_body(t: &Ticket) -> Value {
    json!({
        "id": t.id,
        "tenant_id": t.tenant_id,
        "ticket_id": t.ticket_id,
        "customer_name": t.customer_name,
        "customer_email": t.customer_email,
        "subject": t.subject,
        "message": t.message,
        "status": t.status,
        "priority": t.priority,
        "source": t.source,
        "assigned_to": t.assigned_to,
        "notes": t.notes,
        "needs_review": t.needs_review,
        "metadata": t.metadata,
        "enquiry": t.enquiry,
        "conversation": t.conversation,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    })
}

fn stats_body(s: &TicketStats) -> Value {
    json!({
        "total": s.total,
        "open": s.open,
        "in_progress": s.in_progress,
        "resolved": s.resolved,
        "closed": s.closed,
    })
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default = "fifty")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

fn fifty() -> i64 {
    50
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let (limit, offset) = page(q.limit, q.offset, 100, &mut errors);
    let status = q.status.filter(|s| !s.is_empty());
    if status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
        errors.push(FieldError::query(
            "status",
            format!("must be one of {}", STATUSES.join(", ")),
        ));
    }
    let priority = q.priority.filter(|s| !s.is_empty());
    if priority
        .as_deref()
        .is_some_and(|p| !PRIORITIES.contains(&p))
    {
        errors.push(FieldError::query(
            "priority",
            format!("must be one of {}", PRIORITIES.join(", ")),
        ));
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors).into());
    }
    let tenant_id = &session.tenant.id;
    let query = TicketQuery {
        status,
        priority,
        limit,
        offset,
    };
    let (tickets, stats) = tokio::try_join!(
        state.tickets.list(tenant_id, &query),
        state.tickets.stats(tenant_id)
    )?;
    let data: Vec<Value> = tickets.iter().map(ticket_body).collect();
    Ok(top_level(json!({
        "data": data,
        "count": data.len(),
        "stats": stats_body(&stats),
    })))
}

async fn detail(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(ticket_id): Path<String>,
) -> Result<Response, ApiError> {
    let ticket = state.tickets.get(&session.tenant.id, &ticket_id).await?;
    Ok(ok(ticket_body(&ticket)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    /// Optional here so that an unknown ticket is 404 before a missing status is 422.
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    assigned_to: Option<String>,
    #[serde(default)]
    notes: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(ticket_id): Path<String>,
    Json(body): Json<PatchBody>,
) -> Result<Response, ApiError> {
    let ticket = state
        .tickets
        .update(
            &session.tenant.id,
            &ticket_id,
            TicketPatch {
                status: body.status,
                assigned_to: body.assigned_to,
                notes: body.notes,
            },
        )
        .await?;
    Ok(ok(ticket_body(&ticket)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyBody {
    /// Empty when absent: the service reports an unknown ticket before an empty message.
    #[serde(default)]
    message: String,
}

async fn reply(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(ticket_id): Path<String>,
    Json(body): Json<ReplyBody>,
) -> Result<Response, ApiError> {
    let ticket = state
        .tickets
        .reply(&session.tenant, &ticket_id, &body.message)
        .await?;
    Ok(top_level(json!({
        "message": "Reply sent",
        "conversation": ticket.conversation,
    })))
}

async fn seed(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> Result<Response, ApiError> {
    let count = state.tickets.seed(&session.tenant.id).await?;
    let message = if count == 0 {
        "The tenant already has tickets; nothing seeded"
    } else {
        "Demo tickets created"
    };
    Ok(top_level(json!({"message": message, "count": count})))
}

async fn stats(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> Result<Response, ApiError> {
    let stats = state.tickets.stats(&session.tenant.id).await?;
    Ok(ok(stats_body(&stats)))
}
