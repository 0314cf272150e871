//! The edge, end to end: `sitevault serve` and the Cloudflare Worker (in workerd)
//! run the same rollout scenario against the same store.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::http::{get, request};
use common::*;

/// Kills a child process on drop.
pub(crate) struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Project {
    dir: tempfile::TempDir,
    /// A fingerprinted path that exists only in v1.
    v1_only_asset: String,
}

/// v1 stable on production, v2 published (index.html and blog.css changed).
fn project() -> Project {
    let t = example_site();
    build_and_publish(t.path(), "v1", Some("production"));
    let v1_blog = dist_path(t.path(), "/css/blog.");
    let idx = t.path().join("site/index.html");
    std::fs::write(
        &idx,
        std::fs::read_to_string(&idx)
            .unwrap()
            .replace("Fresh beans", "Fresher beans"),
    )
    .unwrap();
    let css = t.path().join("site/css/blog.css");
    std::fs::write(
        &css,
        std::fs::read_to_string(&css).unwrap() + "\narticle h1 { color: #6b4226; }\n",
    )
    .unwrap();
    build_and_publish(t.path(), "v2", None);
    Project {
        dir: t,
        v1_only_asset: v1_blog,
    }
}

fn version_of(addr: &str, path: &str, uid: &str) -> String {
    let r = get(addr, path, &[("cookie", &format!("sv_uid={uid}"))]);
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.header("x-sitevault-version").unwrap().to_string()
}

const VISITORS: usize = 2000;

