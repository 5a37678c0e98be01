//! Prometheus metrics for `/metrics` (OpenMetrics text), per server instance.
//!
//! Series: GraphQL requests and their latency by operation name and type, GraphQL errors by
//! code, HTTP responses by status, SQL statements, active subscriptions, outbox lag, webhook
//! attempts, failures and pending deliveries. What only grows is a counter (`_total`), what goes
//! up and down a gauge. Every series with a closed set of labels (error codes, the statuses the
//! server answers, webhook outcomes, operation types) is present at zero from the start, so rates
//! and alerts work before the first event. Labels never carry personal data: operation names come
//! from client code, and only the first [`MAX_OPERATION_NAMES`] distinct well-formed ones get
//! their own series (the rest count as `other`), so a client cannot grow the registry without
//! bound.

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

use crate::error::ErrorCode;

/// Distinct operation names given their own series.
pub(crate) const MAX_OPERATION_NAMES: usize = 200;

/// The HTTP statuses the server answers with (others still get their series when they occur).
const ANSWERED_STATUSES: [u16; 13] = [
    200, 204, 400, 401, 403, 404, 405, 406, 413, 415, 429, 500, 503,
];

/// How a webhook attempt ended, as the `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// The endpoint answered 2xx.
    Delivered,
    /// The endpoint answered with another status.
    Rejected,
    /// No answer (refused, timed out, a non-public address).
    Unreachable,
}

/// The type of a GraphQL operation, as the `type` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Query,
    Mutation,
    Subscription,
}

impl OperationKind {
    const ALL: [Self; 3] = [Self::Query, Self::Mutation, Self::Subscription];

    fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Mutation => "mutation",
            Self::Subscription => "subscription",
        }
    }
}

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
    /// SQL statements run for requests (the database layer counts them as they run).
    pub sql_statements: Counter,
    /// Subscription responses executed and serialized, and subscription responses sent: one
    /// render serves every socket of a viewer running the same operation.
    pub subscription_renders: Counter,
    pub subscription_messages: Counter,
    /// History pages written by their compiled plan rather than the executor.
    pub direct_history_pages: Counter,
    /// Subscriptions open on sockets (kept by the sockets).
    pub active_subscriptions: Gauge,
    /// Scrape-time gauges.
    pub subscription_feeds: Gauge,
    pub outbox_lag_events: Gauge,
    pub webhook_pending: Gauge,
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
        let subscription_feeds = Gauge::default();
        let outbox_lag_events = Gauge::default();
        let webhook_pending = Gauge::default();
        let sql_statements = Counter::default();
        let subscription_renders = Counter::default();
        let subscription_messages = Counter::default();
        let direct_history_pages = Counter::default();
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
            "subscription_feeds",
            "Subscription executions following this instance's events (one per viewer and operation shared by several sockets)",
            subscription_feeds.clone(),
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
            "SQL statements run for requests (background work excluded): its rate over the request rate is the statements per operation",
            sql_statements.clone(),
        );
        registry.register(
            "subscription_renders",
            "Subscription responses executed and serialized (once per viewer and operation, shared by that viewer's sockets)",
            subscription_renders.clone(),
        );
        registry.register(
            "direct_history_pages",
            "History pages written by the plan compiled for their shape, without the general executor",
            direct_history_pages.clone(),
        );
        registry.register(
            "subscription_messages",
            "Subscription responses sent to sockets",
            subscription_messages.clone(),
        );
        // The closed label sets, at zero from the start.
        for code in ErrorCode::ALL {
            errors.get_or_create_owned(&CodeLabels {
                code: code.as_str().into(),
            });
        }
        for status in ANSWERED_STATUSES {
            responses.get_or_create_owned(&StatusLabels {
                status: status.to_string(),
            });
        }
        for outcome in ["delivered", "rejected", "unreachable"] {
            webhook_attempts.get_or_create_owned(&OutcomeLabels {
                outcome: outcome.into(),
            });
        }
        for ty in OperationKind::ALL {
            let labels = OperationLabels {
                operation: "anonymous".into(),
                r#type: ty.as_str().into(),
            };
            requests.get_or_create_owned(&labels);
            latency.get_or_create_owned(&labels);
        }
        Self {
            registry,
            requests,
            latency,
            errors,
            responses,
            webhook_attempts,
            webhook_failures,
            active_subscriptions,
            subscription_feeds,
            outbox_lag_events,
            webhook_pending,
            sql_statements,
            subscription_renders,
            subscription_messages,
            direct_history_pages,
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
        kind: OperationKind,
        seconds: f64,
        error_codes: impl Iterator<Item = &'a str>,
    ) {
        let labels = OperationLabels {
            operation: self.operation_label(operation_name),
            r#type: kind.as_str().into(),
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
    pub fn webhook_attempt(&self, outcome: WebhookOutcome) {
        let label = match outcome {
            WebhookOutcome::Delivered => "delivered",
            WebhookOutcome::Rejected => "rejected",
            WebhookOutcome::Unreachable => "unreachable",
        };
        if outcome != WebhookOutcome::Delivered {
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
        m.graphql_request(
            Some("Me"),
            OperationKind::Query,
            0.004,
            ["NOT_FOUND"].into_iter(),
        );
        m.sql_statements.inc_by(3);
        m.http_response(200);
        m.webhook_attempt(WebhookOutcome::Rejected);
        let text = m.render();
        for series in [
            "kakehashi_graphql_requests_total{operation=\"Me\",type=\"query\"} 1",
            "kakehashi_graphql_request_duration_seconds_bucket",
            "kakehashi_graphql_errors_total{code=\"NOT_FOUND\"} 1",
            "kakehashi_http_responses_total{status=\"200\"} 1",
            "kakehashi_active_subscriptions",
            "kakehashi_subscription_feeds",
            "kakehashi_subscription_renders_total",
            "kakehashi_subscription_messages_total",
            "kakehashi_outbox_lag_events",
            "kakehashi_webhook_attempts_total{outcome=\"rejected\"} 1",
            "kakehashi_webhook_failures_total 1",
            "kakehashi_webhook_pending_deliveries",
            "kakehashi_sql_statements_total 3",
        ] {
            assert!(text.contains(series), "missing {series} in\n{text}");
        }
    }

    #[test]
    fn counters_are_typed_and_closed_label_sets_start_at_zero() {
        let text = Metrics::default().render();
        for line in [
            "# TYPE kakehashi_sql_statements counter",
            "# TYPE kakehashi_graphql_errors counter",
            "# TYPE kakehashi_active_subscriptions gauge",
            "kakehashi_graphql_errors_total{code=\"INTERNAL_SERVER_ERROR\"} 0",
            "kakehashi_graphql_errors_total{code=\"SERVICE_UNAVAILABLE\"} 0",
            "kakehashi_http_responses_total{status=\"503\"} 0",
            "kakehashi_webhook_attempts_total{outcome=\"unreachable\"} 0",
            "kakehashi_graphql_requests_total{operation=\"anonymous\",type=\"subscription\"} 0",
            "kakehashi_sql_statements_total 0",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        for code in ErrorCode::ALL {
            assert!(
                text.contains(&format!("code=\"{}\"", code.as_str())),
                "{code:?}"
            );
        }
    }
}
