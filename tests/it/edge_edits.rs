//! `serve` against a store edited under it and against conditional requests (from a
//! hostile-input hunt): a manifest older than the one served, or naming what cannot
//! be served, is not adopted; `If-Range` and `If-Match` name a representation; a
//! HEAD answers what a GET would; a large corrupt blob is a 502 before any byte. The
//! worker verifies each blob's blake3 too: a 502 for a small corrupt blob, a cut
//! transfer for a large one, and a variant the origin labels with Content-Encoding is
//! checked as stored.

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::http::{get, request};
use common::server;
use common::*;

const CK: (&str, &str) = ("cookie", "sv_uid=a");

fn manifest_path(dir: &Path) -> std::path::PathBuf {
    dir.join(".sitevault/store/channels/production/manifest.json")
}

/// The version serving `/` to visitor `a`.
fn served(addr: &str) -> String {
    let r = get(addr, "/", &[CK]);
    assert_eq!(r.status, 200, "{}", r.text());
    r.header("x-sitevault-version").unwrap().to_string()
}

/// v1 published, then v2 made stable: returns the manifest of each.
fn v1_then_v2() -> (tempfile::TempDir, Vec<u8>, Vec<u8>) {
    let t = example_site();
    let d = t.path();
    build_and_publish(d, "v1", Some("production"));
    let old = std::fs::read(manifest_path(d)).unwrap();
    let page = d.join("site/index.html");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, text.replace("</body>", "<p>v2</p></body>")).unwrap();
    build_and_publish(d, "v2", None);
    ok(sv(d).args(["rollback", "production", "--to", "v2", "-q"]));
    let new = std::fs::read(manifest_path(d)).unwrap();
    (t, old, new)
}

/// Writes `m` as the manifest (a new file: a new ETag) and waits out a few TTLs.
fn put_manifest(dir: &Path, m: &serde_json::Value) {
    std::fs::write(manifest_path(dir), serde_json::to_vec(m).unwrap()).unwrap();
    std::thread::sleep(Duration::from_millis(700));
}

