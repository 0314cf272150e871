//! Files that keep their source names: what the build cannot rewrite may name them.
//!
//! Fingerprinting renames every file a reference names, and rewrites the references.
//! Two kinds of reference cannot be rewritten:
//! - those in a file copied as written (`--keep-going` after a parse error, a text
//!   file that is not UTF-8, an inline script or style that does not parse): the build
//!   does not know where its references are, only which words of it name site files;
//! - an `import()` whose specifier is computed from a known start
//!   (`` import(`./locale/${lang}.js`) ``): it may load any file below that start.
//!
//! Both used to load files that no longer existed under the names they used. Now each
//! file such a reference may name keeps its source name, as `build.keep_names` would:
//! not fingerprinted (revalidated), and every reference to it, rewritten or not, uses
//! that one name (a module loaded under two URLs runs twice). A file copied unread names
//! a file when one of its quoted strings (or unquoted attribute values, or `url(…)`
//! arguments) resolves to it; a false match costs that file its fingerprint, never a
//! changed byte.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::cache::Processed;
use super::refs::{is_local, resolve_path, split_suffix, RefKind};
use super::Input;

/// A name a file uses that the build cannot rewrite.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KeptName {
    /// As written (relative to the file, or absolute from the site root).
    pub path: String,
    /// True for the start of a computed specifier: every file whose path starts so.
    pub prefix: bool,
}

/// At most this many names are taken from one unread file.
const MAX_NAMES: usize = 100_000;
/// Longer words are not paths a site uses.
const MAX_LEN: usize = 1024;

/// The words of an unread text that may name site files: the contents of quoted
/// strings (split at whitespace and commas, for `srcset`), unquoted attribute values
/// and `url(…)` arguments. Each that is local (no scheme) is returned once. A template
/// string with a substitution (`` `./locale/${l}.js` ``) names what starts as it does.
pub(crate) fn names_in(text: &str) -> Vec<KeptName> {
    let b = text.as_bytes();
    let mut names = Names::default();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'' | b'`') => {
                let end = b[i + 1..]
                    .iter()
                    .take(MAX_LEN + 1)
                    .position(|&c| c == q || c == b'\n');
                match end {
                    Some(n) if b[i + 1 + n] == q => {
                        let inner = &text[i + 1..i + 1 + n];
                        match inner.find("${") {
                            Some(d) if q == b'`' => names.start(&inner[..d]),
                            _ => names.words(inner),
                        }
                        i += n + 2;
                    }
                    _ => i += 1,
                }
            }
            // `src=a.js`, `src = a.js` and `url( a.png )`: up to whitespace or the
            // closing `>`/`)`.
            b'=' | b'(' => {
                let open = b[i];
                let mut start = i + 1;
                while b.get(start).is_some_and(|c| matches!(c, b' ' | b'\t')) {
                    start += 1;
                }
                let mut j = start;
                while j < b.len()
                    && j - start <= MAX_LEN
                    && !b[j].is_ascii_whitespace()
                    && !matches!(b[j], b'>' | b')' | b'"' | b'\'' | b'`' | b'=' | b';')
                {
                    j += 1;
                }
                // A word cut at the length limit (maybe inside a character) is no name.
                let whole = j - start <= MAX_LEN;
                let url = i >= 3 && b[i - 3..i].eq_ignore_ascii_case(b"url");
                if j > start && whole && (open == b'=' || url) {
                    names.words(&text[start..j]);
                }
                i = j.max(i + 1);
            }
            _ => i += 1,
        }
    }
    names.out
}

/// What the start of a computed specifier names when it is relative or absolute
/// (`./locale/`): every file below it, or, with a `?` or `#` in it, the one file before
/// that. `None` for a bare or unknown start (`""`, `lib/`) or another origin (`//cdn`).
pub(crate) fn computed_start(start: &str) -> Option<KeptName> {
    if !start.starts_with(['.', '/']) || start.starts_with("//") {
        return None;
    }
    let (path, suffix) = split_suffix(start);
    Some(KeptName {
        path: path.to_string(),
        prefix: suffix.is_empty(),
    })
}

/// The names found so far, each once.
#[derive(Default)]
struct Names {
    seen: HashSet<(String, bool)>,
    out: Vec<KeptName>,
}

impl Names {
    fn words(&mut self, text: &str) {
        for w in text.split(|c: char| c.is_whitespace() || c == ',') {
            let (path, _) = split_suffix(w);
            if is_local(path, RefKind::Url) && path.len() <= MAX_LEN {
                self.push(path, false);
            }
        }
    }

    fn start(&mut self, start: &str) {
        if let Some(k) = computed_start(start) {
            self.push(&k.path, k.prefix);
        }
    }

    fn push(&mut self, path: &str, prefix: bool) {
        if self.out.len() < MAX_NAMES && self.seen.insert((path.to_string(), prefix)) {
            self.out.push(KeptName {
                path: path.to_string(),
                prefix,
            });
        }
    }
}

