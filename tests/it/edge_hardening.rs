//! The edge under abuse, driven through the library (`serve::bind`): corrupt blobs,
//! slow sockets, the metrics listener, odd requests, a manifest pointing at nothing.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::http::{get, request};
use common::server::{self, store_of};
use common::*;
use sitevault::edge::serve::{self, ServeOptions};
use sitevault::report::{Handle, Reporter};

/// Collects logged errors.
#[derive(Default, Clone)]
struct Log(Arc<Mutex<Vec<String>>>);
impl Reporter for Log {
    fn error(&self, m: &str) {
        self.0.lock().unwrap().push(m.to_string());
    }
}

/// A server of this process, with its addresses as `host:port` text.
struct Server {
    addr: String,
    metrics: Option<String>,
    _running: server::Server,
}

fn start(dir: &Path, edit: impl FnOnce(&mut ServeOptions)) -> Server {
    let running = server::start(dir, edit);
    Server {
        addr: running.addr.to_string(),
        metrics: running.metrics.map(|m| m.to_string()),
        _running: running,
    }
}

fn blob_file(dir: &Path, hash: &str) -> std::path::PathBuf {
    dir.join(".sitevault/store/blobs")
        .join(&hash[..2])
        .join(hash)
}

fn hash_of(dir: &Path, path: &str) -> String {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("dist/.sitevault/manifest.json")).unwrap())
            .unwrap();
    m["files"][path]["hash"].as_str().unwrap().to_string()
}

/// Flips one byte in the middle of a stored blob (same length).
fn corrupt(dir: &Path, hash: &str) {
    let f = blob_file(dir, hash);
    let mut b = std::fs::read(&f).unwrap();
    let i = b.len() / 2;
    b[i] ^= 0xff;
    // Stored blobs may be read-only or hard links: replace the file.
    std::fs::remove_file(&f).unwrap();
    std::fs::write(&f, &b).unwrap();
}

/// A site with a small page and a 3 MB file.
fn site() -> (tempfile::TempDir, Vec<u8>) {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("site/metrics")).unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(t.path().join("site/movie.bin"), &big).unwrap();
    std::fs::write(
        t.path().join("site/index.html"),
        "<!doctype html><title>home</title><a href=movie.bin>movie</a>",
    )
    .unwrap();
    std::fs::write(
        t.path().join("site/metrics/index.html"),
        "<!doctype html><title>our metrics page</title><p>site metrics page",
    )
    .unwrap();
    build_and_publish(t.path(), "v1", Some("production"));
    (t, big)
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn corrupt_blobs_are_502_or_a_failed_stream_and_counted() {
    let (t, _) = site();
    let dir = t.path();
    let log = Log::default();
    let s = start(dir, |o| o.reporter = Handle::new(log.clone()));
    let ck = [("cookie", "sv_uid=a")];
    let movie = dist_path(dir, "/movie.");
    corrupt(dir, &hash_of(dir, "/index.html"));
    corrupt(dir, &hash_of(dir, &movie));

    // Small: checked before the first byte is sent.
    let r = get(&s.addr, "/", &ck);
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.header("cache-control").unwrap().contains("no-store"));

    // Large, whole: checked before the status line goes out, so a 502 too.
    let r = get(&s.addr, &movie, &ck);
    assert_eq!(
        r.status, 502,
        "a corrupt large blob was answered {}",
        r.status
    );

    // Large, a range: verified first, so a 502 before any header.
    let r = get(&s.addr, &movie, &[ck[0], ("range", "bytes=0-9")]);
    assert_eq!(r.status, 502);

    let m = get(s.metrics.as_ref().unwrap(), "/metrics", &[]).text();
    assert!(metric(&m, "sitevault_corrupt_blobs_total") >= 3.0, "{m}");
    let logged = log.0.lock().unwrap().join("\n");
    assert!(logged.contains("corrupt"), "{logged}");
}

