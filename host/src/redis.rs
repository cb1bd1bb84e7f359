//! A Redis connection that never blocks the request path for long and says when it goes away.
//!
//! Callers get `None` instead of an error when Redis is unreachable and fall back to their
//! in-process equivalent. While Redis is down only one probe per second is made, so an outage
//! costs requests nothing; the first success after an outage logs the recovery.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// Longest a single Redis command may take before it counts as a failure.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// While Redis is down, how often a request may probe it.
const PROBE_INTERVAL_MS: u64 = 1_000;

pub struct Redis {
    manager: ConnectionManager,
    /// Set while the last command failed.
    down: AtomicBool,
    /// Milliseconds since `epoch` of the last attempt made while down.
    last_probe_ms: AtomicU64,
    epoch: Instant,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("down", &self.down.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// Prepares a lazily connecting client; fails only on a malformed URL.
    pub fn new(url: &str) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(300)))
            .set_response_timeout(Some(Duration::from_millis(400)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let manager = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            manager,
            down: AtomicBool::new(false),
            last_probe_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        })
    }

    /// Whether the last command succeeded.
    pub fn is_up(&self) -> bool {
        !self.down.load(Ordering::Relaxed)
    }

    /// Runs one command; `None` when Redis is unreachable, slow, or answers with an error.
    pub async fn call<T, F, Fut>(&self, what: &'static str, command: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if self.down.load(Ordering::Relaxed) && !self.may_probe() {
            return None;
        }
        match tokio::time::timeout(COMMAND_TIMEOUT, command(self.manager.clone())).await {
            Ok(Ok(value)) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!(
                        command = what,
                        "redis is reachable again; shared state resumed"
                    );
                }
                Some(value)
            }
            Ok(Err(err)) => {
                self.mark_down(what, &err.to_string());
                None
            }
            Err(_) => {
                self.mark_down(what, "timed out");
                None
            }
        }
    }

    /// A `PING` round trip, for readiness checks.
    pub async fn ping(&self) -> bool {
        self.call("PING", |mut c| async move {
            redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await
        .is_some()
    }

    fn may_probe(&self) -> bool {
        let now = self.epoch.elapsed().as_millis() as u64;
        let last = self.last_probe_ms.load(Ordering::Relaxed);
        now.saturating_sub(last) >= PROBE_INTERVAL_MS
            && self
                .last_probe_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    fn mark_down(&self, what: &'static str, error: &str) {
        self.last_probe_ms
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        if !self.down.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                command = what,
                error,
                "redis is unreachable; using in-process fallbacks until it returns"
            );
        }
    }
}