/// What `name`, written in `from`, names: a site path, or with `prefix` the start of
/// every site path it may load.
fn resolve_kept(from: &str, name: &KeptName) -> Option<(String, bool)> {
    if !name.prefix {
        return resolve_path(from, &name.path).map(|p| (p, false));
    }
    // The folder part resolves like a reference; the rest is a start of a file name,
    // unless it is `.` or `..` (`` `.${p}` ``, `` `../${p}` `` name folders).
    let (dir, tail) = match name.path.rfind('/') {
        Some(i) => name.path.split_at(i + 1),
        None => ("", name.path.as_str()),
    };
    let (dir, tail) = if matches!(tail, "." | "..") {
        (format!("{}/", name.path), "")
    } else if dir.is_empty() {
        ("./".to_string(), tail)
    } else {
        (dir.to_string(), tail)
    };
    let dir = resolve_path(from, &dir)?;
    let tail = percent_encoding::percent_decode_str(tail)
        .decode_utf8()
        .ok()?;
    let start = format!("{}{tail}", dir.strip_suffix("index.html").unwrap_or(&dir));
    Some((start, true))
}

/// The files (by index into `rels`, which is sorted) a resolved name may load.
fn matching(resolved: &(String, bool), rels: &[&str], index: &HashMap<&str, usize>) -> Vec<usize> {
    let (path, prefix) = resolved;
    if !prefix {
        return index.get(path.as_str()).copied().into_iter().collect();
    }
    let first = rels.partition_point(|r| *r < path.as_str());
    rels[first..]
        .iter()
        .take_while(|r| r.starts_with(path.as_str()))
        .filter_map(|r| index.get(r).copied())
        .collect()
}

/// The files (by index into `inputs`) that kept names may load: they keep their source
/// names, not fingerprinted, so that every reference, rewritten or not, loads one URL (a
/// module loaded under two names runs twice).
pub(crate) fn kept_files(inputs: &[Input], processed: &[Processed]) -> HashSet<usize> {
    if processed.iter().all(|p| p.kept.is_empty()) {
        return HashSet::new();
    }
    let index: HashMap<&str, usize> = inputs
        .iter()
        .enumerate()
        .map(|(i, n)| (n.rel.as_str(), i))
        .collect();
    let mut rels: Vec<&str> = index.keys().copied().collect();
    rels.sort_unstable();
    // Many spellings of one folder (`./d/x1/../`, `./d/x2/../`) are looked up once.
    let resolved: HashSet<(String, bool)> = inputs
        .iter()
        .zip(processed)
        .flat_map(|(inp, p)| {
            let from = p.resolves_from(&inp.rel);
            p.kept.iter().filter_map(move |k| resolve_kept(from, k))
        })
        .collect();
    resolved
        .iter()
        .flat_map(|r| matching(r, &rels, &index))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Vec<String> {
        names_in(text).into_iter().map(|n| n.path).collect()
    }

    #[test]
    fn words_of_unread_code_and_markup() {
        assert_eq!(
            paths(r#"import a from "./a.js"; import('./b.js?x'); const u = `img/c.png`;"#),
            ["./a.js", "./b.js", "img/c.png"]
        );
        assert_eq!(
            paths(r#"<img src=x.png srcset="s.png 1x, l.png 2x"><a href="https://e.com/">"#),
            ["x.png", "s.png", "1x", "l.png", "2x"]
        );
        assert_eq!(
            paths("a{background:url(bg.png)} b{c:calc(1px)}"),
            ["bg.png"]
        );
        assert_eq!(
            paths("a{b:url( bg.png );c:URL(bg2.png)} <img src = x.png>"),
            ["bg.png", "bg2.png", "x.png"]
        );
        // A template with a substitution names what starts so.
        let n = names_in("import(`./locale/${l}.js`); f(`${x}/a`); g(`/p/${y}`)");
        let n: Vec<_> = n.iter().map(|k| (k.path.as_str(), k.prefix)).collect();
        assert_eq!(n, [("./locale/", true), ("/p/", true)]);
        // An unclosed quote is not a word, and a newline ends a string.
        assert_eq!(paths("x = \"a.js\ny.js\" 'z.js'"), ["z.js"]);
        // A word past the length limit is cut nowhere (here inside a character).
        assert!(paths(&format!("x={}", "é".repeat(600))).is_empty());
        assert!(paths(&format!("url({}", "中".repeat(400))).is_empty());
    }

    #[test]
    fn a_computed_start_names_every_file_below_it() {
        let mut rels = vec![
            "app/locale/de.js",
            "app/locale/en.js",
            "app/main.js",
            "app/x/y.js",
            "other.js",
        ];
        rels.sort();
        let index: HashMap<&str, usize> = rels.iter().enumerate().map(|(i, r)| (*r, i)).collect();
        let kept = |path: &str, prefix| {
            let name = KeptName {
                path: path.into(),
                prefix,
            };
            let mut t = resolve_kept("app/main.js", &name)
                .map(|r| matching(&r, &rels, &index))
                .unwrap_or_default();
            t.sort();
            t.iter().map(|&i| rels[i]).collect::<Vec<_>>()
        };
        assert_eq!(
            kept("./locale/", true),
            ["app/locale/de.js", "app/locale/en.js"]
        );
        assert_eq!(kept("./locale/e", true), ["app/locale/en.js"]);
        assert_eq!(kept("../oth", true), ["other.js"]);
        assert_eq!(kept("/app/x/", true), ["app/x/y.js"]);
        assert_eq!(kept("../../", true), Vec::<&str>::new());
        assert_eq!(kept("./locale/de.js", false), ["app/locale/de.js"]);
        // `.` and `..` at the end name folders (`` import(`.${p}.js`) ``).
        assert_eq!(kept(".", true).len(), 4);
        assert_eq!(kept("..", true).len(), 5);
        assert_eq!(kept("./x/..", true).len(), 4);
        assert_eq!(kept("nothing.js", false), Vec::<&str>::new());
    }
}
