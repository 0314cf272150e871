//! References between site files: placeholders put in place of local references
//! while minifying, how a raw reference resolves to a site path, and how a reference
//! is rewritten to a fingerprinted name.
//!
//! Minification is cached by content alone, so it cannot know final names. Every
//! local-looking reference is replaced by a placeholder `svref<nonce>x<N>x` (the
//! nonce is derived from the file's bytes and checked absent from them); the
//! fingerprint stage substitutes final paths once dependencies are hashed.

use serde::{Deserialize, Serialize};

/// What kind of reference this is; decides module detection and substitution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RefKind {
    /// A plain URL (HTML attribute, CSS `url()`/`@import`, `new URL(…, import.meta.url)`).
    Url,
    /// An ES module import (static, re-export, dynamic `import()`): the target is a module.
    Import,
    /// `new Worker(url, {type: "module"})` or `<script type=module src>` or modulepreload.
    ModuleScript,
    /// A classic script: `importScripts()`, `new Worker(url)` without type module.
    ClassicScript,
    /// A whole `<script type=importmap>` body; `path` holds its JSON.
    ImportMap,
    /// A bare module specifier in an import (`three`, `three/addons/x.js`): resolved
    /// through the site's import maps when they all agree, else left as written.
    Bare,
}

/// A reference as written in the source (the path part, before `?` or `#`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawRef {
    /// The path part as written (still percent-encoded), or an import map's JSON.
    pub path: String,
    /// 1-based line in the source file (0 when unknown).
    pub line: u32,
    /// What kind of reference it is.
    pub kind: RefKind,
}

/// Hands out placeholders for one file and remembers what each stands for.
#[derive(Debug, Clone)]
pub struct Placeholders {
    prefix: String,
    refs: Vec<RawRef>,
    /// Each reference's number in `refs`, by path, then kind (a page may hold
    /// thousands: a search would make registering them quadratic). Looked up by `&str`,
    /// without a key built per reference.
    numbers: crate::fasthash::HashMap<String, Vec<(RefKind, usize)>>,
    computed_imports: Vec<String>,
    kept: Vec<super::originals::KeptName>,
    /// Set for a page whose `<base href>` leaves the site: none of its references is local.
    base_elsewhere: bool,
}

impl Placeholders {
    /// A placeholder set whose prefix does not occur in `content`.
    pub fn for_content(content: &[u8]) -> Self {
        Self::seeded(content, *blake3::hash(content).as_bytes())
    }

    /// [`for_content`](Self::for_content) given `content`'s blake3 digest (the build
    /// cache's key is made from it too): the same placeholders, the content hashed once.
    pub fn for_content_digest(content: &[u8], digest: &[u8; 32]) -> Self {
        Self::seeded(content, *digest)
    }

    fn seeded(content: &[u8], mut seed: [u8; 32]) -> Self {
        loop {
            let prefix = format!("svref{}x", hex8(&seed));
            if memchr::memmem::find(content, prefix.as_bytes()).is_none() {
                return Placeholders {
                    prefix,
                    refs: Vec::new(),
                    numbers: Default::default(),
                    computed_imports: Vec::new(),
                    kept: Vec::new(),
                    base_elsewhere: false,
                };
            }
            seed = *blake3::hash(&seed).as_bytes();
        }
    }

    /// The placeholder prefix (`svref<nonce>x`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Registers a reference and returns its placeholder text.
    pub fn add(&mut self, path: &str, line: u32, kind: RefKind) -> String {
        let n = self.number(path, line, kind);
        format!("{}{}x", self.prefix, n)
    }

    /// The number of the reference to `path` as `kind`, registered if new.
    fn number(&mut self, path: &str, line: u32, kind: RefKind) -> usize {
        let known = self
            .numbers
            .get(path)
            .and_then(|by_kind| by_kind.iter().find(|(k, _)| *k == kind));
        match known {
            Some(&(_, i)) => i,
            None => {
                let n = self.refs.len();
                self.refs.push(RawRef {
                    path: path.to_string(),
                    line,
                    kind,
                });
                self.numbers
                    .entry(path.to_string())
                    .or_default()
                    .push((kind, n));
                n
            }
        }
    }

    /// Moves the references registered from number `from` ([`len`](Self::len)) on down
    /// by `lines`: they were read in a text (an inline script) that starts on line
    /// `lines + 1` of the file.
    pub(crate) fn shift_lines(&mut self, from: usize, lines: u32) {
        for r in self.refs.iter_mut().skip(from).filter(|r| r.line > 0) {
            r.line += lines;
        }
    }

    /// If `value` is a local reference of `kind`, returns it with its path part
    /// replaced by a placeholder; otherwise `None` (leave it alone).
    pub fn replace(&mut self, value: &str, line: u32, kind: RefKind) -> Option<String> {
        let (path, suffix) = split_suffix(value.trim());
        if self.base_elsewhere || !is_local(path, kind) {
            return None;
        }
        let n = self.number(path, line, kind);
        Some(format!("{}{n}x{suffix}", self.prefix))
    }

