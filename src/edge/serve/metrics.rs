//! Prometheus metrics of the edge: requests and latency per routed version, the
//! manifest generation and age.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use http::{HeaderValue, StatusCode};
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
    /// Each version's handles, resolved once (see [`VersionStats`]).
    versions: RwLock<HashMap<String, Arc<VersionStats>>>,
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
            versions: RwLock::new(HashMap::new()),
            corrupt_blobs,
            registry,
            requests,
            latency,
            generation,
            manifest_age,
        }
    }
}

/// One routed version's metrics and `x-sitevault-version` header, resolved once, so
/// that a request formats no label strings and looks up no metric family.
pub(crate) struct VersionStats {
    version: String,
    /// The response header naming the version (`None` if it is no valid header value).
    pub(crate) header: Option<HeaderValue>,
    requests: Family<RequestLabels, Counter>,
    /// `sitevault_requests` by status class (index: the status's first digit),
    /// created on a class's first request, as the family would.
    classes: [OnceLock<Counter>; 10],
    latency: LatencyFamily,
    latency_of: OnceLock<Histogram>,
}

impl VersionStats {
    /// Counts a finished request: its status class and its latency.
    pub(crate) fn record(&self, status: StatusCode, seconds: f64) {
        let class = (status.as_u16() / 100) as usize;
        let counter = self.classes[class.min(9)].get_or_init(|| {
            self.requests
                .get_or_create(&RequestLabels {
                    version: self.version.clone(),
                    status: format!("{class}xx"),
                })
                .clone()
        });
        counter.inc();
        let latency = self.latency_of.get_or_init(|| {
            self.latency
                .get_or_create(&VersionLabels {
                    version: self.version.clone(),
                })
                .clone()
        });
        latency.observe(seconds);
    }
}

impl Metrics {
    /// The handles of `version` (created on its first request).
    pub(crate) fn version(&self, version: &str) -> Arc<VersionStats> {
        if let Some(s) = self
            .versions
            .read()
            .ok()
            .and_then(|m| m.get(version).cloned())
        {
            return s;
        }
        let s = Arc::new(VersionStats {
            version: version.to_string(),
            header: HeaderValue::from_str(version).ok(),
            requests: self.requests.clone(),
            classes: Default::default(),
            latency: self.latency.clone(),
            latency_of: OnceLock::new(),
        });
        if let Ok(mut m) = self.versions.write() {
            // Versions come from manifests: few. The families keep their series
            // whatever happens to these handles.
            if m.len() >= 1024 {
                m.clear();
            }
            return m.entry(version.to_string()).or_insert(s).clone();
        }
        s
    }
}
