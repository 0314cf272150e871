//! `build -o DIR` and `pull V -o DIR` replace only folders sitevault wrote (issue #10).

use crate::common;

use std::path::Path;

use common::*;

fn write(p: &Path, s: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, s).unwrap();
}

#[test]
fn build_refuses_to_replace_parents_cwd_and_foreign_folders() {
    let t = example_site();
    let d = t.path();
    write(&d.join("sibling/keep.txt"), "keep");
    // A parent of SRC, the working directory.
    for out in ["..", ".", "site/.."] {
        let (code, err) = fails(sv(d).args(["build", "site", "-o", out]));
        assert_eq!(code, 1, "{out}: {err}");
        assert!(d.join("sibling/keep.txt").exists(), "{out}");
    }
    // A parent of the working directory, run from inside SRC's sibling.
    let (code, err) = fails(sv(&d.join("sibling")).args(["build", "../site", "-o", ".."]));
    assert_eq!(code, 1, "{err}");
    assert!(d.join("sibling/keep.txt").exists());
    // A folder with someone else's files.
    let (code, err) = fails(sv(d).args(["build", "site", "-o", "sibling"]));
    assert_eq!(code, 1);
    assert!(err.contains("choose an empty or new folder"), "{err}");
    assert!(d.join("sibling/keep.txt").exists());
    // Absent, empty, then our own: fine, and again.
    std::fs::create_dir(d.join("empty")).unwrap();
    ok(sv(d).args(["build", "site", "-o", "empty", "-q"]));
    ok(sv(d).args(["build", "site", "-o", "empty", "-q", "--no-cache"]));
    ok(sv(d).args(["build", "site", "-o", "new/dist", "-q"]));
    assert!(d.join("new/dist/.sitevault/output").is_file());
}

#[test]
fn build_under_a_regular_file_names_the_file() {
    let t = example_site();
    let d = t.path();
    write(&d.join("plain"), "x");
    let (code, err) = fails(sv(d).args(["build", "site", "-o", "plain/dist"]));
    assert_eq!(code, 1);
    assert!(err.contains("plain") && err.contains("is a file"), "{err}");
}

#[test]
fn pull_refuses_cwd_store_and_foreign_folders() {
    let t = example_site();
    let d = t.path();
    build_and_publish(d, "v1", None);
    write(&d.join("mine/keep.txt"), "keep");
    for out in [".", "..", ".sitevault/store", ".sitevault", "mine"] {
        let (code, err) = fails(sv(d).args(["pull", "v1", "-o", out]));
        assert_eq!(code, 1, "{out}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(d.join("mine/keep.txt").exists());
    assert!(d.join(".sitevault/store/versions/v1/index.json").exists());
    assert!(d.join("site/index.html").exists());
    // A pulled folder can be pulled into again, and so can a built one.
    ok(sv(d).args(["pull", "v1", "-o", "pulled", "-q"]));
    ok(sv(d).args(["pull", "v1", "-o", "pulled", "-q"]));
    ok(sv(d).args(["pull", "v1", "-o", "dist", "-q"]));
    ok(sv(d).args(["build", "site", "-o", "pulled", "-q"]));
}

#[test]
fn source_names_with_backslashes_or_dots_are_refused() {
    for name in ["x\\..\\..\\..\\evil.txt", "z\\..\\..\\pwned.html"] {
        let t = example_site();
        let d = t.path();
        write(&d.join("site").join(name), "<p>hi</p>");
        let (code, err) = fails(sv(d).args(["build", "site", "-o", "dist"]));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("backslash") && err.contains(name), "{err}");
        assert!(!d.join("evil.txt").exists() && !d.join("pwned.html").exists());
        assert!(!d.parent().unwrap().join("evil.txt").exists());
    }
}

fn build_json(d: &Path, extra: &[&str]) -> serde_json::Value {
    let out = ok(sv(d)
        .args(["build", "site", "-o", "dist", "--json"])
        .args(extra));
    serde_json::from_str(&out).unwrap()
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_is_reported_as_such_and_not_replayed() {
    let t = example_site();
    let d = t.path();
    std::os::unix::fs::symlink("nowhere.txt", d.join("site/link.txt")).unwrap();
    let r = build_json(d, &[]);
    let w = r["warnings"].to_string();
    assert!(
        w.contains("dangling symlink") && w.contains("nowhere.txt"),
        "{w}"
    );
    assert!(!w.contains("vanished"), "{w}");
    std::fs::remove_file(d.join("site/link.txt")).unwrap();
    let r = build_json(d, &[]);
    assert!(!r["warnings"].to_string().contains("link.txt"), "{r}");
}

#[test]
fn keep_going_copies_non_utf8_text_as_written() {
    let t = example_site();
    let d = t.path();
    let bytes = b"body{color:red}\n/* \xff\xfe */\n";
    std::fs::write(d.join("site/latin1.css"), bytes).unwrap();
    std::fs::write(d.join("site/latin1.html"), b"<p>caf\xe9</p>").unwrap();
    let (code, err) = fails(sv(d).args(["build", "site", "-o", "dist"]));
    assert_eq!(code, 1);
    assert!(err.contains("UTF-8"), "{err}");
    let r = build_json(d, &["--keep-going"]);
    let w = r["warnings"].to_string();
    assert!(
        w.contains("latin1.css") && w.contains("copied as written"),
        "{w}"
    );
    assert_eq!(
        std::fs::read(d.join("dist/latin1.html")).unwrap(),
        b"<p>caf\xe9</p>"
    );
    let m: sitevault::schema::BuildManifest =
        serde_json::from_slice(&std::fs::read(d.join("dist/.sitevault/manifest.json")).unwrap())
            .unwrap();
    let css = m
        .files
        .keys()
        .find(|k| k.starts_with("/latin1.") && k.ends_with(".css"))
        .unwrap();
    assert_eq!(
        std::fs::read(d.join("dist").join(&css[1..])).unwrap(),
        bytes
    );
}

#[test]
fn names_with_control_characters_are_refused_by_name() {
    for name in ["new\nline.txt", "tab\there.css", "bell\u{7}.js"] {
        let t = example_site();
        let d = t.path();
        std::fs::write(d.join("site").join(name), "x").unwrap();
        let (code, err) = fails(sv(d).args(["build", "site", "-o", "dist"]));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("control character"), "{err}");
    }
}

#[test]
fn empty_files_of_every_kind_build() {
    let t = example_site();
    let d = t.path();
    for name in [
        "empty.html",
        "empty.css",
        "empty.js",
        "empty.json",
        "empty.mjs",
    ] {
        std::fs::write(d.join("site").join(name), "").unwrap();
    }
    ok(sv(d).args(["build", "site", "-o", "dist", "-q"]));
    assert!(d.join("dist/empty.html").is_file());
}