    /// The placeholder text for a string a script gives as a reference of `kind`, if it is
    /// one: a local reference's, or a bare import specifier's (for the import maps). An
    /// import specifier that is neither is noted as a computed import, which a map may
    /// still resolve. Both JS readers (swc's `js_refs.rs`, oxc's `js/oxc_read.rs`) ask here.
    pub fn script_reference(&mut self, value: &str, line: u32, kind: RefKind) -> Option<String> {
        match self.replace(value, line, kind) {
            None if kind == RefKind::Import && is_bare(value) => {
                Some(self.add(value, line, RefKind::Bare))
            }
            None if kind == RefKind::Import => {
                // Not rewritable here (spaces, quotes…), yet a map may resolve it: the
                // maps keep the entries it may need.
                self.note_computed_import(value);
                None
            }
            new => new,
        }
    }

    /// Notes an `import()` whose specifier is computed, by what the build knows of its
    /// start (`""` for nothing): it may load any file an import map resolves from a
    /// specifier starting so, and the maps keep one entry per such file.
    /// A relative start (`./locale/`) instead keeps the source names of the files below
    /// it (see `originals.rs`).
    pub fn note_computed_import(&mut self, start: &str) {
        if let Some(k) = super::originals::computed_start(start) {
            if !self.base_elsewhere {
                self.keep(k);
            }
            return;
        }
        let bare_or_unknown = !start.starts_with(['.', '/']) && !has_scheme(start);
        if bare_or_unknown && !self.computed_imports.iter().any(|s| s == start) {
            self.computed_imports.push(start.to_string());
        }
    }

    /// For a page whose `<base href>` points off the site: its references name no site
    /// file, and are left as written.
    pub fn set_base_elsewhere(&mut self) {
        self.base_elsewhere = true;
    }

    /// Whether the page's `<base href>` points off the site (see `set_base_elsewhere`).
    pub fn base_elsewhere(&self) -> bool {
        self.base_elsewhere
    }

    /// Notes code or markup kept as written: the site files it names keep their source
    /// names too (see `originals.rs`).
    pub fn note_unread(&mut self, text: &str) {
        if self.base_elsewhere {
            return;
        }
        for name in super::originals::names_in(text) {
            self.keep(name);
        }
    }

    fn keep(&mut self, name: super::originals::KeptName) {
        self.kept.push(name);
    }

    /// The names kept as written (see `note_unread`, `note_computed_import`), sorted,
    /// each once.
    pub fn take_kept(&mut self) -> Vec<super::originals::KeptName> {
        let mut kept = std::mem::take(&mut self.kept);
        kept.sort_unstable();
        kept.dedup();
        kept
    }

    /// How the computed `import()` specifiers start (see `note_computed_import`).
    pub fn computed_imports(&self) -> &[String] {
        &self.computed_imports
    }

    /// The references registered so far, indexed by placeholder number.
    pub fn into_refs(self) -> Vec<RawRef> {
        self.refs
    }

    /// Number of references registered so far.
    pub fn len(&self) -> usize {
        self.refs.len()
    }

    /// True when no reference was registered.
    pub fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }
}

fn hex8(b: &[u8]) -> String {
    b[..4].iter().map(|x| format!("{x:02x}")).collect()
}

/// `text` with each span `(lo, hi, replacement)` (in order, not overlapping) replaced.
pub(crate) fn splice(text: &str, spans: &[(usize, usize, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (lo, hi, rep) in spans {
        if *lo < last || *hi > text.len() {
            continue;
        }
        out.push_str(&text[last..*lo]);
        out.push_str(rep);
        last = *hi;
    }
    out.push_str(&text[last..]);
    out
}

/// Splits `a/b.png?x#y` into (`a/b.png`, `?x#y`).
pub fn split_suffix(s: &str) -> (&str, &str) {
    match s.find(['?', '#']) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

/// True for references that may name a site file: not empty, no scheme, not
/// protocol-relative, not a bare module specifier (for imports).
pub fn is_local(path: &str, kind: RefKind) -> bool {
    if path.is_empty() || path.starts_with("//") || path.contains(['{', '}', '<', '>', '\\']) {
        return false;
    }
    if has_scheme(path) {
        return false;
    }
    match kind {
        RefKind::Import => {
            path.starts_with("./") || path.starts_with("../") || path.starts_with('/')
        }
        _ => true,
    }
}

/// True for a bare module specifier that an import map may resolve: not relative,
/// not absolute, no scheme, and nothing that would need escaping inside a string.
pub fn is_bare(spec: &str) -> bool {
    !spec.is_empty()
        && !spec.starts_with(['.', '/'])
        && !has_scheme(spec)
        && spec.len() <= 1024
        && !spec.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '"' | '\'' | '`' | '\\' | '<' | '>' | '%')
        })
}

