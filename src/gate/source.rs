//! Where a gate's numbers come from: the `/metrics` endpoints of `sitevault serve`
//! instances (scraped, differenced, summed), or a Prometheus server's query API.
//!
//! Anything that cannot be read — an endpoint down, a truncated scrape, a query
//! that returns no series — becomes a [`Reading`] error, which the verdict turns
//! into `inconclusive`: a gate never passes on data it does not have.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::expo::{self, Counts, Scrape};
use super::verdict::Reading;
use crate::channel::record::Sample;
use crate::config::{HealthConfig, Queries};
use crate::error::{Error, Result};

/// A metric source, as `[health]` configures it.
pub(crate) enum Source {
    /// `[health] metrics`: scraped directly.
    Scrape(Scraper),
    /// `[health] prometheus`: PromQL.
    Prometheus(Prom),
}

impl Source {
    /// The source `[health]` names; an error when it names none.
    pub(crate) fn from_config(h: &HealthConfig) -> Result<Source> {
        let (_, window, timeout) = h.durations();
        let client = crate::store::tls::http_client(timeout).map_err(|e| {
            Error::input(format!(
                "[health]: cannot make an HTTP client: {}",
                crate::error::describe_http(&e)
            ))
        })?;
        if let Some(url) = &h.prometheus {
            return Ok(Source::Prometheus(Prom {
                client,
                url: url.trim_end_matches('/').to_string(),
                queries: h.queries.clone(),
                window,
                requests: 0,
                at: None,
            }));
        }
        if h.metrics.is_empty() {
            return Err(Error::input(
                "rollout --auto needs a metric source: set [health] metrics = [\"http://HOST:PORT/metrics\", …] \
                 (the --metrics-listen addresses of your `sitevault serve` instances) or [health] prometheus = \"http://HOST:9090\" in store.toml",
            ));
        }
        Ok(Source::Scrape(Scraper {
            client,
            endpoints: h.metrics.clone(),
            window,
            history: VecDeque::new(),
            requests: 0,
        }))
    }

    /// `metrics: 2 endpoints` or `prometheus: URL`, for records and messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Source::Scrape(s) => format!("metrics: {}", s.endpoints.join(", ")),
            Source::Prometheus(p) => format!("prometheus: {}", p.url),
        }
    }

    /// True when a verdict needs one more observation first (a scraper's first scrape).
    pub(crate) fn needs_warmup(&self) -> bool {
        matches!(self, Source::Scrape(s) if s.history.is_empty())
    }

    /// HTTP requests sent so far.
    pub(crate) fn requests_sent(&self) -> u64 {
        match self {
            Source::Scrape(s) => s.requests,
            Source::Prometheus(p) => p.requests,
        }
    }

    /// Observes now and returns each version's numbers over the window, with the
    /// window actually covered (seconds).
    pub(crate) async fn observe(&mut self, versions: &[&str]) -> (Vec<Reading>, f64) {
        match self {
            Source::Scrape(s) => {
                s.poll().await;
                let covered = s.covered();
                (versions.iter().map(|v| s.sample(v)).collect(), covered)
            }
            Source::Prometheus(p) => {
                // Every query of one observation is evaluated at the same instant, so
                // canary and stable cover the same window.
                p.at = Some(chrono::Utc::now().timestamp_millis() as f64 / 1000.0);
                let mut out = Vec::new();
                for v in versions {
                    out.push(p.sample(v).await);
                }
                (out, p.window.as_secs_f64())
            }
        }
    }
}

/// One scrape of every endpoint.
struct Snapshot {
    at: Instant,
    endpoints: Vec<std::result::Result<Scrape, String>>,
}

/// Scrapes `sitevault serve` endpoints and keeps one window of snapshots.
pub(crate) struct Scraper {
    client: reqwest::Client,
    endpoints: Vec<String>,
    window: Duration,
    history: VecDeque<Snapshot>,
    requests: u64,
}

impl Scraper {
    async fn poll(&mut self) {
        let fetches = self.endpoints.iter().map(|url| {
            let client = &self.client;
            async move {
                let body = fetch(client.get(url), url).await?;
                let text = String::from_utf8_lossy(&body);
                let scrape = expo::parse(&text).map_err(|e| format!("{url}: {e}"))?;
                if !scrape.is_edge {
                    return Err(format!(
                        "{url} has no sitevault_requests_total series: is it the --metrics-listen address of a `sitevault serve`?"
                    ));
                }
                Ok(scrape)
            }
        });
        let endpoints = futures::future::join_all(fetches).await;
        self.requests += self.endpoints.len() as u64;
        let now = Instant::now();
        self.history.push_back(Snapshot { at: now, endpoints });
        // Keep the newest snapshot at least one window old, and everything newer.
        while self.history.len() > 2
            && self
                .history
                .get(1)
                .is_some_and(|s| now.duration_since(s.at) >= self.window)
        {
            self.history.pop_front();
        }
    }

    /// The snapshot a window back (or the oldest kept) and the newest.
    fn ends(&self) -> Option<(&Snapshot, &Snapshot)> {
        let newest = self.history.back()?;
        let base = self
            .history
            .iter()
            .rev()
            .skip(1)
            .find(|s| newest.at.duration_since(s.at) >= self.window)
            .or_else(|| self.history.front().filter(|_| self.history.len() > 1))?;
        Some((base, newest))
    }

