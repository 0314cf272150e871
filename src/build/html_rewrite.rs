//! The rewrite of one page's references, inline styles and inline scripts (html.rs
//! minifies the markup after it). The same handlers (`Page`) run whichever pass finds
//! the tags: html_tags.rs's scan, or lol_html for a page the scan does not read.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use lightningcss::targets::Targets;
use lol_html::html_content::ContentType;
use lol_html::{element, text, RewriteStrSettings};

use super::html::{rewrite_srcset, HtmlErr};
use super::refs::{Placeholders, RefKind};
use super::{css, html_scan, html_tags, js};

/// Attributes holding one URL.
pub(super) const URL_ATTRS: &[&str] =
    &["src", "href", "poster", "data", "xlink:href", "background"];
/// Attributes holding a `srcset`.
pub(super) const SRCSET_ATTRS: &[&str] = &["srcset", "imagesrcset"];

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

fn script_type(t: Option<&str>) -> ScriptType {
    match t.map(|s| s.trim().to_ascii_lowercase()) {
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
    /// A page's lines as HTML reads them: `\n`, `\r\n` and a lone `\r` end one (the
    /// same rule as JS's, so an inline script's lines and the page's agree).
    fn new(s: &str) -> Self {
        let b = s.as_bytes();
        let mut starts = vec![0];
        starts.extend(
            memchr::memchr2_iter(b'\n', b'\r', b)
                .filter(|&i| !(b[i] == b'\r' && b.get(i + 1) == Some(&b'\n')))
                .map(|i| i + 1),
        );
        Lines { starts }
    }
    fn line(&self, byte: usize) -> u32 {
        (self.starts.partition_point(|&s| s <= byte)) as u32
    }
}

type HandlerResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A start tag as the rewrite sees it: lol_html's element, or one found by
/// html_tags.rs's scan.
trait StartTag {
    /// The tag's name, in lower case.
    fn tag(&self) -> Cow<'_, str>;
    /// Each attribute's name (in lower case) and value (as written, entities and all).
    fn attrs(&self, f: &mut dyn FnMut(&str, &str));
    /// Sets the value of the first attribute called `name`.
    fn set(&mut self, name: &str, value: &str) -> HandlerResult<()>;
    /// Where the tag starts in the page.
    fn offset(&self) -> usize;
}

impl StartTag for lol_html::html_content::Element<'_, '_> {
    fn tag(&self) -> Cow<'_, str> {
        Cow::Owned(self.tag_name())
    }
    fn attrs(&self, f: &mut dyn FnMut(&str, &str)) {
        for a in self.attributes() {
            f(&a.name(), &a.value());
        }
    }
    fn set(&mut self, name: &str, value: &str) -> HandlerResult<()> {
        Ok(self.set_attribute(name, value)?)
    }
    fn offset(&self) -> usize {
        self.source_location().bytes().start
    }
}

/// One page's rewrite: what the handlers share, whichever pass finds the tags.
struct Page<'a> {
    name: &'a str,
    targets: Targets,
    keep_going: bool,
    lines: Lines,
    ph: RefCell<&'a mut Placeholders>,
    warnings: RefCell<&'a mut Vec<String>>,
    error: RefCell<Option<HtmlErr>>,
    current_script: Cell<ScriptType>,
    // Whitespace that CSS on the page keeps (`white-space: pre` in a `style` attribute
    // or a `<style>`): minify-html would collapse it, so the markup stays as written.
    keeps_spaces: Cell<bool>,
}