/// The manifests an edge must not adopt, then a real change it must pick up; the
/// edge at `addr` serves v2 (stable) and reads the manifest every 200 ms.
fn refused_manifests(d: &Path, addr: &str, old: &[u8], new: &[u8]) {
    assert_eq!(served(addr), "v2");
    let new: serde_json::Value = serde_json::from_slice(new).unwrap();
    let generation = new["generation"].as_u64().unwrap();
    // The generation before: traffic would move back to v1.
    put_manifest(d, &serde_json::from_slice(old).unwrap());
    assert_eq!(served(addr), "v2", "an older manifest was adopted");
    // Newer, but naming versions that cannot be served, a percent out of range, or
    // another channel.
    for (field, value) in [
        ("stable", serde_json::json!("v9")),
        ("stable", serde_json::json!("../v1")),
        (
            "canary",
            serde_json::json!({"version": "v1", "percent": 150.0, "stage": 0, "started_at": new["updated_at"]}),
        ),
        ("channel", serde_json::json!("staging")),
    ] {
        let mut m = new.clone();
        m["generation"] = serde_json::json!(generation + 1);
        m[field] = value;
        put_manifest(d, &m);
        for _ in 0..20 {
            assert_eq!(served(addr), "v2", "adopted {m}");
        }
    }
    // Far ahead of the log but valid: taken (nothing tells it from a real change).
    // The log's newest record written back then replaces it: the one served was never
    // real, and an edge must not stay stuck on it.
    let mut ahead = new.clone();
    ahead["generation"] = serde_json::json!(999);
    ahead["stable"] = serde_json::json!("v1");
    put_manifest(d, &ahead);
    assert_eq!(served(addr), "v1");
    put_manifest(d, &new);
    assert_eq!(served(addr), "v2", "stuck on a manifest the log never had");
    // A real change is still picked up.
    std::fs::write(manifest_path(d), serde_json::to_vec(&new).unwrap()).unwrap();
    ok(sv(d).args(["rollback", "production", "--to", "v1", "-q"]));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while served(addr) != "v1" {
        assert!(
            std::time::Instant::now() < deadline,
            "the rollback was not picked up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `If-Range` and `If-Match` against `/` on the edge at `addr`.
fn conditional_requests(addr: &str) {
    let whole = get(addr, "/", &[CK, ("accept-encoding", "identity")]);
    let etag = whole.header("etag").unwrap().to_string();
    let range = ("range", "bytes=5-9");
    // The same representation: the range.
    let r = get(addr, "/", &[CK, range, ("if-range", &etag)]);
    assert_eq!(r.status, 206);
    assert_eq!(r.body, whole.body[5..10]);
    // Another one (a rollout since), a weak tag or a date: the whole file.
    let weak = format!("W/{etag}");
    for other in ["\"0000\"", &weak, "Fri, 27 Nov 2026 10:00:00 GMT"] {
        let r = get(
            addr,
            "/",
            &[
                CK,
                range,
                ("if-range", other),
                ("accept-encoding", "identity"),
            ],
        );
        assert_eq!(r.status, 200, "If-Range {other:?}");
        assert_eq!(r.body, whole.body, "If-Range {other:?}");
    }
    // If-Match: strong comparison, or `*`.
    for (tag, want) in [
        (etag.as_str(), 200),
        ("*", 200),
        ("\"0000\", *", 200),
        ("\"0000\"", 412),
        (weak.as_str(), 412),
    ] {
        let r = get(
            addr,
            "/",
            &[CK, ("if-match", tag), ("accept-encoding", "identity")],
        );
        assert_eq!(r.status, want, "If-Match {tag:?}");
    }
}

#[test]
fn serve_adopts_no_manifest_older_than_its_own_or_naming_nothing_servable() {
    let (t, old, new) = v1_then_v2();
    let s = server::start(t.path(), |_| {});
    refused_manifests(t.path(), &s.addr.to_string(), &old, &new);
}

#[test]
fn serve_honours_if_range_and_if_match() {
    let t = example_site();
    build_and_publish(t.path(), "v1", Some("production"));
    let s = server::start(t.path(), |_| {});
    conditional_requests(&s.addr.to_string());
}

/// The worker inside workerd: the same refusals and conditional requests.
#[test]
fn the_worker_refuses_the_same_manifests_and_honours_if_range_in_workerd() {
    use crate::edge::{start_origin, start_workerd, worker_dir, workerd_bin};
    let Some(bin) = workerd_bin() else { return };
    let (t, old, new) = v1_then_v2();
    let d = t.path();
    let origin = start_origin(d.join(".sitevault/store"));
    let wd = worker_dir();
    let config = std::fs::read_to_string(root().join("edge/config.capnp")).unwrap();
    let env = [
        ("SV_ORIGIN", origin.as_str()),
        ("SV_CHANNEL", "production"),
        ("SV_TTL_MS", "200"),
    ];
    let (_w, addr) = start_workerd(&bin, wd.path(), &config, &env);
    conditional_requests(&addr);
    refused_manifests(d, &addr, &old, &new);
}

/// Replaces a stored blob's file with `bytes` (or removes it).
fn edit_blob(dir: &Path, hash: &str, bytes: Option<&[u8]>) {
    let f = dir
        .join(".sitevault/store/blobs")
        .join(&hash[..2])
        .join(hash);
    std::fs::remove_file(&f).unwrap();
    if let Some(b) = bytes {
        std::fs::write(&f, b).unwrap();
    }
}

fn manifest_entry(dir: &Path, path: &str) -> serde_json::Value {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("dist/.sitevault/manifest.json")).unwrap())
            .unwrap();
    m["files"][path].clone()
}

#[test]
fn a_head_answers_what_a_get_would_for_a_broken_blob() {
    let t = example_site();
    let d = t.path();
    build_and_publish(d, "v1", Some("production"));
    let page = manifest_entry(d, "/index.html");
    edit_blob(d, page["hash"].as_str().unwrap(), Some(b"not the page"));
    let gz = page["enc"]["gzip"]["hash"]
        .as_str()
        .expect("a gzip variant");
    edit_blob(d, gz, None);
    let s = server::start(d, |_| {});
    let addr = s.addr.to_string();
    for (what, extra) in [
        ("identity", ("accept-encoding", "identity")),
        ("gzip", ("accept-encoding", "gzip")),
    ] {
        let g = get(&addr, "/", &[CK, extra]);
        let h = request(&addr, "HEAD", "/", &[CK, extra]);
        assert_eq!(g.status, 502, "{what} GET");
        assert_eq!(
            h.status, g.status,
            "{what}: HEAD {} but GET {}",
            h.status, g.status
        );
        let r = request(&addr, "HEAD", "/", &[CK, extra, ("range", "bytes=0-3")]);
        assert_eq!(r.status, 502, "{what} ranged HEAD");
    }
}

#[test]
fn a_large_corrupt_blob_is_a_502_before_any_byte_and_its_head_too() {
    let t = example_site();
    let d = t.path();
    let big: Vec<u8> = (0..2_500_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(d.join("site/big.bin"), &big).unwrap();
    build_and_publish(d, "v1", Some("production"));
    let path = dist_path(d, "/big.");
    let mut bad = big.clone();
    bad[10] ^= 1;
    edit_blob(
        d,
        manifest_entry(d, &path)["hash"].as_str().unwrap(),
        Some(&bad),
    );
    let s = server::start(d, |o| o.cache_blob_max = 1 << 16);
    let addr = s.addr.to_string();
    assert_eq!(request(&addr, "HEAD", &path, &[CK]).status, 502);
    let r = get(&addr, &path, &[CK]);
    assert_eq!(
        r.status, 502,
        "a corrupt large blob was answered {}",
        r.status
    );
}

/// v1 stable and v2 a 10 % canary whose index is gone: a fresh edge still serves
/// the stable's visitors (the canary's get 502s), rather than a 503 for all.
fn canary_without_index() -> tempfile::TempDir {
    let t = example_site();
    let d = t.path();
    build_and_publish(d, "v1", Some("production"));
    let page = d.join("site/index.html");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, text.replace("</body>", "<p>v2</p></body>")).unwrap();
    build_and_publish(d, "v2", None);
    ok(sv(d).args(["rollout", "production", "v2", "--percent", "10", "-q"]));
    std::fs::remove_file(d.join(".sitevault/store/versions/v2/index.json")).unwrap();
    t
}

fn stable_still_served(addr: &str) {
    let mut stable = 0;
    for i in 0..40 {
        let uid = format!("sv_uid=u{i}");
        let r = get(addr, "/", &[("cookie", &uid)]);
        match r.status {
            200 => {
                assert_eq!(r.header("x-sitevault-version"), Some("v1"));
                stable += 1;
            }
            502 => {}
            s => panic!("visitor u{i}: {s} {}", r.text()),
        }
    }
    assert!(stable >= 20, "{stable} of 40 visitors got the stable");
}

#[test]
fn a_canary_whose_index_is_gone_leaves_the_stable_served_by_both_edges() {
    let t = canary_without_index();
    let s = server::start(t.path(), |_| {});
    stable_still_served(&s.addr.to_string());
    use crate::edge::{start_origin, start_workerd, worker_dir, workerd_bin};
    let Some(bin) = workerd_bin() else { return };
    let origin = start_origin(t.path().join(".sitevault/store"));
    let wd = worker_dir();
    let config = std::fs::read_to_string(root().join("edge/config.capnp")).unwrap();
    let env = [("SV_ORIGIN", origin.as_str()), ("SV_CHANNEL", "production")];
    let (_w, addr) = start_workerd(&bin, wd.path(), &config, &env);
    stable_still_served(&addr);
}

// ------------------------------------------------- the worker verifies what it sends

/// A response read to its end or to the first error: `complete` when the body is
/// whole (its Content-Length, or chunked up to the last chunk) and the read ended
/// cleanly; a cut transfer is incomplete.
struct Raw {
    status: u16,
    headers: std::collections::HashMap<String, String>,
    body: Vec<u8>,
    complete: bool,
}

fn raw_get(addr: &str, path: &str, headers: &[(&str, &str)]) -> Raw {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let clean = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(_) => break false,
        }
    };
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response headers");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap();
    let status: u16 = status.parse().unwrap();
    let headers: std::collections::HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let (body, whole) = if let Some(n) = headers.get("content-length") {
        let n: usize = n.parse().unwrap();
        (rest[..rest.len().min(n)].to_vec(), rest.len() >= n)
    } else if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        let (mut out, mut b, mut last) = (Vec::new(), rest, false);
        while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
            let size = String::from_utf8_lossy(&b[..nl]);
            let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap();
            if size == 0 {
                last = true;
                break;
            }
            let end = (nl + 2 + size).min(b.len());
            out.extend_from_slice(&b[nl + 2..end]);
            b = &b[(end + 2).min(b.len())..];
        }
        (out, last)
    } else {
        (rest.to_vec(), false)
    };
    Raw {
        status,
        headers,
        body,
        complete: clean && whole,
    }
}

