//! What oxc's compressor may fold wrong, left to swc or made unknown to it (`risk.rs`),
//! and the folds it makes, as JS computes them.

use super::*;

/// What oxc's compressor was found to get wrong goes to swc (`risk.rs`), and each is
/// minified right.
#[test]
fn what_oxc_folds_wrong_is_left_to_swc() {
    let risky = [
        "function f(o){ var x = 1; with (o) { x = 2 } return x }",
        "'\\uDFFF'.charCodeAt(0)",
        "f(Number(' 12 '))",
        "x = +'\\n12\\t'",
        "f(parseFloat('1_0'))",
        "f('abc'.slice(0, undefined))",
        "f('abc'.indexOf('', 10))",
        "f('abc'.lastIndexOf('c', NaN))",
        "f('abc'.lastIndexOf(...[1]))",
        "f('abc'['slice'](0, undefined))",
        "f(`abc`.slice(0, undefined))",
        // Found by session 35's review: a position given as a string, a missing search,
        // a local function the compressor inlines, a name holding the string.
        "f('abcabc'.indexOf('', '10'))",
        "f('abcabc'.lastIndexOf('b', 'x'))",
        "f('xundefined'.indexOf())",
        "var g = function () { return void 0 }; f('abc'.slice(0, g()))",
        "function g() { return 10 } f('abcabc'.indexOf('', g()))",
        "f(String.raw`</script>`)",
        // Read as written, though the walk that reads risks replaces the specifier by
        // the literal it is known to be (` 1x`, which is no number).
        "import(' 1' + 'x')",
        "import(`${' 1'}x`)",
        // Found by session 40's review: a call that throws on some arguments, taken for
        // pure and dropped where its value may be unused.
        "function ok(s) { try { decodeURIComponent(s); return true } catch (e) { return false } }",
        "function ok(s) { try { var d = decodeURI(s) } catch (e) { return false } return true }",
        "function ok(s) { try { f(), encodeURIComponent(s) } catch (e) { return false } }",
        // Found by session 41's: text that is not ASCII made by a call it evaluates, or in
        // a template with substitutions (the stand-in would hide them), or a file that
        // uses the stand-ins' name.
        "f(decodeURIComponent('%C3%A9').length)",
        "f(String.fromCharCode(233).length)",
        "f(`\u{e9}${x}`.length)",
        "f('@sv_text_0()', '\u{e9}')",
    ];
    let tpl = format!("f(`{}`)", "x${1}".repeat(100));
    for src in risky.into_iter().chain([tpl.as_str()]) {
        let risk = risk_of(src, JsKind::Script);
        assert!(risk.is_some(), "{src}");
    }
    // Text that is not ASCII is oxc's: its compressor reads a stand-in it cannot
    // evaluate (`oxc_read::TEXT`), and the text is put back as written.
    for (src, kept) in [
        ("f('a\u{1F600}b'.length)", "'a\u{1F600}b'.length"),
        ("f('\u{e9}t\u{e9}'.charAt(1))", "'\u{e9}t\u{e9}'.charAt(1)"),
        (
            r#"f(`é`.length, "\u00e9".length)"#,
            r#"`é`.length,"\u00e9".length"#,
        ),
        (
            "const a = c ? '\u{e9}' : 0, b = a + 'x'; f(b.indexOf('x'))",
            ".indexOf(",
        ),
    ] {
        assert_eq!(risk_of(src, JsKind::Script), None, "{src}");
        let out = by_oxc(src, JsKind::Script).unwrap();
        assert!(out.contains(kept), "{src}: {out}");
        assert!(!out.contains(oxc_read::TEXT), "{out}");
    }
    // The compressor can make the stand-ins' text from strings: such a file is swc's, its
    // strings as they were (session 41's review).
    let made = "const s = '@sv' + '_text_0()'; f('\u{e9}', s)";
    assert_eq!(by_oxc(made, JsKind::Script), None);
    let (out, _) = auto(made);
    assert!(
        out.contains("_text_0()") && !out.contains("'\u{e9}'\"_"),
        "{out}"
    );
    // Names it would fold wrong are oxc's, their values unknown to its compressor
    // (`unknown_to_the_compressor`): the call stays, and is evaluated where it runs.
    let unknown = [
        "const s = 'a\u{1F600}b'; f(s.indexOf('b'))",
        "let n; f('abc'.slice(0, n))",
        "const n = void 0; f('abc'.substring(1, n))",
        "const p = Math.max(5, 10); f('abc'.indexOf('', p))",
        "var s = 'abcabc'; f(s.slice(0, undefined))",
        "function h() { var s = 'abc', n; return s.lastIndexOf('b', n) }",
        "function h() { var a = 'abc' + '', b = a; return b.slice(0, void 0) }",
    ];
    for src in unknown {
        assert_eq!(risk_of(src, JsKind::Script), None, "{src}");
        let out = by_oxc(src, JsKind::Script).unwrap();
        let kept = [".slice(", ".substring(", ".indexOf(", ".lastIndexOf("];
        assert!(kept.iter().any(|m| out.contains(m)), "{src}: {out}");
    }
    // Another script of the page may set `flag`: its reads stay, by oxc too
    // (`lets_are_the_pages`), also where its only write is in code dropped as dead.
    for src in [
        "let flag = false; function check() { return flag ? 'on' : 'off' }",
        "let flag = false; if (false) flag = 1; function check() { return flag ? 'on' : 'off' }",
    ] {
        let (out, _) = auto(src);
        assert!(out.contains("flag?") && out.contains("on"), "{out}");
        let out = by_oxc(src, JsKind::Script).unwrap();
        assert!(out.contains("flag?") && out.contains("on"), "{out}");
    }
    // A script's other top-level bindings are oxc's: its `const`s no other script can
    // assign, and its classes.
    let consts = "const API = 'x', N = 5; class K { static make() { return new K } } function f() { return N + API.length + typeof K }";
    assert_eq!(risk_of(consts, JsKind::Script), None);
    let (out, _) = auto(consts);
    assert!(
        out.contains("API=") && out.contains("class K") && out.contains("typeof K"),
        "{out}"
    );
    // And its `let`s, even where the file assigns them only in code oxc drops as dead,
    // after which it inlined the value (session 36's review; `lets_are_the_pages`).
    for lets in [
        "let w = 1; function rd() { return w } if (false) { w = 2 }",
        "let on = false; function log(m) { if (on) f(m) } function t() { return; on = !on }",
        "let seed = 5; function reseed(s) { seed = s } function f() { return seed }",
    ] {
        assert_eq!(risk_of(lets, JsKind::Script), None, "{lets}");
        let out = by_oxc(lets, JsKind::Script).unwrap();
        assert!(
            !out.contains("return 1}") && !out.contains("function log(e){}"),
            "{out}"
        );
    }
    // In a module the same `let` is the module's own, and ordinary code is oxc's.
    let plain =
        "export let flag = false; export function check(s) { return s.indexOf('b') + f('\u{e9}', ' + ', '1 2') }";
    let risk = risk_of(plain, JsKind::Module);
    assert_eq!(risk, None);
    // Methods of ASCII literals whose arguments the compressor cannot know are oxc's
    // (Babel's `"".concat`, three.js' `'xyz'.slice(0, length)`), and so are the methods
    // it folds right.
    let opaque = [
        "export function g(a) { return ''.concat(a, '-') + 'i'.charCodeAt(0) + ' '.repeat(a) }",
        "export function g(t) { const n = this.len(t); return 'xyz'.slice(0, n) }",
        "export function g(o, x) { const l = o[x], a = []; return l.indexOf(x) + a.indexOf(x) }",
        "export function g(node) { const href = node.getAttribute('href') || ''; return href.substring(1) }",
        "export function g(input, i) { var keyStr = 'ABC'; return keyStr.indexOf(input.charAt(i++)) }",
        "export function g(s) { for (let i = 0; i < 9; i++) s += 'abc'.slice(0, i); return s }",
        "export function g(n, o) { return 'xyz'.slice(0, n) + 'xyz'.indexOf(o.k, this.i) }",
        "export const s = 'abc'.toUpperCase() + 'abc'.slice(1, 3) + 'abc'.indexOf('c', 1)",
        // Their values used, or a function of the module's own.
        "export function g(s) { return JSON.parse(decodeURIComponent(s)) + encodeURI(s) }",
        "function decodeURI(s) { return s } export function g(s) { decodeURI(s) }",
    ];
    for src in opaque {
        let risk = risk_of(src, JsKind::Module);
        assert_eq!(risk, None, "{src}");
    }
    // A `</script` oxc's printer leaves in a regular expression is swc's to escape.
    assert_eq!(by_oxc("f(/[</script>]/)", JsKind::Script), None);
}

