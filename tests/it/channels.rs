//! Channels from the command line: concurrency between processes, crash repair,
//! exit codes, and the example CI workflow.

use crate::common;

use std::path::Path;
use std::process::Stdio;

use common::*;

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

/// A project folder with v1 and v2 published and `production` at stable v1 + canary v2.
fn project(store_toml: &str) -> tempfile::TempDir {
    v1_stable_v2_published(Some(store_toml))
}

fn concurrent_writers(dir: &Path, writers: usize, changes: usize) {
    ok(sv(dir).args(["rollout", "production", "v2", "-q"]));
    let before = json(&ok(sv(dir).args(["status", "production", "--json"])))["generation"]
        .as_u64()
        .unwrap();
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let dir = dir.to_path_buf();
            std::thread::spawn(move || {
                let mut applied = vec![];
                for i in 0..changes {
                    let p = format!("{}.{:02}", w * 10 + i / 10, (i % 10) * 7 + 1);
                    let o = sv(&dir)
                        .args([
                            "rollout",
                            "production",
                            "--percent",
                            &p,
                            "--actor",
                            &format!("w{w}"),
                            "--json",
                        ])
                        .stderr(Stdio::piped())
                        .output()
                        .unwrap();
                    let code = o.status.code().unwrap_or(-1);
                    assert!(
                        code == 0 || code == 3,
                        "writer {w}: exit {code}: {}",
                        String::from_utf8_lossy(&o.stderr)
                    );
                    if code == 0 {
                        let r = json(&String::from_utf8_lossy(&o.stdout));
                        applied.push((format!("w{w}"), r["generation"].as_u64().unwrap()));
                    }
                }
                applied
            })
        })
        .collect();
    let mut applied: Vec<(String, u64)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let h = json(&ok(sv(dir).args(["history", "production", "--json"])));
    assert!(h["chain_error"].is_null(), "{}", h["chain_error"]);
    let entries = h["entries"].as_array().unwrap();
    let mut logged: Vec<(String, u64)> = entries
        .iter()
        .filter(|e| e["generation"].as_u64().unwrap() > before)
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_string(),
                e["generation"].as_u64().unwrap(),
            )
        })
        .collect();
    applied.sort_by_key(|a| a.1);
    logged.sort_by_key(|a| a.1);
    // Every successful change has its own generation, and none is lost.
    assert_eq!(applied, logged);
    assert!(
        applied.len() >= writers * changes * 9 / 10,
        "{} of {} applied",
        applied.len(),
        writers * changes
    );
    let st = json(&ok(sv(dir).args(["status", "production", "--json"])));
    assert_eq!(st["generation"], entries[0]["generation"]);
    assert_eq!(
        st["manifest_generation"], entries[0]["generation"],
        "manifest is not the newest record"
    );
}

#[test]
fn eight_writer_processes_on_file_store() {
    let t = project("");
    concurrent_writers(t.path(), 8, 12);
}

#[test]
fn eight_writer_processes_on_s3() {
    let Some(endpoint) = s3::endpoint() else {
        return;
    };
    let bucket = s3::bucket(&endpoint, "writers");
    let t = project(&s3::store_toml(&endpoint, &bucket, ""));
    concurrent_writers(t.path(), 8, 12);
}

