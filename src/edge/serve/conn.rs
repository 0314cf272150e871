//! Accepting connections and speaking HTTP/1.1 on them: a request head is read
//! into the connection's buffer and parsed in place (httparse, as hyper does), the
//! handler answers it from a borrowed view ([`Head`]), and the response head and
//! body leave in one `writev`. Limits: a header-read timeout, an idle timeout (no
//! byte moved either way), a send timeout (a client that stops reading a body), a
//! 64 KiB cap on a request head and a cap on open connections, so that slow or
//! silent sockets cannot exhaust file descriptors or starve normal visitors.
//!
//! Why not hyper: serve answers GET and HEAD from memory, and hyper's general
//! machinery (a header map built per request, its body and timer plumbing) was
//! two thirds of serve's user-space CPU per request (ARCHITECTURE.md, "serve").
//! What this layer does not do, it refuses plainly: a request with a body is
//! answered and its connection closed, never read on as the next request.

use std::future::Future;
use std::io::{IoSlice, Write as _};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{header, Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

pub(crate) use super::request::Head;
use super::response::Body;
use super::watched::{watchdog, Watched};

/// Limits applied to every connection of one listener.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) header: Duration,
    pub(crate) idle: Duration,
    pub(crate) body: Duration,
    pub(crate) max_connections: usize,
}

/// The largest request head read (a larger one is answered 431 and closed).
const MAX_HEAD: usize = 64 << 10;
/// The most header lines in a request head (hyper's default).
const MAX_HEADERS: usize = 100;

/// What answers the requests of one listener.
pub(crate) trait Handler: Send + Sync + 'static {
    fn handle<'a>(&'a self, head: &'a Head<'a>)
        -> impl Future<Output = Response<Body>> + Send + 'a;
}

/// Serves `handler` on `listener` until `stop` turns true, then lets open requests
/// end (at most `grace`).
pub(crate) async fn run<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    reporter: crate::report::Handle,
) {
    let max = limits.max_connections.clamp(1, u32::MAX as usize);
    let slots = Arc::new(Semaphore::new(max));
    let mut warned_full = false;
    loop {
        // At the cap, stop accepting: new sockets wait in the kernel's backlog.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stop.changed() => break,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                // EMFILE and friends: report once, back off briefly, keep serving.
                if !warned_full {
                    reporter.warn(&format!("accepting a connection failed: {e}"));
                    warned_full = true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        warned_full = false;
        // Responses are written whole; Nagle's algorithm would only hold their tails back.
        let _ = tcp.set_nodelay(true);
        let (watched, progress) = Watched::new(tcp);
        let handler = handler.clone();
        let (stop, stopped) = (stop.clone(), stop.clone());
        // The watchdog is a task of its own, woken by its timer only: a branch beside
        // the connection would be polled again at every read and write. It ending
        // aborts the connection (dropping it closes the socket); the connection
        // ending aborts it.
        let conn = tokio::spawn(async move {
            connection(watched, &*handler, stopped).await;
            drop(permit);
        });
        let abort = conn.abort_handle();
        let dog = tokio::spawn(async move {
            watchdog(progress, limits, stop).await;
            abort.abort();
        });
        tokio::spawn(async move {
            let _ = conn.await;
            dog.abort();
        });
    }
    drop(listener);
    // Every connection holds a slot: all of them back means all connections ended.
    let grace = limits.header.max(Duration::from_secs(1)) * 3;
    let _ = tokio::time::timeout(grace, slots.acquire_many(max as u32)).await;
}

/// Why a connection stops after the response it is writing.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Next {
    KeepAlive,
    Close,
}

