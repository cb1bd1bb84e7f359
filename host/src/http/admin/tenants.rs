//! Tenant provisioning for platform admins: list, create, read, update, stats, suspend,
//! activate, delete, and the platform health summary.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::PlatformAdmin;
use crate::accounts::NewUser;
use crate::accounts::model::Role;
use crate::error::FieldError;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::http::health::check_database;
use crate::http::response::{created, ok, top_level};
use crate::http::routes::{Access, Routes};
use crate::http::tenant_scope::record_tenant;
use crate::http::users::user_body;
use crate::state::AppState;
use crate::tenants::model::{Tenant, TenantListQuery, TenantSort, TenantStatus};
use crate::tenants::{CreateTenant, UpdateTenant};

pub fn routes() -> Routes {
    let one = "/api/v1/admin/tenants/{tenant_id}";
    let p = Access::Platform;
    Routes::new()
        .get("/api/v1/admin/health", p, health)
        .get("/api/v1/admin/tenants", p, list)
        .post("/api/v1/admin/tenants", p, create)
        .get(one, p, detail)
        .patch(one, p, update)
        .delete(one, p, delete)
        .get(&format!("{one}/stats"), p, stats)
        .post(&format!("{one}/suspend"), p, suspend)
        .post(&format!("{one}/activate"), p, activate)
        .post(&format!("{one}/users"), p, create_user)
        .put(&format!("{one}/logo"), p, put_logo)
}

/// Usage figures of a tenant. Caravan keeps no quotes, invoices, clients or users yet, so
/// every figure is zero until those records exist.
fn usage() -> Value {
    json!({
        "quote_count": 0,
        "invoice_count": 0,
        "invoices_paid": 0,
        "total_invoiced": 0.0,
        "total_revenue": 0.0,
    })
}

/// The list row: the fields the admin SPA reads, plus Caravan's own.
fn summary(t: &Tenant) -> Value {
    let mut row = json!({
        "tenant_id": t.id,
        "company_name": t.name,
        "name": t.name,
        "status": t.status,
        "plan": t.plan,
        "admin_email": t.admin_email,
        "support_email": t.support_email,
        "currency": t.config.currency,
        "timezone": t.config.timezone,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    });
    merge(&mut row, usage());
    row
}

fn detail_view(t: &Tenant) -> Value {
    let destinations: Vec<Value> = t
        .config
        .destinations
        .iter()
        .map(|d| {
            json!({
                "name": d.name,
                "code": d.code,
                "aliases": d.aliases,
                "enabled": d.enabled,
                "active": d.enabled,
                "hotel_count": 0,
                "rate_count": 0,
            })
        })
        .collect();
    let mut view = summary(t);
    merge(
        &mut view,
        json!({
            "client": {
                "name": t.name,
                "short_name": t.id,
                "company_name": t.name,
                "timezone": t.config.timezone,
                "currency": t.config.currency,
            },
            "destinations_count": destinations.len(),
            "destinations": destinations,
            "hotels_count": 0,
            "rates_count": 0,
            "consultants": [],
            "inbound_addresses": t.config.inbound_addresses,
            "branding": t.config.branding,
            "limits": t.config.limits,
            "suspended_at": t.suspended_at,
            "suspended_reason": t.suspended_reason,
            "infrastructure": {
                "gcp_project": null,
                "gcp_region": null,
                "dataset": null,
                "supabase_configured": false,
                "email": { "sendgrid_configured": false, "from_email": t.support_email },
            },
        }),
    );
    view
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    search: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
    sort_by: Option<String>,
    sort_order: Option<String>,
}

