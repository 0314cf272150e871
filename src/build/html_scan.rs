//! Cheap looks at a page before and around its rewrite: which elements it has, whether
//! its CSS keeps spaces, where its `<base href>` points.

use super::refs::{is_local, resolve_path, split_suffix, RefKind};

/// Whether `css` (a stylesheet or declarations) sets `white-space` (or
/// `white-space-collapse`) to a value that keeps spaces: `pre`, `pre-wrap`,
/// `pre-line`, `break-spaces`, `preserve`.
pub(super) fn keeps_white_space(css: &str) -> bool {
    let lower = css.to_ascii_lowercase();
    // Each `white-space` reads the value after the first `:` that follows, up to the
    // next `;` or `}`. The look-aheads are kept from one to the next: each starts at or
    // after where the one before did, so a search is redone only once its answer falls
    // behind. That keeps the whole linear (one search each to the end for every match was
    // quadratic on `white-space` repeated without a `:`).
    let mut colon = Ahead::new(|s: &str| s.find(':'));
    let mut end = Ahead::new(|s: &str| s.find([';', '}']));
    let mut pre = Ahead::new(|s: &str| s.find("pre"));
    let mut breaks = Ahead::new(|s: &str| s.find("break-spaces"));
    lower.match_indices("white-space").any(|(i, _)| {
        let Some(c) = colon.from(&lower, i) else {
            return false;
        };
        let e = end.from(&lower, c + 1).unwrap_or(lower.len());
        let within = |at: Option<usize>, len: usize| at.is_some_and(|p| p + len <= e);
        within(pre.from(&lower, c + 1), 3) || within(breaks.from(&lower, c + 1), 12)
    })
}

/// The first match of a search at or after a position, for positions that never go back:
/// the last answer is kept while it is still ahead.
struct Ahead<F> {
    find: F,
    last: Option<Option<usize>>,
}

impl<F: Fn(&str) -> Option<usize>> Ahead<F> {
    fn new(find: F) -> Self {
        Ahead { find, last: None }
    }

    fn from(&mut self, s: &str, at: usize) -> Option<usize> {
        match self.last {
            Some(None) => None,
            Some(Some(p)) if p >= at => Some(p),
            _ => {
                let hit = (self.find)(&s[at..]).map(|o| at + o);
                self.last = Some(hit);
                hit
            }
        }
    }
}

/// Whether `html` has a start tag of one of `names` (ASCII, lower case), in any case.
pub(super) fn has_element(html: &str, names: &[&[u8]]) -> bool {
    let b = html.as_bytes();
    let at = |i: usize| {
        names.iter().any(|n| {
            b.get(i + 1..i + 1 + n.len())
                .is_some_and(|t| t.eq_ignore_ascii_case(n))
                && b.get(i + 1 + n.len()).is_none_or(|&e| {
                    matches!(e, b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
                })
        })
    };
    // A `<` is on most lines of a page: each block is first tested, in a form the
    // compiler vectorises, for a `<` followed by the first two letters of one of the
    // names, and only such a block is read tag by tag (stopping at every `<` was 3 % of
    // the docs site's build).
    if names.iter().any(|n| n.len() < 2) {
        return memchr::memchr_iter(b'<', b).any(at);
    }
    let mut heads: Vec<[u8; 2]> = names.iter().map(|n| [n[0] | 0x20, n[1] | 0x20]).collect();
    heads.sort_unstable();
    heads.dedup();
    let heads = match heads[..] {
        [a] => [a; 4],
        [a, b] => [a, b, b, b],
        [a, b, c] => [a, b, c, c],
        [a, b, c, d] => [a, b, c, d],
        _ => return memchr::memchr_iter(b'<', b).any(at),
    };
    const BLOCK: usize = 4096;
    let mut from = 0;
    while from < b.len() {
        let to = (from + BLOCK).min(b.len());
        let lt = &b[from..to];
        let one = b.get(from + 1..(to + 1).min(b.len())).unwrap_or_default();
        let two = b.get(from + 2..(to + 2).min(b.len())).unwrap_or_default();
        let maybe = lt
            .iter()
            .zip(one)
            .zip(two)
            .fold(false, |acc, ((&c, &d), &e)| {
                let (d, e) = (d | 0x20, e | 0x20);
                let head = |h: [u8; 2]| (d == h[0]) & (e == h[1]);
                acc | ((c == b'<')
                    & (head(heads[0]) | head(heads[1]) | head(heads[2]) | head(heads[3])))
            });
        if maybe && memchr::memchr_iter(b'<', lt).any(|i| at(from + i)) {
            return true;
        }
        from = to;
    }
    false
}

/// Where a page's relative references resolve.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Base {
    /// No `<base href>`: against the page itself.
    Page,
    /// A `<base href>` naming a folder of the site: as if written in this file (that
    /// folder's `index.html`).
    Site(String),
    /// A `<base href>` off the site (another origin, or above its root): no reference of
    /// the page names a site file.
    Elsewhere(String),
}

