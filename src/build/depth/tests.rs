use super::*;

#[test]
fn finds_the_first_level_too_deep() {
    let t = format!("a\n  {}", "(".repeat(5));
    assert_eq!(check(&t, 3, true).map(|x| (x.0, x.1)), Some((2, 6)));
    assert!(check("'((((((' /* (((((( */ ()", 3, true).is_none());
    assert!(check("((()))", 3, false).is_none());
}

/// Statements nested without braces: labels, `if (…)`, loops, `else`, `do`.
#[test]
fn js_counts_heads_nested_without_braces() {
    for deep in [
        "a: ".repeat(10) + "x();",
        (0..10).map(|i| format!("l{i}: ")).collect::<String>() + "x();",
        "if (a) ".repeat(10) + "x();",
        "while (f(a, [b])) ".repeat(10) + "x();",
        "for await (const x of y) ".repeat(10),
        "if (a) x(); else while (b) ".repeat(10) + "y();",
        "do ".repeat(10) + "x(); while (0)",
    ] {
        assert!(check(&deep, 8, true).is_some(), "{deep}");
    }
    // Runs end with their statement; objects, ternaries and cases stay shallow.
    for flat in [
        "if (a) x();\n".repeat(20),
        "if (a) { x(); }\n".repeat(20),
        "a: for (;;) { break a; }\n".repeat(20),
        "var o = {a: 1, b: {c: 2}}; var t = p ? q : r;\n".repeat(20),
        "switch (x) { case 1: y(); break; default: z(); }\n".repeat(20),
        "if (a) x(); else if (b) y(); else z();\n".repeat(20),
        "if (a) x();".to_string() + &"else if (b) { y(); }\n".repeat(50),
    ] {
        assert!(check(&flat, 8, true).is_none(), "{flat}");
    }
    // CSS has no statements: `a:b` is a declaration.
    assert!(check(&"a:b;".repeat(20), 3, false).is_none());
}

/// Chains that nest one level per link in swc's tree are refused past the limit,
/// however they are written; statements, lists, regular expressions and template text
/// do not add up.
#[test]
fn js_refuses_long_operator_chains() {
    let n = JS_CHAIN_LIMIT + 1;
    for long in [
        "x = ".to_string() + &"1+".repeat(n) + "1",
        "a".to_string() + &".b".repeat(n),
        "f".to_string() + &"()".repeat(n),
        "a".to_string() + &"[0]".repeat(n),
        "!".repeat(n) + "x",
        "new ".repeat(n) + "X",
        "typeof ".repeat(n) + "x",
        "t".to_string() + &"``".repeat(n),
        "`${".to_string() + &"1+".repeat(n) + "1}`",
        "x = 1".to_string() + &"\n+ 1".repeat(n),
        "x = 1".to_string() + &" +\n1".repeat(n),
        "x = 1".to_string() + &" + // c\n1".repeat(n),
        "x = a".to_string() + &"\n.b()".repeat(n),
        // Found by a review: levels add up; `in` goes on after a newline; other line
        // terminators; HTML-like comments; regexes after `)`, `}` and keywords; `1./`;
        // `class extends`.
        (0..5).fold("a".to_string(), |s, _| {
            "a=>".repeat(12_000) + "(" + &s + ")"
        }),
        (0..5).fold("a".to_string(), |s, _| "a=".repeat(12_000) + "[" + &s + "]"),
        "x = a".to_string() + &"\nin b".repeat(n),
        "// c\r".to_string() + &"a=".repeat(n) + "a",
        "// c\u{2028}".to_string() + &"a=".repeat(n) + "a",
        "x = 1".to_string() + &"\u{2028}+ 1".repeat(n),
        "y=1\n<!-- `\n".to_string() + &"a=".repeat(n) + "a",
        "y=1\n--> `\n".to_string() + &"a=".repeat(n) + "a",
        "y=1 /*\n*/ --> `\n".to_string() + &"a=".repeat(n) + "a",
        "if(a)/`/.test(b);\n".to_string() + &"a=".repeat(n) + "a",
        "{}\n/`/;\n".to_string() + &"a=".repeat(n) + "a",
        "function g(){return /`/}\n".to_string() + &"a=".repeat(n) + "a",
        "switch(a){case/`/:}\n".to_string() + &"a=".repeat(n) + "a",
        "x=1./(".to_string() + &"a=".repeat(n) + "a)",
        "x=".to_string() + &"class extends ".repeat(n) + "class" + &"{}".repeat(n + 1),
    ] {
        let got = check(&long, JS_LIMIT, true);
        assert!(
            got.is_some_and(|e| e.2.contains("chains more than")),
            "{}",
            &long[..40]
        );
    }
    let lines = |s: &str| s.repeat(n);
    for fine in [
        lines("a = b + c.d;"),
        lines("a = b + c.d\n"),
        lines("a = b + c.d // c\n"),
        lines("a = b + c.d\r"),
        lines("a = b + c.d\u{2028}"),
        lines("(function () { a = b + c.d; })();\n"),
        "x = [".to_string() + &lines("-1.5e-3, ") + "0]",
        "x = /".to_string() + &lines("a|") + "b/.test(y)",
        "x = `".to_string() + &lines(".a:b-c ") + "`",
        "x = '".to_string() + &lines("+") + "'",
        "f(`".to_string() + &lines("a ${b + c} d ") + "`)",
    ] {
        assert!(check(&fine, JS_LIMIT, true).is_none(), "{}", &fine[..40]);
    }
    // A template's `${…}` nests as a bracket does.
    assert!(check("`a${((((x))))}b`", 3, true).is_some());
    assert!(check("`a${(x)}b${[y]}c`; `${`${z}`}`", 3, true).is_none());
    // CSS counts brackets only.
    assert!(check(&lines("a+b."), CSS_LIMIT, false).is_none());
}
