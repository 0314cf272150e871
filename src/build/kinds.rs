//! File classes by name: what gets minified how, content types.

use std::collections::HashSet;

/// How a file is processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileClass {
    /// `.html`, `.htm`.
    Html,
    /// `.css`.
    Css,
    /// `*.min.css`: references rewritten, not re-minified.
    CssMin,
    /// `.js`, `.mjs`, `.cjs`.
    Js,
    /// `*.min.js`, `*.min.mjs`: references rewritten, not re-minified.
    JsMin,
    /// `.json`, `.webmanifest`, `.map`: whitespace removed.
    Json,
    /// `.svg`: minified without changing what it draws (copied when not understood).
    Svg,
    /// Anything else: copied.
    Other,
}

impl FileClass {
    /// The class of a site path.
    pub fn of(path: &str) -> FileClass {
        let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        match ext {
            "html" | "htm" => FileClass::Html,
            "css" if name.ends_with(".min.css") => FileClass::CssMin,
            "css" => FileClass::Css,
            "js" | "mjs" | "cjs" if name.ends_with(".min.js") || name.ends_with(".min.mjs") => {
                FileClass::JsMin
            }
            "js" | "mjs" | "cjs" => FileClass::Js,
            "json" | "webmanifest" => FileClass::Json,
            "svg" => FileClass::Svg,
            _ => FileClass::Other,
        }
    }

    /// True when the file must be UTF-8 text (an SVG in another encoding is copied).
    pub fn is_text(self) -> bool {
        !matches!(self, FileClass::Other | FileClass::Svg)
    }
}

/// True for JS that is already minified (a bundle, emscripten output): its white space
/// is gone, so it gets `js::Effort::Light` (names mangled, statements joined) instead of
/// the full compressor, which costs much there and gains little more.
///
/// Long lines alone do not say it: a one-line data file (Sphinx's `searchindex.js`, a
/// table of numbers) has them too and shrinks when minified. So a file over 4 KB whose
/// lines average over 500 bytes is also probed, outside string literals, for what every
/// minifier removes: spaces after `,` `:` `;` `=` and around operators, indentation, and
/// quoted keys that are identifiers (`"name":`). Measured on bundles from npm (three,
/// bootstrap, jquery, lodash, fontawesome, draco, rhino3dm): at most 1.4 such spaces and
/// 0.9 such keys per KB; on data files 8 to 140 spaces or 35 to 40 keys per KB. The
/// cut is at 4 per KB.
pub fn looks_minified(bytes: &[u8]) -> bool {
    if bytes.len() < 4096 {
        return false;
    }
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    if bytes.len() / lines <= 500 {
        return false;
    }
    let (spaces, keys) = unminified_marks(bytes);
    let per_kb = |n: usize| n * 1024 / bytes.len();
    per_kb(spaces) < MARKS_PER_KB && per_kb(keys) < MARKS_PER_KB
}

/// See [`looks_minified`].
const MARKS_PER_KB: usize = 4;

/// Above this size, JS minified already is minified again only where renaming pays
/// ([`renaming_pays`]): the light minifier takes about half a second of one core per
/// megabyte, and large generated files mostly have short names already (mathjax's and
/// tesseract's bundles, sql.js, opencv.js gained 0–4 % for seconds each).
pub const PACKED_TRY_MAX: usize = 1 << 20;

/// Whether mangling would shrink a minified file by a useful part: the bytes beyond two
/// characters of every use (not after `.`) of a name the file declares (`var`, `let`,
/// `const`, `function`), outside strings and comments, are at least 4 % of the file.
/// Measured on 19 npm packages: emscripten glue that kept its names 20–31 % (it shrank
/// by 35–48 %), draco's decoders 4.5–6.3 % (9–11 %), bundles whose names are mangled
/// already 0–3 % (0–4 %).
pub fn renaming_pays(b: &[u8]) -> bool {
    let mut declared: HashSet<&[u8]> = HashSet::new();
    let mut prev: &[u8] = b"";
    each_ident(b, |_, id| {
        if id.len() > 2 && matches!(prev, b"var" | b"let" | b"const" | b"function") {
            declared.insert(id);
        }
        prev = id;
    });
    let mut excess = 0usize;
    each_ident(b, |at, id| {
        if declared.contains(id) && (at == 0 || b[at - 1] != b'.') {
            excess += id.len() - 2;
        }
    });
    excess * 100 >= b.len() * 4
}

