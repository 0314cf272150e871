//! Retention as ops run it: archive, restore, gc, rollback to an archived version —
//! and the crash safety of archive and restore under SIGKILL.

use crate::common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use common::*;

fn at(days_from_now: i64) -> String {
    (Utc::now() + chrono::Duration::days(days_from_now)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

/// Builds and publishes v1..v6 of a generated site (each version changes its own
/// files), created 100..95 days ago; production: stable v5, canary v6.
fn project(store_toml: &str, files: usize) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("store.toml"), store_toml).unwrap();
    let site = t.path().join("site");
    std::fs::create_dir_all(site.join("pages")).unwrap();
    for i in 0..files {
        std::fs::write(
            site.join(format!("pages/p{i:04}.txt")),
            format!("shared page {i}\n"),
        )
        .unwrap();
    }
    for v in 1..=6 {
        std::fs::write(
            site.join("index.html"),
            format!("<!doctype html><title>v{v}</title><p>release {v}</p>"),
        )
        .unwrap();
        std::fs::write(
            site.join(format!("only-v{v}.txt")),
            format!("only in v{v}\n"),
        )
        .unwrap();
        if v > 1 {
            std::fs::remove_file(site.join(format!("only-v{}.txt", v - 1))).unwrap();
        }
        ok(sv(t.path()).args(["build", "site", "-o", "dist", "-q"]));
        let when = at(-100 + v as i64);
        ok(sv(t.path()).env("SITEVAULT_NOW", &when).args([
            "publish",
            "dist",
            "--version",
            &format!("v{v}"),
            "-q",
        ]));
    }
    ok(sv(t.path()).args(["rollout", "production", "v5", "-q"]));
    ok(sv(t.path()).args(["rollout", "production", "v6", "--percent", "10", "-q"]));
    t
}

const CONFIG: &str =
    "[retention]\nhot_days = 30\nkeep_latest = 1\ngrace = \"24h\"\npinned = [\"v2\"]\n";

