//! `build -o DIR` and `pull V -o DIR` replace only folders sitevault wrote (issue #10).

mod common;

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