#[test]
fn status_repairs_what_a_crashed_writer_left() {
    let t = project("");
    ok(sv(t.path()).args(["rollout", "production", "v2", "-q"]));
    // A writer killed after its log write, before the manifest rewrite: the log has
    // generation N+1, the manifest still shows N. Simulate exactly that state.
    let log = t.path().join(".sitevault/store/channels/production/log");
    let newest = std::fs::read_dir(&log)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    let bytes = std::fs::read(&newest).unwrap();
    let mut rec: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let g = rec["generation"].as_u64().unwrap();
    rec["generation"] = (g + 1).into();
    rec["prev"] = blake3::hash(&bytes).to_hex().to_string().into();
    rec["action"] = "percent".into();
    rec["state"]["canary"]["percent"] = 25.into();
    std::fs::write(
        log.join(format!("{:020}.json", g + 1)),
        serde_json::to_vec(&rec).unwrap(),
    )
    .unwrap();
    let out = ok(sv(t.path()).args(["status", "production"]));
    assert!(out.contains("repaired") && out.contains("at 25%"), "{out}");
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            t.path()
                .join(".sitevault/store/channels/production/manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(m["generation"], g + 1);
    assert_eq!(m["canary"]["percent"].as_f64(), Some(25.0));
    ok(sv(t.path()).args(["history", "production"]));
}

#[test]
fn cli_flow_and_exit_codes() {
    let t = project("[channels.staging]\nstages = [100]\n");
    // Staging-style channel: straight to 100 %.
    let r = json(&ok(
        sv(t.path()).args(["rollout", "staging", "v2", "--json"])
    ));
    assert_eq!(r["state"]["stable"], "v2");
    // --dry-run validates and shows, writes nothing.
    let before =
        json(&ok(sv(t.path()).args(["status", "production", "--json"])))["generation"].clone();
    let out = ok(sv(t.path()).args([
        "rollout",
        "production",
        "v2",
        "--percent",
        "0.5",
        "--dry-run",
    ]));
    assert!(
        out.contains("dry run") && out.contains("canary v2 at 0.5%"),
        "{out}"
    );
    let (_, err) = fails(sv(t.path()).args(["rollout", "production", "v9", "--dry-run"]));
    assert!(err.contains("v9"), "{err}");
    assert_eq!(
        json(&ok(sv(t.path()).args(["status", "production", "--json"])))["generation"],
        before
    );
    ok(sv(t.path()).args(["rollout", "production", "v2", "--percent", "0.5"]));
    let st = json(&ok(sv(t.path()).args(["status", "production", "--json"])));
    assert_eq!(st["state"]["canary"]["percent"], 0.5);
    let out = ok(sv(t.path()).args(["rollback", "production", "--dry-run"]));
    assert!(out.contains("dry run") && !out.contains("pinned"), "{out}");
    let out = ok(sv(t.path()).args(["rollback", "production", "--reason", "errors up"]));
    assert!(out.contains("stable v1") && out.contains("ms"), "{out}");
    let (code, err) = fails(sv(t.path()).args(["rollout", "production", "v2"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("pinned by test@sitevault") && err.contains("errors up"),
        "{err}"
    );
    ok(sv(t.path()).args(["rollout", "production", "v2", "--force"]));
    let (code, _) = fails(sv(t.path()).args(["rollout", "production", "--percent", "12.345"]));
    assert_eq!(code, 2, "an invalid --percent is a usage error");
    let (code, _) = fails(sv(t.path()).args(["rollout", "production", "--advance", "--promote"]));
    assert_eq!(code, 2, "usage error");
    let (code, err) = fails(sv(t.path()).args(["rollout", "production", "v7"]));
    assert_eq!(code, 1);
    assert!(err.contains("v7"), "{err}");
    let (code, err) = fails(sv(t.path()).args(["rollback", "nothing-here"]));
    assert_eq!(code, 1);
    assert!(err.contains("no releases yet"), "{err}");
    let (_, err) = fails(sv(t.path()).args(["history", "nothing-here"]));
    assert!(err.contains("no history"), "{err}");
    let help = ok(sv(t.path()).args(["--help"]));
    assert!(help.contains("3 conflict"), "{help}");
    // History: newest first, with actor and reason; chain verified.
    let out = ok(sv(t.path()).args(["history", "production"]));
    assert!(
        out.contains("errors up") && out.contains("hash chain verified"),
        "{out}"
    );
    // A tampered record is reported and the exit code says so.
    let log = t
        .path()
        .join(".sitevault/store/channels/production/log/00000000000000000002.json");
    let s = std::fs::read_to_string(&log)
        .unwrap()
        .replace("test@sitevault", "someone@else!");
    std::fs::write(&log, s).unwrap();
    let (code, err) = fails(sv(t.path()).args(["history", "production"]));
    assert_eq!(code, 4);
    assert!(err.contains("generation 3"), "{err}");
}

/// Every `sitevault` command line in the example workflow parses with the real CLI.
#[test]
fn example_workflow_commands_parse() {
    let path = root().join("examples/github-actions/deploy.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("valid YAML");
    let mut runs = vec![];
    fn collect(v: &serde_yaml_ng::Value, out: &mut Vec<String>) {
        match v {
            serde_yaml_ng::Value::Mapping(m) => {
                for (k, v) in m {
                    if k.as_str() == Some("run") {
                        if let Some(s) = v.as_str() {
                            out.push(s.to_string());
                        }
                    }
                    collect(v, out);
                }
            }
            serde_yaml_ng::Value::Sequence(s) => s.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    collect(&doc, &mut runs);
    let expr = regex::Regex::new(r"\$\{\{[^}]*\}\}").unwrap();
    let mut checked = 0;
    for run in runs {
        for line in run.lines() {
            let Some(i) = line.find("sitevault ") else {
                continue;
            };
            if line.contains("cargo install") {
                continue;
            }
            let cmd = expr.replace_all(&line[i..], "v1.2.3");
            let args = split_shell(&cmd);
            assert_eq!(args[0], "sitevault");
            let o = sv(&root())
                .arg("--check-args")
                .args(&args[1..])
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{cmd}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 9, "only {checked} sitevault commands found");
}

fn split_shell(s: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `rollout --verify` and `rollback --verify` re-hash the target's blobs before any
/// traffic moves: a corrupt blob is exit 4 and the log is unchanged. Without it,
/// presence is checked (the blob exists) and the change applies.
#[test]
fn verify_refuses_a_target_with_a_corrupt_blob() {
    let t = example_site();
    build_and_publish(t.path(), "v1", Some("production"));
    // v2: the same site with one more file, so it has a blob of its own.
    std::fs::write(t.path().join("site/extra.txt"), "only in v2\n").unwrap();
    build_and_publish(t.path(), "v2", None);
    let hash = blake3::hash(b"only in v2\n").to_hex().to_string();
    let blob = t
        .path()
        .join(".sitevault/store/blobs")
        .join(&hash[..2])
        .join(&hash);
    std::fs::remove_file(&blob).unwrap();
    // Same size: only a re-hash finds it (a blob of another size is missing).
    std::fs::write(&blob, "tampered!!\n").unwrap();
    let log = t.path().join(".sitevault/store/channels/production/log");
    let before = std::fs::read_dir(&log).unwrap().count();
    let (code, err) = fails(sv(t.path()).args(["rollout", "production", "v2", "--verify"]));
    assert_eq!(code, 4, "{err}");
    assert_eq!(std::fs::read_dir(&log).unwrap().count(), before);
    ok(sv(t.path()).args(["rollout", "production", "v2", "-q"]));
    let (code, err) = fails(sv(t.path()).args(["rollout", "production", "--promote", "--verify"]));
    assert!(code == 2 || code == 4, "{code}: {err}");
}

/// `publish --channel` onto a pinned channel: the publish stands and the error says
/// so, with the pin's exit code.
#[test]
fn publish_then_rollout_on_a_pinned_channel_says_it_published() {
    let t = example_site();
    build_and_publish(t.path(), "v1", Some("production"));
    ok(sv(t.path()).args(["pin", "production", "--reason", "freeze"]));
    std::fs::write(t.path().join("site/extra.txt"), "new\n").unwrap();
    ok(sv(t.path()).args(["build", "site", "-o", "dist", "-q"]));
    let (_, err) = fails(sv(t.path()).args([
        "publish",
        "dist",
        "--version",
        "v2",
        "--channel",
        "production",
    ]));
    assert!(err.contains("published v2"), "{err}");
    assert!(err.contains("not rolled out on production"), "{err}");
    assert!(t
        .path()
        .join(".sitevault/store/versions/v2/index.json")
        .exists());
}
