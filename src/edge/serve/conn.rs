//! Accepting connections: hyper's HTTP/1 server with a header-read timeout, an idle
//! timeout (no byte moved either way), a send timeout (a client that stops reading
//! a body), and a cap on open connections, so that slow or silent sockets cannot
//! exhaust file descriptors or starve normal visitors.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use std::convert::Infallible;
use std::future::Future;

use axum::http::{Request, Response};
use futures::future::{FutureExt, Map};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

/// Limits applied to every connection of one listener.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) header: Duration,
    pub(crate) idle: Duration,
    pub(crate) body: Duration,
    pub(crate) max_connections: usize,
}

/// A hyper service that answers each request with `handler` (which never fails).
#[derive(Clone)]
pub(crate) struct Handler<H>(pub(crate) H);

type Answer<B> = Result<Response<B>, Infallible>;

impl<H, F, B> hyper::service::Service<Request<Incoming>> for Handler<H>
where
    H: Fn(Request<Incoming>) -> F,
    F: Future<Output = Response<B>>,
{
    type Response = Response<B>;
    type Error = Infallible;
    type Future = Map<F, fn(Response<B>) -> Answer<B>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        (self.0)(req).map(Ok as fn(Response<B>) -> Answer<B>)
    }
}

/// Serves `handler` on `listener` until `stop` turns true, then lets open requests
/// end (at most `grace`).
pub(crate) async fn run<H, F, B>(
    listener: TcpListener,
    handler: H,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    reporter: crate::report::Handle,
) where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
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
        let io = TokioIo::new(watched);
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header)
            .keep_alive(true)
            // Request heads over 64 KiB are refused (431) rather than buffered.
            .max_buf_size(64 << 10)
            .serve_connection(io, Handler(handler.clone()));
        let conn = graceful.watch(conn);
        let (idle, body) = (limits.idle, limits.body);
        tokio::spawn(async move {
            // The watchdog ending drops the connection, which closes the socket.
            tokio::select! {
                _ = conn => {}
                _ = watchdog(progress, idle, body) => {}
            }
            drop(permit);
        });
    }
    drop(listener);
    let grace = limits.header.max(Duration::from_secs(1)) * 3;
    let _ = tokio::time::timeout(grace, graceful.shutdown()).await;
}

/// When bytes last moved on a connection, and since when a write has been blocked
/// (the client stopped reading), in milliseconds since the connection began. Plain
/// atomics: the I/O path only stores a time, and one watchdog timer per connection
/// reads them, instead of a timer re-armed on every read and write.
pub(crate) struct Progress {
    epoch: std::time::Instant,
    last: AtomicU64,
    /// 0: not blocked; else 1 + the time the write blocked.
    blocked_since: AtomicU64,
}

impl Progress {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

/// Ends when no byte has moved for `idle`, or a write has been blocked for `body`;
/// checked a few times per period, so a connection closes within 1¼ of it.
pub(crate) async fn watchdog(p: Arc<Progress>, idle: Duration, body: Duration) {
    let tick = (idle.min(body) / 4).max(Duration::from_millis(10));
    let (idle, body) = (idle.as_millis() as u64, body.as_millis() as u64);
    loop {
        tokio::time::sleep(tick).await;
        let now = p.now();
        if now.saturating_sub(p.last.load(Ordering::Relaxed)) >= idle {
            return;
        }
        let blocked = p.blocked_since.load(Ordering::Relaxed);
        if blocked != 0 && now.saturating_sub(blocked - 1) >= body {
            return;
        }
    }
}

/// A TCP stream that records its progress for the connection's [`watchdog`].
pub(crate) struct Watched {
    inner: TcpStream,
    progress: Arc<Progress>,
}

impl Watched {
    pub(crate) fn new(inner: TcpStream) -> (Self, Arc<Progress>) {
        let progress = Arc::new(Progress {
            epoch: std::time::Instant::now(),
            last: AtomicU64::new(0),
            blocked_since: AtomicU64::new(0),
        });
        (
            Watched {
                inner,
                progress: progress.clone(),
            },
            progress,
        )
    }

    /// A write finished (progress) or is blocked (the body timer runs).
    fn after_write(&self, polled: Poll<std::io::Result<usize>>) -> Poll<std::io::Result<usize>> {
        let p = &self.progress;
        match &polled {
            Poll::Ready(Ok(_)) => {
                p.last.store(p.now(), Ordering::Relaxed);
                p.blocked_since.store(0, Ordering::Relaxed);
            }
            Poll::Pending => {
                if p.blocked_since.load(Ordering::Relaxed) == 0 {
                    p.blocked_since.store(p.now() + 1, Ordering::Relaxed);
                }
            }
            Poll::Ready(Err(_)) => {}
        }
        polled
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.progress
                .last
                .store(this.progress.now(), Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_write(cx, data);
        this.after_write(polled)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.after_write(polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
