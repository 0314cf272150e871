//! HTML: local references in attributes, inline `<style>`/`style=""` and inline
//! `<script>` are rewritten and minified with the same CSS and JS minifiers as files
//! (html_rewrite.rs; html_tags.rs or lol_html finds them), then minify-html compacts
//! the markup.

use lightningcss::targets::Targets;

use super::refs::Placeholders;
use super::{html_chunks, html_rewrite, html_scan};

/// An error inside an HTML file.
pub use super::kinds::SourceErr as HtmlErr;

/// Rewrites and minifies one HTML document. With `keep_going`, an inline script or
/// style that does not parse is kept as written and reported in `warnings`.
pub fn process(
    src: &str,
    name: &str,
    targets: Targets,
    ph: &mut Placeholders,
    keep_going: bool,
    warnings: &mut Vec<String>,
) -> Result<String, HtmlErr> {
    process_with(src, name, targets, ph, keep_going, warnings, true)
}

/// `process`, with the scan (`fast`) or lol_html alone.
fn process_with(
    src: &str,
    name: &str,
    targets: Targets,
    ph: &mut Placeholders,
    keep_going: bool,
    warnings: &mut Vec<String>,
    fast: bool,
) -> Result<String, HtmlErr> {
    if let Some((line, col, msg)) = super::depth::check_html(src, super::depth::HTML_LIMIT) {
        return Err(HtmlErr { line, col, msg });
    }
    let (rewritten, keeps_spaces) =
        html_rewrite::rewrite(src, name, targets, ph, keep_going, warnings, fast)?;
    // Optional tags are omitted where the HTML spec allows it (`</p>`, `</li>`, `<head>`,
    // `</body>`…), as tdewolff's minify does: every conforming parser builds the same
    // tree, and docs pages shrink by a few percent.
    // minify-html reads the content of these raw-text elements as markup (dropping
    // what it takes for tags and comments, even the end tag): a page that has one
    // keeps its markup as written, references rewritten.
    if keeps_spaces
        || html_scan::has_element(&rewritten, &[b"xmp", b"plaintext", b"noembed", b"noframes"])
    {
        return Ok(rewritten);
    }
    // A large page is minified in pieces cut between body-level blocks (html_chunks.rs):
    // minify-html's tree of a whole 20 MB page took 505 MB.
    if rewritten.len() <= html_chunks::WHOLE_MAX {
        return minify_markup(&rewritten);
    }
    let cuts = html_chunks::cuts(&rewritten, html_chunks::PIECE);
    let mut out = String::with_capacity(rewritten.len());
    let mut last = 0;
    for cut in cuts.into_iter().chain([rewritten.len()]) {
        out.push_str(&minify_markup(&rewritten[last..cut])?);
        last = cut;
    }
    Ok(out)
}

/// minify-html's options: CSS and JS are minified before it runs (patch 1 of
/// vendor/minify-html removed its own minifiers); optional tags are omitted.
fn minify_cfg() -> minify_html::Cfg {
    minify_html::Cfg {
        minify_css: false,
        minify_js: false,
        keep_closing_tags: false,
        keep_html_and_head_opening_tags: false,
        ..Default::default()
    }
}

/// minify-html over markup whose references are already placeholders.
fn minify_markup(html: &str) -> Result<String, HtmlErr> {
    let cfg = minify_cfg();
    let utf8 = |out: Vec<u8>| {
        String::from_utf8(out).map_err(|_| HtmlErr {
            line: 1,
            col: 1,
            msg: "minified HTML is not UTF-8".into(),
        })
    };
    // The spaces minify-html would drop between inline elements, kept (html_space.rs);
    // if minify-html did not give back exactly the marks put in, they are not used.
    if let (input, Some((mark, n))) = super::html_space::protect(html) {
        let mut out = minify_html::minify(input.as_bytes(), &cfg);
        if unmark(&mut out, mark, n) {
            return utf8(out);
        }
    }
    utf8(minify_html::minify(html.as_bytes(), &cfg))
}

/// Makes each `mark` in `out` a space, in place, if there are exactly `n` of them (else
/// `out` is left as it was).
fn unmark(out: &mut Vec<u8>, mark: char, n: usize) -> bool {
    let mut buf = [0u8; 4];
    let mark = mark.encode_utf8(&mut buf).as_bytes();
    let found: Vec<usize> = memchr::memmem::find_iter(out, mark).collect();
    if found.len() != n {
        return false;
    }
    // Each piece between marks moves left by what the marks before it gave up.
    let mut to = 0;
    let mut from = 0;
    for at in found {
        out.copy_within(from..at, to);
        to += at - from;
        out[to] = b' ';
        to += 1;
        from = at + mark.len();
    }
    out.copy_within(from.., to);
    to += out.len() - from;
    out.truncate(to);
    true
}

/// Rewrites each URL of a `srcset` value with `f` (None leaves it as is).
pub fn rewrite_srcset(v: &str, mut f: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(v.len());
    let bytes = v.as_bytes();
    let mut i = 0;
    while i < v.len() {
        // separators
        let start = i;
        while i < v.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
            i += 1;
        }
        out.push_str(&v[start..i]);
        if i >= v.len() {
            break;
        }
        let url_start = i;
        while i < v.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut url_end = i;
        while url_end > url_start && bytes[url_end - 1] == b',' {
            url_end -= 1;
        }
        let url = &v[url_start..url_end];
        match f(url) {
            Some(new) => out.push_str(&new),
            None => out.push_str(url),
        }
        out.push_str(&v[url_end..i]);
        if url_end < i {
            continue; // the candidate ended with a comma
        }
        let d = i;
        while i < v.len() && bytes[i] != b',' {
            i += 1;
        }
        out.push_str(&v[d..i]);
    }
    out
}

#[cfg(test)]
mod tests;
