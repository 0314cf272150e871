//! CSS: minify with lightningcss for the configured browser targets, with local
//! `url()` and `@import` references replaced by placeholders.

use std::convert::Infallible;

use lightningcss::printer::PrinterOptions;
use lightningcss::rules::CssRule;
use lightningcss::rules::CssRuleList;
use lightningcss::stylesheet::{MinifyOptions, ParserOptions, StyleAttribute, StyleSheet};
use lightningcss::targets::{Browsers, Targets};
use lightningcss::values::image::Image;
use lightningcss::values::url::Url;
use lightningcss::visit_types;
use lightningcss::visitor::{Visit, VisitTypes, Visitor};

use super::refs::{Placeholders, RefKind};

/// Browser targets from browserslist queries (`defaults`, `> 0.5%, last 2 versions`).
pub fn targets(queries: &[String]) -> Result<Targets, String> {
    if queries.is_empty() {
        return Ok(Targets::default());
    }
    let browsers = Browsers::from_browserslist(queries.iter().map(|s| s.as_str()))
        .map_err(|e| format!("build.targets = {queries:?}: {e}"))?;
    Ok(Targets::from(browsers))
}

/// A CSS error (what lightningcss said, where).
pub use super::kinds::SourceErr as CssErr;

struct RefVisitor<'a> {
    ph: &'a mut Placeholders,
    line_offset: u32,
}

impl<'i> Visitor<'i> for RefVisitor<'_> {
    type Error = Infallible;

    fn visit_types(&self) -> VisitTypes {
        // IMAGES too: `image-set()` candidates are references like any other, and
        // only `visit_image` reaches them.
        visit_types!(URLS | RULES | IMAGES)
    }

    fn visit_url(&mut self, url: &mut Url<'i>) -> Result<(), Self::Error> {
        // `Url::loc` lines are 1-based (ImportRule's are 0-based).
        let line = url.loc.line + self.line_offset;
        if let Some(new) = self.ph.replace(&url.url, line, RefKind::Url) {
            url.url = new.into();
        }
        Ok(())
    }

    fn visit_image(&mut self, image: &mut Image<'i>) -> Result<(), Self::Error> {
        // lightningcss skips `image-set()` options when it walks an image's children.
        if let Image::ImageSet(set) = image {
            for option in &mut set.options {
                self.visit_image(&mut option.image)?;
            }
            return Ok(());
        }
        image.visit_children(self)
    }

    fn visit_rule(&mut self, rule: &mut CssRule<'i>) -> Result<(), Self::Error> {
        if let CssRule::Import(import) = rule {
            let line = import.loc.line + 1 + self.line_offset;
            if let Some(new) = self.ph.replace(&import.url, line, RefKind::Url) {
                import.url = new.into();
            }
        }
        rule.visit_children(self)
    }
}

/// Top-level rules minified together. lightningcss merges and deduplicates rules
/// with a cost that grows with the square of the rules it compares (150,000 small
/// rules sharing declarations: 1.6 s at 1.4 MB, 29 s at 5.7 MB, over 10 minutes at
/// 600,000); minifying the top level in runs of this many keeps the build linear.
/// Rules are only merged within a run, so a stylesheet this large can come out a few
/// bytes per run larger than one minified whole; smaller ones are minified whole.
pub(super) const CHUNK_RULES: usize = 1000;

fn minify_in_chunks<'i>(
    sheet: &mut StyleSheet<'i>,
    name: &str,
    targets: Targets,
) -> Result<(), CssErr> {
    let run = |s: &mut StyleSheet<'i>| {
        s.minify(MinifyOptions {
            targets,
            ..Default::default()
        })
        .map_err(|e| CssErr {
            line: e.loc.as_ref().map(|l| l.line as usize + 1).unwrap_or(1),
            col: e.loc.as_ref().map(|l| l.column as usize).unwrap_or(1),
            msg: e.kind.to_string(),
        })
    };
    if weight(&sheet.rules.0) <= CHUNK_RULES {
        return run(sheet);
    }
    let rules = split_blocks(std::mem::take(&mut sheet.rules.0));
    let mut out = Vec::with_capacity(rules.len());
    let mut rest = rules.into_iter().peekable();
    while rest.peek().is_some() {
        // Runs of about CHUNK_RULES rules, counting the rules inside blocks.
        let mut chunk = Vec::new();
        let mut w = 0;
        while let Some(r) = rest.next_if(|r| chunk.is_empty() || w + weight_of(r) <= CHUNK_RULES) {
            w += weight_of(&r);
            chunk.push(r);
        }
        let mut part = StyleSheet::new(
            sheet.sources.clone(),
            CssRuleList(chunk),
            ParserOptions {
                filename: name.to_string(),
                ..Default::default()
            },
        );
        run(&mut part)?;
        out.extend(part.rules.0);
    }
    sheet.rules.0 = out;
    Ok(())
}