/// The page's base, from its first `<base href>` (the one browsers use): not one inside
/// `<template>` (inert) or `<svg>`/`<math>` (another element there), its value read as
/// a URL parser would (entities decoded, tabs and newlines dropped, `\` as `/`).
pub(super) fn base_of(src: &str, rel: &str) -> Base {
    if !has_element(src, &[b"base"]) {
        return Base::Page;
    }
    let href = std::cell::RefCell::new(None::<String>);
    let inert = std::rc::Rc::new(std::cell::Cell::new(0usize));
    let inert_in = inert.clone();
    let settings = lol_html::RewriteStrSettings::new()
        .append_element_content_handler(lol_html::element!("template", move |el| {
            let inert = inert_in.clone();
            inert.set(inert.get() + 1);
            let _ = el.on_end_tag(lol_html::end_tag!(move |_| {
                inert.set(inert.get().saturating_sub(1));
                Ok(())
            }));
            Ok(())
        }))
        .append_element_content_handler(lol_html::element!("base[href]", |el| {
            let html = el.namespace_uri() == "http://www.w3.org/1999/xhtml";
            let mut h = href.borrow_mut();
            if h.is_none() && html && inert.get() == 0 {
                *h = el.get_attribute("href");
            }
            Ok(())
        }));
    if lol_html::rewrite_str(src, settings).is_err() {
        return Base::Page;
    }
    let Some(href) = href.into_inner() else {
        return Base::Page;
    };
    let url: String = decode_entities(href.trim())
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let (path, _) = split_suffix(&url);
    if path.is_empty() {
        return Base::Page;
    }
    if !is_local(path, RefKind::Url) {
        return Base::Elsewhere(href);
    }
    // The base's folder: what is after its last `/` is a file name, unless it is `.`
    // or `..`, which name folders.
    let last = &path[path.rfind('/').map_or(0, |i| i + 1)..];
    let dir = if matches!(last, "." | "..") {
        format!("{path}/")
    } else {
        path[..path.len() - last.len()].to_string()
    };
    match resolve_path(rel, if dir.is_empty() { "./" } else { &dir }) {
        Some(index) => Base::Site(index),
        None => Base::Elsewhere(href),
    }
}