/// One connection: requests read, answered and written in order until the client
/// closes, asks to close, sends what this server does not read on from, or the
/// server stops (its watchdog closes an idle connection at once; a busy one closes
/// after its answer).
async fn connection<H: Handler>(mut io: Watched, handler: &H, stop: watch::Receiver<bool>) {
    let mut buf: Vec<u8> = Vec::with_capacity(8 << 10);
    let mut out: Vec<u8> = Vec::with_capacity(512);
    // The first request's head is timed from the connection's start.
    io.progress.head_started();
    loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        let parsed = req.parse(&buf);
        let used = match parsed {
            Ok(httparse::Status::Complete(n)) if n <= MAX_HEAD => n,
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {
                // The head's timer runs from the end of the last answer, as
                // hyper's did: an idle keep-alive connection is closed after the
                // header timeout, not only after the idle one.
                io.progress.head_started();
                let between = buf.is_empty();
                if between {
                    // Nothing of a request read: the watchdog may close the
                    // connection when the server stops.
                    io.progress.enter_between();
                    if io.progress.stopping() {
                        return;
                    }
                }
                // Reads stop at the head cap (a head never needs more).
                let room = MAX_HEAD - buf.len();
                buf.reserve(room.min(4 << 10));
                let n = (&mut io).take(room as u64).read_buf(&mut buf).await;
                if between && !io.progress.leave_between() {
                    return;
                }
                match n {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue,
                }
            }
            // A head over 64 KiB or over 100 lines.
            Ok(_) | Err(httparse::Error::TooManyHeaders) => {
                let _ = refuse(
                    &mut io,
                    &mut out,
                    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                )
                .await;
                return;
            }
            Err(_) => {
                let _ = refuse(&mut io, &mut out, StatusCode::BAD_REQUEST).await;
                return;
            }
        };
        io.progress.head_done();
        let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version)
        else {
            let _ = refuse(&mut io, &mut out, StatusCode::BAD_REQUEST).await;
            return;
        };
        // Raw bytes outside ASCII in the target are refused, as hyper's URI parser
        // did: browsers send them percent-encoded.
        if !target.is_ascii() {
            let _ = refuse(&mut io, &mut out, StatusCode::BAD_REQUEST).await;
            return;
        }
        let head = Head {
            method,
            target,
            headers: req.headers,
        };
        let mut next = match framing(&head, version) {
            Ok(next) => next,
            Err(()) => {
                let _ = refuse(&mut io, &mut out, StatusCode::BAD_REQUEST).await;
                return;
            }
        };
        let is_head = method == "HEAD";
        let resp = handler.handle(&head).await;
        // The server's stop itself, not only the watchdog's word of it (a task that may
        // not have run yet): an answer written once the stop is sent says it closes.
        if io.progress.stopping() || *stop.borrow() {
            next = Next::Close;
        }
        if write_response(&mut io, &mut out, resp, is_head, version, &mut next)
            .await
            .is_err()
        {
            return;
        }
        if next == Next::Close {
            linger(&mut io).await;
            return;
        }
        buf.drain(..used);
    }
}

/// Whether the connection can carry another request after this one: HTTP/1.1 keeps
/// it unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`. A
/// request with a body (or a length this server cannot trust) is answered and the
/// connection closed: its body is never read as the next request.
fn framing(head: &Head<'_>, version: u8) -> Result<Next, ()> {
    let mut lengths = head.all(header::CONTENT_LENGTH.as_str());
    let length = match lengths.next() {
        None => None,
        Some(v) => {
            let n = std::str::from_utf8(v)
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or(())?;
            // Repeated lengths must agree (RFC 9112 6.3).
            if lengths.any(|other| other != v) {
                return Err(());
            }
            Some(n)
        }
    };
    let chunked = head.get(header::TRANSFER_ENCODING.as_str()).is_some();
    if chunked && length.is_some() {
        return Err(());
    }
    if chunked || length.is_some_and(|n| n > 0) {
        return Ok(Next::Close);
    }
    let (mut close, mut keep) = (false, false);
    for v in head.all(header::CONNECTION.as_str()) {
        for token in v.split(|&b| b == b',') {
            let token = token.trim_ascii();
            close |= token.eq_ignore_ascii_case(b"close");
            keep |= token.eq_ignore_ascii_case(b"keep-alive");
        }
    }
    Ok(match (version, close, keep) {
        (_, true, _) => Next::Close,
        (0, false, false) => Next::Close,
        _ => Next::KeepAlive,
    })
}

