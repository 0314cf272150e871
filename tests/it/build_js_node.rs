//! Minified JS does what its source does, in node: the programs on which a review
//! (session 40) found the minifiers wrong, each run before and after `sitevault build`.
//! swc's (a file with a tagged template is swc's, `js/risk.rs`) and oxc's; and two
//! classic scripts of one page, the second assigning the first's top-level `let`s.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;

/// The programs (file name, source). ``var swc = String.raw`swc` `` sends a file to swc;
/// a line of 4 KB and more that looks minified takes the light passes.
fn programs() -> Vec<(&'static str, String)> {
    let pad = format!("var __pad=[{}];", vec!["1"; 2100].join(","));
    vec![
        // swc merged a global's assignment into the compound assignment after it: the
        // function read the old value (printed 7).
        (
            "merge.js",
            "var swc = String.raw`swc`;\nvar count = 0;\nfunction countItems() { return count + 2 }\n\
             function run() { count = 5; count += countItems(); return count }\nconsole.log(run());"
                .into(),
        ),
        // swc dropped the fall-through from `default` into the case after it.
        (
            "fallthrough.js",
            "var swc = String.raw`swc`;\n(function(){ const MODE='prod'; switch (MODE) { case 'dev': console.log('dev'); break;\n\
             default: console.log('base'); case 'test': console.log('common'); } })();"
                .into(),
        ),
        // swc's light passes made a `switch` a block and kept its `break`: a syntax error
        // outside a loop, the loop ended inside one.
        (
            "light_loop.js",
            format!(
                "var swc=String.raw`swc`;function f(x){{for(var i=0;i<3;i++){{switch(x){{case 1:default:console.log(\"one\",i);break}}}}}}f(1);{pad}"
            ),
        ),
        (
            "light_break.js",
            format!(
                "var swc=String.raw`swc`;var x=1;function f(){{switch(x){{default:case\"b\":console.log(x);break}}}}f();console.log(\" 1 \");{pad}"
            ),
        ),
        // swc made a string statement the function's directive once the statement before
        // it was dropped (the function became strict: `this` undefined).
        (
            "directive.js",
            "var swc=String.raw`swc`; function h(){ var unused; 'use strict'; return typeof this } console.log(h());\n\
             function k(){ if (true) { 'use strict'; } return typeof this } console.log(k());"
                .into(),
        ),
        // oxc's compressor folded these wrong through whatever route it came to know the
        // values (session 41's third review; vendor/oxc_ecmascript/PATCHES.md).
        (
            "folds.js",
            "var out = []; function f(x) { out.push(JSON.stringify(x)) }\n\
             f([Number('12' + ' '), isNaN('12' + '\\n'), ('12' + ' ') * 1, Number(`${12} `)]);\n\
             function a() { const s = 'abc'; return s[`slice`](0, undefined) } f(a());\n\
             function b() { const s = true ? 'abc' : []; return s.slice(0, undefined) } f(b());\n\
             function c() { const s = [1, 2] + ''; return s.indexOf('', 10) } f(c());\n\
             f(([1, 2] + '').slice(0, undefined)); f(decodeURIComponent(['%C3%A9x'] + '').indexOf('x'));\n\
             f(String.fromCharCode(...[233, 120]).indexOf('x'));\n\
             function r() { const x = 0.49999999999999994; return Math.round(x) } f(r());\n\
             f([Math.round(-0.5), Math.round(2.5), Math.round(-2.5)]);\n\
             function p() { return parseFloat(0 || '1' + '_' + '0') } f(p()); console.log(out.join(' '));"
                .into(),
        ),
        // swc dropped the parentheses of a string statement, which made the `'use strict'`
        // after it a directive (session 41's review).
        (
            "paren_directive.js",
            "('abc');\n'use strict';\nvar swc = String.raw`swc`;\n\
             console.log((function () { return this === undefined })());"
                .into(),
        ),
        // oxc takes decodeURIComponent for pure and dropped an unused call with the
        // URIError it throws: the check always said true.
        (
            "decode.js",
            "function isValid(s){ try { decodeURIComponent(s); return true } catch (e) { return false } }\n\
             function isValid2(s){ try { var d = decodeURI(s) } catch (e) { return false } return true }\n\
             console.log(isValid('%'), isValid('%41'), isValid2('%'), isValid2('%41'));"
                .into(),
        ),
        // oxc's compressor folded these string methods with UTF-8 offsets or misread
        // their arguments; the names are now unknown to it and the calls run as written.
        (
            "names.js",
            "var out = []; function f(x) { out.push(JSON.stringify(x)) }\n\
             let n; f('abc'.slice(0, n)); const n2 = void 0; f('abc'.substring(1, n2));\n\
             const p = Math.max(5, 10); f('abc'.indexOf('', p)); var s = 'abcabc'; f(s.slice(0, undefined));\n\
             function h() { var s = 'abc', n; return s.lastIndexOf('b', n) } f(h());\n\
             function h2() { var a = 'abc' + '', b = a; return b.slice(0, void 0) } f(h2());\n\
             const e = 'a\u{1F600}b'; f(e.indexOf('b')); f(e.length); f(e.slice(1, 3)); f(e[1]);\n\
             var q = 'xundefined', r; f(q.indexOf(r)); const big = 'abcabc', pos = '10';\n\
             f(big.indexOf('', pos)); f(big.lastIndexOf('b', 'x')); console.log(out.join(' '));"
                .into(),
        ),
    ]
}