#[test]
fn intact_large_blobs_stream_whole_and_ranges_work() {
    let (t, big) = site();
    let dir = t.path();
    let s = start(dir, |o| o.cache_blob_max = 1 << 16);
    let movie = dist_path(dir, "/movie.");
    let r = get(&s.addr, &movie, &[("cookie", "sv_uid=a")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, big);
    let r = get(
        &s.addr,
        &movie,
        &[("cookie", "sv_uid=a"), ("range", "bytes=1000-1009")],
    );
    assert_eq!(r.body, big[1000..1010]);
    let m = get(s.metrics.as_ref().unwrap(), "/metrics", &[]).text();
    assert_eq!(metric(&m, "sitevault_corrupt_blobs_total"), 0.0, "{m}");

    // Changed in the store after it was checked: the stream is hashed as it goes
    // and ends in an error, never completes.
    corrupt(dir, &hash_of(dir, &movie));
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        c,
        "GET {movie} HTTP/1.1\r\nHost: x\r\nCookie: sv_uid=a\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = c.read_to_end(&mut raw);
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(raw.starts_with(b"HTTP/1.1 200"));
    assert!(
        raw.len() - (split + 4) < big.len(),
        "a corrupt stream was sent whole"
    );
}

#[test]
fn metrics_have_their_own_listener_and_the_site_keeps_its_metrics_page() {
    let (t, _) = site();
    let s = start(t.path(), |_| {});
    let ck = [("cookie", "sv_uid=a")];
    let r = get(&s.addr, "/metrics/", &ck);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("site metrics page"));
    let r = get(&s.addr, "/metrics", &ck);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("site metrics page"));
    assert_eq!(get(&s.addr, "/", &ck).status, 200);
    let m = get(s.metrics.as_ref().unwrap(), "/metrics", &[]).text();
    assert!(
        m.contains("sitevault_requests_total{version=\"v1\",status=\"2xx\"}"),
        "{m}"
    );
    assert!(m.contains("sitevault_request_duration_seconds_bucket"));
    assert!(m.contains("sitevault_manifest_generation"));
    assert!(m.contains("sitevault_manifest_age_seconds"));
    // Off by default.
    let s2 = start(t.path(), |o| o.metrics_listen = None);
    assert!(s2.metrics.is_none());
}

#[test]
fn slow_sockets_neither_starve_visitors_nor_stay_open() {
    let (t, _) = site();
    let s = start(t.path(), |o| o.header_timeout = Duration::from_secs(1));
    let mut slow = Vec::new();
    for _ in 0..1000 {
        let mut c = TcpStream::connect(&s.addr).unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
        slow.push(c);
    }
    // A normal visitor still gets an answer (a generous bound, not a speed target).
    let (tx, rx) = std::sync::mpsc::channel();
    let addr = s.addr.clone();
    std::thread::spawn(move || {
        let _ = tx.send(get(&addr, "/", &[("cookie", "sv_uid=a")]).status);
    });
    let status = rx
        .recv_timeout(Duration::from_secs(2))
        .expect("a normal request got no answer while slow sockets were open");
    assert_eq!(status, 200);
    // The slow ones are closed after the header timeout.
    let started = Instant::now();
    for c in &mut slow {
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 512];
        loop {
            match c.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "slow sockets were not closed"
    );
}

#[test]
fn idle_keep_alive_connections_are_closed() {
    let (t, _) = site();
    let s = start(t.path(), |o| {
        o.idle_timeout = Duration::from_millis(300);
        o.header_timeout = Duration::from_secs(30);
    });
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 512];
    // Silent from the start: closed, not kept.
    let n = c.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0);
}

#[test]
fn bad_options_are_usage_errors() {
    let (t, _) = site();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for ttl in [Duration::ZERO, Duration::from_millis(10)] {
        let mut o = ServeOptions::new("production");
        o.listen = "127.0.0.1:0".parse().unwrap();
        o.ttl = ttl;
        let r = rt.block_on(serve::serve(store_of(t.path()), o, async {}, |_| {}));
        assert!(matches!(r, Err(sitevault::Error::Usage(_))), "{r:?}");
    }
}

