//! Answering a request: route the visitor, find the file, build the response.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};

use super::cache::{Blob, Edge};
use super::metrics::{RequestLabels, VersionLabels};
use super::request::{clean_path, cookie, is_fingerprinted, lookup, parse_range, query_param};
use crate::channel::record::Manifest;
use crate::edge::encoding::{negotiate, Choice};
use crate::edge::routing;
use crate::error::Error;
use crate::schema::{CacheClass, FileEntry};
use crate::store::keys;

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

pub(super) async fn handle(State(edge): State<Arc<Edge>>, req: Request) -> Response<Body> {
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

async fn route(edge: &Arc<Edge>, req: Request) -> (Option<String>, Response<Body>) {
    let method = req.method().clone();
    if method != Method::GET && method != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return (None, r);
    }
    let uri = req.uri().clone();
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
    let faulted = match edge.opts.faults.is_empty() {
        true => false,
        false => match edge.opts.faults.get(&version) {
            Some(f) => f.strike().await,
            None => false,
        },
    };
    let mut resp = if faulted {
        plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "injected fault (sitevault serve --fault drill)",
        )
    } else {
        serve_version(edge, &m, &version, &path, &method, headers).await
    };
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
    edge: &Arc<Edge>,
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

async fn file_response(
    edge: &Arc<Edge>,
    entry: &FileEntry,
    status: StatusCode,
    method: &Method,
    headers: &HeaderMap,
) -> Response<Body> {
    // Which bytes: the file's, or a precompressed variant the client accepts.
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .map(|v| v.to_str().unwrap_or(""));
    // A range request gets the identity bytes (as the worker does, and as CDNs
    // do): a resumed download then never depends on which variant came first.
    let ranged = status == StatusCode::OK && headers.contains_key(header::RANGE);
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
    let etag = format!("\"{}\"", body.hash);
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
    if !entry.enc.is_empty() {
        builder = builder.header(header::VARY, "Accept-Encoding");
    }
    if let Some(c) = coding {
        builder = builder.header(header::CONTENT_ENCODING, c.token());
    }
    if status == StatusCode::OK {
        let inm = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok());
        if inm.map(|v| etag_matches(v, &etag)).unwrap_or(false) {
            return builder
                .status(StatusCode::NOT_MODIFIED)
                .body(Body::empty())
                .unwrap_or_default();
        }
    }
    let range = if status == StatusCode::OK {
        parse_range(headers, body.size)
    } else {
        None
    };
    match range {
        Some(Err(())) => {
            return builder
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{}", body.size))
                .body(Body::empty())
                .unwrap_or_default()
        }
        Some(Ok((a, b))) => {
            builder = builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header(
                    header::CONTENT_RANGE,
                    format!("bytes {a}-{b}/{}", body.size),
                )
                .header(header::CONTENT_LENGTH, b - a + 1);
            if method == Method::HEAD {
                return builder.body(Body::empty()).unwrap_or_default();
            }
            // Small blobs come from the memory cache (verified); large ones are
            // verified once as a whole, then only the range is read.
            let bytes = if body.size <= edge.opts.cache_blob_max {
                match edge.blob(body).await {
                    Ok(bytes) if (b as usize) < bytes.len() => {
                        bytes.slice(a as usize..(b + 1) as usize)
                    }
                    Ok(_) => return plain(StatusCode::BAD_GATEWAY, "blob unavailable"),
                    Err(e) => return blob_error(edge, e),
                }
            } else {
                if let Err(e) = edge.verify_large(body).await {
                    return blob_error(edge, e);
                }
                match edge.store.get_range(&keys::blob(body.hash), a..b + 1).await {
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
            return builder.body(Body::from(bytes)).unwrap_or_default();
        }
        None => {}
    }
    builder = builder
        .status(status)
        .header(header::CONTENT_LENGTH, body.size);
    if method == Method::HEAD {
        return builder.body(Body::empty()).unwrap_or_default();
    }
    if body.size > edge.opts.cache_blob_max {
        // Large files are streamed from the store, never held in memory whole.
        return match edge.store.get_stream(&keys::blob(body.hash)).await {
            Ok(Some(stream)) => {
                let verified =
                    super::stream::Verified::new(stream, body.hash, body.size, edge.clone());
                builder
                    .body(Body::from_stream(verified))
                    .unwrap_or_default()
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
        Ok(bytes) => builder.body(Body::from(bytes)).unwrap_or_default(),
        Err(e) => blob_error(edge, e),
    }
}

/// A blob that cannot be served: 502. Corruption was already logged and counted.
fn blob_error(edge: &Edge, e: Error) -> Response<Body> {
    if !matches!(e, Error::Integrity(_)) {
        edge.opts.reporter.error(&e.to_string());
    }
    plain(StatusCode::BAD_GATEWAY, "blob unavailable")
}

/// `If-None-Match`: a list of entity tags (weak ones compare equal by RFC 9110), or `*`.
pub(super) fn etag_matches(header: &str, etag: &str) -> bool {
    header.split(',').any(|t| {
        let t = t.trim();
        t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
    })
}

/// The metrics listener's only answer.
pub(super) async fn metrics_handler(State(edge): State<Arc<Edge>>) -> Response<Body> {
    metrics(&edge)
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