/// Polls 200 visitors until all of them satisfy `pred`; returns how long after the
/// call the first fully satisfied round began.
fn wait_for(ttl: Duration, addr: &str, what: &str, pred: impl Fn(&str) -> bool) -> Duration {
    let started = Instant::now();
    let deadline = ttl + Duration::from_secs(3);
    loop {
        let round = started.elapsed();
        let all = (0..200).all(|i| pred(&version_of(addr, "/", &format!("probe-{i}"))));
        if all {
            return round;
        }
        assert!(
            started.elapsed() < deadline,
            "{what}: not seen within {:?}",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The rollout scenario of the edge contract, against any edge at `addr`.
fn scenario(p: &Project, addr: &str, ttl: Duration) {
    let dir = p.dir.path();
    // Stable only: everyone gets v1, a cookie is set when absent.
    let r = get(addr, "/", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-sitevault-version"), Some("v1"));
    let cookie = r.header("set-cookie").expect("routing cookie set");
    assert!(
        cookie.starts_with("sv_uid=")
            && cookie.contains("Path=/")
            && cookie.contains("Max-Age=31536000"),
        "{cookie}"
    );
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=0, must-revalidate")
    );
    assert!(r.text().contains("Fresh beans"));

    // Canary at 10 %.
    ok(sv(dir).args(["rollout", "production", "v2", "--percent", "10", "-q"]));
    wait_for(ttl, addr, "canary manifest", |_| true);
    std::thread::sleep(ttl + Duration::from_millis(300));
    let first: Vec<String> = (0..VISITORS)
        .map(|i| version_of(addr, "/", &format!("visitor-{i}")))
        .collect();
    let share = first.iter().filter(|v| *v == "v2").count() as f64 / VISITORS as f64;
    assert!(
        (0.08..=0.12).contains(&share),
        "canary share {share} outside 10 ± 2 %"
    );
    for i in (0..VISITORS).step_by(4) {
        assert_eq!(
            version_of(addr, "/", &format!("visitor-{i}")),
            first[i],
            "visitor-{i} switched versions"
        );
    }
    // The canary page really is v2.
    let i = first.iter().position(|v| v == "v2").unwrap();
    assert!(
        get(addr, "/", &[("cookie", &format!("sv_uid=visitor-{i}"))])
            .text()
            .contains("Fresher beans")
    );
    // QA override: honoured for current versions only.
    let r = get(
        addr,
        "/",
        &[
            ("cookie", "sv_uid=visitor-0"),
            ("x-sitevault-version", "v2"),
        ],
    );
    assert_eq!(r.header("x-sitevault-version"), Some("v2"));
    let r = get(addr, "/?sv-version=v2", &[("cookie", "sv_uid=visitor-0")]);
    assert_eq!(r.header("x-sitevault-version"), Some("v2"));
    let r = get(
        addr,
        "/",
        &[
            ("cookie", &format!("sv_uid=visitor-{i}")),
            ("x-sitevault-version", "v0"),
        ],
    );
    assert_eq!(r.header("x-sitevault-version"), Some("v2"));

    // 10 → 25 %: everyone who had v2 keeps it.
    ok(sv(dir).args(["rollout", "production", "--advance", "-q"]));
    std::thread::sleep(ttl + Duration::from_millis(300));
    let second: Vec<String> = (0..VISITORS)
        .map(|i| version_of(addr, "/", &format!("visitor-{i}")))
        .collect();
    for (i, v) in first.iter().enumerate() {
        if v == "v2" {
            assert_eq!(second[i], "v2", "visitor-{i} left the canary when it grew");
        }
    }
    let share = second.iter().filter(|v| *v == "v2").count() as f64 / VISITORS as f64;
    assert!((0.22..=0.28).contains(&share), "share at 25 %: {share}");

    // Files: headers, 304, HEAD, Range, 404 page, version.json, skew protection.
    let v1_visitor = format!("visitor-{}", second.iter().position(|v| v == "v1").unwrap());
    let ck = format!("sv_uid={v1_visitor}");
    let r = get(addr, &p.v1_only_asset, &[("cookie", &ck)]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(r.header("content-type").unwrap().starts_with("text/css"));
    let etag = r.header("etag").unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", blake3::hash(&r.body).to_hex()));
    let r304 = get(
        addr,
        &p.v1_only_asset,
        &[("cookie", &ck), ("if-none-match", &etag)],
    );
    assert_eq!(r304.status, 304);
    assert!(r304.body.is_empty());
    let head = request(addr, "HEAD", "/robots.txt", &[("cookie", &ck)]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let full = get(addr, "/robots.txt", &[("cookie", &ck)]);
    assert_eq!(
        head.header("content-length").map(|s| s.to_string()),
        Some(full.body.len().to_string())
    );
    let part = get(
        addr,
        "/robots.txt",
        &[("cookie", &ck), ("range", "bytes=0-9")],
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, full.body[..10]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 0-9/{}", full.body.len()).as_str())
    );
    let nf = get(addr, "/no/such/page", &[("cookie", &ck)]);
    assert_eq!(nf.status, 404);
    assert!(nf.text().contains("We could not find that page"));
    let vj = get(addr, "/version.json", &[("cookie", &ck)]);
    assert_eq!(vj.status, 200);
    assert!(vj.text().contains("\"build\""));
    assert_eq!(get(addr, "/about/", &[("cookie", &ck)]).status, 200);
    assert_eq!(get(addr, "/about", &[("cookie", &ck)]).status, 200);

    // Promote v2: a page of v1 still open in a tab keeps getting its assets.
    ok(sv(dir).args(["rollout", "production", "--promote", "-q"]));
    wait_for(ttl, addr, "promotion", |v| v == "v2");
    let r = get(addr, &p.v1_only_asset, &[("cookie", &ck)]);
    assert_eq!(
        r.status, 200,
        "skew protection: v1 asset gone after promotion"
    );
    assert_eq!(r.header("x-sitevault-version"), Some("v2"));

    // Bad requests never reach outside the routed version's index.
    for bad in [
        "/../versions/v1/index.json",
        "/%2e%2e/versions/v1/index.json",
        "/css/%2E%2E/%2E%2E/channels/production/manifest.json",
        "//etc/passwd",
        "/a%00b",
        "/a%5c..%5cb",
        "/versions/v1/index.json",
        "/blobs",
        "/channels/production/manifest.json",
    ] {
        let r = get(addr, bad, &[("cookie", &ck)]);
        assert!(r.status == 400 || r.status == 404, "{bad}: {}", r.status);
        assert!(!r.text().contains("\"schema\""), "{bad} leaked a store key");
    }
    let long = format!("/{}", "a".repeat(5000));
    let r = get(addr, &long, &[("cookie", &ck)]);
    assert!(
        r.status == 400 || r.status == 404 || r.status == 414,
        "{}",
        r.status
    );

    // Roll back: within TTL + 1 s every visitor gets v1.
    ok(sv(dir).args(["rollback", "production", "--reason", "test", "-q"]));
    let seen = wait_for(ttl, addr, "rollback", |v| v == "v1");
    assert!(
        seen <= ttl + Duration::from_secs(1),
        "rollback seen by every visitor only after {seen:?}"
    );
    for i in (0..VISITORS).step_by(10) {
        assert_eq!(version_of(addr, "/", &format!("visitor-{i}")), "v1");
    }
}

/// Starts `sitevault serve --channel production` on a free port; returns it and its address.
fn start_serve(dir: &Path, extra: &[&str]) -> (common::server::Process, String) {
    let (p, addr, _) = start_serve_with_metrics(dir, extra);
    (p, addr)
}

/// Like [`start_serve`], also returning the metrics address when `--metrics-listen` is given.
fn start_serve_with_metrics(
    dir: &Path,
    extra: &[&str],
) -> (common::server::Process, String, Option<String>) {
    let p = common::server::spawn(dir, extra);
    let (addr, metrics) = (p.addr.clone(), p.metrics.clone());
    (p, addr, metrics)
}

#[test]
fn serve_end_to_end() {
    let p = project();
    let ttl = Duration::from_millis(1000);
    let (proc, addr, metrics) = start_serve_with_metrics(
        p.dir.path(),
        &["--ttl", "1s", "--metrics-listen", "127.0.0.1:0"],
    );
    scenario(&p, &addr, ttl);
    // Metrics, on their own listener: per-version requests and latency, manifest
    // generation and age. The site's port serves `/metrics` as a site path.
    let metrics = metrics.expect("--metrics-listen prints the metrics address");
    let m = get(&metrics, "/metrics", &[]).text();
    assert!(
        m.contains("sitevault_requests_total{version=\"v2\",status=\"2xx\"}"),
        "{m}"
    );
    assert!(m.contains("sitevault_request_duration_seconds_bucket"));
    assert!(m.contains("sitevault_manifest_generation"));
    assert!(m.contains("sitevault_manifest_age_seconds"));
    assert_eq!(get(&addr, "/metrics", &[]).status, 404);
    // A manifest that cannot be read: the last good one stays in use.
    let mpath = p
        .dir
        .path()
        .join(".sitevault/store/channels/production/manifest.json");
    std::fs::write(&mpath, "{broken").unwrap();
    std::thread::sleep(ttl + Duration::from_millis(300));
    assert_eq!(version_of(&addr, "/", "x"), "v1");
    // SIGTERM: graceful shutdown, exit 0.
    let mut proc = proc;
    #[cfg(unix)]
    {
        Command::new("kill")
            .args(["-TERM", &proc.id().to_string()])
            .status()
            .unwrap();
        let status = proc.wait();
        assert!(status.success(), "{status:?}");
    }
}

#[test]
fn serve_streams_large_files_and_their_ranges() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("site")).unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(t.path().join("site/movie.bin"), &big).unwrap();
    std::fs::write(
        t.path().join("site/index.html"),
        "<!doctype html><a href=movie.bin>movie</a>",
    )
    .unwrap();
    build_and_publish(t.path(), "v1", Some("production"));
    let path = dist_path(t.path(), "/movie.");
    let (_p, addr) = start_serve(t.path(), &[]);
    let full = get(&addr, &path, &[("cookie", "sv_uid=a")]);
    assert_eq!(full.status, 200);
    assert_eq!(full.body, big);
    let part = get(
        &addr,
        &path,
        &[("cookie", "sv_uid=a"), ("range", "bytes=2000000-2000099")],
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, big[2_000_000..2_000_100]);
    let tail = get(
        &addr,
        &path,
        &[("cookie", "sv_uid=a"), ("range", "bytes=-10")],
    );
    assert_eq!(tail.body, big[big.len() - 10..]);
}

#[test]
fn serve_without_a_manifest_answers_503() {
    let t = tempfile::tempdir().unwrap();
    let (_p, addr) = start_serve(t.path(), &[]);
    assert_eq!(get(&addr, "/", &[]).status, 503);
}

// ---------------------------------------------------------------- workerd

pub(crate) fn workerd_bin() -> Option<PathBuf> {
    let p = root().join("edge/node_modules/.bin/workerd");
    if p.exists() {
        return Some(p);
    }
    if std::env::var("SITEVAULT_TEST_REQUIRE_WORKERD")
        .map(|v| v == "1")
        .unwrap_or(false)
    {
        panic!(
            "workerd is required but edge/node_modules/.bin/workerd is missing (cd edge && npm ci)"
        );
    }
    eprintln!("skipped: workerd is not installed (cd edge && npm ci)");
    None
}

pub(crate) fn start_workerd(
    bin: &Path,
    config_dir: &Path,
    config: &str,
    env: &[(&str, &str)],
) -> (Proc, String) {
    std::fs::write(config_dir.join("config.capnp"), config).unwrap();
    let port = common::free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(bin);
    cmd.current_dir(config_dir)
        .args([
            "serve",
            "config.capnp",
            "--experimental",
            "--socket-addr",
            &format!("http={addr}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let p = Proc(cmd.spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "workerd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (p, addr)
}

pub(crate) fn worker_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for f in [
        "worker.js",
        "blake3.js",
        "vectors-test.js",
        "blake3-vectors.json",
    ] {
        std::fs::copy(root().join("edge").join(f), d.path().join(f)).unwrap();
    }
    for f in ["routing-vectors.json", "encoding-vectors.json"] {
        std::fs::copy(root().join("fixtures").join(f), d.path().join(f)).unwrap();
    }
    d
}

#[test]
fn worker_passes_the_routing_vectors_inside_workerd() {
    let Some(bin) = workerd_bin() else { return };
    let d = worker_dir();
    let config = r#"using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [
    (name = "vectors-test.js", esModule = embed "vectors-test.js"),
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "blake3.js", esModule = embed "blake3.js"),
    (name = "routing-vectors.json", json = embed "routing-vectors.json"),
    (name = "encoding-vectors.json", json = embed "encoding-vectors.json"),
    (name = "blake3-vectors.json", json = embed "blake3-vectors.json"),
  ],
  compatibilityDate = "2024-09-23",
);
"#;
    let (_p, addr) = start_workerd(&bin, d.path(), config, &[]);
    let r = get(&addr, "/", &[]);
    let v: serde_json::Value =
        serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.text()));
    assert_eq!(v["failed"].as_array().unwrap().len(), 0, "{v}");
    // Routing and negotiation cases, shard keys, then 22 BLAKE3 inputs checked 11 ways each.
    assert!(
        v["passed"].as_u64().unwrap() >= 141 + 30 + 27 + 22 * 11,
        "{v}"
    );
}

