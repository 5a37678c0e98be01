//! Prometheus metrics for `/metrics` (OpenMetrics text), per server instance.
//!
//! Series: GraphQL requests and their latency by operation name and type, GraphQL errors by
//! code, HTTP responses by status, active subscriptions, outbox lag, webhook attempts, failures
//! and pending deliveries. Labels never carry personal data: operation names come from client
//! code, and only the first [`MAX_OPERATION_NAMES`] distinct well-formed ones get their own
//! series (the rest count as `other`), so a client cannot grow the registry without bound.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::service::webhooks::AttemptOutcome;

/// Distinct operation names given their own series.
pub const MAX_OPERATION_NAMES: usize = 200;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
    r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

/// The registry and its series. Gauges read at scrape time are set by the `/metrics` handler.
pub struct Metrics {
    registry: Registry,
    requests: Family<OperationLabels, Counter>,
    latency: Family<OperationLabels, Histogram, fn() -> Histogram>,
    errors: Family<CodeLabels, Counter>,
    responses: Family<StatusLabels, Counter>,
    webhook_attempts: Family<OutcomeLabels, Counter>,
    webhook_failures: Counter,
    /// Scrape-time gauges.
    pub active_subscriptions: Gauge,
    pub outbox_lag_events: Gauge,
    pub webhook_pending: Gauge,
    pub sql_statements: Gauge,
    names: Mutex<HashSet<String>>,
}

fn latency_histogram() -> Histogram {
    // 1 ms … about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kakehashi");
        let requests = Family::<OperationLabels, Counter>::default();
        let latency = Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let errors = Family::<CodeLabels, Counter>::default();
        let responses = Family::<StatusLabels, Counter>::default();
        let webhook_attempts = Family::<OutcomeLabels, Counter>::default();
        let webhook_failures = Counter::default();
        let active_subscriptions = Gauge::default();
        let outbox_lag_events = Gauge::default();
        let webhook_pending = Gauge::default();
        let sql_statements = Gauge::default();
        registry.register(
            "graphql_requests",
            "GraphQL operations executed, by operation name and type",
            requests.clone(),
        );
        registry.register(
            "graphql_request_duration_seconds",
            "Time to execute a GraphQL operation over HTTP",
            latency.clone(),
        );
        registry.register(
            "graphql_errors",
            "GraphQL errors returned, by extensions.code",
            errors.clone(),
        );
        registry.register(
            "http_responses",
            "HTTP responses, by status code",
            responses.clone(),
        );
        registry.register(
            "active_subscriptions",
            "Subscriptions currently open on this instance",
            active_subscriptions.clone(),
        );
        registry.register(
            "outbox_lag_events",
            "Committed events this instance has not published yet",
            outbox_lag_events.clone(),
        );
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts, by outcome (delivered, rejected, unreachable)",
            webhook_attempts.clone(),
        );
        registry.register(
            "webhook_failures",
            "Webhook attempts that did not deliver (non-2xx answer or no answer)",
            webhook_failures.clone(),
        );
        registry.register(
            "webhook_pending_deliveries",
            "Webhook deliveries waiting for an attempt",
            webhook_pending.clone(),
        );
        registry.register(
            "sql_statements",
            "SQL statements run for requests since the server started (background work excluded): divide its growth by the requests to get statements per operation",
            sql_statements.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            errors,
            responses,
            webhook_attempts,
            webhook_failures,
            active_subscriptions,
            outbox_lag_events,
            webhook_pending,
            sql_statements,
            names: Mutex::default(),
        }
    }
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The label for a client-chosen operation name.
    fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "anonymous".into();
        };
        let well_formed = name.len() <= 64
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !well_formed {
            return "other".into();
        }
        let mut names = self
            .names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if names.contains(name) || names.len() < MAX_OPERATION_NAMES {
            names.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".into()
        }
    }

    /// Counts one executed GraphQL request and its errors.
    pub fn graphql_request<'a>(
        &self,
        operation_name: Option<&str>,
        mutation: bool,
        seconds: f64,
        error_codes: impl Iterator<Item = &'a str>,
    ) {
        let labels = OperationLabels {
            operation: self.operation_label(operation_name),
            r#type: if mutation { "mutation" } else { "query" }.into(),
        };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(seconds);
        for code in error_codes {
            self.errors
                .get_or_create(&CodeLabels {
                    code: code.to_owned(),
                })
                .inc();
        }
    }

    /// Counts one HTTP response.
    pub fn http_response(&self, status: u16) {
        self.responses
            .get_or_create(&StatusLabels {
                status: status.to_string(),
            })
            .inc();
    }

    /// Counts one webhook attempt.
    pub fn webhook_attempt(&self, outcome: &AttemptOutcome) {
        let label = match outcome {
            AttemptOutcome::Answered(c) if (200..300).contains(c) => "delivered",
            AttemptOutcome::Answered(_) => "rejected",
            AttemptOutcome::Failed(_) => "unreachable",
        };
        if label != "delivered" {
            self.webhook_failures.inc();
        }
        self.webhook_attempts
            .get_or_create(&OutcomeLabels {
                outcome: label.into(),
            })
            .inc();
    }

    /// The OpenMetrics text of every series.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded_and_sanitised() {
        let m = Metrics::default();
        assert_eq!(m.operation_label(None), "anonymous");
        assert_eq!(m.operation_label(Some("Me")), "Me");
        assert_eq!(m.operation_label(Some("bad name")), "other");
        assert_eq!(m.operation_label(Some("山田")), "other");
        for i in 0..MAX_OPERATION_NAMES {
            m.operation_label(Some(&format!("Op{i}")));
        }
        assert_eq!(
            m.operation_label(Some("Me")),
            "Me",
            "known names keep their series"
        );
        assert_eq!(m.operation_label(Some("Brand_new")), "other");
    }

    #[test]
    fn rendered_text_holds_every_series() {
        let m = Metrics::default();
        m.graphql_request(Some("Me"), false, 0.004, ["NOT_FOUND"].into_iter());
        m.http_response(200);
        m.webhook_attempt(&AttemptOutcome::Answered(500));
        let text = m.render();
        for series in [
            "kakehashi_graphql_requests_total{operation=\"Me\",type=\"query\"} 1",
            "kakehashi_graphql_request_duration_seconds_bucket",
            "kakehashi_graphql_errors_total{code=\"NOT_FOUND\"} 1",
            "kakehashi_http_responses_total{status=\"200\"} 1",
            "kakehashi_active_subscriptions",
            "kakehashi_outbox_lag_events",
            "kakehashi_webhook_attempts_total{outcome=\"rejected\"} 1",
            "kakehashi_webhook_failures_total 1",
            "kakehashi_webhook_pending_deliveries",
        ] {
            assert!(text.contains(series), "missing {series} in\n{text}");
        }
    }
}
