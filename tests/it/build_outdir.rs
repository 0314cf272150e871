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

/// A rebuild shares each unchanged output file with the folder it replaces (a hard
/// link, no copy), but never a file changed in place, one linked from elsewhere, or a
/// symlink: those are written anew, and what is outside is left as it was.
#[cfg(unix)]
#[test]
fn a_rebuild_shares_only_identical_files_it_wrote() {
    use std::os::unix::fs::MetadataExt;
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for name in ["a", "b", "c", "d", "e"] {
        write(
            &d.join(format!("site/{name}.html")),
            &format!("<p>page {name}"),
        );
    }
    // Long enough for precompressed sidecars; in a folder that becomes a symlink.
    let long = "<p>a page long enough to be worth compressing, ".repeat(20);
    write(&d.join("site/sub/f.html"), &long);
    write(&d.join("site/g.html"), &long);
    ok(sv(d).args(["build", "site", "-o", "dist", "-q"]));
    let dist = d.join("dist");
    let page = |n: &str| dist.join(format!("{n}.html"));
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    let ino = |p: &Path| std::fs::symlink_metadata(p).unwrap().ino();
    let built: Vec<String> = ["a", "b", "c", "d"].map(|n| read(&page(n))).to_vec();
    let a_ino = ino(&page("a"));
    let g_br_ino = ino(&dist.join("g.html.br"));
    // Changed in place (same size), linked from outside, replaced by a symlink.
    std::fs::write(page("b"), built[1].to_uppercase()).unwrap();
    write(&d.join("outside/keep"), "");
    std::fs::hard_link(page("c"), d.join("outside/c.html")).unwrap();
    write(&d.join("outside/d.html"), &built[3]);
    std::fs::remove_file(page("d")).unwrap();
    std::os::unix::fs::symlink(d.join("outside/d.html"), page("d")).unwrap();
    write(&d.join("site/e.html"), "<p>page e, longer now");
    let f_br = dist.join("sub/f.html.br");
    let f_br_ino = ino(&f_br);
    let f_built = read(&dist.join("sub/f.html"));
    // A folder replaced by a symlink to an identical copy outside.
    let outside_sub = d.join("outside/sub");
    std::fs::rename(dist.join("sub"), &outside_sub).unwrap();
    std::os::unix::fs::symlink(&outside_sub, dist.join("sub")).unwrap();
    let outside_f = ino(&outside_sub.join("f.html"));

    ok(sv(d).args(["build", "site", "-o", "dist", "-q"]));
    assert_eq!(ino(&page("a")), a_ino, "an unchanged file is shared");
    assert_eq!(std::fs::metadata(page("a")).unwrap().nlink(), 1);
    assert_eq!(
        ino(&dist.join("g.html.br")),
        g_br_ino,
        "a sidecar is shared too"
    );
    for (i, n) in ["a", "b", "c", "d"].iter().enumerate() {
        assert_eq!(read(&page(n)), built[i], "{n}");
    }
    assert_ne!(ino(&page("c")), ino(&d.join("outside/c.html")));
    assert!(std::fs::symlink_metadata(page("d")).unwrap().is_file());
    assert_ne!(ino(&page("d")), ino(&d.join("outside/d.html")));
    assert!(read(&page("e")).contains("longer now"));
    assert!(std::fs::symlink_metadata(dist.join("sub"))
        .unwrap()
        .is_dir());
    assert_eq!(read(&dist.join("sub/f.html")), f_built);
    assert_ne!(ino(&dist.join("sub/f.html")), outside_f);
    assert!(
        outside_sub.join("f.html.br").exists(),
        "outside left as it was"
    );
    assert_ne!(
        ino(&f_br),
        f_br_ino,
        "reached through a symlink: not shared"
    );
    assert_eq!(read(&d.join("outside/c.html")), built[2]);
    assert_eq!(read(&d.join("outside/d.html")), built[3]);
}