/// An origin over the store folder `dir` that labels the blobs named in `labels` with
/// that Content-Encoding (as S3 does with sitevault's attributes) and, when `chunked`,
/// sends bodies without a Content-Length.
fn start_test_origin(
    dir: std::path::PathBuf,
    labels: std::collections::HashMap<String, String>,
    chunked: bool,
) -> String {
    use std::io::{BufRead, BufReader, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let (dir, labels) = (dir.clone(), labels.clone());
            std::thread::spawn(move || {
                let mut r = BufReader::new(c.try_clone().unwrap());
                let mut line = String::new();
                if r.read_line(&mut line).is_err() {
                    return;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                let p = path.trim_start_matches('/');
                let Ok(body) = std::fs::read(dir.join(p)).map_err(|_| ()).and_then(|b| {
                    if p.contains("..") {
                        Err(())
                    } else {
                        Ok(b)
                    }
                }) else {
                    let _ = c.write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    );
                    return;
                };
                let mut head = String::from("HTTP/1.1 200 OK\r\nconnection: close\r\n");
                if let Some(coding) = labels.get(p.rsplit('/').next().unwrap()) {
                    head.push_str(&format!("content-encoding: {coding}\r\n"));
                }
                if chunked {
                    head.push_str("transfer-encoding: chunked\r\n\r\n");
                    let _ = c.write_all(head.as_bytes());
                    for piece in body.chunks(16 << 10) {
                        let _ = c.write_all(format!("{:x}\r\n", piece.len()).as_bytes());
                        let _ = c.write_all(piece);
                        let _ = c.write_all(b"\r\n");
                    }
                    let _ = c.write_all(b"0\r\n\r\n");
                } else {
                    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
                    let _ = c.write_all(head.as_bytes());
                    let _ = c.write_all(&body);
                }
            });
        }
    });
    format!("http://{addr}")
}

