//! `sitevault serve` for tests: in this process (the library, on its own runtime
//! thread) or as the binary; both stopped on drop.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use sitevault::edge::serve::{self, ServeOptions};
use sitevault::store::{Store, StoreSpec};

/// A server running in this process.
pub struct Server {
    /// Where the site is served.
    pub addr: SocketAddr,
    /// Where `/metrics` is served, when asked for.
    pub metrics: Option<SocketAddr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<std::thread::JoinHandle<sitevault::Result<()>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            let _ = d.join();
        }
    }
}

/// The default file:// store of the project in `dir`.
pub fn store_of(dir: &Path) -> Store {
    Store::open(&StoreSpec {
        url: "file://.sitevault/store".into(),
        endpoint: None,
        region: None,
        allow_http: None,
        base_dir: dir.to_path_buf(),
        concurrency: 4,
        timeout: None,
    })
    .unwrap()
}

/// Serves `production` from `dir`'s store on free ports (site and metrics), TTL
/// 200 ms, after `edit` has changed the options.
pub fn start(dir: &Path, edit: impl FnOnce(&mut ServeOptions)) -> Server {
    let mut o = ServeOptions::new("production");
    o.listen = "127.0.0.1:0".parse().unwrap();
    o.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    o.ttl = Duration::from_millis(200);
    edit(&mut o);
    let store = store_of(dir);
    let (tx, rx) = std::sync::mpsc::channel::<(SocketAddr, Option<SocketAddr>)>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let done = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let b = serve::bind(store, o).await?;
            tx.send((b.addr()?, b.metrics_addr())).unwrap();
            b.run(async {
                let _ = stop_rx.await;
            })
            .await
        })
    });
    let (addr, metrics) = rx.recv().expect("server bound");
    Server {
        addr,
        metrics,
        stop: Some(stop_tx),
        done: Some(done),
    }
}

/// The `sitevault serve` binary, killed on drop.
pub struct Process {
    child: Child,
    /// `host:port` of the site.
    pub addr: String,
    /// `host:port` of the metrics listener, when `--metrics-listen` was given.
    pub metrics: Option<String>,
}

impl Process {
    /// The process id (to send it a signal).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for it to exit.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sitevault serve --channel production --listen 127.0.0.1:0 --json EXTRA…` in `dir`.
pub fn spawn(dir: &Path, extra: &[&str]) -> Process {
    let mut child = super::sv(dir)
        .args([
            "serve",
            "--channel",
            "production",
            "--listen",
            "127.0.0.1:0",
            "--json",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let host = |u: &serde_json::Value| {
        u.as_str().map(|s| {
            s.trim_start_matches("http://")
                .trim_end_matches("/metrics")
                .to_string()
        })
    };
    Process {
        addr: host(&v["listening"]).unwrap(),
        metrics: host(&v["metrics"]),
        child,
    }
}
