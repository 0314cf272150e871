//! Whole-file and one-construct checks: what makes the minifier copy a file as
//! written, keep its attribute values, or keep a comment.

/// Signs of animation, scripting or style from elsewhere, anywhere in the file (read
/// in lower case: CSS keywords and prefixed elements such as `<s:animate>` count).
const MOVING: &[&str] = &[
    "<animat",
    ":animat",
    "animation",
    "<set",
    ":set",
    "<script",
    ":script",
    "javascript:",
    "transition",
    "@keyframes",
    "@import",
    "xml-stylesheet",
];

/// True when the file (lower-cased) may animate or script: [`MOVING`], or an event
/// attribute (` onmouseover=`).
pub(super) fn moving(lower: &str) -> bool {
    if MOVING.iter().any(|w| lower.contains(w)) {
        return true;
    }
    let b = lower.as_bytes();
    lower.match_indices("on").any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| b[i]);
        let name_end = b[at + 2..]
            .iter()
            .position(|c| !c.is_ascii_lowercase())
            .map(|n| at + 2 + n);
        matches!(before, Some(c) if is_space(c))
            && name_end.is_some_and(|e| {
                e > at + 2 && {
                    let rest = &lower[e..];
                    rest.trim_start_matches([' ', '\t', '\n', '\r'])
                        .starts_with('=')
                }
            })
    })
}

/// True when a stylesheet in the file may select on attribute values (`[d="…"]`).
pub(super) fn selects_on_values(lower: &str) -> bool {
    lower.contains("style") && lower.matches('[').count() > lower.matches("<![cdata[").count()
}

pub(super) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// True for a comment that carries a licence: kept.
pub(super) fn is_licence(body: &str) -> bool {
    if body.starts_with('!') {
        return true;
    }
    let lower = body.to_ascii_lowercase();
    ["licen", "copyright", "(c)", "©", "@preserve"]
        .iter()
        .any(|w| lower.contains(w))
}

/// True for an XML declaration in the forms exporters write: `<?xml version="1.x"`,
/// then optionally `encoding="…"` and `standalone="yes|no"`, each after a space.
pub(super) fn declaration_ok(body: &str) -> bool {
    let mut rest = body.strip_prefix("<?xml").unwrap_or("");
    for (i, (key, values)) in [
        ("version", &["1.0", "1.1"][..]),
        ("encoding", &["utf-8", "UTF-8", "utf8", "UTF8"][..]),
        ("standalone", &["yes", "no"][..]),
    ]
    .iter()
    .enumerate()
    {
        let spaced = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        let Some(after) = spaced.strip_prefix(key) else {
            if i == 0 {
                return false;
            }
            continue;
        };
        if spaced.len() == rest.len() {
            return false;
        }
        let after = after.trim_start_matches([' ', '\t', '\r', '\n']);
        let Some(after) = after.strip_prefix('=') else {
            return false;
        };
        let after = after.trim_start_matches([' ', '\t', '\r', '\n']);
        let Some(v) = values.iter().find_map(|v| {
            after
                .strip_prefix(&format!("\"{v}\""))
                .or_else(|| after.strip_prefix(&format!("'{v}'")))
        }) else {
            return false;
        };
        rest = v;
    }
    rest.trim_start_matches([' ', '\t', '\r', '\n']).is_empty()
}

/// True for `<!DOCTYPE svg>` with an optional `PUBLIC "…" "…"` or `SYSTEM "…"` of
/// printable characters (the forms exporters write).
pub(super) fn doctype_ok(decl: &str) -> bool {
    let Some(rest) = decl.strip_prefix("<!DOCTYPE svg") else {
        return false;
    };
    let words: Vec<&str> = rest.split('"').collect();
    let printable = |w: &str| w.bytes().all(|c| (0x20..0x7f).contains(&c));
    let blank = |w: &str| w.bytes().all(is_space);
    match words.as_slice() {
        [only] => blank(only),
        [kw, id, gap, uri, end] => {
            kw.trim() == "PUBLIC"
                && kw.starts_with(is_space_char)
                && printable(id)
                && !gap.is_empty()
                && blank(gap)
                && printable(uri)
                && blank(end)
        }
        [kw, uri, end] => {
            kw.trim() == "SYSTEM" && kw.starts_with(is_space_char) && printable(uri) && blank(end)
        }
        _ => false,
    }
}

fn is_space_char(c: char) -> bool {
    c.is_ascii() && is_space(c as u8)
}

/// True when every `&` starts a reference XML defines by itself.
pub(super) fn references_ok(s: &str) -> bool {
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        rest = &rest[at + 1..];
        let Some(end) = rest.find(';') else {
            return false;
        };
        let name = &rest[..end];
        let ok = match name.strip_prefix('#') {
            Some(n) => match n.strip_prefix('x') {
                Some(h) => !h.is_empty() && h.bytes().all(|c| c.is_ascii_hexdigit()),
                None => !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()),
            },
            None => matches!(name, "amp" | "lt" | "gt" | "quot" | "apos"),
        };
        if !ok {
            return false;
        }
        rest = &rest[end + 1..];
    }
    true
}

/// Attributes that hold one length, and attributes that hold one number: written
/// shortest when they are one plain number (a length's `px` dropped).
pub(super) const LENGTHS: &[&str] = &[
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "fx",
    "fy",
    "fr",
    "width",
    "height",
    "stroke-width",
    "stroke-dashoffset",
    "font-size",
];
pub(super) const NUMBERS: &[&str] = &[
    "dx",
    "dy",
    "stroke-miterlimit",
    "opacity",
    "fill-opacity",
    "stroke-opacity",
    "stop-opacity",
    "flood-opacity",
    "offset",
    "pathLength",
];

/// Elements whose whitespace is text a renderer shows or a language reads.
pub(super) const KEEP_TEXT: &[&str] = &[
    "text",
    "tspan",
    "textPath",
    "tref",
    "altGlyph",
    "title",
    "desc",
    "style",
    "script",
    "metadata",
    "foreignObject",
];
