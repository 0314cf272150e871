use super::*;
use crate::build::depth::Shape;
use crate::build::refs::RefKind;

#[test]
fn script_keeps_globals_module_mangles() {
    let src = "function helperFunction(longArgument){return longArgument*2}\nvar globalCounter = helperFunction(21);";
    let mut ph = Placeholders::for_content(src.as_bytes());
    let s = minify(src, "a.js", JsKind::Script, &mut ph).unwrap();
    assert!(
        s.contains("helperFunction") && s.contains("globalCounter"),
        "{s}"
    );
    let m = minify(
        "import {a} from './b.js'; export function longName(x){return a(x)}",
        "m.js",
        JsKind::Module,
        &mut ph,
    )
    .unwrap();
    assert!(m.contains(ph.prefix()), "{m}");
}

fn auto(src: &str) -> (String, JsKind) {
    let mut ph = Placeholders::for_content(src.as_bytes());
    minify_auto(src, "a.js", &mut ph).unwrap()
}

/// `src` minified by oxc as `kind`, if oxc takes it.
fn by_oxc(src: &str, kind: JsKind) -> Option<String> {
    let mut ph = Placeholders::for_content(src.as_bytes());
    oxc::minify(src, Some(kind), Effort::Full, &mut ph, Shape::default()).map(|(code, _)| code)
}

/// Why oxc must not minify `src` as `kind`, if it must not.
fn risk_of(src: &str, kind: JsKind) -> Option<&'static str> {
    let alloc = oxc_allocator::Allocator::default();
    let source_type = match kind {
        JsKind::Module => oxc_span::SourceType::mjs(),
        JsKind::Script => oxc_span::SourceType::script(),
    };
    let mut program = oxc_parser::Parser::new(&alloc, src, source_type).parse();
    assert!(program.diagnostics.is_empty(), "{src}");
    let scoping = oxc_semantic::SemanticBuilder::new()
        .build(&program.program)
        .semantic
        .into_scoping();
    let risk = risk::Risk::new(&scoping);
    let mut ph = Placeholders::for_content(src.as_bytes());
    let mut refs = oxc_read::Refs::new(src, &alloc, &mut ph, risk);
    oxc_ast_visit::VisitMut::visit_program(&mut refs, &mut program.program);
    refs.risk.finish().err()
}

