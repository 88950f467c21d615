//! What `/metrics` shows, in the Prometheus text format (the Prometheus project's own client,
//! `prometheus-client`): requests by route and status, request latency by route, texts per
//! model call and requests waiting in each model's queue.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// A request's labels: its route (the pattern, never the raw path) and status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histograms<RouteLabels>,
    batch: Histograms<ModelLabels>,
    queue: Family<ModelLabels, Gauge>,
}

/// The handles a model's workers update.
#[derive(Clone, Debug)]
pub struct ModelMetrics {
    /// Texts in each model call.
    pub batch: Histogram,
    /// Requests queued and not yet taken by a worker.
    pub queue: Gauge,
}

fn latency_buckets() -> Histogram {
    // 0.25 ms … about 8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

fn batch_buckets() -> Histogram {
    // 1 … 4096 texts.
    Histogram::new(exponential_buckets(1.0, 2.0, 13))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("seqlab");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Histograms<RouteLabels> = Family::new_with_constructor(latency_buckets);
        let batch: Histograms<ModelLabels> = Family::new_with_constructor(batch_buckets);
        let queue = Family::<ModelLabels, Gauge>::default();
        registry.register("requests", "HTTP requests answered, by route and status", requests.clone());
        registry.register("request_duration_seconds", "Time to answer a request, by route", latency.clone());
        registry.register("batch_texts", "Texts in one model call (dynamic batching), by model", batch.clone());
        registry.register("queue_depth", "Requests waiting for a model's worker, by model", queue.clone());
        Self { registry, requests, latency, batch, queue }
    }
}

impl Metrics {
    /// Counts an answered request.
    pub fn request(&self, route: &str, status: u16, seconds: f64) {
        self.requests.get_or_create(&RequestLabels { route: route.to_string(), status }).inc();
        self.latency.get_or_create(&RouteLabels { route: route.to_string() }).observe(seconds);
    }

    /// The handles for one model.
    pub fn model(&self, name: &str) -> ModelMetrics {
        let labels = ModelLabels { model: name.to_string() };
        ModelMetrics {
            batch: self.batch.get_or_create(&labels).clone(),
            queue: self.queue.get_or_create(&labels).clone(),
        }
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}