#[test]
fn odd_requests_get_clean_refusals() {
    let (t, _) = site();
    let s = start(t.path(), |_| {});
    let ck = ("cookie", "sv_uid=a");
    for m in ["POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "FOO"] {
        let r = request(&s.addr, m, "/", &[ck, ("content-length", "0")]);
        assert!(r.status == 405 || r.status == 400, "{m}: {}", r.status);
    }
    for p in [
        "/%2e%2e/%2e%2e/etc/passwd",
        "/a%2f..%2f..%2fb",
        "/a%00",
        "/%c0%ae%c0%ae/",
        "/a%5c..%5c..%5cb",
    ] {
        let r = get(&s.addr, p, &[ck]);
        assert!(r.status == 400 || r.status == 404, "{p}: {}", r.status);
    }
    let big = "x".repeat(200_000);
    let r = get(&s.addr, "/", &[ck, ("x-big", &big)]);
    assert!(r.status == 431 || r.status == 400, "{}", r.status);
    // Ranges: suffix 0 unsatisfiable, reversed ignored, multi-range served whole.
    let full = get(&s.addr, "/", &[ck]);
    let r = get(&s.addr, "/", &[ck, ("range", "bytes=-0")]);
    assert_eq!(r.status, 416);
    let r = get(&s.addr, "/", &[ck, ("range", "bytes=9-3")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, full.body);
    let r = get(&s.addr, "/", &[ck, ("range", "bytes=0-5,3-9,0-")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, full.body);
    // If-None-Match lists, weak tags and `*`.
    let etag = full.header("etag").unwrap().to_string();
    for inm in [
        format!("\"nope\", {etag}"),
        format!("W/{etag}"),
        "*".to_string(),
    ] {
        let r = get(&s.addr, "/", &[ck, ("if-none-match", &inm)]);
        assert_eq!(r.status, 304, "{inm}");
    }
    let r = get(&s.addr, "/", &[ck, ("if-none-match", "\"other\"")]);
    assert_eq!(r.status, 200);
    // Overrides and cookies that are garbage fall back to routing.
    let r = get(
        &s.addr,
        "/?sv-version=%ff%00../x",
        &[("cookie", "sv_uid=; ;=;x=\"y\"")],
    );
    assert_eq!(r.status, 200);
}

/// A manifest is adopted only when the versions it routes to can be served: at
/// startup, one naming a version without an index leaves nothing to serve (503,
/// until a manifest that can be served appears).
#[test]
fn a_manifest_pointing_at_a_missing_version_is_a_clean_503() {
    let (t, _) = site();
    let dir = t.path();
    std::fs::remove_file(dir.join(".sitevault/store/versions/v1/index.json")).unwrap();
    let s = start(dir, |_| {});
    let r = get(&s.addr, "/", &[("cookie", "sv_uid=a")]);
    assert_eq!(r.status, 503, "{}", r.text());
}

#[test]
fn serve_with_a_zero_ttl_is_a_usage_error_not_a_panicking_refresher() {
    let t = tempfile::tempdir().unwrap();
    let (code, err) = fails(sv(t.path()).args([
        "serve",
        "--channel",
        "production",
        "--listen",
        "127.0.0.1:0",
        "--ttl",
        "0s",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ttl"), "{err}");
}

/// Reads one response with a `Content-Length` body from `c`: (head, body).
fn read_response(c: &mut TcpStream, slow: bool) -> (String, Vec<u8>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        c.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("content-length");
    let mut body = vec![0u8; len];
    let mut at = 0;
    while at < len {
        let end = (at + if slow { 16 << 10 } else { len }).min(len);
        let n = c.read(&mut body[at..end]).unwrap();
        assert!(n > 0, "connection closed after {at} of {len} body bytes");
        at += n;
        if slow {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    (head, body)
}

#[test]
fn cached_files_are_sent_whole_in_order_to_pipelined_and_slow_readers() {
    // A compressible script (it gets a br variant) and an incompressible file of
    // 900 KB, both served from the memory cache.
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::create_dir_all(dir.join("site")).unwrap();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..900_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(dir.join("site/noise.bin"), &noise).unwrap();
    let script: String = (0..6000)
        .map(|i| format!("window.v{i}={};", i * 7919 % 100_003))
        .collect();
    std::fs::write(dir.join("site/app.js"), &script).unwrap();
    std::fs::write(
        dir.join("site/index.html"),
        "<!doctype html><title>t</title><script src=app.js></script><a href=noise.bin>n</a>",
    )
    .unwrap();
    build_and_publish(dir, "v1", Some("production"));
    let s = start(dir, |_| {});
    let ck = ("cookie", "sv_uid=a");
    let bin = dist_path(dir, "/noise.");
    let js = dist_path(dir, "/app.");
    let js_bytes = std::fs::read(dir.join("dist").join(&js[1..])).unwrap();
    let js_br = std::fs::read(dir.join("dist").join(format!("{}.br", &js[1..]))).unwrap();
    assert!(
        js_bytes.len() > 32 << 10 && js_br.len() > 16 << 10,
        "{} {}",
        js_bytes.len(),
        js_br.len()
    );

    for _ in 0..2 {
        // First from the store, then from the cache.
        let r = get(&s.addr, &bin, &[ck]);
        assert_eq!((r.status, r.body.len()), (200, noise.len()));
        assert!(r.body == noise);
        let r = get(&s.addr, &js, &[ck]);
        assert!(r.status == 200 && r.body == js_bytes);
        let r = get(&s.addr, &js, &[ck, ("accept-encoding", "br")]);
        assert_eq!(r.header("content-encoding"), Some("br"));
        assert!(r.body == js_br);
    }
    for (range, want) in [
        ("bytes=0-99", &noise[..100]),
        ("bytes=20000-70000", &noise[20_000..70_001]),
        ("bytes=-100000", &noise[noise.len() - 100_000..]),
    ] {
        let r = get(&s.addr, &bin, &[ck, ("range", range)]);
        assert_eq!(r.status, 206, "{range}");
        assert!(r.body == want, "{range}: {} bytes", r.body.len());
    }
    let r = request(&s.addr, "HEAD", &bin, &[ck]);
    assert!(r.status == 200 && r.body.is_empty());
    assert_eq!(
        r.header("content-length"),
        Some(noise.len().to_string().as_str())
    );

    // Pipelined on one connection, read slowly: the kernel's buffers fill, so the
    // sends stop part-way and resume, and the responses stay in order.
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let asks: Vec<(String, &[u8])> = (0..12)
        .map(|i| match i % 3 {
            0 => (format!("GET {bin} HTTP/1.1\r\nHost: x\r\nCookie: sv_uid=a\r\n\r\n"), &noise[..]),
            1 => (
                format!("GET {bin} HTTP/1.1\r\nHost: x\r\nCookie: sv_uid=a\r\nRange: bytes=123-456788\r\n\r\n"),
                &noise[123..456_789],
            ),
            _ => (
                format!("GET {js} HTTP/1.1\r\nHost: x\r\nCookie: sv_uid=a\r\nAccept-Encoding: br\r\n\r\n"),
                &js_br[..],
            ),
        })
        .collect();
    let all: String = asks.iter().map(|a| a.0.as_str()).collect();
    c.write_all(all.as_bytes()).unwrap();
    for (i, (_, want)) in asks.iter().enumerate() {
        let (head, body) = read_response(&mut c, i % 2 == 0);
        assert!(head.starts_with("HTTP/1.1 20"), "{i}: {head}");
        assert!(body == *want, "response {i} differs ({} bytes)", body.len());
    }
}
