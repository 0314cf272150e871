//! Large stylesheets in pieces: a sheet over [`PIECE_BYTES`] is cut between top-level
//! rules and each piece is parsed, minified and printed on its own, so that the build's
//! memory follows the piece, not the sheet (see ARCHITECTURE.md, "Stylesheets over 1 MB").

use lightningcss::targets::Targets;

use super::css::{minify_whole, CssErr, CHUNK_RULES};
use super::refs::Placeholders;

/// A stylesheet larger than this is parsed and minified in pieces of about this size,
/// cut between top-level rules: lightningcss's tree of a whole sheet takes about 25×
/// its text (498 MB at peak for 20 MB, 110–126 MB in pieces), and a piece's tree is
/// dropped before the next piece is read. Rules are merged within a piece only, as they
/// already are within runs of CHUNK_RULES.
pub(super) const PIECE_BYTES: usize = 1 << 20;

/// Minifies `src` whole, or in pieces of about `piece_bytes` when it is larger (its
/// nesting already checked, on the whole file).
pub(super) fn minify_in_pieces(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