/// Calls `f(offset, name)` for each identifier of `b`, in order, outside string literals,
/// templates and comments (regular expressions are read as code: a rough count is
/// enough).
fn each_ident<'a>(b: &'a [u8], mut f: impl FnMut(usize, &'a [u8])) {
    let word = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$');
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' | b'\'' | b'`' => i = string_end(b, i) + 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |p| i + p);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = memchr::memmem::find(&b[i + 2..], b"*/").map_or(b.len(), |p| i + 2 + p + 2);
            }
            _ if word(c) => {
                let start = i;
                while i < b.len() && word(b[i]) {
                    i += 1;
                }
                if !c.is_ascii_digit() {
                    f(start, &b[start..i]);
                }
            }
            _ => i += 1,
        }
    }
}

/// True for JS holding asm.js (a `"use asm"` directive; a string that merely says it
/// only costs the file its minification). Minifiers drop the type annotations asm.js
/// is made of (`+0.0` becomes `+0`): the engine then refuses it as asm.js and runs it
/// as plain JS, measured nine times slower on ammo.js.
pub fn is_asm_js(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"\"use asm\"").is_some()
        || memchr::memmem::find(bytes, b"'use asm'").is_some()
}

/// (spaces a minifier removes, quoted identifier keys), counted outside strings.
fn unminified_marks(b: &[u8]) -> (usize, usize) {
    const AFTER: &[u8] = b",:;=(){}+-*/<>?&|";
    const BEFORE: &[u8] = b"=+-*/<>?&|{}";
    let (mut spaces, mut keys) = (0usize, 0usize);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' | b'\'' | b'`' => {
                let j = string_end(b, i);
                if b.get(j + 1) == Some(&b':') && is_ident(&b[i + 1..j.min(b.len())]) {
                    keys += 1;
                }
                i = j + 1;
                continue;
            }
            b' ' if i > 0 && AFTER.contains(&b[i - 1]) => spaces += 1,
            b' ' if b.get(i + 1).is_some_and(|n| BEFORE.contains(n)) => spaces += 1,
            b'\n' if matches!(b.get(i + 1), Some(b' ' | b'\t')) => spaces += 1,
            _ => {}
        }
        i += 1;
    }
    (spaces, keys)
}

/// Where the string literal or template opened by the quote at `b[i]` ends: its closing
/// quote, the line end where an unclosed string stops (a template runs on), or past the
/// end of `b`.
fn string_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() && b[j] != q {
        if b[j] == b'\\' {
            j += 1;
        } else if b[j] == b'\n' && q != b'`' {
            break;
        }
        j += 1;
    }
    j
}

fn is_ident(s: &[u8]) -> bool {
    match s.split_first() {
        Some((f, rest)) => {
            (f.is_ascii_alphabetic() || matches!(f, b'_' | b'$'))
                && rest
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$'))
        }
        None => false,
    }
}

