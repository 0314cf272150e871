//! SVG files: minified without changing what they draw.
//!
//! Only what cannot change the rendering is removed or rewritten:
//! - comments, except licence comments (`<!--! … -->`, or one that names a licence
//!   or copyright), which are kept as written;
//! - the XML declaration when it declares UTF-8 or nothing, and a DOCTYPE without an
//!   internal subset (browsers never load the external one);
//! - whitespace between elements, outside text (`<text>` and its children, `<title>`,
//!   `<desc>`, `<style>`, `<script>`, `<metadata>`, `<foreignObject>`, elements with a
//!   prefix and anything under `xml:space="preserve"` keep theirs);
//! - spaces inside tags (`<path  d = "…" />` → `<path d="…"/>`), and an element left
//!   empty is closed in its start tag (`<path …></path>` → `<path …/>`);
//! - path data (`d`) and point lists (`points`), rewritten by [`path`] with every
//!   number's value kept, and attributes of one number (`x`, `r`, `opacity`…) written
//!   without leading or trailing zeros; but not in a file that animates (SMIL, CSS
//!   animations or transitions), scripts or may select on values
//!   ([`checks::moving`], [`checks::selects_on_values`]): a path interpolates only
//!   between the same commands, and a script or a selector may read the attribute.
//!
//! Attribute values are otherwise kept byte for byte. A file this reading does not
//! fully understand is copied as written: not UTF-8, not well-formed XML (a
//! renderer shows an error there, and a rewrite must not turn it into a picture), a
//! DOCTYPE with an internal subset (entities can expand to markup), an entity
//! reference other than XML's five, or a root element other than `<svg>`.
//! Nesting is tracked in a list, never by recursion.

mod checks;
mod number;
mod path;

use checks::{
    declaration_ok, doctype_ok, is_licence, is_space, moving, references_ok, selects_on_values,
    KEEP_TEXT, LENGTHS, NUMBERS,
};

/// A minified SVG file.
pub(crate) struct Minified {
    /// The minified bytes, `None` when they are not shorter (copy the file).
    pub(crate) body: Option<Vec<u8>>,
    /// What in the file can name another file: the attributes that hold URLs
    /// (`href`, `src`, any value with `url(`) and the text of `<style>` and `<script>`,
    /// written as `name="value"` for [`super::originals::names_in`].
    pub(crate) refs: String,
}

/// The file minified, or `None` when it is not understood (copy it as written).
pub(crate) fn minify(bytes: &[u8]) -> Option<Minified> {
    let text = std::str::from_utf8(bytes).ok()?;
    let (bom, text) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    // A character XML does not allow is an error a renderer shows: kept.
    if text
        .chars()
        .any(|c| matches!(c, '\0'..='\x08' | '\x0b' | '\x0c' | '\x0e'..='\x1f' | '\u{fffe}' | '\u{ffff}'))
    {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    // `:empty` sees the white space this drops.
    if lower.contains(":empty") {
        return None;
    }
    let mut m = Minifier {
        s: text,
        i: 0,
        out: String::with_capacity(text.len()),
        open: Vec::new(),
        root_seen: false,
        doctype_seen: false,
        rewrite_values: !moving(&lower) && !selects_on_values(&lower),
        refs: String::new(),
    };
    m.out.push_str(bom);
    m.document()?;
    Some(Minified {
        body: (m.out.len() < bytes.len()).then(|| m.out.into_bytes()),
        refs: m.refs,
    })
}

/// An open element.
struct Open<'a> {
    name: &'a str,
    /// Its text is kept as written (text content, foreign content, `xml:space`).
    keep_text: bool,
    /// Inside content in another namespace: attributes are not rewritten.
    foreign: bool,
    /// The output's length just after this element's start tag.
    start_end: usize,
}

struct Minifier<'a> {
    s: &'a str,
    i: usize,
    out: String,
    open: Vec<Open<'a>>,
    root_seen: bool,
    doctype_seen: bool,
    /// Attribute values (`d`, `points`, numbers) may be rewritten: nothing animates,
    /// scripts or selects on them.
    rewrite_values: bool,
    /// See [`Minified::refs`].
    refs: String,
}

const SVG_NS: &str = "http://www.w3.org/2000/svg";