/// A store kept inside an output folder sitevault wrote (`www/.sitevault/store`):
/// replacing `www` would delete every version, so build and pull refuse, with
/// the store named by `--store` as by the config.
#[test]
fn an_output_folder_holding_a_store_is_never_replaced() {
    let t = example_site();
    let d = t.path();
    ok(sv(d).args(["build", "site", "-o", "www", "-q"]));
    let store = d.join("www/.sitevault/store");
    let url = format!("file://{}", store.display());
    ok(sv(d).args(["--store", &url, "publish", "www", "--version", "v1", "-q"]));
    let index = store.join("versions/v1/index.json");
    for args in [
        vec!["--store", &url, "pull", "v1", "-o", "www"],
        vec!["--store", &url, "build", "site", "-o", "www"],
    ] {
        let (code, err) = fails(sv(d).args(&args));
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains("store"), "{args:?}: {err}");
        assert!(index.is_file(), "{args:?} deleted the store");
    }
    // The same store named by the config.
    std::fs::write(d.join("store.toml"), format!("[store]\nurl = \"{url}\"\n")).unwrap();
    let (code, err) = fails(sv(d).args(["build", "site", "-o", "www"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("a store's folder"), "{err}");
    assert!(index.is_file());
    // A cold store inside the folder a pull would replace (the hot one elsewhere).
    std::fs::write(d.join("store.toml"), "[cold]\nurl = \"file://www/cold\"\n").unwrap();
    std::fs::create_dir_all(d.join("www/cold/packs")).unwrap();
    std::fs::write(d.join("www/cold/packs/p.svpack"), "pack").unwrap();
    build_and_publish(d, "v1", None);
    let (code, err) = fails(sv(d).args(["pull", "v1", "-o", "www"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        d.join("www/cold/packs/p.svpack").is_file(),
        "pull deleted the cold store"
    );
}

/// Runs `c`, failing the test instead of hanging when it does not end in 60 s.
fn ends(c: &mut std::process::Command) -> std::process::Output {
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{c:?} did not end");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A named pipe in the site would block the build's read forever: it is skipped,
/// with a warning, as anything that is not a regular file.
#[test]
fn a_named_pipe_in_the_site_is_skipped_not_waited_on() {
    let t = example_site();
    let d = t.path();
    let made = std::process::Command::new("mkfifo")
        .arg(d.join("site/pipe.html"))
        .status()
        .unwrap();
    assert!(made.success());
    let o = ends(sv(d).args(["build", "site", "-o", "dist"]));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("pipe.html") && err.contains("not a regular file"),
        "{err}"
    );
    assert!(!d.join("dist/pipe.html").exists());
}

/// An edit that keeps the file's size and mtime (`cp -p`, `rsync -t`, tar,
/// `touch -d`) is still seen by a warm rebuild.
#[test]
fn an_edit_keeping_size_and_mtime_is_rebuilt() {
    let t = example_site();
    let d = t.path();
    let page = d.join("site/about/index.html");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, format!("{text}<p>AAAA</p>")).unwrap();
    ok(sv(d).args(["build", "site", "-o", "dist", "-q"]));
    let mtime = std::fs::metadata(&page).unwrap().modified().unwrap();
    std::fs::write(&page, format!("{text}<p>BBBB</p>")).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&page)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    ok(sv(d).args(["build", "site", "-o", "dist", "-q"]));
    let out = std::fs::read_to_string(d.join("dist/about/index.html")).unwrap();
    assert!(out.contains("BBBB"), "the old page was kept: {out}");
}

/// `[build] cache_dir` inside the site: the cache is not published as site files.
#[test]
fn a_cache_folder_inside_the_site_is_not_part_of_it() {
    let t = example_site();
    let d = t.path();
    std::fs::write(
        d.join("store.toml"),
        "[build]\ncache_dir = \"site/cache\"\n",
    )
    .unwrap();
    for _ in 0..2 {
        ok(sv(d).args(["build", "site", "-o", "dist", "-q"]));
    }
    assert!(
        d.join("site/cache").is_dir(),
        "the cache is not where it was asked"
    );
    assert!(
        !d.join("dist/cache").exists(),
        "the cache was built into the site"
    );
}

/// A site folder named like a file the build writes (`version.json/`, a sidecar's
/// name) is refused by name before anything is written, not with "Is a directory".
#[test]
fn a_site_folder_named_like_an_output_file_is_refused_by_name() {
    for folder in ["version.json", "index.html.gz"] {
        let t = example_site();
        let d = t.path();
        write(&d.join("site").join(folder).join("x.txt"), "x");
        let (code, err) = fails(sv(d).args(["build", "site", "-o", "dist"]));
        assert_eq!(code, 1, "{folder}: {err}");
        assert!(err.contains("rename the site folder"), "{folder}: {err}");
        assert!(!d.join("dist").exists(), "{folder}: something was written");
    }
}

/// The temporary folder of a build that was killed (`kill -9`) is removed by the next
/// build into the same folder; a folder of that name without sitevault's marker is not.
#[test]
fn a_killed_builds_temporary_folder_is_removed_by_the_next_build() {
    let t = example_site();
    let d = t.path();
    let dead = d.join(".dist.sitevault-tmp-4194303");
    write(&dead.join(".sitevault/output"), "marker");
    write(&dead.join("index.html"), "half a build");
    let foreign = d.join(".dist.sitevault-tmp-4194302");
    write(&foreign.join("keep.txt"), "not ours");
    ok(sv(d).args(["build", "site", "-o", "dist", "-q"]));
    assert!(!dead.exists(), "the killed build's folder stayed");
    assert!(
        foreign.join("keep.txt").is_file(),
        "a folder without the marker was removed"
    );
}
