//! Blob bodies checked against their blake3 as they stream: the last chunk is held
//! back until the whole blob has been hashed, so a corrupt blob ends the response
//! with an error (a truncated transfer) instead of completing it.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::stream::{BoxStream, Stream};

use super::cache::Edge;
use crate::error::{Error, Result};

/// Wraps `inner`, the bytes of blob `hash` of `size` bytes.
pub(crate) struct Verified {
    inner: BoxStream<'static, Result<Bytes>>,
    hasher: blake3::Hasher,
    seen: u64,
    size: u64,
    hash: String,
    held: Option<Bytes>,
    edge: Arc<Edge>,
    done: bool,
}

impl Verified {
    pub(crate) fn new(
        inner: BoxStream<'static, Result<Bytes>>,
        hash: &str,
        size: u64,
        edge: Arc<Edge>,
    ) -> Self {
        Verified {
            inner,
            hasher: blake3::Hasher::new(),
            seen: 0,
            size,
            hash: hash.to_string(),
            held: None,
            edge,
            done: false,
        }
    }

    fn fail(&mut self, msg: String) -> Poll<Option<Result<Bytes>>> {
        self.done = true;
        self.held = None;
        self.edge.corrupt(&self.hash, &msg);
        Poll::Ready(Some(Err(Error::Integrity(msg))))
    }
}

impl Stream for Verified {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            match this.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    this.edge
                        .opts
                        .reporter
                        .error(&format!("reading blob {}: {e}", this.hash));
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(chunk))) => {
                    this.seen += chunk.len() as u64;
                    if this.seen > this.size {
                        let msg = format!(
                            "blob {} is longer than the {} bytes its index says",
                            this.hash, this.size
                        );
                        return this.fail(msg);
                    }
                    this.hasher.update(&chunk);
                    if chunk.is_empty() {
                        continue;
                    }
                    if let Some(prev) = this.held.replace(chunk) {
                        return Poll::Ready(Some(Ok(prev)));
                    }
                }
                Poll::Ready(None) => {
                    let got = this.hasher.finalize().to_hex().to_string();
                    if this.seen != this.size || got != this.hash {
                        let msg = format!(
                            "blob {} is corrupt in the store ({} bytes, blake3 {got}): \
                             republish its version to repair it",
                            this.hash, this.seen
                        );
                        return this.fail(msg);
                    }
                    this.done = true;
                    this.edge.mark_verified(&this.hash);
                    return Poll::Ready(this.held.take().map(Ok));
                }
            }
        }
    }
}
