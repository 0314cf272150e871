//! Accepting connections: hyper's HTTP/1 server with a header-read timeout, an idle
//! timeout (no byte moved either way), a send timeout (a client that stops reading
//! a body), and a cap on open connections, so that slow or silent sockets cannot
//! exhaust file descriptors or starve normal visitors.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::{Instant, Sleep};

/// Limits applied to every connection of one listener.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) header: Duration,
    pub(crate) idle: Duration,
    pub(crate) body: Duration,
    pub(crate) max_connections: usize,
}

/// Serves `app` on `listener` until `stop` turns true, then lets open requests end
/// (at most `grace`).
pub(crate) async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    reporter: crate::report::Handle,
) {
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
        let io = TokioIo::new(Watched::new(tcp, limits.idle, limits.body));
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header)
            .keep_alive(true)
            // Request heads over 64 KiB are refused (431) rather than buffered.
            .max_buf_size(64 << 10)
            .serve_connection(io, TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    let grace = limits.header.max(Duration::from_secs(1)) * 3;
    let _ = tokio::time::timeout(grace, graceful.shutdown()).await;
}

/// A TCP stream that fails with `TimedOut` when no byte has moved for `idle`, or
/// when a write has been blocked (the client stopped reading) for `body`.
pub(crate) struct Watched {
    inner: TcpStream,
    idle: Duration,
    body: Duration,
    last_progress: Instant,
    write_blocked_since: Option<Instant>,
    read_sleep: Pin<Box<Sleep>>,
    write_sleep: Pin<Box<Sleep>>,
}

impl Watched {
    pub(crate) fn new(inner: TcpStream, idle: Duration, body: Duration) -> Self {
        let now = Instant::now();
        Watched {
            inner,
            idle,
            body,
            last_progress: now,
            write_blocked_since: None,
            read_sleep: Box::pin(tokio::time::sleep_until(now + idle)),
            write_sleep: Box::pin(tokio::time::sleep_until(now + body)),
        }
    }
}

fn timed_out(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, what.to_string())
}

/// Arms `sleep` for `deadline` and polls it: true when the deadline has passed.
fn expired(sleep: &mut Pin<Box<Sleep>>, deadline: Instant, cx: &mut Context<'_>) -> bool {
    if Instant::now() >= deadline {
        return true;
    }
    if sleep.deadline() != deadline {
        sleep.as_mut().reset(deadline);
    }
    sleep.as_mut().poll(cx).is_ready()
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.last_progress = Instant::now();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                let deadline = this.last_progress + this.idle;
                if expired(&mut this.read_sleep, deadline, cx) {
                    return Poll::Ready(Err(timed_out("connection idle too long")));
                }
                Poll::Pending
            }
            other => other,
        }
    }
}

impl Watched {
    /// Progress resets the body timer; a write blocked past `body` fails.
    fn after_write(
        &mut self,
        polled: Poll<std::io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<usize>> {
        match polled {
            Poll::Ready(Ok(n)) => {
                self.last_progress = Instant::now();
                self.write_blocked_since = None;
                Poll::Ready(Ok(n))
            }
            Poll::Pending => {
                let since = *self.write_blocked_since.get_or_insert_with(Instant::now);
                if expired(&mut self.write_sleep, since + self.body, cx) {
                    return Poll::Ready(Err(timed_out("client stopped reading the response")));
                }
                Poll::Pending
            }
            other => other,
        }
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
        this.after_write(polled, cx)
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
        this.after_write(polled, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
