//! A circuit breaker per upstream (OpenAI, SendGrid or SMTP, GCS): a `failsafe` state machine
//! that opens after consecutive failures, stays open for a jittered period that doubles while
//! trial calls keep failing, and mirrors every transition into the
//! `caravan_upstream_circuit_state` gauge and an atomic that `/health/ready` reads.
//!
//! The breaker decides nothing about retries: each client asks [`Breaker::is_call_permitted`]
//! before a request, then reports the outcome with [`Breaker::on_success`] or
//! [`Breaker::on_error`]. Which failures count against the upstream is the client's call
//! (a 401 is the caller's fault; a 503 is the upstream's).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use failsafe::failure_policy::ConsecutiveFailures;
use failsafe::{Instrument, StateMachine};
use prometheus::IntGauge;

use crate::metrics::Metrics;

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

impl BreakerSettings {
    /// Settings from the `breaker_failures`, `breaker_open_min_ms` and `breaker_open_max_ms`
    /// keys every upstream's configuration section uses.
    pub fn from_ms(failures: u32, open_min_ms: u64, open_max_ms: u64) -> Self {
        Self {
            failures,
            open_min: Duration::from_millis(open_min_ms),
            open_max: Duration::from_millis(open_max_ms),
        }
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

type Machine = StateMachine<ConsecutiveFailures<OpenPeriods>, Probe>;

/// The circuit breaker of one upstream; clones share the same circuit.
#[derive(Debug, Clone)]
pub struct Breaker {
    name: &'static str,
    machine: Machine,
    state: Arc<AtomicU8>,
    settings: BreakerSettings,
}

impl Breaker {
    /// A closed breaker for `upstream` (the gauge's label: `openai`, `sendgrid`, `smtp`,
    /// `gcs`), whose gauge in `metrics` reads 0 from now on.
    pub fn new(upstream: &'static str, settings: BreakerSettings, metrics: &Metrics) -> Self {
        let state = Arc::new(AtomicU8::new(0));
        let probe = Probe {
            upstream,
            state: state.clone(),
            gauge: metrics.upstream_circuit(upstream),
        };
        let backoff = OpenPeriods::new(settings.open_min, settings.open_max);
        let policy =
            failsafe::failure_policy::consecutive_failures(settings.failures.max(1), backoff);
        // `build` reports the initial closed state, which sets the gauge to 0.
        let machine = failsafe::Config::new()
            .failure_policy(policy)
            .instrument(probe)
            .build();
        Self {
            name: upstream,
            machine,
            state,
            settings,
        }
    }

    /// The upstream's name, as in the gauge's label.
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn settings(&self) -> BreakerSettings {
        self.settings
    }

    /// Whether a request may be sent now. An open circuit whose period is over turns
    /// half-open here and lets the call through as a trial.
    pub fn is_call_permitted(&self) -> bool {
        self.machine.is_call_permitted()
    }

    /// The upstream answered (a refusal of a bad request counts too): a half-open circuit
    /// closes, the count of consecutive failures starts again.
    pub fn on_success(&self) {
        self.machine.on_success();
    }

    /// The upstream failed (connection, timeout, 429, 5xx): one more consecutive failure, or,
    /// half-open, the circuit opens again for a longer period.
    pub fn on_error(&self) {
        self.machine.on_error();
    }

    /// The state as of the last transition. An open circuit whose period is over reads
    /// `open` until the next call finds it half-open.
    pub fn state(&self) -> CircuitState {
        CircuitState::from_u8(self.state.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn breaker(metrics: &Metrics) -> Breaker {
        Breaker::new(
            "sendgrid",
            BreakerSettings {
                failures: 3,
                open_min: ms(40),
                open_max: ms(80),
            },
            metrics,
        )
    }

    fn gauge(metrics: &Metrics) -> String {
        metrics
            .render()
            .lines()
            .find(|l| l.starts_with("caravan_upstream_circuit_state{upstream=\"sendgrid\"}"))
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn open_periods_double_from_the_minimum_with_jitter_and_stop_at_the_maximum() {
        let periods: Vec<_> = OpenPeriods::new(ms(100), ms(500)).take(6).collect();
        let bases = [100, 200, 400, 500, 500, 500];
        for (period, base) in periods.iter().zip(bases) {
            assert!(*period >= ms(base), "{period:?} < {base} ms");
            assert!(*period <= ms(base * 3 / 2).min(ms(500)), "{period:?}");
        }
    }

    #[test]
    fn a_new_breaker_is_closed_and_its_gauge_reads_zero() {
        let metrics = Metrics::new();
        let breaker = breaker(&metrics);
        assert_eq!(breaker.state(), CircuitState::Closed);
        assert!(breaker.is_call_permitted());
        assert_eq!(
            gauge(&metrics),
            "caravan_upstream_circuit_state{upstream=\"sendgrid\"} 0"
        );
    }

    #[test]
    fn consecutive_failures_open_the_circuit_and_a_success_between_them_resets_the_count() {
        let metrics = Metrics::new();
        let breaker = breaker(&metrics);
        breaker.on_error();
        breaker.on_error();
        breaker.on_success();
        breaker.on_error();
        breaker.on_error();
        assert_eq!(breaker.state(), CircuitState::Closed);
        breaker.on_error();
        assert_eq!(breaker.state(), CircuitState::Open);
        assert!(
            !breaker.is_call_permitted(),
            "an open circuit refuses calls"
        );
        assert!(gauge(&metrics).ends_with(" 2"), "{}", gauge(&metrics));
    }

    #[test]
    fn after_the_open_period_a_trial_call_half_opens_and_a_success_closes() {
        let metrics = Metrics::new();
        let breaker = breaker(&metrics);
        for _ in 0..3 {
            breaker.on_error();
        }
        std::thread::sleep(ms(80));
        assert_eq!(breaker.state(), CircuitState::Open, "until a call looks");
        assert!(breaker.is_call_permitted());
        assert_eq!(breaker.state(), CircuitState::HalfOpen);
        assert!(gauge(&metrics).ends_with(" 1"), "{}", gauge(&metrics));
        breaker.on_success();
        assert_eq!(breaker.state(), CircuitState::Closed);
        assert!(gauge(&metrics).ends_with(" 0"), "{}", gauge(&metrics));
    }

    #[test]
    fn a_failed_trial_opens_the_circuit_again_at_once() {
        let metrics = Metrics::new();
        let breaker = breaker(&metrics);
        for _ in 0..3 {
            breaker.on_error();
        }
        std::thread::sleep(ms(80));
        assert!(breaker.is_call_permitted());
        breaker.on_error();
        assert_eq!(breaker.state(), CircuitState::Open);
        assert!(!breaker.is_call_permitted());
    }

    #[test]
    fn clones_share_one_circuit() {
        let metrics = Metrics::new();
        let breaker = breaker(&metrics);
        let other = breaker.clone();
        for _ in 0..3 {
            other.on_error();
        }
        assert_eq!(breaker.state(), CircuitState::Open);
        assert_eq!(breaker.name(), "sendgrid");
    }
}