/// Rules in a list, counting those inside conditional and layer blocks.
fn weight(rules: &[CssRule<'_>]) -> usize {
    rules.iter().map(weight_of).sum()
}

fn weight_of(r: &CssRule<'_>) -> usize {
    1 + match r {
        CssRule::Media(m) => weight(&m.rules.0),
        CssRule::Supports(m) => weight(&m.rules.0),
        CssRule::Container(m) => weight(&m.rules.0),
        CssRule::LayerBlock(m) => weight(&m.rules.0),
        _ => 0,
    }
}

/// Splits `@media`, `@supports`, `@container` and named `@layer` blocks of more than
/// CHUNK_RULES rules into consecutive blocks with the same prelude, so that 150,000
/// rules inside one `@media` are minified in runs too. The same prelude twice in a row
/// means what it meant once: the rules keep their order and their conditions. An
/// anonymous `@layer { }` is not split (each one is a layer of its own).
fn split_blocks<'i>(rules: Vec<CssRule<'i>>) -> Vec<CssRule<'i>> {
    fn pieces<'i>(rules: CssRuleList<'i>) -> Vec<CssRuleList<'i>> {
        let rules = split_blocks(rules.0);
        if weight(&rules) <= CHUNK_RULES {
            return vec![CssRuleList(rules)];
        }
        let mut out = Vec::new();
        let mut cur = Vec::new();
        let mut w = 0;
        for r in rules {
            let rw = weight_of(&r);
            if !cur.is_empty() && w + rw > CHUNK_RULES {
                out.push(CssRuleList(std::mem::take(&mut cur)));
                w = 0;
            }
            w += rw;
            cur.push(r);
        }
        if !cur.is_empty() {
            out.push(CssRuleList(cur));
        }
        out
    }
    let mut out = Vec::with_capacity(rules.len());
    for r in rules {
        if weight_of(&r) <= CHUNK_RULES {
            out.push(r);
            continue;
        }
        // The block's prelude, once per piece of its rules.
        macro_rules! split {
            ($m:ident, $variant:path) => {{
                let parts = pieces(std::mem::replace(&mut $m.rules, CssRuleList(Vec::new())));
                out.extend(parts.into_iter().map(|rules| {
                    let mut copy = $m.clone();
                    copy.rules = rules;
                    $variant(copy)
                }));
            }};
        }
        match r {
            CssRule::Media(mut m) => split!(m, CssRule::Media),
            CssRule::Supports(mut m) => split!(m, CssRule::Supports),
            CssRule::Container(mut m) => split!(m, CssRule::Container),
            CssRule::LayerBlock(mut m) if m.name.is_some() => split!(m, CssRule::LayerBlock),
            other => out.push(other),
        }
    }
    out
}

/// Minifies a stylesheet. `line_offset` shifts reported lines (for `<style>` blocks).
pub fn minify(
    src: &str,
    name: &str,
    targets: Targets,
    ph: &mut Placeholders,
    line_offset: u32,
) -> Result<String, CssErr> {
    use super::css_pieces::{minify_in_pieces, PIECE_BYTES};
    // Nesting is checked once, on the whole file, so its errors say where they are in it.
    if let Some((line, col, msg)) = super::depth::check(src, super::depth::CSS_LIMIT, false) {
        return Err(CssErr {
            line: line + line_offset as usize,
            col,
            msg,
        });
    }
    minify_in_pieces(src, name, targets, ph, line_offset, PIECE_BYTES)
}

/// Minifies a stylesheet in one parse (its nesting already checked).
pub(super) fn minify_whole(
    src: &str,
    name: &str,
    targets: Targets,
    ph: &mut Placeholders,
    line_offset: u32,
) -> Result<String, CssErr> {
    let opts = ParserOptions {
        filename: name.to_string(),
        ..Default::default()
    };
    let mut sheet = StyleSheet::parse(src, opts).map_err(|e| {
        let (line, col) = e
            .loc
            .as_ref()
            .map(|l| {
                (
                    l.line as usize + 1 + line_offset as usize,
                    l.column as usize,
                )
            })
            .unwrap_or((1, 1));
        CssErr {
            line,
            col,
            msg: e.kind.to_string(),
        }
    })?;
    let mut v = RefVisitor { ph, line_offset };
    let _ = sheet.visit(&mut v);
    minify_in_chunks(&mut sheet, name, targets)?;
    let out = sheet
        .to_css(PrinterOptions {
            minify: true,
            targets,
            ..Default::default()
        })
        .map_err(|e| CssErr {
            line: 1,
            col: 1,
            msg: e.kind.to_string(),
        })?;
    Ok(out.code)
}