/// An attribute value with its character references decoded (numeric ones and the few
/// named ones a URL holds); lol_html gives values as written.
fn decode_entities(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut rest = v;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "sol" => Some('/'),
                "period" => Some('.'),
                "colon" => Some(':'),
                _ => {
                    let n = name.strip_prefix('#')?;
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(h) => u32::from_str_radix(h, 16).ok()?,
                        None => n.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_by_name_in_any_case() {
        assert!(has_element("<p><NoFrames >", &[b"noframes"]));
        assert!(!has_element("<xmpfoo>", &[b"xmp"]));
    }

    /// The page is tested in blocks: a tag across a block's end, or at the page's end.
    #[test]
    fn elements_across_the_blocks_the_page_is_tested_in() {
        for at in 4090..4100 {
            let page = format!("{}<BaSe href=x>", &"<p>a".repeat(2000)[..at]);
            assert!(has_element(&page, &[b"base"]), "{at}");
            assert!(!has_element(&page, &[b"xmp", b"bases"]), "{at}");
            let cut = format!("{}<ba", "z".repeat(at));
            assert!(!has_element(&cut, &[b"base"]), "{at}");
        }
        assert!(has_element(
            "<noembed>",
            &[b"xmp", b"plaintext", b"noembed", b"noframes"]
        ));
        assert!(has_element("<b>", &[b"b"]));
    }

    #[test]
    fn css_that_keeps_spaces() {
        assert!(keeps_white_space("x{white-space:break-spaces}"));
        assert!(!keeps_white_space("x{white-space:nowrap} y{content:'pre'}"));
        assert!(!keeps_white_space("white-space"));
    }

    /// The linear reading answers as one search per `white-space` did, on every
    /// arrangement of a few pieces; and `white-space` repeated with no `:` (1.2 MB), which
    /// took minutes that way, is read at once.
    #[test]
    fn css_that_keeps_spaces_is_read_in_one_pass() {
        fn one_search_each(css: &str) -> bool {
            let lower = css.to_ascii_lowercase();
            lower.match_indices("white-space").any(|(i, _)| {
                let rest = &lower[i..];
                let Some(colon) = rest.find(':') else {
                    return false;
                };
                let value = &rest[colon + 1..];
                let value = &value[..value.find([';', '}']).unwrap_or(value.len())];
                value.contains("pre") || value.contains("break-spaces")
            })
        }
        let pieces = [
            "white-space",
            ":",
            ";",
            "}",
            "pre",
            "break-spaces",
            " x",
            "PRE-wrap",
        ];
        let mut n = 0;
        for a in 0..pieces.len() {
            for b in 0..pieces.len() {
                for c in 0..pieces.len() {
                    for d in 0..pieces.len() {
                        for e in 0..pieces.len() {
                            let css = [a, b, c, d, e].map(|k| pieces[k]).concat();
                            assert_eq!(keeps_white_space(&css), one_search_each(&css), "{css}");
                            n += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(n, 32_768);
        assert!(!keeps_white_space(&"white-space ".repeat(100_000)));
        let many = "white-space:a ".repeat(100_000) + "pre";
        assert!(keeps_white_space(&many));
    }

    #[test]
    fn the_first_base_href_decides() {
        let b = |src: &str| base_of(src, "a/b/page.html");
        assert_eq!(b("<p>no base</p>"), Base::Page);
        assert_eq!(b("<base target=_top>"), Base::Page);
        assert_eq!(
            b("<BASE href=/docs/>"),
            Base::Site("docs/index.html".into())
        );
        assert_eq!(
            b("<base href='../x/y.html?q'>"),
            Base::Site("a/x/index.html".into())
        );
        assert_eq!(
            b("<base href=/><base href=/other/>"),
            Base::Site("index.html".into())
        );
        assert_eq!(b("<base href=c>"), Base::Site("a/b/index.html".into()));
        assert!(matches!(
            b("<base href=https://cdn.example/s/>"),
            Base::Elsewhere(_)
        ));
        assert!(matches!(
            b("<base href=//cdn.example/>"),
            Base::Elsewhere(_)
        ));
        assert!(matches!(b("<base href=../../../>"), Base::Elsewhere(_)));
        // A final `.` or `..` names a folder.
        assert_eq!(b("<base href=..>"), Base::Site("a/index.html".into()));
        assert_eq!(b("<base href=../..>"), Base::Site("index.html".into()));
        assert_eq!(b("<base href=sub/..>"), Base::Site("a/b/index.html".into()));
        // Read as a URL parser reads it.
        assert_eq!(
            b("<base href='/docs&#47;'>"),
            Base::Site("docs/index.html".into())
        );
        assert_eq!(
            b("<base href='/d&#111;cs/'>"),
            Base::Site("docs/index.html".into())
        );
        assert_eq!(
            b("<base href='\\docs\\'>"),
            Base::Site("docs/index.html".into())
        );
        assert_eq!(
            b("<base href='/do\tcs/'>"),
            Base::Site("docs/index.html".into())
        );
        // Inert or foreign: not the page's base.
        assert_eq!(b("<template><base href=/docs/></template>"), Base::Page);
        assert_eq!(b("<svg><base href=/docs/></svg>"), Base::Page);
        assert_eq!(
            b("<template><base href=/x/></template><base href=/docs/>"),
            Base::Site("docs/index.html".into())
        );
    }
}