    fn covered(&self) -> f64 {
        self.ends()
            .map(|(b, n)| n.at.duration_since(b.at).as_secs_f64())
            .unwrap_or(0.0)
    }

    fn sample(&self, version: &str) -> Reading {
        let Some((base, newest)) = self.ends() else {
            return Err(
                "first scrape taken; a verdict needs a second one an interval later".into(),
            );
        };
        let mut total = Counts::default();
        let mut seen = false;
        for (old, new) in base.endpoints.iter().zip(&newest.endpoints) {
            let new = new.as_ref().map_err(|e| e.clone())?;
            let old = old
                .as_ref()
                .map_err(|e| format!("{e} (in the window's first scrape)"))?;
            if let Some(c) = new.versions.get(version) {
                seen = true;
                let d = c.since(old.versions.get(version)).ok_or_else(|| {
                    format!("{version}'s latency buckets changed between scrapes (an edge of another build?)")
                })?;
                total.add(&d);
            }
        }
        if !seen {
            return Err(format!(
                "no series for version {version} at {}: no edge has served it (check that [health] metrics lists the edges of this channel)",
                self.endpoints.join(", ")
            ));
        }
        Ok(Sample {
            version: version.to_string(),
            requests: total.requests,
            errors: total.errors,
            p95_ms: total.quantile(0.95).map(|s| s * 1000.0),
        })
    }
}

/// Queries a Prometheus server.
pub(crate) struct Prom {
    client: reqwest::Client,
    url: String,
    queries: Queries,
    window: Duration,
    requests: u64,
    /// The evaluation time of the current observation (Unix seconds).
    at: Option<f64>,
}

impl Prom {
    async fn sample(&mut self, version: &str) -> Reading {
        let requests = self.scalar("requests", version).await?;
        let errors = self.scalar("errors", version).await?;
        let p95 = self.scalar("p95", version).await?;
        let (Some(requests), Some(errors)) = (requests, errors) else {
            return Err(format!(
                "Prometheus at {} returned NaN for {version}'s requests or errors",
                self.url
            ));
        };
        Ok(Sample {
            version: version.to_string(),
            requests,
            errors,
            p95_ms: p95.map(|s| s * 1000.0),
        })
    }

    /// One query's single value (`None` for NaN); no series at all is an error.
    async fn scalar(
        &mut self,
        key: &str,
        version: &str,
    ) -> std::result::Result<Option<f64>, String> {
        let template = match key {
            "requests" => &self.queries.requests,
            "errors" => &self.queries.errors,
            _ => &self.queries.p95,
        };
        let query = template
            .replace("$version", version)
            .replace("$window", &promql_duration(self.window));
        self.requests += 1;
        let url = format!("{}/api/v1/query", self.url);
        let mut full = url::Url::parse(&url).map_err(|e| format!("{url}: {e}"))?;
        full.query_pairs_mut().append_pair("query", &query);
        if let Some(at) = self.at {
            full.query_pairs_mut()
                .append_pair("time", &format!("{at:.3}"));
        }
        let bytes = fetch(self.client.get(full), &url).await?;
        let body: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{url}: not a Prometheus answer: {e}"))?;
        if body["status"] != "success" {
            return Err(format!(
                "Prometheus refused health.queries.{key} ({query}): {}",
                body["error"].as_str().unwrap_or("no reason given")
            ));
        }
        let result = body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        match result.as_slice() {
            [] => Err(format!(
                "health.queries.{key} returned no series for {version} (no traffic recorded yet, or a misnamed metric): {query}"
            )),
            [one] => {
                let v = one["value"][1].as_str().unwrap_or("");
                match v {
                    "NaN" => Ok(None),
                    _ => v
                        .parse::<f64>()
                        .map(Some)
                        .map_err(|_| format!("health.queries.{key} gave {v:?}, not a number")),
                }
            }
            many => Err(format!(
                "health.queries.{key} returned {} series for {version}; it must aggregate to one (wrap it in sum(…)): {query}",
                many.len()
            )),
        }
    }
}

/// Largest answer read from a source: a scrape of a busy edge is tens of KB; anything
/// this large is not a metrics endpoint, and reading on would only use memory.
const MAX_ANSWER: usize = 32 << 20;

/// Sends a request and reads its 2xx body, up to [`MAX_ANSWER`] bytes.
async fn fetch(req: reqwest::RequestBuilder, url: &str) -> std::result::Result<Vec<u8>, String> {
    let fail =
        |e: reqwest::Error| format!("cannot read {url}: {}", crate::error::describe_http(&e));
    let mut resp = req
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(fail)?;
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(fail)? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(format!(
                "{url} answered more than {} MB; is it a metrics endpoint?",
                MAX_ANSWER >> 20
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `90s`, `1500ms`: a PromQL range.
fn promql_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promql_ranges() {
        assert_eq!(promql_duration(Duration::from_secs(300)), "300s");
        assert_eq!(promql_duration(Duration::from_millis(2500)), "2500ms");
    }
}