impl<'a> Minifier<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }

    fn skip_space(&mut self) -> bool {
        let at = self.i;
        let b = self.s.as_bytes();
        while self.i < b.len() && is_space(b[self.i]) {
            self.i += 1;
        }
        self.i > at
    }

    /// Moves past `end`, returning what came before it.
    fn until(&mut self, end: &str) -> Option<&'a str> {
        let rest = self.rest();
        let at = rest.find(end)?;
        self.i += at + end.len();
        Some(&rest[..at])
    }

    fn document(&mut self) -> Option<()> {
        while self.i < self.s.len() {
            let rest = self.rest();
            if rest.starts_with("<!--") {
                let start = self.i;
                self.i += 4;
                let body = self.until("-->")?;
                // `--` inside a comment is an error a renderer shows.
                if body.contains("--") || body.ends_with('-') {
                    return None;
                }
                if is_licence(body) {
                    self.out.push_str(&self.s[start..self.i]);
                }
            } else if rest.starts_with("<![CDATA[") {
                if self.open.is_empty() {
                    return None;
                }
                let start = self.i;
                let body = self.until("]]>")?;
                self.note_code(&body["<![CDATA[".len()..]);
                self.out.push_str(&self.s[start..self.i]);
            } else if rest.starts_with("<!DOCTYPE") {
                let decl = self.until(">")?;
                // Once, before the root, in a form XML accepts, without an internal subset.
                if self.root_seen || !self.open.is_empty() || self.doctype_seen || !doctype_ok(decl)
                {
                    return None;
                }
                self.doctype_seen = true;
            } else if rest.starts_with("<?") {
                self.instruction()?;
            } else if rest.starts_with("</") {
                self.end_tag()?;
            } else if rest.starts_with('<') {
                self.start_tag()?;
            } else {
                self.text()?;
            }
        }
        (self.root_seen && self.open.is_empty()).then_some(())
    }

    /// `<?…?>`: the XML declaration is dropped when it says UTF-8 (or no encoding);
    /// other instructions (`<?xml-stylesheet …?>`) are kept.
    fn instruction(&mut self) -> Option<()> {
        let start = self.i;
        let body = self.until("?>")?;
        let is_decl = body.len() > 5 && body.starts_with("<?xml") && is_space(body.as_bytes()[5]);
        if is_decl {
            if start != 0 {
                return None;
            }
            let lower = body.to_ascii_lowercase();
            if lower.contains("encoding")
                && !lower.contains("encoding=\"utf-8\"")
                && !lower.contains("encoding='utf-8'")
            {
                return None;
            }
            // Dropped only in a form XML accepts; anything else is kept as written.
            if !declaration_ok(body) {
                self.out.push_str(&self.s[start..self.i]);
            }
            return Some(());
        }
        // `<?xml-stylesheet href="…"?>` names a file.
        self.refs.push(' ');
        self.refs.push_str(body);
        self.out.push_str(&self.s[start..self.i]);
        Some(())
    }

    fn name(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        let len = rest
            .find(|c: char| {
                c.is_ascii_whitespace() || matches!(c, '=' | '>' | '/' | '<' | '"' | '\'')
            })
            .unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        self.i += len;
        Some(&rest[..len])
    }

    fn start_tag(&mut self) -> Option<()> {
        self.i += 1;
        let name = self.name()?;
        let parent = self.open.last();
        let root = parent.is_none();
        if root && (self.root_seen || name != "svg") {
            return None;
        }
        // The root must be in SVG's namespace (without it nothing is drawn).
        let mut svg_ns = !root;
        let mut keep_text =
            parent.is_some_and(|p| p.keep_text) || KEEP_TEXT.contains(&name) || name.contains(':');
        let mut foreign =
            parent.is_some_and(|p| p.foreign) || name.contains(':') || name == "foreignObject";
        self.out.push('<');
        self.out.push_str(name);
        loop {
            let spaced = self.skip_space();
            let rest = self.rest();
            if (rest.starts_with("/>") || rest.starts_with('>')) && !svg_ns {
                return None;
            }
            if rest.starts_with("/>") {
                self.i += 2;
                self.out.push_str("/>");
                self.opened(name, None);
                return Some(());
            }
            if rest.starts_with('>') {
                self.i += 1;
                self.out.push('>');
                self.opened(name, Some((keep_text, foreign)));
                return Some(());
            }
            // XML wants a space before each attribute.
            if !spaced {
                return None;
            }
            let attr = self.name()?;
            self.skip_space();
            if !self.rest().starts_with('=') {
                return None;
            }
            self.i += 1;
            self.skip_space();
            let quote = *self.s.as_bytes().get(self.i)?;
            if !matches!(quote, b'"' | b'\'') {
                return None;
            }
            self.i += 1;
            let value = self.until(if quote == b'"' { "\"" } else { "'" })?;
            if value.contains('<') || !references_ok(value) {
                return None;
            }
            if attr.ends_with("href") || attr == "src" || value.contains("url(") {
                self.refs.push_str(&format!(" a=\"{value}\""));
            }
            match attr {
                "xml:space" if value == "preserve" => keep_text = true,
                "xmlns" if value == SVG_NS => svg_ns = true,
                "xmlns" => {
                    keep_text = true;
                    foreign = true;
                }
                _ => {}
            }
            let short = match (foreign || !self.rewrite_values, name, attr) {
                (true, _, _) => None,
                (_, "path" | "glyph" | "missing-glyph", "d") => path::path_data(value),
                (_, "polyline" | "polygon", "points") => path::number_list(value),
                (_, _, a) if LENGTHS.contains(&a) => number::attribute_number(value, true),
                (_, _, a) if NUMBERS.contains(&a) => number::attribute_number(value, false),
                _ => None,
            };
            self.out.push(' ');
            self.out.push_str(attr);
            self.out.push('=');
            self.out.push(char::from(quote));
            self.out.push_str(short.as_deref().unwrap_or(value));
            self.out.push(char::from(quote));
        }
    }

    /// Notes an element opened (`Some` flags) or closed at once (`None`).
    fn opened(&mut self, name: &'a str, flags: Option<(bool, bool)>) {
        match flags {
            Some((keep_text, foreign)) => self.open.push(Open {
                name,
                keep_text,
                foreign,
                start_end: self.out.len(),
            }),
            None => self.root_seen |= self.open.is_empty(),
        }
    }

    fn end_tag(&mut self) -> Option<()> {
        self.i += 2;
        let name = self.name()?;
        self.skip_space();
        if !self.rest().starts_with('>') {
            return None;
        }
        self.i += 1;
        let open = self.open.pop()?;
        if open.name != name {
            return None;
        }
        self.root_seen |= self.open.is_empty();
        if self.out.len() == open.start_end {
            // Nothing was written inside: `<g …></g>` is `<g …/>`.
            self.out.pop();
            self.out.push_str("/>");
        } else {
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
        Some(())
    }

    /// Notes the text of a `<style>` or `<script>` for [`Minified::refs`].
    fn note_code(&mut self, text: &str) {
        if self.open.last().is_some_and(|o| {
            let local = o.name.rsplit(':').next().unwrap_or(o.name);
            matches!(local, "style" | "script")
        }) {
            self.refs.push(' ');
            self.refs.push_str(text);
        }
    }

    fn text(&mut self) -> Option<()> {
        let rest = self.rest();
        let len = rest.find('<').unwrap_or(rest.len());
        let text = &rest[..len];
        self.i += len;
        let blank = text.bytes().all(is_space);
        if text.contains("]]>") {
            return None;
        }
        match self.open.last() {
            // Outside the root only space may stand.
            None => blank.then_some(()),
            Some(_) if !references_ok(text) => None,
            Some(open) if open.keep_text || !blank => {
                self.note_code(text);
                self.out.push_str(text);
                Some(())
            }
            Some(_) => Some(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn min(s: &str) -> String {
        match minify(s.as_bytes()).and_then(|m| m.body) {
            Some(b) => String::from_utf8(b).unwrap(),
            None => s.to_string(),
        }
    }

    #[test]
    fn what_can_name_a_file_is_noted() {
        let m = minify(
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><image href=\"a.png\"/>\
             <use xlink:href=\"i.svg#x\"/><rect fill=\"url(p.svg#g)\" d=\"b.png\"/>\
             <style>@import 'c.css';</style><script><![CDATA[f('d.js')]]></script></svg>"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            m.refs,
            " a=\"a.png\" a=\"i.svg#x\" a=\"url(p.svg#g)\" @import 'c.css'; f('d.js')"
        );
    }

    #[test]
    fn comments_space_and_declarations_go_licences_stay() {
        let src = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
            <!-- Generator: Adobe Illustrator 27 -->\n\
            <!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n\
            <svg xmlns=\"http://www.w3.org/2000/svg\"   viewBox = '0 0 10 10' >\n  \
            <!--! Font Awesome Free License -->\n  <!-- a note -->\n  \
            <g fill=\"red\">\n    <path d=\"M 1,1 L 5,1\" />\n  </g >\n  <g>\n  </g>\n</svg>\n";
        assert_eq!(
            min(src),
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox='0 0 10 10'>\
             <!--! Font Awesome Free License --><g fill=\"red\"><path d=\"M1 1H5\"/></g><g/></svg>"
        );
    }

    #[test]
    fn text_keeps_its_spaces() {
        for keep in [
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><text x=\"1\"> a <tspan> b </tspan>\n c </text></svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><title> t </title><desc>\n d\n</desc></svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><style>\n .a { fill: red }\n</style><script> x() </script></svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><g xml:space=\"preserve\"> <text> a </text> </g></svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><foreignObject> <div xmlns=\"http://www.w3.org/1999/xhtml\"> a <b>b</b> </div> </foreignObject></svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><metadata> <rdf:RDF> <cc:license rdf:resource=\"x\"/> </rdf:RDF> </metadata></svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><![CDATA[ x ]]></svg>",
        ] {
            assert_eq!(min(keep), keep);
        }
        // Paths in another namespace are not SVG's to rewrite.
        let html = "<svg xmlns=\"http://www.w3.org/2000/svg\"><foreignObject><path d=\"M 1 1 L 2 2\"/></foreignObject></svg>";
        assert_eq!(min(html), html);
    }

    #[test]
    fn what_is_not_understood_is_copied() {
        for copy in [
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><g></svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"></g></svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><path d=\"M1 1\"/>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" a=\"1\"b=\"2\"></svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" a=1></svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" a=\"x<y\"></svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>&nbsp;</text></svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>a & b</text></svg>",
            "<!DOCTYPE svg [<!ENTITY e \"<g/>\">]><svg xmlns=\"http://www.w3.org/2000/svg\">&e;</svg>",
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
            "<html><svg xmlns=\"http://www.w3.org/2000/svg\"></svg></html>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg><svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
            "text<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><![CDATA[ x </svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><!-- x </svg>",
            "<svg:svg xmlns:svg=\"http://www.w3.org/2000/svg\"></svg:svg>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg  <g>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><!DOCTYPE svg></svg>",
        ] {
            assert!(minify(copy.as_bytes()).is_none(), "{copy}");
        }
        assert!(minify(b"<svg xmlns=\"http://www.w3.org/2000/svg\">\xff</svg>").is_none());
        assert!(minify(b"").is_none());
        assert_eq!(
            min("<svg xmlns=\"http://www.w3.org/2000/svg\">\n</svg>"),
            "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"
        );
    }

    #[test]
    fn deep_nesting_is_read_without_recursion() {
        let n = 200_000;
        let src = format!(
            "<svg xmlns='http://www.w3.org/2000/svg'>{}{}</svg>",
            "<g>\n".repeat(n),
            "</g>".repeat(n)
        );
        let out = minify(src.as_bytes()).unwrap().body.unwrap();
        // One byte per `\n`, and the innermost `<g></g>` becomes `<g/>`.
        assert_eq!(out.len(), src.len() - n - 3);
    }

    #[test]
    fn shapes_that_move_are_not_rewritten() {
        for moving in [
            "<path d=\"M 0 0 L 10 0\"><animate attributeName=\"d\" to=\"M 0 0 L 10 10\" dur=\"1s\"/></path>",
            "<style>path { transition: d 1s }</style><path d=\"M 0 0 L 10 0\"/>",
            "<script>f()</script><path d=\"M 0 0 L 10 0\"/>",
        ] {
            let src = format!("<svg xmlns=\"http://www.w3.org/2000/svg\">\n{moving}\n</svg>");
            let out = min(&src);
            assert!(out.contains("d=\"M 0 0 L 10 0\""), "{out}");
            assert!(!out.contains('\n'), "{out}");
        }
    }

    /// Cases from a review: each changed what a browser or resvg draws.
    #[test]
    fn what_a_review_found_is_kept_as_written() {
        let svg =
            |body: &str| format!("<svg xmlns=\"{SVG_NS}\" xmlns:s=\"{SVG_NS}\">\n{body}\n</svg>");
        let path = "<path d=\"M 0 0 L 20 0 L 20 20 Z\"/>";
        // Values a stylesheet selects on, or that animate or are scripted.
        for around in [
            "<style>path[d=\"M 0 0 L 20 0 L 20 20 Z\"]{fill:red}</style>",
            "<s:animate attributeName=\"d\" to=\"M 0 0 L 0 20 L 20 20 Z\" dur=\"2s\"/>",
            "<s:script>f()</s:script>",
            "<style>path{TRANSITION:d 1s}</style>",
            "<g onmouseover=\"f(this)\"/>",
            "<a href=\"javascript:f()\"/>",
        ] {
            let out = min(&svg(&format!("{around}{path}")));
            assert!(out.contains(path), "{around}: {out}");
        }
        // `:empty` sees the white space; characters XML refuses; a second or odd DOCTYPE.
        for copy in [
            svg("<style>rect:empty{fill:red}</style><rect width=\"2\" height=\"2\">\n</rect>"),
            svg("<!-- \u{1} -->"),
            svg("<path d=\"M0 0\x0cL20 0\"/>"),
            format!("<!DOCTYPE>{}", svg("")),
            format!("<!DOCTYPE svg><!DOCTYPE svg>{}", svg("")),
            format!("<!DOCTYPE svg PUBLIC \"\u{1}\">{}", svg("")),
        ] {
            assert!(minify(copy.as_bytes()).is_none(), "{copy}");
        }
        // An XML declaration in a form XML refuses stays (the file stays an error).
        for decl in [
            "<?xml foo?>",
            "<?xml encoding=\"utf-8\"?>",
            "<?xml version=\"1.0\"encoding=\"utf-8\"?>",
            "<?xml version=\"1.0\" standalone=\"maybe\"?>",
        ] {
            assert!(
                min(&format!("{decl}{}", svg(""))).starts_with(decl),
                "{decl}"
            );
        }
        assert!(!min(&format!(
            "<?xml version='1.0' encoding='UTF-8' standalone='no' ?>{}",
            svg("")
        ))
        .starts_with("<?xml"));
        // Numbers Blink refuses (`20.`, an exponent past 38) keep the path as written.
        for d in ["M0. 0 L20. 0 L20 20z", "M0 0 L 0e39 20 L 20 20 Z"] {
            let src = svg(&format!("<path d=\"{d}\"/>"));
            assert!(min(&src).contains(d), "{d}");
        }
        // A stylesheet named by an instruction or a prefixed `<style>` is a reference.
        let m = minify(
            format!(
                "<?xml-stylesheet href=\"b.css\"?>{}",
                svg("<s:style>@import \"c.css\";</s:style>")
            )
            .as_bytes(),
        )
        .unwrap();
        assert!(
            m.refs.contains("b.css") && m.refs.contains("c.css"),
            "{}",
            m.refs
        );
    }

    #[test]
    fn references_and_polylines() {
        assert_eq!(
            min("<svg xmlns=\"http://www.w3.org/2000/svg\"><text>&amp;&#169;&#xA9;</text><polygon points=\"0, 0  10, 0  10, 10\" /></svg>"),
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>&amp;&#169;&#xA9;</text><polygon points=\"0 0 10 0 10 10\"/></svg>"
        );
        assert_eq!(
            min("<svg xmlns=\"http://www.w3.org/2000/svg\"><rect x=\"0.50\" width=\"10px\" id=\"01.0\"/></svg>"),
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect x=\".5\" width=\"10\" id=\"01.0\"/></svg>"
        );
    }
}
