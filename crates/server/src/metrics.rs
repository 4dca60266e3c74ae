//! The process's metrics, served at `GET /metrics` in the Prometheus text format (0.0.4).
//!
//! One registry per process ([`global`]): a scrape describes the process, whichever server in it
//! answered. Request figures are recorded by [`crate::observe`]; the causes of 503s where they
//! arise ([`crate::limits`], [`crate::error::ApiError::database_unavailable`]); the store's pool and
//! retry figures are read from the store at each scrape ([`Metrics::render`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::store::PoolStats;

/// The media type of `GET /metrics`.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// Why a request was answered 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnavailableCause {
    /// More requests were in flight than `--max-in-flight`.
    InFlight,
    /// The database was locked past the busy timeout, unreachable, or a statement ran past the
    /// statement timeout (code 10402).
    Database,
    /// The request ran longer than `--request-timeout`.
    RequestTimeout,
}

impl UnavailableCause {
    /// The `cause` label.
    fn label(self) -> &'static str {
        match self {
            UnavailableCause::InFlight => "in_flight",
            UnavailableCause::Database => "database",
            UnavailableCause::RequestTimeout => "request_timeout",
        }
    }
}

/// Latency buckets, in seconds: 1 ms to about 33 s, doubling.
fn latency_buckets() -> Vec<f64> {
    prometheus::exponential_buckets(0.001, 2.0, 16).expect("valid buckets")
}

/// Copy-size buckets, in components: 1 to 1024, doubling (a copy holds at most 1000).
fn copy_size_buckets() -> Vec<f64> {
    prometheus::exponential_buckets(1.0, 2.0, 11).expect("valid buckets")
}

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    in_flight: IntGauge,
    unavailable: IntCounterVec,
    copy_components: Histogram,
    copies_contended: IntCounter,
    copy_retries: IntCounter,
    /// The store's retry count at the last scrape, so that the counter follows it.
    copy_retries_seen: Mutex<u64>,
    pool_connections: IntGaugeVec,
    pool_max: IntGauge,
    store_calls: IntGauge,
    store_calls_waiting: IntGauge,
}

/// Whether the process records metrics (`serve --no-metrics` turns it off, so that the benchmark
/// can measure what recording costs).
static RECORDING: AtomicBool = AtomicBool::new(true);

/// Stops recording for the rest of the process: nothing is counted, and [`crate::http::router`]
/// serves no `/metrics`.
pub fn stop_recording() {
    RECORDING.store(false, Ordering::Relaxed);
}

/// Whether metrics are recorded (see [`stop_recording`]).
pub fn recording() -> bool {
    RECORDING.load(Ordering::Relaxed)
}

/// The process's metrics.
pub fn global() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

impl Metrics {
    fn new() -> Metrics {
        let registry = Registry::new_custom(Some("rainbond".to_owned()), None).expect("a valid prefix");
        let metrics = Metrics {
            requests: IntCounterVec::new(
                Opts::new("http_requests_total", "Requests answered, by operation and status."),
                &["operation", "status"],
            )
            .expect("valid metric"),
            latency: HistogramVec::new(
                HistogramOpts::new("http_request_duration_seconds", "Time to answer a request, by operation.")
                    .buckets(latency_buckets()),
                &["operation"],
            )
            .expect("valid metric"),
            in_flight: IntGauge::new("http_requests_in_flight", "Requests being answered.").expect("valid metric"),
            unavailable: IntCounterVec::new(
                Opts::new("http_unavailable_total", "Requests answered 503, by cause."),
                &["cause"],
            )
            .expect("valid metric"),
            copy_components: Histogram::with_opts(
                HistogramOpts::new("copy_components", "Components created by each successful copy.")
                    .buckets(copy_size_buckets()),
            )
            .expect("valid metric"),
            copies_contended: IntCounter::new(
                "copies_contended_total",
                "Copies given up (409, code 10409) after clashing with concurrent writers at every attempt.",
            )
            .expect("valid metric"),
            copy_retries: IntCounter::new(
                "postgres_copy_retries_total",
                "Copies tried again on PostgreSQL after a clash with a concurrent writer.",
            )
            .expect("valid metric"),
            copy_retries_seen: Mutex::new(0),
            pool_connections: IntGaugeVec::new(
                Opts::new("pool_connections", "Open database connections, in use or idle."),
                &["state"],
            )
            .expect("valid metric"),
            pool_max: IntGauge::new("pool_connections_max", "The most database connections the pool opens.")
                .expect("valid metric"),
            store_calls: IntGauge::new("store_calls_in_progress", "Calls into the store in progress.")
                .expect("valid metric"),
            store_calls_waiting: IntGauge::new(
                "store_calls_waiting",
                "Calls into the store in progress beyond the connections in use: waiting for a connection, or \
                 queued behind a copy into the same team (PostgreSQL) or behind the writer (SQLite).",
            )
            .expect("valid metric"),
            registry,
        };
        metrics.register_all();
        // Every cause is exported from the start (0), so that an alert on its rate has a series.
        for cause in [UnavailableCause::InFlight, UnavailableCause::Database, UnavailableCause::RequestTimeout] {
            metrics.unavailable.with_label_values(&[cause.label()]);
        }
        metrics
    }

