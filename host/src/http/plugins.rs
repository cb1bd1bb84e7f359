//! Plugin management: upload, list, activate, roll back, configure, limit and dry-run a
//! tenant's plugins. The same handlers serve the platform admin (any tenant, named in the
//! path) and a tenant's own admins (their tenant, from the token), through [`PluginOwner`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::on;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::admin::PlatformAdmin;
use super::error::ApiError;
use super::extract::{Json, Query};
use super::response::ok;
use super::routes::{Access, Routes};
use super::session::TenantAdmin;
use super::tenant_scope::record_tenant;
use crate::error::{Error, FieldError};
use crate::plugins::registry::{self, UPLOAD_CAP_BYTES, tenant_context};
use crate::plugins::{FailurePolicy, Limits, Slot};
use crate::state::AppState;
use crate::tenants::model::Tenant;

/// The platform admin's routes, for the tenant named in the path.
pub fn platform_routes() -> Routes {
    routes::<PlatformOwner>(
        "/api/v1/admin/tenants/{tenant_id}/plugins",
        Access::Platform,
    )
}

/// A tenant admin's routes, for the caller's own tenant.
pub fn tenant_routes() -> Routes {
    routes::<OwnTenant>("/api/v1/plugins", Access::Admin)
}

fn routes<O: PluginOwner + 'static>(base: &str, access: Access) -> Routes {
    let slot = format!("{base}/{{slot}}");
    Routes::new()
        .get(base, access, list::<O>)
        .add_router(
            Method::POST,
            &slot,
            access,
            // The handler reads the body itself and stops at the cap, so that an upload of
            // any size gets its 422 with a reason rather than the service-wide 413.
            on(axum::routing::MethodFilter::POST, upload::<O>).layer(DefaultBodyLimit::disable()),
        )
        .post(&format!("{slot}/activate"), access, activate::<O>)
        .post(&format!("{slot}/rollback"), access, rollback::<O>)
        .get(&format!("{slot}/config"), access, get_config::<O>)
        .put(&format!("{slot}/config"), access, put_config::<O>)
        .put(&format!("{slot}/limits"), access, put_limits::<O>)
        .post(&format!("{slot}/dry-run"), access, dry_run::<O>)
}

/// Whose plugins a request manages, and who is acting (recorded in the registry).
pub trait PluginOwner: FromRequestParts<AppState, Rejection = ApiError> + Send {
    fn tenant(&self) -> &Arc<Tenant>;
    fn actor(&self) -> String;
}

/// The platform admin acting on the tenant in the path: the token is checked before the
/// tenant is looked up, so a caller without it learns nothing about which tenants exist.
#[derive(Debug)]
pub struct PlatformOwner(Arc<Tenant>);

impl FromRequestParts<AppState> for PlatformOwner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        PlatformAdmin::from_request_parts(parts, state).await?;
        let params = path_params(parts, state).await?;
        let tenant_id = params
            .get("tenant_id")
            .ok_or_else(|| ApiError::not_found("Tenant not found"))?;
        record_tenant(tenant_id);
        Ok(Self(state.tenants.get(tenant_id).await?))
    }
}

impl PluginOwner for PlatformOwner {
    fn tenant(&self) -> &Arc<Tenant> {
        &self.0
    }

    fn actor(&self) -> String {
        "platform-admin".to_owned()
    }
}

/// A tenant admin acting on their own tenant.
#[derive(Debug)]
pub struct OwnTenant(crate::accounts::Session);

impl FromRequestParts<AppState> for OwnTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let TenantAdmin(session) = TenantAdmin::from_request_parts(parts, state).await?;
        Ok(Self(session))
    }
}

impl PluginOwner for OwnTenant {
    fn tenant(&self) -> &Arc<Tenant> {
        &self.0.tenant
    }

    fn actor(&self) -> String {
        self.0.actor()
    }
}

async fn path_params(
    parts: &mut Parts,
    state: &AppState,
) -> Result<HashMap<String, String>, ApiError> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(params)
}

fn slot(value: &str) -> Result<Slot, ApiError> {
    Slot::parse(value).ok_or_else(|| {
        ApiError::not_found(format!(
            "Unknown plugin slot '{value}'; slots are email-parser, quote-rules, pricing, pdf-template"
        ))
    })
}

/// The slot a route's path names; an unknown slot is a 404.
struct SlotPath(Slot);

impl FromRequestParts<AppState> for SlotPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let params = path_params(parts, state).await?;
        let name = params.get("slot").map_or("", String::as_str);
        Ok(Self(slot(name)?))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadParams {
    label: Option<String>,
}

