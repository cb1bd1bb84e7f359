//! Cached tenant records: Redis when configured (shared by every host), in-process otherwise.
//!
//! Every write goes to the database first and then invalidates and refreshes the cache, so a
//! suspension takes effect on the next request. When Redis is configured but unreachable, the
//! in-process fallback keeps entries only briefly: other hosts cannot tell this one about their
//! writes while Redis is down. Invalidations that could not reach Redis are replayed as soon as
//! it answers again, so no host reads a stale entry from Redis after the outage.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use moka::future::Cache;

use crate::redis::Redis;
use crate::tenants::model::Tenant;

/// Entry lifetime of the in-process fallback while Redis is down.
const FALLBACK_TTL: Duration = Duration::from_secs(10);

pub struct TenantCache {
    redis: Option<Arc<Redis>>,
    /// The cache when there is no Redis; the short-lived fallback when there is.
    local: Cache<String, Arc<Tenant>>,
    ttl: Duration,
    /// Keys whose deletion from Redis failed, replayed when it returns.
    pending_invalidations: Arc<Mutex<HashSet<String>>>,
}

impl std::fmt::Debug for TenantCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantCache")
            .field("redis", &self.redis.is_some())
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn key(id: &str) -> String {
    format!("caravan:tenant:v1:{id}")
}

impl TenantCache {
    pub fn new(redis: Option<Arc<Redis>>, ttl: Duration) -> Self {
        let local_ttl = if redis.is_some() { FALLBACK_TTL } else { ttl };
        let pending_invalidations = Arc::new(Mutex::new(HashSet::new()));
        if let (Some(redis), Ok(runtime)) = (&redis, tokio::runtime::Handle::try_current()) {
            runtime.spawn(replay_loop(
                redis.clone(),
                Arc::downgrade(&pending_invalidations),
            ));
        }
        Self {
            redis,
            local: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(local_ttl)
                .build(),
            ttl,
            pending_invalidations,
        }
    }

    /// Which cache is answering: `redis`, `memory`, or `memory-fallback` during an outage.
    pub fn mode(&self) -> &'static str {
        match &self.redis {
            None => "memory",
            Some(r) if r.is_up() => "redis",
            Some(_) => "memory-fallback",
        }
    }

    pub async fn get(&self, id: &str) -> Option<Arc<Tenant>> {
        let Some(redis) = &self.redis else {
            return self.local.get(id).await;
        };
        self.replay_invalidations(redis).await;
        let k = key(id);
        let cached = redis
            .call("GET", |mut c| async move {
                redis::cmd("GET")
                    .arg(&k)
                    .query_async::<Option<String>>(&mut c)
                    .await
            })
            .await;
        match cached {
            Some(Some(json)) => match serde_json::from_str::<Tenant>(&json) {
                Ok(tenant) => Some(Arc::new(tenant)),
                // An entry written by an incompatible version: treat as a miss.
                Err(_) => None,
            },
            Some(None) => None,
            None => self.local.get(id).await,
        }
    }

    pub async fn put(&self, tenant: &Tenant) {
        if let Some(redis) = &self.redis {
            let stored = match serde_json::to_string(tenant) {
                Ok(json) => {
                    let (k, ttl) = (key(&tenant.id), self.ttl.as_secs().max(1));
                    redis
                        .call("SET", |mut c| async move {
                            redis::cmd("SET")
                                .arg(&k)
                                .arg(json)
                                .arg("EX")
                                .arg(ttl)
                                .query_async::<()>(&mut c)
                                .await
                        })
                        .await
                        .is_some()
                }
                Err(_) => false,
            };
            if stored {
                return;
            }
        }
        self.local
            .insert(tenant.id.clone(), Arc::new(tenant.clone()))
            .await;
    }

    pub async fn invalidate(&self, id: &str) {
        self.local.invalidate(id).await;
        if let Some(redis) = &self.redis
            && !delete_from_redis(redis, id).await
        {
            self.pending().insert(id.to_owned());
        }
    }

    async fn replay_invalidations(&self, redis: &Redis) {
        replay(redis, &self.pending_invalidations).await;
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        lock(&self.pending_invalidations)
    }
}

fn lock(set: &Mutex<HashSet<String>>) -> std::sync::MutexGuard<'_, HashSet<String>> {
    // A panic while holding this lock cannot leave the set inconsistent.
    set.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn delete_from_redis(redis: &Redis, id: &str) -> bool {
    let k = key(id);
    redis
        .call("DEL", |mut c| async move {
            redis::cmd("DEL").arg(&k).query_async::<i64>(&mut c).await
        })
        .await
        .is_some()
}

async fn replay(redis: &Redis, pending: &Mutex<HashSet<String>>) {
    let ids: Vec<String> = {
        let mut set = lock(pending);
        if set.is_empty() {
            return;
        }
        set.drain().collect()
    };
    for id in ids {
        if !delete_from_redis(redis, &id).await {
            lock(pending).insert(id);
        }
    }
}

/// Replays failed invalidations once a second, so they reach Redis soon after it returns
/// even if this host serves no tenant read meanwhile. Ends with the cache.
async fn replay_loop(redis: Arc<Redis>, pending: Weak<Mutex<HashSet<String>>>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        let Some(pending) = pending.upgrade() else {
            return;
        };
        replay(&redis, &pending).await;
    }
}
