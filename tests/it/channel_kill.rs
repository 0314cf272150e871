//! SIGKILL between a channel change's log write and its manifest write: the next
//! command (status, history, the next rollout) repairs the manifest forward.

use crate::common;

use std::path::Path;

use common::*;

fn manifest_generation(dir: &Path) -> u64 {
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join(".sitevault/store/channels/production/manifest.json")).unwrap(),
    )
    .unwrap();
    m["generation"].as_u64().unwrap()
}

/// Runs `args` until it has written its log record, then SIGKILLs it there.
fn kill_after_log(dir: &Path, args: &[&str]) {
    let (mut child, flag) = paused_after_log(dir, args);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    std::fs::remove_file(&flag).unwrap();
}

fn project() -> tempfile::TempDir {
    v1_stable_v2_published(Some(""))
}

#[test]
fn a_change_killed_after_its_log_write_is_repaired_forward_by_any_command() {
    let t = project();
    let d = t.path();
    assert_eq!(manifest_generation(d), 1);

    kill_after_log(d, &["rollout", "production", "v2", "--percent", "25"]);
    assert_eq!(
        manifest_generation(d),
        1,
        "the kill came before the manifest write"
    );
    let out = ok(sv(d).args(["status", "production"]));
    assert!(out.contains("repaired") && out.contains("at 25%"), "{out}");
    assert_eq!(manifest_generation(d), 2);

    kill_after_log(d, &["rollout", "production", "--percent", "50"]);
    ok(sv(d).args(["history", "production"]));
    // history reads the log only; the next write repairs and goes on from generation 3.
    let out = ok(sv(d).args(["rollout", "production", "--advance"]));
    assert!(out.contains("generation 4"), "{out}");
    assert_eq!(manifest_generation(d), 4);
    let st: serde_json::Value =
        serde_json::from_str(&ok(sv(d).args(["status", "production", "--json"]))).unwrap();
    assert_eq!(st["generation"], 4);
    assert_eq!(st["repaired"], false);
}
