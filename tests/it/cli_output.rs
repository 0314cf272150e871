//! Every command run with a stdout that cannot be written: a pipe whose reader is
//! gone (`sitevault history production | head -1`) and a full device (`>/dev/full`).
//! Nothing panics; a broken pipe ends quietly with the command's own exit code; any
//! other output error exits 1 and, for a change, says on stderr that it was made; a
//! change is in the log exactly once.

use crate::common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Closed {
    /// A pipe whose read end is closed: writes fail with EPIPE.
    Pipe,
    /// `/dev/full`: writes fail with ENOSPC.
    Full,
}

fn stdout_for(mode: Closed) -> Stdio {
    match mode {
        Closed::Pipe => {
            // The write end of a pipe whose only reader (`true`) has exited.
            let mut reader = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
            let writer = reader.stdin.take().unwrap();
            reader.wait().unwrap();
            writer.into()
        }
        Closed::Full => std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
            .into(),
    }
}

fn run(c: &mut Command, mode: Closed) -> Output {
    let o = c
        .stdout(stdout_for(mode))
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(
        o.status.code(),
        Some(101),
        "{c:?} ({mode:?}) panicked: {err}"
    );
    assert!(!err.contains("panicked"), "{c:?} ({mode:?}): {err}");
    o
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn generation(dir: &Path, channel: &str) -> u64 {
    let s = ok(sv(dir).args(["status", channel, "--json"]));
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    v["generation"].as_u64().unwrap()
}

/// A project with v1 (stable on production) and v2 published.
fn project() -> tempfile::TempDir {
    v1_stable_v2_published(None)
}

#[test]
fn reads_with_stdout_closed_never_panic() {
    let t = project();
    let d = t.path();
    let reads: Vec<Vec<&str>> = vec![
        vec!["versions"],
        vec!["versions", "--json"],
        vec!["status"],
        vec!["status", "production", "--json"],
        vec!["history", "production"],
        vec!["history", "production", "--json"],
        vec!["verify", "v1"],
        vec!["verify", "v1", "--json"],
        vec!["lifecycle"],
        vec!["archive", "--dry-run"],
        vec!["gc", "--dry-run"],
        vec!["gc", "--dry-run", "--json"],
        vec!["rollout", "production", "v2", "--dry-run"],
        vec![
            "rollback",
            "production",
            "--to",
            "v2",
            "--dry-run",
            "--json",
        ],
        vec!["publish", "dist", "--version", "v2"],
        vec!["publish", "dist", "--version", "v3", "--dry-run"],
        vec!["restore", "v1"],
        vec!["--check-args", "status"],
        vec!["--help"],
        vec!["rollout", "--help"],
        vec!["--version"],
    ];
    for mode in [Closed::Pipe, Closed::Full] {
        for args in &reads {
            let o = run(sv(d).args(args), mode);
            let want = if mode == Closed::Pipe { 0 } else { 1 };
            assert_eq!(
                o.status.code(),
                Some(want),
                "{args:?} ({mode:?}): {}",
                stderr(&o)
            );
            if mode == Closed::Full {
                assert!(
                    stderr(&o).contains("No space left on device"),
                    "{args:?}: {}",
                    stderr(&o)
                );
            }
        }
        // Local writes: build and pull.
        let out = format!("dist-{mode:?}");
        let o = run(sv(d).args(["build", "site", "-o", &out]), mode);
        assert!(d.join(&out).join("index.html").exists());
        let pulled = format!("pulled-{mode:?}");
        let p = run(sv(d).args(["pull", "v1", "-o", &pulled]), mode);
        assert!(d.join(&pulled).join("index.html").exists());
        for (what, o) in [("build", o), ("pull", p)] {
            if mode == Closed::Pipe {
                assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(&o));
            } else {
                assert_eq!(o.status.code(), Some(1), "{what}: {}", stderr(&o));
                assert!(
                    stderr(&o).contains("could not be written"),
                    "{what}: {}",
                    stderr(&o)
                );
            }
        }
    }
    // A failing command keeps its own exit code when its output is lost too.
    let o = run(sv(d).args(["verify", "v9", "--json"]), Closed::Pipe);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

/// Runs a change with stdout closed; asserts it was applied exactly once and that
/// the exit code and stderr say what happened.
fn change_once(d: &Path, channel: &str, args: &[&str], mode: Closed) {
    let before = generation(d, channel);
    let o = run(sv(d).args(args), mode);
    let after = generation(d, channel);
    assert_eq!(
        after,
        before + 1,
        "{args:?} ({mode:?}) applied {} times",
        after - before
    );
    let err = stderr(&o);
    match mode {
        Closed::Pipe => {
            assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
            // The reader left, so stderr names the change that was made.
            assert!(
                err.contains(&format!("(generation {after}); stdout was closed")),
                "{args:?}: {err}"
            );
        }
        Closed::Full => {
            assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
            assert!(
                err.contains(&format!(
                    "(generation {after}) but its report could not be written"
                )),
                "{args:?}: {err}"
            );
        }
    }
}

#[test]
fn changes_with_stdout_closed_are_applied_once_and_said() {
    let t = project();
    let d = t.path();
    use Closed::*;
    change_once(d, "production", &["rollout", "production", "v2"], Pipe);
    change_once(
        d,
        "production",
        &["rollout", "production", "--advance"],
        Full,
    );
    change_once(
        d,
        "production",
        &["rollout", "production", "--advance", "--json"],
        Pipe,
    );
    change_once(
        d,
        "production",
        &["rollout", "production", "--percent", "50", "--json"],
        Full,
    );
    change_once(
        d,
        "production",
        &["pin", "production", "--reason", "drill"],
        Pipe,
    );
    change_once(d, "production", &["unpin", "production"], Full);
    change_once(d, "production", &["rollback", "production"], Full);
    change_once(d, "production", &["unpin", "production", "--json"], Pipe);
    change_once(
        d,
        "production",
        &["rollback", "production", "--to", "v2", "--json"],
        Pipe,
    );
    // publish then rollout: a new version id for the same dist.
    change_once(
        d,
        "staging",
        &["publish", "dist", "--version", "v3", "--channel", "staging"],
        Pipe,
    );
    change_once(
        d,
        "canary",
        &["publish", "dist", "--version", "v4", "--channel", "canary"],
        Full,
    );
    let o = run(
        sv(d).args(["publish", "dist", "--version", "v5", "--channel", "beta"]),
        Full,
    );
    assert!(
        stderr(&o).contains("v5 was published and its rollout on beta applied (generation 1)"),
        "{}",
        stderr(&o)
    );
    // The log holds each change once and its chain is intact.
    let h = ok(sv(d).args(["history", "production", "--json"]));
    let h: serde_json::Value = serde_json::from_str(&h).unwrap();
    assert!(h["chain_error"].is_null(), "{h}");
    assert_eq!(h["entries"].as_array().unwrap().len(), 10, "{h}");
}

#[test]
fn serve_keeps_serving_with_stdout_closed() {
    let t = project();
    for mode in [Closed::Pipe, Closed::Full] {
        let addr = format!("127.0.0.1:{}", common::free_port());
        let mut child = sv(t.path())
            .args(["serve", "--channel", "production", "--listen", &addr])
            .stdout(stdout_for(mode))
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let mut answered = false;
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("serve ({mode:?}) exited early: {status}");
            }
            if std::net::TcpStream::connect(&addr).is_ok() {
                let r = http::request(&addr, "GET", "/", &[]);
                assert_eq!(r.status, 200);
                answered = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert!(answered, "serve ({mode:?}) never answered: {err}");
        assert!(!err.contains("panicked"), "{mode:?}: {err}");
        let want = if mode == Closed::Pipe { 0 } else { 1 };
        assert_eq!(o.status.code(), Some(want), "{mode:?}: {err}");
    }
}
