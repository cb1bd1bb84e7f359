//! The Redis store, shared by every host: one GCRA step per round trip in a Lua script, blocks as
//! keys that expire with them. Every method answers `None` when Redis did not, so the caller can
//! fall back to the in-process store.
//!
//! Resets, blocks and unblocks that could not reach Redis are kept and written as soon as it
//! answers again (one pipelined round trip), so a lockout set or lifted during an outage holds on
//! every host afterwards instead of vanishing with the outage.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use redis::Script;

use super::{KeyHash, Step};
use crate::redis::Redis;

/// One GCRA step, atomically and on Redis's clock (so hosts whose clocks differ still agree).
/// The key holds the instant, in microseconds of Redis time, when its backlog runs out, and
/// expires then. Mirrors `super::step`: refused hits and peeks write nothing.
///
/// KEYS[1]: the key. ARGV[1]: the cost of a hit (µs). ARGV[2]: the tolerance (µs).
/// ARGV[3]: `1` to count the hit, `0` to peek. Returns `{allowed (1|0), backlog (µs)}`.
///
/// Lua numbers are doubles: microsecond timestamps stay exact below 2^53 (the year 2255), and
/// the instant is written with `%d` because Redis would otherwise format a large number in
/// exponent notation and lose digits.
static STEP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local backlog = 0
local ends = tonumber(redis.call('GET', KEYS[1]))
if ends and ends > now then
  backlog = ends - now
end
if backlog > tolerance then
  return {0, backlog}
end
if ARGV[3] == '1' then
  backlog = backlog + interval
  redis.call('SET', KEYS[1], string.format('%d', now + backlog), 'PX', math.ceil(backlog / 1000))
end
return {1, backlog}
",
    )
});

/// Most writes kept for replay per kind. Past this, during a long outage with many distinct
/// keys, further ones are dropped: they still hold on this host, only not on the others.
const MAX_PENDING: usize = 10_000;

fn backlog_key(key: KeyHash) -> String {
    format!("caravan:rl:gcra:{}", key.hex())
}

fn block_key(key: KeyHash) -> String {
    format!("caravan:rl:block:{}", key.hex())
}

/// Whole milliseconds, rounded up so that nothing expires early, and at least 1 (Redis refuses a
/// zero expiry).
fn millis_ceil(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros().div_ceil(1_000))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Writes that Redis missed, latest per key.
#[derive(Debug, Default)]
struct Pending {
    resets: HashSet<KeyHash>,
    /// A block's end, or `None` for an unblock.
    blocks: HashMap<KeyHash, Option<Instant>>,
    /// Whether writes were dropped for want of room, so the warning is logged once per outage.
    overflowed: bool,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.resets.is_empty() && self.blocks.is_empty()
    }

    fn has_room(&mut self, len: usize) -> bool {
        if len < MAX_PENDING {
            return true;
        }
        if !self.overflowed {
            self.overflowed = true;
            tracing::warn!(
                max = MAX_PENDING,
                "too many rate-limit writes missed redis during the outage; further ones hold on this host only"
            );
        }
        false
    }

    fn add_reset(&mut self, key: KeyHash) {
        if self.has_room(self.resets.len()) {
            self.resets.insert(key);
        }
    }

    fn add_block(&mut self, key: KeyHash, until: Option<Instant>) {
        if self.blocks.contains_key(&key) || self.has_room(self.blocks.len()) {
            self.blocks.insert(key, until);
        }
    }
}

pub(super) struct Shared {
    redis: Arc<Redis>,
    pending: Mutex<Pending>,
    /// Mirrors `!pending.is_empty()`, so the common case checks it without taking the lock.
    has_pending: AtomicBool,
}

impl Shared {
    pub(super) fn new(redis: Arc<Redis>) -> Self {
        Self {
            redis,
            pending: Mutex::new(Pending::default()),
            has_pending: AtomicBool::new(false),
        }
    }

    pub(super) fn is_up(&self) -> bool {
        self.redis.is_up()
    }

