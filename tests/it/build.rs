//! `sitevault build` end to end, as a user runs it.

use crate::common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Command;

use common::*;
use sitevault::build::fingerprint::{resolve, Target};
use sitevault::build::refs::{Placeholders, RefKind};
use sitevault::build::{css, html, js};
use sitevault::schema::BuildManifest;

fn build(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let out = ok(sv(dir)
        .args(["build", "site", "-o", "dist", "--json"])
        .args(extra));
    serde_json::from_str(&out).unwrap()
}

fn manifest(dist: &Path) -> BuildManifest {
    serde_json::from_slice(&std::fs::read(dist.join(".sitevault/manifest.json")).unwrap()).unwrap()
}

fn out_name(m: &BuildManifest, prefix: &str, ext: &str) -> String {
    m.files
        .keys()
        .find(|k| k.starts_with(prefix) && k.ends_with(ext))
        .unwrap_or_else(|| panic!("no {prefix}*{ext} in {:?}", m.files.keys()))
        .clone()
}

#[test]
fn every_local_reference_resolves_in_the_output() {
    let t = example_site();
    build(t.path(), &[]);
    let dist = t.path().join("dist");
    let m = manifest(&dist);
    let files: Vec<String> = m.files.keys().map(|k| k[1..].to_string()).collect();
    let index: HashMap<&str, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();
    // The manifest is the truth for what is in dist/.
    for (k, e) in &m.files {
        let bytes = std::fs::read(dist.join(&k[1..])).unwrap();
        assert_eq!(blake3::hash(&bytes).to_hex().to_string(), e.hash, "{k}");
        assert_eq!(bytes.len() as u64, e.size);
    }
    let mut checked = 0;
    for f in &files {
        let text = match std::fs::read_to_string(dist.join(f)) {
            Ok(t) => t,
            Err(_) => continue,
        };
        let mut ph = Placeholders::for_content(text.as_bytes());
        if f.ends_with(".html") {
            html::process(&text, f, Default::default(), &mut ph, false, &mut vec![]).unwrap();
        } else if f.ends_with(".css") {
            css::minify(&text, f, Default::default(), &mut ph, 0).unwrap();
        } else if f.ends_with(".js") {
            for r in js::scan(&text, f).unwrap().refs {
                ph.add(&r.path, r.line, r.kind);
            }
        } else {
            continue;
        }
        for r in ph.into_refs() {
            match resolve(f, &r, &index, &files, &Default::default()) {
                Target::File(_) => checked += 1,
                Target::ImportMap(ts) => {
                    // utils + lib/greet.js + lib/utils.js
                    assert!(ts.len() >= 3, "{f}: import map {:?}", r.path);
                    checked += ts.len();
                }
                // A bare specifier no import map resolves is the browser's business.
                Target::None if r.kind == RefKind::Bare => {}
                Target::None => panic!("{f}: reference {:?} does not resolve in dist/", r.path),
            }
        }
    }
    assert!(checked > 40, "only {checked} references checked");
    // Stable names stay, others are fingerprinted.
    for keep in [
        "/index.html",
        "/robots.txt",
        "/sw.js",
        "/favicon.ico",
        "/.well-known/security.txt",
        "/404.html",
        "/manifest.webmanifest",
        "/version.json",
    ] {
        assert!(m.files.contains_key(keep), "{keep}");
    }
    let re = regex::Regex::new(r"^/.*\.[0-9a-f]{10}\.[a-z0-9]+$").unwrap();
    for (k, e) in &m.files {
        let immutable = e.cache == sitevault::schema::CacheClass::Immutable;
        assert_eq!(immutable, re.is_match(k), "{k}");
    }
}

fn node_available() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn built_js_behaves_like_the_source_in_node() {
    if !node_available() {
        eprintln!("skipped: node is not installed");
        return;
    }
    let t = example_site();
    build(t.path(), &[]);
    let m = manifest(&t.path().join("dist"));
    let app = out_name(&m, "/js/app.", ".js");
    let run_module = |path: &Path| {
        ok(Command::new("node")
            .arg("--experimental-default-type=module")
            .arg(path))
    };
    let src_out = run_module(&t.path().join("site/js/app.js"));
    let dist_out = run_module(&t.path().join("dist").join(&app[1..]));
    assert!(src_out.contains("hello, Sitevault!"), "{src_out}");
    assert!(src_out.contains("lazy answer: 42"), "{src_out}");
    assert_eq!(src_out, dist_out);
    // Classic scripts: the banner uses analytics' globals, in one global scope.
    let classic = |a: &Path, b: &Path| {
        let script = format!(
            "const vm=require('vm');const fs=require('fs');vm.runInThisContext(fs.readFileSync({:?},'utf8'));vm.runInThisContext(fs.readFileSync({:?},'utf8'));",
            a, b
        );
        ok(Command::new("node").arg("-e").arg(script))
    };
    let d = t.path().join("dist");
    let a = out_name(&m, "/js/legacy/analytics.", ".js");
    let b = out_name(&m, "/js/legacy/banner.", ".js");
    let src_classic = classic(
        &t.path().join("site/js/legacy/analytics.js"),
        &t.path().join("site/js/legacy/banner.js"),
    );
    let dist_classic = classic(&d.join(&a[1..]), &d.join(&b[1..]));
    assert!(src_classic.contains("events tracked: 1"), "{src_classic}");
    assert_eq!(src_classic, dist_classic);
    // The module really got minified, and the classic script kept its globals.
    let app_src = std::fs::read(t.path().join("site/js/app.js"))
        .unwrap()
        .len();
    assert!((m.files[&app].size as usize) < app_src * 3 / 4);
    let analytics = std::fs::read_to_string(d.join(&a[1..])).unwrap();
    assert!(analytics.contains("function svTrack(") && analytics.contains("svTrackedCount"));
}

