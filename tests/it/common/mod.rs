//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `sitevault` run in `dir` with no config file around (defaults) unless given.
pub fn sv(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sitevault"));
    c.current_dir(dir);
    c.env_remove("SITEVAULT_NOW");
    c.env("SITEVAULT_ACTOR", "test@sitevault");
    c
}

/// Copies a folder recursively (symlinks are not followed).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// A temp folder holding a copy of the example site at `site/`.
/// A free loopback port (there is a small window before whoever asked binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn example_site() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    copy_dir(&root().join("fixtures/site"), &t.path().join("site"));
    t
}

/// Every file under `dir`, relative, sorted, with contents.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    fn walk(base: &Path, d: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(base, &e.path(), out);
            } else {
                let rel = e
                    .path()
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read(e.path()).unwrap()));
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Runs a command, asserting success, returning stdout.
pub fn ok(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "command failed ({:?}): {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        c,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs a command expected to fail; returns (exit code, stderr).
pub fn fails(c: &mut Command) -> (i32, String) {
    let o = c.output().unwrap();
    assert!(
        !o.status.success(),
        "command unexpectedly succeeded: {:?}\nstdout: {}",
        c,
        String::from_utf8_lossy(&o.stdout)
    );
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

pub mod s3;

/// A copy of the example site, changed by `edit`, built through the library into `dist/`.
fn built_example(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    let t = example_site();
    edit(&t.path().join("site"));
    let mut o = sitevault::build::BuildOptions::from_config(&sitevault::Config::default());
    o.src = t.path().join("site");
    o.out = t.path().join("dist");
    o.cache_dir = None;
    sitevault::build::build(&o).unwrap();
    let p = t.path().join("dist");
    (t, p)
}

/// The example site's dist, built once per test binary.
pub fn example_dist() -> &'static Path {
    static DIST: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    &DIST.get_or_init(|| built_example(|_| {})).1
}

/// A second version of the example: index.html and blog.css changed.
pub fn example_dist_v2() -> &'static Path {
    static DIST: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    &DIST
        .get_or_init(|| {
            built_example(|site| {
                let idx = site.join("index.html");
                let s = std::fs::read_to_string(&idx)
                    .unwrap()
                    .replace("Fresh beans", "Fresher beans");
                std::fs::write(&idx, s).unwrap();
                let css = site.join("css/blog.css");
                let c =
                    std::fs::read_to_string(&css).unwrap() + "\narticle h1 { color: #6b4226; }\n";
                std::fs::write(&css, c).unwrap();
            })
        })
        .1
}

pub mod http;
pub mod prometheus;
pub mod server;
pub mod visitors;

/// Starts `sitevault ARGS` in `dir` with `SITEVAULT_TEST_PAUSE_AFTER_LOG`, and returns
/// once it has written its log record and waits there (between its log write and its
/// manifest write). Removing the returned flag file lets it go on.
pub fn paused_after_log(dir: &Path, args: &[&str]) -> (std::process::Child, PathBuf) {
    let flag = dir.join("paused");
    let mut child = sv(dir)
        .args(args)
        .env("SITEVAULT_TEST_PAUSE_AFTER_LOG", &flag)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !flag.exists() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{args:?} never reached its log write"
        );
        if let Some(st) = child.try_wait().unwrap() {
            panic!("{args:?} exited ({st}) before its log write");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (child, flag)
}

/// `sitevault build site -o dist` then `publish dist --version V [--channel C]`, in `dir`.
pub fn build_and_publish(dir: &Path, version: &str, channel: Option<&str>) {
    ok(sv(dir).args(["build", "site", "-o", "dist", "-q"]));
    let mut c = sv(dir);
    c.args(["publish", "dist", "--version", version, "-q"]);
    if let Some(ch) = channel {
        c.args(["--channel", ch]);
    }
    ok(&mut c);
}

/// The public path in `dir/dist` whose name starts with `prefix` (e.g. "/css/blog.").
pub fn dist_path(dir: &Path, prefix: &str) -> String {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("dist/.sitevault/manifest.json")).unwrap())
            .unwrap();
    m["files"]
        .as_object()
        .unwrap()
        .keys()
        .find(|k| k.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}* in dist"))
        .clone()
}

/// A project folder with v1 published and stable on `production`, and v2 (index.html
/// changed) published but not rolled out. `store_toml` is written first when given.
pub fn v1_stable_v2_published(store_toml: Option<&str>) -> tempfile::TempDir {
    let t = example_site();
    if let Some(toml) = store_toml {
        std::fs::write(t.path().join("store.toml"), toml).unwrap();
    }
    build_and_publish(t.path(), "v1", Some("production"));
    let idx = t.path().join("site/index.html");
    let s = std::fs::read_to_string(&idx)
        .unwrap()
        .replace("Fresh beans", "Fresher beans");
    std::fs::write(&idx, s).unwrap();
    build_and_publish(t.path(), "v2", None);
    t
}

/// The bytes a `br` or `gzip` body decodes to.
pub fn decode(coding: &str, body: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match coding {
        "br" => brotli::Decompressor::new(body, 4096)
            .read_to_end(&mut out)
            .unwrap(),
        "gzip" => flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .unwrap(),
        other => panic!("no decoder for {other}"),
    };
    out
}

/// Change options of the library-level channel tests (actor `test`).
pub fn change_opts() -> sitevault::channel::ChangeOptions {
    sitevault::channel::ChangeOptions {
        actor: "test".into(),
        ..Default::default()
    }
}

/// A rollout of `version` (to the first stage, or `percent`).
pub fn start(version: &str, percent: Option<f64>) -> sitevault::channel::Intent {
    sitevault::channel::Intent::Start {
        version: version.into(),
        percent,
    }
}
