//! Prometheus metrics (design/serve.md "Health and metrics"), through the
//! `prometheus-client` crate.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// `{policy}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PolicyLabel {
    /// The policy's name.
    pub policy: String,
}

/// `{policy, decision}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    /// The policy's name.
    pub policy: String,
    /// `allow`, `deny` or `lockout`.
    pub decision: String,
}

/// `{policy, revision}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RevisionLabels {
    /// The policy's name.
    pub policy: String,
    /// `sha256:…`.
    pub revision: String,
}

/// `{route, code}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteCode {
    /// The route template (`/v1/policies/{name}/decide`), or `unmatched`.
    pub route: String,
    /// The HTTP status.
    pub code: u16,
}

/// `{route}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    /// The route template, or `unmatched`.
    pub route: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn evaluation_histogram() -> Histogram {
    // 10 ns … ~170 µs: evaluation is nanoseconds.
    Histogram::new(exponential_buckets(1e-8, 2.0, 15))
}

fn request_histogram() -> Histogram {
    // 10 µs … ~10 s.
    Histogram::new(exponential_buckets(1e-5, 2.0, 21))
}

/// Every metric the server exposes.
pub struct Metrics {
    registry: Registry,
    /// `regain_decisions_total{policy,decision}`.
    pub decisions: Family<DecisionLabels, Counter>,
    /// `regain_decision_duration_seconds{policy}` (evaluation only).
    pub decision_duration: HistogramFamily<PolicyLabel>,
    /// `regain_http_requests_total{route,code}`.
    pub http_requests: Family<RouteCode, Counter>,
    /// `regain_http_request_duration_seconds{route}`.
    pub http_duration: HistogramFamily<RouteLabel>,
    /// `regain_policy_info{policy,revision}` (1 for the serving revision).
    pub policy_info: Family<RevisionLabels, Gauge>,
    /// `regain_policy_reload_failures_total{policy}`.
    pub reload_failures: Family<PolicyLabel, Counter>,
    /// `regain_policy_last_reload_timestamp_seconds{policy}`.
    pub last_reload: Family<PolicyLabel, Gauge<f64, AtomicU64>>,
    /// `regain_decision_log_dropped_total`.
    pub log_dropped: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Create and register every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let m = Metrics {
            registry: Registry::default(),
            decisions: Family::default(),
            decision_duration: Family::new_with_constructor(evaluation_histogram),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(request_histogram),
            policy_info: Family::default(),
            reload_failures: Family::default(),
            last_reload: Family::default(),
            log_dropped: Counter::default(),
        };
        registry.register(
            "regain_decisions",
            "Decisions made, by policy and decision",
            m.decisions.clone(),
        );
        registry.register(
            "regain_decision_duration_seconds",
            "Time to evaluate one decision (evaluation only)",
            m.decision_duration.clone(),
        );
        registry.register(
            "regain_http_requests",
            "HTTP requests answered, by route and status",
            m.http_requests.clone(),
        );
        registry.register(
            "regain_http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            m.http_duration.clone(),
        );
        registry.register(
            "regain_policy_info",
            "The revision each policy serves (1)",
            m.policy_info.clone(),
        );
        registry.register(
            "regain_policy_reload_failures",
            "Changed policy files that did not check or compile",
            m.reload_failures.clone(),
        );
        registry.register(
            "regain_policy_last_reload_timestamp_seconds",
            "When each policy's serving revision was loaded (Unix time)",
            m.last_reload.clone(),
        );
        registry.register(
            "regain_decision_log_dropped",
            "Decision-log lines dropped because the log queue was full",
            m.log_dropped.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The text exposition.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// Record one HTTP request.
    pub fn http(&self, route: &str, code: u16, seconds: f64) {
        self.http_requests
            .get_or_create(&RouteCode {
                route: route.to_string(),
                code,
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabel {
                route: route.to_string(),
            })
            .observe(seconds);
    }
}

/// The metric handles of one policy, kept with it so that a decision does not look
/// labels up.
#[derive(Clone, Debug)]
pub struct PolicyMetrics {
    /// Counters for allow, deny, lockout.
    pub decisions: [Counter; 3],
    /// Evaluation time.
    pub duration: Histogram,
}

impl PolicyMetrics {
    /// The handles of `policy`.
    pub fn new(m: &Metrics, policy: &str) -> PolicyMetrics {
        let counter = |decision: &str| {
            m.decisions
                .get_or_create(&DecisionLabels {
                    policy: policy.to_string(),
                    decision: decision.to_string(),
                })
                .clone()
        };
        PolicyMetrics {
            decisions: [counter("allow"), counter("deny"), counter("lockout")],
            duration: m
                .decision_duration
                .get_or_create(&PolicyLabel {
                    policy: policy.to_string(),
                })
                .clone(),
        }
    }

    /// The counter of a decision kind.
    pub fn counter(&self, kind: crate::DecisionKind) -> &Counter {
        let [allow, deny, lockout] = &self.decisions;
        match kind {
            crate::DecisionKind::Allow => allow,
            crate::DecisionKind::Deny => deny,
            crate::DecisionKind::Lockout => lockout,
        }
    }
}