#[test]
fn builds_are_deterministic_and_incremental() {
    let t = example_site();
    let first = build(t.path(), &["--no-cache"]);
    let tree1 = tree(&t.path().join("dist"));
    // The minifiers' work per kind of file (bytes and time summed over threads).
    let kinds = |r: &serde_json::Value| -> Vec<(String, u64)> {
        r["throughput"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["kind"].as_str().unwrap().to_string(),
                    k["files"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let first_kinds = kinds(&first);
    for kind in ["html", "css", "js"] {
        assert!(
            first_kinds.iter().any(|(k, n)| k == kind && *n > 0),
            "{first}"
        );
    }
    let cold = build(t.path(), &[]);
    assert_eq!(cold["cache_hits"], 0);
    let warm = build(t.path(), &[]);
    let minified = warm["minified"].as_u64().unwrap();
    assert!(warm["cache_hits"].as_u64().unwrap() >= minified, "{warm}");
    assert_eq!(tree(&t.path().join("dist")), tree1, "rebuild changed bytes");
    assert_eq!(first["build"], warm["build"]);
    // Nothing changed: answered from the stamp, without reading or writing.
    assert_eq!(warm["stages"][0][0], "up-to-date", "{warm}");
    // One file changed: everything else comes from the minification cache.
    let css = t.path().join("site/css/blog.css");
    std::fs::write(
        &css,
        std::fs::read_to_string(&css).unwrap() + "\np { margin: 0 }\n",
    )
    .unwrap();
    let one = build(t.path(), &[]);
    assert_ne!(one["stages"][0][0], "up-to-date");
    // Files answered from the cache say nothing about the minifiers' speed.
    let one_kinds = kinds(&one);
    assert!(one_kinds.contains(&("css".to_string(), 1)), "{one}");
    assert!(
        !one_kinds.iter().any(|(k, _)| k == "html" || k == "js"),
        "{one}"
    );
    assert!(one["cache_hits"].as_u64().unwrap() >= minified - 1, "{one}");
    assert_ne!(one["build"], warm["build"]);
    std::fs::write(
        &css,
        std::fs::read_to_string(&css)
            .unwrap()
            .replace("\np { margin: 0 }\n", ""),
    )
    .unwrap();
    let verbose = ok(sv(t.path()).args(["build", "site", "-o", "dist", "-v", "--no-cache"]));
    assert!(
        verbose.contains("per core: ") && verbose.contains(" MB/s"),
        "{verbose}"
    );
    // Another folder, another cache, another time: the same bytes.
    let t2 = example_site();
    ok(sv(t2.path()).args(["build", "site", "-o", "dist", "-q"]));
    // Without SOURCE_DATE_EPOCH, built_at follows the copies' mtimes: only version.json
    // (and the manifest entry naming its hash) may differ.
    let public = |t: &[(String, Vec<u8>)]| -> Vec<(String, Vec<u8>)> {
        t.iter()
            .filter(|(p, _)| p != "version.json" && !p.starts_with(".sitevault"))
            .cloned()
            .collect()
    };
    let a = public(&tree1);
    let b = public(&tree(&t2.path().join("dist")));
    assert_eq!(a, b);
    // SOURCE_DATE_EPOCH pins version.json too.
    for d in [t.path(), t2.path()] {
        ok(sv(d)
            .env("SOURCE_DATE_EPOCH", "1764115200")
            .args(["build", "site", "-o", "dist", "-q"]));
    }
    assert_eq!(tree(&t.path().join("dist")), tree(&t2.path().join("dist")));
}

#[test]
fn a_changed_image_renames_what_references_it() {
    let t = example_site();
    build(t.path(), &[]);
    let before = manifest(&t.path().join("dist"));
    let mut logo = std::fs::read_to_string(t.path().join("site/img/logo.svg")).unwrap();
    logo = logo.replace("#6b4226", "#123456");
    std::fs::write(t.path().join("site/img/logo.svg"), logo).unwrap();
    // A change that survives minification (an added newline would not).
    let pattern = std::fs::read_to_string(t.path().join("site/img/pattern.svg")).unwrap();
    let pattern = pattern.replace("#e8dccb", "#e8dccc");
    std::fs::write(t.path().join("site/img/pattern.svg"), pattern).unwrap();
    build(t.path(), &[]);
    let after = manifest(&t.path().join("dist"));
    let changed = |p: &str, e: &str| out_name(&before, p, e) != out_name(&after, p, e);
    assert!(changed("/img/logo.", ".svg"));
    assert!(changed("/js/app.", ".js"), "app.js uses new URL(logo)");
    assert!(changed("/css/base.", ".css"), "base.css uses pattern.svg");
    assert!(changed("/css/site.", ".css"), "site.css @imports base.css");
    assert!(!changed("/js/lib/greet.", ".js"));
    assert!(!changed("/js/cycle/even.", ".js"));
    // index.html keeps its name but now points at the new stylesheet.
    let index = std::fs::read_to_string(t.path().join("dist/index.html")).unwrap();
    assert!(index.contains(&out_name(&after, "/css/site.", ".css")[5..]));
}

#[test]
fn names_with_spaces_and_parentheses_survive_unquoted_output() {
    let t = example_site();
    let site = t.path().join("site");
    std::fs::copy(site.join("img/hero.png"), site.join("img/my hero (1).png")).unwrap();
    std::fs::write(
        site.join("css/odd.css"),
        ".a { background: url(\"../img/my hero (1).png\") }\n",
    )
    .unwrap();
    std::fs::write(
        site.join("odd.html"),
        "<!doctype html><link rel=stylesheet href=\"css/odd.css\"><img src=\"img/my hero (1).png\" alt=\"\">",
    )
    .unwrap();
    let r = build(t.path(), &["--strict"]);
    assert!(r["warnings"].as_array().unwrap().is_empty(), "{r}");
    let m = manifest(&t.path().join("dist"));
    let img = out_name(&m, "/img/my hero (1).", ".png");
    let encoded = img
        .rsplit('/')
        .next()
        .unwrap()
        .replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29");
    let css = std::fs::read_to_string(
        t.path()
            .join("dist")
            .join(&out_name(&m, "/css/odd.", ".css")[1..]),
    )
    .unwrap();
    assert!(css.contains(&encoded), "{css}");
    assert!(!css.contains(' '), "{css}");
    let html = std::fs::read_to_string(t.path().join("dist/odd.html")).unwrap();
    assert!(html.contains(&encoded), "{html}");
}

#[test]
fn import_cycles_are_hashed_as_one_unit() {
    let t = example_site();
    build(t.path(), &[]);
    let m = manifest(&t.path().join("dist"));
    let even = out_name(&m, "/js/cycle/even.", ".js");
    let odd = out_name(&m, "/js/cycle/odd.", ".js");
    let even_src = std::fs::read_to_string(t.path().join("dist").join(&even[1..])).unwrap();
    let odd_src = std::fs::read_to_string(t.path().join("dist").join(&odd[1..])).unwrap();
    assert!(even_src.contains(odd.rsplit('/').next().unwrap()));
    assert!(odd_src.contains(even.rsplit('/').next().unwrap()));
    // A change in one member renames both.
    let p = t.path().join("site/js/cycle/odd.js");
    let s = std::fs::read_to_string(&p)
        .unwrap()
        .replace("return false;", "return 0 > 1;");
    std::fs::write(p, s).unwrap();
    build(t.path(), &[]);
    let m2 = manifest(&t.path().join("dist"));
    assert_ne!(even, out_name(&m2, "/js/cycle/even.", ".js"));
    assert_ne!(odd, out_name(&m2, "/js/cycle/odd.", ".js"));
}

#[test]
fn bare_specifiers_are_rewritten_and_the_import_map_stays_small() {
    let t = example_site();
    build(t.path(), &[]);
    let m = manifest(&t.path().join("dist"));
    let index = std::fs::read_to_string(t.path().join("dist/index.html")).unwrap();
    let greet = out_name(&m, "/js/lib/greet.", ".js");
    let utils = out_name(&m, "/js/lib/utils.", ".js");
    // Exact entries point at fingerprinted files; the prefix entry is not expanded,
    // since every module's bare specifiers were resolved at build time.
    assert!(index.contains(&format!("\"utils\":\"{utils}\"")), "{index}");
    assert!(index.contains("\"lib/\":\"/js/lib/\""), "{index}");
    assert!(!index.contains("\"lib/greet.js\""), "{index}");
    // map-demo.js imports through the map: its specifiers now name the files.
    let demo = out_name(&m, "/js/map-demo.", ".js");
    let demo_src = std::fs::read_to_string(t.path().join("dist").join(&demo[1..])).unwrap();
    let file = |p: &str| p.rsplit('/').next().unwrap().to_string();
    assert!(
        demo_src.contains(&format!("\"./lib/{}\"", file(&utils)))
            && demo_src.contains(&format!("\"./lib/{}\"", file(&greet))),
        "{demo_src}"
    );
}

/// A site whose pages' maps are given; `extra` is added to `js/main.js`.
fn import_map_site(maps: &[(&str, &str)], extra: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let site = t.path().join("site");
    std::fs::create_dir_all(site.join("vendor/addons/controls")).unwrap();
    std::fs::create_dir_all(site.join("js")).unwrap();
    std::fs::write(site.join("vendor/core.js"), "export const core = 'core';\n").unwrap();
    for i in 0..50 {
        std::fs::write(
            site.join(format!("vendor/addons/controls/c{i}.js")),
            format!("import {{ core }} from 'three';\nexport const c{i} = core + {i};\n"),
        )
        .unwrap();
    }
    std::fs::write(
        site.join("js/main.js"),
        format!("import {{ c7 }} from 'three/addons/controls/c7.js';\nconsole.log(c7);\n{extra}"),
    )
    .unwrap();
    for (page, map) in maps {
        let depth = page.matches('/').count();
        let up = "../".repeat(depth);
        std::fs::create_dir_all(site.join(page).parent().unwrap()).unwrap();
        std::fs::write(
            site.join(page),
            format!(
                "<!doctype html><title>t</title><script type=importmap>{map}</script>\
                 <script type=module>import {{ core }} from 'three'; console.log(core);</script>\
                 <script type=module src=\"{up}js/main.js\"></script>"
            ),
        )
        .unwrap();
    }
    t
}

const THREE_MAP: &str =
    r#"{"imports": {"three": "/vendor/core.js", "three/addons/": "/vendor/addons/"}}"#;

#[test]
fn inline_and_file_modules_share_one_resolution() {
    let t = import_map_site(
        &[("index.html", THREE_MAP), ("docs/page.html", THREE_MAP)],
        "",
    );
    build(t.path(), &[]);
    let m = manifest(&t.path().join("dist"));
    let dist = t.path().join("dist");
    let core = out_name(&m, "/vendor/core.", ".js");
    let core_file = core.rsplit('/').next().unwrap();
    let page = std::fs::read_to_string(dist.join("index.html")).unwrap();
    let sub = std::fs::read_to_string(dist.join("docs/page.html")).unwrap();
    // A page's inline module keeps its bare specifier: the page's own map resolves it
    // (a page may be served at another URL than its path, `docs/` for
    // `docs/index.html`, where a relative URL would point elsewhere). The map has its
    // two entries, fingerprinted, and no entry per file below the prefix.
    assert!(page.contains("from\"three\""), "{page}");
    assert!(
        page.contains(&format!("\"three\":\"/vendor/{core_file}\"")),
        "{page}"
    );
    assert!(
        sub.contains(&format!("\"three\":\"/vendor/{core_file}\"")),
        "{sub}"
    );
    assert!(!page.contains("c49"), "{page}");
    assert!(
        page.len() < 700,
        "the page grew to {} bytes: {page}",
        page.len()
    );
    let c7 = out_name(&m, "/vendor/addons/controls/c7.", ".js");
    let c7_src = std::fs::read_to_string(dist.join(&c7[1..])).unwrap();
    assert!(
        c7_src.contains(&format!("\"../../{core_file}\"")),
        "{c7_src}"
    );
    let main = out_name(&m, "/js/main.", ".js");
    let main_src = std::fs::read_to_string(dist.join(&main[1..])).unwrap();
    let c7_file = c7.rsplit('/').next().unwrap();
    assert!(
        main_src.contains(&format!("\"../vendor/addons/controls/{c7_file}\"")),
        "{main_src}"
    );
    // With every specifier a relative URL, the graph runs without any import map.
    if node_available() {
        let out = ok(Command::new("node")
            .arg("--experimental-default-type=module")
            .arg(dist.join(&main[1..])));
        assert_eq!(out.trim(), "core7");
    }
    // A page whose inline script imports below the prefix: the specifier becomes the
    // prefix entry's value and the rest, fingerprinted (the browser resolves both
    // against the page's base URL), and the map needs no entry for it.
    std::fs::write(
        t.path().join("site/addon.html"),
        format!(
            "<!doctype html><title>a</title><script type=importmap>{THREE_MAP}</script>\
             <script type=module>import {{ c3 }} from 'three/addons/controls/c3.js'; console.log(c3);</script>"
        ),
    )
    .unwrap();
    build(t.path(), &[]);
    let m = manifest(&t.path().join("dist"));
    let addon = std::fs::read_to_string(dist.join("addon.html")).unwrap();
    let c3 = out_name(&m, "/vendor/addons/controls/c3.", ".js");
    assert!(addon.contains(&format!("from\"{c3}\"")), "{addon}");
    assert!(!addon.contains("three/addons/controls"), "{addon}");
    assert!(!addon.contains("c7.js"), "{addon}");
    let page = std::fs::read_to_string(dist.join("index.html")).unwrap();
    assert!(!page.contains("c3.js"), "another page's specifier: {page}");
    // A change below the prefix renames what imports it, through the bare specifier.
    std::fs::write(
        t.path().join("site/vendor/core.js"),
        "export const core = 'changed';\n",
    )
    .unwrap();
    build(t.path(), &[]);
    let m2 = manifest(&t.path().join("dist"));
    assert_ne!(c7, out_name(&m2, "/vendor/addons/controls/c7.", ".js"));
}

#[test]
fn maps_that_disagree_or_computed_imports_keep_per_file_entries() {
    // Two pages map `three` to different files: no module is rewritten, and each
    // page's map names every specifier the site's code uses below its prefix.
    let other = r#"{"imports": {"three": "/js/main.js", "three/addons/": "/vendor/addons/"}}"#;
    let t = import_map_site(
        &[("index.html", THREE_MAP), ("b.html", other)],
        "export * from \"pkg(1)/x.js\";\n",
    );
    build(t.path(), &[]);
    let m = manifest(&t.path().join("dist"));
    let dist = t.path().join("dist");
    let page = std::fs::read_to_string(dist.join("index.html")).unwrap();
    assert!(
        page.contains("from\"three\"") || page.contains("from \"three\""),
        "{page}"
    );
    let c7 = out_name(&m, "/vendor/addons/controls/c7.", ".js");
    let c7_src = std::fs::read_to_string(dist.join(&c7[1..])).unwrap();
    assert!(c7_src.contains("\"three\""), "{c7_src}");
    // `three/addons/...` agrees everywhere: main.js's import is rewritten, so the
    // maps need no per-file entry.
    assert!(!page.contains("\"three/addons/controls/c7.js\""), "{page}");
    // A specifier no map knows is written back byte for byte.
    let main = out_name(&m, "/js/main.", ".js");
    let main_src = std::fs::read_to_string(dist.join(&main[1..])).unwrap();
    assert!(main_src.contains("\"pkg(1)/x.js\""), "{main_src}");

    // A map value with a query is another URL: modules importing it are not rewritten
    // to the file (that would load it twice).
    let queried =
        r#"{"imports": {"three": "/vendor/core.js?v=1", "three/addons/": "/vendor/addons/"}}"#;
    let t = import_map_site(&[("index.html", queried)], "");
    build(t.path(), &[]);
    let m = manifest(&t.path().join("dist"));
    let c7 = out_name(&m, "/vendor/addons/controls/c7.", ".js");
    let c7_src = std::fs::read_to_string(t.path().join("dist").join(&c7[1..])).unwrap();
    assert!(c7_src.contains("\"three\""), "{c7_src}");

    // A specifier the build cannot rewrite (a space in it) keeps its map entry.
    let t = import_map_site(
        &[("index.html", THREE_MAP)],
        "import('three/addons/controls/c1 2.js').catch(() => {});\n",
    );
    std::fs::write(
        t.path().join("site/vendor/addons/controls/c1 2.js"),
        "export const x = 1;\n",
    )
    .unwrap();
    build(t.path(), &[]);
    let page = std::fs::read_to_string(t.path().join("dist/index.html")).unwrap();
    assert!(page.contains("\"three/addons/controls/c1 2.js\""), "{page}");

    // A computed import() may load any file below the prefix: all are listed.
    let t = import_map_site(
        &[("index.html", THREE_MAP)],
        "const n = 3; import(`three/addons/controls/c${n}.js`);\n",
    );
    build(t.path(), &[]);
    let m = manifest(&t.path().join("dist"));
    let page = std::fs::read_to_string(t.path().join("dist/index.html")).unwrap();
    for i in [0, 3, 49] {
        let ci = out_name(&m, &format!("/vendor/addons/controls/c{i}."), ".js");
        assert!(
            page.contains(&format!(
                "\"three/addons/controls/c{i}.js\":\"/vendor/addons/controls/{}\"",
                ci.rsplit('/').next().unwrap()
            )),
            "{page}"
        );
    }
}

/// A prefix entry makes the files below it importable, not modules: a classic script
/// there (emscripten's glue, which a loader reads as text into a worker) keeps its
/// global names, where minified as a module it would lose them.
#[test]
fn a_classic_script_below_a_map_prefix_keeps_its_globals() {
    let t = import_map_site(&[("index.html", THREE_MAP)], "");
    let libs = t.path().join("site/vendor/addons/libs");
    std::fs::create_dir_all(&libs).unwrap();
    std::fs::write(
        libs.join("glue.js"),
        "var GlueModule = function (config) { var scale = config.scale; return scale * 2; };\n",
    )
    .unwrap();
    build(t.path(), &["--no-cache"]);
    let m = manifest(&t.path().join("dist"));
    let glue = out_name(&m, "/vendor/addons/libs/glue.", ".js");
    let out = std::fs::read_to_string(t.path().join("dist").join(&glue[1..])).unwrap();
    assert!(out.contains("GlueModule="), "{out}");
    // The modules below the prefix that are imported are still modules (their
    // top-level names mangled).
    let c7 = out_name(&m, "/vendor/addons/controls/c7.", ".js");
    let c7_src = std::fs::read_to_string(t.path().join("dist").join(&c7[1..])).unwrap();
    assert!(c7_src.starts_with("import"), "{c7_src}");
}

/// A one-line data file (Sphinx's search index) is minified; so is a one-line bundle
/// that kept its names (emscripten's glue), lightly: its local names are mangled, its
/// globals kept, and a bundle whose names are short already does not grow (over a
/// megabyte, it is copied).
#[test]
fn long_lines_alone_do_not_mean_minified() {
    let t = tempfile::tempdir().unwrap();
    let site = t.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let terms: Vec<String> = (0..3000)
        .map(|i| format!("\"term{i}\": [{i}, 7]"))
        .collect();
    let index = format!("Search.setIndex({{\"terms\": {{{}}}}})", terms.join(", "));
    std::fs::write(site.join("searchindex.js"), &index).unwrap();
    let bundle = "!function(e,t){var n=e.a||{};n.x=t?1:2,e.a=n}(window,!0);".repeat(300);
    std::fs::write(site.join("bundle.js"), &bundle).unwrap();
    // Over a megabyte with short names: not worth seconds of minifying, copied.
    let big = "!function(e,t){var n=e.a||{};n.x=t?1:2,e.a=n}(window,!0);".repeat(20_000);
    std::fs::write(site.join("big.js"), &big).unwrap();
    // Shaped like emscripten's output: white space gone, every name as written.
    let glue: String = (0..120)
        .map(|i| {
            format!(
                "var GlueModule{i}=function(moduleArg){{var readyPromiseResolve=moduleArg.a;\
                 var environmentIsWeb=typeof window==\"object\";\
                 return readyPromiseResolve+(environmentIsWeb?{i}:1)}};"
            )
        })
        .collect();
    std::fs::write(site.join("glue.js"), &glue).unwrap();
    build(t.path(), &["--no-cache"]);
    let m = manifest(&t.path().join("dist"));
    let size = |prefix: &str| m.files[&out_name(&m, prefix, ".js")].size as usize;
    assert!(
        size("/searchindex.") * 100 < index.len() * 80,
        "{} of {}",
        size("/searchindex."),
        index.len()
    );
    assert!(size("/bundle.") <= bundle.len());
    assert_eq!(size("/big."), big.len());
    let glue_out = out_name(&m, "/glue.", ".js");
    let out = std::fs::read_to_string(t.path().join("dist").join(&glue_out[1..])).unwrap();
    assert!(
        out.len() * 100 < glue.len() * 60,
        "{} of {}",
        out.len(),
        glue.len()
    );
    assert!(!out.contains("readyPromiseResolve"), "{out}");
    assert!(
        out.contains("GlueModule0=") && out.contains("GlueModule119="),
        "{out}"
    );
    if node_available() {
        let run = |js: &str| {
            ok(Command::new("node").arg("-e").arg(format!(
                "{js}\nconsole.log(GlueModule7({{a:2}}), GlueModule119({{a:1}}))"
            )))
        };
        assert_eq!(run(&out), run(&glue));
        assert_eq!(run(&out).trim(), "3 2");
    }
}

/// Minified JS that minifying again would make larger (raw control bytes in a string
/// are printed escaped), and asm.js in any form (a minifier drops its type annotations,
/// and the engine then runs it as plain JS, several times slower), are copied as written.
#[test]
fn minified_js_is_copied_when_minifying_would_grow_it_or_break_asm_js() {
    let t = tempfile::tempdir().unwrap();
    let site = t.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let raw: String = (1u8..0x20)
        .filter(|c| !matches!(c, b'\n' | b'\r'))
        .map(char::from)
        .collect::<String>()
        .repeat(40);
    let blob: String = (0..8)
        .map(|i| format!("function f{i}(e,ba){{F{i}=ba('{raw}')}}"))
        .collect();
    std::fs::write(site.join("blob.js"), &blob).unwrap();
    let asm = "function AsmModule(stdlib, foreign, heap) {\n  \"use asm\";\n  var f64 = new stdlib.Float64Array(heap);\n  function add(a, b) {\n    a = +a;\n    b = +b;\n    f64[0] = 0.0;\n    return +(a + b);\n  }\n  return { add: add };\n}\n";
    std::fs::write(site.join("asm.js"), asm).unwrap();
    build(t.path(), &["--no-cache"]);
    let m = manifest(&t.path().join("dist"));
    let read = |prefix: &str| {
        let name = out_name(&m, prefix, ".js");
        std::fs::read_to_string(t.path().join("dist").join(&name[1..])).unwrap()
    };
    assert_eq!(read("/blob."), blob);
    assert_eq!(read("/asm."), asm);
}

fn broken_case(name: &str) -> tempfile::TempDir {
    let t = example_site();
    // A previous good build must survive every failure.
    ok(sv(t.path()).args(["build", "site", "-o", "dist", "-q"]));
    let _ = name;
    t
}

fn assert_untouched(t: &Path, before: &[(String, Vec<u8>)]) {
    assert_eq!(
        tree(&t.join("dist")),
        before,
        "dist/ changed after a failed build"
    );
    let leftovers: Vec<_> = std::fs::read_dir(t)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("sitevault-tmp") || n.contains("sitevault-old"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn broken_inputs_fail_with_position_and_leave_dist_alone() {
    let fixtures = root().join("fixtures/broken");
    let cases: &[(&str, &str, &str)] = &[
        ("css-syntax", "css/broken.css", "css/broken.css:3:"),
        ("js-syntax", "js/broken.js", "js/broken.js:4:"),
        ("inline-script", "inline.html", "inline.html:6:"),
        ("non-utf8", "latin1.html", "latin1.html:3:"),
        ("non-utf8-style", "style.css", "style.css:2:"),
    ];
    for (case, file, expect) in cases {
        let t = broken_case(case);
        let before = tree(&t.path().join("dist"));
        let target = t.path().join("site").join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(fixtures.join(case).join(file), &target).unwrap();
        let (code, err) = fails(sv(t.path()).args(["build", "site", "-o", "dist"]));
        assert_eq!(code, 1, "{case}: {err}");
        assert!(err.contains(expect), "{case}: expected {expect:?} in {err}");
        assert!(!err.contains("panicked"), "{case}: {err}");
        assert_untouched(t.path(), &before);
        if !case.starts_with("non-utf8") {
            // --keep-going copies the file as written and warns.
            let out = ok(sv(t.path()).args(["build", "site", "-o", "dist", "--keep-going"]));
            let _ = out;
            let m = manifest(&t.path().join("dist"));
            assert!(m.files.len() > 10, "{case}");
        }
    }
}

#[cfg(unix)]
#[test]
fn symlinks_that_loop_or_leave_the_site_are_refused() {
    for (name, target) in [("loop", "."), ("escape", "/etc")] {
        let t = broken_case(name);
        let before = tree(&t.path().join("dist"));
        std::os::unix::fs::symlink(target, t.path().join("site").join(name)).unwrap();
        let (code, err) = fails(sv(t.path()).args(["build", "site", "-o", "dist"]));
        assert_eq!(code, 1);
        let want = if name == "loop" {
            "symlink loop"
        } else {
            "leaves the source folder"
        };
        assert!(err.contains(want), "{name}: {err}");
        assert_untouched(t.path(), &before);
    }
    // A link that stays inside is fine.
    let t = example_site();
    std::os::unix::fs::symlink("img/logo.svg", t.path().join("site/logo-link.svg")).unwrap();
    ok(sv(t.path()).args(["build", "site", "-o", "dist", "-q"]));
}

#[test]
fn broken_references_warn_and_strict_fails() {
    let t = example_site();
    std::fs::write(
        t.path().join("site/extra.html"),
        "<!doctype html><html><body>\n<img src=\"img/missing.png\">\n</body></html>",
    )
    .unwrap();
    let o = sv(t.path())
        .args(["build", "site", "-o", "dist"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("extra.html:2: broken reference \"img/missing.png\""),
        "{err}"
    );
    let before = tree(&t.path().join("dist"));
    let (code, err) = fails(sv(t.path()).args(["build", "site", "-o", "dist", "--strict"]));
    assert_eq!(code, 1);
    assert!(err.contains("img/missing.png"), "{err}");
    assert_untouched(t.path(), &before);
}

#[test]
fn output_and_source_must_not_nest() {
    let t = example_site();
    let (_, err) = fails(sv(t.path()).args(["build", "site", "-o", "site/dist"]));
    assert!(err.contains("inside the source folder"), "{err}");
    let (_, err) = fails(sv(t.path()).args(["build", "site", "-o", "."]));
    assert!(err.contains("inside the output folder"), "{err}");
    assert!(!t.path().join("site/dist").exists());
}

#[test]
fn hidden_files_and_excludes() {
    let t = example_site();
    std::fs::write(t.path().join("site/.env"), "SECRET=1").unwrap();
    std::fs::create_dir_all(t.path().join("site/drafts")).unwrap();
    std::fs::write(t.path().join("site/drafts/wip.html"), "<p>wip</p>").unwrap();
    std::fs::write(
        t.path().join("store.toml"),
        "[build]\nexclude = [\"drafts/**\"]\n",
    )
    .unwrap();
    ok(sv(t.path()).args(["build", "site", "-o", "dist", "-q"]));
    let m = manifest(&t.path().join("dist"));
    let keys: HashSet<_> = m.files.keys().cloned().collect();
    assert!(!keys
        .iter()
        .any(|k| k.contains(".env") || k.contains("drafts")));
    assert!(keys.contains("/.well-known/security.txt"));
}

#[test]
fn config_errors_name_the_key() {
    let t = example_site();
    std::fs::write(t.path().join("store.toml"), "[build]\nsource = \"site\"\n").unwrap();
    let (code, err) = fails(sv(t.path()).args(["build"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("store.toml:2:1") && err.contains("source"),
        "{err}"
    );
    let (_, err) = fails(sv(t.path()).args(["--config", "nope.toml", "build"]));
    assert!(err.contains("nope.toml does not exist"), "{err}");
}

/// A site with files that compress well, one too small to bother, and a site file
/// already named like a sidecar.
fn compressible_site() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let site = t.path().join("site");
    std::fs::create_dir_all(site.join("css")).unwrap();
    let para = "<p>Sidecars let nginx serve precompressed files as they are.</p>\n".repeat(50);
    std::fs::write(
        site.join("index.html"),
        format!("<!doctype html><link rel=stylesheet href=css/a.css><body>{para}"),
    )
    .unwrap();
    let css: String = (0..150)
        .map(|i| format!(".k{i} {{ padding: {}px {}px }}\n", i % 7, i % 11))
        .collect();
    std::fs::write(site.join("css/a.css"), &css).unwrap();
    std::fs::write(site.join("css/b.css"), css.replace("padding", "margin")).unwrap();
    // The site ships its own b.css.gz (kept_names so its name is predictable).
    std::fs::write(site.join("css/b.css.gz"), b"the site's own bytes").unwrap();
    std::fs::write(site.join("robots.txt"), "User-agent: *\n").unwrap();
    t
}

#[test]
fn precompressed_sidecars_match_the_manifest_and_decode_to_the_file() {
    let t = compressible_site();
    std::fs::write(
        t.path().join("store.toml"),
        "[build]\nkeep_names = [\"css/b.css\", \"css/b.css.gz\"]\n",
    )
    .unwrap();
    let r = build(t.path(), &[]);
    let dist = t.path().join("dist");
    let m = manifest(&dist);
    let mut seen = 0;
    for (p, e) in &m.files {
        let file = std::fs::read(dist.join(&p[1..])).unwrap();
        for (coding, v, suffix) in [("br", &e.enc.br, ".br"), ("gzip", &e.enc.gzip, ".gz")] {
            let Some(v) = v else { continue };
            let side = std::fs::read(dist.join(format!("{}{suffix}", &p[1..]))).unwrap();
            assert_eq!(
                blake3::hash(&side).to_hex().to_string(),
                v.hash,
                "{p}{suffix}"
            );
            assert_eq!(side.len() as u64, v.size);
            assert!(side.len() < file.len(), "{p}{suffix} saves nothing");
            assert_eq!(decode(coding, &side), file, "{p}{suffix}");
            seen += 1;
        }
    }
    assert_eq!(r["variants"].as_u64(), Some(seen));
    let a_css = out_name(&m, "/css/a.", ".css");
    for p in ["/index.html", a_css.as_str()] {
        assert!(
            m.files[p].enc.br.is_some() && m.files[p].enc.gzip.is_some(),
            "{p}"
        );
    }
    // Too small: no variants. The site's own b.css.gz stays the site's file, so
    // b.css gets no gzip sidecar (but still a brotli one).
    assert!(m.files[&out_name(&m, "/robots.", ".txt")].enc.is_empty());
    assert!(m.files["/css/b.css"].enc.gzip.is_none());
    assert!(m.files["/css/b.css"].enc.br.is_some());
    assert_eq!(
        std::fs::read(dist.join("css/b.css.gz")).unwrap(),
        b"the site's own bytes"
    );
    // The digest covers what is served; enc_digest covers the variants.
    assert_eq!(m.digest, sitevault::schema::digest(&m.files));
    assert_eq!(m.enc_digest, sitevault::schema::enc_digest(&m.files));
    assert!(m.enc_digest.is_some());
    // Schema 2 with variants (a sitevault from before them refuses the manifest).
    assert_eq!(m.schema, 2);
    // A rebuild with nothing changed writes nothing and keeps the sidecars.
    let again = build(t.path(), &[]);
    assert_eq!(again["variants"].as_u64(), Some(seen));

    // --no-compress, and `[build] compress = ["gzip"]`.
    build(t.path(), &["--no-compress"]);
    let m2 = manifest(&dist);
    assert!(m2.files.values().all(|e| e.enc.is_empty()));
    assert!(m2.enc_digest.is_none());
    assert_eq!(m2.schema, 1, "without variants, written as before");
    assert_eq!(
        m2.digest, m.digest,
        "variants change nothing a visitor is served"
    );
    assert!(!dist.join(format!("{}.br", &a_css[1..])).exists());
    std::fs::write(
        t.path().join("store.toml"),
        "[build]\ncompress = [\"gzip\"]\n",
    )
    .unwrap();
    build(t.path(), &[]);
    let m3 = manifest(&dist);
    assert!(m3.files.values().all(|e| e.enc.br.is_none()));
    assert!(m3.files["/index.html"].enc.gzip.is_some());
    std::fs::write(
        t.path().join("store.toml"),
        "[build]\ncompress = [\"zstd\"]\n",
    )
    .unwrap();
    let (_, err) = fails(sv(t.path()).args(["build", "site", "-o", "dist"]));
    assert!(
        err.contains("build.compress") && err.contains("zstd"),
        "{err}"
    );
}

#[test]
fn publish_stores_variants_and_refuses_a_tampered_sidecar() {
    let t = compressible_site();
    build(t.path(), &[]);
    let dist = t.path().join("dist");
    let m = manifest(&dist);
    // A sidecar changed after the build is refused, and nothing is published.
    let side = dist.join("index.html.br");
    let good = std::fs::read(&side).unwrap();
    std::fs::write(&side, b"not brotli").unwrap();
    let (_, err) = fails(sv(t.path()).args(["publish", "dist", "--version", "v1"]));
    assert!(err.contains("index.html.br"), "{err}");
    assert!(!t
        .path()
        .join(".sitevault/store/versions/v1/index.json")
        .exists());
    // An unlisted .br file is refused like any unlisted file.
    std::fs::write(&side, &good).unwrap();
    std::fs::write(dist.join("robots.txt.br"), b"x").unwrap();
    let (_, err) = fails(sv(t.path()).args(["publish", "dist", "--version", "v1"]));
    assert!(err.contains("robots.txt.br"), "{err}");
    std::fs::remove_file(dist.join("robots.txt.br")).unwrap();
    ok(sv(t.path()).args(["publish", "dist", "--version", "v1", "-q"]));
    let idx: serde_json::Value = serde_json::from_slice(
        &std::fs::read(t.path().join(".sitevault/store/versions/v1/index.json")).unwrap(),
    )
    .unwrap();
    let br = &m.files["/index.html"].enc.br.as_ref().unwrap().hash;
    assert_eq!(
        idx["files"]["/index.html"]["enc"]["br"]["hash"],
        br.as_str()
    );
    assert_eq!(idx["enc_digest"], m.enc_digest.as_deref().unwrap());
    assert_eq!(
        std::fs::read(
            t.path()
                .join(format!(".sitevault/store/blobs/{}/{br}", &br[..2]))
        )
        .unwrap(),
        good
    );
    // pull writes the sidecars back, verify checks them.
    ok(sv(t.path()).args(["verify", "v1"]));
    ok(sv(t.path()).args(["pull", "v1", "-o", "pulled", "-q"]));
    assert_eq!(
        std::fs::read(t.path().join("pulled/index.html.br")).unwrap(),
        good
    );
}
