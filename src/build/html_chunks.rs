//! Large pages are minified in pieces: minify-html builds a tree of the whole document,
//! about 25× its text (a 20 MB page peaked at 505 MB), where #13 bounds a build at four
//! times its largest input plus 256 MB.
//!
//! A page is cut only before an element that is a child of `<body>` and closes an open
//! `<p>` (`div`, `section`, `table`, `h1`…): what minify-html does at the end of one piece
//! (leave a `</p>` out, drop the whitespace before the next block) is then what it does
//! inside a whole page. The scan is strict: anything it does not follow exactly (an end
//! tag that closes nothing, a document without an explicit `<body>`, a raw-text element
//! left open) means no cut, and the page is minified whole as before.

/// Pages up to this size are minified whole.
pub(super) const WHOLE_MAX: usize = 2 << 20;
/// Pieces are about this size (a page's body-level elements are not split further).
pub(super) const PIECE: usize = 1 << 20;

/// Elements without content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "basefont", "bgsound", "frame", "keygen",
];
/// Elements whose end tag may be left out: not counted as open (a `<p>` or `<li>` left
/// open would otherwise hide every later cut).
const OPTIONAL_END: &[&str] = &[
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "rt",
    "rp", "colgroup", "caption", "html", "head", "body",
];
/// Elements whose content is text up to their end tag.
const RAW: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];
/// Body-level elements a piece may start with: each closes an open `<p>`.
const CUT_BEFORE: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "details",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
];

/// Byte offsets where `html` may be cut, about `piece` apart; empty when it may not be.
pub(super) fn cuts(html: &str, piece: usize) -> Vec<usize> {
    let b = html.as_bytes();
    let mut cuts = Vec::new();
    let mut last = 0usize;
    // Open elements (void and optional-end ones left out), by name.
    let mut open: Vec<String> = Vec::new();
    // How many of them are `<svg>` or `<math>`.
    let mut foreign = 0usize;
    let mut in_body = false;
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'<', &b[i..]) {
        let at = i + off;
        let rest = &b[at..];
        if rest.starts_with(b"<!--") {
            match memchr::memmem::find(&rest[4..], b"-->") {
                Some(e) => i = at + 4 + e + 3,
                None => return Vec::new(),
            }
            continue;
        }
        if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            match memchr::memchr(b'>', rest) {
                Some(e) => i = at + e + 1,
                None => return Vec::new(),
            }
            continue;
        }
        let end_tag = rest.get(1) == Some(&b'/');
        let name_at = at + 1 + end_tag as usize;
        let name_len = b[name_at..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-' || **c == b':')
            .count();
        if name_len == 0 || !b[name_at].is_ascii_alphabetic() {
            // Text that starts with `<` (or `</` + something else: a bogus comment).
            if end_tag {
                return Vec::new();
            }
            i = at + 1;
            continue;
        }
        let name = html[name_at..name_at + name_len].to_ascii_lowercase();
        let Some(close) = tag_end(b, name_at + name_len) else {
            return Vec::new();
        };
        let self_closing = b[close - 1] == b'/';
        i = close + 1;
        if end_tag {
            if VOID.contains(&name.as_str()) || OPTIONAL_END.contains(&name.as_str()) {
                continue;
            }
            // An end tag that does not close the innermost open element (misnested, or
            // closing nothing): the scan no longer knows where it is.
            if open.pop().as_deref() != Some(name.as_str()) {
                return Vec::new();
            }
            if matches!(name.as_str(), "svg" | "math") {
                foreign -= 1;
            }
            continue;
        }
        if name == "body" {
            in_body = true;
            continue;
        }
        if open.is_empty() && in_body && CUT_BEFORE.contains(&name.as_str()) && at - last >= piece {
            cuts.push(at);
            last = at;
        }
        if RAW.contains(&name.as_str()) {
            let Some(e) = end_of_raw(b, i, &name) else {
                return Vec::new();
            };
            i = e;
            continue;
        }
        if name == "plaintext" {
            break;
        }
        if VOID.contains(&name.as_str()) || OPTIONAL_END.contains(&name.as_str()) {
            continue;
        }
        // `/>` closes only SVG and MathML elements (`<span/>` opens a span).
        let svg_or_math = matches!(name.as_str(), "svg" | "math");
        if self_closing && (svg_or_math || foreign > 0) {
            continue;
        }
        foreign += svg_or_math as usize;
        open.push(name);
    }
    if !in_body || !open.is_empty() {
        return Vec::new();
    }
    cuts
}

