//! `sitevault publish`, `versions`, `verify`, `pull` as a user runs them, and the
//! faults the publish protocol must survive.

use crate::common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

fn built(dir: &Path) {
    ok(sv(dir).args(["build", "site", "-o", "dist", "-q"]));
}

/// `sitevault publish dist --version V --json` in `dir`, parsed.
fn publish_json(dir: &Path, version: &str) -> serde_json::Value {
    json(&ok(sv(dir).args([
        "publish",
        "dist",
        "--version",
        version,
        "--json",
    ])))
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

fn count_files(dir: &Path) -> usize {
    if !dir.exists() {
        return 0;
    }
    walkdir(dir)
}

/// Counts finished objects: a SIGKILLed write can leave the local store's staging
/// file (`<name>#<n>`) behind, which is no object.
fn walkdir(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            n += walkdir(&e.path());
        } else if !e.file_name().to_string_lossy().contains('#') {
            n += 1;
        }
    }
    n
}

#[test]
fn publish_to_the_default_file_store_then_inspect() {
    let t = example_site();
    built(t.path());
    let r = publish_json(t.path(), "v1.0.0");
    for k in [
        "version",
        "files",
        "bytes",
        "uploaded_blobs",
        "uploaded_bytes",
        "skipped_blobs",
        "requests",
    ] {
        assert!(r.get(k).is_some(), "{k} missing in {r}");
    }
    assert_eq!(r["version"], "v1.0.0");
    assert!(t
        .path()
        .join(".sitevault/store/versions/v1.0.0/index.json")
        .exists());
    let again = ok(sv(t.path()).args(["publish", "dist", "--version", "v1.0.0"]));
    assert!(again.contains("already published"), "{again}");
    let list = json(&ok(sv(t.path()).args(["versions", "--json"])));
    assert_eq!(list[0]["version"], "v1.0.0");
    assert_eq!(list[0]["state"], "hot");
    ok(sv(t.path()).args(["verify", "v1.0.0"]));
    ok(sv(t.path()).args(["pull", "v1.0.0", "-o", "pulled"]));
    let a: Vec<_> = tree(&t.path().join("pulled"))
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".sitevault"))
        .collect();
    let b: Vec<_> = tree(&t.path().join("dist"))
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".sitevault"))
        .collect();
    assert_eq!(a, b);
    // A corrupted blob: verify exits 4 and names the file.
    let idx: serde_json::Value = serde_json::from_slice(
        &std::fs::read(t.path().join(".sitevault/store/versions/v1.0.0/index.json")).unwrap(),
    )
    .unwrap();
    let hash = idx["files"]["/robots.txt"]["hash"].as_str().unwrap();
    let blob = t
        .path()
        .join(format!(".sitevault/store/blobs/{}/{hash}", &hash[..2]));
    std::fs::write(&blob, "tampered").unwrap();
    let (code, err) = fails(sv(t.path()).args(["verify", "v1.0.0"]));
    assert_eq!(code, 4);
    assert!(err.contains("/robots.txt"), "{err}");
}

