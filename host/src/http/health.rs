//! Liveness, readiness and Prometheus metrics.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use super::routes::{Access, Routes};
use crate::state::AppState;

/// How long readiness waits for the database before calling it down.
const DATABASE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> Routes {
    let p = Access::Public;
    Routes::new()
        .get("/health", p, health)
        .get("/health/live", p, live)
        .get("/health/ready", p, ready)
        .get("/ready", p, ready)
        .get("/metrics", p, metrics)
}

async fn health() -> axum::Json<Value> {
    axum::Json(json!({ "status": "healthy", "timestamp": Utc::now().to_rfc3339() }))
}

async fn live() -> axum::Json<Value> {
    axum::Json(json!({ "status": "alive", "timestamp": Utc::now().to_rfc3339() }))
}

/// The database's state: `(up, details)`. Shared with the platform-admin health page.
pub async fn check_database(state: &AppState) -> (bool, Value) {
    let started = Instant::now();
    let schema = &state.storage.schema;
    let outcome = tokio::time::timeout(DATABASE_CHECK_TIMEOUT, async {
        schema.ping().await?;
        schema.statement_timeout().await
    })
    .await;
    let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
    let backend = state.storage.backend.as_str();
    let (up, details) = match outcome {
        Ok(Ok(timeout)) => (
            true,
            json!({
                "status": "up",
                "backend": backend,
                "latency_ms": latency_ms,
                "statement_timeout_ms": timeout.as_millis() as u64,
            }),
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database check failed");
            (
                false,
                json!({ "status": "down", "backend": backend, "error": "database unreachable" }),
            )
        }
        Err(_) => (
            false,
            json!({ "status": "down", "backend": backend, "error": "database check timed out" }),
        ),
    };
    state.metrics.set_database_up(up);
    (up, details)
}

/// Ready when the database answers. Redis and the upstreams (AI, outbound email, object
/// storage) are reported but do not decide readiness: every use of Redis has an in-process
/// fallback, and an open circuit degrades instead of failing — AI answers come from local
/// fallbacks, emails wait queued until the circuit closes, file operations fail fast with a
/// 503 while everything else keeps working. Every host shares those upstreams, so failing
/// readiness for them would take the whole deployment out of the load balancer at once.
/// `degraded` lists the checks whose circuit is not closed.
async fn ready(State(state): State<AppState>) -> Response {
    let (database_up, database) = check_database(&state).await;
    let redis = match &state.redis {
        None => json!({ "status": "disabled" }),
        Some(redis) => {
            let up = redis.ping().await;
            state.metrics.set_redis_up(up);
            json!({ "status": if up { "up" } else { "down" } })
        }
    };
    let ai = state.ai.health();
    let email = state.mailer.health().await;
    let object_store = state.blobs.health();
    let degraded: Vec<&str> = [
        ("ai", ai["mode"] == "degraded"),
        ("email", email["status"] == "degraded"),
        ("object_store", object_store["status"] == "degraded"),
    ]
    .into_iter()
    .filter_map(|(name, degraded)| degraded.then_some(name))
    .collect();
    let body = json!({
        "status": if database_up { "ready" } else { "not_ready" },
        "degraded": degraded,
        "checks": {
            "database": database,
            "redis": redis,
            "tenant_cache": { "mode": state.tenants.cache_mode() },
            "ai": ai,
            "email": email,
            "object_store": object_store,
        },
        "timestamp": Utc::now().to_rfc3339(),
    });
    let status = if database_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
