//! Prometheus metrics, served as text at `/metrics`.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// Every metric the host exports, registered in its own registry so tests can run several
/// hosts in one process.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    database_up: IntGauge,
    redis_up: IntGauge,
    plugin_calls: IntCounterVec,
    plugin_fuel: HistogramVec,
    upstream_circuit: IntGaugeVec,
    upstream_calls: IntCounterVec,
    upstream_retries: IntCounterVec,
    upstream_failures: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "caravan_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["method", "route", "status"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "caravan_http_request_duration_seconds",
                "HTTP request latency by route and status",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route", "status"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let database_up = IntGauge::new(
            "caravan_database_up",
            "1 when the last readiness check reached the database",
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let redis_up = IntGauge::new(
            "caravan_redis_up",
            "1 when Redis answered the last command (absent when Redis is not configured)",
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let plugin_calls = IntCounterVec::new(
            Opts::new(
                "caravan_plugin_calls_total",
                "Plugin calls by slot and outcome (ok, fallback, or the failure kind)",
            ),
            &["slot", "outcome"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let plugin_fuel = HistogramVec::new(
            HistogramOpts::new(
                "caravan_plugin_fuel_used",
                "Instructions used by successful plugin calls",
            )
            .buckets(vec![1e4, 1e5, 5e5, 1e6, 2e6, 5e6, 1e7, 5e7, 2e8]),
            &["slot"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let upstream_circuit = IntGaugeVec::new(
            Opts::new(
                "caravan_upstream_circuit_state",
                "Circuit breaker of each upstream: 0 closed, 1 half-open, 2 open",
            ),
            &["upstream"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let upstream_calls = IntCounterVec::new(
            Opts::new(
                "caravan_upstream_calls_total",
                "Calls to an upstream by operation and outcome (ok, rejected, unavailable, \
                 invalid_response, circuit_open, not_configured)",
            ),
            &["upstream", "operation", "outcome"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let upstream_retries = IntCounterVec::new(
            Opts::new(
                "caravan_upstream_retries_total",
                "Further attempts made after a transient upstream failure",
            ),
            &["upstream", "operation"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let upstream_failures = IntCounterVec::new(
            Opts::new(
                "caravan_upstream_failures_total",
                "Failed upstream requests by kind (timeout, connection, http_429, http_5xx, \
                 invalid_response, rejected)",
            ),
            &["upstream", "kind"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(database_up.clone()),
            Box::new(plugin_calls.clone()),
            Box::new(plugin_fuel.clone()),
            Box::new(upstream_circuit.clone()),
            Box::new(upstream_calls.clone()),
            Box::new(upstream_retries.clone()),
            Box::new(upstream_failures.clone()),
        ] {
            registry
                .register(collector)
                .unwrap_or_else(|e| unreachable!("metric names are unique: {e}"));
        }
        Self {
            registry,
            requests,
            latency,
            database_up,
            redis_up,
            plugin_calls,
            plugin_fuel,
            upstream_circuit,
            upstream_calls,
            upstream_retries,
            upstream_failures,
        }
    }

    /// The circuit-state gauge of `upstream` (0 closed, 1 half-open, 2 open).
    pub fn upstream_circuit(&self, upstream: &str) -> IntGauge {
        self.upstream_circuit.with_label_values(&[upstream])
    }

    /// Counts one call to an upstream (all its attempts together) by its outcome.
    pub fn observe_upstream_call(&self, upstream: &str, operation: &str, outcome: &str) {
        self.upstream_calls
            .with_label_values(&[upstream, operation, outcome])
            .inc();
    }

    /// Counts an attempt made after a transient failure.
    pub fn observe_upstream_retry(&self, upstream: &str, operation: &str) {
        self.upstream_retries
            .with_label_values(&[upstream, operation])
            .inc();
    }

    /// Counts one failed request to an upstream by what went wrong.
    pub fn observe_upstream_failure(&self, upstream: &str, kind: &str) {
        self.upstream_failures
            .with_label_values(&[upstream, kind])
            .inc();
    }

    /// Counts a plugin call; `fuel` is recorded for successful calls.
    pub fn observe_plugin_call(&self, slot: &str, outcome: &str, fuel: Option<u64>) {
        self.plugin_calls.with_label_values(&[slot, outcome]).inc();
        if let Some(fuel) = fuel {
            self.plugin_fuel
                .with_label_values(&[slot])
                .observe(fuel as f64);
        }
    }

    /// Registers the Redis gauge; only hosts configured with Redis export it.
    pub fn enable_redis(&self) {
        // Registering twice is harmless and reported as an error we can ignore.
        let _ = self.registry.register(Box::new(self.redis_up.clone()));
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
    }

    pub fn set_database_up(&self, up: bool) {
        self.database_up.set(i64::from(up));
    }

    pub fn set_redis_up(&self, up: bool) {
        self.redis_up.set(i64::from(up));
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let encoder = prometheus::TextEncoder::new();
        if encoder
            .encode(&self.registry.gather(), &mut buffer)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
