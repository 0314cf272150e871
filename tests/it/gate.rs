//! Health-gated rollouts end to end: `sitevault serve` with real visitors (and drill
//! faults), `sitevault rollout --auto` reading its metrics (scraped, or through a
//! real Prometheus), approvals, and a webhook receiver on 127.0.0.1.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::visitors::Traffic;
use common::{fails, ok, sv, v1_stable_v2_published};

/// `sitevault serve` with a metrics listener, a 100 ms TTL and `extra` flags, with
/// the metrics URL a `[health] metrics` entry needs.
struct Serve {
    addr: std::net::SocketAddr,
    metrics: String,
    _process: common::server::Process,
}

fn serve(dir: &Path, extra: &[&str]) -> Serve {
    let mut args = vec!["--metrics-listen", "127.0.0.1:0", "--ttl", "100ms"];
    args.extend_from_slice(extra);
    let p = common::server::spawn(dir, &args);
    Serve {
        addr: p.addr.parse().unwrap(),
        metrics: format!("http://{}/metrics", p.metrics.clone().unwrap()),
        _process: p,
    }
}

/// A webhook receiver: answers 200 and keeps every body.
struct Webhook {
    url: String,
    bodies: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Webhook {
    fn start() -> Webhook {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", l.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let keep = bodies.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut s) = conn else { return };
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                if r.read_exact(&mut body).is_ok() {
                    if let Ok(v) = serde_json::from_slice(&body) {
                        keep.lock().unwrap().push(v);
                    }
                }
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            }
        });
        Webhook { url, bodies }
    }

    fn events(&self) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["event"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

/// A project with v1 stable and v2 published, and `toml` as its store.toml.
fn project() -> tempfile::TempDir {
    v1_stable_v2_published(None)
}

/// Writes `store.toml` for a gate scenario: `[channels.production]` with `channel`,
/// `[health]` with `health`, and `[notify] webhook` when given.
fn gate_toml(dir: &Path, channel: &str, health: &str, webhook: Option<&str>) {
    let notify = webhook
        .map(|w| format!("\n[notify]\nwebhook = \"{w}\"\n"))
        .unwrap_or_default();
    write_toml(
        dir,
        &format!("[channels.production]\n{channel}\n\n[health]\n{health}\n{notify}"),
    );
}

fn write_toml(dir: &Path, toml: &str) {
    std::fs::write(dir.join("store.toml"), toml).unwrap();
}

/// `sitevault rollout ARGS --json` → (exit code, report).
fn auto(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let o = sv(dir)
        .args(["rollout", "production"])
        .args(args)
        .args(["--auto", "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let v = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {text:?}, stderr {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.code().unwrap_or(-1), v)
}

fn status(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(sv(dir).args(["status", "production", "--json"]))).unwrap()
}

fn history(dir: &Path) -> Vec<serde_json::Value> {
    let h: serde_json::Value =
        serde_json::from_str(&ok(sv(dir).args(["history", "production", "--json"]))).unwrap();
    h["entries"].as_array().unwrap().clone()
}

#[test]
fn a_healthy_canary_is_promoted_through_every_stage() {
    let t = project();
    let dir = t.path();
    let s = serve(dir, &[]);
    let hook = Webhook::start();
    gate_toml(
        dir,
        r#"stages = [10, 50, 100]
bake = ["1s", "1s"]"#,
        &format!(
            r#"metrics = ["{}"]
interval = "300ms"
window = "1s"
min_requests = 20"#,
            s.metrics
        ),
        Some(&hook.url),
    );
    let traffic = Traffic::start(s.addr, 4, "/");
    let (code, r) = auto(dir, &["v2"]);
    drop(traffic);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["outcome"], "promoted", "{r}");
    assert_eq!(status(dir)["state"]["stable"], "v2");
    // Each stage was left on a passing verdict with its numbers, for both versions.
    let h = history(dir);
    let advances: Vec<_> = h.iter().filter(|e| e["action"] == "advance").collect();
    assert_eq!(advances.len(), 2, "{h:#?}");
    for a in advances {
        let g = &a["gate"];
        assert_eq!(g["verdict"], "pass", "{a}");
        assert!(g["canary"]["requests"].as_f64().unwrap() >= 20.0, "{a}");
        assert_eq!(g["canary"]["version"], "v2");
        assert_eq!(g["stable"]["version"], "v1");
        assert!(g["stable"]["requests"].as_f64().unwrap() > 0.0, "{a}");
    }
    assert!(
        hook.events().contains(&"promote".to_string()),
        "{:?}",
        hook.events()
    );
}

#[test]
fn a_canary_with_five_percent_errors_is_rolled_back_and_the_webhook_hears_it() {
    let t = project();
    let dir = t.path();
    let s = serve(dir, &["--fault", "v2=error:0.05"]);
    let hook = Webhook::start();
    let (interval, window) = (Duration::from_millis(250), Duration::from_secs(2));
    gate_toml(
        dir,
        r#"stages = [50, 100]
bake = "60s""#,
        &format!(
            r#"metrics = ["{}"]
interval = "250ms"
window = "2s"
min_requests = 100"#,
            s.metrics
        ),
        Some(&hook.url),
    );
    let traffic = Traffic::start(s.addr, 4, "/");
    let started = Instant::now();
    let (code, r) = auto(dir, &["v2"]);
    let took = started.elapsed();
    drop(traffic);
    assert_eq!(code, 6, "{r}");
    assert_eq!(r["outcome"], "rolled_back", "{r}");
    let st = status(dir);
    assert_eq!(st["state"]["stable"], "v1");
    assert!(st["state"]["canary"].is_null());
    assert!(
        st["state"]["pinned"].is_object(),
        "a gate rollback pins: {st}"
    );
    let h = history(dir);
    let rb = h
        .iter()
        .find(|e| e["action"] == "rollback")
        .expect("rollback record");
    assert_eq!(rb["gate"]["verdict"], "rollback", "{rb}");
    assert!(
        rb["gate"]["canary"]["errors"].as_f64().unwrap() > 0.0,
        "{rb}"
    );
    assert!(rb["gate"]["failures"].as_u64().unwrap() >= 2, "{rb}");
    // The first window over the threshold was an alert, logged and posted.
    assert!(h.iter().any(|e| e["gate"]["verdict"] == "alert"), "{h:#?}");
    let events = hook.events();
    assert!(events.contains(&"rollback".to_string()), "{events:?}");
    // The fault is on from the canary's first request: the rollback comes within one
    // window and one interval of it (plus the first scrape and process start).
    eprintln!("fault to rollback: {took:?}");
    assert!(
        took < window + interval + Duration::from_secs(3),
        "rolled back only after {took:?}"
    );
}

#[test]
fn latency_in_the_rollback_zone_rolls_back_even_when_the_webhook_is_down() {
    let t = project();
    let dir = t.path();
    let s = serve(dir, &["--fault", "v2=latency:2500ms"]);
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/hook", dead.local_addr().unwrap());
    drop(dead);
    gate_toml(
        dir,
        r#"stages = [50, 100]
bake = "60s""#,
        &format!(
            r#"metrics = ["{}"]
interval = "500ms"
window = "5s"
min_requests = 10
timeout = "1s""#,
            s.metrics
        ),
        Some(&dead_url),
    );
    let traffic = Traffic::start(s.addr, 16, "/");
    let o = sv(dir)
        .args(["rollout", "production", "v2", "--auto", "--json"])
        .output()
        .unwrap();
    drop(traffic);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(6), "{r}");
    let p95 = r["last_verdict"]["canary"]["p95_ms"].as_f64().unwrap();
    assert!(p95 > 2000.0, "{r}");
    assert_eq!(status(dir)["state"]["stable"], "v1");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("could not notify"), "{err}");
}