fn versions(dir: &Path) -> Vec<(String, String)> {
    json(&ok(sv(dir).args(["versions", "--json"])))
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_str().unwrap().to_string(),
                v["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn only_blob(v: u32) -> String {
    // The blob of only-v{v}.txt: "only in v{v}\n".
    blake3::hash(format!("only in v{v}\n").as_bytes())
        .to_hex()
        .to_string()
}

fn archive_and_check(t: &Path, hot_blobs: &dyn Fn(&str) -> bool) {
    let later = at(2);
    let plan = json(&ok(sv(t).env("SITEVAULT_NOW", &later).args([
        "archive",
        "--dry-run",
        "--json",
    ])));
    let planned: Vec<&str> = plan["archived"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(planned, ["v1", "v3", "v4"], "{plan}");
    let kept = plan["kept"].to_string();
    assert!(
        kept.contains("pinned")
            && kept.contains("stable of channel production")
            && kept.contains("canary of channel production"),
        "{kept}"
    );
    assert!(plan["blobs_deleted"].as_u64().unwrap() >= 3);
    assert_eq!(
        versions(t).iter().filter(|v| v.1 == "hot").count(),
        6,
        "dry run changed something"
    );

    let r = json(&ok(sv(t)
        .env("SITEVAULT_NOW", &later)
        .args(["archive", "--json"])));
    assert_eq!(r["archived"].as_array().unwrap().len(), 3);
    let states = versions(t);
    for (v, s) in &states {
        let want = if ["v1", "v3", "v4"].contains(&v.as_str()) {
            "archived"
        } else {
            "hot"
        };
        assert_eq!(s, want, "{v}");
    }
    for v in ["v2", "v5", "v6"] {
        ok(sv(t).args(["verify", v]));
    }
    // Blobs only archived versions used are gone from the hot store; shared ones stay.
    assert!(!hot_blobs(&only_blob(1)));
    assert!(!hot_blobs(&only_blob(4)));
    assert!(hot_blobs(&only_blob(5)));
    let listed = ok(sv(t).args(["versions"]));
    assert!(
        listed.contains("archived (") && listed.contains("packs/v1.svpack"),
        "{listed}"
    );

    // Restore one; roll back to another archived one (restored first, and said so).
    let r = json(&ok(sv(t).args(["restore", "v3", "--json"])));
    assert!(r["blobs"].as_u64().unwrap() > 10);
    ok(sv(t).args(["verify", "v3"]));
    let (code, err) = fails(sv(t).args(["rollback", "production", "--to", "v4", "--no-restore"]));
    assert_eq!(code, 1);
    assert!(err.contains("archived"), "{err}");
    let out = ok(sv(t).args(["rollback", "production", "--to", "v1", "--dry-run"]));
    assert!(out.contains("would restore"), "{out}");
    assert!(versions(t).contains(&("v1".into(), "archived".into())));
    let out = ok(sv(t).args(["rollback", "production", "--to", "v1", "--reason", "drill"]));
    assert!(
        out.contains("restored it from cold storage first") && out.contains("stable v1"),
        "{out}"
    );
    ok(sv(t).args(["verify", "v1"]));
    // A version a channel references is never archived, even when old.
    let r = json(&ok(sv(t)
        .env("SITEVAULT_NOW", at(3))
        .args(["archive", "--json"])));
    let archived: Vec<&str> = r["archived"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert!(
        !archived.contains(&"v1") && !archived.contains(&"v5") && !archived.contains(&"v6"),
        "{archived:?}"
    );
}

#[test]
fn archive_restore_rollback_on_file_store() {
    let t = project(CONFIG, 20);
    let dir = t.path().to_path_buf();
    archive_and_check(t.path(), &|h: &str| {
        dir.join(format!(".sitevault/store/blobs/{}/{h}", &h[..2]))
            .exists()
    });
    // A corrupt pack is detected and nothing half-restored becomes visible.
    let pack = t.path().join(".sitevault/cold/packs/v4.svpack");
    let mut b = std::fs::read(&pack).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0x01;
    std::fs::write(&pack, b).unwrap();
    let (code, err) = fails(sv(t.path()).args(["restore", "v4"]));
    assert_eq!(code, 4);
    assert!(err.contains("corrupt pack"), "{err}");
    assert!(versions(t.path()).contains(&("v4".into(), "archived".into())));
    assert!(!t
        .path()
        .join(".sitevault/store/versions/v4/index.json")
        .exists());
    let lc = json(&ok(sv(t.path()).args(["lifecycle"])));
    assert!(lc["Rules"].as_array().unwrap().len() >= 2);
}

#[test]
fn a_restore_mends_a_blob_planted_with_the_right_size() {
    let t = project(CONFIG, 5);
    ok(sv(t.path())
        .env("SITEVAULT_NOW", at(2))
        .args(["archive", "-q"]));
    // v3's own blob left with the archive; something puts back bytes of its size.
    let h = only_blob(3);
    let path = t
        .path()
        .join(format!(".sitevault/store/blobs/{}/{h}", &h[..2]));
    assert!(!path.exists());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, vec![0u8; "only in v3\n".len()]).unwrap();
    // The rollback restores v3 from its verified pack, replacing that blob, and
    // only then moves traffic.
    let out = ok(sv(t.path()).args(["rollback", "production", "--to", "v3"]));
    assert!(
        out.contains("1 blob already in the hot store did not hold its bytes and was replaced")
            && out.contains("stable v3"),
        "{out}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"only in v3\n");
    ok(sv(t.path()).args(["verify", "v3"]));
}

#[test]
fn gc_keeps_young_blobs_and_referenced_ones() {
    let t = project(CONFIG, 5);
    // A killed publish left orphan blobs: young ones stay, old ones go.
    let site = t.path().join("site");
    std::fs::write(site.join("orphan.txt"), "orphan blob\n").unwrap();
    ok(sv(t.path()).args(["build", "site", "-o", "dist", "-q"]));
    let orphan = blake3::hash(b"orphan blob\n").to_hex().to_string();
    let orphan_path = t
        .path()
        .join(format!(".sitevault/store/blobs/{}/{orphan}", &orphan[..2]));
    std::fs::create_dir_all(orphan_path.parent().unwrap()).unwrap();
    std::fs::write(&orphan_path, "orphan blob\n").unwrap();
    let r = json(&ok(sv(t.path()).args(["gc", "--json"])));
    assert_eq!(
        r["blobs_deleted"], 0,
        "young blobs are protected by the grace period"
    );
    assert!(orphan_path.exists());
    let r = json(&ok(sv(t.path()).env("SITEVAULT_NOW", at(2)).args([
        "gc",
        "--dry-run",
        "--json",
    ])));
    assert_eq!(r["blobs_deleted"], 1);
    assert!(orphan_path.exists());
    // A publish running concurrently with gc never loses a blob: its blobs are young.
    let mut publish = sv(t.path())
        .args(["publish", "dist", "--version", "v7", "-q"])
        .spawn()
        .unwrap();
    for _ in 0..5 {
        ok(sv(t.path()).args(["gc", "-q"]));
    }
    assert!(publish.wait().unwrap().success());
    ok(sv(t.path()).args(["verify", "v7"]));
    let r = json(&ok(sv(t.path())
        .env("SITEVAULT_NOW", at(2))
        .args(["gc", "--json"])));
    assert_eq!(r["blobs_deleted"], 0, "orphan.txt is now part of v7: {r}");
    for v in 1..=7 {
        ok(sv(t.path()).args(["verify", &format!("v{v}")]));
    }
}

/// Every version is hot and complete, or archived with a pack that verifies.
fn check_invariant(dir: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let spec = |url: String| sitevault::store::StoreSpec {
            url,
            concurrency: 8,
            ..Default::default()
        };
        let hot = sitevault::store::Store::open(&spec(format!(
            "file://{}",
            dir.join(".sitevault/store").display()
        )))
        .unwrap();
        let cold = sitevault::store::Store::open(&spec(format!(
            "file://{}",
            dir.join(".sitevault/cold").display()
        )))
        .unwrap();
        for v in hot.list_dirs("versions").await.unwrap() {
            match sitevault::publish::index::load(&hot, &v).await.unwrap() {
                Some(idx) => {
                    let r = sitevault::publish::inspect::verify_index(&hot, &idx)
                        .await
                        .unwrap();
                    assert!(r.ok(), "{v} is hot but incomplete: {r:?}");
                }
                None => {
                    let stub = sitevault::publish::index::load_stub(&hot, &v)
                        .await
                        .unwrap()
                        .unwrap_or_else(|| panic!("{v} is neither hot nor archived"));
                    let data = cold
                        .get(&stub.pack)
                        .await
                        .unwrap()
                        .unwrap_or_else(|| panic!("{v}: pack missing"));
                    sitevault::retention::pack::read(data, &v).unwrap();
                }
            }
        }
    });
}

fn copy_store(from: &Path, to: &Path) {
    copy_dir(&from.join(".sitevault"), &to.join(".sitevault"));
    std::fs::copy(from.join("store.toml"), to.join("store.toml")).unwrap();
}

fn kill_after(dir: &Path, args: &[&str], env_now: &str, delay: Duration) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sitevault"))
        .current_dir(dir)
        .env("SITEVAULT_NOW", env_now)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let _ = c.kill(); // SIGKILL
    let _ = c.wait();
}