impl ListParams {
    fn into_query(self) -> Result<TenantListQuery, ApiError> {
        let mut errors = Vec::new();
        let status = match self
            .status
            .as_deref()
            .filter(|s| !s.is_empty() && *s != "all")
        {
            None => None,
            Some(s) => TenantStatus::parse(s).or_else(|| {
                errors.push(FieldError::query(
                    "status",
                    "status must be `active` or `suspended`",
                ));
                None
            }),
        };
        let limit = self.limit.unwrap_or(50);
        if !(1..=100).contains(&limit) {
            errors.push(FieldError::query(
                "limit",
                "limit must be between 1 and 100",
            ));
        }
        let sort = match self.sort_by.as_deref().unwrap_or("created_at") {
            "created_at" => TenantSort::CreatedAt,
            "company_name" | "name" => TenantSort::Name,
            "tenant_id" | "id" => TenantSort::Id,
            "status" => TenantSort::Status,
            _ => {
                errors.push(FieldError::query(
                    "sort_by",
                    "sort_by must be one of created_at, company_name, tenant_id, status",
                ));
                TenantSort::CreatedAt
            }
        };
        let descending = match self.sort_order.as_deref().unwrap_or("desc") {
            "desc" => true,
            "asc" => false,
            _ => {
                errors.push(FieldError::query(
                    "sort_order",
                    "sort_order must be asc or desc",
                ));
                true
            }
        };
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(TenantListQuery {
            status,
            search: self
                .search
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
            limit,
            offset: self.offset.unwrap_or(0),
            sort,
            descending,
        })
    }
}

async fn list(
    _: PlatformAdmin,
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    let page = state.tenants.list(&params.into_query()?).await?;
    let rows: Vec<Value> = page.tenants.iter().map(summary).collect();
    Ok(top_level(json!({
        "count": rows.len(),
        "total": page.total,
        "data": rows,
    })))
}

