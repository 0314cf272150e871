//! Prometheus metrics of the edge: requests and latency per routed version, the
//! manifest generation and age.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub(crate) version: String,
    pub(crate) status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct VersionLabels {
    pub(crate) version: String,
}

pub(crate) type LatencyFamily = Family<VersionLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

pub(crate) struct Metrics {
    pub(crate) registry: Registry,
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) latency: LatencyFamily,
    pub(crate) generation: Gauge,
    pub(crate) manifest_age: Gauge<f64, std::sync::atomic::AtomicU64>,
    pub(crate) corrupt_blobs: Counter,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "sitevault_requests",
            "Requests served, by routed version and status class",
            requests.clone(),
        );
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "sitevault_request_duration_seconds",
            "Request latency by routed version",
            latency.clone(),
        );
        let generation = Gauge::default();
        registry.register(
            "sitevault_manifest_generation",
            "Generation of the manifest in use",
            generation.clone(),
        );
        let manifest_age = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "sitevault_manifest_age_seconds",
            "Seconds since the manifest was last read successfully",
            manifest_age.clone(),
        );
        let corrupt_blobs = Counter::default();
        registry.register(
            "sitevault_corrupt_blobs",
            "Blobs whose bytes did not match their blake3 when read from the store",
            corrupt_blobs.clone(),
        );
        Metrics {
            corrupt_blobs,
            registry,
            requests,
            latency,
            generation,
            manifest_age,
        }
    }
}
