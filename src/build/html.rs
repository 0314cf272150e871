//! HTML: local references in attributes, inline `<style>`/`style=""` and inline
//! `<script>` are rewritten and minified with the same CSS and JS minifiers as files
//! (lol_html finds them), then minify-html compacts the markup.

use std::cell::RefCell;

use lightningcss::targets::Targets;
use lol_html::html_content::ContentType;
use lol_html::{element, text, RewriteStrSettings};

use super::refs::{Placeholders, RefKind};
use super::{css, html_chunks, html_scan, js};

/// An error inside an HTML file.
pub use super::kinds::SourceErr as HtmlErr;

/// Attributes holding one URL.
const URL_ATTRS: &[&str] = &["src", "href", "poster", "data", "xlink:href", "background"];

/// What an attribute holds, for the ones the build rewrites.
#[derive(Clone, Copy)]
enum Want {
    Url,
    Srcset,
    Style,
}

#[derive(Clone, Copy, PartialEq)]
enum ScriptType {
    Classic,
    Module,
    ImportMap,
    Other,
}

fn script_type(t: Option<String>) -> ScriptType {
    match t.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
        None => ScriptType::Classic,
        Some(t) => match t.as_str() {
            "" | "text/javascript" | "application/javascript" | "javascript" => ScriptType::Classic,
            "module" => ScriptType::Module,
            "importmap" => ScriptType::ImportMap,
            _ => ScriptType::Other,
        },
    }
}

struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(s: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(s.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }
    fn line(&self, byte: usize) -> u32 {
        (self.starts.partition_point(|&s| s <= byte)) as u32
    }
}

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
    if let Some((line, col, msg)) = super::depth::check_html(src, super::depth::HTML_LIMIT) {
        return Err(HtmlErr { line, col, msg });
    }
    let lines = Lines::new(src);
    let ph = RefCell::new(ph);
    let warnings = RefCell::new(warnings);
    let error: RefCell<Option<HtmlErr>> = RefCell::new(None);
    let current_script = RefCell::new(ScriptType::Other);
    // Whitespace that CSS on the page keeps (`white-space: pre` in a `style` attribute
    // or a `<style>`): minify-html would collapse it, so the markup stays as written.
    let keeps_spaces = std::cell::Cell::new(false);
    let script_buf = RefCell::new((String::new(), 0usize));
    let style_buf = RefCell::new((String::new(), 0usize));

    let fail = |e: HtmlErr| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if keep_going {
            warnings.borrow_mut().push(format!(
                "{name}:{}:{}: {} (kept unminified: --keep-going)",
                e.line, e.col, e.msg
            ));
            Ok(())
        } else {
            let msg = e.msg.clone();
            *error.borrow_mut() = Some(e);
            Err(msg.into())
        }
    };
    // Inline code kept as written: its failure reported (or refused), and the files it
    // names keep their source names (originals.rs).
    let unread = |e: HtmlErr, code: &str| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        fail(e)?;
        ph.borrow_mut().note_unread(code);
        Ok(())
    };

    let settings = RewriteStrSettings::new()
        .append_element_content_handler(element!("*", |el| {
            // `<base href>` is where the page's references resolve from (html_scan.rs),
            // not a reference to a file.
            if el.tag_name() == "base" {
                return Ok(());
            }
            let is_script = el.tag_name() == "script";
            if is_script {
                *current_script.borrow_mut() = ScriptType::Classic;
            }
            // One pass over the attributes: asking for each by name re-reads them all
            // and allocates every time, for every element of the page.
            let mut wanted: Vec<(Want, String, String)> = Vec::new();
            let mut rel = String::new();
            for a in el.attributes() {
                let name = a.name();
                let want = match name.as_str() {
                    "type" if is_script => {
                        *current_script.borrow_mut() = script_type(Some(a.value()));
                        continue;
                    }
                    "rel" => {
                        rel = a.value().to_ascii_lowercase();
                        continue;
                    }
                    // SVG text that keeps its spaces: minify-html would collapse them.
                    "xml:space" => {
                        if a.value().trim().eq_ignore_ascii_case("preserve") {
                            keeps_spaces.set(true);
                        }
                        continue;
                    }
                    "srcset" | "imagesrcset" => Want::Srcset,
                    "style" => Want::Style,
                    n if URL_ATTRS.contains(&n) => Want::Url,
                    _ => continue,
                };
                // The first of two same-named attributes is the one that counts.
                if !wanted.iter().any(|(_, n, _)| *n == name) {
                    wanted.push((want, name, a.value()));
                }
            }
            if wanted.is_empty() {
                return Ok(());
            }
            let line = lines.line(el.source_location().bytes().start);
            let tag = el.tag_name();
            for (want, attr, v) in wanted {
                match want {
                    Want::Url => {
                        let kind = if is_script && attr == "src" {
                            match *current_script.borrow() {
                                ScriptType::Module => RefKind::ModuleScript,
                                _ => RefKind::ClassicScript,
                            }
                        } else if tag == "link"
                            && rel.split_whitespace().any(|r| r == "modulepreload")
                        {
                            RefKind::ModuleScript
                        } else {
                            RefKind::Url
                        };
                        if let Some(new) = ph.borrow_mut().replace(&v, line, kind) {
                            el.set_attribute(&attr, &new)?;
                        }
                    }
                    Want::Srcset => {
                        let new =
                            rewrite_srcset(&v, |u| ph.borrow_mut().replace(u, line, RefKind::Url));
                        if new != v {
                            el.set_attribute(&attr, &new)?;
                        }
                    }
                    Want::Style => {
                        if html_scan::keeps_white_space(&v) {
                            keeps_spaces.set(true);
                        }
                        let result = css::minify_attribute(&v, targets, &mut ph.borrow_mut(), line);
                        match result {
                            Ok(min) => el.set_attribute("style", &min)?,
                            Err(e) => unread(
                                HtmlErr {
                                    line: e.line,
                                    col: e.col,
                                    msg: format!("inline style: {}", e.msg),
                                },
                                &v,
                            )?,
                        }
                    }
                }
            }
            Ok(())
        }))
        .append_element_content_handler(text!("script", |t| {
            let Some((code, start)) = whole_text(&script_buf, t) else {
                return Ok(());
            };
            let line0 = lines.line(start).saturating_sub(1) as usize;
            let kind = *current_script.borrow();
            let replacement = match kind {
                _ if code.trim().is_empty() => code,
                ScriptType::Classic | ScriptType::Module => {
                    let jk = if kind == ScriptType::Module {
                        js::JsKind::Module
                    } else {
                        js::JsKind::Script
                    };
                    let result = js::minify(&code, name, jk, &mut ph.borrow_mut());
                    match result {
                        // Escaped by the code generator (`inline_script`).
                        Ok(min) => min,
                        Err(e) => {
                            let e = HtmlErr {
                                line: e.line + line0,
                                col: e.col,
                                msg: format!("inline script: {}", e.msg),
                            };
                            unread(e, &code)?;
                            code
                        }
                    }
                }
                ScriptType::ImportMap => {
                    let json: Result<serde_json::Value, _> = serde_json::from_str(&code);
                    match json {
                        // Its entries resolve against a base off the site: as written.
                        Ok(_) if ph.borrow().base_elsewhere() => code,
                        Ok(v) => ph.borrow_mut().add(
                            &v.to_string(),
                            line0 as u32 + 1,
                            RefKind::ImportMap,
                        ),
                        Err(e) => {
                            fail(HtmlErr {
                                line: e.line() + line0,
                                col: e.column(),
                                msg: format!("import map: {e}"),
                            })?;
                            code
                        }
                    }
                }
                ScriptType::Other => code,
            };
            t.replace(&replacement, ContentType::Html);
            Ok(())
        }))
        .append_element_content_handler(text!("style", |t| {
            let Some((code, start)) = whole_text(&style_buf, t) else {
                return Ok(());
            };
            if html_scan::keeps_white_space(&code) {
                keeps_spaces.set(true);
            }
            let line0 = lines.line(start).saturating_sub(1);
            let result = css::minify(&code, name, targets, &mut ph.borrow_mut(), line0);
            let replacement = match result {
                Ok(min) => escape_end_tag(&min, b"style"),
                Err(e) => {
                    let e = HtmlErr {
                        line: e.line,
                        col: e.col,
                        msg: format!("inline style: {}", e.msg),
                    };
                    unread(e, &code)?;
                    code
                }
            };
            t.replace(&replacement, ContentType::Html);
            Ok(())
        }));

    let rewritten = lol_html::rewrite_str(src, settings);
    if let Some(e) = error.borrow_mut().take() {
        return Err(e);
    }
    let rewritten = rewritten.map_err(|e| HtmlErr {
        line: 1,
        col: 1,
        msg: e.to_string(),
    })?;
    // Optional tags are omitted where the HTML spec allows it (`</p>`, `</li>`, `<head>`,
    // `</body>`…), as tdewolff's minify does: every conforming parser builds the same
    // tree, and docs pages shrink by a few percent.
    // minify-html reads the content of these raw-text elements as markup (dropping
    // what it takes for tags and comments, even the end tag): a page that has one
    // keeps its markup as written, references rewritten.
    if keeps_spaces.get()
        || html_scan::has_element(&rewritten, &[b"xmp", b"plaintext", b"noembed", b"noframes"])
    {
        return Ok(rewritten);
    }
    // A large page is minified in pieces cut between body-level blocks (html_chunks.rs):
    // minify-html's tree of a whole 20 MB page took 505 MB.
    let cuts = if rewritten.len() > html_chunks::WHOLE_MAX {
        html_chunks::cuts(&rewritten, html_chunks::PIECE)
    } else {
        Vec::new()
    };
    let mut out = String::with_capacity(rewritten.len());
    let mut last = 0;
    for cut in cuts.into_iter().chain([rewritten.len()]) {
        out.push_str(&minify_markup(&rewritten[last..cut])?);
        last = cut;
    }
    Ok(out)
}