    fn register_all(&self) {
        let collectors: [Box<dyn prometheus::core::Collector>; 11] = [
            Box::new(self.requests.clone()),
            Box::new(self.latency.clone()),
            Box::new(self.in_flight.clone()),
            Box::new(self.unavailable.clone()),
            Box::new(self.copy_components.clone()),
            Box::new(self.copies_contended.clone()),
            Box::new(self.copy_retries.clone()),
            Box::new(self.pool_connections.clone()),
            Box::new(self.pool_max.clone()),
            Box::new(self.store_calls.clone()),
            Box::new(self.store_calls_waiting.clone()),
        ];
        for collector in collectors {
            self.registry.register(collector).expect("each metric is registered once");
        }
    }

    /// Records an answered request.
    pub fn record_request(&self, operation: &str, status: StatusCode, elapsed: Duration) {
        if !recording() {
            return;
        }
        self.requests.with_label_values(&[operation, status.as_str()]).inc();
        self.latency.with_label_values(&[operation]).observe(elapsed.as_secs_f64());
    }

    /// Counts a request as in flight until the guard is dropped.
    pub fn in_flight(&self) -> InFlight<'_> {
        InFlight::count(&self.in_flight)
    }

    /// Counts a 503 by its cause.
    pub fn unavailable(&self, cause: UnavailableCause) {
        if !recording() {
            return;
        }
        self.unavailable.with_label_values(&[cause.label()]).inc();
    }

    /// Records a successful copy of `components` components.
    pub fn copied(&self, components: usize) {
        if !recording() {
            return;
        }
        self.copy_components.observe(components as f64);
    }

    /// Counts a copy given up after repeated clashes.
    pub fn copy_contended(&self) {
        if !recording() {
            return;
        }
        self.copies_contended.inc();
    }

    /// Counts a call into the store until the guard is dropped.
    pub fn store_call(&self) -> InFlight<'_> {
        InFlight::count(&self.store_calls)
    }

    /// The metrics in the Prometheus text format, with the store's figures as of now.
    pub fn render(&self, pool: PoolStats) -> String {
        self.sync_store(pool);
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text).expect("metrics encode as text");
        String::from_utf8(text).expect("the text format is UTF-8")
    }

    fn sync_store(&self, pool: PoolStats) {
        let in_use = i64::from(pool.open.saturating_sub(pool.idle));
        self.pool_connections.with_label_values(&["in_use"]).set(in_use);
        self.pool_connections.with_label_values(&["idle"]).set(i64::from(pool.idle));
        self.pool_max.set(i64::from(pool.max));
        self.store_calls_waiting.set((self.store_calls.get() - in_use).max(0));
        let mut seen = self.copy_retries_seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.copy_retries.inc_by(pool.copy_retries.saturating_sub(*seen));
        *seen = (*seen).max(pool.copy_retries);
    }
}

/// Counts one on a gauge while it lives (nothing while metrics are not [`recording`]).
pub struct InFlight<'a>(Option<&'a IntGauge>);

impl<'a> InFlight<'a> {
    fn count(gauge: &'a IntGauge) -> InFlight<'a> {
        let counted = recording().then_some(gauge);
        if let Some(gauge) = counted {
            gauge.inc();
        }
        InFlight(counted)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(gauge) = self.0 {
            gauge.dec();
        }
    }
}
