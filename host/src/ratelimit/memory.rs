//! The in-process store: each key's backlog and block as an instant in moka caches whose entries
//! expire exactly when they stop mattering.

use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::ops::compute::Op;
use moka::policy::{EvictionPolicy, Expiry};

use super::{KeyHash, Step, micros, step};

/// Entries per cache. An entry is a hash and an instant plus moka's bookkeeping, so a full cache
/// stays within a few tens of megabytes however many distinct keys clients invent.
const CAPACITY: u64 = 100_000;

/// Expires an entry at the instant it holds: a backlog ending or a block running out.
struct AtItsInstant;

impl Expiry<KeyHash, Instant> for AtItsInstant {
    fn expire_after_create(
        &self,
        _key: &KeyHash,
        until: &Instant,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(until.saturating_duration_since(created_at))
    }

    fn expire_after_update(
        &self,
        _key: &KeyHash,
        until: &Instant,
        updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(until.saturating_duration_since(updated_at))
    }
}

fn cache() -> Cache<KeyHash, Instant> {
    // LRU rather than moka's default TinyLFU: TinyLFU may refuse to admit a new key while the
    // cache is full, and a key that is not admitted is never limited. Under LRU a flood of
    // distinct keys evicts the least recently used ones instead, which forgets the oldest hits.
    Cache::builder()
        .max_capacity(CAPACITY)
        .eviction_policy(EvictionPolicy::lru())
        .expire_after(AtItsInstant)
        .build()
}

pub(super) struct Memory {
    /// When each key's backlog runs out (its theoretical arrival time, in GCRA terms).
    backlogs: Cache<KeyHash, Instant>,
    /// When each key's block ends.
    blocks: Cache<KeyHash, Instant>,
}

impl Memory {
    pub(super) fn new() -> Self {
        Self {
            backlogs: cache(),
            blocks: cache(),
        }
    }

    pub(super) async fn step(
        &self,
        key: KeyHash,
        interval: u64,
        tolerance: u64,
        count: bool,
    ) -> Step {
        let mut outcome = None;
        // `and_compute_with` runs calls on the same key one after the other, so a burst of
        // concurrent hits cannot read the same backlog and all be allowed.
        self.backlogs
            .entry(key)
            .and_compute_with(|entry| {
                let now = Instant::now();
                // An entry past its instant may not have been evicted yet: it means no backlog.
                let backlog =
                    entry.map_or(0, |e| micros(e.into_value().saturating_duration_since(now)));
                let result = step(backlog, interval, tolerance, count);
                outcome = Some(result);
                let op = if result.allowed && count {
                    Op::Put(now + Duration::from_micros(result.backlog))
                } else {
                    Op::Nop
                };
                std::future::ready(op)
            })
            .await;
        // The closure always runs; the fallback only satisfies the type.
        outcome.unwrap_or(Step {
            allowed: false,
            backlog: tolerance.saturating_add(interval),
        })
    }

    pub(super) async fn reset(&self, key: KeyHash) {
        self.backlogs.invalidate(&key).await;
    }

    pub(super) async fn block(&self, key: KeyHash, duration: Duration) {
        self.blocks.insert(key, Instant::now() + duration).await;
    }

    pub(super) async fn blocked_for(&self, key: KeyHash) -> Option<Duration> {
        let until = self.blocks.get(&key).await?;
        Some(until.saturating_duration_since(Instant::now())).filter(|left| !left.is_zero())
    }

    pub(super) async fn unblock(&self, key: KeyHash) {
        self.blocks.invalidate(&key).await;
    }
}
