//! Rate limits and lockouts: how many hits a key may make per window, shared by every host through
//! Redis when it is configured and counted in-process otherwise.
//!
//! # Algorithm
//!
//! Hits are paced with the generic cell rate algorithm (GCRA). A rule of `limit` hits per `window`
//! gives every hit a cost of `window / limit`; a key keeps one number, its *backlog*: how far its
//! accepted hits reach into the future. A hit is allowed when the backlog leaves room for it
//! within the window, and then adds its cost; time drains the backlog. So a fresh key may spend
//! its whole `limit` at once, and after that gets one hit back every `window / limit`: a key is
//! never allowed more than `limit` hits in a burst, nor more than `limit` per `window` over
//! time. The most any stretch of one `window` can see is a full burst followed by its paced
//! refills (`2 × limit − 1`, spread over the window), where fixed windows allow `2 × limit` back
//! to back at a boundary. Refused hits change nothing, so a client hammering a limited key is
//! let back in on time.
//!
//! One number per key keeps both stores simple and exactly alike: Redis runs the same step in a
//! Lua script on its own clock (so hosts with skewed clocks agree), and the in-process store runs
//! it under moka's per-key lock.
//!
//! # When Redis is down
//!
//! When Redis is configured but does not answer, each call falls back to the in-process store
//! for that call and goes back to Redis as soon as it answers again. The request is never failed
//! and waits at most the Redis command timeout. The cost is that during an outage every host
//! counts alone: a client spreading its hits over `n` hosts gets up to `n` times its limit, and
//! hits counted in-process are not carried over to Redis afterwards. Blocks are also kept in
//! the process that set them, so a host keeps enforcing its own lockouts through an outage but
//! does not see those set elsewhere. Resets, blocks and unblocks that Redis missed are written
//! to it once it answers again, so a lockout set or lifted during an outage does not end with it.
//!
//! Keys may be anything (emails, IP addresses): they are hashed, so what reaches Redis and memory
//! is bounded in size and does not reveal them.

mod memory;
mod shared;

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::redis::Redis;
use memory::Memory;
use shared::Shared;

/// Longest block and window honoured; longer ones are shortened to this. It keeps instants and
/// Redis's microsecond timestamps far from overflow and precision loss.
const LONGEST: Duration = Duration::from_secs(10 * 365 * 24 * 3_600);

/// A limit: at most `limit` hits per `window`.
///
/// A key should always be counted under the same rule: its state is the backlog of earlier hits,
/// which a different rule would read differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub limit: u32,
    pub window: Duration,
}

impl Rule {
    pub const fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window }
    }

    pub const fn per_second(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(1))
    }

    pub const fn per_minute(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(60))
    }

    pub const fn per_hour(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(3_600))
    }

    /// The cost of one hit in microseconds, rounded up so that rounding never allows more than
    /// `limit` per `window`, and at least 1 so that every hit counts. `None` for a zero limit.
    fn interval_micros(self) -> Option<u64> {
        if self.limit == 0 {
            return None;
        }
        let window = micros(self.window.min(LONGEST));
        Some(window.div_ceil(u64::from(self.limit)).max(1))
    }
}

/// The outcome of counting one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    /// Hits left in the current window after this one (0 when refused).
    pub remaining: u32,
    /// When refused, how long until a hit is allowed again (the `Retry-After`); when allowed,
    /// how long until the whole `limit` is available again (zero for an unused key).
    pub reset_after: Duration,
}

impl Decision {
    /// `reset_after` in whole seconds, rounded up and at least 1, for a `Retry-After` header: a
    /// client that waits exactly that long is not refused again for waiting too little.
    pub fn retry_after_secs(&self) -> u64 {
        let secs = self.reset_after.as_secs();
        let secs = if self.reset_after.subsec_nanos() > 0 {
            secs + 1
        } else {
            secs
        };
        secs.max(1)
    }