/// The offset of the `>` that ends a tag whose name ends at `i` (quoted attribute values
/// may hold `>`).
fn tag_end(b: &[u8], mut i: usize) -> Option<usize> {
    let mut quote = None;
    while i < b.len() {
        match (quote, b[i]) {
            (None, q @ (b'"' | b'\'')) if b[i - 1] == b'=' || b[i - 1].is_ascii_whitespace() => {
                quote = Some(q)
            }
            (Some(q), c) if c == q => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Where the raw text of `name` that starts at `from` ends: after its end tag.
fn end_of_raw(b: &[u8], from: usize, name: &str) -> Option<usize> {
    let mut i = from;
    loop {
        let at = i + memchr::memmem::find(&b[i..], b"</")?;
        let n = at + 2;
        let matches = b
            .get(n..n + name.len())
            .is_some_and(|t| t.eq_ignore_ascii_case(name.as_bytes()))
            && b.get(n + name.len())
                .is_none_or(|c| matches!(c, b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'));
        if matches {
            return tag_end(b, n + name.len()).map(|e| e + 1);
        }
        i = at + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(html: &str, piece: usize) -> Vec<&str> {
        let mut out = Vec::new();
        let mut last = 0;
        for c in cuts(html, piece) {
            out.push(&html[last..c]);
            last = c;
        }
        out.push(&html[last..]);
        out
    }

    #[test]
    fn cuts_only_before_body_level_blocks() {
        let html = "<!doctype html><html><head><title>t</title></head><body>\
                    <div class=a><p>x<div>in</div></div><p>open para\
                    <section><h1>s</h1></section><span>inline</span><table><tr><td>1</table>\
                    <ul><li>a<li><div>b</div></ul></body></html>";
        assert_eq!(
            pieces(html, 1),
            [
                "<!doctype html><html><head><title>t</title></head><body>",
                "<div class=a><p>x<div>in</div></div>",
                "<p>open para",
                "<section><h1>s</h1></section><span>inline</span>",
                "<table><tr><td>1</table>",
                "<ul><li>a<li><div>b</div></ul></body></html>",
            ]
        );
        // Pieces of at least `piece` bytes.
        assert_eq!(pieces(html, 60).len(), 3);
    }

    #[test]
    fn raw_text_comments_and_quotes_hide_nothing() {
        let html = "<html><body><script>if (a < b) document.write('<div>')</script>\
                    <!-- <div> --><div title=\"a>b\" data-x='<div>'>x</div>\
                    <textarea></div></textarea><div>y</div><svg><path/><g/></svg><div>z</div></body>";
        let p = pieces(html, 1);
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[1].starts_with("<div title"));
        assert!(p[2] == "<div>y</div><svg><path/><g/></svg>");
    }

    #[test]
    fn anything_unclear_means_no_cut() {
        for html in [
            "<div>a</div><div>b</div>",                    // no <body>
            "<body><div>a</div></span></div><div>b</div>", // an end tag that closes nothing
            "<body><div>a</div><div>b",                    // left open
            "<body><div>a</div><script>x<div>b</div>",     // raw text left open
            "<body><div>a</div><!-- <div>b</div>",         // comment left open
            "<body><b><i>x</b></i><div>y</div>",           // misnested
            "<body><pre>keep <b/>z</b><div>y</div>",       // `<b/>` opens a `b`
        ] {
            assert!(cuts(html, 1).is_empty(), "{html}");
        }
        // `<span/>` opens a span in HTML: its `</span>` closes it, not the `<pre>`, so
        // nothing inside the `<pre>` is a cut (a review: its spaces were collapsed).
        let html = "<body><pre>a<span class=k/>b</span> <div>  x  </div></pre><div>z</div>";
        assert_eq!(
            pieces(html, 1),
            [
                "<body>",
                "<pre>a<span class=k/>b</span> <div>  x  </div></pre>",
                "<div>z</div>"
            ]
        );
        // In SVG `/>` closes: `<svg><path/></svg>` leaves nothing open.
        assert_eq!(pieces("<body><svg><path/></svg><div>z</div>", 1).len(), 2);
    }
}