/// A plain refusal of a request this layer cannot read, then the connection closes.
async fn refuse(io: &mut Watched, out: &mut Vec<u8>, status: StatusCode) -> std::io::Result<()> {
    let msg = status.canonical_reason().unwrap_or("refused");
    let mut r = Response::new(Body::Full(Bytes::from(format!("{msg}\n"))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    let mut next = Next::Close;
    write_response(io, out, r, false, 1, &mut next).await?;
    linger(io).await;
    Ok(())
}

/// Ends a connection the server closes: the answer is flushed and the write side
/// shut, then what the client still sends (a body this server did not read) is read
/// and dropped, up to 256 KiB or one second, until the client closes. Closing with
/// unread input would send a reset, which can destroy the answer before the client
/// reads it.
async fn linger(io: &mut Watched) {
    if io.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0u8; 8 << 10];
    let mut left = 256usize << 10;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while left > 0 {
            match io.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}

/// Whether a response with `status` carries a body (RFC 9110 6.4.1).
fn has_body(status: StatusCode) -> bool {
    !(status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED)
}

/// Writes the status line and headers (with `date`, `content-length` when the
/// handler set none, and `connection: close` when the connection ends), then the
/// body, unless the request was a HEAD. A streamed body that ends short of, or runs
/// past, its declared length ends the connection: the client sees a cut transfer.
async fn write_response(
    io: &mut Watched,
    out: &mut Vec<u8>,
    resp: Response<Body>,
    is_head: bool,
    version: u8,
    next: &mut Next,
) -> std::io::Result<()> {
    let (parts, body) = resp.into_parts();
    let status = parts.status;
    let sends_body = has_body(status);
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    out.clear();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in &parts.headers {
        if name == header::CONNECTION {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if declared.is_none() && sends_body {
        match &body {
            Body::Empty => out.extend_from_slice(b"content-length: 0\r\n"),
            Body::Full(b) => {
                let _ = write!(out, "content-length: {}\r\n", b.len());
            }
            // No length: the body ends where the connection does.
            Body::Stream(_) => *next = Next::Close,
        }
    }
    super::date::append(out);
    match (*next, version) {
        (Next::Close, _) => out.extend_from_slice(b"connection: close\r\n"),
        // An HTTP/1.0 client assumes a close unless told otherwise.
        (Next::KeepAlive, 0) => out.extend_from_slice(b"connection: keep-alive\r\n"),
        (Next::KeepAlive, _) => {}
    }
    out.extend_from_slice(b"\r\n");
    if is_head || !sends_body {
        return io.write_all(out).await;
    }
    match body {
        Body::Empty => io.write_all(out).await,
        Body::Full(b) => {
            // A length the handler declared that the body does not have would
            // desynchronise the connection: it ends after this answer.
            if declared.is_some_and(|d| d != b.len() as u64) {
                *next = Next::Close;
            }
            write_two(io, out, &b).await
        }
        Body::Stream(mut s) => {
            io.write_all(out).await?;
            let mut sent = 0u64;
            while let Some(chunk) = s.next().await {
                let Ok(chunk) = chunk else {
                    *next = Next::Close;
                    return Ok(());
                };
                sent += chunk.len() as u64;
                if declared.is_some_and(|d| sent > d) {
                    *next = Next::Close;
                    return Ok(());
                }
                io.write_all(&chunk).await?;
            }
            if declared.is_some_and(|d| sent != d) {
                *next = Next::Close;
            }
            Ok(())
        }
    }
}

/// `a` then `b`, in as few `writev` calls as the socket takes them.
async fn write_two(io: &mut Watched, a: &[u8], b: &[u8]) -> std::io::Result<()> {
    let mut bufs = [IoSlice::new(a), IoSlice::new(b)];
    let mut left: &mut [IoSlice<'_>] = &mut bufs;
    while !left.is_empty() {
        let n = io.write_vectored(left).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut left, n);
    }
    Ok(())
}