#[test]
fn bad_input_is_refused_before_anything_is_written() {
    let t = example_site();
    built(t.path());
    for bad in ["../x", "", &"v".repeat(65), "v 1", "-v1", "v1/x"] {
        let (code, err) =
            fails(sv(t.path()).args(["publish", "dist", &format!("--version={bad}")]));
        assert_eq!(code, 2, "{bad}: an invalid version id is a usage error");
        assert!(err.contains("invalid version id"), "{bad}: {err}");
    }
    let (_, err) =
        fails(sv(t.path()).args(["publish", "dist", "--version", "v1", "--channel", "Prod"]));
    assert!(err.contains("invalid channel name"), "{err}");
    assert!(
        !t.path().join(".sitevault/store").exists(),
        "the store was touched"
    );

    let manifest = t.path().join("dist/.sitevault/manifest.json");
    let good = std::fs::read_to_string(&manifest).unwrap();
    // A path escaping the root.
    let m: serde_json::Value = serde_json::from_str(&good).unwrap();
    let mut evil = m.clone();
    let entry = evil["files"]["/robots.txt"].clone();
    evil["files"]
        .as_object_mut()
        .unwrap()
        .insert("/../../etc/passwd".into(), entry);
    std::fs::write(&manifest, serde_json::to_string(&evil).unwrap()).unwrap();
    let (_, err) = fails(sv(t.path()).args(["publish", "dist", "--version", "v1"]));
    assert!(err.contains("not a clean site path"), "{err}");
    // A corrupt manifest.
    std::fs::write(&manifest, &good[..good.len() / 2]).unwrap();
    let (_, err) = fails(sv(t.path()).args(["publish", "dist", "--version", "v1"]));
    assert!(
        err.contains("corrupt build manifest") && err.contains("manifest.json:"),
        "{err}"
    );
    // A file changed after the build, even to the same size.
    std::fs::write(&manifest, &good).unwrap();
    let robots = std::fs::read(t.path().join("dist/robots.txt")).unwrap();
    std::fs::write(t.path().join("dist/robots.txt"), vec![b'#'; robots.len()]).unwrap();
    let (_, err) = fails(sv(t.path()).args(["publish", "dist", "--version", "v1"]));
    assert!(
        err.contains("robots.txt: does not match the build manifest"),
        "{err}"
    );
    std::fs::write(t.path().join("dist/robots.txt"), "changed").unwrap();
    let (_, err) = fails(sv(t.path()).args(["publish", "dist", "--version", "v1"]));
    assert!(
        err.contains("robots.txt: does not match the build manifest"),
        "{err}"
    );
    // A file added after the build.
    built(t.path());
    std::fs::write(t.path().join("dist/extra.txt"), "x").unwrap();
    let (_, err) = fails(sv(t.path()).args(["publish", "dist", "--version", "v1"]));
    assert!(
        err.contains("extra.txt: not in the build manifest"),
        "{err}"
    );
    // Files added after the build into folders the build recorded as it left them
    // (in its cache, `dirs/`): one in a nested folder, one in a new folder. A build this
    // small records its folders as changed too recently to count (so every folder is
    // listed); the second round marks them settled, as a larger build's would be, so
    // that publish lists only the folders changed since.
    for settle in [false, true] {
        for extra in ["css/extra.css", "css/new/extra.txt"] {
            built(t.path());
            let records: Vec<_> = std::fs::read_dir(t.path().join(".sitevault/cache/dirs"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            assert_eq!(records.len(), 1, "one output folder, one record");
            let record = &records[0];
            let text = std::fs::read_to_string(record).unwrap();
            assert!(text.lines().any(|l| l.ends_with(" css")), "{text}");
            if settle {
                std::thread::sleep(std::time::Duration::from_millis(50));
                let settled: String = text
                    .lines()
                    .map(|l| {
                        format!(
                            "{}\n",
                            l.strip_prefix("0 ")
                                .map_or(l.to_string(), |r| format!("1 {r}"))
                        )
                    })
                    .collect();
                std::fs::write(record, settled).unwrap();
                ok(sv(t.path()).args(["publish", "dist", "--version", "v1", "--dry-run"]));
            }
            let p = t.path().join("dist").join(extra);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "x").unwrap();
            let (_, err) = fails(sv(t.path()).args(["publish", "dist", "--version", "v1"]));
            assert!(
                err.contains(&format!("{extra}: not in the build manifest")),
                "{extra} settled={settle}: {err}"
            );
        }
    }
    // No dist at all.
    let (_, err) = fails(sv(t.path()).args(["publish", "nowhere", "--version", "v1"]));
    assert!(err.contains("run `sitevault build` first"), "{err}");
    assert_eq!(count_files(&t.path().join(".sitevault/store/versions")), 0);
}

/// A publish from this machine's record of its last version checks the rest of the
/// dist (digests, nothing unlisted) beside its uploads: a dist that fails those
/// checks writes no index, and one whose variant hashes are not digests uploads
/// nothing at all.
#[test]
fn from_a_record_a_bad_dist_writes_no_index() {
    let t = example_site();
    let dir = t.path();
    built(dir);
    publish_json(dir, "v1");
    let store = dir.join(".sitevault/store");
    let versions = || std::fs::read_dir(store.join("versions")).unwrap().count();
    assert_eq!(versions(), 1);
    // A file added after the build (a changed page makes blobs to upload).
    std::fs::write(dir.join("site/index.html"), "<!doctype html><p>changed").unwrap();
    built(dir);
    std::fs::write(dir.join("dist/extra.txt"), "x").unwrap();
    let (_, err) = fails(sv(dir).args(["publish", "dist", "--version", "v2"]));
    assert!(
        err.contains("extra.txt: not in the build manifest"),
        "{err}"
    );
    assert_eq!(versions(), 1, "no index for v2");
    std::fs::remove_file(dir.join("dist/extra.txt")).unwrap();
    // A manifest whose digest does not match its files.
    let manifest = dir.join("dist/.sitevault/manifest.json");
    let good = std::fs::read_to_string(&manifest).unwrap();
    let mut m: serde_json::Value = serde_json::from_str(&good).unwrap();
    m["digest"] = "0".repeat(64).into();
    std::fs::write(&manifest, m.to_string()).unwrap();
    let (_, err) = fails(sv(dir).args(["publish", "dist", "--version", "v2"]));
    assert!(err.contains("digest does not match"), "{err}");
    assert_eq!(versions(), 1, "no index for v2");
    // A variant whose hash is no digest is refused before anything is uploaded.
    let mut m: serde_json::Value = serde_json::from_str(&good).unwrap();
    let with_variant = m["files"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, e)| {
            e.get("enc")
                .is_some_and(|v| v.as_object().is_some_and(|o| !o.is_empty()))
        })
        .map(|(p, _)| p.clone())
        .expect("a file with a precompressed variant");
    let coding = m["files"][&with_variant]["enc"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    m["files"][&with_variant]["enc"][&coding]["hash"] = "../../x".into();
    std::fs::write(&manifest, m.to_string()).unwrap();
    let blobs = count_files(&store.join("blobs"));
    let (_, err) = fails(sv(dir).args(["publish", "dist", "--version", "v2"]));
    assert!(err.contains("is not a blake3 digest"), "{err}");
    assert_eq!(count_files(&store.join("blobs")), blobs, "nothing uploaded");
    // The dist as built publishes.
    std::fs::write(&manifest, &good).unwrap();
    publish_json(dir, "v2");
    ok(sv(dir).args(["verify", "v2"]));
}

/// A site with many small files, so that a publish takes long enough to be killed.
fn big_site(dir: &Path, n: usize) {
    let site = dir.join("site");
    std::fs::create_dir_all(site.join("files")).unwrap();
    for i in 0..n {
        std::fs::write(
            site.join(format!("files/f{i:05}.txt")),
            format!("file number {i}\n"),
        )
        .unwrap();
    }
    std::fs::write(
        site.join("index.html"),
        "<!doctype html><title>big</title><p>big site</p>",
    )
    .unwrap();
}

#[cfg(unix)]
#[test]
fn a_publish_killed_part_way_leaves_no_version_and_resumes() {
    let t = tempfile::tempdir().unwrap();
    big_site(t.path(), 4000);
    std::fs::write(t.path().join("store.toml"), "[store]\nconcurrency = 1\n").unwrap();
    built(t.path());
    let blobs = t.path().join(".sitevault/store/blobs");
    let mut child = sv(t.path())
        .args(["publish", "dist", "--version", "v1", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while count_files(&blobs) < 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    // SIGKILL: no chance to clean up.
    child.kill().unwrap();
    child.wait().unwrap();
    let uploaded = count_files(&blobs);
    assert!(
        (200..4001).contains(&uploaded),
        "killed too late: {uploaded} blobs"
    );
    assert!(!t
        .path()
        .join(".sitevault/store/versions/v1/index.json")
        .exists());
    let list = json(&ok(sv(t.path()).args(["versions", "--json"])));
    assert_eq!(
        list.as_array().unwrap().len(),
        0,
        "a half-published version is visible"
    );
    // The rerun uploads only what is missing.
    let r = publish_json(t.path(), "v1");
    assert_eq!(
        r["skipped_blobs"].as_u64().unwrap() as usize,
        count_files(&blobs) - r["uploaded_blobs"].as_u64().unwrap() as usize
    );
    assert!(
        r["skipped_blobs"].as_u64().unwrap() as usize >= uploaded - 1,
        "{r}"
    );
    ok(sv(t.path()).args(["verify", "v1"]));
}

#[test]
fn publish_to_s3_sets_attributes_and_skips_present_blobs() {
    let Some(endpoint) = s3::endpoint() else {
        return;
    };
    let bucket = s3::bucket(&endpoint, "pub");
    let t = example_site();
    std::fs::write(
        t.path().join("store.toml"),
        s3::store_toml(&endpoint, &bucket, ""),
    )
    .unwrap();
    built(t.path());
    let r = publish_json(t.path(), "v1");
    assert_eq!(r["skipped_blobs"], 0);
    // One file changed: only its blob (and what references it) is uploaded.
    let p = t.path().join("site/robots.txt");
    std::fs::write(&p, "User-agent: *\nDisallow: /private\n").unwrap();
    built(t.path());
    let r2 = publish_json(t.path(), "v2");
    assert_eq!(r2["uploaded_blobs"], 2, "robots.txt and version.json: {r2}");
    // Content-Type and Cache-Control on the blob, as a CDN in front of S3 needs them.
    let pulled = json(&ok(
        sv(t.path()).args(["pull", "v2", "-o", "pulled", "--json"])
    ));
    assert_eq!(pulled["files"], r2["files"]);
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(t.path().join("dist/.sitevault/manifest.json")).unwrap(),
    )
    .unwrap();
    let (path, e) = m["files"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.ends_with(".css"))
        .unwrap();
    let hash = e["hash"].as_str().unwrap();
    let store = sitevault::store::Store::open(&sitevault::store::StoreSpec {
        url: format!("s3://{bucket}/site"),
        endpoint: Some(endpoint.clone()),
        region: Some("us-east-1".into()),
        allow_http: Some(true),
        concurrency: 4,
        ..Default::default()
    })
    .unwrap();
    // One stored attribute of a blob, as text ("" when absent).
    let attr = |hash: &str, a: object_store::Attribute| {
        let key = format!("blobs/{}/{hash}", &hash[..2]);
        let attrs = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(store.stored_attributes(&key))
            .unwrap()
            .unwrap();
        attrs
            .get(&a)
            .map(|v| v.as_ref().to_string())
            .unwrap_or_default()
    };
    let get = |a| attr(hash, a);
    assert!(
        get(object_store::Attribute::ContentType).starts_with("text/css"),
        "{path}"
    );
    assert_eq!(
        get(object_store::Attribute::CacheControl),
        "public, max-age=31536000, immutable"
    );
    // A precompressed variant says how it is encoded and keeps its file's type, so a
    // CDN serving the bucket directly sends it as it is.
    let br = m["files"]["/index.html"]["enc"]["br"]["hash"]
        .as_str()
        .unwrap();
    let get = |a| attr(br, a);
    assert_eq!(
        get(object_store::Attribute::ContentEncoding),
        "br",
        "variant of /index.html"
    );
    assert!(get(object_store::Attribute::ContentType).starts_with("text/html"));
}

#[cfg(unix)]
#[test]
fn s3_server_stopped_mid_publish_then_rerun_completes() {
    let Some(mut moto) = s3::Moto::start() else {
        return;
    };
    let bucket = s3::bucket(&moto.endpoint, "stop");
    let t = tempfile::tempdir().unwrap();
    big_site(t.path(), 1500);
    std::fs::write(
        t.path().join("store.toml"),
        s3::store_toml(&moto.endpoint, &bucket, "concurrency = 2\n"),
    )
    .unwrap();
    built(t.path());
    let child = sv(t.path())
        .args(["publish", "dist", "--version", "v1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    moto.stop();
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "publish succeeded with the server down: {err}"
    );
    assert!(err.contains("error:") && err.contains("store"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "took {:?} to give up",
        started.elapsed()
    );
    // The server is back (moto keeps nothing across restarts: recreate the bucket).
    moto.restart();
    let bucket2 = bucket.clone();
    let code = {
        use std::io::{Read, Write};
        let addr = moto.endpoint.trim_start_matches("http://").to_string();
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(s, "PUT /{bucket2} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
        let mut b = String::new();
        s.read_to_string(&mut b).unwrap();
        b
    };
    assert!(code.starts_with("HTTP/1.1 200"), "{code}");
    let r = publish_json(t.path(), "v1");
    assert_eq!(r["already_published"], false);
    ok(sv(t.path()).args(["verify", "v1"]));
}

/// Issue #10.10: a republish of the same content uploads whatever blobs of that
/// version went missing, and says so; the advice "republish it" then works.
#[test]
fn republish_of_the_same_content_repairs_missing_blobs() {
    let t = example_site();
    built(t.path());
    publish_json(t.path(), "v1");
    let blobs = t.path().join(".sitevault/store/blobs");
    let mut removed = 0;
    for d in std::fs::read_dir(&blobs).unwrap().flatten().take(3) {
        for f in std::fs::read_dir(d.path()).unwrap().flatten() {
            std::fs::remove_file(f.path()).unwrap();
            removed += 1;
        }
    }
    assert!(removed > 0);
    let (code, err) = fails(sv(t.path()).args(["verify", "v1"]));
    assert_eq!(code, 4, "{err}");
    let dry = json(&ok(sv(t.path()).args([
        "publish",
        "dist",
        "--version",
        "v1",
        "--dry-run",
        "--json",
    ])));
    assert_eq!(dry["uploaded_blobs"], removed, "{dry}");
    assert_eq!(dry["already_published"], true);
    let text = ok(sv(t.path()).args(["publish", "dist", "--version", "v1"]));
    assert!(text.contains(&format!("{removed} missing blobs")), "{text}");
    ok(sv(t.path()).args(["verify", "v1"]));
    let again = publish_json(t.path(), "v1");
    assert_eq!(again["repaired_blobs"], 0, "{again}");
    assert_eq!(again["uploaded_blobs"], 0, "{again}");
    // A missing variant that this dist (built without compression) cannot supply is
    // named, not reported as repaired.
    let idx: serde_json::Value = serde_json::from_slice(
        &std::fs::read(t.path().join(".sitevault/store/versions/v1/index.json")).unwrap(),
    )
    .unwrap();
    let br = idx["files"]["/index.html"]["enc"]["br"]["hash"]
        .as_str()
        .unwrap();
    std::fs::remove_file(blobs.join(&br[..2]).join(br)).unwrap();
    ok(sv(t.path()).args(["build", "site", "-o", "dist", "-q", "--no-compress"]));
    let (code, err) = fails(sv(t.path()).args(["publish", "dist", "--version", "v1"]));
    assert_eq!(code, 4, "{err}");
    assert!(err.contains(br) && err.contains("compression"), "{err}");
}

/// Issue #10.15: concurrent publishes of overlapping content never report more
/// uploaded blobs, in sum, than the store gained.
#[test]
fn concurrent_publishes_count_only_the_blobs_they_created() {
    let t = example_site();
    built(t.path());
    let children: Vec<_> = (0..3)
        .map(|i| {
            sv(t.path())
                .args(["publish", "dist", "--version", &format!("c{i}"), "--json"])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut total = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success());
        let r = json(&String::from_utf8_lossy(&out.stdout));
        total += r["uploaded_blobs"].as_u64().unwrap();
    }
    let stored = count_files(&t.path().join(".sitevault/store/blobs"));
    assert_eq!(
        total as usize, stored,
        "reported {total}, store holds {stored}"
    );
}

/// Issue #10.11: a version a channel serves whose index vanished is an integrity
/// failure (exit 4) for verify, not "not published".
#[test]
fn verify_of_a_served_version_without_its_index_is_an_integrity_error() {
    let t = example_site();
    build_and_publish(t.path(), "v1", Some("production"));
    std::fs::remove_file(t.path().join(".sitevault/store/versions/v1/index.json")).unwrap();
    let (code, err) = fails(sv(t.path()).args(["verify", "v1"]));
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("stable of channel production"), "{err}");
    let (code, err) = fails(sv(t.path()).args(["verify", "v9"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not published"), "{err}");
}

/// A store can hold anything: an index whose paths escape, whose hashes are not
/// digests, or whose digest does not match is an integrity error (exit 4) for every
/// reader, never a panic or a file written outside its folder.
#[test]
fn a_tampered_index_is_an_integrity_error() {
    let t = example_site();
    built(t.path());
    publish_json(t.path(), "v1");
    let key = t.path().join(".sitevault/store/versions/v1/index.json");
    let good: serde_json::Value = serde_json::from_slice(&std::fs::read(&key).unwrap()).unwrap();
    let first = good["files"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let entry = good["files"][&first].clone();
    // Each edit keeps the digest consistent (recomputed) except the digest case, so
    // each check is exercised on its own.
    let tampered = |edit: &dyn Fn(&mut serde_json::Value), fix_digest: bool| {
        let mut v = good.clone();
        edit(&mut v);
        if fix_digest {
            // `digest` covers the files without their variants, `enc_digest` with them.
            let mut plain = v["files"].clone();
            for e in plain.as_object_mut().unwrap().values_mut() {
                if let Some(o) = e.as_object_mut() {
                    o.remove("enc");
                }
            }
            let files = serde_json::to_vec(&plain).unwrap();
            v["digest"] = blake3::hash(&files).to_hex().to_string().into();
            let all = serde_json::to_vec(&v["files"]).unwrap();
            v["enc_digest"] = blake3::hash(&all).to_hex().to_string().into();
        }
        std::fs::remove_file(&key).unwrap();
        std::fs::write(&key, serde_json::to_vec(&v).unwrap()).unwrap();
    };
    type Edit<'a> = Box<dyn Fn(&mut serde_json::Value) + 'a>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "escaping path",
            Box::new(|v| {
                v["files"]["/../../evil.txt"] = entry.clone();
            }),
        ),
        (
            "hash that is no digest",
            Box::new(|v| {
                v["files"][&first]["hash"] = "aé".into();
            }),
        ),
        (
            "content type that is no header value",
            Box::new(|v| {
                v["files"][&first]["type"] = "text/html\r\nX: y".into();
            }),
        ),
        (
            "digest mismatch",
            Box::new(|v| {
                v["files"][&first]["size"] = 1.into();
            }),
        ),
        (
            "variant the digests do not cover",
            Box::new(|v| {
                v["files"]["/index.html"]["enc"]["br"]["hash"] = "0".repeat(64).into();
            }),
        ),
    ];
    // The recomputed digest is the real one: an unedited index still verifies.
    tampered(&|_| {}, true);
    ok(sv(t.path()).args(["verify", "v1"]));
    for (what, edit) in cases {
        tampered(
            &*edit,
            what != "digest mismatch" && what != "variant the digests do not cover",
        );
        for args in [vec!["verify", "v1"], vec!["pull", "v1", "-o", "out"]] {
            let (code, err) = fails(sv(t.path()).args(&args));
            assert_eq!(code, 4, "{what}: {args:?}: {err}");
            assert!(!err.contains("panicked"), "{what}: {err}");
        }
        assert!(!t.path().join("evil.txt").exists());
        assert!(!t.path().parent().unwrap().join("evil.txt").exists());
    }
}

/// A mistyped absolute store path is an error, not a new empty store that reports
/// "no versions yet" (and read commands create nothing there).
#[test]
fn a_store_path_whose_parent_is_missing_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("no/such/store");
    let (code, err) = fails(
        sv(t.path())
            .args(["--store", &format!("file://{}", missing.display())])
            .arg("versions"),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert!(!t.path().join("no").exists());
}

/// A pull that fails on a corrupt blob leaves neither OUT nor its temporary folder
/// (writes still in flight when the error was found are waited for, then removed).
#[test]
fn a_failed_pull_leaves_no_temporary_folder() {
    let t = example_site();
    built(t.path());
    publish_json(t.path(), "v1");
    let blobs = t.path().join(".sitevault/store/blobs");
    let first = std::fs::read_dir(&blobs)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let blob = std::fs::read_dir(first)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    std::fs::remove_file(&blob).unwrap();
    std::fs::write(&blob, "tampered").unwrap();
    for _ in 0..5 {
        let (code, err) = fails(sv(t.path()).args(["pull", "v1", "-o", "out"]));
        assert_eq!(code, 4, "{err}");
    }
    let left: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("sitevault-tmp") || n == "out")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_one_file_change_is_diffed_against_the_newest_version() {
    let t = example_site();
    let dir = t.path();
    built(dir);
    let first = publish_json(dir, "v1");
    assert!(first.get("base").is_none(), "{first}");
    let idx = dir.join("site/index.html");
    let s = std::fs::read_to_string(&idx)
        .unwrap()
        .replace("Fresh beans", "Fresher beans");
    std::fs::write(&idx, s).unwrap();
    built(dir);
    // The plan, against the store, before anything is written.
    let plan = json(&ok(sv(dir).args([
        "publish",
        "dist",
        "--version",
        "v2",
        "--dry-run",
        "--json",
    ])));
    assert_eq!(plan["base"], "v1", "{plan}");
    // index.html, and version.json (its build time).
    let changed: Vec<&str> = plan["plan"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["/index.html", "/version.json"], "{plan}");
    // index.html with its two precompressed variants, and version.json.
    assert_eq!(plan["uploaded_blobs"], 4, "{plan}");
    assert_eq!(plan["plan"]["new_blobs"], 4, "{plan}");
    let r = publish_json(dir, "v2");
    assert_eq!(r["uploaded_blobs"], 4, "{r}");
    // Four blobs and a listing of versions/ (which confirms the base), then the
    // index: the base and what it names come from the record the first publish kept.
    assert_eq!(r["requests"], 6, "{r}");
    // Without that record, the listing comes first, then a GET of the base's index,
    // the blobs, a HEAD of the base, the index; a record that does not check out is
    // not used.
    let cache = dir.join(".sitevault/cache/indexes");
    for f in walkdir::WalkDir::new(&cache)
        .into_iter()
        .filter_map(|e| e.ok())
    {
        if f.file_type().is_file() {
            std::fs::write(f.path(), b"{}").unwrap();
        }
    }
    let s = std::fs::read_to_string(&idx)
        .unwrap()
        .replace("Fresher beans", "Freshest beans");
    std::fs::write(&idx, s).unwrap();
    built(dir);
    let r = publish_json(dir, "v3");
    assert_eq!(
        (r["requests"].as_u64(), r["base"].as_str()),
        (Some(8), Some("v2")),
        "{r}"
    );
    ok(sv(dir).args(["verify", "v3"]));
    ok(sv(dir).args(["verify", "v2"]));
}

#[test]
fn a_blob_gc_removed_is_uploaded_again_by_a_later_publish() {
    let t = example_site();
    let dir = t.path();
    std::fs::write(dir.join("store.toml"), "[retention]\ngrace = \"0s\"\n").unwrap();
    let only = dir.join("site/only-v1.txt");
    std::fs::write(&only, "only in v1\n").unwrap();
    built(dir);
    publish_json(dir, "v1");
    let v1_dist = dir.join("dist-v1");
    copy_dir(&dir.join("dist"), &v1_dist);
    std::fs::remove_file(&only).unwrap();
    built(dir);
    publish_json(dir, "v2");
    // v1 goes away (as archive would take it) and gc removes the blob only it named.
    std::fs::remove_file(dir.join(".sitevault/store/versions/v1/index.json")).unwrap();
    ok(sv(dir).args(["gc", "-q"]));
    let hash = blake3::hash(b"only in v1\n").to_hex().to_string();
    let blob = dir.join(format!(".sitevault/store/blobs/{}/{hash}", &hash[..2]));
    assert!(!blob.exists(), "gc left {hash}");
    // Publishing v1's content again (diffed against v2) uploads it.
    let r = json(&ok(sv(dir).args([
        "publish",
        "dist-v1",
        "--version",
        "v3",
        "--json",
    ])));
    assert_eq!(r["base"], "v2", "{r}");
    assert!(blob.exists(), "{r}");
    ok(sv(dir).args(["verify", "v3"]));
}

#[test]
fn a_recorded_base_that_left_the_hot_store_is_not_trusted() {
    // This machine's record says v1 names a blob; v1 is then archived (its index
    // goes) and gc removes that blob. The next publish, taking v1 as its base from
    // the record, must find out from the listing and upload the blob again.
    let t = example_site();
    let dir = t.path();
    std::fs::write(dir.join("store.toml"), "[retention]\ngrace = \"0s\"\n").unwrap();
    std::fs::write(dir.join("site/kept.txt"), "kept across versions\n").unwrap();
    built(dir);
    publish_json(dir, "v1");
    std::fs::remove_file(dir.join(".sitevault/store/versions/v1/index.json")).unwrap();
    ok(sv(dir).args(["gc", "-q"]));
    let hash = blake3::hash(b"kept across versions\n").to_hex().to_string();
    let blob = dir.join(format!(".sitevault/store/blobs/{}/{hash}", &hash[..2]));
    assert!(!blob.exists(), "gc left {hash}");
    let r = publish_json(dir, "v2");
    // Listed, v1 is not hot: the publish goes on as one without a record would
    // (no hot version left to diff against).
    assert!(r["base"].is_null(), "{r}");
    assert!(blob.exists(), "{r}");
    ok(sv(dir).args(["verify", "v2"]));
}

#[test]
fn diff_shows_what_a_release_changes_and_what_it_would_upload() {
    let t = example_site();
    let dir = t.path();
    built(dir);
    publish_json(dir, "v1");
    let idx = dir.join("site/index.html");
    let s = std::fs::read_to_string(&idx)
        .unwrap()
        .replace("Fresh beans", "Fresher beans");
    std::fs::write(&idx, s).unwrap();
    std::fs::write(
        dir.join("site/new.html"),
        "<!doctype html><title>new</title><p>new</p>\n",
    )
    .unwrap();
    built(dir);
    let d = json(&ok(sv(dir).args(["diff", "v1", "dist", "--json"])));
    let paths = |k: &str| -> Vec<String> {
        d[k].as_array()
            .unwrap()
            .iter()
            .map(|c| c["path"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(paths("added"), ["/new.html"], "{d}");
    assert_eq!(paths("changed"), ["/index.html", "/version.json"], "{d}");
    assert!(paths("removed").is_empty());
    // new.html (too small for variants), index.html and its two, version.json.
    assert_eq!(d["upload_blobs"], 5, "{d}");
    let human = ok(sv(dir).args(["diff", "v1", "dist"]));
    assert!(human.contains("+ /new.html"), "{human}");
    assert!(human.contains("~ /index.html"), "{human}");
    assert!(human.contains("would upload 5 blobs"), "{human}");
    // Once published, nothing is left to upload; versions compare the same way.
    publish_json(dir, "v2");
    let d = json(&ok(sv(dir).args(["diff", "v1", "dist", "--json"])));
    assert_eq!(d["upload_blobs"], 0, "{d}");
    let d = json(&ok(sv(dir).args(["diff", "v2", "v1", "--json"])));
    assert_eq!(d["removed"][0]["path"], "/new.html", "{d}");
    assert_eq!(d["upload_blobs"], 0, "{d}");
    let (code, err) = fails(sv(dir).args(["diff", "v1", "../nope"]));
    assert_eq!(code, 2, "{err}");
    let (code, err) = fails(sv(dir).args(["diff", "v1", "v9"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not published"), "{err}");
}
