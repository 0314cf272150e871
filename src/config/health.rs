//! `[health]` and `[notify]`: the thresholds, cadence and metric source of health-gated
//! rollouts, and where their notices go.

use serde::Deserialize;

use super::parse_duration;
use crate::error::{Error, Result};

/// `[health]`: when a canary is healthy enough to advance, and where the numbers
/// come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthConfig {
    /// Error-rate threshold (fraction of 5xx responses): an alert, and a rollback
    /// after `failures` consecutive windows above it.
    pub error_rate: f64,
    /// p95 latency alert, milliseconds.
    pub p95_alert_ms: u64,
    /// p95 latency that triggers a rollback, milliseconds.
    pub p95_rollback_ms: u64,
    /// Canary requests per window below which a verdict is "inconclusive".
    pub min_requests: u64,
    /// Consecutive windows over the error rate that roll back.
    pub failures: u32,
    /// How often a verdict is taken (e.g. `30s`).
    pub interval: String,
    /// How far back each verdict looks (e.g. `5m`).
    pub window: String,
    /// Prometheus endpoints of `sitevault serve` instances (`http://host:port/metrics`),
    /// scraped and summed.
    pub metrics: Vec<String>,
    /// A Prometheus server (`http://host:9090`) queried with PromQL instead.
    pub prometheus: Option<String>,
    /// PromQL for the Prometheus source; `$version` and `$window` are substituted.
    pub queries: Queries,
    /// Timeout of one request to a metric source or webhook.
    pub timeout: String,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            error_rate: 0.01,
            p95_alert_ms: 500,
            p95_rollback_ms: 2000,
            min_requests: 200,
            failures: 2,
            interval: "30s".into(),
            window: "5m".into(),
            metrics: Vec::new(),
            prometheus: None,
            queries: Queries::default(),
            timeout: "5s".into(),
        }
    }
}

impl HealthConfig {
    /// `interval`, `window` and `timeout`, parsed (validated when the config was loaded).
    pub fn durations(
        &self,
    ) -> (
        std::time::Duration,
        std::time::Duration,
        std::time::Duration,
    ) {
        let d = |s: &str| parse_duration(s).unwrap_or(std::time::Duration::from_secs(1));
        (d(&self.interval), d(&self.window), d(&self.timeout))
    }
}

/// `[health.queries]`: PromQL over the edge's series, one value per query.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Queries {
    /// Requests of `$version` in the last `$window`.
    pub requests: String,
    /// 5xx responses of `$version` in the last `$window` (must return 0, not nothing,
    /// when there were requests but no errors).
    pub errors: String,
    /// p95 latency of `$version` over the last `$window`, in seconds.
    pub p95: String,
}

impl Default for Queries {
    fn default() -> Self {
        Queries {
            requests: r#"sum(increase(sitevault_requests_total{version="$version"}[$window]))"#
                .into(),
            errors: r#"sum(increase(sitevault_requests_total{version="$version",status="5xx"}[$window])) or (0 * sum(increase(sitevault_requests_total{version="$version"}[$window])))"#.into(),
            p95: r#"histogram_quantile(0.95, sum by (le) (increase(sitevault_request_duration_seconds_bucket{version="$version"}[$window])))"#.into(),
        }
    }
}

/// `[notify]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// URL that receives a JSON POST (Slack-compatible `text`) on alert, hold,
    /// rollback and promote.
    pub webhook: Option<String>,
}

pub(super) fn check_health(name: &str, h: &HealthConfig) -> Result<()> {
    let field = |key: &str, v: &str| {
        parse_duration(v).map_err(|e| Error::input(format!("{name}: health.{key}: {e}")))
    };
    let interval = field("interval", &h.interval)?;
    let window = field("window", &h.window)?;
    let timeout = field("timeout", &h.timeout)?;
    let second = std::time::Duration::from_secs(1);
    if interval.is_zero() || window < interval || window < second || timeout.is_zero() {
        return Err(Error::input(format!(
            "{name}: health.interval ({}), health.window ({}) and health.timeout ({}) must be above zero, with the window at least one interval and one second",
            h.interval, h.window, h.timeout
        )));
    }
    if h.min_requests == 0 || h.failures == 0 {
        return Err(Error::input(format!(
            "{name}: health.min_requests ({}) and health.failures ({}) must be at least 1: a gate must never pass on no data",
            h.min_requests, h.failures
        )));
    }
    for (i, m) in h.metrics.iter().enumerate() {
        check_http_url(m).map_err(|e| Error::input(format!("{name}: health.metrics[{i}]: {e}")))?;
    }
    if let Some(p) = &h.prometheus {
        check_http_url(p).map_err(|e| Error::input(format!("{name}: health.prometheus: {e}")))?;
        if !h.metrics.is_empty() {
            return Err(Error::input(format!(
                "{name}: health.metrics and health.prometheus are both set: choose one metric source"
            )));
        }
    }
    for (key, q) in [
        ("requests", &h.queries.requests),
        ("errors", &h.queries.errors),
        ("p95", &h.queries.p95),
    ] {
        if !q.contains("$version") {
            return Err(Error::input(format!(
                "{name}: health.queries.{key} does not mention $version, so it would read every version's series (stable's too) as the canary's"
            )));
        }
    }
    Ok(())
}

/// An `http://` or `https://` URL with a host.
pub(crate) fn check_http_url(u: &str) -> std::result::Result<url::Url, String> {
    let url = url::Url::parse(u).map_err(|e| format!("{u:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{u:?} must be an http:// or https:// URL"));
    }
    Ok(url)
}