/// Serves a folder over HTTP (the store's keys as paths): the worker's ORIGIN.
pub(crate) fn start_origin(dir: PathBuf) -> String {
    start_logged_origin(dir, Default::default())
}

type RequestLog = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// [`start_origin`], recording every path it is asked for in `log`.
fn start_logged_origin(dir: PathBuf, log: RequestLog) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            use axum::body::Body;
            use axum::http::{Response, StatusCode};
            let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
                let dir = dir.clone();
                let log = log.clone();
                async move {
                    let p = req.uri().path().trim_start_matches('/').to_string();
                    log.lock().unwrap().push(p.clone());
                    if p.contains("..") {
                        return Response::builder()
                            .status(StatusCode::BAD_REQUEST)
                            .body(Body::empty())
                            .unwrap();
                    }
                    match tokio::fs::read(dir.join(&p)).await {
                        Ok(b) => Response::builder().status(200).body(Body::from(b)).unwrap(),
                        Err(_) => Response::builder()
                            .status(StatusCode::NOT_FOUND)
                            .body(Body::empty())
                            .unwrap(),
                    }
                }
            });
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            axum::serve(l, app).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

#[test]
fn worker_end_to_end_in_workerd() {
    let Some(bin) = workerd_bin() else { return };
    let p = project();
    let origin = start_origin(p.dir.path().join(".sitevault/store"));
    let d = worker_dir();
    let config = std::fs::read_to_string(root().join("edge/config.capnp")).unwrap();
    let (_w, addr) = start_workerd(
        &bin,
        d.path(),
        &config,
        &[
            ("SV_ORIGIN", origin.as_str()),
            ("SV_CHANNEL", "production"),
            ("SV_TTL_MS", "1000"),
        ],
    );
    scenario(&p, &addr, Duration::from_millis(1000));
}