/// oxc's read of a file (references, the kind it is, licence comments, a script's global
/// names) is swc's, which `scan` and swc's minifier use: the same placeholders, lines,
/// computed imports and kind for every construct `js_refs.rs` knows.
#[test]
fn oxc_reads_what_swc_reads() {
    let sources = [
        "import a from './a.js';\nimport {b} from \"./b.js?v=1#x\";\nexport * from './c.js';\nexport {d} from 'pkg/d';\nexport const e = 1;",
        "import('./lazy.js'); import(`./t.js`); import('./' + 'c.js'); const B = './b.js'; import(B); import(`./d/${x}.js`); import(name); export {};",
        "export default function () { return new URL('./img.png', import.meta.url) }",
        "new Worker('./w.js'); new Worker('./m.js', {type: 'module'}); new SharedWorker(\"./s.js\", {'type': \"module\"});\r\nimportScripts('./i1.js', './i2.js');",
        "f(import.meta.resolve('lib/x.js')); const u = import.meta.url;",
        "/*! keep me */\n// @license MIT\n/* @preserve also */\nvar a = 1; if (x) { var b = 2; function c() { var inner; } } for (var i in o) {} var {p, q: [r = 1]} = o;",
        "//! line licence\r\nfunction g() { return './not-a-ref.js' } g();\r\n\r\nimport('./late.js')",
        "let x = 1;\nexport { x as y };",
        "<!--! opened like HTML\nvar z = 1;\n-->! closed like HTML\nf(z);",
        "const C = 'https://cdn.example/';\nimport(C + 'm.js'); import('/abs.js'); import('http://x/y.js'); export {};",
    ];
    for src in sources {
        let mut by_oxc = Placeholders::for_content(src.as_bytes());
        let (oxc_code, oxc_kind) =
            oxc::minify(src, None, Effort::Full, &mut by_oxc, Shape::default()).expect(src);
        let mut by_swc = Placeholders::for_content(src.as_bytes());
        let (swc_code, swc_kind) =
            minify_with_swc(src, "a.js", None, Effort::Full, &mut by_swc).unwrap();
        // Everything but the index by path (a hash map, in no fixed order).
        let seen = |ph: &Placeholders| {
            let all = format!("{ph:?}");
            let (head, rest) = all.split_once("numbers: {").unwrap();
            format!("{head}{}", rest.split_once('}').unwrap().1)
        };
        assert_eq!(seen(&by_oxc), seen(&by_swc), "{src}");
        assert_eq!(oxc_kind, swc_kind, "{src}");
        // The same licences; oxc keeps them in source order, swc in the order of the
        // tokens they attach to, then by text.
        let licences = |code: &str| {
            let mut all: Vec<String> = code
                .lines()
                .take_while(|l| l.starts_with("/*"))
                .map(str::to_string)
                .collect();
            all.sort();
            all
        };
        assert_eq!(licences(&oxc_code), licences(&swc_code), "{src}");
    }
    // Each licence once, in source order, and after a `#!` line (before it, it would be a
    // syntax error).
    let (code, _) = auto("#!/usr/bin/env node\n/*! A */\n/*! B */\nf();\n/*! A */\n/*! B */\ng()");
    assert!(
        code.starts_with("#!/usr/bin/env node\n/*! A */\n/*! B */\nf"),
        "{code}"
    );
    assert_eq!(code.matches("/*! A */").count(), 1, "{code}");
    // A classic script's global names, as swc's mangler is given them.
    let script = "var a, {b, c: [d = e]} = o; function f() { var local } if (x) { var g; function h() {} class K {} } for (var i of []) {} let l; const m = 1; class N {} (function named() { var n })";
    let from_swc = GLOBALS.set(&Globals::new(), || {
        let cm: Lrc<SourceMap> = Default::default();
        let fm = cm.new_source_file(Lrc::new(FileName::Anon), script.to_string());
        let (p, _) = parse_any(&cm, &fm, None, Some(JsKind::Script)).unwrap();
        globals::declared_globals(&p)
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
    });
    let alloc = oxc_allocator::Allocator::default();
    let ret = oxc_parser::Parser::new(&alloc, script, oxc_span::SourceType::script()).parse();
    assert_eq!(oxc_read::declared_globals(&ret.program), from_swc);
}

fn module_as_script(src: &str) -> bool {
    GLOBALS.set(&Globals::new(), || {
        let cm: Lrc<SourceMap> = Default::default();
        let fm = cm.new_source_file(Lrc::new(FileName::Anon), src.to_string());
        let (mut p, kind) = parse_any(&cm, &fm, None, None).unwrap();
        assert_eq!(kind, JsKind::Module, "{src}");
        as_script(&mut p).is_some()
    })
}

#[test]
fn a_script_is_parsed_once_unless_the_goals_read_it_differently() {
    assert!(module_as_script("var a = {b: [1, 2]}; f(a);"));
    assert!(module_as_script(
        "async function f() { await g(); for await (x of y); }"
    ));
    assert!(!module_as_script("await g();"));
    assert!(!module_as_script("for await (const x of y) f(x);"));
    assert!(!module_as_script("class A extends (await base()) {}"));
    assert!(!module_as_script("x = {[await k()]: 1};"));
    assert!(module_as_script("while (i-->0) f(\"<!--\");"));
    // The script goal reads `<!--` as a comment (swc refuses it in a module): `z` is gone.
    let (out, kind) = auto("x = y <!-- z\nw()");
    assert_eq!(kind, JsKind::Script);
    assert!(!out.contains('z') && out.contains("w()"), "{out}");
    // Sloppy semantics: a function declared in a block is visible after it.
    let (out, kind) = auto("if (a) { function keepMe() { return 1 } }\nwindow.r = keepMe();");
    assert_eq!(kind, JsKind::Script);
    assert!(out.contains("keepMe"), "{out}");
    // Top-level await stays a module parse, with the top level names kept.
    let (out, kind) = auto("var topName = await load();");
    assert_eq!(kind, JsKind::Script);
    assert!(out.contains("await") && out.contains("topName"), "{out}");
}

