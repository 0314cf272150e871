//! Drill faults in `sitevault serve` (`ServeOptions::faults`, `serve --fault`) end to
//! end, driven through the library: v1 stable and v2 a 50 % canary, real visitors,
//! the 503 share and added latency seen by visitors, by `/metrics`, and by a real
//! Prometheus scraping it.

use crate::common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::http::get;
use common::server::{self, Server};
use common::visitors::Traffic;
use common::{ok, sv, v1_stable_v2_published};
use sitevault::edge::serve::{parse_fault, Fault, ServeOptions};

/// A `serve` running on its own runtime thread, stopped on drop.
fn metrics_text(s: &Server) -> String {
    get(&s.metrics.unwrap().to_string(), "/metrics", &[]).text()
}

/// v1 stable, v2 a canary at 50 % on `production`, in a file:// store.
fn project() -> tempfile::TempDir {
    let t = v1_stable_v2_published(None);
    ok(sv(t.path()).args(["rollout", "production", "v2", "--percent", "50"]));
    t
}

/// Serves `production` from `dir`'s store with the given `--fault` specs.
fn start(dir: &Path, faults: &[&str]) -> Server {
    server::start(dir, |o| {
        o.faults = faults.iter().map(|f| parse_fault(f).unwrap()).collect();
    })
}

/// The value of the first sample of `name` whose labels include every `labels` pair
/// (prometheus_client writes `name{version="v2",status="5xx"} 12`); 0 when absent.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (n, rest) = series.split_once('{').unwrap_or((series, ""));
            (n == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| value.parse().ok())?
        })
        .next()
        .unwrap_or(0.0)
}

/// Visitors for `run`, then their counts: (version, status) → responses.
fn visit_for(addr: SocketAddr, threads: usize, run: Duration) -> common::visitors::Counts {
    let traffic = Traffic::start(addr, threads, "/");
    std::thread::sleep(run);
    let counts = traffic.counts();
    drop(traffic);
    counts
}

fn count(c: &common::visitors::Counts, version: &str, status: u16) -> u64 {
    c.get(&(version.to_string(), status)).copied().unwrap_or(0)
}

#[test]
fn half_of_the_canarys_requests_fail_and_metrics_count_them() {
    let t = project();
    let s = start(t.path(), &["v2=error:0.5"]);
    let c = visit_for(s.addr, 4, Duration::from_millis(1500));
    let (v1_ok, v1_503) = (count(&c, "v1", 200), count(&c, "v1", 503));
    let (v2_ok, v2_503) = (count(&c, "v2", 200), count(&c, "v2", 503));
    let v2 = v2_ok + v2_503;
    // Only these four kinds of answer, and visitors spread over both versions.
    assert_eq!(v1_ok + v1_503 + v2, c.values().sum::<u64>(), "{c:?}");
    assert_eq!(v1_503, 0, "the stable version never fails: {c:?}");
    assert!(v1_ok >= 20 && v2 >= 20, "routing spread: {c:?}");
    let share = v2_503 as f64 / v2 as f64;
    assert!((0.3..=0.7).contains(&share), "503 share {share}: {c:?}");

    // What the health gate reads: 5xx counted for v2 (at least every 503 a visitor
    // saw; the server counts before the answer is written), none for v1.
    let m = metrics_text(&s);
    let name = "sitevault_requests_total";
    let m5 = sample(&m, name, &[("version", "v2"), ("status", "5xx")]);
    assert!(m5 >= v2_503 as f64 && m5 > 0.0, "{m5} < {v2_503}:\n{m}");
    assert!(sample(&m, name, &[("version", "v2"), ("status", "2xx")]) >= v2_ok as f64);
    assert_eq!(
        sample(&m, name, &[("version", "v1"), ("status", "5xx")]),
        0.0
    );

    // The injected answer itself: plain, not cached, naming the version.
    let r = (0..200)
        .map(|_| get(&s.addr.to_string(), "/", &[("x-sitevault-version", "v2")]))
        .find(|r| r.status == 503)
        .expect("a 503 in 200 tries at 50 %");
    assert_eq!(r.text(), "injected fault (sitevault serve --fault drill)\n");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("x-sitevault-version"), Some("v2"));
}