// ------------------------------------------------------- precompressed variants

/// A site whose HTML and CSS compress, beside an incompressible "image" and a tiny
/// text file (neither gets variants). v1 is stable on production.
fn compressible_project() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let site = t.path().join("site");
    std::fs::create_dir_all(site.join("css")).unwrap();
    let para =
        "<p>Fresh beans roasted daily, ground to order and brewed with care.</p>\n".repeat(60);
    std::fs::write(
        site.join("index.html"),
        format!("<!doctype html><html><head><link rel=stylesheet href=/css/site.css></head><body>{para}</body></html>"),
    )
    .unwrap();
    let css: String = (0..200)
        .map(|i| {
            format!(
                ".c{i} {{ color: #{:06x}; margin: {}px }}\n",
                i * 997,
                i % 17
            )
        })
        .collect();
    std::fs::write(site.join("css/site.css"), css).unwrap();
    std::fs::write(site.join("robots.txt"), "User-agent: *\n").unwrap();
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(site.join("noise.png"), noise).unwrap();
    build_and_publish(t.path(), "v1", Some("production"));
    t
}

/// The negotiation contract, against any edge at `addr` serving `dir`'s v1.
fn encoding_scenario(dir: &Path, addr: &str) {
    let ck = ("cookie", "sv_uid=enc");
    let css = dist_path(dir, "/css/site.");
    for path in ["/", css.as_str()] {
        let plain = get(addr, path, &[ck]);
        assert_eq!(plain.status, 200, "{path}");
        assert_eq!(plain.header("content-encoding"), None, "{path}");
        assert_eq!(plain.header("vary"), Some("Accept-Encoding"), "{path}");
        let id_etag = plain.header("etag").unwrap().to_string();
        assert_eq!(
            id_etag,
            format!("\"{}\"", blake3::hash(&plain.body).to_hex())
        );
        for (accept, want) in [
            ("gzip, deflate, br", "br"),
            ("gzip", "gzip"),
            ("br;q=0.5, gzip;q=0.8", "gzip"),
            ("x-gzip", "gzip"),
            ("*", "br"),
        ] {
            let what = format!("{path} with Accept-Encoding: {accept}");
            let r = get(addr, path, &[ck, ("accept-encoding", accept)]);
            assert_eq!(r.status, 200, "{what}");
            assert_eq!(r.header("content-encoding"), Some(want), "{what}");
            assert_eq!(r.header("vary"), Some("Accept-Encoding"), "{what}");
            assert!(r.body.len() < plain.body.len(), "{what}");
            assert_eq!(decode(want, &r.body), plain.body, "{what}");
            // Each representation has its own validator.
            let etag = r.header("etag").unwrap().to_string();
            assert_eq!(etag, format!("\"{}\"", blake3::hash(&r.body).to_hex()));
            assert_ne!(etag, id_etag, "{what}");
            let again = [ck, ("accept-encoding", accept), ("if-none-match", &etag)];
            assert_eq!(get(addr, path, &again).status, 304, "{what}");
            let other = [ck, ("accept-encoding", accept), ("if-none-match", &id_etag)];
            assert_eq!(get(addr, path, &other).status, 200, "{what}");
            let head = request(addr, "HEAD", path, &[ck, ("accept-encoding", accept)]);
            assert_eq!(head.status, 200, "{what}");
            assert_eq!(head.header("content-encoding"), Some(want), "{what}");
            assert_eq!(
                head.header("content-length"),
                Some(r.body.len().to_string().as_str()),
                "{what}"
            );
        }
        for accept in ["identity", "br;q=0, gzip;q=0", "deflate", ""] {
            let r = get(addr, path, &[ck, ("accept-encoding", accept)]);
            assert_eq!(r.header("content-encoding"), None, "{path} {accept:?}");
            assert_eq!(r.body, plain.body, "{path} {accept:?}");
        }
        // A field sent on two lines is one list (RFC 9110 §5.3).
        let two = get(
            addr,
            path,
            &[
                ck,
                ("accept-encoding", "gzip;q=0.5"),
                ("accept-encoding", "br"),
            ],
        );
        assert_eq!(two.header("content-encoding"), Some("br"), "{path}");
        // A range is a range of the identity bytes, whatever the client accepts.
        let part = get(
            addr,
            path,
            &[ck, ("accept-encoding", "br, gzip"), ("range", "bytes=0-9")],
        );
        assert_eq!(part.status, 206, "{path}");
        assert_eq!(part.header("content-encoding"), None, "{path}");
        assert_eq!(part.body, plain.body[..10], "{path}");
    }
    // Too small, or incompressible: no variants, no Vary; refusing identity is a 406.
    let noise = dist_path(dir, "/noise.");
    for path in ["/robots.txt", noise.as_str()] {
        let r = get(addr, path, &[ck, ("accept-encoding", "br, gzip")]);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-encoding"), None, "{path}");
        assert_eq!(r.header("vary"), None, "{path}");
        let r = get(addr, path, &[ck, ("accept-encoding", "br, identity;q=0")]);
        assert_eq!(r.status, 406, "{path}");
    }
}