#[test]
fn a_trickle_of_requests_stays_inconclusive_and_is_never_promoted() {
    let t = project();
    let dir = t.path();
    let s = serve(dir, &[]);
    gate_toml(
        dir,
        r#"stages = [50, 100]
bake = "0s""#,
        &format!(
            r#"metrics = ["{}"]
interval = "250ms"
window = "1s""#,
            s.metrics
        ),
        None,
    );
    let traffic = Traffic::start_rate(s.addr, 1, "/", 5);
    let (code, r) = auto(dir, &["v2", "--max-wait", "2s"]);
    drop(traffic);
    assert_eq!(code, 5, "{r}");
    assert_eq!(r["outcome"], "held");
    let reason = r["last_verdict"]["reason"].as_str().unwrap();
    assert!(reason.contains("200 needed"), "{reason}");
    assert_eq!(r["last_verdict"]["verdict"], "inconclusive");
    let st = status(dir);
    assert_eq!(st["state"]["canary"]["version"], "v2", "{st}");
    assert_eq!(st["state"]["stable"], "v1");
    let waiting = st["gate"]["waiting_for"].to_string();
    assert!(waiting.contains("passing health verdict"), "{waiting}");
    assert!(history(dir).iter().all(|e| e["action"] != "advance"));
}

#[test]
fn an_unreadable_source_or_a_foreign_endpoint_is_inconclusive_never_a_pass() {
    let t = project();
    let dir = t.path();
    let s = serve(dir, &[]);
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}/metrics", closed.local_addr().unwrap());
    drop(closed);
    // The site's own port answers HTML, not metrics.
    let foreign = format!("http://{}/", s.addr);
    for source in [closed_url, foreign] {
        gate_toml(
            dir,
            r#"stages = [50, 100]
bake = "0s""#,
            &format!(
                r#"metrics = ["{source}"]
interval = "200ms"
window = "1s"
timeout = "1s"
min_requests = 1"#
            ),
            None,
        );
        let traffic = Traffic::start(s.addr, 2, "/");
        let (code, r) = auto(dir, &["v2", "--once"]);
        drop(traffic);
        assert_eq!(code, 5, "{source}: {r}");
        assert_eq!(r["last_verdict"]["verdict"], "inconclusive", "{r}");
        assert_eq!(status(dir)["state"]["canary"]["version"], "v2");
    }
}

