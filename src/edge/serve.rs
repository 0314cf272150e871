//! `sitevault serve`: an HTTP server over any store that routes each visitor by the
//! channel manifest and serves the routed version's files — what a small team puts
//! behind a CDN, and how anyone tries a rollout locally.
//!
//! The manifest is re-read every TTL in the background (conditional GET where the
//! backend has ETags); a manifest that cannot be read keeps the last good one.
//! Version indexes are immutable and cached; small blobs are cached in memory.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use axum::Router;
use bytes::Bytes;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::routing;
use crate::channel::record::Manifest;
use crate::error::{Error, Result};
use crate::publish::index::{self, VersionIndex};
use crate::schema::{CacheClass, FileEntry};
use crate::store::{keys, GetIfChanged, Store};

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Channel whose manifest routes visitors.
    pub channel: String,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// How often the manifest is re-read.
    pub ttl: Duration,
    /// Blobs up to this size are kept in memory.
    pub cache_blob_max: u64,
    /// Total bytes of the in-memory blob cache.
    pub cache_total: u64,
    /// Where warnings and logged errors go.
    pub reporter: crate::report::Handle,
}

impl ServeOptions {
    /// Defaults: 127.0.0.1:8080, TTL 5 s, 64 MB blob cache of files up to 1 MB.
    pub fn new(channel: &str) -> Self {
        ServeOptions {
            channel: channel.to_string(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            ttl: Duration::from_secs(5),
            cache_blob_max: 1 << 20,
            cache_total: 64 << 20,
            reporter: Default::default(),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    version: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: String,
}

type LatencyFamily = Family<VersionLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    generation: Gauge,
    manifest_age: Gauge<f64, std::sync::atomic::AtomicU64>,
}

impl Metrics {
    fn new() -> Self {
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
        Metrics {
            registry,
            requests,
            latency,
            generation,
            manifest_age,
        }
    }
}

struct Current {
    manifest: Arc<Manifest>,
    etag: Option<String>,
    read_at: Instant,
}

/// The server's shared state.
pub struct Edge {
    store: Store,
    opts: ServeOptions,
    current: RwLock<Option<Current>>,
    indexes: RwLock<HashMap<String, Arc<VersionIndex>>>,
    blobs: RwLock<(HashMap<String, Bytes>, u64)>,
    metrics: Metrics,
}

impl Edge {
    /// A new edge over `store`.
    pub fn new(store: Store, opts: ServeOptions) -> Arc<Edge> {
        Arc::new(Edge {
            store,
            opts,
            current: RwLock::new(None),
            indexes: RwLock::new(HashMap::new()),
            blobs: RwLock::new((HashMap::new(), 0)),
            metrics: Metrics::new(),
        })
    }

    /// Re-reads the manifest (conditional GET). Errors keep the last good manifest.
    pub async fn refresh(&self) -> Result<()> {
        let etag = self
            .current
            .read()
            .ok()
            .and_then(|c| c.as_ref().and_then(|c| c.etag.clone()));
        let key = keys::channel_manifest(&self.opts.channel);
        match self.store.get_if_changed(&key, etag.as_deref()).await? {
            GetIfChanged::NotModified => {
                if let Ok(mut c) = self.current.write() {
                    if let Some(c) = c.as_mut() {
                        c.read_at = Instant::now();
                    }
                }
                Ok(())
            }
            GetIfChanged::Missing => Err(Error::input(format!(
                "{key} does not exist: roll a version out on channel {} first",
                self.opts.channel
            ))),
            GetIfChanged::Changed(bytes, etag) => {
                let m: Manifest = crate::schema::parse(&bytes, &key)?;
                self.metrics.generation.set(m.generation as i64);
                if let Ok(mut c) = self.current.write() {
                    *c = Some(Current {
                        manifest: Arc::new(m),
                        etag,
                        read_at: Instant::now(),
                    });
                }
                Ok(())
            }
        }
    }

    fn manifest(&self) -> Option<Arc<Manifest>> {
        self.current
            .read()
            .ok()?
            .as_ref()
            .map(|c| c.manifest.clone())
    }

    async fn index(&self, version: &str) -> Result<Arc<VersionIndex>> {
        if let Some(i) = self
            .indexes
            .read()
            .ok()
            .and_then(|m| m.get(version).cloned())
        {
            return Ok(i);
        }
        let idx = Arc::new(index::require(&self.store, version).await?);
        if let Ok(mut m) = self.indexes.write() {
            if m.len() >= 256 {
                m.clear();
            }
            m.insert(version.to_string(), idx.clone());
        }
        Ok(idx)
    }

    async fn blob(&self, entry: &FileEntry) -> Result<Bytes> {
        if let Some(b) = self
            .blobs
            .read()
            .ok()
            .and_then(|c| c.0.get(&entry.hash).cloned())
        {
            return Ok(b);
        }
        let key = keys::blob(&entry.hash);
        let b = self
            .store
            .get(&key)
            .await?
            .ok_or_else(|| Error::Integrity(format!("{key} is missing from the store")))?;
        if entry.size <= self.opts.cache_blob_max {
            if let Ok(mut c) = self.blobs.write() {
                if c.1 + entry.size <= self.opts.cache_total {
                    c.1 += entry.size;
                    c.0.insert(entry.hash.clone(), b.clone());
                }
            }
        }
        Ok(b)
    }
}

/// Runs the server until `shutdown` resolves. Reads the manifest before listening.
pub async fn serve(
    store: Store,
    opts: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(SocketAddr),
) -> Result<()> {
    let edge = Edge::new(store, opts.clone());
    if let Err(e) = edge.refresh().await {
        opts.reporter
            .warn(&format!("{e}; answering 503 until a manifest can be read"));
    }
    let refresher = {
        let edge = edge.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(edge.opts.ttl);
            tick.tick().await;
            let mut failing = false;
            loop {
                tick.tick().await;
                match edge.refresh().await {
                    Ok(()) => failing = false,
                    Err(e) => {
                        if !failing {
                            edge.opts.reporter.warn(&format!(
                                "manifest refresh failed, keeping the last good one: {e}"
                            ));
                        }
                        failing = true;
                    }
                }
            }
        })
    };
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| Error::input(format!("cannot listen on {}: {e}", opts.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::input(e.to_string()))?;
    ready(addr);
    let app = Router::new().fallback(handle).with_state(edge);
    // Responses are written whole; Nagle's algorithm would only hold their tails back.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
        let _ = tcp.set_nodelay(true);
    });
    let r = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::input(format!("server error: {e}")));
    refresher.abort();
    r
}

