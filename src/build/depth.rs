//! A cheap nesting pre-scan run before the CSS and JS parsers: they recurse once per
//! level, and a hostile file must be refused with its position, never abort the process.
//! Strings and comments are skipped; the count is approximate (regex literals are not
//! recognised) but only matters far past any real file's depth.

/// Deepest bracket nesting accepted in CSS (lightningcss's printer keeps its indentation
/// in a `u8`: two per level).
pub(crate) const CSS_LIMIT: usize = 100;
/// Deepest bracket nesting accepted in JS (swc runs on the build's large-stack threads).
pub(crate) const JS_LIMIT: usize = 2000;

/// Deepest element nesting accepted in HTML (minify-html recurses once per open element:
/// a million unclosed `<span>`s overflowed even the build's 256 MB stacks).
pub(crate) const HTML_LIMIT: usize = 10_000;

/// Elements without content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];
/// Elements minify-html closes when a sibling opens (their end tag may be left out): a
/// run of them does not nest, and counting them would refuse real pages.
const OPTIONAL_END: &[&str] = &[
    "li", "dt", "dd", "p", "rt", "rp", "optgroup", "option", "thead", "tbody", "tfoot", "tr", "td",
    "th", "html", "head", "body",
];
/// Elements whose content is text up to their end tag.
const RAW: &[&str] = &["script", "style", "textarea", "title", "xmp"];
/// How far up the open elements an end tag is matched (a stray end tag closes nothing).
const MATCH_WINDOW: usize = 64;