#[test]
fn keeps_licence() {
    let src = "/*! keep me */\n// drop me\nvar a = 1;";
    let mut ph = Placeholders::for_content(src.as_bytes());
    let s = minify(src, "a.js", JsKind::Script, &mut ph).unwrap();
    assert!(s.starts_with("/*! keep me */"), "{s}");
    assert!(!s.contains("drop me"));
}

#[test]
fn data_is_printed_minified_with_identifier_keys_unquoted() {
    let src = "Search.setIndex({\"docnames\": [\"a\", \"b\"], \"x-y\": 1, \"__proto__\": null, \"9a\": 2, \"3\": 3, \"03\": 4});";
    let mut ph = Placeholders::for_content(src.as_bytes());
    let out = minify(src, "s.js", JsKind::Script, &mut ph).unwrap();
    assert_eq!(
        out,
        "Search.setIndex({docnames:[\"a\",\"b\"],\"x-y\":1,__proto__:null,\"9a\":2,3:3,\"03\":4})"
    );
    // Code still goes through the compressor.
    let out = minify(
        "var f = function () { return 1 + 2; };",
        "f.js",
        JsKind::Script,
        &mut ph,
    )
    .unwrap();
    assert!(out.contains('3'), "{out}");
}

#[test]
fn computed_imports_are_known_by_how_they_start() {
    let src = "const CDN = 'https://cdn.example/x.js'; const LIB = 'lib/';\n\
               import(`${CDN}`); import(LIB + name); import(`three/addons/${n}.js`);\n\
               import('./' + n); import(name);";
    let mut ph = Placeholders::for_content(src.as_bytes());
    minify(src, "m.js", JsKind::Module, &mut ph).unwrap();
    assert_eq!(ph.computed_imports(), ["lib/", "three/addons/", ""]);
}

/// What oxc registered minifying `src` as a module.
fn oxc_module(src: &str) -> Placeholders {
    let mut ph = Placeholders::for_content(src.as_bytes());
    oxc::minify(
        src,
        Some(JsKind::Module),
        Effort::Full,
        &mut ph,
        Shape::default(),
    )
    .unwrap();
    ph
}

/// A parameter, a block's `const` or a catch binding named like a top-level string
/// constant is another name: `import(D)` there is computed, by both readers.
#[test]
fn a_shadowed_constant_is_not_the_constant() {
    let src = "const D = './mod.js';\n\
               function load(D) { return import(D) }\n\
               { const D = 'x'; import(D) }\n\
               try {} catch (D) { import(D) }\n\
               import(D); export { load };";
    let by_oxc = oxc_module(src);
    let mut by_swc = Placeholders::for_content(src.as_bytes());
    minify_with_swc(src, "m.js", Some(JsKind::Module), Effort::Full, &mut by_swc).unwrap();
    // swc's tree holds no scopes when it is read: a name declared twice is only known to
    // start with the constant's value, which keeps the files it may name as written.
    assert!(by_swc.is_empty(), "{by_swc:?}");
    assert_eq!(by_swc.take_kept().len(), 1, "{by_swc:?}");
    assert_eq!(by_oxc.computed_imports(), [""]);
    let refs: Vec<_> = by_oxc
        .into_refs()
        .into_iter()
        .map(|r| (r.path, r.line))
        .collect();
    assert_eq!(refs, [("./mod.js".to_string(), 5)]);
    // A direct `eval` may declare the name anywhere: the constant is only a start there.
    let src = "const D = './mod.js';\nfunction g() { eval(s); return import(D) }\nexport { g };";
    let mut by_oxc = oxc_module(src);
    assert!(by_oxc.is_empty(), "{by_oxc:?}");
    assert_eq!(by_oxc.take_kept().len(), 1, "{by_oxc:?}");
}