#[test]
fn serve_negotiates_precompressed_variants() {
    let t = compressible_project();
    let (_p, addr) = start_serve(t.path(), &[]);
    encoding_scenario(t.path(), &addr);
}

/// The worker in workerd with `edge/config.capnp`, reading `origin`, channel production.
fn start_worker(bin: &Path, origin: &str) -> (Proc, tempfile::TempDir, String) {
    let d = worker_dir();
    let config = std::fs::read_to_string(root().join("edge/config.capnp")).unwrap();
    let (p, addr) = start_workerd(
        bin,
        d.path(),
        &config,
        &[("SV_ORIGIN", origin), ("SV_CHANNEL", "production")],
    );
    (p, d, addr)
}

#[test]
fn worker_negotiates_precompressed_variants_in_workerd() {
    let Some(bin) = workerd_bin() else { return };
    let t = compressible_project();
    let origin = start_origin(t.path().join(".sitevault/store"));
    let (_w, _d, addr) = start_worker(&bin, &origin);
    encoding_scenario(t.path(), &addr);
}

/// An index copied under another id, and a manifest routed to that id: neither
/// `serve` nor the worker adopts that manifest (503: nothing to serve yet), since the
/// index says it is another version.
#[test]
fn an_index_copied_under_another_id_is_served_by_neither_edge() {
    let t = compressible_project();
    let store = t.path().join(".sitevault/store");
    std::fs::create_dir_all(store.join("versions/v9")).unwrap();
    std::fs::copy(
        store.join("versions/v1/index.json"),
        store.join("versions/v9/index.json"),
    )
    .unwrap();
    let m = store.join("channels/production/manifest.json");
    let text = std::fs::read_to_string(&m).unwrap();
    std::fs::write(&m, text.replace("\"v1\"", "\"v9\"")).unwrap();
    let (_p, addr) = start_serve(t.path(), &[]);
    assert_eq!(get(&addr, "/", &[]).status, 503);
    let Some(bin) = workerd_bin() else { return };
    let origin = start_origin(store);
    let (_w, _d, addr) = start_worker(&bin, &origin);
    let r = get(&addr, "/", &[]);
    assert_eq!(r.status, 503, "{}", r.text());
}

