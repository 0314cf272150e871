//! Answering a request: route the visitor, find the file, build the response.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, Response, StatusCode};

use super::cache::{Blob, Edge};
use super::conn::Handler;
use super::metrics::VersionStats;
use super::request::{clean, cookie, is_fingerprinted, lookup, parse_range, query_param, Head};
use super::stream::Verified;
use crate::channel::record::Manifest;
use crate::edge::encoding::{negotiate, Choice};
use crate::edge::routing;
use crate::error::Error;
use crate::schema::{CacheClass, FileEntry};
use crate::store::keys;

const X_VERSION: HeaderName = HeaderName::from_static("x-sitevault-version");

/// A response body: nothing, bytes in memory, or a blob verified as it streams.
#[derive(Default)]
pub(super) enum Body {
    #[default]
    Empty,
    Full(Bytes),
    /// Boxed: a blake3 hasher is large, and responses are moved several times.
    Stream(Box<Verified>),
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::Full(b)
    }
}

/// The request methods serve answers; any other gets a 405.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Method {
    Get,
    Head,
    Other,
}

impl Method {
    /// Methods are case-sensitive (RFC 9110 9.1).
    fn of(m: &str) -> Self {
        match m {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            _ => Method::Other,
        }
    }
}

/// The site's listener: every request routed to a version and answered from it.
pub(super) struct Site(pub(super) Arc<Edge>);

impl Handler for Site {
    async fn handle<'a>(&'a self, head: &'a Head<'a>) -> Response<Body> {
        handle(&self.0, head).await
    }
}

/// The metrics listener: every request gets the metrics page.
pub(super) struct Metrics(pub(super) Arc<Edge>);

impl Handler for Metrics {
    async fn handle<'a>(&'a self, _head: &'a Head<'a>) -> Response<Body> {
        metrics(&self.0)
    }
}