#[test]
fn the_last_semicolon_goes_and_the_output_still_parses() {
    let mut ph = Placeholders::for_content(b"x");
    let out = minify("console.log(1);", "a.js", JsKind::Script, &mut ph).unwrap();
    assert_eq!(out, "console.log(1)");
    for src in [
        "while (g()) ;",
        "for (;;) ;",
        "if (a) ; else ;",
        "l: ;",
        "do ; while (g())",
        "var x = {a: 1};",
        "x = 1;;",
    ] {
        for kind in [JsKind::Script, JsKind::Module] {
            let out = minify(src, "a.js", kind, &mut ph).unwrap();
            assert!(scan(&out, "a.js").is_ok(), "{src:?} -> {out:?}");
        }
    }
}

#[test]
fn error_position() {
    let e = scan("var a = 1;\nvar b = ;\n", "x.js").unwrap_err();
    assert_eq!(e.line, 2, "{e:?}");
}

#[test]
fn finds_refs() {
    let src = r#"import a from "./a.js"; export * from "../b.js"; import("./c.js");
new Worker("w.js", {type: "module"}); new URL("./img.png", import.meta.url); importScripts("x.js");
import "lodash"; fetch("/api"); import(name);"#;
    let s = scan(src, "m.js").unwrap();
    assert!(s.esm_syntax);
    let paths: Vec<_> = s.refs.iter().map(|r| (r.path.as_str(), r.kind)).collect();
    assert_eq!(
        paths,
        vec![
            ("./a.js", RefKind::Import),
            ("../b.js", RefKind::Import),
            ("./c.js", RefKind::Import),
            ("w.js", RefKind::ModuleScript),
            ("./img.png", RefKind::Url),
            ("x.js", RefKind::ClassicScript),
            ("lodash", RefKind::Bare)
        ]
    );
}

#[test]
fn consecutive_exported_declarations_are_joined() {
    let src = "export const a = f(1);\nexport const b = a + 1;\nexport let c = 2;\nexport let d = 3;\nconst e = 4;\nexport const g = e;\nexport function h() { return b; }\nexport const i = h;\n";
    let mut ph = Placeholders::for_content(src.as_bytes());
    let out = minify(src, "m.js", JsKind::Module, &mut ph).unwrap();
    // `a, b` | `c, d` | `g` (another kind than `d`) | `i` (after a function).
    assert_eq!(
        out.matches("export const").count() + out.matches("export let").count(),
        4,
        "{out}"
    );
    assert!(out.contains("export const a=f(1),b=a+1"), "{out}");
    assert!(out.contains("export let c=2,d=3"), "{out}");
}

/// A `var` or function declared in a block of a classic script is a global: the
/// mangler must not rename it (other scripts of the page use it), in either effort.
#[test]
fn globals_declared_in_blocks_keep_their_names() {
    let src = "if (typeof setTimeout == \"function\") { var GlueLib = { answer: 42 }; setTimeout(function () {}, 0); }\n\
               try { var TryGlobal = 1; noop(); } catch (err) { var CatchGlobal = err; }\n\
               label: { function BlockFn() { return GlueLib; } BlockFn(); }\n\
               for (var LoopGlobal in {}) {}\n\
               function outer() { var localName = 1; return localName + 1; }\n";
    for effort in [Effort::Full, Effort::Light] {
        let mut ph = Placeholders::for_content(src.as_bytes());
        let (out, _) = minify_as(src, "g.js", Some(JsKind::Script), effort, &mut ph).unwrap();
        for name in [
            "GlueLib",
            "TryGlobal",
            "CatchGlobal",
            "BlockFn",
            "LoopGlobal",
            "outer",
        ] {
            assert!(out.contains(name), "{effort:?} lost {name}: {out}");
        }
        assert!(!out.contains("localName"), "{out}");
    }
}

