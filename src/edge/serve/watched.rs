//! What each connection is watched for: bytes that stop moving (idle), a client
//! that stops reading a body, a request head that takes too long, and the server
//! stopping. The connection's I/O only stores times in atomics; one watchdog task
//! per connection reads them a few times per period.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::conn::Limits;

/// When bytes last moved on a connection, since when a write has been blocked (the
/// client stopped reading), and since when a request head has been awaited, in
/// milliseconds since the connection began. Plain atomics: the I/O path only stores
/// a time, and one watchdog timer per connection reads them, instead of a timer
/// re-armed on every read, write and request.
pub(crate) struct Progress {
    epoch: std::time::Instant,
    last: AtomicU64,
    /// 0: not blocked; else 1 + the time the write blocked.
    blocked_since: AtomicU64,
    /// 0: no head awaited; else 1 + the time its wait began.
    head_since: AtomicU64,
    /// Waiting for a request with nothing of it read: the connection can be closed
    /// without cutting an answer.
    between: AtomicBool,
    /// The server is stopping: the connection closes after the answer it writes.
    stopping: AtomicBool,
}

impl Progress {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// A request head is awaited (kept if one already was).
    pub(super) fn head_started(&self) {
        if self.head_since.load(Ordering::Relaxed) == 0 {
            self.head_since.store(self.now() + 1, Ordering::Relaxed);
        }
    }

    /// The head arrived whole.
    pub(super) fn head_done(&self) {
        self.head_since.store(0, Ordering::Relaxed);
    }

    /// The connection waits for a request with nothing of it read.
    pub(super) fn enter_between(&self) {
        self.between.store(true, Ordering::SeqCst);
    }

    /// The wait ended: `false` when the watchdog claimed the connection first (the
    /// server stops), which must then not start another answer.
    pub(super) fn leave_between(&self) -> bool {
        self.between.swap(false, Ordering::SeqCst)
    }

    /// The watchdog's side: whether it took the connection while it was between
    /// requests (then closing it cuts no answer).
    fn claim_between(&self) -> bool {
        self.between
            .compare_exchange(true, false, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    pub(super) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

/// Ends when no byte has moved for the idle limit, a write has been blocked for the
/// body limit, a request head has taken longer than the header limit (checked a few
/// times per period, so a connection closes within 1¼ of it), or the server stops
/// while the connection waits between requests. Stop is watched here, once per
/// connection, rather than around every read.
pub(crate) async fn watchdog(p: Arc<Progress>, limits: Limits, mut stop: watch::Receiver<bool>) {
    let tick = (limits.idle.min(limits.body).min(limits.header) / 4).max(Duration::from_millis(10));
    let ms = |d: Duration| d.as_millis() as u64;
    let (idle, body, header) = (ms(limits.idle), ms(limits.body), ms(limits.header));
    let mut stopping = *stop.borrow();
    loop {
        if stopping && !p.stopping.swap(true, Ordering::SeqCst) {
            // Claimed while it waits between requests: closed here. Otherwise the
            // connection sees `stopping` itself, before its next wait or after the
            // answer it is writing (both sides use SeqCst: one of them sees the other).
            if p.claim_between() {
                return;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            changed = stop.changed(), if !stopping => {
                stopping = changed.is_err() || *stop.borrow();
                continue;
            }
        }
        let now = p.now();
        if now.saturating_sub(p.last.load(Ordering::Relaxed)) >= idle {
            return;
        }
        let blocked = p.blocked_since.load(Ordering::Relaxed);
        if blocked != 0 && now.saturating_sub(blocked - 1) >= body {
            return;
        }
        let head = p.head_since.load(Ordering::Relaxed);
        if head != 0 && now.saturating_sub(head - 1) >= header {
            return;
        }
    }
}

/// A TCP stream that records its progress for the connection's [`watchdog`].
pub(crate) struct Watched {
    inner: TcpStream,
    pub(super) progress: Arc<Progress>,
}

impl Watched {
    pub(crate) fn new(inner: TcpStream) -> (Self, Arc<Progress>) {
        let progress = Arc::new(Progress {
            epoch: std::time::Instant::now(),
            last: AtomicU64::new(0),
            blocked_since: AtomicU64::new(0),
            head_since: AtomicU64::new(0),
            between: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
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
