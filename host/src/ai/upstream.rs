//! One protected upstream: every call runs under an overall deadline, transient failures are
//! retried with the shared [`RetryPolicy`], and a `failsafe` circuit breaker (consecutive
//! failures) stops calling an upstream that keeps failing. Its state is a Prometheus gauge
//! and part of `/health/ready`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use failsafe::failure_policy::ConsecutiveFailures;
use failsafe::{Instrument, StateMachine};
use prometheus::IntGauge;

use super::{AiError, UnavailableReason};
use crate::metrics::Metrics;
use crate::retry::{Retry, RetryPolicy};

/// What the circuit breaker of an upstream currently lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// Calls go through.
    Closed,
    /// The open period is over: trial calls go through; one success closes the circuit,
    /// one failure opens it again for a longer period.
    HalfOpen,
    /// Calls fail at once, without a request, until the open period ends.
    Open,
}

impl CircuitState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::HalfOpen => "half_open",
            Self::Open => "open",
        }
    }

    /// The value of the `caravan_upstream_circuit_state` gauge.
    pub fn gauge_value(self) -> i64 {
        match self {
            Self::Closed => 0,
            Self::HalfOpen => 1,
            Self::Open => 2,
        }
    }

    fn from_u8(value: u8) -> Self {
        match value {
            1 => Self::HalfOpen,
            2 => Self::Open,
            _ => Self::Closed,
        }
    }
}

/// The circuit breaker's transitions, mirrored into an atomic (for health details) and the
/// gauge (for `/metrics`).
#[derive(Debug, Clone)]
struct Probe {
    upstream: &'static str,
    state: Arc<AtomicU8>,
    gauge: IntGauge,
}

impl Probe {
    fn set(&self, state: CircuitState) {
        self.state
            .store(state.gauge_value() as u8, Ordering::Relaxed);
        self.gauge.set(state.gauge_value());
    }
}

impl Instrument for Probe {
    fn on_call_rejected(&self) {}

    fn on_open(&self) {
        tracing::warn!(upstream = self.upstream, "circuit opened: calls fail fast");
        self.set(CircuitState::Open);
    }

    fn on_half_open(&self) {
        tracing::info!(
            upstream = self.upstream,
            "circuit half-open: trying the upstream"
        );
        self.set(CircuitState::HalfOpen);
    }

    fn on_closed(&self) {
        if CircuitState::from_u8(self.state.load(Ordering::Relaxed)) != CircuitState::Closed {
            tracing::info!(
                upstream = self.upstream,
                "circuit closed: upstream recovered"
            );
        }
        self.set(CircuitState::Closed);
    }
}

/// The open periods of a circuit: `open_min`, doubling while trial calls keep failing, up to
/// `open_max`, each stretched by a random 0–50 % so hosts that opened together do not all
/// retry at once (and capped at `open_max`). failsafe's own backoffs count in whole seconds,
/// too coarse for tests that play an outage out in milliseconds.
#[derive(Debug, Clone)]
pub struct OpenPeriods {
    next: Duration,
    max: Duration,
}

impl OpenPeriods {
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            next: min.max(Duration::from_millis(1)),
            max: max.max(min),
        }
    }
}

impl Iterator for OpenPeriods {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let base = self.next.min(self.max);
        self.next = base.saturating_mul(2).min(self.max);
        let stretched = base + base.mul_f64(rand::random::<f64>() * 0.5);
        Some(stretched.min(self.max))
    }
}

/// How the breaker of an upstream behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive failed requests that open the circuit.
    pub failures: u32,
    /// The first open period lasts between this and 1.5 times this (capped by `open_max`).
    pub open_min: Duration,
    /// The longest open period, reached while trial requests keep failing.
    pub open_max: Duration,
}

/// Why one request failed, as the retry loop sees it.
#[derive(Debug)]
pub(crate) struct Failure {
    /// Whether another attempt may help.
    pub retry: Retry,
    /// The label of `caravan_upstream_failures_total`.
    pub kind: &'static str,
    /// For logs and the final error.
    pub message: String,
    /// Whether the failure says the upstream is unwell (and counts towards opening the
    /// circuit). A 400 or 401 is the caller's problem: the upstream answered.
    pub counts_against_upstream: bool,
    /// The error to return if this is the last attempt.
    pub terminal: Option<AiError>,
}

type Breaker = StateMachine<ConsecutiveFailures<OpenPeriods>, Probe>;

/// One upstream (`openai`): its breaker, retry policy and metrics.
#[derive(Debug, Clone)]
pub struct Upstream {
    name: &'static str,
    breaker: Breaker,
    state: Arc<AtomicU8>,
    policy: RetryPolicy,
    metrics: Arc<Metrics>,
}