/// oxc minifies what it reads and prints as sitevault needs; the rest goes to swc.
#[test]
fn oxc_minifies_and_leaves_to_swc_what_it_cannot_print() {
    let src = "var long_name = 1;\nfunction f(argument) { return argument + long_name; }";
    let code = by_oxc(src, JsKind::Script).unwrap();
    assert!(
        code.contains("long_name") && code.contains("function f(") && !code.contains("argument"),
        "{code}"
    );
    // `<!--` would open an HTML comment in an inline script: oxc prints it, swc escapes it.
    assert_eq!(by_oxc("f('a<!--b')", JsKind::Script), None);
    let (out, _) = auto("f('a<!--b'); g('c-->d')");
    assert!(!out.contains("<!--"), "{out}");
    // `-->` mid-line is neither a comment in a script nor the end of anything in a page.
    let code = by_oxc("for (var i = 9; i-- > 0;) f(i)", JsKind::Script).unwrap();
    assert!(code.contains("i-->0"), "{code}");
    assert!(by_oxc("x = `\n-->`", JsKind::Script).is_none());
    // Early errors oxc's parser leaves to its semantic checker are swc's to report.
    assert_eq!(by_oxc("a: a: f()", JsKind::Script), None);
    let mut ph = Placeholders::for_content(b"a: a: f()");
    let err = minify_auto("a: a: f()", "a.js", &mut ph).unwrap_err();
    assert!(err.msg.contains("abel"), "{}", err.msg);
    // A top-level `await` in a script is left to swc, which keeps the top-level names.
    assert_eq!(by_oxc("await f()", JsKind::Script), None);
}

/// Shapes on which oxc's compressor goes superlinear (long chains, nested conditionals,
/// long `else if` chains) are measured by the depth scan and minified by swc.
#[test]
fn shapes_oxc_is_slow_on_are_left_to_swc() {
    use crate::build::depth::{self, shape};
    let conditional = format!("x = {}0;", "a?b:".repeat(40));
    let chain = format!("x = {}a;", "a&&".repeat(600));
    let else_if = format!(
        "if (x) y();{}",
        (0..600)
            .map(|i| format!(" else if (x === {i}) y({i});"))
            .collect::<String>()
    );
    for long in [&conditional, &chain, &else_if] {
        let s = shape(long, depth::JS_LIMIT, true).unwrap();
        assert!(!oxc::suits(s), "{s:?}");
    }
    let s = shape(&else_if, depth::JS_LIMIT, true).unwrap();
    assert_eq!(s.longest_else_if, 600);
    let s = shape(&conditional, depth::JS_LIMIT, true).unwrap();
    assert_eq!(s.longest_conditional, 40);
    // Short ones are oxc's; `?.` and `??` are not conditionals, and chains of separate
    // statements do not add up.
    let short =
        "x = a?b:c?d:e; y = a?.b ?? c;\nif (a) b(); else if (c) d(); else e();\n".repeat(500);
    let s = shape(&short, depth::JS_LIMIT, true).unwrap();
    assert_eq!((s.longest_conditional, s.longest_else_if), (2, 1), "{s:?}");
    assert!(oxc::suits(s));
    // What swc writes for them still works.
    let (out, _) = auto(&else_if);
    assert!(out.contains("599"), "{}", &out[..100]);
}

/// The pre-scan's count of names only sizes oxc's tables: the output is the same with
/// it, without it, and with a count far too small.
#[test]
fn the_count_of_names_changes_no_output() {
    let src = "let a = 1; function f(b) { for (const c of b) a += c; return () => a } f([1, 2]);";
    let shape = crate::build::depth::shape(src, crate::build::depth::JS_LIMIT, true).unwrap();
    assert!(shape.words >= 10, "{shape:?}");
    let out = |shape: Shape| {
        let mut ph = Placeholders::for_content(src.as_bytes());
        oxc::minify(src, None, Effort::Full, &mut ph, shape).unwrap()
    };
    let counted = out(shape);
    assert_eq!(counted, out(Shape::default()));
    assert_eq!(counted, out(Shape { words: 1, ..shape }));
}

mod folds;
