//! References that do not resolve against their own file: a page's `<base href>`, and
//! names the build cannot rewrite, which keep working because the files they name keep
//! their source names (`src/build/originals.rs`).

use crate::common::*;

use std::path::Path;

use sitevault::schema::{BuildManifest, CacheClass};

fn site(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for (rel, bytes) in files {
        let p = t.path().join("site").join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    t
}

fn build(d: &Path, extra: &[&str]) -> (serde_json::Value, BuildManifest) {
    let out = ok(sv(d)
        .args(["build", "site", "-o", "dist", "--json"])
        .args(extra));
    let m =
        serde_json::from_slice(&std::fs::read(d.join("dist/.sitevault/manifest.json")).unwrap())
            .unwrap();
    (serde_json::from_str(&out).unwrap(), m)
}

/// The output names of source file `stem.ext`: fingerprinted or not.
fn names(m: &BuildManifest, stem: &str, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = m
        .files
        .keys()
        .filter(|k| k.starts_with(&format!("/{stem}.")) && k.ends_with(&format!(".{ext}")))
        .filter(|k| !k[stem.len() + 2..].trim_end_matches(ext).contains('/'))
        .cloned()
        .collect();
    v.sort();
    v
}

/// A file that keeps its source name: not fingerprinted (one URL for every reference,
/// rewritten or not), revalidated.
fn kept_source_name(_d: &Path, m: &BuildManifest, stem: &str, ext: &str) {
    let n = names(m, stem, ext);
    let plain = format!("/{stem}.{ext}");
    assert_eq!(n, std::slice::from_ref(&plain), "{stem}.{ext}");
    assert_eq!(m.files[&plain].cache, CacheClass::Revalidate);
}

fn only_fingerprinted(m: &BuildManifest, stem: &str, ext: &str) {
    let n = names(m, stem, ext);
    assert_eq!(n.len(), 1, "{stem}.{ext}: {n:?}");
    assert_ne!(n[0], format!("/{stem}.{ext}"));
}

/// `--keep-going` copies a script that does not parse as written: what it imports
/// stays loadable by the name it uses (before, only the fingerprinted name existed).
#[test]
fn files_named_by_code_copied_as_written_keep_their_names() {
    let t = site(&[
        (
            "broken.js",
            b"import b from './b.js';\nlet = ;\nfetch(\"data/c.json\");\n",
        ),
        ("b.js", b"export default 1;\n"),
        ("data/c.json", b"{\"a\": 1}"),
        ("unrelated.js", b"export const u = 2;\n"),
        (
            "latin1.html",
            b"<p>caf\xe9</p><script src=d.js></script><link rel=stylesheet href='s.css'>",
        ),
        ("d.js", b"console.log(1);\n"),
        ("s.css", b"p{color:red}\n"),
        ("page.html", b"<script>import('./e.js'); let = ;</script>"),
        ("e.js", b"export const e = 1;\n"),
        (
            "index.html",
            b"<script type=module src=unrelated.js></script>",
        ),
    ]);
    let d = t.path();
    // Without --keep-going the build fails, as before.
    let (code, _) = fails(sv(d).args(["build", "site", "-o", "dist"]));
    assert_eq!(code, 1);
    let (r, m) = build(d, &["--keep-going"]);
    let w = r["warnings"].to_string();
    assert!(w.contains("keep their source names"), "{w}");
    let broken = &names(&m, "broken", "js")[0];
    assert_eq!(
        std::fs::read(d.join("dist").join(&broken[1..])).unwrap(),
        std::fs::read(d.join("site/broken.js")).unwrap()
    );
    kept_source_name(d, &m, "b", "js");
    kept_source_name(d, &m, "data/c", "json");
    kept_source_name(d, &m, "d", "js");
    kept_source_name(d, &m, "s", "css");
    kept_source_name(d, &m, "e", "js");
    only_fingerprinted(&m, "unrelated", "js");
    // The kept names are published and verified like any other file.
    ok(sv(d).args(["publish", "dist", "--version", "v1", "-q"]));
    ok(sv(d).args(["verify", "v1", "-q"]));
}

/// `` import(`./locale/${lang}.js`) `` loads files below `./locale/` by their source
/// names; those keep them, and a static import of one of them uses that name too (two
/// URLs would be two module instances). Files outside the start are fingerprinted.
#[test]
fn a_computed_relative_import_keeps_the_names_below_its_start() {
    let t = site(&[
        (
            "app/main.js",
            b"import shared from './locale/shared.js';\n\
              export async function load(l) { return [shared, await import(`./locale/${l}.js`)]; }\n",
        ),
        ("app/locale/en.js", b"export default 'hello';\n"),
        ("app/locale/de.js", b"export default 'hallo';\n"),
        ("app/locale/shared.js", b"export default 's';\n"),
        (
            "app/unread.js",
            b"const go = (p) => import(`./pages/${p}.js`);\nlet = ;\n",
        ),
        ("app/pages/a.js", b"export default 'a';\n"),
        ("app/other.js", b"export default 3;\n"),
        (
            "index.html",
            b"<script type=module src=app/main.js></script>",
        ),
    ]);
    let d = t.path();
    let (_, m) = build(d, &["--keep-going"]);
    kept_source_name(d, &m, "app/locale/en", "js");
    kept_source_name(d, &m, "app/locale/shared", "js");
    // A computed import in code copied as written keeps its folder too.
    kept_source_name(d, &m, "app/pages/a", "js");
    let main = &names(&m, "app/main", "js")[0];
    let main = std::fs::read_to_string(d.join("dist").join(&main[1..])).unwrap();
    assert!(main.contains("./locale/shared.js"), "{main}");
    kept_source_name(d, &m, "app/locale/de", "js");
    only_fingerprinted(&m, "app/other", "js");
    only_fingerprinted(&m, "app/main", "js");
    ok(sv(d).args(["publish", "dist", "--version", "v1", "-q"]));
    ok(sv(d).args(["verify", "v1", "-q"]));
}

/// A page's relative references resolve against its `<base href>`, as in a browser
/// (before, against the page: the wrong file was renamed into it, or none).
#[test]
fn a_base_href_decides_what_relative_references_name() {
    let t = site(&[
        (
            "a/page.html",
            b"<base href=\"/docs/\"><link rel=stylesheet href=\"x.css\"><img src=\"../img/p.png\">\
              <script type=module>import {m} from './m.js'; m();</script>",
        ),
        ("a/x.css", b"p{color:blue}"),
        ("docs/x.css", b"p{color:red}"),
        ("docs/m.js", b"export function m() {}"),
        ("img/p.png", b"\x89PNG"),
        (
            "b/off.html",
            b"<base href=\"https://cdn.example/s/\"><img src=\"p.png\"><img src=\"/img/p.png\">",
        ),
        ("b/p.png", b"\x89PNG2"),
    ]);
    let d = t.path();
    let (r, m) = build(d, &[]);
    let page = std::fs::read_to_string(d.join("dist/a/page.html")).unwrap();
    let docs_css = &names(&m, "docs/x", "css")[0];
    let a_css = &names(&m, "a/x", "css")[0];
    let png = &names(&m, "img/p", "png")[0];
    let js = &names(&m, "docs/m", "js")[0];
    let last = |p: &str| p.rsplit('/').next().unwrap().to_string();
    assert!(page.contains(&last(docs_css)), "{page}");
    assert!(!page.contains(&last(a_css)), "{page}");
    assert!(page.contains(&format!("../img/{}", last(png))), "{page}");
    assert!(page.contains(&format!("./{}", last(js))), "{page}");
    let w = r["warnings"].to_string();
    assert!(!w.contains("broken reference"), "{w}");
    // A base off the site: the page's references are left as written, with a warning.
    let off = std::fs::read_to_string(d.join("dist/b/off.html")).unwrap();
    assert!(
        off.contains("src=p.png") && off.contains("src=/img/p.png"),
        "{off}"
    );
    assert!(
        w.contains("off.html") && w.contains("outside the site"),
        "{w}"
    );
}

/// From a hunt: a base ending in `..`, an import map under a base (browsers resolve its
/// entries against the base too), a base off the site with a map (left as written).
#[test]
fn a_base_href_also_governs_dot_dot_and_import_maps() {
    let t = site(&[
        ("a/b/up.html", b"<base href=\"..\"><link rel=stylesheet href=\"x.css\">"),
        ("a/x.css", b"p{color:red}"),
        ("a/b/x.css", b"p{color:blue}"),
        (
            "a/b/map.html",
            b"<base href=\"/docs/\"><script type=importmap>{\"imports\":{\"lib\":\"./lib.js\"}}</script>\
              <script type=module>import {w} from \"lib\"; w();</script>",
        ),
        ("docs/lib.js", b"export function w() {}"),
        ("a/b/lib.js", b"export function w() { return 1; }"),
        (
            "a/b/off.html",
            b"<base href=\"https://cdn.example/s/\"><script type=importmap>{\"imports\":{\"lib\":\"./lib.js\"}}</script>",
        ),
    ]);
    let d = t.path();
    let (_, m) = build(d, &[]);
    let last = |p: &str| p.rsplit('/').next().unwrap().to_string();
    let up = std::fs::read_to_string(d.join("dist/a/b/up.html")).unwrap();
    assert!(up.contains(&last(&names(&m, "a/x", "css")[0])), "{up}");
    let map = std::fs::read_to_string(d.join("dist/a/b/map.html")).unwrap();
    assert!(
        map.contains(&last(&names(&m, "docs/lib", "js")[0])),
        "{map}"
    );
    assert!(
        !map.contains(&last(&names(&m, "a/b/lib", "js")[0])),
        "{map}"
    );
    let off = std::fs::read_to_string(d.join("dist/a/b/off.html")).unwrap();
    assert!(off.contains("\"./lib.js\""), "{off}");
}

/// From a hunt: what a page copied as written (not UTF-8) names resolves against its
/// base; `` import(`.${p}.js`) `` keeps the files of its folder; a long word of
/// non-ASCII text in code copied as written is no name (it panicked, cut inside a
/// character); SVG text with `xml:space="preserve"` keeps its spaces.
#[test]
fn kept_names_follow_the_base_and_dot_starts() {
    let long = "é".repeat(600);
    let broken = format!("var x={long}\nfunction ( {{\n");
    let t = site(&[
        (
            "a/latin1.html",
            b"<base href=\"/docs/\"><p>caf\xe9</p><link rel=stylesheet href=\"s.css\">",
        ),
        ("docs/s.css", b"p{color:red}"),
        (
            "app/main.js",
            b"export const go = (p) => import(`.${p}.js`);\n",
        ),
        ("app/pages/about.js", b"export default 1;\n"),
        ("other/o.js", b"export default 2;\n"),
        ("broken.js", broken.as_bytes()),
        (
            "svg.html",
            b"<svg><text xml:space=\"preserve\">x     y</text></svg>",
        ),
    ]);
    let d = t.path();
    let (_, m) = build(d, &["--keep-going"]);
    kept_source_name(d, &m, "docs/s", "css");
    kept_source_name(d, &m, "app/pages/about", "js");
    only_fingerprinted(&m, "other/o", "js");
    let svg = std::fs::read_to_string(d.join("dist/svg.html")).unwrap();
    assert!(svg.contains("x     y"), "{svg}");
}

/// A top-level string constant whose name is declared again elsewhere (a named function
/// expression, a parameter) is not read as the constant by swc's reader, which has no
/// scopes; its `import(D)` then keeps the file it names under its source name, as swc's
/// compressor may write the constant's text there (review of session 37: the file was
/// fingerprinted away and the import pointed at nothing).
#[test]
fn an_import_of_a_constant_whose_name_is_declared_again_loads_its_file() {
    let t = site(&[
        ("index.html", b"<script src=m2.js></script>"),
        // A tagged template: the script is swc's.
        (
            "m2.js",
            b"var n = String.raw`0`;\nconst D = './a.js';\nconst f = function D() {};\nimport(D).then(m => console.log(f, m.default, n));\n",
        ),
        ("a.js", b"export default 1"),
    ]);
    build(t.path(), &[]);
    let dist = t.path().join("dist");
    let m2 = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("m2."))
        .unwrap();
    let code = std::fs::read_to_string(&m2).unwrap();
    let target = code
        .split("import(\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("{code}"));
    assert!(dist.join(target).is_file(), "{target} in {code}");
}

/// A reference with a tab or a line break in it names what a browser's URL parser
/// makes of it (it leaves them out): the file is fingerprinted and linked, and the
/// attribute, written unquoted, is not cut in two (#13 hunt).
#[test]
fn a_reference_with_a_line_break_names_the_file_a_browser_loads() {
    let t = site(&[
        (
            "index.html",
            b"<link rel=stylesheet href=\"s\n.css\"><img src=\"i\t.png\" alt=x><p>x",
        ),
        ("s.css", b"p { color: red }"),
        ("i.png", b"\x89PNG\r\n"),
    ]);
    let (report, m) = build(t.path(), &[]);
    assert_eq!(
        report["warnings"].as_array().map_or(0, |w| w.len()),
        0,
        "{report}"
    );
    let page = std::fs::read_to_string(t.path().join("dist/index.html")).unwrap();
    let css = names(&m, "s", "css");
    let png = names(&m, "i", "png");
    assert!(css.len() == 1 && css[0] != "/s.css", "{css:?}");
    assert!(png.len() == 1 && png[0] != "/i.png", "{png:?}");
    for name in [&css[0], &png[0]] {
        assert!(page.contains(&name[1..]), "{name} not in {page}");
    }
    assert!(!page.contains(['\n', '\t']), "{page:?}");
}