/// The built file of `stem.js` in `dist` (its name fingerprinted).
fn built(dist: &Path, stem: &str) -> std::path::PathBuf {
    std::fs::read_dir(dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with(&format!("{stem}.")) && n.ends_with(".js")
        })
        .unwrap_or_else(|| panic!("no output for {stem}.js"))
}

fn node(path: &Path) -> String {
    let o = Command::new("node").arg(path).output().unwrap();
    // An error's message and name, without the stack's file names.
    let err = String::from_utf8_lossy(&o.stderr)
        .lines()
        .find(|l| l.contains("Error"))
        .unwrap_or("")
        .to_string();
    format!("{}{err}", String::from_utf8_lossy(&o.stdout))
}

#[test]
fn minified_js_behaves_like_its_source_in_node() {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("skipped: node is not installed");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let site = t.path().join("site");
    std::fs::create_dir(&site).unwrap();
    for (name, src) in programs() {
        std::fs::write(site.join(name), src).unwrap();
    }
    ok(sv(t.path()).args(["build", "site", "-o", "dist", "--no-cache", "-q"]));
    let dist = t.path().join("dist");
    let mut wrong = Vec::new();
    for (name, _) in programs() {
        let out = built(&dist, name.trim_end_matches(".js"));
        let want = node(&site.join(name));
        assert!(!want.contains("Error"), "{name}: {want}");
        let got = node(&out);
        if got != want {
            wrong.push(format!("{name}: {want:?} became {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A classic script's top-level `let`s are the page's: a later script may assign them,
/// so the functions that read them must read them, not the value they were declared
/// with, even where the file never assigns them or only in code the compressor drops
/// (oxc inlined them: `flag` read as always false). Both scripts run in one node
/// context, as in one page.
#[test]
fn a_scripts_top_level_lets_stay_assignable_by_the_pages_other_scripts() {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("skipped: node is not installed");
        return;
    }
    let lets = "let flag = false, count = 0, label = 'x', unset;\n\
                let { depth } = { depth: 1 };\n\
                let handler = function () { return 'first' };\n\
                if (false) { flag = true; }\n\
                function state() { return [flag ? 'on' : 'off', count + 1, label.length, \
                typeof unset, depth, handler()].join(' ') }";
    let uses = "console.log(state());\n\
                flag = true; count = 5; label = 'hello'; unset = 1; depth = 2;\n\
                handler = function () { return 'second' };\n\
                console.log(state());";
    let t = tempfile::tempdir().unwrap();
    let site = t.path().join("site");
    std::fs::create_dir(&site).unwrap();
    std::fs::write(site.join("lets.js"), lets).unwrap();
    std::fs::write(site.join("uses.js"), uses).unwrap();
    ok(sv(t.path()).args(["build", "site", "-o", "dist", "--no-cache", "-q"]));
    let output = |stem: &str| std::fs::read_to_string(built(&t.path().join("dist"), stem)).unwrap();
    let page = |a: &str, b: &str, name: &str| {
        let p = t.path().join(name);
        std::fs::write(&p, format!("{a}\n{b}\n")).unwrap();
        node(&p)
    };
    let want = page(lets, uses, "source.js");
    assert_eq!(want, "off 1 1 undefined 1 first\non 6 5 number 2 second\n");
    let got = page(&output("lets"), &output("uses"), "built.js");
    assert_eq!(got, want, "{}", output("lets"));
}
