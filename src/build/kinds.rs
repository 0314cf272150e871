//! File classes by name: what gets minified how, content types.

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
            _ => FileClass::Other,
        }
    }

    /// True when the file must be UTF-8 text.
    pub fn is_text(self) -> bool {
        !matches!(self, FileClass::Other)
    }
}

/// True for text that is already minified: over 4 KB with lines averaging over 500
/// bytes.
pub fn looks_minified(bytes: &[u8]) -> bool {
    if bytes.len() < 4096 {
        return false;
    }
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    bytes.len() / lines > 500
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
    }

    #[test]
    fn minified() {
        assert!(looks_minified(&[b'a'; 10_000]));
        assert!(!looks_minified("var a = 1;\n".repeat(1000).as_bytes()));
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