fn plain(status: StatusCode, msg: &str) -> Response<Body> {
    let mut r = Response::new(Body::from(format!("{msg}\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Decodes and checks a request path: `None` for anything that is not a clean site
/// path (traversal, encoded `..`, `//`, NUL, backslash, over-long, bad UTF-8).
pub fn clean_path(raw: &str) -> Option<String> {
    if raw.len() > 2048 || !raw.starts_with('/') {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()?;
    if decoded.len() > 1024 || decoded.contains(['\0', '\\']) || decoded.contains("//") {
        return None;
    }
    if decoded.split('/').any(|s| s == ".." || s == ".") {
        return None;
    }
    Some(decoded.into_owned())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    for v in headers.get_all(header::COOKIE) {
        let Ok(s) = v.to_str() else { continue };
        for part in s.split(';') {
            if let Some((k, v)) = part.trim().split_once('=') {
                if k == name && !v.is_empty() && v.len() <= 128 {
                    return Some(v.to_string());
                }
            }
        }
    }
    None
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

fn is_fingerprinted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split('.').any(|seg| {
        seg.len() >= 10
            && seg
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

fn lookup<'i>(idx: &'i VersionIndex, path: &str) -> Option<(&'i String, &'i FileEntry)> {
    let candidates = if path.ends_with('/') {
        vec![format!("{path}index.html")]
    } else {
        vec![
            path.to_string(),
            format!("{path}/index.html"),
            format!("{path}.html"),
        ]
    };
    candidates
        .into_iter()
        .find_map(|c| idx.files.get_key_value(&c))
}

async fn handle(State(edge): State<Arc<Edge>>, req: Request) -> Response<Body> {
    let started = Instant::now();
    let (version, resp) = route(&edge, req).await;
    let class = format!("{}xx", resp.status().as_u16() / 100);
    let v = version.unwrap_or_else(|| "none".into());
    edge.metrics
        .requests
        .get_or_create(&RequestLabels {
            version: v.clone(),
            status: class,
        })
        .inc();
    edge.metrics
        .latency
        .get_or_create(&VersionLabels { version: v })
        .observe(started.elapsed().as_secs_f64());
    resp
}

async fn route(edge: &Edge, req: Request) -> (Option<String>, Response<Body>) {
    let method = req.method().clone();
    if method != Method::GET && method != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return (None, r);
    }
    let uri = req.uri().clone();
    if uri.path() == "/metrics" {
        return (None, metrics(edge));
    }
    let Some(path) = clean_path(uri.path()) else {
        return (None, plain(StatusCode::BAD_REQUEST, "bad path"));
    };
    let Some(m) = edge.manifest() else {
        return (
            None,
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "no manifest for this channel yet",
            ),
        );
    };
    let headers = req.headers();
    let (uid, new_uid) = match cookie(headers, &m.routing.cookie) {
        Some(u) => (u, false),
        None => (uuid::Uuid::new_v4().to_string(), true),
    };
    let override_version = headers
        .get(m.routing.override_header.as_str())
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| query_param(uri.query(), "sv-version"));
    let Some(version) = routing::decide(&m, &uid, override_version.as_deref()).map(str::to_string)
    else {
        return (
            None,
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the channel has no version yet",
            ),
        );
    };
    let mut resp = serve_version(edge, &m, &version, &path, &method, headers).await;
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&version) {
        h.insert("x-sitevault-version", v);
    }
    if new_uid {
        let c = format!(
            "{}={uid}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
            m.routing.cookie
        );
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    (Some(version), resp)
}

async fn serve_version(
    edge: &Edge,
    m: &Manifest,
    version: &str,
    path: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Response<Body> {
    let idx = match edge.index(version).await {
        Ok(i) => i,
        Err(e) => {
            edge.opts.reporter.error(&e.to_string());
            return plain(StatusCode::BAD_GATEWAY, "version index unavailable");
        }
    };
    if let Some((_, entry)) = lookup(&idx, path) {
        return file_response(edge, entry, StatusCode::OK, method, headers).await;
    }
    // Skew protection: an open tab of another version asks for its fingerprinted assets.
    if is_fingerprinted(path) {
        let others = m
            .previous
            .iter()
            .chain(m.canary.as_ref().map(|c| &c.version))
            .chain(m.stable.as_ref());
        for other in others.filter(|v| v.as_str() != version) {
            if let Ok(oidx) = edge.index(other).await {
                if let Some(entry) = oidx.files.get(path) {
                    return file_response(edge, entry, StatusCode::OK, method, headers).await;
                }
            }
        }
    }
    match idx.files.get("/404.html") {
        Some(entry) => file_response(edge, entry, StatusCode::NOT_FOUND, method, headers).await,
        None => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

fn parse_range(h: &HeaderMap, size: u64) -> Option<Result<(u64, u64), ()>> {
    let v = h.get(header::RANGE)?.to_str().ok()?;
    let spec = v.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None; // multiple ranges: serve the whole file
    }
    let (a, b) = spec.split_once('-')?;
    let r = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            if n == 0 {
                return Some(Err(()));
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        (a, "") => (a.parse().ok()?, size.saturating_sub(1)),
        (a, b) => (
            a.parse().ok()?,
            b.parse::<u64>().ok()?.min(size.saturating_sub(1)),
        ),
    };
    if r.0 > r.1 || r.0 >= size {
        return Some(Err(()));
    }
    Some(Ok(r))
}

async fn file_response(
    edge: &Edge,
    entry: &FileEntry,
    status: StatusCode,
    method: &Method,
    headers: &HeaderMap,
) -> Response<Body> {
    let etag = format!("\"{}\"", entry.hash);
    let cache = if status == StatusCode::OK {
        entry.cache
    } else {
        CacheClass::Revalidate
    };
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, entry.content_type.as_str())
        .header(header::CACHE_CONTROL, cache.header())
        .header(header::ETAG, etag.as_str())
        .header(header::ACCEPT_RANGES, "bytes");
    if status == StatusCode::OK {
        let inm = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok());
        if inm
            .map(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
            .unwrap_or(false)
        {
            return builder
                .status(StatusCode::NOT_MODIFIED)
                .body(Body::empty())
                .unwrap_or_default();
        }
    }
    let range = if status == StatusCode::OK {
        parse_range(headers, entry.size)
    } else {
        None
    };
    match range {
        Some(Err(())) => {
            return builder
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{}", entry.size))
                .body(Body::empty())
                .unwrap_or_default()
        }
        Some(Ok((a, b))) => {
            builder = builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header(
                    header::CONTENT_RANGE,
                    format!("bytes {a}-{b}/{}", entry.size),
                )
                .header(header::CONTENT_LENGTH, b - a + 1);
            if method == Method::HEAD {
                return builder.body(Body::empty()).unwrap_or_default();
            }
            // Small blobs come from the memory cache; large ones: read the range only.
            let cached = if entry.size <= edge.opts.cache_blob_max {
                edge.blob(entry).await
            } else {
                Err(Error::input("large blob"))
            };
            let body = match cached {
                Ok(bytes) if (b as usize) < bytes.len() => {
                    bytes.slice(a as usize..(b + 1) as usize)
                }
                Ok(_) => {
                    edge.opts.reporter.error(&format!(
                        "blob {} is shorter than its index entry",
                        entry.hash
                    ));
                    return plain(StatusCode::BAD_GATEWAY, "blob unavailable");
                }
                Err(_) => match edge
                    .store
                    .get_range(&keys::blob(&entry.hash), a..b + 1)
                    .await
                {
                    Ok(b) => b,
                    Err(e) => {
                        edge.opts.reporter.error(&e.to_string());
                        return plain(StatusCode::BAD_GATEWAY, "blob unavailable");
                    }
                },
            };
            return builder.body(Body::from(body)).unwrap_or_default();
        }
        None => {}
    }
    builder = builder
        .status(status)
        .header(header::CONTENT_LENGTH, entry.size);
    if method == Method::HEAD {
        return builder.body(Body::empty()).unwrap_or_default();
    }
    if entry.size > edge.opts.cache_blob_max {
        // Large files are streamed from the store, never held in memory whole.
        return match edge.store.get_stream(&keys::blob(&entry.hash)).await {
            Ok(Some(stream)) => builder.body(Body::from_stream(stream)).unwrap_or_default(),
            Ok(None) => {
                edge.opts
                    .reporter
                    .error(&format!("blob {} is missing from the store", entry.hash));
                plain(StatusCode::BAD_GATEWAY, "blob unavailable")
            }
            Err(e) => {
                edge.opts.reporter.error(&e.to_string());
                plain(StatusCode::BAD_GATEWAY, "blob unavailable")
            }
        };
    }
    match edge.blob(entry).await {
        Ok(bytes) => builder.body(Body::from(bytes)).unwrap_or_default(),
        Err(e) => {
            edge.opts.reporter.error(&e.to_string());
            plain(StatusCode::BAD_GATEWAY, "blob unavailable")
        }
    }
}

fn metrics(edge: &Edge) -> Response<Body> {
    let age = edge
        .current
        .read()
        .ok()
        .and_then(|c| c.as_ref().map(|c| c.read_at.elapsed().as_secs_f64()))
        .unwrap_or(-1.0);
    edge.metrics.manifest_age.set(age);
    let mut buf = String::new();
    if prometheus_client::encoding::text::encode(&mut buf, &edge.metrics.registry).is_err() {
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "metrics encoding failed");
    }
    let mut r = Response::new(Body::from(buf));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(clean_path("/a/b%20c.html").as_deref(), Some("/a/b c.html"));
        for bad in [
            "/../etc/passwd",
            "/a/%2e%2e/b",
            "//x",
            "/a%00",
            "/a\\b",
            "x",
            "/%ff",
        ] {
            assert!(clean_path(bad).is_none(), "{bad}");
        }
        assert!(clean_path(&format!("/{}", "a".repeat(3000))).is_none());
    }

    #[test]
    fn fingerprints() {
        assert!(is_fingerprinted("/js/app.3f9a1c2b7e.js"));
        assert!(!is_fingerprinted("/index.html"));
        assert!(!is_fingerprinted("/js/app.js"));
    }

    #[test]
    fn ranges() {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_static("bytes=0-9"));
        assert_eq!(parse_range(&h, 100), Some(Ok((0, 9))));
        h.insert(header::RANGE, HeaderValue::from_static("bytes=-10"));
        assert_eq!(parse_range(&h, 100), Some(Ok((90, 99))));
        h.insert(header::RANGE, HeaderValue::from_static("bytes=200-"));
        assert_eq!(parse_range(&h, 100), Some(Err(())));
    }
}
