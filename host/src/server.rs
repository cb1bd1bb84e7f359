//! `caravan serve`: bind, serve, and shut down gracefully on SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;

use crate::state::AppState;

/// Serves until a shutdown signal, then lets in-flight requests finish within the grace period.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let addr = state.config.listen;
    let grace = Duration::from_secs(state.config.shutdown_grace_secs);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(
        listen = %listener.local_addr().unwrap_or(addr),
        backend = state.storage.backend.as_str(),
        redis = state.redis.is_some(),
        version = env!("CARGO_PKG_VERSION"),
        "caravan is serving"
    );
    // Compile the built-in plugins in the background, so the first enquiry does not wait for
    // it; requests that arrive sooner compile on demand (the cache makes it happen once).
    let plugins = state.plugins.clone();
    tokio::spawn(async move {
        for slot in crate::plugins::Slot::ALL {
            if let Err(e) = plugins.default_component(slot).await {
                tracing::error!(slot = slot.as_str(), error = %e, "cannot compile a built-in plugin");
            }
        }
        tracing::info!("built-in plugins compiled");
    });
    state.inbound.spawn_workers();
    state.knowledge.spawn_workers();
    // Emails an earlier run left queued (deferred, or interrupted mid-send) go out now.
    state.mailer.spawn_redelivery();
    let knowledge = state.knowledge.clone();
    let app = crate::http::app(state);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = stop_rx.await;
    });
    let mut server = tokio::spawn(async move { server.await });

    tokio::select! {
        result = &mut server => {
            return result.context("server task")?.context("serving HTTP");
        }
        signal = shutdown_signal() => {
            tracing::info!(signal, "shutting down: finishing in-flight requests");
        }
    }
    let _ = stop_tx.send(());
    match tokio::time::timeout(grace, &mut server).await {
        Ok(result) => result.context("server task")?.context("serving HTTP")?,
        Err(_) => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "grace period over; closing remaining connections"
            );
            server.abort();
        }
    }
    // Changed vector indexes are written now rather than rebuilt from the database later.
    let written = knowledge.retrieval_snapshot().await;
    tracing::info!(written, "vector index snapshots written");
    tracing::info!("caravan stopped");
    Ok(())
}

/// Resolves with the name of the first SIGINT or SIGTERM.
async fn shutdown_signal() -> &'static str {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
                "SIGTERM"
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<&'static str>();
    tokio::select! {
        s = ctrl_c => s,
        s = terminate => s,
    }
}