#[test]
fn added_latency_delays_only_the_faulted_version_and_shows_in_the_histogram() {
    let t = project();
    let s = start(t.path(), &["v2=latency:300ms"]);
    let a = s.addr.to_string();
    let timed = |v: &str| {
        let started = Instant::now();
        let r = get(&a, "/", &[("x-sitevault-version", v)]);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-sitevault-version"), Some(v));
        started.elapsed()
    };
    for _ in 0..3 {
        let d = timed("v2");
        assert!(d >= Duration::from_millis(300), "v2 took {d:?}");
    }
    let fastest_v1 = (0..3).map(|_| timed("v1")).min().unwrap();
    assert!(fastest_v1 < Duration::from_millis(300), "v1 {fastest_v1:?}");

    // Routed visitors too: every v2 answer is a 200, only slower.
    let c = visit_for(s.addr, 4, Duration::from_millis(1000));
    assert!(
        count(&c, "v2", 200) > 0 && count(&c, "v1", 200) > 0,
        "{c:?}"
    );
    assert_eq!(count(&c, "v2", 503) + count(&c, "v1", 503), 0, "{c:?}");

    let m = metrics_text(&s);
    let h = "sitevault_request_duration_seconds";
    let v2 = [("version", "v2")];
    let n = sample(&m, &format!("{h}_count"), &v2);
    let sum = sample(&m, &format!("{h}_sum"), &v2);
    assert!(n >= 3.0 && sum / n >= 0.3, "v2 mean {}:\n{m}", sum / n);
    // No v2 request finished within 0.2048 s (a bucket bound below 300 ms)...
    let fast = sample(
        &m,
        &format!("{h}_bucket"),
        &[("le", "0.2048"), ("version", "v2")],
    );
    assert_eq!(fast, 0.0, "{m}");
    // ...while v1's did.
    let fast_v1 = sample(
        &m,
        &format!("{h}_bucket"),
        &[("le", "0.2048"), ("version", "v1")],
    );
    assert!(fast_v1 > 0.0, "{m}");
}

#[test]
fn faults_apply_to_their_version_only_and_none_means_none() {
    let t = project();
    // A fault for a version the channel does not route is harmless.
    let s = start(t.path(), &["v9=error:1"]);
    let c = visit_for(s.addr, 2, Duration::from_millis(500));
    assert!(c.keys().all(|(_, st)| *st == 200), "{c:?}");
    drop(s);
    // error:1 fails every request of that version, whether routed or asked for.
    let s = start(t.path(), &["v1=error:1"]);
    let c = visit_for(s.addr, 2, Duration::from_millis(500));
    assert!(count(&c, "v1", 503) > 0, "{c:?}");
    assert_eq!(count(&c, "v1", 200) + count(&c, "v2", 503), 0, "{c:?}");
    let r = get(&s.addr.to_string(), "/", &[("x-sitevault-version", "v1")]);
    assert_eq!(r.status, 503);
    let r = get(&s.addr.to_string(), "/?sv-version=v2", &[]);
    assert_eq!(r.status, 200);
}

#[test]
fn the_default_options_have_no_faults_and_the_spec_round_trips() {
    assert!(ServeOptions::new("production").faults.is_empty());
    assert_eq!(
        parse_fault("v1.4.0=error:0.05,latency:2500ms").unwrap(),
        (
            "v1.4.0".to_string(),
            Fault {
                error: 0.05,
                latency: Duration::from_millis(2500)
            }
        )
    );
}

#[test]
fn prometheus_scrapes_the_drill() {
    let t = project();
    let s = start(t.path(), &["v2=error:0.5"]);
    let Some(prom) =
        common::prometheus::Prometheus::start(&[s.metrics.unwrap()], Duration::from_millis(500))
    else {
        return;
    };
    prom.wait_up(Duration::from_secs(30));
    let traffic = Traffic::start(s.addr, 2, "/");
    // increase() needs two scrapes with traffic between them: poll until it shows.
    let deadline = Instant::now() + Duration::from_secs(20);
    let value = |q: &str| -> f64 {
        let v = prom.query(q);
        assert_eq!(v["status"], "success", "{q}: {v}");
        v["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|x| x.parse().ok())
            .unwrap_or(0.0)
    };
    let errors = r#"sum(increase(sitevault_requests_total{version="v2",status="5xx"}[10s]))"#;
    let all_v1 = r#"sum(increase(sitevault_requests_total{version="v1"}[10s]))"#;
    while value(errors) <= 0.0 || value(all_v1) <= 0.0 {
        assert!(
            Instant::now() < deadline,
            "no increase seen: {}",
            prom.query(r#"sitevault_requests_total"#)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    drop(traffic);
    let v1_errors = r#"sum(increase(sitevault_requests_total{version="v1",status="5xx"}[10s]))"#;
    assert_eq!(value(v1_errors), 0.0);
    // The latency histogram is there for the p95 the gate computes.
    let p95 = value(
        r#"histogram_quantile(0.95, sum by (le) (rate(sitevault_request_duration_seconds_bucket{version="v2"}[10s])))"#,
    );
    assert!(p95 > 0.0, "p95 {p95}");
}