fn plain(status: StatusCode, msg: &str) -> Response<Body> {
    let mut r = Response::new(Body::Full(Bytes::from(format!("{msg}\n"))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn handle(edge: &Arc<Edge>, req: &Head<'_>) -> Response<Body> {
    let started = Instant::now();
    let (stats, resp) = route(edge, req).await;
    let stats = stats.unwrap_or_else(|| edge.metrics.version("none"));
    stats.record(resp.status(), started.elapsed().as_secs_f64());
    resp
}

async fn route(edge: &Arc<Edge>, req: &Head<'_>) -> (Option<Arc<VersionStats>>, Response<Body>) {
    let method = Method::of(req.method);
    if method == Method::Other {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return (None, r);
    }
    let Some(path) = clean(req.path()) else {
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
    let (uid, new_uid) = match cookie(req, &m.routing.cookie) {
        Some(u) => (Cow::Borrowed(u), false),
        None => (Cow::Owned(uuid::Uuid::new_v4().to_string()), true),
    };
    let override_version = req
        .text(m.routing.override_header.as_str())
        .and_then(Result::ok)
        .map(Cow::Borrowed)
        .or_else(|| query_param(req.query(), "sv-version").map(Cow::Owned));
    let Some(version) = routing::decide(&m, &uid, override_version.as_deref()) else {
        return (
            None,
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the channel has no version yet",
            ),
        );
    };
    let stats = edge.metrics.version(version);
    let faulted = match edge.opts.faults.is_empty() {
        true => false,
        false => match edge.opts.faults.get(version) {
            Some(f) => Box::pin(f.strike()).await,
            None => false,
        },
    };
    let mut resp = if faulted {
        plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "injected fault (sitevault serve --fault drill)",
        )
    } else {
        serve_version(edge, &m, version, &path, method, req).await
    };
    let h = resp.headers_mut();
    if let Some(v) = &stats.header {
        h.insert(X_VERSION, v.clone());
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
    (Some(stats), resp)
}

async fn serve_version(
    edge: &Arc<Edge>,
    m: &Manifest,
    version: &str,
    path: &str,
    method: Method,
    headers: &Head<'_>,
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
                if let Some(entry) = oidx.0.get(path) {
                    return file_response(edge, entry, StatusCode::OK, method, headers).await;
                }
            }
        }
    }
    match idx.0.get("/404.html") {
        Some(entry) => file_response(edge, entry, StatusCode::NOT_FOUND, method, headers).await,
        None => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

async fn file_response(
    edge: &Arc<Edge>,
    entry: &FileEntry,
    status: StatusCode,
    method: Method,
    headers: &Head<'_>,
) -> Response<Body> {
    // Which bytes: the file's, or a precompressed variant the client accepts.
    let accept = accept_encoding(headers);
    let accept = accept.as_deref();
    // A range request gets the identity bytes (as the worker does, and as CDNs
    // do): a resumed download then never depends on which variant came first.
    let ranged = status == StatusCode::OK && headers.contains(header::RANGE.as_str());
    let none = crate::schema::Encodings::default();
    let offered = if ranged { &none } else { &entry.enc };
    let (body, coding) = match negotiate(accept, offered) {
        Choice::Identity => (
            Blob {
                hash: &entry.hash,
                size: entry.size,
            },
            None,
        ),
        Choice::Encoded(c) => match entry.enc.get(c) {
            Some(v) => (
                Blob {
                    hash: &v.hash,
                    size: v.size,
                },
                Some(c),
            ),
            None => (
                Blob {
                    hash: &entry.hash,
                    size: entry.size,
                },
                None,
            ),
        },
        Choice::NotAcceptable => {
            let mut r = plain(
                StatusCode::NOT_ACCEPTABLE,
                "this file is stored only in codings the request refuses (Accept-Encoding)",
            );
            r.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
            return r;
        }
    };
    // Each representation has its own ETag: the blake3 of the bytes it sends.
    let cache = if status == StatusCode::OK {
        entry.cache
    } else {
        CacheClass::Revalidate
    };
    // Header values built directly (no per-header parsing through a builder); a
    // value that is not a valid header gives an empty default response, as the
    // builder did.
    let (Some(content_type), Some(etag)) =
        (content_type(&entry.content_type), etag_value(body.hash))
    else {
        return Response::default();
    };
    let mut h = HeaderMap::with_capacity(12);
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache.header()),
    );
    h.insert(header::ETAG, etag);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if !entry.enc.is_empty() {
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if let Some(c) = coding {
        h.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(c.token()),
        );
    }
    let respond = |status: StatusCode, h: HeaderMap, body: Body| {
        let mut r = Response::new(body);
        *r.status_mut() = status;
        *r.headers_mut() = h;
        r
    };
    if status == StatusCode::OK {
        // If-Match compares strongly; a representation it does not name is a 412.
        let im = headers
            .text(header::IF_MATCH.as_str())
            .map(|v| v.unwrap_or(""));
        if im.is_some_and(|v| !strong_match(v, body.hash)) {
            return plain(
                StatusCode::PRECONDITION_FAILED,
                "the file's ETag does not match If-Match",
            );
        }
        let inm = headers
            .text(header::IF_NONE_MATCH.as_str())
            .and_then(Result::ok);
        if inm
            .map(|v| etag_matches_hash(v, body.hash))
            .unwrap_or(false)
        {
            return respond(StatusCode::NOT_MODIFIED, h, Body::Empty);
        }
    }
    // If-Range names the representation a resumed download began with: any other
    // (a rollout since, another variant, a date: no Last-Modified is sent) gets the
    // whole file, never a range of bytes from another version.
    let if_range = headers
        .text(header::IF_RANGE.as_str())
        .map(|v| v.unwrap_or(""));
    let range =
        if status == StatusCode::OK && if_range.is_none_or(|v| is_etag_of(v.trim(), body.hash)) {
            parse_range(headers, body.size)
        } else {
            None
        };
    match range {
        Some(Err(())) => {
            h.insert(
                header::CONTENT_RANGE,
                header_value(format!("bytes */{}", body.size)),
            );
            return respond(StatusCode::RANGE_NOT_SATISFIABLE, h, Body::Empty);
        }
        Some(Ok((a, b))) => {
            h.insert(
                header::CONTENT_RANGE,
                header_value(format!("bytes {a}-{b}/{}", body.size)),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(b - a + 1));
            // Small blobs come from the memory cache (verified); large ones are
            // verified once as a whole, then only the range is read. A HEAD is
            // checked the same way, so it answers what a GET would.
            let bytes = if body.size <= edge.opts.cache_blob_max {
                match edge.blob(body).await {
                    Ok(bytes) if (b as usize) < bytes.len() => {
                        bytes.slice(a as usize..(b + 1) as usize)
                    }
                    Ok(_) => return plain(StatusCode::BAD_GATEWAY, "blob unavailable"),
                    Err(e) => return blob_error(edge, e),
                }
            } else {
                if let Err(e) = Box::pin(edge.verify_large(body)).await {
                    return blob_error(edge, e);
                }
                if method == Method::Head {
                    return respond(StatusCode::PARTIAL_CONTENT, h, Body::Empty);
                }
                match Box::pin(edge.store.get_range(&keys::blob(body.hash), a..b + 1)).await {
                    Ok(bytes) if bytes.len() as u64 == b - a + 1 => bytes,
                    Ok(_) => {
                        edge.opts.reporter.error(&format!(
                            "blob {} changed in the store while it was served",
                            body.hash
                        ));
                        return plain(StatusCode::BAD_GATEWAY, "blob unavailable");
                    }
                    Err(e) => return blob_error(edge, e),
                }
            };
            if method == Method::Head {
                return respond(StatusCode::PARTIAL_CONTENT, h, Body::Empty);
            }
            return respond(StatusCode::PARTIAL_CONTENT, h, Body::Full(bytes));
        }
        None => {}
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.size));
    if body.size > edge.opts.cache_blob_max {
        // Up to VERIFY_FIRST_MAX, checked whole before the status line goes out (once
        // per blob: then it is known good), so a corrupt blob is a 502, never a 200 cut
        // short. Larger ones would keep a connection silent past its idle timeout
        // while they are read: those are checked as they stream, the last chunk held
        // back, so a corrupt one ends as a failed transfer. Every stream is hashed, in
        // case the store changes after the check.
        if body.size <= VERIFY_FIRST_MAX {
            if let Err(e) = Box::pin(edge.verify_large(body)).await {
                return blob_error(edge, e);
            }
        }
        if method == Method::Head {
            return respond(status, h, Body::Empty);
        }
        // Large files are streamed from the store, never held in memory whole.
        return match Box::pin(edge.store.get_stream(&keys::blob(body.hash))).await {
            Ok(Some(stream)) => {
                let verified = Verified::new(stream, body.hash, body.size, edge.clone());
                respond(status, h, Body::Stream(Box::new(verified)))
            }
            Ok(None) => {
                edge.opts
                    .reporter
                    .error(&format!("blob {} is missing from the store", body.hash));
                plain(StatusCode::BAD_GATEWAY, "blob unavailable")
            }
            Err(e) => {
                edge.opts.reporter.error(&e.to_string());
                plain(StatusCode::BAD_GATEWAY, "blob unavailable")
            }
        };
    }
    match edge.blob(body).await {
        Ok(_) if method == Method::Head => respond(status, h, Body::Empty),
        Ok(bytes) => respond(status, h, Body::Full(bytes)),
        Err(e) => blob_error(edge, e),
    }
}