/// A classic script's top-level names are the page's: other scripts read its `let`s and
/// `const`s, destructured ones too, and may assign its functions and classes, so
/// `typeof` of them is not known, and a `let` the file never assigns is not inlined
/// (`lets_are_the_pages`). By swc and by oxc.
#[test]
fn a_scripts_top_level_names_stay_the_pages() {
    let body = "const {cd, other, o: [deep = 1]} = window.cfg;\n\
                class Widget {}\n\
                function helper() { return 1 }\n\
                function check() { return [typeof helper, typeof Widget, cd, deep] }\n\
                window.check = check;";
    let with_let = format!("let counter = 0;\n{body}\nfunction count() {{ return counter }}");
    let mut ph = Placeholders::for_content(with_let.as_bytes());
    let by_swc = minify_with_swc(
        &with_let,
        "a.js",
        Some(JsKind::Script),
        Effort::Full,
        &mut ph,
    )
    .unwrap()
    .0;
    let by_oxc = by_oxc(&with_let, JsKind::Script).unwrap();
    for out in [&by_swc, &by_oxc] {
        for kept in [
            "{cd,other,o:[deep=1]}",
            "typeof helper",
            "typeof Widget",
            "return counter",
        ] {
            assert!(out.contains(kept), "{kept}: {out}");
        }
    }
}

/// oxc's compressor folds numbers and string methods as JS computes them, whatever route
/// it came to know the values by (vendor/oxc_ecmascript/PATCHES.md, session 41's third
/// review): `Number` trims both ends, `Math.round` rounds half up, `parseFloat` stops at
/// `_`, and a method it cannot fold exactly is left to run.
#[test]
fn oxc_folds_what_it_folds_as_js_does() {
    for (src, want) in [
        ("f(('12' + ' ') * 1)", "f(12)"),
        ("f(Math.round(0.49999999999999994))", "f(0)"),
        ("f(Math.round(0.49999999999999994 + 0))", "f(0)"),
        ("f(Math.round(2.5), Math.round(-2.5))", "f(3,-2)"),
        ("f(parseFloat(0 || '1' + '_' + '0'))", "f(1)"),
    ] {
        let out = by_oxc(src, JsKind::Script).unwrap();
        assert!(out.contains(want), "{src}: {out}");
    }
    for (src, kept) in [
        ("f(([1, 2] + '').slice(0, undefined))", ".slice("),
        (
            "f(String.fromCharCode(...[233, 120]).indexOf('x'))",
            ".indexOf(",
        ),
        (
            "function a() { const s = 'abc'; return s[`slice`](0, undefined) }",
            "slice",
        ),
    ] {
        let out = by_oxc(src, JsKind::Script).unwrap();
        assert!(out.contains(kept), "{src}: {out}");
    }
}