/// The worker in workerd with `edge/config.capnp`, reading `origin`; blobs above
/// `whole_max` bytes are verified as they stream.
fn start_verifying_worker(
    origin: &str,
    whole_max: Option<usize>,
) -> Option<(crate::edge::Proc, tempfile::TempDir, String)> {
    use crate::edge::{start_workerd, worker_dir, workerd_bin};
    let bin = workerd_bin()?;
    let wd = worker_dir();
    let config = std::fs::read_to_string(root().join("edge/config.capnp")).unwrap();
    let max = whole_max.map(|m| m.to_string()).unwrap_or_default();
    let mut env = vec![("SV_ORIGIN", origin), ("SV_CHANNEL", "production")];
    if whole_max.is_some() {
        env.push(("SV_VERIFY_WHOLE_MAX", max.as_str()));
    }
    let (p, addr) = start_workerd(&bin, wd.path(), &config, &env);
    Some((p, wd, addr))
}

fn blob_of(dir: &Path, hash: &str) -> Vec<u8> {
    std::fs::read(
        dir.join(".sitevault/store/blobs")
            .join(&hash[..2])
            .join(hash),
    )
    .unwrap()
}

/// The blob `hash` with one byte flipped (same length), or cut to `keep` bytes.
fn flip_blob(dir: &Path, hash: &str, at: usize) {
    let mut b = blob_of(dir, hash);
    b[at] ^= 0x20;
    edit_blob(dir, hash, Some(&b));
}

fn cut_blob(dir: &Path, hash: &str, keep: usize) {
    let b = blob_of(dir, hash);
    edit_blob(dir, hash, Some(&b[..keep]));
}

fn hash_of(entry: &serde_json::Value) -> String {
    entry["hash"].as_str().unwrap().to_string()
}

/// Both origins a worker meets: one that sends a Content-Length, one that streams.
const ORIGIN_KINDS: [bool; 2] = [false, true];

