use super::minify;

#[test]
fn data_scripts_are_minified() {
    let cases = [
        (
            "Search.setIndex({\"docnames\": [\"a\", \"b\"], \"0\": 1.50, 'x-y': [0.0, 1000, -2e+3]})",
            "Search.setIndex({docnames:[\"a\",\"b\"],0:1.5,'x-y':[0,1e3,-2e3]})",
        ),
        (
            "var searchData=\n[\n  ['a',['b',['../x.html#y',1,'']]],\n];\n",
            "var searchData=[['a',['b',['../x.html#y',1,'']]]]",
        ),
        ("window.a = window.b = {k: [1,,2,,]} // note\n/* x */ c = 2\n", "window.a=window.b={k:[1,,2,,]};c=2"),
        ("const A = 1, B = 'x'\nlet C = [A, B]\n;;", "const A=1,B='x';let C=[A,B]"),
        (
            r#"x = ["a\"b\"", 'it\'s', "a\"b'c", "\\", "\"\u00e9'\\\"", "\\\'"]"#,
            r#"x=['a"b"',"it's","a\"b'c","\\",'"é\'\\"',"\\\'"]"#,
        ),
        (
            "x = {'\\u0142ukasz': '\\u00e9\\\\u00e9\\ud83d\\u2028\\xe9\\x41', 'lo\\u00efc': 2, '\\u005f_proto__': 3}",
            "x={'łukasz':'é\\\\u00e9\\ud83d\\u2028é\\x41','loïc':2,'\\u005f_proto__':3}",
        ),
        ("x = '\\u200b\\u202e\\u00ad\\ue000\\u00e9'", "x='\\u200b\\u202e\\u00ad\\ue000é'"),
        ("x = 1;;\"use strict\";y = -1", "x=1;\"use strict\";y=-1"),
        ("f(1,)(2)[\"k\"].m(\n0x1F, 10n, .5)", "f(1)(2)[\"k\"].m(0x1F,10n,.5)"),
    ];
    for (src, want) in cases {
        assert_eq!(minify(src).as_deref(), Some(want), "{src}");
    }
}

#[test]
fn what_is_not_data_is_left_to_swc() {
    for src in [
        "(function(){})()",
        "a\n-1",
        "a\n(b)\n/x/g",
        "x = `t`",
        "a = 1 + 2",
        "/*! licence */ a = 1",
        "// @license MIT\na = 1",
        "{a: 1}",
        "a: 1",
        "x = {a}",
        "x = {get a() {}}",
        "x = [...y]",
        "f(...y)",
        "let a = 1; let a = 2",
        "var a; const a = 1",
        "const a",
        "x = {__proto__: 1, '__proto__': 2}",
        "x = {__proto__: 1, '\\u005f_proto__': 2}",
        "x = {'\\x5f_proto__': 1, \"__pro\\\nto__\": 2}",
        "x = '</script>'",
        "x = '<!--'",
        "x = 017",
        "x = 08",
        "x = 1_000",
        "x = '\\01'",
        "x = '\\8'",
        "x = '\\x4'",
        "x = '\\u{110000}'",
        "x = 'open",
        "x = \"a\nb\"",
        "x = 1.toString",
        "x = 1..toString()",
        "x = 3in y",
        "importScripts('a.js')",
        "import('a.js')",
        "x = new URL('a', import.meta.url)",
        "x = this",
        "(a) = 1",
        "f() = 1",
        "[a] = b",
        "a == b",
        "a => b",
        "x = é",
        "x = a\u{2028}y = 2",
        "\u{feff}x = 1",
        "#!/usr/bin/env node\nx = 1",
        "let\n[a] = b",
        "x = a ? b : c",
        ";\"use strict\";x=1",
        "\"a\";;\"use strict\";x=1",
        "-1[0]=2",
        "x = -1[0] = 2",
        "-5.[0]=1",
        "-1n[0]=1",
        "x = -1(2)",
        "//! (c) Foo\nx=1",
        "x = a?.b",
    ] {
        assert_eq!(minify(src), None, "{src:?}");
    }
}

#[test]
fn every_spelling_of_proto_counts() {
    for key in [
        "__proto__",
        "\\u005f_proto__",
        "\\x5f_proto__",
        "\\u{00005F}_proto__",
        "__pro\\\nto__",
        "__pro\\\r\nto__",
        "\\_\\_proto__",
    ] {
        assert!(super::literals::spells_proto(key), "{key}");
    }
    for key in [
        "\\u017f",
        "\\u212a",
        "__\\p\\roto__",
        "__proto_",
        "__proto__\\0",
        "\\u{110000}_proto__",
    ] {
        assert!(!super::literals::spells_proto(key), "{key}");
    }
    assert!(minify("x = {'\\u017f': 1, '\\u212a': 2}").is_some());
}

#[test]
fn deep_nesting_is_left_to_swc() {
    let deep = format!("x = {}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(minify(&deep), None);
    let ok = format!("x = {}1{}", "[".repeat(50), "]".repeat(50));
    assert_eq!(minify(&ok), Some(ok.replace(' ', "")));
}

/// The data shortcut writes what swc writes: swc re-minifying its output gives what
/// swc gives on the source.
#[test]
fn data_is_minified_as_swc_would() {
    let srcs = [
        "Search.setIndex({\"docnames\": [\"a\", \"b\"], \"0\": 1.50, 'x-y': [0.0, 1000, -2e+3, 5., .50e-3]})",
        "var searchData=\n[\n  ['a',['b',['../x.html#y',1,'']]],\n];\n",
        "window.a = window.b = {k: [1,,2,,], 'if': null, '__proto__': {}} // note\n/* x */ c = 2\n",
        "const A = 1, B = 'x\\u00e9\\x41\\\n'\nlet C = [A, B, 0x1F, 0b101n, 10n, 1e21, 123456789012345678901234]\n;",
        "f(1,)(2)[\"k\"].m(\n0x1F, .5)\n\"use strict\"\n'b'",
        "x = (1)(2); y = {1.50: 1, 0x10: 2, \"01\": 3, 'a b': 4}",
        r#"x = ["a\"b\"", 'it\'s', "a\"b'c", "\\", "\"\u00e9'\\\"", "\\\'"]"#,
        "x = {'\\u0142ukasz': '\\u00e9\\\\u00e9\\ud83d\\u2028', 'lo\\u00efc': 2, '\\u005f_proto__': 3}",
    ];
    for src in srcs {
        let fast = minify(src).expect(src);
        let swc = |s: &str| {
            let mut ph = crate::build::refs::Placeholders::for_content(s.as_bytes());
            crate::build::js::minify_with_swc(
                s,
                "d.js",
                None,
                crate::build::js::Effort::Full,
                &mut ph,
            )
            .unwrap()
            .0
        };
        assert_eq!(swc(&fast), swc(src), "{src}\n{fast}");
        let mut ph = crate::build::refs::Placeholders::for_content(src.as_bytes());
        assert_eq!(
            crate::build::js::minify_auto(src, "d.js", &mut ph).unwrap(),
            (fast, crate::build::js::JsKind::Script)
        );
    }
}
