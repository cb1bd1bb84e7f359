//! One protected upstream: every call runs under an overall deadline, transient failures are
//! retried with the shared [`RetryPolicy`], and the upstream's circuit [`Breaker`]
//! (consecutive failures, shared with the other upstreams' clients in [`crate::breaker`])
//! stops calling an upstream that keeps failing. Its state is a Prometheus gauge and part of
//! `/health/ready`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::breaker::{BreakerSettings, CircuitState, OpenPeriods};

use super::{AiError, UnavailableReason};
use crate::breaker::Breaker;
use crate::metrics::Metrics;
use crate::retry::{Retry, RetryPolicy};

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

/// One upstream (`openai`): its breaker, retry policy and metrics.
#[derive(Debug, Clone)]
pub struct Upstream {
    name: &'static str,
    breaker: Breaker,
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
        Self {
            name,
            breaker: Breaker::new(name, breaker, &metrics),
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
        self.breaker.state()
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
