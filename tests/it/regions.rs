//! Regions: one release across several stores. File-store tests for the rules, and
//! two real S3 servers (moto) for a region that is down during a rollback and back.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{example_dist, example_dist_v2, fails, ok, s3, sv};
use serde_json::Value;

const TWO_FILE_REGIONS: &str =
    "[regions.eu]\nurl = \"file://stores/eu\"\n[regions.us]\nurl = \"file://stores/us\"\n";

fn project(store_toml: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("store.toml"), store_toml).unwrap();
    t
}

/// Two file:// regions with v1 published in both and stable on `production`.
fn v1_stable_in_two_file_regions() -> tempfile::TempDir {
    let t = project(TWO_FILE_REGIONS);
    let o = publish(t.path(), example_dist(), "v1", &["--channel", "production"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    t
}

/// `production` in `region` has no canary and is pinned, as a rollback leaves it.
fn assert_rolled_back(dir: &Path, region: &str) {
    let s = json(&ok(sv(dir).args([
        "status",
        "production",
        "--json",
        "--region",
        region,
    ])));
    assert!(
        s["state"]["canary"].is_null() && s["state"]["pinned"].is_object(),
        "{s}"
    );
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

fn publish(dir: &Path, dist: &Path, version: &str, extra: &[&str]) -> std::process::Output {
    sv(dir)
        .args(["publish", dist.to_str().unwrap(), "--version", version])
        .args(extra)
        .output()
        .unwrap()
}

fn code(o: &std::process::Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn store_url_and_regions_together_are_a_config_error() {
    let t = project(&format!("[store]\nurl = \"file://x\"\n{TWO_FILE_REGIONS}"));
    let (c, err) = fails(sv(t.path()).arg("versions"));
    assert_eq!(c, 1, "{err}");
    assert!(
        err.contains("[store] url is set, and so are [regions.*]"),
        "{err}"
    );
    // A [store] key that names one store would be ignored: refused too.
    let t = project(&format!(
        "[store]\nendpoint = \"http://127.0.0.1:9\"\n{TWO_FILE_REGIONS}"
    ));
    let (c, err) = fails(sv(t.path()).arg("versions"));
    assert_eq!(c, 1, "{err}");
    assert!(err.contains("[store] endpoint is set"), "{err}");
    // Two regions on the same store would write each other's logs.
    let t = project(
        "[regions.eu]\nurl = \"file://.sitevault/one\"\n[regions.us]\nurl = \"file://.sitevault/one/\"\n",
    );
    let (c, err) = fails(sv(t.path()).arg("versions"));
    assert_eq!(c, 1, "{err}");
    assert!(err.contains("name the same store"), "{err}");
    // [store]'s other keys apply to every region.
    let t = project(&format!(
        "[store]\ntimeout = \"3s\"\nconcurrency = 4\n{TWO_FILE_REGIONS}"
    ));
    ok(sv(t.path()).arg("versions"));
}

#[test]
fn region_flag_names_a_configured_region() {
    let t = project(TWO_FILE_REGIONS);
    let (c, err) = fails(sv(t.path()).args(["versions", "--region", "asia"]));
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("regions: eu, us"), "{err}");
    let plain = project("");
    let (c, err) = fails(sv(plain.path()).args(["versions", "--region", "eu"]));
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("no [regions.*]"), "{err}");
    // A command that works on one store asks for a region.
    let (c, err) = fails(sv(t.path()).args(["pull", "v1", "-o", "out"]));
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("--region NAME (eu, us)"), "{err}");
}

#[test]
fn publish_and_rollout_reach_every_region_and_status_says_they_agree() {
    let t = project(TWO_FILE_REGIONS);
    let o = publish(t.path(), example_dist(), "v1", &["--channel", "production"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("[eu] published v1") && out.contains("[us] published v1"),
        "{out}"
    );
    let s = json(&ok(sv(t.path()).args(["status", "production", "--json"])));
    for r in ["eu", "us"] {
        assert_eq!(s["regions"][r]["state"]["stable"], "v1", "{s}");
    }
    assert_eq!(s["drift"][0]["agree"], true, "{s}");
    assert_eq!(s["failed"].as_array().unwrap().len(), 0);
    // Each region keeps its own log and hash chain.
    for r in ["eu", "us"] {
        assert!(t
            .path()
            .join(format!("stores/{r}/channels/production/log"))
            .is_dir());
    }
}

/// `rollout --auto` runs one driver per region; here both hold at the first stage's
/// bake time (exit 5 from each, so 5).
#[test]
fn auto_rollout_drives_every_region() {
    let t = v1_stable_in_two_file_regions();
    std::fs::write(
        t.path().join("store.toml"),
        format!(
            "{TWO_FILE_REGIONS}[health]\nmetrics = [\"http://127.0.0.1:9/metrics\"]\ntimeout = \"1s\"\n"
        ),
    )
    .unwrap();
    let o = publish(t.path(), example_dist_v2(), "v2", &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = sv(t.path())
        .args(["rollout", "production", "v2", "--auto", "--once"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 5, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("[eu]") && out.contains("[us]"), "{out}");
    let s = json(&ok(sv(t.path()).args(["status", "production", "--json"])));
    for r in ["eu", "us"] {
        assert_eq!(s["regions"][r]["state"]["canary"]["version"], "v2", "{s}");
    }
}

#[test]
fn sync_copies_the_missing_version_and_sets_the_newest_state() {
    let t = v1_stable_in_two_file_regions();
    // v2 goes out in eu only.
    let o = publish(t.path(), example_dist_v2(), "v2", &["--region", "eu"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    ok(sv(t.path()).args([
        "rollout",
        "production",
        "v2",
        "--percent",
        "10",
        "--region",
        "eu",
    ]));
    // status: exit 7, naming what differs.
    let o = sv(t.path())
        .args(["status", "production"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 7);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("DRIFT") && out.contains("eu: stable v1, canary v2 at 10%"),
        "{out}"
    );
    // A dry run writes nothing; --region limits what is changed, every region is read.
    let plan = json(&ok(sv(t.path()).args([
        "sync",
        "production",
        "--dry-run",
        "--json",
        "--region",
        "us",
    ])));
    assert_eq!(plan["leader"], "eu");
    assert_eq!(plan["regions"][1]["outcome"], "would-sync", "{plan}");
    assert!(!t.path().join("stores/us/versions/v2").exists());
    let r = json(&ok(sv(t.path()).args(["sync", "production", "--json"])));
    assert_eq!(r["regions"][1]["region"], "us");
    assert_eq!(r["regions"][1]["outcome"], "synced", "{r}");
    assert_eq!(r["regions"][1]["copied_versions"][0], "v2", "{r}");
    assert!(r["regions"][1]["copied_blobs"].as_u64().unwrap() >= 1);
    ok(sv(t.path()).args(["verify", "v2", "--region", "us"]));
    ok(sv(t.path()).args(["status", "production"]));
    let h = ok(sv(t.path()).args(["history", "production", "--region", "us"]));
    assert!(
        h.contains("sync") && h.contains("sync from region eu"),
        "{h}"
    );
    // Nothing left to do.
    let again = json(&ok(sv(t.path()).args(["sync", "production", "--json"])));
    for r in again["regions"].as_array().unwrap() {
        assert!(
            r["outcome"] == "in-sync" || r["outcome"] == "leader",
            "{again}"
        );
    }
}

/// An automatic sync never lifts a rollback's pin or brings back a version rolled back
/// in that region; `--from` says which state wins. Syncing from an empty region is
/// refused, and a publish with --channel can be run again.
#[test]
fn sync_never_undoes_a_rollback_by_itself() {
    let t = v1_stable_in_two_file_regions();
    let again = publish(t.path(), example_dist(), "v1", &["--channel", "production"]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    ok(sv(t.path()).args([
        "publish",
        example_dist_v2().to_str().unwrap(),
        "--version",
        "v2",
    ]));
    ok(sv(t.path()).args(["rollout", "production", "v2", "--percent", "10"]));
    ok(sv(t.path()).args(["rollback", "production", "--region", "eu"]));
    // A later change in us makes it the newest region.
    std::thread::sleep(Duration::from_millis(1100));
    ok(sv(t.path()).args(["rollout", "production", "--percent", "25", "--region", "us"]));
    let o = sv(t.path()).args(["sync", "production"]).output().unwrap();
    assert_eq!(code(&o), 7, "{}", stderr(&o));
    assert!(stderr(&o).contains("--from"), "{}", stderr(&o));
    assert_rolled_back(t.path(), "eu");
    ok(sv(t.path()).args(["sync", "production", "--from", "eu"]));
    ok(sv(t.path()).args(["status", "production"]));
    // An empty region is no source.
    let three = format!("{TWO_FILE_REGIONS}[regions.ap]\nurl = \"file://stores/ap\"\n");
    std::fs::write(t.path().join("store.toml"), three).unwrap();
    let (c, err) = fails(sv(t.path()).args(["sync", "production", "--from", "ap"]));
    assert_eq!(c, 1, "{err}");
    assert!(err.contains("no releases in region ap"), "{err}");
}

#[test]
fn sync_never_copies_a_corrupt_blob() {
    let t = v1_stable_in_two_file_regions();
    ok(sv(t.path())
        .args([
            "publish",
            example_dist_v2().to_str().unwrap(),
            "--version",
            "v2",
        ])
        .args(["--region", "eu", "--channel", "production"]));
    // Corrupt every blob only v2 has in eu.
    let blobs = |r: &str| -> Vec<String> {
        let mut v: Vec<String> = walk(&t.path().join(format!("stores/{r}/blobs")));
        v.sort();
        v
    };
    let us = blobs("us");
    for b in blobs("eu") {
        let name = Path::new(&b)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        if !us.iter().any(|u| u.ends_with(&name)) {
            std::fs::write(&b, b"tampered").unwrap();
        }
    }
    let o = sv(t.path()).args(["sync", "production"]).output().unwrap();
    assert_eq!(code(&o), 7, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("does not hash to its name"),
        "{}",
        stderr(&o)
    );
    assert!(!t.path().join("stores/us/versions/v2").exists());
    let s = json(&ok(sv(t.path()).args([
        "status",
        "production",
        "--json",
        "--region",
        "us",
    ])));
    assert_eq!(s["state"]["stable"], "v1");
    assert!(s["state"]["canary"].is_null());
}

fn walk(d: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            if e.file_type().unwrap().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path().to_string_lossy().into_owned());
            }
        }
    }
    out
}

#[test]
fn archive_runs_in_each_region_into_its_own_cold_store() {
    let t = project(&format!(
        "{TWO_FILE_REGIONS}[retention]\nhot_days = 1\nkeep_latest = 1\n"
    ));
    ok(sv(t.path()).args([
        "publish",
        example_dist().to_str().unwrap(),
        "--version",
        "v1",
    ]));
    ok(sv(t.path()).args([
        "publish",
        example_dist_v2().to_str().unwrap(),
        "--version",
        "v2",
    ]));
    let later = "2099-01-01T00:00:00Z";
    let r = json(&ok(sv(t.path())
        .env("SITEVAULT_NOW", later)
        .args(["archive", "--json"])));
    for region in ["eu", "us"] {
        assert_eq!(r["regions"][region]["archived"][0]["version"], "v1", "{r}");
        let cold = t.path().join(format!(".sitevault/cold/{region}"));
        assert!(!walk(&cold).is_empty(), "no pack in {}", cold.display());
    }
    // Restore in one region brings it back there only.
    ok(sv(t.path()).args(["restore", "v1", "--region", "us"]));
    ok(sv(t.path()).args(["verify", "v1", "--region", "us"]));
    let (c, _) = fails(sv(t.path()).args(["verify", "v1", "--region", "eu"]));
    assert_ne!(c, 0);
}

/// Two S3 servers; one freezes (accepts connections, never answers) during a publish
/// and a rollback, then comes back and is synced.
#[test]
fn rollback_with_a_region_down_then_sync_when_it_is_back() {
    let (Some(a), Some(b)) = (s3::Moto::start(), s3::Moto::start()) else {
        return;
    };
    let ba = s3::bucket(&a.endpoint, "rega");
    let bb = s3::bucket(&b.endpoint, "regb");
    let region = |name: &str, endpoint: &str, bucket: &str| {
        format!(
            "[regions.{name}]\nurl = \"s3://{bucket}/site\"\nendpoint = \"{endpoint}\"\nregion = \"us-east-1\"\nallow_http = true\n"
        )
    };
    let t = project(&format!(
        "[store]\ntimeout = \"1s\"\n{}{}",
        region("eu", &a.endpoint, &ba),
        region("us", &b.endpoint, &bb)
    ));
    let o = publish(t.path(), example_dist(), "v1", &["--channel", "production"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = publish(
        t.path(),
        example_dist_v2(),
        "v2",
        &["--channel", "production"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    b.pause();
    // A publish with a region down: published where it could be, rolled out nowhere.
    let o = publish(t.path(), example_dist(), "v3", &["--channel", "staging"]);
    assert_eq!(code(&o), 7, "{}", stderr(&o));
    assert!(stderr(&o).contains("[us]") && stderr(&o).contains("not rolled out on staging"));
    let started = Instant::now();
    let o = sv(t.path())
        .args(["rollback", "production", "--reason", "bad v2", "--json"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(code(&o), 7, "{}", stderr(&o));
    let r = json(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(r["failed"][0], "us", "{r}");
    assert_eq!(r["regions"]["eu"]["state"]["stable"], "v1", "{r}");
    assert!(
        r["regions"]["eu"]["elapsed_ms"].as_f64().unwrap() < 5_000.0,
        "{r}"
    );
    assert!(r["regions"]["us"]["error"].is_string(), "{r}");
    // Bounded by the timeout and its retries, not by the frozen server.
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert_rolled_back(t.path(), "eu");

    b.resume();
    let o = sv(t.path())
        .args(["status", "production"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 7, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("DRIFT"), "{out}");
    let r = json(&ok(sv(t.path()).args(["sync", "production", "--json"])));
    assert_eq!(r["leader"], "eu", "{r}");
    assert_eq!(r["regions"][1]["outcome"], "synced", "{r}");
    let s = json(&ok(sv(t.path()).args(["status", "production", "--json"])));
    assert_eq!(s["drift"][0]["agree"], true, "{s}");
    assert_eq!(s["regions"]["us"]["state"]["stable"], "v1", "{s}");
    assert!(s["regions"]["us"]["state"]["pinned"].is_object(), "{s}");
}