/// Where element nesting in HTML first goes past `limit`, as [`check`] says it. Open
/// elements are kept on a stack: an end tag closes up to the nearest element of its
/// name (a stray one closes nothing), `/>` closes only inside `<svg>` and `<math>`, and
/// raw-text elements are skipped whole. Approximate, erring towards counting more.
pub(crate) fn check_html(text: &str, limit: usize) -> Option<(usize, usize, String)> {
    let b = text.as_bytes();
    let mut open: Vec<[u8; 10]> = Vec::new();
    let mut foreign = 0usize;
    let mut lines = LineCounter::default();
    let mut i = 0usize;
    while let Some(off) = memchr::memchr(b'<', &b[i..]) {
        let lt = i + off;
        lines.advance(b, lt);
        let rest = &b[lt + 1..];
        if rest.starts_with(b"!--") {
            i = find(b, lt + 4, b"-->").map_or(b.len(), |e| e + 3);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = lt + 1 + usize::from(closing);
        let name_len = b[name_start..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-' || **c == b':')
            .count();
        if name_len == 0 {
            // `<!DOCTYPE`, `<?xml`, or a `<` in text.
            i = lt + 1;
            continue;
        }
        // Lower-cased into a small key (no allocation per tag); longer names are
        // custom elements, which nest, and share one key.
        let mut key = [0u8; 10];
        if let Some(n) = b
            .get(name_start..name_start + name_len)
            .filter(|n| n.len() <= key.len())
        {
            key[..n.len()].copy_from_slice(n);
            key.make_ascii_lowercase();
        }
        let name = std::str::from_utf8(&key)
            .unwrap_or("")
            .trim_end_matches('\0');
        let end = tag_end(b, name_start + name_len);
        let self_closing = foreign > 0 && end > 0 && b.get(end - 1) == Some(&b'/');
        i = (end + 1).min(b.len());
        if closing {
            let top = open.len().saturating_sub(MATCH_WINDOW);
            if let Some(at) = open[top..].iter().rposition(|k| *k == key) {
                let at = top + at;
                foreign = foreign.saturating_sub(
                    open[at..]
                        .iter()
                        .filter(|k| k.starts_with(b"svg\0") || k.starts_with(b"math\0"))
                        .count(),
                );
                open.truncate(at);
            }
            continue;
        }
        if RAW.contains(&name) {
            // Skip past its end tag (any case).
            let close = format!("</{name}");
            let from = i;
            i = memchr::memchr_iter(b'<', &b[from..])
                .map(|p| from + p)
                .find(|&p| {
                    b.get(p..p + close.len())
                        .is_some_and(|w| w.eq_ignore_ascii_case(close.as_bytes()))
                })
                .map_or(b.len(), |p| tag_end(b, p + close.len()) + 1)
                .min(b.len());
            continue;
        }
        if VOID.contains(&name) || OPTIONAL_END.contains(&name) || self_closing {
            continue;
        }
        if name == "svg" || name == "math" {
            foreign += 1;
        }
        open.push(key);
        if open.len() > limit {
            let (line, col) = lines.at(text, lt);
            return Some((
                line,
                col,
                format!(
                    "elements nested more than {limit} levels deep; sitevault refuses such nesting (close your tags, or pass --keep-going to copy the file as written)"
                ),
            ));
        }
    }
    None
}

/// The `>` that ends a tag whose name ends at `from` (quoted attribute values skipped),
/// or the end of the text.
fn tag_end(b: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'>' => return i,
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    b.len()
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(b.get(from..)?, needle).map(|p| from + p)
}

/// Line numbers for offsets met in increasing order.
#[derive(Default)]
struct LineCounter {
    upto: usize,
    line: usize,
    line_start: usize,
}

impl LineCounter {
    fn advance(&mut self, b: &[u8], to: usize) {
        if let Some(from) = b.get(self.upto..to) {
            for k in memchr::memchr_iter(b'\n', from) {
                self.line += 1;
                self.line_start = self.upto + k + 1;
            }
        }
        self.upto = self.upto.max(to);
    }

    /// 1-based line and column of `offset` (already advanced to).
    fn at(&self, text: &str, offset: usize) -> (usize, usize) {
        let col = text
            .get(self.line_start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        (self.line + 1, col)
    }
}

/// Where nesting first goes past `limit`: (1-based line, 1-based column, message).
/// In JS, statements nested without braces count too: a run of labels (`a: b: c: x`),
/// `if (…)`, loops, `else` and `do` heads nests the parser once per head (300,000
/// nested labels overflowed even the build's 256 MB stacks).
pub(crate) fn check(text: &str, limit: usize, js: bool) -> Option<(usize, usize, String)> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut line = 1usize;
    let mut line_start = 0usize;
    let mut i = 0usize;
    // JS: heads nested without braces, the depth a head's condition closes back to, and
    // whether a head keyword waits for its `(`.
    let mut run = 0usize;
    let mut head_at: Option<usize> = None;
    let mut await_paren = false;
    // For each `if (…)` whose `else` may follow: its depth and the run it ended with
    // (`if (a) x(); else while (b) if (c) …` nests through the `else`).
    let mut ifs: Vec<(usize, usize)> = Vec::new();
    let mut head_is_if = false;
    let too_deep = |i: usize, line: usize, line_start: usize| {
        let col = text
            .get(line_start..i)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        Some((
            line,
            col,
            format!(
                "nested more than {limit} levels deep; sitevault refuses such nesting (flatten it, or pass --keep-going to copy the file as written)"
            ),
        ))
    };
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$';
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            b' ' | b'\t' | b'\r' => {}
            b'"' | b'\'' | b'`' => {
                if head_at.is_none() {
                    run = 0;
                }
                let q = c;
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' {
                        i += 1;
                    } else if b[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                        if q != b'`' {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    if b[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'/' if js && b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'(' | b'[' | b'{' => {
                if js && await_paren && c == b'(' {
                    head_at = Some(depth);
                } else if head_at.is_none() {
                    run = 0;
                }
                await_paren = false;
                depth += 1;
                if depth + run > limit {
                    return too_deep(i, line, line_start);
                }
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if c == b')' && head_at == Some(depth) {
                    head_at = None;
                    run += 1;
                    if head_is_if {
                        ifs.push((depth, run));
                    }
                    if depth + run > limit {
                        return too_deep(i, line, line_start);
                    }
                } else if head_at.is_none() {
                    run = 0;
                }
            }
            c if js && ident(c) && (i == 0 || !ident(b[i - 1])) => {
                let end = i + b[i..].iter().take_while(|&&c| ident(c)).count();
                let word = &b[i..end];
                let mut next = end;
                if head_at.is_none() {
                    match word {
                        b"if" | b"while" | b"for" | b"with" => {
                            await_paren = true;
                            head_is_if = word == b"if";
                        }
                        b"await" if await_paren => {}
                        b"else" => {
                            await_paren = false;
                            while ifs.last().is_some_and(|&(d, _)| d > depth) {
                                ifs.pop();
                            }
                            let mut r = run;
                            if let Some(&(d, ri)) = ifs.last() {
                                if d == depth {
                                    ifs.pop();
                                    r = ri;
                                }
                            }
                            // `else if` continues a chain the parser reads in a loop: the
                            // `if` takes the place of the one before it.
                            let mut k = end;
                            while b.get(k).is_some_and(|c| c.is_ascii_whitespace()) {
                                k += 1;
                            }
                            let chained = b.get(k..k + 2) == Some(&b"if"[..])
                                && b.get(k + 2).is_none_or(|&c| !ident(c));
                            run = if chained { r.saturating_sub(1) } else { r + 1 };
                        }
                        b"do" => {
                            await_paren = false;
                            run += 1;
                        }
                        _ => {
                            await_paren = false;
                            let mut k = end;
                            while b.get(k).is_some_and(|c| matches!(c, b' ' | b'\t')) {
                                k += 1;
                            }
                            if b.get(k) == Some(&b':') && b.get(k + 1) != Some(&b':') {
                                run += 1;
                                next = k + 1;
                            } else {
                                run = 0;
                            }
                        }
                    }
                    if depth + run > limit {
                        return too_deep(i, line, line_start);
                    }
                }
                i = next;
                continue;
            }
            _ => {
                if head_at.is_none() {
                    run = 0;
                    await_paren = false;
                }
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn html_counts_elements_that_nest() {
        let deep = format!("<p>\n  {}", "<div><span>".repeat(3));
        assert_eq!(check_html(&deep, 4).map(|x| (x.0, x.1)), Some((2, 25)));
        // Void, self-closed, optional-end and closed elements, comments, raw text.
        let flat = format!(
            "<!DOCTYPE html><ul>{}</ul>{}<!-- <div><div><div> --><script>{}</script><svg>{}</svg>{}",
            "<li>x".repeat(50),
            "<br><img src=a>".repeat(50),
            "<div>".repeat(50),
            "<path d='a>b'/>".repeat(50),
            "<div></div>".repeat(50)
        );
        assert!(check_html(&flat, 4).is_none());
        assert!(check_html("a < b <", 1).is_none());
        // What minify-html nests: `<div/>`, elements around raw text, stray end tags.
        for deep in [
            "<div/>".repeat(10),
            "<div><script></script>".repeat(10),
            "<div></span>".repeat(10),
            "<caption>".repeat(10),
        ] {
            assert!(check_html(&deep, 4).is_some(), "{deep}");
        }
    }
}