#[test]
fn the_worker_answers_502_for_a_corrupt_or_truncated_blob_never_200_in_workerd() {
    let t = example_site();
    let d = t.path();
    build_and_publish(d, "v1", Some("production"));
    let page = manifest_entry(d, "/index.html");
    let gz = page["enc"]["gzip"]["hash"]
        .as_str()
        .expect("a gzip variant");
    flip_blob(d, &hash_of(&page), 40);
    flip_blob(d, gz, 30);
    let css = dist_path(d, "/css/site.");
    let css_entry = manifest_entry(d, &css);
    let size = css_entry["size"].as_u64().unwrap() as usize;
    cut_blob(d, &hash_of(&css_entry), size - 1);
    let good = dist_path(d, "/css/blog.");
    let good_bytes = std::fs::read(d.join("dist").join(&good[1..])).unwrap();
    for chunked in ORIGIN_KINDS {
        let origin = start_test_origin(d.join(".sitevault/store"), Default::default(), chunked);
        let Some((_w, _wd, addr)) = start_verifying_worker(&origin, None) else {
            return;
        };
        let id = ("accept-encoding", "identity");
        for (what, path, extra) in [
            ("a flipped byte", "/", id),
            ("a flipped byte, ranged", "/", ("range", "bytes=0-3")),
            (
                "a flipped byte in the gzip variant",
                "/",
                ("accept-encoding", "gzip"),
            ),
            ("one byte short", css.as_str(), id),
            (
                "one byte short, ranged",
                css.as_str(),
                ("range", "bytes=2-9"),
            ),
        ] {
            let r = get(&addr, path, &[CK, extra]);
            assert_eq!(
                r.status,
                502,
                "{what} (chunked origin: {chunked}): {} {}",
                r.status,
                r.text()
            );
            assert!(r.text().contains("blob failed verification"), "{what}");
            // A HEAD answers what the GET does (as `sitevault serve`'s).
            let r = request(&addr, "HEAD", path, &[CK, extra]);
            assert_eq!(r.status, 502, "HEAD, {what} (chunked origin: {chunked})");
        }
        let r = get(&addr, &good, &[CK, ("accept-encoding", "identity")]);
        assert_eq!(r.status, 200);
        assert!(r.body == good_bytes, "a good blob's bytes changed");
        let r = request(&addr, "HEAD", &good, &[CK, ("accept-encoding", "identity")]);
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-length"),
            Some(good_bytes.len().to_string().as_str())
        );
        let r = get(&addr, &good, &[CK, ("range", "bytes=3-12")]);
        assert_eq!((r.status, &r.body[..]), (206, &good_bytes[3..13]));
    }
}

/// 300 KB of noise (no variants): above the 64 KiB the tests set as the whole-read limit.
fn noise(seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..300_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn the_worker_cuts_the_transfer_of_a_large_corrupt_blob_and_streams_a_good_one_in_workerd() {
    let t = example_site();
    let d = t.path();
    let (good, bad, short) = (noise(1), noise(2), noise(3));
    std::fs::write(d.join("site/good.bin"), &good).unwrap();
    std::fs::write(d.join("site/bad.bin"), &bad).unwrap();
    std::fs::write(d.join("site/short.bin"), &short).unwrap();
    build_and_publish(d, "v1", Some("production"));
    let (gp, bp, sp) = (
        dist_path(d, "/good."),
        dist_path(d, "/bad."),
        dist_path(d, "/short."),
    );
    flip_blob(d, &hash_of(&manifest_entry(d, &bp)), 250_000);
    cut_blob(d, &hash_of(&manifest_entry(d, &sp)), 299_999);
    for chunked in ORIGIN_KINDS {
        let origin = start_test_origin(d.join(".sitevault/store"), Default::default(), chunked);
        let Some((_w, _wd, addr)) = start_verifying_worker(&origin, Some(64 << 10)) else {
            return;
        };
        let r = raw_get(&addr, &gp, &[CK]);
        assert!(
            r.status == 200 && r.complete && r.body == good,
            "a good large blob: {} complete {} {} bytes",
            r.status,
            r.complete,
            r.body.len()
        );
        for (range, want) in [
            ("bytes=1000-2000", &good[1000..2001]),
            ("bytes=-70000", &good[230_000..]),
        ] {
            let r = raw_get(&addr, &gp, &[CK, ("range", range)]);
            assert!(r.status == 206 && r.complete && r.body == want, "{range}");
        }
        // Corrupt: a 502 (an origin that says its length up front) or a cut transfer,
        // never a complete body, whole or ranged (the range ends long before the
        // flipped byte, and still waits for the blob to verify).
        for (what, path, range, full) in [
            ("a flipped byte", &bp, None, 300_000),
            ("a flipped byte, ranged", &bp, Some("bytes=0-99"), 100),
            ("one byte short", &sp, None, 300_000),
            (
                "one byte short, ranged",
                &sp,
                Some("bytes=100-70099"),
                70_000,
            ),
        ] {
            let mut h = vec![CK];
            if let Some(r) = range {
                h.push(("range", r));
            }
            let r = raw_get(&addr, path, &h);
            let what = format!("{what} (chunked origin: {chunked})");
            assert!(
                r.status == 502 || (!r.complete && r.body.len() < full),
                "{what}: {} with {} of {full} bytes, complete: {}",
                r.status,
                r.body.len(),
                r.complete
            );
            if r.status != 502 {
                assert_eq!(
                    r.headers.get("content-length"),
                    Some(&full.to_string()),
                    "{what}"
                );
            }
        }
    }
}

#[test]
fn the_worker_verifies_variants_an_origin_labels_with_content_encoding_in_workerd() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::create_dir_all(d.join("site")).unwrap();
    let para = "<p>Fresh beans roasted daily, ground to order and brewed with care.</p>\n";
    std::fs::write(
        d.join("site/index.html"),
        format!("<!doctype html><title>t</title>{}", para.repeat(80)),
    )
    .unwrap();
    std::fs::write(
        d.join("site/about.html"),
        format!("<!doctype html><title>a</title>{}", para.repeat(90)),
    )
    .unwrap();
    build_and_publish(d, "v1", Some("production"));
    let page = manifest_entry(d, "/index.html");
    let about = manifest_entry(d, "/about.html");
    let mut labels = std::collections::HashMap::new();
    for e in [&page, &about] {
        for c in ["br", "gzip"] {
            let h = e["enc"][c]["hash"].as_str().expect("a variant");
            labels.insert(h.to_string(), c.to_string());
        }
    }
    flip_blob(d, about["enc"]["br"]["hash"].as_str().unwrap(), 20);
    let identity = std::fs::read(d.join("dist/index.html")).unwrap();
    let origin = start_test_origin(d.join(".sitevault/store"), labels, false);
    let Some((_w, _wd, addr)) = start_verifying_worker(&origin, None) else {
        return;
    };
    for coding in ["br", "gzip"] {
        let r = get(&addr, "/", &[CK, ("accept-encoding", coding)]);
        assert_eq!(r.status, 200, "{coding}: {}", r.text());
        assert_eq!(r.header("content-encoding"), Some(coding));
        // The variant's own bytes, as stored: their hash is the ETag and the index's.
        let want = page["enc"][coding]["hash"].as_str().unwrap();
        assert_eq!(blake3::hash(&r.body).to_hex().as_str(), want, "{coding}");
        assert_eq!(r.header("etag"), Some(format!("\"{want}\"").as_str()));
        assert_eq!(decode(coding, &r.body), identity, "{coding}");
    }
    let r = get(&addr, "/", &[CK, ("accept-encoding", "identity")]);
    assert!(r.status == 200 && r.body == identity);
    // A labelled variant whose bytes changed: a 502, whatever the runtime could decode.
    let r = get(&addr, "/about", &[CK, ("accept-encoding", "br")]);
    assert_eq!(r.status, 502, "a corrupt labelled variant: {}", r.text());
    let r = get(&addr, "/about", &[CK, ("accept-encoding", "gzip")]);
    assert_eq!(r.status, 200, "{}", r.text());
}