    fn pending(&self) -> MutexGuard<'_, Pending> {
        // The lock is never held across a panic point that could leave `Pending` inconsistent:
        // every critical section is a few map operations.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn remember(&self, write: impl FnOnce(&mut Pending)) {
        let mut pending = self.pending();
        write(&mut pending);
        self.has_pending
            .store(!pending.is_empty(), Ordering::Relaxed);
    }

    /// Writes what Redis missed during an outage, once it answers again. Runs before every
    /// operation so the missed writes land before newer ones; a write made concurrently with
    /// the replay on the same key may still be overtaken by it, which only the first moment
    /// after an outage can see.
    async fn replay(&self) {
        if !self.has_pending.load(Ordering::Relaxed) || !self.redis.is_up() {
            return;
        }
        let batch = {
            let mut pending = self.pending();
            self.has_pending.store(false, Ordering::Relaxed);
            std::mem::take(&mut *pending)
        };
        if batch.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut pipe = redis::pipe();
        for key in &batch.resets {
            pipe.cmd("DEL").arg(backlog_key(*key)).ignore();
        }
        for (key, until) in &batch.blocks {
            match until.map(|u| u.saturating_duration_since(now)) {
                Some(left) if !left.is_zero() => {
                    pipe.cmd("SET")
                        .arg(block_key(*key))
                        .arg(1)
                        .arg("PX")
                        .arg(millis_ceil(left))
                        .ignore();
                }
                // Lifted, or ran out during the outage: either way it must not outlive it.
                _ => {
                    pipe.cmd("DEL").arg(block_key(*key)).ignore();
                }
            }
        }
        let written = self
            .redis
            .call("rate limit replay", |mut c| async move {
                pipe.query_async::<()>(&mut c).await
            })
            .await;
        if written.is_some() {
            tracing::info!(
                resets = batch.resets.len(),
                blocks = batch.blocks.len(),
                "rate-limit writes made during the redis outage are now shared"
            );
            return;
        }
        // Still down: keep them, unless a newer write on the same key came in meanwhile.
        self.remember(|pending| {
            pending.resets.extend(batch.resets);
            for (key, until) in batch.blocks {
                pending.blocks.entry(key).or_insert(until);
            }
        });
    }

    pub(super) async fn step(
        &self,
        key: KeyHash,
        interval: u64,
        tolerance: u64,
        count: bool,
    ) -> Option<Step> {
        self.replay().await;
        let key = backlog_key(key);
        let (allowed, backlog) = self
            .redis
            .call("rate limit step", |mut c| async move {
                STEP.key(key)
                    .arg(interval)
                    .arg(tolerance)
                    .arg(u8::from(count))
                    .invoke_async::<(i64, i64)>(&mut c)
                    .await
            })
            .await?;
        Some(Step {
            allowed: allowed == 1,
            backlog: u64::try_from(backlog).unwrap_or(0),
        })
    }

    pub(super) async fn reset(&self, key: KeyHash) {
        self.replay().await;
        let name = backlog_key(key);
        let done = self
            .redis
            .call("rate limit reset", |mut c| async move {
                redis::cmd("DEL").arg(name).query_async::<()>(&mut c).await
            })
            .await;
        if done.is_none() {
            self.remember(|p| p.add_reset(key));
        }
    }

    pub(super) async fn block(&self, key: KeyHash, duration: Duration) {
        self.replay().await;
        let name = block_key(key);
        let millis = millis_ceil(duration);
        let done = self
            .redis
            .call("rate limit block", |mut c| async move {
                redis::cmd("SET")
                    .arg(name)
                    .arg(1)
                    .arg("PX")
                    .arg(millis)
                    .query_async::<()>(&mut c)
                    .await
            })
            .await;
        // `duration` is at most `super::LONGEST`, so the instant cannot overflow.
        self.settle_block(key, done, Some(Instant::now() + duration));
    }

    pub(super) async fn unblock(&self, key: KeyHash) {
        self.replay().await;
        let name = block_key(key);
        let done = self
            .redis
            .call("rate limit unblock", |mut c| async move {
                redis::cmd("DEL").arg(name).query_async::<()>(&mut c).await
            })
            .await;
        self.settle_block(key, done, None);
    }

    /// Keeps a block or unblock Redis missed; forgets an older missed one Redis now overrode.
    fn settle_block(&self, key: KeyHash, done: Option<()>, until: Option<Instant>) {
        if done.is_some() {
            if self.has_pending.load(Ordering::Relaxed) {
                self.remember(|p| {
                    p.blocks.remove(&key);
                });
            }
        } else {
            self.remember(|p| p.add_block(key, until));
        }
    }

    /// `Some(None)` when Redis answered that the key is not blocked.
    pub(super) async fn blocked_for(&self, key: KeyHash) -> Option<Option<Duration>> {
        self.replay().await;
        let name = block_key(key);
        let ttl = self
            .redis
            .call("rate limit blocked_for", |mut c| async move {
                redis::cmd("PTTL")
                    .arg(name)
                    .query_async::<i64>(&mut c)
                    .await
            })
            .await?;
        // -2: no such key; -1: no expiry, which `block` never writes, so not a block of ours.
        Some(
            u64::try_from(ttl)
                .ok()
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_namespaced_and_bounded() {
        let key = KeyHash::of(&"x".repeat(100_000));
        assert_eq!(backlog_key(key).len(), "caravan:rl:gcra:".len() + 32);
        assert!(block_key(key).starts_with("caravan:rl:block:"));
        assert_ne!(backlog_key(key), backlog_key(KeyHash::of("y")));
    }

    #[test]
    fn expiries_are_rounded_up_to_a_whole_millisecond() {
        assert_eq!(millis_ceil(Duration::ZERO), 1);
        assert_eq!(millis_ceil(Duration::from_micros(1)), 1);
        assert_eq!(millis_ceil(Duration::from_micros(1_001)), 2);
        assert_eq!(millis_ceil(Duration::from_secs(60)), 60_000);
    }

    #[test]
    fn missed_writes_keep_the_latest_per_key_within_a_bound() {
        let mut pending = Pending::default();
        let (a, b) = (KeyHash::of("a"), KeyHash::of("b"));
        pending.add_block(a, Some(Instant::now()));
        pending.add_block(a, None);
        pending.add_block(b, Some(Instant::now()));
        assert_eq!(pending.blocks.len(), 2);
        assert_eq!(pending.blocks[&a], None);

        for i in 0..MAX_PENDING + 10 {
            pending.add_reset(KeyHash::of(&i.to_string()));
            pending.add_block(KeyHash::of(&i.to_string()), None);
        }
        assert_eq!(pending.resets.len(), MAX_PENDING);
        assert_eq!(pending.blocks.len(), MAX_PENDING);
        assert!(pending.overflowed);
        // A key already kept is still updated when the rest is full.
        pending.add_block(a, Some(Instant::now()));
        assert!(pending.blocks[&a].is_some());
    }
}
