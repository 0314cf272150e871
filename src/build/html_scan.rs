//! Cheap looks at a page before and around its rewrite: which elements it has, whether
//! its CSS keeps spaces, where its `<base href>` points.

use super::refs::{is_local, resolve_path, split_suffix, RefKind};

/// Whether `css` (a stylesheet or declarations) sets `white-space` (or
/// `white-space-collapse`) to a value that keeps spaces: `pre`, `pre-wrap`,
/// `pre-line`, `break-spaces`, `preserve`.
pub(super) fn keeps_white_space(css: &str) -> bool {
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

/// Whether `html` has a start tag of one of `names` (ASCII, lower case), in any case.
pub(super) fn has_element(html: &str, names: &[&[u8]]) -> bool {
    let b = html.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'<'
            && names.iter().any(|n| {
                b.get(i + 1..i + 1 + n.len())
                    .is_some_and(|t| t.eq_ignore_ascii_case(n))
                    && b.get(i + 1 + n.len()).is_none_or(|&e| {
                        matches!(e, b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
                    })
            })
    })
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

/// The page's base, from its first `<base href>` (the one browsers use).
pub(super) fn base_of(src: &str, rel: &str) -> Base {
    if !has_element(src, &[b"base"]) {
        return Base::Page;
    }
    let href = std::cell::RefCell::new(None::<String>);
    let settings = lol_html::RewriteStrSettings::new().append_element_content_handler(
        lol_html::element!("base[href]", |el| {
            let mut h = href.borrow_mut();
            if h.is_none() {
                *h = el.get_attribute("href");
            }
            Ok(())
        }),
    );
    if lol_html::rewrite_str(src, settings).is_err() {
        return Base::Page;
    }
    let Some(href) = href.into_inner() else {
        return Base::Page;
    };
    let (path, _) = split_suffix(href.trim());
    if path.is_empty() {
        return Base::Page;
    }
    if !is_local(path, RefKind::Url) {
        return Base::Elsewhere(href);
    }
    // The base's folder: what is after its last `/` is a file name.
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    match resolve_path(rel, if dir.is_empty() { "./" } else { dir }) {
        Some(index) => Base::Site(index),
        None => Base::Elsewhere(href),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_by_name_in_any_case() {
        assert!(has_element("<p><NoFrames >", &[b"noframes"]));
        assert!(!has_element("<xmpfoo>", &[b"xmp"]));
    }

    #[test]
    fn css_that_keeps_spaces() {
        assert!(keeps_white_space("x{white-space:break-spaces}"));
        assert!(!keeps_white_space("x{white-space:nowrap} y{content:'pre'}"));
        assert!(!keeps_white_space("white-space"));
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
    }
}
