//! `serve` against a store edited under it and against conditional requests (from a
//! hostile-input hunt): a manifest older than the one served, or naming what cannot
//! be served, is not adopted; `If-Range` and `If-Match` name a representation; a
//! HEAD answers what a GET would; a large corrupt blob is a 502 before any byte.

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