#[test]
fn approvals_gate_every_stage_of_every_rollout() {
    let t = v1_stable_v2_published(Some(
        "[channels.production]\nstages = [0, 10, 100]\napprovals = [\"qa\", \"lead\"]\n",
    ));
    let dir = t.path();
    ok(sv(dir).args(["rollout", "production", "v2"]));
    let (code, err) = fails(sv(dir).args(["rollout", "production", "--advance"]));
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("qa and lead"), "{err}");
    assert!(
        err.contains("sitevault approve production --role qa"),
        "{err}"
    );
    // A role that is not configured is a usage error.
    let (code, err) = fails(sv(dir).args(["approve", "production", "--role", "dev"]));
    assert_eq!(code, 2, "{err}");
    ok(sv(dir).args(["approve", "production", "--role", "qa", "--actor", "alice"]));
    let (code, err) = fails(sv(dir).args(["rollout", "production", "--promote"]));
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("from lead"), "{err}");
    assert!(err.contains("qa by alice"), "{err}");
    ok(sv(dir).args(["approve", "production", "--role", "lead", "--reason", "go"]));
    ok(sv(dir).args(["rollout", "production", "--advance"]));
    // The next stage needs its own approvals.
    let (code, _) = fails(sv(dir).args(["rollout", "production", "--advance"]));
    assert_eq!(code, 5);
    let st = status(dir);
    assert_eq!(
        st["gate"]["approvals_missing"],
        serde_json::json!(["qa", "lead"]),
        "{st}"
    );
    // Aborting and rolling out again starts over: earlier approvals never count.
    ok(sv(dir).args(["approve", "production", "--role", "qa"]));
    ok(sv(dir).args(["approve", "production", "--role", "lead"]));
    ok(sv(dir).args(["rollout", "production", "--abort"]));
    // Neither a start above the first stage nor straight to stable skips them.
    for p in ["10", "100"] {
        let (code, err) = fails(sv(dir).args(["rollout", "production", "v2", "--percent", p]));
        assert_eq!(code, 5, "{p}: {err}");
    }
    ok(sv(dir).args(["rollout", "production", "v2"]));
    let (code, _) = fails(sv(dir).args(["rollout", "production", "--promote"]));
    assert_eq!(code, 5);
    // More traffic within a stage needs them too.
    let (code, _) = fails(sv(dir).args(["rollout", "production", "--percent", "5"]));
    assert_eq!(code, 5);
    // An approval of a version that is not the canary is refused.
    let (code, err) =
        fails(sv(dir).args(["approve", "production", "--role", "qa", "--version", "v1"]));
    assert_eq!(code, 3, "{err}");
    // A rollback never waits for approvals.
    ok(sv(dir).args(["rollback", "production", "--reason", "test"]));
    let h = history(dir);
    let approvals: Vec<_> = h.iter().filter(|e| e["action"] == "approve").collect();
    assert_eq!(approvals.len(), 4);
    assert_eq!(approvals.last().unwrap()["approval"]["role"], "qa");
    assert_eq!(approvals.last().unwrap()["approval"]["stage"], 0);
    assert!(history(dir).iter().all(|e| e["action"] != "percent"));
}

#[test]
fn auto_waits_for_approvals_and_continues_from_the_log_after_a_restart() {
    let t = project();
    let dir = t.path();
    let s = serve(dir, &[]);
    gate_toml(
        dir,
        r#"stages = [50, 100]
bake = "2s"
approvals = ["qa"]"#,
        &format!(
            r#"metrics = ["{}"]
interval = "200ms"
window = "1s"
min_requests = 10"#,
            s.metrics
        ),
        None,
    );
    let traffic = Traffic::start(s.addr, 4, "/");
    // A first run holds: bake time and the approval are both pending.
    let (code, r) = auto(dir, &["v2", "--once"]);
    assert_eq!(code, 5, "{r}");
    let waiting = r["waiting_for"].to_string();
    assert!(waiting.contains("bake time"), "{waiting}");
    assert!(waiting.contains("approval from qa"), "{waiting}");
    // --dry-run says what it would do and writes nothing.
    let before = status(dir)["generation"].clone();
    let (code, r) = auto(dir, &["--dry-run"]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["outcome"], "dry_run");
    assert_eq!(status(dir)["generation"], before);
    ok(sv(dir).args(["approve", "production", "--role", "qa"]));
    std::thread::sleep(Duration::from_secs(2));
    // A new process continues the stage the log says started 2 s ago.
    let (code, r) = auto(dir, &["--once"]);
    drop(traffic);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["outcome"], "promoted", "{r}");
}

