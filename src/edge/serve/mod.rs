//! `sitevault serve`: an HTTP server over any store that routes each visitor by the
//! channel manifest and serves the routed version's files — what a small team puts
//! behind a CDN, and how anyone tries a rollout locally.
//!
//! The manifest is re-read every TTL in the background (conditional GET where the
//! backend has ETags); a manifest that cannot be read keeps the last good one.
//! Version indexes are immutable and cached; small blobs are cached in memory.

mod cache;
mod metrics;
mod request;
mod response;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;

pub use cache::Edge;
pub use request::clean_path;

use crate::error::{Error, Result};
use crate::store::Store;

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
    let app = Router::new().fallback(response::handle).with_state(edge);
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
