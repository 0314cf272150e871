//! A cheap nesting pre-scan run before the CSS and JS parsers: they recurse once per
//! level, and a hostile file must be refused with its position, never abort the process.
//! Strings and comments are skipped; the count is approximate (regex literals are not
//! recognised) but only matters far past any real file's depth.

/// Deepest bracket nesting accepted in CSS (lightningcss's printer keeps its indentation
/// in a `u8`: two per level).
pub(crate) const CSS_LIMIT: usize = 100;
/// Deepest bracket nesting accepted in JS (swc runs on the build's large-stack threads).
pub(crate) const JS_LIMIT: usize = 2000;

/// Where nesting first goes past `limit`: (1-based line, 1-based column, message).
pub(crate) fn check(text: &str, limit: usize, js: bool) -> Option<(usize, usize, String)> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut line = 1usize;
    let mut line_start = 0usize;
    let mut i = 0usize;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            b'"' | b'\'' | b'`' => {
                let q = c;
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' {
                        i += 1;
                    } else if b[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                        if q != b'`' {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    if b[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'/' if js && b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    let col = text
                        .get(line_start..i)
                        .map(|s| s.chars().count())
                        .unwrap_or(0)
                        + 1;
                    return Some((
                        line,
                        col,
                        format!(
                            "nested more than {limit} levels deep; sitevault refuses such nesting (flatten it, or pass --keep-going to copy the file as written)"
                        ),
                    ));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_level_too_deep() {
        let t = format!("a\n  {}", "(".repeat(5));
        assert_eq!(check(&t, 3, true).map(|x| (x.0, x.1)), Some((2, 6)));
        assert!(check("'((((((' /* (((((( */ ()", 3, true).is_none());
        assert!(check("((()))", 3, false).is_none());
    }
}