/// The uploaded component, read no further than the cap: a longer one (declared or sent) is
/// refused as the registry refuses it, a 422 saying why.
async fn component_bytes(headers: &HeaderMap, body: axum::body::Body) -> Result<Bytes, ApiError> {
    let too_large = |size: String| {
        ApiError::from(Error::validation(FieldError::body(
            "component",
            format!("the component is {size} bytes; the limit is {UPLOAD_CAP_BYTES} bytes (10 MB)"),
        )))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(size) = declared.filter(|n| *n > UPLOAD_CAP_BYTES) {
        return Err(too_large(size.to_string()));
    }
    axum::body::to_bytes(body, UPLOAD_CAP_BYTES)
        .await
        .map_err(|e| {
            if std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                || e.to_string().contains("length limit")
            {
                too_large(format!("more than {UPLOAD_CAP_BYTES}"))
            } else {
                ApiError::bad_request(format!("The request body could not be read: {e}"))
            }
        })
}

async fn upload<O: PluginOwner>(
    owner: O,
    State(state): State<AppState>,
    SlotPath(slot): SlotPath,
    Query(params): Query<UploadParams>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !(content_type.starts_with("application/wasm")
        || content_type.starts_with("application/octet-stream"))
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the component bytes with Content-Type: application/wasm",
        ));
    }
    let bytes = component_bytes(&headers, body).await?;
    let version = state
        .plugins
        .upload(
            owner.tenant(),
            slot,
            params.label.as_deref(),
            bytes,
            &owner.actor(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "success": true,
            "data": {
                "id": version.id,
                "sha256": version.sha256,
                "size": version.size_bytes,
                "label": version.label,
                "slot": version.slot,
                "wit_version": version.wit_version,
                "created_at": version.created_at,
                "validation": version.validation,
            },
        })),
    )
        .into_response())
}