// ------------------------------------------------------------- large versions

/// 2,500 pages: more than a version index keeps inline, so v1's index is sharded.
fn large_project() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let site = t.path().join("site/p");
    std::fs::create_dir_all(&site).unwrap();
    for i in 0..2_500 {
        std::fs::write(
            site.join(format!("{i}.html")),
            format!("<!doctype html><title>page {i}</title><p>page number {i}</p>"),
        )
        .unwrap();
    }
    std::fs::write(
        t.path().join("store.toml"),
        "[retention]\nhot_days = 30\nkeep_latest = 1\ngrace = \"0s\"\n",
    )
    .unwrap();
    // v0: the same files, published first and never rolled out (archivable).
    build_and_publish(t.path(), "v0", None);
    build_and_publish(t.path(), "v1", Some("production"));
    t
}

fn json_file(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// A large version's index is a small head plus shards; every command reads it
/// whole, and the worker fetches only the shard a request needs.
#[test]
fn large_versions_keep_their_index_in_shards() {
    let t = large_project();
    let dir = t.path();
    let store = dir.join(".sitevault/store");
    let head_path = store.join("versions/v1/index.json");
    let head = json_file(&head_path);
    // A head: no files map at all (an old worker fails loudly rather than 404), schema 4:
    // its shards are stored once by hash, shared with every version that has them;
    // paths placed by their unfingerprinted name; version.json in the head itself.
    assert!(head.get("files").is_none(), "{head}");
    assert_eq!(head["schema"], 4);
    assert_eq!(head["shards"]["shared"], true);
    assert_eq!(head["shards"]["stem"], true);
    let inline: Vec<&String> = head["shards"]["inline"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(inline, ["/version.json"], "{head}");
    assert_eq!(head["shards"]["of"], 4, "{}", head["shards"]);
    let keys: Vec<String> = head["shards"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    for k in &keys {
        assert!(store.join(format!("shards/{k}.json")).exists());
    }
    assert!(std::fs::metadata(&head_path).unwrap().len() < 2_000);
    ok(sv(dir).args(["verify", "v1"]));
    let listed = ok(sv(dir).args(["versions", "--json"]));
    assert!(listed.contains("2501"), "{listed}");

    // serve and the worker answer from it.
    let (_p, addr) = start_serve(dir, &[]);
    let r = get(&addr, "/p/1234", &[("cookie", "sv_uid=a")]);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("page number 1234"), "{}", r.text());
    if let Some(bin) = workerd_bin() {
        let log = RequestLog::default();
        let origin = start_logged_origin(store.clone(), log.clone());
        let (_w, _d, waddr) = start_worker(&bin, &origin);
        // version.json comes from the head: its blob, no shard.
        let r = get(&waddr, "/version.json", &[("cookie", "sv_uid=a")]);
        assert_eq!(r.status, 200);
        assert!(r.text().contains("\"files\":2501"), "{}", r.text());
        assert!(!log.lock().unwrap().iter().any(|p| p.starts_with("shards/")));
        for i in [7, 1234, 2499] {
            let r = get(&waddr, &format!("/p/{i}"), &[("cookie", "sv_uid=a")]);
            assert_eq!(r.status, 200);
            assert!(r.text().contains(&format!("page number {i}")));
        }
        assert_eq!(
            get(&waddr, "/p/nope", &[("cookie", "sv_uid=a")]).status,
            404
        );
        let asked = log.lock().unwrap().clone();
        let shard_gets = asked.iter().filter(|p| p.starts_with("shards/")).count();
        assert_eq!(
            asked.iter().filter(|p| p.ends_with("index.json")).count(),
            1,
            "{asked:?}"
        );
        // Each shard at most once (cached), and the index never whole.
        assert!(shard_gets <= keys.len(), "{asked:?}");
    }

    // A corrupt shard is an integrity error for every reader.
    let shard = store.join(format!("shards/{}.json", keys[0]));
    let good = std::fs::read(&shard).unwrap();
    std::fs::write(&shard, b"{\"schema\":1,\"files\":{}}").unwrap();
    let (code, err) = fails(sv(dir).args(["verify", "v1"]));
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("does not hash to its name"), "{err}");
    std::fs::write(&shard, &good).unwrap();

    // v0 has the same files: the same shards, stored once. Archived, v0 leaves them
    // (v1 names them); restored, its head comes back the same.
    let head0_path = store.join("versions/v0/index.json");
    let head0 = json_file(&head0_path);
    assert_eq!(head0["shards"], head["shards"], "same files, same shards");
    let later = (chrono::Utc::now() + chrono::Duration::days(40)).to_rfc3339();
    ok(sv(dir).env("SITEVAULT_NOW", &later).args(["archive", "-q"]));
    assert!(!head0_path.exists());
    assert!(shard.exists(), "v1 is live: its shards stay");
    ok(sv(dir).args(["restore", "v0", "-q"]));
    assert_eq!(json_file(&head0_path), head0);
    assert_eq!(std::fs::read(&shard).unwrap(), good);
    ok(sv(dir).args(["verify", "v0"]));

    // A head of schema 2 (one copy of its shards per version, as stored before) reads
    // the same.
    let mut old = head.clone();
    old["schema"] = 2.into();
    old["version"] = "vold".into();
    old["shards"].as_object_mut().unwrap().remove("shared");
    std::fs::create_dir_all(store.join("versions/vold")).unwrap();
    std::fs::create_dir_all(store.join("shards/vold")).unwrap();
    for k in &keys {
        std::fs::copy(
            store.join(format!("shards/{k}.json")),
            store.join(format!("shards/vold/{k}.json")),
        )
        .unwrap();
    }
    std::fs::write(store.join("versions/vold/index.json"), old.to_string()).unwrap();
    ok(sv(dir).args(["verify", "vold"]));

    // gc deletes a shared shard no hot head names, and leaves named ones and the
    // per-version copies alone.
    let stray = b"{\"schema\":1,\"files\":{}}";
    let stray_path = store.join(format!("shards/{}.json", blake3::hash(stray).to_hex()));
    std::fs::write(&stray_path, stray).unwrap();
    let gc = ok(sv(dir).args(["gc", "--json"]));
    let gc: serde_json::Value = serde_json::from_str(&gc).unwrap();
    assert_eq!(gc["shards_deleted"], 1, "{gc}");
    assert!(!stray_path.exists());
    assert!(shard.exists());
    assert!(store.join(format!("shards/vold/{}.json", keys[0])).exists());

    // A head of schema 3 (paths placed by their whole name, version.json in a shard,
    // as stored before schema 4) is read, verified and served the same.
    let files = pulled_files(dir, "v1");
    let mut parts = vec![serde_json::Map::new(); 4];
    for (p, e) in &files {
        parts[(fnv1a32(p.as_bytes()) % 4) as usize].insert(p.clone(), e.clone());
    }
    let mut keys3 = Vec::new();
    for part in parts {
        let doc = serde_json::json!({"schema": 1, "files": part}).to_string();
        let k = blake3::hash(doc.as_bytes()).to_hex().to_string();
        std::fs::write(store.join(format!("shards/{k}.json")), doc).unwrap();
        keys3.push(k);
    }
    let mut old3 = head.clone();
    old3["schema"] = 3.into();
    old3["version"] = "vold3".into();
    old3["shards"] = serde_json::json!({"of": 4, "keys": keys3, "shared": true});
    std::fs::create_dir_all(store.join("versions/vold3")).unwrap();
    std::fs::write(store.join("versions/vold3/index.json"), old3.to_string()).unwrap();
    ok(sv(dir).args(["verify", "vold3"]));
    ok(sv(dir).args(["rollout", "production", "vold3", "--percent", "100", "-q"]));
    if let Some(bin) = workerd_bin() {
        let origin = start_logged_origin(store.clone(), RequestLog::default());
        let (_w, _d, waddr) = start_worker(&bin, &origin);
        for path in ["/p/1234", "/version.json"] {
            let r = get(&waddr, path, &[("cookie", "sv_uid=a")]);
            assert_eq!(r.status, 200, "{path}");
            assert_eq!(r.header("x-sitevault-version"), Some("vold3"), "{path}");
        }
    }
}

/// FNV-1a 32 (the routing hash), for writing heads as older binaries did.
fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// A version's whole files map, as `sitevault pull` reads it (path → entry).
fn pulled_files(dir: &Path, version: &str) -> serde_json::Map<String, serde_json::Value> {
    let store = dir.join(".sitevault/store");
    let head = json_file(&store.join(format!("versions/{version}/index.json")));
    let mut files = head["shards"]["inline"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for k in head["shards"]["keys"].as_array().unwrap() {
        let doc = json_file(&store.join(format!("shards/{}.json", k.as_str().unwrap())));
        files.extend(doc["files"].as_object().unwrap().clone());
    }
    files
}

/// A changed fingerprinted file gets a new name; its shard is chosen by the name
/// without the fingerprint, so each change writes one shard, not the one it leaves
/// and the one it enters.
#[test]
fn a_renamed_fingerprinted_file_stays_in_its_shard() {
    let t = large_project();
    let dir = t.path();
    let store = dir.join(".sitevault/store");
    let svg = |w: u32| {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"{w}\" height=\"1\"/></svg>"
        )
    };
    std::fs::write(dir.join("site/sprite.svg"), svg(1)).unwrap();
    ok(sv(dir).args(["build", "site", "-o", "dist", "-q"]));
    ok(sv(dir).args(["publish", "dist", "--version", "w1", "-q"]));
    let mut names = Vec::new();
    for w in 2..=4 {
        std::fs::write(dir.join("site/sprite.svg"), svg(w)).unwrap();
        ok(sv(dir).args(["build", "site", "-o", "dist", "-q"]));
        let v = format!("w{w}");
        let r = ok(sv(dir).args(["publish", "dist", "--version", &v, "--json"]));
        let r: serde_json::Value = serde_json::from_str(&r).unwrap();
        // The SVG and version.json, one shard and the listing, the head.
        assert!(r["requests"].as_u64().unwrap() <= 5, "{r}");
        let head = json_file(&store.join(format!("versions/{v}/index.json")));
        let base = json_file(&store.join(format!("versions/w{}/index.json", w - 1)));
        let differ = (0..4)
            .filter(|&i| head["shards"]["keys"][i] != base["shards"]["keys"][i])
            .count();
        assert_eq!(differ, 1, "{head}");
        let name = pulled_files(dir, &v)
            .into_iter()
            .map(|(p, _)| p)
            .find(|p| p.starts_with("/sprite."))
            .unwrap();
        assert!(!names.contains(&name), "{name} is fingerprinted");
        names.push(name);
    }
    ok(sv(dir).args(["verify", "w4"]));
}

/// A one-file change to a large version writes the shards that changed, not all of them.
#[test]
fn a_one_file_change_to_a_large_version_writes_one_shard() {
    let t = large_project();
    let dir = t.path();
    std::fs::write(
        dir.join("site/p/7.html"),
        "<!doctype html><title>page 7</title><p>page number 7, changed</p>",
    )
    .unwrap();
    ok(sv(dir).args(["build", "site", "-o", "dist", "-q"]));
    let r = ok(sv(dir).args(["publish", "dist", "--version", "v2", "--json"]));
    let r: serde_json::Value = serde_json::from_str(&r).unwrap();
    // The page and version.json, the page's shard and the listing (one round trip),
    // the head (which carries version.json's entry).
    assert!(r["requests"].as_u64().unwrap() <= 5, "{r}");
    let store = dir.join(".sitevault/store");
    let head = json_file(&store.join("versions/v2/index.json"));
    let base = json_file(&store.join("versions/v1/index.json"));
    let differ = (0..4)
        .filter(|&i| head["shards"]["keys"][i] != base["shards"]["keys"][i])
        .count();
    assert_eq!(differ, 1, "{head}");
    ok(sv(dir).args(["verify", "v2"]));
    // The page back as it was: its blob and its shard are v1's again, which the
    // store holds and the base (v2) does not name. The blob's create-only upload is
    // refused and its size checked (two requests); the shard is written over in one,
    // not created, read back and written again (three).
    std::fs::write(
        dir.join("site/p/7.html"),
        "<!doctype html><title>page 7</title><p>page number 7</p>",
    )
    .unwrap();
    ok(sv(dir).args(["build", "site", "-o", "dist", "-q"]));
    let page_shard = |h: &serde_json::Value| {
        (0..4)
            .map(|i| h["shards"]["keys"][i].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let v1_shards = page_shard(&base);
    let before = std::time::SystemTime::now();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let r = ok(sv(dir).args(["publish", "dist", "--version", "v3", "--json"]));
    let r: serde_json::Value = serde_json::from_str(&r).unwrap();
    assert!(r["requests"].as_u64().unwrap() <= 7, "{r}");
    ok(sv(dir).args(["verify", "v3"]));
    // v3 names at least one of v1's shards that v2 does not: that one was written
    // again, so gc's grace period starts over for it.
    let v2_shards = page_shard(&head);
    let v3_shards = page_shard(&json_file(&store.join("versions/v3/index.json")));
    let again: Vec<&String> = v3_shards
        .iter()
        .filter(|k| v1_shards.contains(k) && !v2_shards.contains(k))
        .collect();
    assert!(
        !again.is_empty(),
        "{v1_shards:?} {v2_shards:?} {v3_shards:?}"
    );
    for k in again {
        let mtime = std::fs::metadata(store.join(format!("shards/{k}.json")))
            .unwrap()
            .modified()
            .unwrap();
        assert!(mtime > before, "shards/{k}.json was not written again");
    }
}
