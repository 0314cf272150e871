//! Element nesting in HTML: see [`check_html`].

/// How an element's tag counts towards nesting, by its lower-cased name.
#[derive(PartialEq)]
enum Nests {
    /// Opens an element that nests.
    Yes,
    /// Void (`br`), or closed by minify-html when a sibling opens (`li`, `p`, `td`…; their
    /// end tag may be left out): a run of them does not nest, and counting them would
    /// refuse real pages.
    No,
    /// Its content is text up to its end tag: skipped whole.
    Raw,
}

fn nests(name: &[u8]) -> Nests {
    match name {
        b"area" | b"base" | b"br" | b"col" | b"embed" | b"hr" | b"img" | b"input" | b"link"
        | b"meta" | b"param" | b"source" | b"track" | b"wbr" => Nests::No,
        b"li" | b"dt" | b"dd" | b"p" | b"rt" | b"rp" | b"optgroup" | b"option" | b"thead"
        | b"tbody" | b"tfoot" | b"tr" | b"td" | b"th" | b"html" | b"head" | b"body" => Nests::No,
        b"script" | b"style" | b"textarea" | b"title" | b"xmp" => Nests::Raw,
        _ => Nests::Yes,
    }
}
/// How far up the open elements an end tag is matched (a stray end tag closes nothing).
const MATCH_WINDOW: usize = 64;

/// Where element nesting in HTML first goes past `limit`, as [`super::check`] says it. Open
/// elements are kept on a stack: an end tag closes up to the nearest element of its
/// name (a stray one closes nothing), `/>` closes only inside `<svg>` and `<math>`, and
/// raw-text elements are skipped whole. Approximate, erring towards counting more.
pub(crate) fn check_html(text: &str, limit: usize) -> Option<(usize, usize, String)> {
    let b = text.as_bytes();
    // Each element opened is a `<` of its own: a page with no more of them than `limit`
    // nests no deeper (most pages; counting them is a tenth of the walk below).
    if memchr::memchr_iter(b'<', b).count() <= limit {
        return None;
    }
    let mut open: Vec<[u8; 10]> = Vec::new();
    let mut foreign = 0usize;
    let mut i = 0usize;
    while let Some(off) = memchr::memchr(b'<', &b[i..]) {
        let lt = i + off;
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
        let name = &key[..key.iter().position(|&c| c == 0).unwrap_or(key.len())];
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
        let kind = nests(name);
        if kind == Nests::Raw {
            // Skip past its end tag (any case).
            let mut close = b"</".to_vec();
            close.extend_from_slice(name);
            let from = i;
            i = memchr::memchr_iter(b'<', &b[from..])
                .map(|p| from + p)
                .find(|&p| {
                    b.get(p..p + close.len())
                        .is_some_and(|w| w.eq_ignore_ascii_case(&close))
                })
                .map_or(b.len(), |p| tag_end(b, p + close.len()) + 1)
                .min(b.len());
            continue;
        }
        if kind == Nests::No || self_closing {
            continue;
        }
        if name == b"svg" || name == b"math" {
            foreign += 1;
        }
        open.push(key);
        if open.len() > limit {
            let (line, col) = line_col(text, lt);
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
    while let Some(at) = b
        .get(i..)
        .and_then(|r| memchr::memchr3(b'>', b'"', b'\'', r))
    {
        let at = i + at;
        match b[at] {
            b'>' => return at,
            q => match memchr::memchr(q, &b[at + 1..]) {
                Some(close) => i = at + 1 + close + 1,
                None => return b.len(),
            },
        }
    }
    b.len()
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(b.get(from..)?, needle).map(|p| from + p)
}

/// 1-based line and column (in characters) of `offset`, counted only for the error.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset];
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |p| p + 1);
    let line = memchr::memchr_iter(b'\n', before).count();
    let col = text
        .get(line_start..offset)
        .map_or(0, |s| s.chars().count())
        + 1;
    (line + 1, col)
}

#[cfg(test)]
mod tests {
    use super::*;

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