    /// Reads a key's state as left by a GCRA step (`allowed`, and its backlog in microseconds
    /// afterwards). Both stores report in these terms, so they produce identical decisions.
    fn from_step(rule: Rule, interval: u64, step: Step) -> Self {
        let tolerance = tolerance_micros(rule, interval);
        if !step.allowed {
            return Self {
                allowed: false,
                limit: rule.limit,
                remaining: 0,
                reset_after: Duration::from_micros(step.backlog.saturating_sub(tolerance)),
            };
        }
        let used = step.backlog.div_ceil(interval);
        let remaining = u64::from(rule.limit).saturating_sub(used);
        Self {
            allowed: true,
            limit: rule.limit,
            remaining: u32::try_from(remaining).unwrap_or(rule.limit),
            reset_after: Duration::from_micros(step.backlog),
        }
    }

    /// What a rule that allows nothing answers, without asking any store.
    fn never(rule: Rule) -> Self {
        Self {
            allowed: false,
            limit: 0,
            remaining: 0,
            reset_after: rule.window,
        }
    }
}

/// The result of one GCRA step on a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Step {
    /// Whether the hit was (or, when peeking, would be) allowed.
    allowed: bool,
    /// How far the key's accepted hits reach past now, in microseconds, after the step.
    backlog: u64,
}

/// How far the backlog may reach for a hit still to be allowed: room for `limit - 1` more hits.
fn tolerance_micros(rule: Rule, interval: u64) -> u64 {
    u64::from(rule.limit.saturating_sub(1)).saturating_mul(interval)
}