impl Upstream {
    pub fn new(
        name: &'static str,
        policy: RetryPolicy,
        breaker: BreakerSettings,
        metrics: Arc<Metrics>,
    ) -> Self {
        let state = Arc::new(AtomicU8::new(0));
        let probe = Probe {
            upstream: name,
            state: state.clone(),
            gauge: metrics.upstream_circuit(name),
        };
        let backoff = OpenPeriods::new(breaker.open_min, breaker.open_max);
        let policy_breaker =
            failsafe::failure_policy::consecutive_failures(breaker.failures.max(1), backoff);
        let breaker = failsafe::Config::new()
            .failure_policy(policy_breaker)
            .instrument(probe)
            .build();
        Self {
            name,
            breaker,
            state,
            policy,
            metrics,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The breaker's state as of its last transition. An open circuit whose period is over
    /// reads `open` until the next call finds it half-open.
    pub fn circuit_state(&self) -> CircuitState {
        CircuitState::from_u8(self.state.load(Ordering::Relaxed))
    }

    /// Counts a call that never reached the upstream (no key configured).
    pub(crate) fn count_skipped(&self, operation: &'static str, outcome: &'static str) {
        self.metrics
            .observe_upstream_call(self.name, operation, outcome);
    }

    /// Runs `attempt` until it succeeds, fails for good, the attempts are spent, the circuit
    /// opens or `deadline` passes — whichever comes first. No attempt and no wait outlives
    /// the deadline. `classify` turns an attempt's error into a [`Failure`].
    pub(crate) async fn call<T, E, F, Fut>(
        &self,
        operation: &'static str,
        deadline: Duration,
        mut attempt: F,
        classify: impl Fn(E) -> Failure,
    ) -> Result<T, AiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let end = Instant::now() + deadline;
        let mut number: u32 = 0;
        loop {
            if !self.breaker.is_call_permitted() {
                self.metrics
                    .observe_upstream_call(self.name, operation, "circuit_open");
                return Err(AiError::Unavailable {
                    reason: UnavailableReason::CircuitOpen,
                });
            }
            number += 1;
            let remaining = end.saturating_duration_since(Instant::now());
            let failure = match tokio::time::timeout(remaining, attempt()).await {
                Ok(Ok(value)) => {
                    self.breaker.on_success();
                    self.metrics
                        .observe_upstream_call(self.name, operation, "ok");
                    return Ok(value);
                }
                Ok(Err(error)) => classify(error),
                Err(_) => Failure {
                    retry: Retry::Transient { after: None },
                    kind: "timeout",
                    message: format!("no answer within the {} ms deadline", deadline.as_millis()),
                    counts_against_upstream: true,
                    terminal: Some(AiError::Unavailable {
                        reason: UnavailableReason::Deadline { deadline },
                    }),
                },
            };
            self.metrics
                .observe_upstream_failure(self.name, failure.kind);
            if failure.counts_against_upstream {
                self.breaker.on_error();
            } else {
                self.breaker.on_success();
            }
            let wait = self
                .policy
                .next_wait(number, failure.retry, rand::random::<f64>());
            let remaining = end.saturating_duration_since(Instant::now());
            let stop = match wait {
                None => Some(failure.terminal.unwrap_or(AiError::Unavailable {
                    reason: UnavailableReason::RetriesExhausted {
                        attempts: number,
                        last_error: failure.message.clone(),
                    },
                })),
                // Waiting past the deadline would only end in the same answer, later.
                Some(wait) if wait >= remaining => Some(AiError::Unavailable {
                    reason: UnavailableReason::Deadline { deadline },
                }),
                Some(_) => None,
            };
            if let Some(error) = stop {
                tracing::warn!(
                    upstream = self.name,
                    operation,
                    attempts = number,
                    error = %failure.message,
                    "upstream call failed"
                );
                self.metrics
                    .observe_upstream_call(self.name, operation, error.outcome());
                return Err(error);
            }
            let wait = wait.unwrap_or_default();
            tracing::info!(
                upstream = self.name,
                operation,
                attempt = number,
                retry_in_ms = wait.as_millis() as u64,
                error = %failure.message,
                "upstream attempt failed; retrying"
            );
            self.metrics.observe_upstream_retry(self.name, operation);
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_periods_double_from_the_minimum_with_jitter_and_stop_at_the_maximum() {
        let ms = Duration::from_millis;
        let periods: Vec<_> = OpenPeriods::new(ms(100), ms(500)).take(6).collect();
        let bases = [100, 200, 400, 500, 500, 500];
        for (period, base) in periods.iter().zip(bases) {
            assert!(*period >= ms(base), "{period:?} < {base} ms");
            assert!(*period <= ms(base * 3 / 2).min(ms(500)), "{period:?}");
        }
    }
}