async fn create(
    _: PlatformAdmin,
    State(state): State<AppState>,
    Json(input): Json<CreateTenant>,
) -> Result<Response, ApiError> {
    let tenant = state.tenants.create(input).await?;
    // The first user of a tenant: its admin address is invited to set a password.
    let invitation = state
        .accounts
        .invite(&tenant, None, &tenant.admin_email, "", Role::Admin.as_str())
        .await?;
    let mut view = detail_view(&tenant);
    merge(
        &mut view,
        json!({"admin_invitation": {"email": invitation.email, "expires_at": invitation.expires_at}}),
    );
    Ok(created(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUserBody {
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default = "admin_role")]
    role: String,
    /// Without one, the user is emailed a link to choose a password.
    #[serde(default)]
    password: Option<String>,
}

fn admin_role() -> String {
    Role::Admin.as_str().to_owned()
}

async fn create_user(
    _: PlatformAdmin,
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    Json(body): Json<CreateUserBody>,
) -> Result<Response, ApiError> {
    record_tenant(&tenant_id);
    let tenant = state.tenants.get(&tenant_id).await?;
    let role = Role::parse(&body.role).ok_or_else(|| {
        ApiError::validation(vec![FieldError::body(
            "role",
            "role must be 'admin' or 'consultant'",
        )])
    })?;
    let user = state
        .accounts
        .create_user(
            &tenant,
            NewUser {
                email: body.email,
                name: body.name,
                role,
                phone: body.phone,
                password: body.password,
            },
        )
        .await?;
    Ok(created(user_body(&user)))
}

/// The logo printed on the tenant's quotes and invoices (the request body is the image).
async fn put_logo(
    _: PlatformAdmin,
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    crate::http::extract::Body(bytes): crate::http::extract::Body,
) -> Result<Response, ApiError> {
    record_tenant(&tenant_id);
    let size = bytes.len();
    state.tenants.put_logo(&tenant_id, bytes).await?;
    Ok(ok(json!({"tenant_id": tenant_id, "size": size})))
}

async fn detail(
    _: PlatformAdmin,
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
) -> Result<Response, ApiError> {
    record_tenant(&tenant_id);
    let tenant = state.tenants.get(&tenant_id).await?;
    let users = state.accounts.list_all_users(&tenant.id).await?;
    let mut view = detail_view(&tenant);
    view["consultants"] = users
        .iter()
        .map(|u| {
            json!({"name": u.name, "email": u.email, "role": u.role.as_str(), "active": u.is_active})
        })
        .collect();
    view["users_count"] = json!(users.iter().filter(|u| u.is_active).count());
    Ok(ok(view))
}

async fn update(
    _: PlatformAdmin,
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    Json(patch): Json<UpdateTenant>,
) -> Result<Response, ApiError> {
    record_tenant(&tenant_id);
    let tenant = state.tenants.update(&tenant_id, patch).await?;
    Ok(ok(detail_view(&tenant)))
}

async fn stats(
    _: PlatformAdmin,
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
) -> Result<Response, ApiError> {
    record_tenant(&tenant_id);
    let tenant = state.tenants.get(&tenant_id).await?;
    let users = state.accounts.count_active_users(&tenant.id).await?;
    let emails = state.accounts.mailer().count(&tenant.id).await?;
    Ok(ok(json!({
        "tenant_id": tenant.id,
        "quotes_count": 0,
        "quotes_this_month": 0,
        "invoices_count": 0,
        "invoices_paid": 0,
        "total_invoiced": 0.0,
        "total_paid": 0.0,
        "clients_count": 0,
        "users_count": users,
        "emails_sent": emails,
        "destinations_count": tenant.config.destinations.len(),
        "inbound_addresses_count": tenant.config.inbound_addresses.len(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuspendBody {
    reason: String,
}

async fn suspend(
    _: PlatformAdmin,
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    Json(body): Json<SuspendBody>,
) -> Result<Response, ApiError> {
    record_tenant(&tenant_id);
    let tenant = state.tenants.suspend(&tenant_id, &body.reason).await?;
    Ok(top_level(json!({
        "message": format!("Tenant '{}' suspended", tenant.id),
        "tenant_id": tenant.id,
        "status": tenant.status,
    })))
}

async fn activate(
    _: PlatformAdmin,
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
) -> Result<Response, ApiError> {
    record_tenant(&tenant_id);
    let tenant = state.tenants.activate(&tenant_id).await?;
    Ok(top_level(json!({
        "message": format!("Tenant '{}' activated", tenant.id),
        "tenant_id": tenant.id,
        "status": tenant.status,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteParams {
    confirm: Option<bool>,
}

async fn delete(
    _: PlatformAdmin,
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    Query(params): Query<DeleteParams>,
) -> Result<Response, ApiError> {
    record_tenant(&tenant_id);
    if params.confirm != Some(true) {
        return Err(ApiError::bad_request(
            "Deleting a tenant removes all of its data; repeat the request with ?confirm=true",
        ));
    }
    // Forget the in-memory index first, so no search serves a deleted tenant's vectors; its
    // snapshot goes with the tenant's other objects below.
    if let Err(e) = state.vectors.drop_tenant(&tenant_id).await {
        tracing::debug!(error = %e, "no vector index to drop");
    }
    state.knowledge.forget_tenant(&tenant_id);
    let objects = state.tenants.delete(&tenant_id).await?;
    Ok(top_level(json!({
        "message": format!("Tenant '{tenant_id}' deleted"),
        "tenant_id": tenant_id,
        "note": format!("All database rows and {objects} stored file(s) of the tenant were removed"),
    })))
}

/// A bare object (no envelope), as the admin SPA's dashboard reads it.
async fn health(_: PlatformAdmin, State(state): State<AppState>) -> axum::Json<Value> {
    let (database_up, _) = check_database(&state).await;
    let counts = if database_up {
        state.tenants.counts().await.ok()
    } else {
        None
    };
    axum::Json(json!({
        "status": if database_up && counts.is_some() { "healthy" } else { "degraded" },
        "total_tenants": counts.map(|c| c.total),
        "active_tenants": counts.map(|c| c.active),
        "suspended_tenants": counts.map(|c| c.suspended),
        "database_status": if database_up { "connected" } else { "unavailable" },
        "database_backend": state.storage.backend.as_str(),
        "timestamp": Utc::now().to_rfc3339(),
    }))
}