/// `Content-Type` for a path.
pub fn content_type(path: &str) -> String {
    let lower = path.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let fixed = match ext {
        "html" | "htm" => Some("text/html; charset=utf-8"),
        "css" => Some("text/css; charset=utf-8"),
        "js" | "mjs" | "cjs" => Some("text/javascript; charset=utf-8"),
        "json" | "map" => Some("application/json"),
        "webmanifest" => Some("application/manifest+json"),
        "svg" => Some("image/svg+xml"),
        "txt" => Some("text/plain; charset=utf-8"),
        "xml" => Some("application/xml"),
        "wasm" => Some("application/wasm"),
        "woff2" => Some("font/woff2"),
        "woff" => Some("font/woff"),
        "ico" => Some("image/x-icon"),
        "avif" => Some("image/avif"),
        "webp" => Some("image/webp"),
        _ => None,
    };
    match fixed {
        Some(t) => t.to_string(),
        None => {
            let m = mime_guess::from_path(path).first_or_octet_stream();
            if m.type_() == mime_guess::mime::TEXT {
                format!("{m}; charset=utf-8")
            } else {
                m.to_string()
            }
        }
    }
}

/// Removes whitespace outside strings from valid JSON (numbers and strings are
/// kept byte for byte).
pub fn compact_json(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut in_str = false;
    let mut escaped = false;
    for c in src.chars() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(FileClass::of("a/b.min.js"), FileClass::JsMin);
        assert_eq!(FileClass::of("a/b.mjs"), FileClass::Js);
        assert_eq!(FileClass::of("x.CSS"), FileClass::Css);
        assert_eq!(FileClass::of("img/a.png"), FileClass::Other);
        assert_eq!(FileClass::of("img/a.SVG"), FileClass::Svg);
    }

    #[test]
    fn minified() {
        assert!(looks_minified(&[b'a'; 10_000]));
        assert!(!looks_minified("var a = 1;\n".repeat(1000).as_bytes()));
        // A bundle: long lines, no spaces outside strings (those inside do not count).
        let bundle = "!function(e,t){\"use strict\";var n=\"a b, c = d\";e.x=t?n:{k:1}}(this,!0);"
            .repeat(200);
        assert!(looks_minified(bundle.as_bytes()));
        // One-line data files: Sphinx's search index (json.dumps, with or without spaces).
        let terms: Vec<String> = (0..2000)
            .map(|i| format!("\"term{i}\": [{i}, 3]"))
            .collect();
        let spaced = format!("Search.setIndex({{{}}})", terms.join(", "));
        assert!(!looks_minified(spaced.as_bytes()));
        let compact = spaced.replace(", ", ",").replace(": ", ":");
        assert!(!looks_minified(compact.as_bytes()));
        // A table of numbers.
        let table = format!("export const T=[{}];", vec!["0.125, 0.5"; 2000].join(", "));
        assert!(!looks_minified(table.as_bytes()));
    }

    /// Emscripten's glue declares long names; a mangled bundle's are short, and names
    /// it only uses (`document`), reads (`.prototype`) or quotes do not count.
    #[test]
    fn renaming_pays_where_declared_names_are_long() {
        let glue = "var readyPromiseResolve,readyPromiseReject;function locateFile(path){return scriptDirectory+path}readyPromiseResolve(locateFile(x));".repeat(50);
        assert!(renaming_pays(glue.as_bytes()));
        let bundle = "var e=document.createElement(\"div\"),t=function(n){return n.prototype.constructor};/* var commentedOutName */t(e);".repeat(50);
        assert!(!renaming_pays(bundle.as_bytes()));
        assert!(!renaming_pays(
            b"'var quotedLongName=1;quotedLongName;quotedLongName'"
        ));
    }

    #[test]
    fn json() {
        assert_eq!(
            compact_json("{ \"a b\" : [1.50, \"x\\\" y\"] }\n"),
            "{\"a b\":[1.50,\"x\\\" y\"]}"
        );
    }

    #[test]
    fn types() {
        assert_eq!(content_type("a.png"), "image/png");
        assert_eq!(content_type("a.js"), "text/javascript; charset=utf-8");
    }
}

/// An error inside a source file, with its 1-based line and column: what the HTML, CSS
/// and JS stages report, and what `--keep-going` turns into a warning.
#[derive(Debug, Clone)]
pub struct SourceErr {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What went wrong.
    pub msg: String,
}