#[cfg(unix)]
#[test]
fn sigkill_during_archive_and_restore_leaves_a_consistent_store() {
    let base = project(CONFIG, 300);
    let later = at(2);
    // How long does a full archive take here?
    let probe = tempfile::tempdir().unwrap();
    copy_store(base.path(), probe.path());
    let started = Instant::now();
    ok(sv(probe.path())
        .env("SITEVAULT_NOW", &later)
        .args(["archive", "-q"]));
    let archive_time = started.elapsed();
    let started = Instant::now();
    ok(sv(probe.path()).args(["restore", "v3", "-q"]));
    let restore_time = started.elapsed();
    // 20 archives killed at spread-out points, then finished by a rerun.
    for i in 0..20u32 {
        let t = tempfile::tempdir().unwrap();
        copy_store(base.path(), t.path());
        let delay = archive_time.mul_f64((i as f64 + 0.5) / 20.0);
        kill_after(t.path(), &["archive"], &later, delay);
        check_invariant(t.path());
        ok(sv(t.path())
            .env("SITEVAULT_NOW", &later)
            .args(["archive", "-q"]));
        check_invariant(t.path());
        let states = versions(t.path());
        assert_eq!(
            states.iter().filter(|s| s.1 == "archived").count(),
            3,
            "run {i}: {states:?}"
        );
    }
    // 20 restores killed at spread-out points, then finished by a rerun.
    let archived = tempfile::tempdir().unwrap();
    copy_store(base.path(), archived.path());
    ok(sv(archived.path())
        .env("SITEVAULT_NOW", &later)
        .args(["archive", "-q"]));
    for i in 0..20u32 {
        let t = tempfile::tempdir().unwrap();
        copy_store(archived.path(), t.path());
        let delay = restore_time.mul_f64((i as f64 + 0.5) / 20.0);
        kill_after(t.path(), &["restore", "v3"], &later, delay);
        check_invariant(t.path());
        ok(sv(t.path()).args(["restore", "v3", "-q"]));
        check_invariant(t.path());
        ok(sv(t.path()).args(["verify", "v3"]));
    }
}

/// Whether the hot store in `bucket` (prefix `site`) holds a blob.
fn s3_blob_exists(endpoint: &str, bucket: &str) -> impl Fn(&str) -> bool {
    let store = sitevault::store::Store::open(&sitevault::store::StoreSpec {
        url: format!("s3://{bucket}/site"),
        endpoint: Some(endpoint.to_string()),
        region: Some("us-east-1".into()),
        allow_http: Some(true),
        concurrency: 4,
        ..Default::default()
    })
    .unwrap();
    move |h: &str| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(store.head(&sitevault::store::keys::blob(h)))
            .unwrap()
            .is_some()
    }
}