impl Page<'_> {
    fn fail(&self, e: HtmlErr) -> HandlerResult<()> {
        if self.keep_going {
            self.warnings.borrow_mut().push(format!(
                "{}:{}:{}: {} (kept unminified: --keep-going)",
                self.name, e.line, e.col, e.msg
            ));
            Ok(())
        } else {
            let msg = e.msg.clone();
            *self.error.borrow_mut() = Some(e);
            Err(msg.into())
        }
    }

    /// Inline code kept as written: its failure reported (or refused), and the files it
    /// names keep their source names (originals.rs).
    fn unread(&self, e: HtmlErr, code: &str) -> HandlerResult<()> {
        self.fail(e)?;
        self.ph.borrow_mut().note_unread(code);
        Ok(())
    }

    /// A start tag: its references, `srcset` and `style` rewritten; a `<script>`'s type
    /// noted for its text.
    fn start_tag(&self, el: &mut impl StartTag) -> HandlerResult<()> {
        let tag = el.tag();
        // `<base href>` is where the page's references resolve from (html_scan.rs),
        // not a reference to a file.
        if tag == "base" {
            return Ok(());
        }
        let is_script = tag == "script";
        let is_link = tag == "link";
        drop(tag);
        if is_script {
            self.current_script.set(ScriptType::Classic);
        }
        // One pass over the attributes: asking for each by name re-reads them all
        // and allocates every time, for every element of the page.
        let mut wanted: Vec<(Want, String, String)> = Vec::new();
        let mut rel = String::new();
        el.attrs(&mut |name, value| {
            let want = match name {
                "type" if is_script => {
                    self.current_script.set(script_type(Some(value)));
                    return;
                }
                "rel" => {
                    rel = value.to_ascii_lowercase();
                    return;
                }
                // SVG text that keeps its spaces: minify-html would collapse them.
                "xml:space" => {
                    if value.trim().eq_ignore_ascii_case("preserve") {
                        self.keeps_spaces.set(true);
                    }
                    return;
                }
                n if SRCSET_ATTRS.contains(&n) => Want::Srcset,
                "style" => Want::Style,
                n if URL_ATTRS.contains(&n) => Want::Url,
                _ => return,
            };
            // The first of two same-named attributes is the one that counts.
            if !wanted.iter().any(|(_, n, _)| n == name) {
                wanted.push((want, name.to_string(), value.to_string()));
            }
        });
        if wanted.is_empty() {
            return Ok(());
        }
        let line = self.lines.line(el.offset());
        for (want, attr, v) in wanted {
            match want {
                Want::Url => {
                    let kind = if is_script && attr == "src" {
                        match self.current_script.get() {
                            ScriptType::Module => RefKind::ModuleScript,
                            _ => RefKind::ClassicScript,
                        }
                    } else if is_link && rel.split_whitespace().any(|r| r == "modulepreload") {
                        RefKind::ModuleScript
                    } else {
                        RefKind::Url
                    };
                    let new = self.ph.borrow_mut().replace(&v, line, kind);
                    if let Some(new) = new {
                        el.set(&attr, &new)?;
                    }
                }
                Want::Srcset => {
                    let new =
                        rewrite_srcset(&v, |u| self.ph.borrow_mut().replace(u, line, RefKind::Url));
                    if new != v {
                        el.set(&attr, &new)?;
                    }
                }
                Want::Style => {
                    if html_scan::keeps_white_space(&v) {
                        self.keeps_spaces.set(true);
                    }
                    let result =
                        css::minify_attribute(&v, self.targets, &mut self.ph.borrow_mut(), line);
                    match result {
                        Ok(min) => el.set("style", &min)?,
                        Err(e) => self.unread(
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
    }

    /// A `<script>`'s text, starting at byte `start`: what replaces it.
    fn script(&self, code: String, start: usize) -> HandlerResult<String> {
        let line0 = self.lines.line(start).saturating_sub(1) as usize;
        let kind = self.current_script.get();
        Ok(match kind {
            _ if code.trim().is_empty() => code,
            ScriptType::Classic | ScriptType::Module => {
                let jk = if kind == ScriptType::Module {
                    js::JsKind::Module
                } else {
                    js::JsKind::Script
                };
                let result = {
                    let mut ph = self.ph.borrow_mut();
                    let first = ph.len();
                    let result = js::minify(&code, self.name, jk, &mut ph);
                    // Read with lines counted from the script's first line.
                    ph.shift_lines(first, line0 as u32);
                    result
                };
                match result {
                    // Escaped by the code generator (`inline_script`).
                    Ok(min) => min,
                    Err(e) => {
                        let e = HtmlErr {
                            line: e.line + line0,
                            col: e.col,
                            msg: format!("inline script: {}", e.msg),
                        };
                        self.unread(e, &code)?;
                        code
                    }
                }
            }
            ScriptType::ImportMap => {
                let json: Result<serde_json::Value, _> = serde_json::from_str(&code);
                match json {
                    // Its entries resolve against a base off the site: as written.
                    Ok(_) if self.ph.borrow().base_elsewhere() => code,
                    Ok(v) => self.ph.borrow_mut().add(
                        &v.to_string(),
                        line0 as u32 + 1,
                        RefKind::ImportMap,
                    ),
                    Err(e) => {
                        self.fail(HtmlErr {
                            line: e.line() + line0,
                            col: e.column(),
                            msg: format!("import map: {e}"),
                        })?;
                        code
                    }
                }
            }
            ScriptType::Other => code,
        })
    }

    /// A `<style>`'s text, starting at byte `start`: what replaces it.
    fn style(&self, code: String, start: usize) -> HandlerResult<String> {
        if html_scan::keeps_white_space(&code) {
            self.keeps_spaces.set(true);
        }
        let line0 = self.lines.line(start).saturating_sub(1);
        let result = css::minify(
            &code,
            self.name,
            self.targets,
            &mut self.ph.borrow_mut(),
            line0,
        );
        Ok(match result {
            Ok(min) => escape_end_tag(&min, b"style"),
            Err(e) => {
                let e = HtmlErr {
                    line: e.line,
                    col: e.col,
                    msg: format!("inline style: {}", e.msg),
                };
                self.unread(e, &code)?;
                code
            }
        })
    }

    /// The page rewritten by lol_html, which finds the tags and texts.
    fn rewrite_with_lol_html(&self, src: &str) -> HandlerResult<String> {
        let script_buf = RefCell::new((String::new(), 0usize));
        let style_buf = RefCell::new((String::new(), 0usize));
        let settings = RewriteStrSettings::new()
            .append_element_content_handler(element!("*", |el| self.start_tag(el)))
            .append_element_content_handler(text!("script", |t| {
                if let Some((code, start)) = whole_text(&script_buf, t) {
                    t.replace(&self.script(code, start)?, ContentType::Html);
                }
                Ok(())
            }))
            .append_element_content_handler(text!("style", |t| {
                if let Some((code, start)) = whole_text(&style_buf, t) {
                    t.replace(&self.style(code, start)?, ContentType::Html);
                }
                Ok(())
            }));
        Ok(lol_html::rewrite_str(src, settings)?)
    }

    /// The page rewritten from html_tags.rs's scan: the same calls, in the same order,
    /// as lol_html's handlers make.
    fn rewrite_from_scan(&self, src: &str, scan: &html_tags::Scan) -> HandlerResult<String> {
        let mut out = String::with_capacity(src.len() + src.len() / 8);
        let mut last = 0;
        for item in &scan.items {
            match item {
                html_tags::Item::Tag(tag) => {
                    let mut el = ScannedTag {
                        src,
                        tag,
                        attrs: &scan.attrs[tag.attrs.clone()],
                        sets: Vec::new(),
                    };
                    self.start_tag(&mut el)?;
                    if !el.sets.is_empty() {
                        out.push_str(&src[last..tag.span.start]);
                        el.write(&mut out);
                        last = tag.span.end;
                    }
                }
                html_tags::Item::Text { span, style } => {
                    let code = src[span.clone()].to_string();
                    let new = if *style {
                        self.style(code, span.start)?
                    } else {
                        self.script(code, span.start)?
                    };
                    out.push_str(&src[last..span.start]);
                    out.push_str(&new);
                    last = span.end;
                }
            }
        }
        out.push_str(&src[last..]);
        Ok(out)
    }
}

/// `name` in lower case, copied only when it has capitals.
fn lower(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|c| c.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// A start tag found by the scan, and the values the rewrite gives its attributes.
struct ScannedTag<'a> {
    src: &'a str,
    tag: &'a html_tags::Tag,
    attrs: &'a [html_tags::Attr],
    /// (index of the attribute, or None for a new one; name; new value)
    sets: Vec<(Option<usize>, String, String)>,
}

impl StartTag for ScannedTag<'_> {
    fn tag(&self) -> Cow<'_, str> {
        lower(&self.src[self.tag.name.clone()])
    }
    fn attrs(&self, f: &mut dyn FnMut(&str, &str)) {
        for a in self.attrs {
            f(
                &lower(&self.src[a.name.clone()]),
                &self.src[a.value.clone()],
            );
        }
    }
    fn set(&mut self, name: &str, value: &str) -> HandlerResult<()> {
        let at = self
            .attrs
            .iter()
            .position(|a| self.src[a.name.clone()].eq_ignore_ascii_case(name));
        match self.sets.iter_mut().find(|s| s.0 == at && s.1 == name) {
            Some(s) => s.2 = value.to_string(),
            None => self.sets.push((at, name.to_string(), value.to_string())),
        }
        Ok(())
    }
    fn offset(&self) -> usize {
        self.tag.span.start
    }
}

impl ScannedTag<'_> {
    /// The tag as lol_html writes one whose attributes changed: each attribute after
    /// one space, as written unless it was set (`name="value"`, `"` escaped).
    fn write(&self, out: &mut String) {
        let src = self.src;
        out.push('<');
        out.push_str(&src[self.tag.name.clone()]);
        let quoted = |out: &mut String, name: &str, value: &str| {
            out.push_str(name);
            out.push_str("=\"");
            out.push_str(&value.replace('"', "&quot;"));
            out.push('"');
        };
        for (i, a) in self.attrs.iter().enumerate() {
            out.push(' ');
            match self.sets.iter().find(|s| s.0 == Some(i)) {
                Some((_, _, v)) => quoted(out, &src[a.name.clone()], v),
                None => out.push_str(&src[a.name.start..a.end]),
            }
        }
        for (_, name, v) in self.sets.iter().filter(|s| s.0.is_none()) {
            out.push(' ');
            quoted(out, name, v);
        }
        if self.tag.self_closing {
            out.push_str(if self.attrs.is_empty() && self.sets.is_empty() {
                "/>"
            } else {
                " />"
            });
        } else {
            out.push('>');
        }
    }
}

/// Rewrites a page's references, inline styles and inline scripts, with the scan
/// (`fast`) or lol_html alone. Also says whether the page's markup keeps its spaces.
pub(super) fn rewrite(
    src: &str,
    name: &str,
    targets: Targets,
    ph: &mut Placeholders,
    keep_going: bool,
    warnings: &mut Vec<String>,
    fast: bool,
) -> Result<(String, bool), HtmlErr> {
    let page = Page {
        name,
        targets,
        keep_going,
        lines: Lines::new(src),
        ph: RefCell::new(ph),
        warnings: RefCell::new(warnings),
        error: RefCell::new(None),
        current_script: Cell::new(ScriptType::Other),
        keeps_spaces: Cell::new(false),
    };
    // The scan finds the tags lol_html would, far faster; a page it does not read
    // (html_tags.rs), or whose markup keeps its spaces (kept as lol_html writes it),
    // takes lol_html's path.
    let scan = fast.then(|| html_tags::scan(src)).flatten();
    let rewritten = match scan.filter(|s| !s.keeps_spaces) {
        Some(scan) => page.rewrite_from_scan(src, &scan),
        None => page.rewrite_with_lol_html(src),
    };
    if let Some(e) = page.error.borrow_mut().take() {
        return Err(e);
    }
    let rewritten = rewritten.map_err(|e| HtmlErr {
        line: 1,
        col: 1,
        msg: e.to_string(),
    })?;
    Ok((rewritten, page.keeps_spaces.get()))
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