#[test]
fn the_same_rollback_through_a_real_prometheus() {
    let t = project();
    let dir = t.path();
    let s = serve(dir, &["--fault", "v2=error:0.2"]);
    let metrics_addr: std::net::SocketAddr = s
        .metrics
        .trim_start_matches("http://")
        .trim_end_matches("/metrics")
        .parse()
        .unwrap();
    let Some(prom) =
        common::prometheus::Prometheus::start(&[metrics_addr], Duration::from_millis(500))
    else {
        return;
    };
    prom.wait_up(Duration::from_secs(30));
    gate_toml(
        dir,
        r#"stages = [50, 100]
bake = "60s""#,
        &format!(
            r#"prometheus = "{}"
interval = "1s"
window = "5s"
min_requests = 20"#,
            prom.url
        ),
        None,
    );
    let traffic = Traffic::start(s.addr, 4, "/");
    let (code, r) = auto(dir, &["v2"]);
    drop(traffic);
    assert_eq!(code, 6, "{r}");
    let g = &r["last_verdict"];
    assert!(
        g["source"].as_str().unwrap().starts_with("prometheus"),
        "{r}"
    );
    assert!(g["canary"]["errors"].as_f64().unwrap() > 0.0, "{r}");
    // At most six queries per decision: requests, errors and p95 for canary and stable
    // (fewer when a version has no series yet: the first empty answer decides).
    let per = r["source_requests"].as_f64().unwrap() / r["verdicts"].as_f64().unwrap();
    assert!(per > 0.0 && per <= 6.0, "{r}");
    assert_eq!(status(dir)["state"]["stable"], "v1");
}

#[test]
fn gate_config_mistakes_are_named() {
    let t = project();
    let dir = t.path();
    for (toml, want) in [
        (
            "[health]\nqueries.requests = \"sum(sitevault_requests_total)\"\n",
            "$version",
        ),
        ("[health]\nmetrics = [\"ftp://x\"]\n", "health.metrics[0]"),
        (
            "[health]\nwindow = \"1s\"\ninterval = \"5s\"\n",
            "window at least one interval",
        ),
        ("[health]\nmin_requests = 0\n", "never pass on no data"),
        (
            "[channels.production]\nstages = [10, 100]\nbake = [\"1m\", \"2m\"]\n",
            "1 stages below 100",
        ),
        (
            "[channels.production]\napprovals = [\"qa\", \"qa\"]\n",
            "unique role",
        ),
    ] {
        write_toml(dir, toml);
        let (code, err) = fails(sv(dir).args(["status"]));
        assert_eq!(code, 1, "{toml}: {err}");
        assert!(err.contains(want), "{toml}: {err}");
    }
    // No metric source: --auto says how to configure one.
    write_toml(dir, "");
    let (code, err) = fails(sv(dir).args(["rollout", "production", "v2", "--auto"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("[health] metrics"), "{err}");
}

/// A change decided from measurements of one canary never lands on another: the
/// canary moved meanwhile (here: someone advanced it), so the change is refused.
#[tokio::test]
async fn a_change_decided_for_one_canary_never_lands_on_another() {
    use sitevault::channel::{self, ChangeOptions, Intent};
    let t = project();
    let dir = t.path();
    ok(sv(dir).args(["rollout", "production", "v2"]));
    let store = common::server::store_of(dir);
    let measured = channel::log::head(&store, "production")
        .await
        .unwrap()
        .state()
        .canary
        .unwrap();
    ok(sv(dir).args(["rollout", "production", "--advance"]));
    let opts = ChangeOptions {
        expect_canary: Some(measured),
        ..Default::default()
    };
    for intent in [Intent::Advance, Intent::Gate, Intent::Rollback { to: None }] {
        let e = channel::change(&store, "production", &intent, &opts)
            .await
            .unwrap_err();
        assert!(
            matches!(e, sitevault::Error::Conflict(_)),
            "{intent:?}: {e}"
        );
    }
    assert_eq!(status(dir)["state"]["canary"]["percent"], 10.0);
}