/// minify-html over markup whose references are already placeholders.
fn minify_markup(html: &str) -> Result<String, HtmlErr> {
    let cfg = minify_html::Cfg {
        minify_css: false,
        minify_js: false,
        keep_closing_tags: false,
        keep_html_and_head_opening_tags: false,
        ..Default::default()
    };
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
        let out = utf8(minify_html::minify(input.as_bytes(), &cfg))?;
        if out.matches(mark).count() == n {
            return Ok(out.replace(mark, " "));
        }
    }
    utf8(minify_html::minify(html.as_bytes(), &cfg))
}

/// `text` with every `</NAME` (any case) written `<\/NAME`, so that it cannot end
/// the element it is inlined in (`\/` is `/` in CSS and JS strings).
fn escape_end_tag(text: &str, name: &[u8]) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for i in 0..b.len() {
        let is_end = b[i] == b'<'
            && b.get(i + 1) == Some(&b'/')
            && b.get(i + 2..i + 2 + name.len())
                .is_some_and(|t| t.eq_ignore_ascii_case(name));
        if is_end {
            out.push_str(&text[last..=i]);
            out.push('\\');
            last = i + 1;
        }
    }
    out.push_str(&text[last..]);
    out
}

/// Collects an element's text chunks (removing them from the output) until the last
/// one, then returns the whole text and the byte offset where it started.
fn whole_text(
    buf: &RefCell<(String, usize)>,
    t: &mut lol_html::html_content::TextChunk<'_>,
) -> Option<(String, usize)> {
    let mut b = buf.borrow_mut();
    if b.0.is_empty() {
        b.1 = t.source_location().bytes().start;
    }
    b.0.push_str(t.as_str());
    if !t.last_in_text_node() {
        t.remove();
        return None;
    }
    Some(std::mem::take(&mut *b))
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
mod tests {
    use super::*;

    #[test]
    fn srcset() {
        let out = rewrite_srcset("a.png 1x, /b.png 2x,c.png", |u| Some(format!("[{u}]")));
        assert_eq!(out, "[a.png] 1x, [/b.png] 2x,[c.png]");
    }

    fn minified(src: &str) -> String {
        let mut ph = Placeholders::for_content(src.as_bytes());
        process(
            src,
            "i.html",
            Targets::default(),
            &mut ph,
            false,
            &mut vec![],
        )
        .unwrap()
    }

    /// Escapes a script or style needs to stay one element survive minification, in
    /// any case: otherwise the rest of the page would be read as script (hunt, #13).
    #[test]
    fn inline_scripts_and_styles_keep_their_escapes() {
        let out = minified(
            r#"<script>var d = "\x3c!--", e = "\x3cscript>", f = "<\/SCRIPT>", g = /<!--/;</script><style>a::after{content:"</STYLE>"}</style><p>visible"#,
        );
        let script = &out[out.find("<script>").unwrap() + 8..out.find("</script>").unwrap()];
        for bad in ["<!--", "</script", "</SCRIPT"] {
            assert!(!script.contains(bad), "{bad} in {out}");
        }
        assert!(!out.contains("</STYLE>\""), "{out}");
        assert!(out.ends_with("<p>visible"), "{out}");
    }

    /// An icon font's private-use character, named by reference, is not taken for a
    /// kept space (review of the space marks).
    #[test]
    fn icon_characters_survive_the_space_marks() {
        let out = minified("<div><i>&#xE000;</i> <span title=\"&#57344;\">Menu</span></div>");
        assert_eq!(out.matches('\u{E000}').count(), 2, "{out}");
        assert!(out.contains("</i> <span"), "{out}");
    }

    /// A space between inline elements renders: it stays, as one space (hunt, #13).
    #[test]
    fn spaces_between_inline_elements_stay() {
        assert_eq!(
            minified("<body><div><span>a</span>  <span>b</span></div>\n<nav><a href=#h>Home</a>\n<a href=#x>X</a></nav><p>x</p> <ul><li>a</li>\n<li>b</li></ul>"),
            "<body><div><span>a</span> <span>b</span></div><nav><a href=#h>Home</a> <a href=#x>X</a></nav><p>x<ul><li>a<li>b</ul>"
        );
    }

    /// minify-html reads these raw-text elements as markup: the page is kept as written.
    #[test]
    fn raw_text_elements_are_kept_as_written() {
        for src in [
            "<xmp><b></xmp><p>after</p>",
            "<XMP>x< <!-- c --></XMP>",
            "<p>a</p>  <plaintext><i>",
            "<noembed></b></noembed>",
        ] {
            assert_eq!(minified(src), src);
        }
    }

    /// CSS on the page that keeps spaces: minify-html would collapse them.
    #[test]
    fn pages_whose_css_keeps_spaces_keep_their_markup() {
        for src in [
            "<div style=\"white-space: pre\">a   b\n  c</div>",
            "<style>.code { WHITE-SPACE : pre-wrap }</style><p class=code>a   b</p>",
            "<p style='white-space-collapse:preserve'>a  b</p>",
        ] {
            let out = minified(src);
            assert!(
                out.contains("a   b") || out.contains("a  b"),
                "{src} → {out}"
            );
        }
    }

    #[test]
    fn optional_tags_are_omitted() {
        let src = "<!doctype html><html><head><title>t</title></head><body><ul><li>a</li><li>b</li></ul><p>x</p><p>y</p></body></html>";
        assert_eq!(
            minified(src),
            "<!doctype html><title>t</title><body><ul><li>a<li>b</ul><p>x<p>y"
        );
    }

    #[test]
    fn rewrites_and_minifies() {
        let src = r##"<!doctype html><html><head><link rel="stylesheet" href="css/a.css?v=1">
<style> .a { background: url( "img/x.png" ) } </style>
<script>var someGlobal = 1; function f(longName){ return longName + someGlobal }</script>
<script type="module" src="./js/app.js"></script>
<script type="importmap">{"imports": {"lib": "/js/lib.js"}}</script>
</head><body><img srcset="a.png 1x, b.png 2x" src="https://cdn/x.png" style="background:url(bg.png)"><a href="#top">x</a></body></html>"##;
        let mut ph = Placeholders::for_content(src.as_bytes());
        let mut w = vec![];
        let out = process(
            src,
            "index.html",
            Targets::default(),
            &mut ph,
            false,
            &mut w,
        )
        .unwrap();
        let refs = ph.clone().into_refs();
        let paths: Vec<_> = refs.iter().map(|r| r.path.as_str()).collect();
        assert!(paths.contains(&"css/a.css"), "{paths:?}");
        assert!(paths.contains(&"img/x.png"));
        assert!(paths.contains(&"bg.png"));
        assert!(paths.contains(&"b.png"));
        assert!(refs.iter().any(|r| r.kind == RefKind::ImportMap));
        assert!(refs
            .iter()
            .any(|r| r.kind == RefKind::ModuleScript && r.path == "./js/app.js"));
        assert!(out.contains("someGlobal"), "{out}");
        assert!(!out.contains("longName"), "{out}");
        assert!(out.contains("https://cdn/x.png"));
        assert!(out.contains("?v=1"));
    }

    #[test]
    fn inline_script_error_has_line() {
        let src = "<html>\n<body>\n<script>\nvar a = ;\n</script></body></html>";
        let mut ph = Placeholders::for_content(src.as_bytes());
        let e = process(
            src,
            "x.html",
            Targets::default(),
            &mut ph,
            false,
            &mut vec![],
        )
        .unwrap_err();
        assert_eq!(e.line, 4, "{e:?}");
    }
}
