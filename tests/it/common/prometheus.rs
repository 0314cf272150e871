//! A real Prometheus server (Debian's `prometheus`) for tests: it scrapes the given
//! `sitevault serve --metrics-listen` targets on a free 127.0.0.1 port, with its TSDB
//! in a temporary folder. Skipped when the binary is missing, unless
//! `SITEVAULT_TEST_REQUIRE_PROMETHEUS=1` (CI), which makes that a failure.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Prometheus, stopped on drop.
pub struct Prometheus {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    addr: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    /// Starts Prometheus scraping `targets` every `scrape`; `None` (the test skips)
    /// when it is not installed and not required.
    pub fn start(targets: &[SocketAddr], scrape: Duration) -> Option<Prometheus> {
        let bin = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(bin) = bin else {
            if std::env::var("SITEVAULT_TEST_REQUIRE_PROMETHEUS").as_deref() == Ok("1") {
                panic!("prometheus is required (SITEVAULT_TEST_REQUIRE_PROMETHEUS=1) but not installed: apt-get install prometheus");
            }
            eprintln!("skipped: prometheus is not installed (apt-get install prometheus)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let targets: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
        let ms = scrape.as_millis();
        std::fs::write(
            dir.path().join("prometheus.yml"),
            format!(
                "global: {{ scrape_interval: {ms}ms, evaluation_interval: {ms}ms }}\n\
                 scrape_configs:\n  - job_name: sitevault\n    static_configs: [{{ targets: [{}] }}]\n",
                targets.join(", ")
            ),
        )
        .unwrap();
        let addr = format!("127.0.0.1:{}", super::free_port());
        let child = Command::new(bin)
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let p = Prometheus {
            url: format!("http://{addr}"),
            addr,
            child,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let ready = |a: &str| {
            std::net::TcpStream::connect(a).is_ok()
                && super::http::get(a, "/-/ready", &[]).status == 200
        };
        while !ready(&p.addr) {
            assert!(Instant::now() < deadline, "prometheus did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(p)
    }

    /// Waits until every target has been scraped successfully (`up == 1`).
    pub fn wait_up(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.query("min(up)");
            if v["data"]["result"][0]["value"][1] == "1" {
                return;
            }
            assert!(Instant::now() < deadline, "targets not up: {v}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// An instant PromQL query's JSON answer.
    pub fn query(&self, promql: &str) -> serde_json::Value {
        let q: String =
            percent_encoding::utf8_percent_encode(promql, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let r = super::http::get(&self.addr, &format!("/api/v1/query?query={q}"), &[]);
        serde_json::from_str(&r.text()).unwrap_or_default()
    }
}
