//! `sitevault serve`: an HTTP server over any store that routes each visitor by the
//! channel manifest and serves the routed version's files — what a small team puts
//! behind a CDN, and how anyone tries a rollout locally.
//!
//! The manifest is re-read every TTL in the background (conditional GET where the
//! backend has ETags); a manifest that cannot be read keeps the last good one.
//! Version indexes are immutable and cached; small blobs are cached in memory.

mod cache;
mod conn;
mod date;
mod fault;
mod metrics;
mod request;
mod response;
mod stream;
mod watched;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use cache::Edge;
pub use fault::{parse_fault, Fault};
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
    /// Where `/metrics` is served (Prometheus text); `None` = not served. The site's
    /// own port never answers `/metrics` itself: that path is a site path there.
    pub metrics_listen: Option<SocketAddr>,
    /// A client must send a request's headers within this time.
    pub header_timeout: Duration,
    /// A connection on which no byte moves for this long is closed.
    pub idle_timeout: Duration,
    /// A response that the client stops reading for this long is abandoned.
    pub body_timeout: Duration,
    /// Open connections at most; further ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// Drill faults per version (`--fault`); empty in normal operation.
    pub faults: std::collections::BTreeMap<String, Fault>,
}

impl ServeOptions {
    /// Defaults: 127.0.0.1:8080, TTL 5 s, 64 MB blob cache of files up to 1 MB, no
    /// metrics listener, header timeout 10 s, idle 60 s, body 30 s, 4,096 connections.
    pub fn new(channel: &str) -> Self {
        ServeOptions {
            channel: channel.to_string(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            ttl: Duration::from_secs(5),
            cache_blob_max: 1 << 20,
            cache_total: 64 << 20,
            reporter: Default::default(),
            metrics_listen: None,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            max_connections: 4096,
            faults: Default::default(),
        }
    }

    /// Refuses values the server cannot run with (usage errors).
    pub fn check(&self) -> Result<()> {
        let min = Duration::from_millis(100);
        let max = Duration::from_secs(86_400);
        for (name, d) in [
            ("ttl", self.ttl),
            ("header timeout", self.header_timeout),
            ("idle timeout", self.idle_timeout),
            ("body timeout", self.body_timeout),
        ] {
            if d < min || d > max {
                return Err(Error::usage(format!(
                    "{name} {d:?} is out of range: give between 100ms and 24h (e.g. 5s)"
                )));
            }
        }
        if self.max_connections == 0 {
            return Err(Error::usage(
                "max connections must be at least 1 (e.g. 4096)",
            ));
        }
        Ok(())
    }

    fn limits(&self) -> conn::Limits {
        conn::Limits {
            header: self.header_timeout,
            idle: self.idle_timeout,
            body: self.body_timeout,
            max_connections: self.max_connections,
        }
    }
}

/// A server whose listeners are bound: its addresses are known, nothing is served
/// until [`Bound::run`].
pub struct Bound {
    edge: std::sync::Arc<Edge>,
    site: TcpListener,
    metrics: Option<TcpListener>,
}

impl Bound {
    /// The site's address (the real port when listening on port 0).
    pub fn addr(&self) -> Result<SocketAddr> {
        self.site
            .local_addr()
            .map_err(|e| internal(format!("listening address unknown: {e}")))
    }

    /// The metrics listener's address, when there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves until `shutdown` resolves (then `Ok`), or until a background task
    /// (manifest refresh, a listener) dies: then `Err`, so that a server that no
    /// longer sees rollbacks does not go on answering.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let Bound {
            edge,
            site,
            metrics,
        } = self;
        let opts = edge.opts.clone();
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(refresher(edge.clone()));
        let mut site_task = tokio::spawn(conn::run(
            site,
            std::sync::Arc::new(response::Site(edge.clone())),
            opts.limits(),
            stop_rx.clone(),
            opts.reporter.clone(),
        ));
        if let Some(l) = metrics {
            let app = std::sync::Arc::new(response::Metrics(edge.clone()));
            let mut limits = opts.limits();
            limits.max_connections = 64;
            tasks.spawn(async move {
                conn::run(l, app, limits, stop_rx, Default::default()).await;
                Err(internal("the metrics listener stopped"))
            });
        }
        let mut site_done = false;
        let r = tokio::select! {
            r = supervise(&mut tasks, shutdown) => r,
            r = &mut site_task => {
                site_done = true;
                Err(internal(format!("the site listener stopped: {r:?}")))
            }
        };
        let _ = stop_tx.send(true);
        tasks.abort_all();
        if !site_done {
            // Open requests finish (bounded inside conn::run).
            let _ = site_task.await;
        }
        r
    }
}