/// One GCRA step: `backlog` is the key's backlog now (zero when it has none). Mirrored by the Lua
/// script in `shared.rs`; the e2e suite checks that both stores decide alike.
fn step(backlog: u64, interval: u64, tolerance: u64, count: bool) -> Step {
    if backlog > tolerance {
        return Step {
            allowed: false,
            backlog,
        };
    }
    Step {
        allowed: true,
        backlog: if count {
            backlog.saturating_add(interval)
        } else {
            backlog
        },
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// A caller's key, hashed: fixed-size, safe in a Redis key, and not the email or address itself.
/// 128 bits leave collisions out of reach for any number of keys a limiter will see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct KeyHash([u8; 16]);

impl KeyHash {
    fn of(key: &str) -> Self {
        let digest = Sha256::digest(key.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Self(bytes)
    }

    fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Counts hits per key and keeps lockouts; cheap to clone, every clone shares the same state.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Option<Shared>,
    /// The store when there is no Redis; the fallback while it is unreachable.
    memory: Memory,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("mode", &self.mode())
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// Shared through Redis when given, else in-process.
    pub fn new(redis: Option<Arc<Redis>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                shared: redis.map(Shared::new),
                memory: Memory::new(),
            }),
        }
    }

    /// Which store is answering: `redis`, `memory`, or `memory-fallback` during an outage.
    pub fn mode(&self) -> &'static str {
        match &self.inner.shared {
            None => "memory",
            Some(shared) if shared.is_up() => "redis",
            Some(_) => "memory-fallback",
        }
    }

    /// Counts one hit on `key` under `rule` and says whether it is allowed. A refused hit is not
    /// counted.
    pub async fn hit(&self, key: &str, rule: Rule) -> Decision {
        self.apply(key, rule, true).await
    }

    /// The state of `key` without counting a hit: `allowed` says whether a hit now would be.
    pub async fn peek(&self, key: &str, rule: Rule) -> Decision {
        self.apply(key, rule, false).await
    }

    async fn apply(&self, key: &str, rule: Rule, count: bool) -> Decision {
        let Some(interval) = rule.interval_micros() else {
            return Decision::never(rule);
        };
        let tolerance = tolerance_micros(rule, interval);
        let hash = KeyHash::of(key);
        let shared = match &self.inner.shared {
            Some(shared) => shared.step(hash, interval, tolerance, count).await,
            None => None,
        };
        let step = match shared {
            Some(step) => step,
            None => {
                self.inner
                    .memory
                    .step(hash, interval, tolerance, count)
                    .await
            }
        };
        Decision::from_step(rule, interval, step)
    }

    /// Forgets the hits of `key` (e.g. after a successful login).
    pub async fn reset(&self, key: &str) {
        let hash = KeyHash::of(key);
        // The in-process copy goes too, so that a later outage does not bring old hits back.
        self.inner.memory.reset(hash).await;
        if let Some(shared) = &self.inner.shared {
            shared.reset(hash).await;
        }
    }

    /// Blocks `key` for `duration` (lockouts); overwrites a shorter or longer existing block. A
    /// zero duration lifts the block. Blocks are independent of counting: `hit` does not consult
    /// them, callers check `blocked_for` where a lockout applies.
    pub async fn block(&self, key: &str, duration: Duration) {
        if duration.is_zero() {
            return self.unblock(key).await;
        }
        let duration = duration.min(LONGEST);
        let hash = KeyHash::of(key);
        // Kept in-process as well, so this host still enforces the lockout through an outage.
        self.inner.memory.block(hash, duration).await;
        if let Some(shared) = &self.inner.shared {
            shared.block(hash, duration).await;
        }
    }

    /// How long `key` stays blocked, if it is.
    pub async fn blocked_for(&self, key: &str) -> Option<Duration> {
        let hash = KeyHash::of(key);
        if let Some(shared) = &self.inner.shared {
            // Redis is the authority while it answers: another host may have lifted the block.
            if let Some(answer) = shared.blocked_for(hash).await {
                return answer;
            }
        }
        self.inner.memory.blocked_for(hash).await
    }

    /// Lifts a block.
    pub async fn unblock(&self, key: &str) {
        let hash = KeyHash::of(key);
        self.inner.memory.unblock(hash).await;
        if let Some(shared) = &self.inner.shared {
            shared.unblock(hash).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn limiter() -> RateLimiter {
        RateLimiter::new(None)
    }

    /// A rule whose hits each cost 100 ms.
    const THREE_PER_300_MS: Rule = Rule::new(3, Duration::from_millis(300));

    #[tokio::test]
    async fn hits_up_to_the_limit_are_allowed_and_the_next_is_refused_until_a_hit_is_due() {
        let limiter = limiter();
        let mut remaining = Vec::new();
        for _ in 0..3 {
            let decision = limiter.hit("k", THREE_PER_300_MS).await;
            assert!(decision.allowed, "{decision:?}");
            assert_eq!(decision.limit, 3);
            remaining.push(decision.remaining);
        }
        assert_eq!(remaining, [2, 1, 0]);

        let refused = limiter.hit("k", THREE_PER_300_MS).await;
        assert!(!refused.allowed, "{refused:?}");
        assert_eq!(refused.remaining, 0);
        // Three hits of 100 ms each leave a 300 ms backlog; one more fits once it is down to 200.
        assert!(
            refused.reset_after > Duration::ZERO
                && refused.reset_after <= Duration::from_millis(100),
            "{refused:?}"
        );
        assert_eq!(refused.retry_after_secs(), 1);

        tokio::time::sleep(refused.reset_after).await;
        assert!(limiter.hit("k", THREE_PER_300_MS).await.allowed);
        assert!(!limiter.hit("k", THREE_PER_300_MS).await.allowed);
    }

    #[tokio::test]
    async fn the_whole_limit_is_available_again_once_the_window_has_passed() {
        let limiter = limiter();
        let mut last = None;
        for _ in 0..3 {
            last = Some(limiter.hit("k", THREE_PER_300_MS).await);
        }
        let last = last.unwrap();
        assert_eq!(last.remaining, 0);
        assert!(
            last.reset_after > Duration::from_millis(200)
                && last.reset_after <= Duration::from_millis(300),
            "{last:?}"
        );
        assert!(!limiter.hit("k", THREE_PER_300_MS).await.allowed);

        tokio::time::sleep(Duration::from_millis(320)).await;
        let fresh = limiter.peek("k", THREE_PER_300_MS).await;
        assert_eq!(
            (fresh.allowed, fresh.remaining, fresh.reset_after),
            (true, 3, Duration::ZERO)
        );
        for expected in [2, 1, 0] {
            let decision = limiter.hit("k", THREE_PER_300_MS).await;
            assert_eq!((decision.allowed, decision.remaining), (true, expected));
        }
    }

    #[tokio::test]
    async fn refused_hits_do_not_push_the_window_back() {
        let limiter = limiter();
        // Hits cost 200 ms each: after three, the next is due in 200 ms.
        let rule = Rule::new(3, Duration::from_millis(600));
        let started = Instant::now();
        for _ in 0..3 {
            assert!(limiter.hit("k", rule).await.allowed);
        }
        // Hammer the key for a while: none of this may count.
        let mut refused = 0;
        while started.elapsed() < Duration::from_millis(150) {
            assert!(!limiter.hit("k", rule).await.allowed);
            refused += 1;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(refused > 10, "{refused}");
        let window_passed = started + Duration::from_millis(620);
        tokio::time::sleep(window_passed.saturating_duration_since(Instant::now())).await;
        for _ in 0..3 {
            assert!(limiter.hit("k", rule).await.allowed);
        }
    }

    #[tokio::test]
    async fn peeking_reports_the_state_without_counting_a_hit() {
        let limiter = limiter();
        let rule = Rule::per_minute(2);
        let unused = limiter.peek("k", rule).await;
        assert_eq!(
            unused,
            Decision {
                allowed: true,
                limit: 2,
                remaining: 2,
                reset_after: Duration::ZERO
            }
        );
        limiter.hit("k", rule).await;
        for _ in 0..3 {
            let peeked = limiter.peek("k", rule).await;
            assert_eq!((peeked.allowed, peeked.remaining), (true, 1));
        }
        limiter.hit("k", rule).await;
        let spent = limiter.peek("k", rule).await;
        assert_eq!((spent.allowed, spent.remaining), (false, 0));
        // Each hit costs 30 s; the next one fits once the 60 s backlog is down to 30 s.
        assert!(
            spent.reset_after > Duration::from_secs(29)
                && spent.reset_after <= Duration::from_secs(30),
            "{spent:?}"
        );
    }

    #[tokio::test]
    async fn keys_are_counted_separately() {
        let limiter = limiter();
        let rule = Rule::per_minute(1);
        assert!(limiter.hit("login:a@example.com", rule).await.allowed);
        assert!(!limiter.hit("login:a@example.com", rule).await.allowed);
        assert!(limiter.hit("login:b@example.com", rule).await.allowed);
    }

    #[tokio::test]
    async fn a_reset_forgets_the_hits_of_a_key() {
        let limiter = limiter();
        let rule = Rule::per_minute(2);
        limiter.hit("k", rule).await;
        limiter.hit("k", rule).await;
        limiter.hit("other", rule).await;
        assert!(!limiter.hit("k", rule).await.allowed);

        limiter.reset("k").await;
        assert_eq!(limiter.hit("k", rule).await.remaining, 1);
        assert_eq!(limiter.peek("other", rule).await.remaining, 1);
    }

    #[tokio::test]
    async fn a_block_lasts_its_duration_and_can_be_lifted_or_replaced() {
        let limiter = limiter();
        assert_eq!(limiter.blocked_for("k").await, None);

        limiter.block("k", Duration::from_secs(60)).await;
        let left = limiter.blocked_for("k").await.unwrap();
        assert!(left > Duration::from_secs(59) && left <= Duration::from_secs(60));
        assert_eq!(limiter.blocked_for("other").await, None);

        // A new block replaces the old one, shorter or longer.
        limiter.block("k", Duration::from_millis(200)).await;
        let left = limiter.blocked_for("k").await.unwrap();
        assert!(left <= Duration::from_millis(200), "{left:?}");
        tokio::time::sleep(Duration::from_millis(230)).await;
        assert_eq!(limiter.blocked_for("k").await, None);

        limiter.block("k", Duration::from_secs(60)).await;
        limiter.unblock("k").await;
        assert_eq!(limiter.blocked_for("k").await, None);

        limiter.block("k", Duration::from_secs(60)).await;
        limiter.block("k", Duration::ZERO).await;
        assert_eq!(limiter.blocked_for("k").await, None);
    }

    #[tokio::test]
    async fn blocks_and_hits_do_not_affect_each_other() {
        let limiter = limiter();
        let rule = Rule::per_minute(1);
        limiter.block("k", Duration::from_secs(60)).await;
        assert!(limiter.hit("k", rule).await.allowed);
        limiter.reset("k").await;
        assert!(limiter.blocked_for("k").await.is_some());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_concurrent_burst_is_allowed_exactly_the_limit() {
        let limiter = limiter();
        let rule = Rule::per_minute(10);
        let hits = (0..200).map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.hit("burst", rule).await })
        });
        let decisions = futures::future::join_all(hits).await;
        let allowed = decisions
            .into_iter()
            .map(|d| d.unwrap())
            .filter(|d| d.allowed)
            .count();
        assert_eq!(allowed, 10);
    }

    #[tokio::test]
    async fn a_zero_limit_refuses_everything() {
        let limiter = limiter();
        let decision = limiter.hit("k", Rule::per_minute(0)).await;
        assert_eq!(
            decision,
            Decision {
                allowed: false,
                limit: 0,
                remaining: 0,
                reset_after: Duration::from_secs(60)
            }
        );
    }

    #[test]
    fn a_burst_of_exactly_the_limit_fits_whatever_the_rounding() {
        for (limit, window) in [(3, 1_000), (7, 1_000), (1_000, 1), (1, 1), (60, 59_999)] {
            let rule = Rule::new(limit, Duration::from_micros(window));
            let interval = rule.interval_micros().unwrap();
            let tolerance = tolerance_micros(rule, interval);
            let mut backlog = 0;
            for hit in 0..limit {
                let s = step(backlog, interval, tolerance, true);
                assert!(s.allowed, "{rule:?}: hit {hit} refused");
                let decision = Decision::from_step(rule, interval, s);
                assert_eq!(decision.remaining, limit - hit - 1, "{rule:?}");
                backlog = s.backlog;
            }
            assert!(
                !step(backlog, interval, tolerance, true).allowed,
                "{rule:?}"
            );
            // Rounding the cost up means the limit is never exceeded over the window.
            assert!(
                u64::from(limit) * interval >= micros(rule.window),
                "{rule:?}"
            );
        }
    }

    #[test]
    fn retry_after_is_rounded_up_to_whole_seconds_and_never_zero() {
        let after = |ms| Decision {
            allowed: false,
            limit: 1,
            remaining: 0,
            reset_after: Duration::from_millis(ms),
        };
        assert_eq!(after(0).retry_after_secs(), 1);
        assert_eq!(after(1).retry_after_secs(), 1);
        assert_eq!(after(1_000).retry_after_secs(), 1);
        assert_eq!(after(1_001).retry_after_secs(), 2);
        assert_eq!(after(59_999).retry_after_secs(), 60);
    }

    #[test]
    fn keys_of_any_size_and_characters_hash_to_short_hex() {
        let long = "é@\u{0}:*\n ".repeat(10_000);
        for key in ["", "a@example.com", "203.0.113.7", long.as_str()] {
            let hex = KeyHash::of(key).hex();
            assert_eq!(hex.len(), 32);
            assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{hex}");
        }
        assert_ne!(KeyHash::of("a"), KeyHash::of("b"));
        assert_eq!(KeyHash::of("a"), KeyHash::of("a"));
    }
}