/// Minifies an inline `style="…"` attribute.
pub fn minify_attribute(
    src: &str,
    targets: Targets,
    ph: &mut Placeholders,
    line: u32,
) -> Result<String, CssErr> {
    if let Some((_, col, msg)) = super::depth::check(src, super::depth::CSS_LIMIT, false) {
        return Err(CssErr {
            line: line as usize,
            col,
            msg,
        });
    }
    let mut attr = StyleAttribute::parse(src, ParserOptions::default()).map_err(|e| CssErr {
        line: line as usize,
        col: e.loc.as_ref().map(|l| l.column as usize).unwrap_or(1),
        msg: e.kind.to_string(),
    })?;
    let mut v = RefVisitor {
        ph,
        line_offset: line.saturating_sub(1),
    };
    let _ = attr.declarations.visit(&mut v);
    attr.minify(MinifyOptions {
        targets,
        ..Default::default()
    });
    let out = attr
        .to_css(PrinterOptions {
            minify: true,
            targets,
            ..Default::default()
        })
        .map_err(|e| CssErr {
            line: line as usize,
            col: 1,
            msg: e.kind.to_string(),
        })?;
    Ok(out.code)
}

/// For stylesheets copied as they are (`*.min.css`): replaces local `url()` and
/// `@import` references in the text without re-minifying.
pub fn rewrite_text(src: &str, ph: &mut Placeholders) -> String {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r#"(?i)(url\(\s*)(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))(\s*\))|(@import\s+)(?:"([^"]*)"|'([^']*)')"#,
        )
        .expect("static regex")
    });
    let mut out = String::with_capacity(src.len());
    let mut last = 0;
    for c in re.captures_iter(src) {
        let Some(m) = c.get(2).or(c.get(3)).or(c.get(4)).or(c.get(7)).or(c.get(8)) else {
            continue;
        };
        let line = (src[..m.start()].matches('\n').count() + 1) as u32;
        if let Some(new) = ph.replace(m.as_str(), line, RefKind::Url) {
            out.push_str(&src[last..m.start()]);
            out.push_str(&new);
            last = m.end();
        }
    }
    out.push_str(&src[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_stylesheets_are_minified_in_runs_of_rules() {
        let n = 2 * CHUNK_RULES + 500;
        let src: String = (0..n)
            .map(|i| format!(".r{i} {{ color: red }}\n"))
            .collect();
        let mut ph = Placeholders::for_content(src.as_bytes());
        let out = minify(&src, "big.css", Targets::default(), &mut ph, 0).unwrap();
        // Merged within each run of rules, never across: three rules, every selector kept.
        assert_eq!(out.matches("{color:red}").count(), 3, "{}", &out[..200]);
        for i in (0..n).step_by(97) {
            assert!(
                out.contains(&format!(".r{i},")) || out.contains(&format!(".r{i}{{")),
                "r{i}"
            );
        }
        // A small sheet is still minified whole.
        let small = ".a{color:red}.b{color:red}";
        let mut ph = Placeholders::for_content(small.as_bytes());
        assert_eq!(
            minify(small, "s.css", Targets::default(), &mut ph, 0).unwrap(),
            ".a,.b{color:red}"
        );
    }

    /// `image-set()` candidates, as strings or `url()`, are references too (hunt, #13):
    /// left as written, they pointed at names the build had fingerprinted away.
    #[test]
    fn image_set_candidates_get_placeholders() {
        let src = ".h{background-image:image-set(\"img/a.png\" 1x, url(img/b.png) 2x)}";
        let mut ph = Placeholders::for_content(src.as_bytes());
        let out = minify(src, "s.css", Targets::default(), &mut ph, 0).unwrap();
        let refs = ph.clone().into_refs();
        let paths: Vec<&str> = refs.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["img/a.png", "img/b.png"], "{out}");
        assert!(!out.contains("img/"), "{out}");
    }

    #[test]
    fn urls_and_imports_get_placeholders() {
        let src = "@import \"base.css\";\n.a { background: url(../img/a.png?x) }\n.b{background:url(data:image/png;base64,AA)}";
        let mut ph = Placeholders::for_content(src.as_bytes());
        let out = minify(src, "a.css", Targets::default(), &mut ph, 0).unwrap();
        assert_eq!(ph.len(), 2, "{out}");
        assert!(out.contains("?x"), "{out}");
        assert!(out.contains("data:image/png"), "{out}");
    }

    #[test]
    fn error_has_position() {
        let e = minify(
            ".a{color:red}\n.b{{",
            "b.css",
            Targets::default(),
            &mut Placeholders::for_content(b""),
            0,
        )
        .unwrap_err();
        assert_eq!(e.line, 2, "{e:?}");
    }

    #[test]
    fn text_rewrite() {
        let mut ph = Placeholders::for_content(b"x");
        let out = rewrite_text("a{b:url('../f/x.woff2')}@import \"y.css\";", &mut ph);
        assert_eq!(ph.len(), 2);
        assert!(!out.contains("x.woff2"));
    }
}