/// Waits for `shutdown` (→ `Ok`) or for the first background task to end, which
/// they never do on their own (→ `Err` naming why).
pub(crate) async fn supervise(
    tasks: &mut tokio::task::JoinSet<Result<()>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    tokio::select! {
        _ = shutdown => Ok(()),
        Some(done) = tasks.join_next() => Err(match done {
            Ok(Ok(())) => internal("a background task of the server stopped"),
            Ok(Err(e)) => internal(format!("a background task of the server failed: {e}")),
            Err(e) if e.is_panic() => {
                let msg = e.into_panic();
                let msg = msg
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| msg.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                internal(format!("a background task of the server panicked: {msg}"))
            }
            Err(e) => internal(format!("a background task of the server ended: {e}")),
        }),
    }
}

fn internal(msg: impl Into<String>) -> Error {
    Error::Internal(msg.into())
}

/// Re-reads the manifest every TTL; a failed read keeps the last good one.
async fn refresher(edge: std::sync::Arc<Edge>) -> Result<()> {
    let mut tick = tokio::time::interval(edge.opts.ttl);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
}

/// Checks the options, reads the manifest, binds the listeners.
pub async fn bind(store: Store, opts: ServeOptions) -> Result<Bound> {
    opts.check()?;
    let edge = Edge::new(store, opts.clone());
    if let Err(e) = edge.refresh().await {
        opts.reporter
            .warn(&format!("{e}; answering 503 until a manifest can be read"));
    }
    let listen = |addr: SocketAddr| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|e| Error::input(format!("cannot listen on {addr}: {e}")))
    };
    let site = listen(opts.listen).await?;
    let metrics = match opts.metrics_listen {
        Some(a) => Some(listen(a).await?),
        None => None,
    };
    Ok(Bound {
        edge,
        site,
        metrics,
    })
}

/// Runs the server until `shutdown` resolves. Reads the manifest before listening.
/// `ready` gets the site's address once it is bound.
pub async fn serve(
    store: Store,
    opts: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(SocketAddr),
) -> Result<()> {
    let bound = bind(store, opts).await?;
    ready(bound.addr()?);
    bound.run(shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_huge_ttls_are_usage_errors() {
        for ttl in [
            Duration::ZERO,
            Duration::from_millis(99),
            Duration::from_secs(1 << 40),
        ] {
            let mut o = ServeOptions::new("production");
            o.ttl = ttl;
            assert!(matches!(o.check(), Err(Error::Usage(_))), "{ttl:?}");
        }
        let mut o = ServeOptions::new("production");
        o.max_connections = 0;
        assert!(matches!(o.check(), Err(Error::Usage(_))));
        assert!(ServeOptions::new("production").check().is_ok());
    }

    #[tokio::test]
    async fn a_background_task_that_dies_stops_the_server() {
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(async {
            panic!("refresh task blew up");
        });
        let r = supervise(&mut tasks, std::future::pending()).await;
        match r {
            Err(Error::Internal(m)) => assert!(m.contains("panicked"), "{m}"),
            other => panic!("{other:?}"),
        }
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(async { Err(Error::input("boom")) });
        assert!(supervise(&mut tasks, std::future::pending()).await.is_err());
        let mut tasks = tokio::task::JoinSet::<Result<()>>::new();
        tasks.spawn(std::future::pending());
        assert!(supervise(&mut tasks, async {}).await.is_ok());
    }
}
