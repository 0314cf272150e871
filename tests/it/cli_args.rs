//! Invalid argument values are usage errors (exit 2) with clap-style messages,
//! refused before anything is read or written; an invalid SITEVAULT_NOW is an error
//! that names it; every command's --help lists the exit codes.

use crate::common;

use common::*;

#[test]
fn invalid_values_are_usage_errors() {
    let t = tempfile::tempdir().unwrap();
    let cases: &[&[&str]] = &[
        &["publish", "dist", "--version", "../x"],
        &["publish", "dist", "--version", "v1", "--channel", "Prod"],
        &["build", "--version", "../x"],
        &["rollout", "Prod", "v1"],
        &["rollout", "production", "../x"],
        &["rollout", "production", "--percent", "33.333"],
        &["rollout", "production", "--percent", "101"],
        &["rollout", "production", "--percent", "abc"],
        &["rollout", "production"],
        &["rollback", "production", "--to", "../x"],
        &["rollback", "Prod"],
        &["pin", "Prod", "--reason", "x"],
        &["unpin", "a_b"],
        &["status", "Prod"],
        &["history", "Prod"],
        &["verify", "../x"],
        &["pull", "../x", "-o", "out"],
        &["restore", "../x"],
        &["serve", "--channel", "Prod"],
        &["serve", "--channel", "production", "--ttl", "0s"],
        &["serve", "--channel", "production", "--ttl", "abc"],
        &["serve", "--channel", "production", "--ttl", "0"],
    ];
    for args in cases {
        let (code, err) = fails(sv(t.path()).args(*args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("invalid value") || err.contains("needs one of"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert!(
        !t.path().join(".sitevault").exists(),
        "a store was created for invalid arguments"
    );
}

#[test]
fn invalid_sitevault_now_is_refused() {
    let t = tempfile::tempdir().unwrap();
    for bad in ["garbage", "2026-13-01T00:00:00Z", "yesterday"] {
        let (code, err) = fails(sv(t.path()).env("SITEVAULT_NOW", bad).args(["status"]));
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains("SITEVAULT_NOW"), "{bad}: {err}");
    }
    // --json: the error is also on stdout, as JSON.
    let o = sv(t.path())
        .env("SITEVAULT_NOW", "garbage")
        .args(["status", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["exit_code"], 2);
    // A valid value and an empty one are accepted.
    ok(sv(t.path())
        .env("SITEVAULT_NOW", "2030-01-01T00:00:00Z")
        .args(["status"]));
    ok(sv(t.path()).env("SITEVAULT_NOW", "").args(["status"]));
}

#[test]
fn every_help_lists_exit_codes() {
    let t = tempfile::tempdir().unwrap();
    let commands = [
        "build",
        "publish",
        "versions",
        "verify",
        "pull",
        "rollout",
        "rollback",
        "pin",
        "unpin",
        "status",
        "history",
        "serve",
        "archive",
        "restore",
        "gc",
        "lifecycle",
    ];
    let top = ok(sv(t.path()).arg("--help"));
    assert!(top.contains("Exit codes"), "{top}");
    for c in commands {
        assert!(top.contains(c), "{c} missing from --help: {top}");
        let help = ok(sv(t.path()).args([c, "--help"]));
        assert!(help.contains("Exit codes: 0"), "{c}: {help}");
        assert!(help.contains("2 usage"), "{c}: {help}");
    }
    let rollout = ok(sv(t.path()).args(["rollout", "--help"]));
    assert!(
        rollout.contains("3 conflict") && rollout.contains("sitevault status"),
        "{rollout}"
    );
}