/// A shard is named by the blake3 of its bytes: one whose bytes changed (here only a
/// newline added, still the same JSON) routes nothing, and the others still serve.
#[test]
fn the_worker_refuses_a_shard_whose_bytes_are_not_its_name_in_workerd() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::create_dir_all(d.join("site/p")).unwrap();
    for i in 0..2_100 {
        std::fs::write(
            d.join(format!("site/p/{i}.html")),
            format!("<!doctype html><title>page {i}</title><p>page number {i}</p>"),
        )
        .unwrap();
    }
    build_and_publish(d, "v1", Some("production"));
    let store = d.join(".sitevault/store");
    let head: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join("versions/v1/index.json")).unwrap())
            .unwrap();
    let key = head["shards"]["keys"][0].as_str().expect("a sharded index");
    let shard = store.join(format!("shards/{key}.json"));
    let mut bytes = std::fs::read(&shard).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let inside = |p: &str| doc["files"].get(p).is_some();
    bytes.push(b'\n');
    std::fs::write(&shard, &bytes).unwrap();
    let origin = start_test_origin(store, Default::default(), false);
    let Some((_w, _wd, addr)) = start_verifying_worker(&origin, None) else {
        return;
    };
    let (mut refused, mut served) = (0, 0);
    for i in 0..40 {
        let path = format!("/p/{i}.html");
        let r = get(&addr, &path, &[CK]);
        if inside(&path) {
            assert_eq!(r.status, 502, "{path} (in the changed shard): {}", r.text());
            refused += 1;
        } else {
            assert_eq!(r.status, 200, "{path}: {}", r.text());
            served += 1;
        }
    }
    assert!(
        refused > 0 && served > 0,
        "{refused} refused, {served} served"
    );
}