/// The largest blob read whole before its response starts (64 MiB: under a second
/// from a store at 100 MB/s, well inside any idle timeout).
const VERIFY_FIRST_MAX: u64 = 64 << 20;

/// A header value made of ASCII the server wrote itself.
fn header_value(s: String) -> HeaderValue {
    HeaderValue::try_from(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Content-Type` value: the common types without a copy.
fn content_type(t: &str) -> Option<HeaderValue> {
    Some(match t {
        "text/html; charset=utf-8" => HeaderValue::from_static("text/html; charset=utf-8"),
        "text/javascript; charset=utf-8" => {
            HeaderValue::from_static("text/javascript; charset=utf-8")
        }
        "text/css; charset=utf-8" => HeaderValue::from_static("text/css; charset=utf-8"),
        "application/json" => HeaderValue::from_static("application/json"),
        "image/svg+xml" => HeaderValue::from_static("image/svg+xml"),
        _ => return HeaderValue::from_str(t).ok(),
    })
}

/// `"hash"`, the ETag of the representation whose blake3 is `hash`.
fn etag_value(hash: &str) -> Option<HeaderValue> {
    let mut v = Vec::with_capacity(hash.len() + 2);
    v.push(b'"');
    v.extend_from_slice(hash.as_bytes());
    v.push(b'"');
    HeaderValue::from_maybe_shared(Bytes::from(v)).ok()
}

/// The request's `Accept-Encoding`, its lines joined with commas as RFC 9110 reads a
/// repeated field (the worker's `headers.get` does the same); `None` when absent.
/// Bytes outside ASCII are kept (as replacement characters): they match no coding.
fn accept_encoding<'h>(headers: &Head<'h>) -> Option<std::borrow::Cow<'h, str>> {
    let mut lines = headers.all(header::ACCEPT_ENCODING.as_str());
    let first = String::from_utf8_lossy(lines.next()?);
    let rest: Vec<_> = lines.collect();
    if rest.is_empty() {
        return Some(first);
    }
    let mut all = first.into_owned();
    for v in rest {
        all.push_str(", ");
        all.push_str(&String::from_utf8_lossy(v));
    }
    Some(all.into())
}

/// A blob that cannot be served: 502. Corruption was already logged and counted.
fn blob_error(edge: &Edge, e: Error) -> Response<Body> {
    if !matches!(e, Error::Integrity(_)) {
        edge.opts.reporter.error(&e.to_string());
    }
    plain(StatusCode::BAD_GATEWAY, "blob unavailable")
}

/// `If-None-Match`: a list of entity tags (weak ones compare equal by RFC 9110), or
/// `*`; the ETag here is `"hash"`.
fn etag_matches_hash(header: &str, hash: &str) -> bool {
    header.split(',').any(|t| {
        let t = t.trim();
        t == "*"
            || t.strip_prefix("W/")
                .unwrap_or(t)
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                == Some(hash)
    })
}

/// Whether `t` is exactly the strong ETag `"hash"`.
fn is_etag_of(t: &str, hash: &str) -> bool {
    t.strip_prefix('"').and_then(|t| t.strip_suffix('"')) == Some(hash)
}

/// If-Match: `*`, or a list naming `"hash"` (strong comparison: `W/` never matches).
fn strong_match(header: &str, hash: &str) -> bool {
    header
        .split(',')
        .any(|t| t.trim() == "*" || is_etag_of(t.trim(), hash))
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
    let mut r = Response::new(Body::Full(Bytes::from(buf)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}