fn has_scheme(s: &str) -> bool {
    let Some(i) = s.find(':') else { return false };
    let scheme = &s[..i];
    !scheme.is_empty()
        && scheme.as_bytes()[0].is_ascii_alphabetic()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// Resolves a raw reference path written in site file `from` (e.g. `css/a.css`) to
/// a site path (no leading slash), or `None` when it leaves the site root.
/// Directory references (`docs/`) resolve to their `index.html`.
pub fn resolve_path(from: &str, raw: &str) -> Option<String> {
    // A URL parser leaves out every tab, line feed and carriage return first.
    let stripped: String;
    let raw = if raw.contains(['\t', '\n', '\r']) {
        stripped = raw.replace(['\t', '\n', '\r'], "");
        &stripped
    } else {
        raw
    };
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()?
        .replace("&amp;", "&");
    let mut parts: Vec<&str> = Vec::new();
    if !decoded.starts_with('/') {
        if let Some((dir, _)) = from.rsplit_once('/') {
            parts.extend(dir.split('/'));
        }
    }
    let is_dir = decoded.ends_with('/') || decoded.is_empty();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    let mut p = parts.join("/");
    if is_dir {
        if !p.is_empty() {
            p.push('/');
        }
        p.push_str("index.html");
    }
    if p.contains('\0') {
        return None;
    }
    Some(p)
}

/// Rewrites a raw reference to point at the fingerprinted file: the last path
/// segment gets `.<hash>` before its extension, keeping the reference's form
/// (relative or absolute, encoding) intact.
pub fn with_fingerprint(raw: &str, hash: &str) -> String {
    let (dir, name) = match raw.rfind('/') {
        Some(i) => raw.split_at(i + 1),
        None => ("", raw),
    };
    format!("{dir}{}", fingerprint_name(name, hash))
}

/// `app.js` + hash → `app.<hash>.js`; `LICENSE` → `LICENSE.<hash>`.
pub fn fingerprint_name(name: &str, hash: &str) -> String {
    match name.rfind('.') {
        Some(i) if i > 0 => format!("{}.{hash}{}", &name[..i], &name[i..]),
        _ => format!("{name}.{hash}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page with 100,000 distinct references (one `srcset` of 100,000 candidates
    /// took 30 s when each was looked up among the ones before it): each gets its
    /// own number, and a repeated one its first number.
    #[test]
    fn many_references_register_each_once() {
        let mut ph = Placeholders::for_content(b"");
        for i in 0..100_000u32 {
            ph.add(&format!("img/{i}.png"), 1, RefKind::Url);
        }
        let again = ph.add("img/7.png", 2, RefKind::Url);
        assert_eq!(again, format!("{}7x", ph.prefix()));
        assert_ne!(ph.add("img/7.png", 2, RefKind::ModuleScript), again);
        assert_eq!(ph.into_refs().len(), 100_001);
    }

    #[test]
    fn resolves() {
        assert_eq!(
            resolve_path("css/a.css", "../img/x.png").unwrap(),
            "img/x.png"
        );
        assert_eq!(
            resolve_path("css/a.css", "/img/x.png").unwrap(),
            "img/x.png"
        );
        assert_eq!(
            resolve_path("a/b/c.html", "./d%20e.png").unwrap(),
            "a/b/d e.png"
        );
        assert_eq!(
            resolve_path("index.html", "docs/").unwrap(),
            "docs/index.html"
        );
        assert_eq!(resolve_path("index.html", "/").unwrap(), "index.html");
        assert!(resolve_path("index.html", "../../etc/passwd").is_none());
    }

    #[test]
    fn locality() {
        assert!(is_local("img/a.png", RefKind::Url));
        assert!(!is_local("https://x/a.png", RefKind::Url));
        assert!(!is_local("data:image/png;base64,AA", RefKind::Url));
        assert!(!is_local("//cdn/x.js", RefKind::Url));
        assert!(!is_local("lodash", RefKind::Import));
        assert!(is_local("./a.js", RefKind::Import));
        assert!(!is_local("mailto:x@y", RefKind::Url));
        assert!(is_bare("three"));
        assert!(is_bare("@scope/pkg/sub.js"));
        assert!(!is_bare("./a.js"));
        assert!(!is_bare("/a.js"));
        assert!(!is_bare("https://x/a.js"));
        assert!(!is_bare("node:fs"));
        assert!(!is_bare("a b"));
        assert!(!is_bare("it's"));
        assert!(!is_bare("pkg(1)/x y"));
        assert!(is_bare("pkg(1)/x"));
    }

    #[test]
    fn fingerprints() {
        assert_eq!(with_fingerprint("../img/a.png", "abc"), "../img/a.abc.png");
        assert_eq!(with_fingerprint("a", "abc"), "a.abc");
        assert_eq!(with_fingerprint("/x/.htaccess", "abc"), "/x/.htaccess.abc");
    }

    #[test]
    fn placeholders_keep_suffix_and_dedupe() {
        let mut p = Placeholders::for_content(b"hello");
        let a = p.replace("img/a.png?v=1#t", 3, RefKind::Url).unwrap();
        let b = p.replace("img/a.png", 4, RefKind::Url).unwrap();
        assert!(a.ends_with("?v=1#t"));
        assert_eq!(&a[..a.len() - 6], b);
        assert_eq!(p.len(), 1);
        assert!(p.replace("https://x", 1, RefKind::Url).is_none());
    }
}
