//! CSS: minify with lightningcss for the configured browser targets, with local
//! `url()` and `@import` references replaced by placeholders.

use std::convert::Infallible;

use lightningcss::printer::PrinterOptions;
use lightningcss::rules::CssRule;
use lightningcss::rules::CssRuleList;
use lightningcss::stylesheet::{MinifyOptions, ParserOptions, StyleAttribute, StyleSheet};
use lightningcss::targets::{Browsers, Targets};
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
        visit_types!(URLS | RULES)
    }

    fn visit_url(&mut self, url: &mut Url<'i>) -> Result<(), Self::Error> {
        // `Url::loc` lines are 1-based (ImportRule's are 0-based).
        let line = url.loc.line + self.line_offset;
        if let Some(new) = self.ph.replace(&url.url, line, RefKind::Url) {
            url.url = new.into();
        }
        Ok(())
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
const CHUNK_RULES: usize = 1000;

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

/// A stylesheet larger than this is parsed and minified in pieces of about this size,
/// cut between top-level rules: lightningcss's tree of a whole sheet takes about 25×
/// its text (498 MB at peak for 20 MB, 110–126 MB in pieces), and a piece's tree is
/// dropped before the next piece is read. Rules are merged within a piece only, as they
/// already are within runs of CHUNK_RULES.
const PIECE_BYTES: usize = 1 << 20;

/// Minifies a stylesheet. `line_offset` shifts reported lines (for `<style>` blocks).
pub fn minify(
    src: &str,
    name: &str,
    targets: Targets,
    ph: &mut Placeholders,
    line_offset: u32,
) -> Result<String, CssErr> {
    minify_in_pieces(src, name, targets, ph, line_offset, PIECE_BYTES)
}

fn minify_in_pieces(
    src: &str,
    name: &str,
    targets: Targets,
    ph: &mut Placeholders,
    line_offset: u32,
    piece_bytes: usize,
) -> Result<String, CssErr> {
    let pieces = match top_level_pieces(src, piece_bytes) {
        Some(p) if p.len() > 1 => p,
        _ => return minify_whole(src, name, targets, ph, line_offset),
    };
    // Nesting is checked on the whole file, so its errors say where they are in it.
    if let Some((line, col, msg)) = super::depth::check(src, super::depth::CSS_LIMIT, false) {
        return Err(CssErr {
            line: line + line_offset as usize,
            col,
            msg,
        });
    }
    let mut out = String::with_capacity(src.len() / 2);
    for piece in pieces {
        // Lines and columns as lightningcss counts them (cssparser's: `\r`, `\f` and
        // `\r\n` end lines; columns in UTF-16 units), shifted to where the piece starts.
        let first_line = piece.line as usize + 1 + line_offset as usize;
        let min = minify_whole(
            &src[piece.bytes],
            name,
            targets,
            ph,
            line_offset + piece.line,
        )
        .map_err(|mut e| {
            if e.line == first_line {
                e.col += piece.column as usize - 1;
            }
            e
        })?;
        out.push_str(&min);
    }
    Ok(out)
}

/// A run of top-level rules and where it starts (cssparser's 0-based line, 1-based column).
struct Piece {
    bytes: std::ops::Range<usize>,
    line: u32,
    column: u32,
}

/// Cuts `src` between top-level rules, read with cssparser's tokenizer (the one
/// lightningcss parses with: strings, escapes, comments, `url()` and nested blocks are
/// read as it reads them). A piece ends after a `{}` block or an at-rule's `;` once it
/// holds `target` bytes and a multiple of CHUNK_RULES rules (so that a sheet of plain
/// rules is merged in the same runs as when whole), or twice `target` bytes. None when
/// the sheet must be read whole: `@namespace` prefixes apply to the rules after them,
/// and `@import` and `@charset` count only at the top of a sheet.
fn top_level_pieces(src: &str, target: usize) -> Option<Vec<Piece>> {
    use cssparser::{ParseError, Parser, ParserInput, Token};
    if src.len() <= target {
        return None;
    }
    let mut input = ParserInput::new(src);
    let mut p = Parser::new(&mut input);
    let mut pieces = Vec::new();
    let (mut start, mut rules) = (0usize, 0usize);
    let mut loc = p.current_source_location();
    // Whether the statement being read began with an at-keyword, and whether nothing
    // but whitespace and comments has been read since the last statement ended.
    let (mut at_rule, mut fresh) = (false, true);
    loop {
        let token = p.next_including_whitespace_and_comments();
        let first = std::mem::replace(&mut fresh, false);
        let boundary = match token {
            Err(_) => break,
            Ok(Token::WhiteSpace(_) | Token::Comment(_) | Token::CDO | Token::CDC) => {
                fresh = first;
                false
            }
            Ok(Token::AtKeyword(name)) => {
                let name = name.to_ascii_lowercase();
                if name == "namespace"
                    || (!pieces.is_empty() && (name == "import" || name == "charset"))
                {
                    return None;
                }
                at_rule |= first;
                false
            }
            Ok(Token::CurlyBracketBlock) => {
                let _ = p.parse_nested_block(|_| Ok::<(), ParseError<'_, ()>>(()));
                true
            }
            // A top-level `;` ends an at-rule statement; after anything else it is an
            // error, reported as such only if the text around it stays together.
            Ok(Token::Semicolon) => at_rule,
            Ok(_) => false,
        };
        if !boundary {
            continue;
        }
        (at_rule, fresh) = (false, true);
        rules += 1;
        let end = p.position().byte_index();
        let len = end - start;
        if len >= target && (rules % CHUNK_RULES == 0 || len >= 2 * target) && end < src.len() {
            pieces.push(Piece {
                bytes: start..end,
                line: loc.line,
                column: loc.column,
            });
            start = end;
            loc = p.current_source_location();
        }
    }
    pieces.push(Piece {
        bytes: start..src.len(),
        line: loc.line,
        column: loc.column,
    });
    Some(pieces)
}

fn minify_whole(
    src: &str,
    name: &str,
    targets: Targets,
    ph: &mut Placeholders,
    line_offset: u32,
) -> Result<String, CssErr> {
    if let Some((line, col, msg)) = super::depth::check(src, super::depth::CSS_LIMIT, false) {
        return Err(CssErr {
            line: line + line_offset as usize,
            col,
            msg,
        });
    }
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

    #[test]
    fn large_sheets_are_cut_between_top_level_rules_only() {
        let rule = ".a{x:1}";
        let tricky = concat!(
            "@media (x) { .b { content: \"}\"; } }\n",
            "/* } ; */ .c { background: url(a{b};c.png) }\n",
            ".d { content: '\\'}' }\n",
            // An escaped url(, a function holding a brace, a string continued past a CRLF.
            "@media print { a { background: \\75rl(x}) } b { x: f(}) } i { content: \"\\\r\n}\" } }\n",
        );
        let src = format!("{}{tricky}{}", rule.repeat(20), rule.repeat(20));
        let pieces = top_level_pieces(&src, 10).unwrap();
        assert!(pieces.len() > 5, "{}", pieces.len());
        let ends: Vec<usize> = pieces.iter().map(|p| p.bytes.end).collect();
        let start = 20 * rule.len();
        // Inside the tricky part, only the three rules' own ends are cuts.
        let inside: Vec<usize> = ends
            .iter()
            .filter(|&&e| e > start && e < start + tricky.len())
            .map(|&e| e - start)
            .collect();
        let want: Vec<usize> = tricky.match_indices("}\n").map(|(i, _)| i + 1).collect();
        assert_eq!(inside, want, "{tricky}");
        assert_eq!(pieces.last().unwrap().bytes.end, src.len());
        // Read whole: small sheets, namespaces, and a late @import.
        assert!(top_level_pieces(&rule.repeat(3), 100).is_none());
        let ns = format!("@namespace svg url(x);{}", rule.repeat(20));
        assert!(top_level_pieces(&ns, 10).is_none());
        let late = format!("{}@import 'x.css';", rule.repeat(20));
        assert!(top_level_pieces(&late, 10).is_none());
        let escaped = format!("{}@\\69mport 'x.css';", rule.repeat(20));
        assert!(top_level_pieces(&escaped, 10).is_none());
        // A stray `;` or `}` at the top level is no cut, nor a `;` in a style rule's
        // prelude after an at-keyword: their errors read as in the whole sheet.
        let cut_ends = |s: &str| -> Vec<usize> {
            let pieces = top_level_pieces(s, 10).unwrap();
            pieces.iter().map(|p| p.bytes.end).collect()
        };
        let at = 20 * rule.len();
        let cuts = cut_ends(&format!("{}.a @x;\n{}", rule.repeat(20), rule.repeat(20)));
        assert!(!cuts.contains(&(at + 6)), "{cuts:?}");
        let cuts = cut_ends(&format!("{};}}{}", rule.repeat(20), rule.repeat(20)));
        assert!(
            !cuts.contains(&(at + 1)) && !cuts.contains(&(at + 2)),
            "{cuts:?}"
        );
    }

    proptest::proptest! {
        /// Any text (CSS-ish or not) is cut into contiguous pieces covering all of it,
        /// each ending at a character boundary, without a panic.
        #[test]
        fn pieces_cover_any_text(src in "[a-z{};'\"\\\\/*()@ \n\u{e9}url]{0,400}", target in 1usize..64) {
            if let Some(p) = top_level_pieces(&src, target) {
                proptest::prop_assert_eq!(p.first().map(|r| r.bytes.start), Some(0));
                proptest::prop_assert_eq!(p.last().map(|r| r.bytes.end), Some(src.len()));
                for w in p.windows(2) {
                    proptest::prop_assert_eq!(w[0].bytes.end, w[1].bytes.start);
                }
                for r in &p {
                    let b = &r.bytes;
                    proptest::prop_assert!(src.is_char_boundary(b.start) && b.start < b.end);
                }
            }
        }
    }

    #[test]
    fn plain_rules_in_pieces_give_the_bytes_of_the_whole_sheet() {
        let src: String = (0..2 * CHUNK_RULES + 500)
            .map(|i| format!(".r{i:05}{{color:red}}\n"))
            .collect();
        let piece = 10_000;
        assert_eq!(top_level_pieces(&src, piece).unwrap().len(), 3);
        let mut ph = Placeholders::for_content(src.as_bytes());
        let pieces = minify_in_pieces(&src, "a.css", Targets::default(), &mut ph, 0, piece);
        let whole = minify_whole(&src, "a.css", Targets::default(), &mut ph, 0);
        assert_eq!(pieces.unwrap(), whole.unwrap());
    }

    #[test]
    fn a_sheet_in_pieces_keeps_every_rule_and_reports_errors_where_they_are() {
        let piece = 4096;
        let rules = (piece * 5 / 2) / 24;
        let mut src: String = (0..rules)
            .map(|i| format!(".r{i:07} {{ color: red }}\n"))
            .collect();
        let mut ph = Placeholders::for_content(src.as_bytes());
        let out = minify_in_pieces(&src, "big.css", Targets::default(), &mut ph, 0, piece).unwrap();
        let n = top_level_pieces(&src, piece).unwrap().len();
        assert!(n >= 2);
        assert_eq!(
            out.matches("{color:red}").count(),
            n,
            "merged within each piece"
        );
        for i in (0..rules).step_by(7) {
            assert!(out.contains(&format!(".r{i:07}")), "r{i}");
        }
        assert!(out.len() < src.len());
        // A mistake in the last piece: its line and column in the file, whether the piece
        // starts a line or not.
        let err = |src: &str| {
            let mut ph = Placeholders::for_content(src.as_bytes());
            match minify_in_pieces(src, "big.css", Targets::default(), &mut ph, 0, piece) {
                Ok(_) => panic!("no error"),
                Err(e) => (e.line, e.col),
            }
        };
        let whole = |src: &str| {
            let mut ph = Placeholders::for_content(src.as_bytes());
            let e = minify_whole(src, "big.css", Targets::default(), &mut ph, 0).unwrap_err();
            (e.line, e.col)
        };
        src.push_str(".z { color: red }\n.y{{");
        assert_eq!(err(&src).0, rules + 2);
        // Whatever ends the lines (cssparser's newlines), and columns in UTF-16 units.
        for ending in ["\n", "\r\n", "\r", "\u{c}", " ", "/*é😀*/"] {
            let text = src.replace('\n', ending);
            assert!(top_level_pieces(&text, piece).unwrap().len() >= 2);
            assert_eq!(err(&text), whole(&text), "{ending:?}");
        }
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