async fn list<O: PluginOwner>(
    owner: O,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let tenant_id = owner.tenant().id.clone();
    let plugins = &state.plugins;
    let versions = plugins.versions(&tenant_id).await?;
    let stats = plugins.call_stats(&tenant_id).await?;
    let mut slots = Vec::new();
    for slot in Slot::ALL {
        let active = plugins.active(&tenant_id, slot).await?;
        let settings = plugins.settings_of(&tenant_id, slot).await?;
        let history = plugins.history(&tenant_id, slot).await?;
        let of_slot: Vec<Value> = versions
            .iter()
            .filter(|v| v.slot == slot)
            .map(|v| {
                json!({
                    "id": v.id,
                    "label": v.label,
                    "sha256": v.sha256,
                    "size": v.size_bytes,
                    "wit_version": v.wit_version,
                    "uploaded_by": v.uploaded_by,
                    "created_at": v.created_at,
                    "active": active.as_deref() == Some(v.id.as_str()),
                    "validation": v.validation,
                })
            })
            .collect();
        let slot_stats: Vec<&crate::plugins::model::CallStat> =
            stats.iter().filter(|s| s.slot == slot).collect();
        slots.push(json!({
            "slot": slot,
            "active": active.as_ref().map_or_else(|| json!({"version_id": null, "label": "default"}), |id| {
                let label = versions.iter().find(|v| &v.id == id).map(|v| v.label.clone());
                json!({"version_id": id, "label": label})
            }),
            "versions": of_slot,
            "history": history,
            "limits": settings.limits.unwrap_or_default(),
            "failure_policy": settings.failure_policy,
            "stats": slot_stats,
        }));
    }
    Ok(ok(json!({ "tenant_id": tenant_id, "slots": slots })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivateBody {
    /// A version id, or `null`/`"default"` for the built-in plugin.
    version_id: Option<String>,
}

async fn activate<O: PluginOwner>(
    owner: O,
    State(state): State<AppState>,
    SlotPath(slot): SlotPath,
    Json(body): Json<ActivateBody>,
) -> Result<Response, ApiError> {
    let tenant_id = owner.tenant().id.as_str();
    let target = body.version_id.filter(|v| v != "default");
    let active = state
        .plugins
        .activate(tenant_id, slot, target.as_deref(), &owner.actor())
        .await?;
    Ok(ok(json!({ "slot": slot, "active_version_id": active })))
}

async fn rollback<O: PluginOwner>(
    owner: O,
    State(state): State<AppState>,
    SlotPath(slot): SlotPath,
) -> Result<Response, ApiError> {
    let tenant_id = owner.tenant().id.as_str();
    let active = state
        .plugins
        .rollback(tenant_id, slot, &owner.actor())
        .await?;
    Ok(ok(json!({ "slot": slot, "active_version_id": active })))
}

async fn get_config<O: PluginOwner>(
    owner: O,
    State(state): State<AppState>,
    SlotPath(slot): SlotPath,
) -> Result<Response, ApiError> {
    let tenant_id = owner.tenant().id.as_str();
    let settings = state.plugins.settings_of(tenant_id, slot).await?;
    Ok(ok(Value::Object(settings.config)))
}

async fn put_config<O: PluginOwner>(
    owner: O,
    State(state): State<AppState>,
    SlotPath(slot): SlotPath,
    Json(config): Json<serde_json::Map<String, Value>>,
) -> Result<Response, ApiError> {
    let tenant_id = owner.tenant().id.as_str();
    let settings = state.plugins.put_config(tenant_id, slot, config).await?;
    Ok(ok(Value::Object(settings.config)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsBody {
    fuel: Option<u64>,
    deadline_ms: Option<u64>,
    memory_bytes: Option<u64>,
    input_bytes: Option<u64>,
    output_bytes: Option<u64>,
    failure_policy: Option<FailurePolicy>,
}

async fn put_limits<O: PluginOwner>(
    owner: O,
    State(state): State<AppState>,
    SlotPath(slot): SlotPath,
    Json(body): Json<LimitsBody>,
) -> Result<Response, ApiError> {
    let tenant_id = owner.tenant().id.as_str();
    let current = state
        .plugins
        .settings_of(tenant_id, slot)
        .await?
        .limits
        .unwrap_or_default();
    let limits = Limits {
        fuel: body.fuel.unwrap_or(current.fuel),
        deadline_ms: body.deadline_ms.unwrap_or(current.deadline_ms),
        memory_bytes: body.memory_bytes.unwrap_or(current.memory_bytes),
        input_bytes: body.input_bytes.unwrap_or(current.input_bytes),
        output_bytes: body.output_bytes.unwrap_or(current.output_bytes),
    };
    let settings = state
        .plugins
        .put_limits(tenant_id, slot, limits, body.failure_policy)
        .await?;
    Ok(ok(json!({
        "slot": slot,
        "limits": settings.limits,
        "failure_policy": settings.failure_policy,
        "platform_max": Limits::PLATFORM_MAX,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DryRunBody {
    /// The slot's input (`email`, `trip`/`rates`, `request`…); the sample input when absent.
    input: Option<Value>,
    /// A version to try instead of the active one.
    version_id: Option<String>,
}

async fn dry_run<O: PluginOwner>(
    owner: O,
    State(state): State<AppState>,
    SlotPath(slot): SlotPath,
    Json(body): Json<DryRunBody>,
) -> Result<Response, ApiError> {
    let tenant_id = owner.tenant().id.as_str();
    let plugins = &state.plugins;
    let resolved = plugins.resolve(tenant_id, slot).await?;
    let (compiled, spec, version) = match body.version_id.as_deref().filter(|v| *v != "default") {
        None if body.version_id.is_some() => {
            let compiled = plugins.default_component(slot).await?;
            let spec = crate::plugins::CallSpec {
                version: "default".into(),
                ..resolved.spec.clone()
            };
            (compiled, spec, "default".to_owned())
        }
        None => (
            resolved
                .compiled
                .clone()
                .map_err(|e| ApiError::new(StatusCode::CONFLICT, "plugin_unloadable", e.message))?,
            resolved.spec.clone(),
            resolved.spec.version.clone(),
        ),
        Some(id) => {
            let version = plugins.version(tenant_id, id).await?;
            if version.slot != slot {
                return Err(ApiError::bad_request(format!(
                    "Version {id} is a {} plugin, not {slot}",
                    version.slot
                )));
            }
            let compiled = plugins.compiled_version(&version).await?;
            let spec = crate::plugins::CallSpec {
                version: version.label.clone(),
                ..resolved.spec.clone()
            };
            (compiled, spec, version.label)
        }
    };
    let report = registry::run_json(
        plugins.runtime(),
        &compiled,
        &spec,
        &tenant_context(owner.tenant()),
        "dry-run",
        body.input.as_ref(),
    )
    .await?;
    Ok(ok(json!({
        "slot": slot,
        "version": version,
        "ok": report.ok,
        "output": report.output,
        "error": report.error,
        "fuel_used": report.stats.map(|s| s.fuel_used),
        "wall_us": report.stats.map(|s| s.wall_us),
        "peak_memory_bytes": report.stats.map(|s| s.peak_memory_bytes),
        "limits": spec.limits,
    })))
}