#[test]
fn archive_restore_on_s3_with_a_second_bucket() {
    let Some(endpoint) = s3::endpoint() else {
        return;
    };
    let hot = s3::bucket(&endpoint, "hot");
    let cold = s3::bucket(&endpoint, "cold");
    let cfg = s3::store_toml(
        &endpoint,
        &hot,
        &format!(
            "{CONFIG}[cold]\nurl = \"s3://{cold}/packs-root\"\nstorage_class = \"STANDARD_IA\"\n"
        ),
    );
    let t = project(&cfg, 10);
    archive_and_check(t.path(), &s3_blob_exists(&endpoint, &hot));
}

#[test]
fn archive_restore_on_s3_same_bucket_with_a_storage_class() {
    let Some(endpoint) = s3::endpoint() else {
        return;
    };
    let bucket = s3::bucket(&endpoint, "same");
    let cfg = s3::store_toml(
        &endpoint,
        &bucket,
        &format!("{CONFIG}[cold]\nurl = \"s3://{bucket}/cold\"\nstorage_class = \"STANDARD_IA\"\n"),
    );
    let t = project(&cfg, 10);
    archive_and_check(t.path(), &s3_blob_exists(&endpoint, &bucket));
}

#[test]
fn glacier_packs_need_a_thaw_and_say_how() {
    let Some(endpoint) = s3::endpoint() else {
        return;
    };
    let bucket = s3::bucket(&endpoint, "glacier");
    let cfg = s3::store_toml(
        &endpoint,
        &bucket,
        &format!("{CONFIG}[cold]\nurl = \"s3://{bucket}/cold\"\nstorage_class = \"GLACIER\"\n"),
    );
    let t = project(&cfg, 5);
    ok(sv(t.path())
        .env("SITEVAULT_NOW", at(2))
        .args(["archive", "-q"]));
    assert!(versions(t.path()).contains(&("v3".into(), "archived".into())));
    let (code, err) = fails(sv(t.path()).args(["restore", "v3"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("thawed") && err.contains("restore-object"),
        "{err}"
    );
    assert!(versions(t.path()).contains(&("v3".into(), "archived".into())));
}

/// Precompressed variants are blobs like any other: gc keeps them while their
/// version is hot, a pack carries them, restore brings them back, verify checks them.
#[test]
fn variants_survive_gc_archive_and_restore() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::write(
        dir.join("store.toml"),
        "[retention]\nhot_days = 30\nkeep_latest = 1\ngrace = \"0s\"\n",
    )
    .unwrap();
    let site = dir.join("site");
    std::fs::create_dir_all(&site).unwrap();
    for v in 1..=2 {
        let body = "<p>release notes with enough words to be worth compressing</p>".repeat(40 + v);
        std::fs::write(
            site.join("index.html"),
            format!("<!doctype html><title>v{v}</title>{body}"),
        )
        .unwrap();
        ok(sv(dir).args(["build", "site", "-o", "dist", "-q"]));
        ok(sv(dir).env("SITEVAULT_NOW", at(-100 + v as i64)).args([
            "publish",
            "dist",
            "--version",
            &format!("v{v}"),
            "-q",
        ]));
    }
    ok(sv(dir).args(["rollout", "production", "v2", "-q"]));
    let idx = json(
        &std::fs::read_to_string(dir.join(".sitevault/store/versions/v1/index.json")).unwrap(),
    );
    let br = idx["files"]["/index.html"]["enc"]["br"]["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let blob = dir.join(format!(".sitevault/store/blobs/{}/{br}", &br[..2]));
    assert!(blob.exists());
    ok(sv(dir).args(["gc", "-q"]));
    assert!(blob.exists(), "gc deleted a hot version's variant");
    ok(sv(dir).args(["verify", "v1"]));

    // Archived, v1's variant leaves the hot store with it; restored, it comes back.
    ok(sv(dir).env("SITEVAULT_NOW", at(2)).args(["archive", "-q"]));
    assert!(versions(dir).contains(&("v1".into(), "archived".into())));
    assert!(!blob.exists());
    ok(sv(dir).args(["restore", "v1", "-q"]));
    assert!(blob.exists());
    ok(sv(dir).args(["verify", "v1"]));

    // A corrupt variant is found, and named by its sidecar.
    std::fs::write(&blob, b"garbage").unwrap();
    let o = sv(dir).args(["verify", "v1"]).output().unwrap();
    assert_eq!(o.status.code(), Some(4));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(all.contains("/index.html.br"), "{all}");
}
