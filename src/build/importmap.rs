//! Import maps: the site's maps resolve bare specifiers at build time, and each page's
//! map is rewritten to fingerprinted names.
//!
//! A bare specifier in a module (`import "three"`) is rewritten to a relative URL of
//! the fingerprinted file, as bundlers do, when every import map in the site that
//! resolves it names the same site file. The page maps then need no entry per file
//! below a prefix (`"three/addons/": "./jsm/"`): such an entry is expanded only for
//! specifiers that could not be rewritten, and for the files a computed `import()`
//! may ask for (every file when the build cannot tell how its specifier starts).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::refs::{is_local, resolve_path, split_suffix, with_fingerprint, RawRef, RefKind};

/// One page's map, its targets resolved to site paths.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Resolved {
    /// Exact keys: the site path named, or `None` for a target outside the site.
    exact: BTreeMap<String, Option<String>>,
    /// Prefix keys (ending in `/`): the site folder named (ending in `/`), or `None`.
    prefixes: BTreeMap<String, Option<String>>,
}

/// Every import map of the site, for resolving bare specifiers at build time.
#[derive(Debug, Default)]
pub struct ImportMaps {
    maps: Vec<Resolved>,
    /// Keys that appear in some map's `scopes`: their resolution depends on the
    /// importing module, so they are never rewritten.
    scoped: Vec<String>,
    /// Each page's own maps, as written (see [`page_specifier`]).
    pages: HashMap<String, Vec<String>>,
}

impl ImportMaps {
    /// The maps of every page, from the references found while minifying: `(page, map)`.
    pub fn new<'a>(pages: impl IntoIterator<Item = (&'a str, &'a RawRef)>) -> Self {
        let mut seen: HashSet<Resolved> = HashSet::new();
        let mut out = ImportMaps::default();
        for (from, r) in pages {
            if r.kind != RefKind::ImportMap {
                continue;
            }
            if is_page(from) {
                out.pages
                    .entry(from.to_string())
                    .or_default()
                    .push(r.path.clone());
            }
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&r.path) else {
                continue;
            };
            let mut m = Resolved {
                exact: BTreeMap::new(),
                prefixes: BTreeMap::new(),
            };
            if let Some(imports) = v.get("imports").and_then(|m| m.as_object()) {
                for (k, val) in imports {
                    // A value with a query or fragment is another URL than the file's:
                    // rewriting imports to the file would load the module twice.
                    let target = val
                        .as_str()
                        .filter(|s| split_suffix(s).1.is_empty())
                        .and_then(|s| local_target(from, s));
                    if k.ends_with('/') {
                        let dir = target.filter(|t| t.is_empty() || t.ends_with('/'));
                        m.prefixes.insert(k.clone(), dir);
                    } else {
                        m.exact.insert(k.clone(), target);
                    }
                }
            }
            if let Some(scopes) = v.get("scopes").and_then(|m| m.as_object()) {
                for s in scopes.values().filter_map(|s| s.as_object()) {
                    out.scoped.extend(s.keys().cloned());
                }
            }
            if seen.insert(m.clone()) {
                out.maps.push(m);
            }
        }
        out.scoped.sort();
        out.scoped.dedup();
        out
    }

    /// The site path a bare specifier written in `from` names, when every map that
    /// resolves it agrees. In a page, only the page's own map counts, through a
    /// prefix entry ([`page_specifier`]): a page may be served at another URL than its
    /// path (`docs/` for `docs/index.html`, a `<base>`), where a URL relative to its
    /// path would point elsewhere.
    pub fn resolve(&self, from: &str, spec: &str) -> Option<String> {
        if is_page(from) {
            let maps = self.pages.get(from).map_or(&[][..], Vec::as_slice);
            return page_specifier(from, maps, spec).map(|(path, _)| path);
        }
        if self.scoped.iter().any(|k| matches(k, spec)) {
            return None;
        }
        let mut found: Option<String> = None;
        for m in &self.maps {
            let hit = match m.exact.get(spec) {
                Some(t) => Some(t.clone()),
                None => m
                    .prefixes
                    .iter()
                    .filter(|(k, _)| spec.starts_with(k.as_str()))
                    .max_by_key(|(k, _)| k.len())
                    .map(|(k, dir)| {
                        let rest = &spec[k.len()..];
                        // The spec refuses a result outside the prefix's folder.
                        dir.as_ref()
                            .filter(|_| !rest.is_empty() && !rest.ends_with('/'))
                            .and_then(|d| resolve_path(d, &format!("./{rest}")))
                            .filter(|p| dir.as_ref().is_some_and(|d| p.starts_with(d.as_str())))
                    }),
            };
            match hit {
                None => continue,
                // Outside the site, or a path that leaves it: the browser's business.
                Some(None) => return None,
                Some(Some(p)) => match &found {
                    Some(f) if *f != p => return None,
                    _ => found = Some(p),
                },
            }
        }
        found
    }
}

/// A bare specifier of an inline module in page `from` that the page's one import map
/// (`maps`: the maps written in the page) resolves through a prefix entry: the site path
/// it names, and the URL to write in its place, the entry's value as written followed
/// by the rest of the specifier. The browser resolves that URL against the page's base
/// URL, as it resolves the entry's value, so both name the same file wherever the page
/// is served; the map then needs no entry of its own for the fingerprinted file.
/// `None`, leaving the specifier to the map, for an exact key, a page with several maps
/// or with scopes, and a rest that is not plain path segments.
pub fn page_specifier(
    from: &str,
    maps: &[impl AsRef<str>],
    spec: &str,
) -> Option<(String, String)> {
    let [json] = maps else {
        return None;
    };
    let v: serde_json::Value = serde_json::from_str(json.as_ref()).ok()?;
    if v.get("scopes").is_some() {
        return None;
    }
    let imports = v.get("imports")?.as_object()?;
    if imports.contains_key(spec) {
        return None;
    }
    let (key, value) = imports
        .iter()
        .filter(|(k, _)| k.ends_with('/') && spec.starts_with(k.as_str()))
        .max_by_key(|(k, _)| k.len())?;
    let value = value
        .as_str()
        .filter(|v| v.ends_with('/') && split_suffix(v).1.is_empty())?;
    let rest = &spec[key.len()..];
    let plain = rest.split('/').all(|seg| {
        !seg.is_empty() && seg != "." && seg != ".." && !seg.contains(['?', '#', '\\', '%', ':'])
    });
    if !plain {
        return None;
    }
    let dir = local_target(from, value)?;
    Some((format!("{dir}{rest}"), format!("{value}{rest}")))
}

pub(crate) fn is_page(path: &str) -> bool {
    super::kinds::FileClass::of(path) == super::kinds::FileClass::Html
}

fn matches(key: &str, spec: &str) -> bool {
    key == spec || (key.ends_with('/') && spec.starts_with(key))
}

/// Where the maps still need an entry per file: what the build could not rewrite in
/// scripts (a page's own inline specifiers are added for its own map only).
#[derive(Debug, Default)]
pub struct Needs {
    /// How the site's `import()` calls with a computed specifier start (`""`: unknown).
    pub computed: Vec<String>,
    /// Bare specifiers left as written.
    pub unresolved: HashSet<String>,
}

/// The site path (a folder ends in `/`) an import map value written in `from` names,
/// or `None` when it is not local.
pub fn local_target(from: &str, value: &str) -> Option<String> {
    let (path, _) = split_suffix(value);
    if !is_local(path, RefKind::Url) {
        return None;
    }
    let trailing = path.ends_with('/');
    let p = resolve_path(from, path)?;
    if trailing {
        // resolve_path turned `dir/` into `dir/index.html`: keep the folder.
        Some(p.trim_end_matches("index.html").to_string())
    } else {
        Some(p)
    }
}

/// The site files below folder `dir`.
pub fn files_under<'a>(dir: &str, all: &'a [String]) -> Vec<&'a String> {
    all.iter()
        .filter(|f| f.starts_with(dir) && f.len() > dir.len())
        .collect()
}

/// Calls `f(key, value)` for every string entry of a map and of its scopes.
pub fn for_each_entry(v: &serde_json::Value, mut f: impl FnMut(&str, &str)) {
    let top = v.get("imports").into_iter();
    let scopes = v
        .get("scopes")
        .and_then(|m| m.as_object())
        .into_iter()
        .flat_map(|m| m.values());
    for m in top.chain(scopes).filter_map(|m| m.as_object()) {
        for (k, val) in m {
            if let Some(s) = val.as_str() {
                f(k, s);
            }
        }
    }
}

/// A relative URL from site file `from` to site file `to` (`./x.js`, `../a/x.js`).
pub fn relative_url(from: &str, to: &str) -> String {
    let from_dir: Vec<&str> = match from.rsplit_once('/') {
        Some((d, _)) => d.split('/').collect(),
        None => Vec::new(),
    };
    let to_parts: Vec<&str> = to.split('/').collect();
    let (to_dir, name) = to_parts.split_at(to_parts.len() - 1);
    let common = from_dir
        .iter()
        .zip(to_dir)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = String::new();
    for _ in common..from_dir.len() {
        out.push_str("../");
    }
    if out.is_empty() {
        out.push_str("./");
    }
    for d in &to_dir[common..] {
        out.push_str(&encode_segment(d));
        out.push('/');
    }
    out.push_str(&encode_segment(name[0]));
    out
}

fn encode_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// Characters a URL path segment cannot hold as they are.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'\'')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Rewrites an import map written in `from`: exact entries get fingerprinted targets;
/// a prefix entry (`"lib/": "/vendor/lib/"`) is kept, and one exact entry is added per
/// file under it that code may still ask the map for (see [`Needs`]).
pub fn rewrite(
    from: &str,
    json: &str,
    index: &HashMap<&str, usize>,
    hashes: &[Option<String>],
    all: &[String],
    needs: &Needs,
    own: &[&str],
) -> String {
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(json) else {
        return json.to_string();
    };
    let rewrite_map = |m: &mut serde_json::Map<String, serde_json::Value>| {
        let mut out: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        for (k, val) in std::mem::take(m) {
            let Some(s) = val.as_str() else {
                out.insert(k, val);
                continue;
            };
            let (path, suffix) = split_suffix(s);
            if k.ends_with('/') && s.ends_with('/') {
                if let Some(dir) = local_target(from, s) {
                    for (spec, i) in wanted_below(&k, &dir, all, index, needs, own) {
                        if let Some(h) = &hashes[i] {
                            let sub = &all[i][dir.len()..];
                            out.insert(spec, format!("{s}{}", with_fingerprint(sub, h)).into());
                        }
                    }
                }
                out.insert(k, val);
                continue;
            }
            let new = local_target(from, path)
                .filter(|p| !p.ends_with('/'))
                .and_then(|p| lookup(&p, index))
                .and_then(|i| hashes[i].as_ref())
                .map(|h| format!("{}{suffix}", with_fingerprint(path, h)));
            out.insert(k, new.map(Into::into).unwrap_or(val));
        }
        *m = out.into_iter().collect();
    };
    if let Some(m) = v.get_mut("imports").and_then(|m| m.as_object_mut()) {
        rewrite_map(m);
    }
    if let Some(scopes) = v.get_mut("scopes").and_then(|m| m.as_object_mut()) {
        for m in scopes.values_mut().filter_map(|m| m.as_object_mut()) {
            rewrite_map(m);
        }
    }
    v.to_string().replace("</", "<\\/")
}

/// The files below a prefix entry (`key` → folder `dir`) that code may still ask the
/// map for, with the specifier it would use. Only a computed `import()` that may
/// start under `key` needs the folder listed; otherwise the specifiers are looked up.
fn wanted_below(
    key: &str,
    dir: &str,
    all: &[String],
    index: &HashMap<&str, usize>,
    needs: &Needs,
    own: &[&str],
) -> Vec<(String, usize)> {
    let named = needs
        .unresolved
        .iter()
        .map(String::as_str)
        .chain(own.iter().copied());
    let computed = needs
        .computed
        .iter()
        .any(|c| c.starts_with(key) || key.starts_with(c.as_str()));
    if !computed {
        return named
            .filter_map(|spec| {
                let sub = spec.strip_prefix(key)?;
                let i = *index.get(format!("{dir}{sub}").as_str())?;
                Some((spec.to_string(), i))
            })
            .collect();
    }
    files_under(dir, all)
        .into_iter()
        .filter_map(|f| {
            let spec = format!("{key}{}", &f[dir.len()..]);
            let may_load = needs.unresolved.contains(&spec)
                || own.contains(&spec.as_str())
                || needs.computed.iter().any(|c| spec.starts_with(c.as_str()));
            may_load.then(|| (spec, index[f.as_str()]))
        })
        .collect()
}

fn lookup(p: &str, index: &HashMap<&str, usize>) -> Option<usize> {
    index.get(p).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(json: &str) -> RawRef {
        RawRef {
            path: json.into(),
            line: 1,
            kind: RefKind::ImportMap,
        }
    }

    #[test]
    fn resolves_when_every_map_agrees() {
        let a = map(r#"{"imports": {"three": "./build/three.js", "three/addons/": "./jsm/"}}"#);
        let b = map(r#"{"imports": {"three": "../build/three.js"}}"#);
        let maps = ImportMaps::new([("index.html", &a), ("sub/page.html", &b)]);
        assert_eq!(
            maps.resolve("m.js", "three").as_deref(),
            Some("build/three.js")
        );
        assert_eq!(
            maps.resolve("m.js", "three/addons/controls/Orbit.js")
                .as_deref(),
            Some("jsm/controls/Orbit.js")
        );
        assert_eq!(maps.resolve("m.js", "react"), None);
        // A prefix cannot climb out of its folder and out of the site.
        assert_eq!(maps.resolve("m.js", "three/addons/../../../x.js"), None);
        assert_eq!(maps.resolve("m.js", "three/addons/../x.js"), None);
    }

    #[test]
    fn disagreement_scopes_and_remote_targets_are_left_alone() {
        let a = map(r#"{"imports": {"lib": "./a/lib.js", "cdn": "https://x/y.js"}}"#);
        let b = map(r#"{"imports": {"lib": "./b/lib.js"}, "scopes": {"/s/": {"s": "./s.js"}}}"#);
        let maps = ImportMaps::new([("index.html", &a), ("two.html", &b)]);
        assert_eq!(maps.resolve("m.js", "lib"), None);
        assert_eq!(maps.resolve("m.js", "cdn"), None);
        assert_eq!(maps.resolve("m.js", "s"), None);
    }

    #[test]
    fn a_page_writes_what_its_prefix_entry_gives() {
        let map = r#"{"imports": {"three": "./b/three.js", "three/addons/": "./jsm/", "cdn/": "https://cdn.example/x/"}}"#;
        assert_eq!(
            page_specifier("docs/page.html", &[map], "three/addons/controls/c.js"),
            Some((
                "docs/jsm/controls/c.js".into(),
                "./jsm/controls/c.js".into()
            ))
        );
        for spec in [
            "three",                 // an exact key: the map keeps it
            "three/addons/",         // no file
            "three/addons/../x.js",  // leaves the folder
            "three/addons/./x.js",   // not plain segments
            "three/addons/x.js?v=1", // a query
            "three/addons/a%20b.js", // an escape
            "cdn/x.js",              // outside the site
            "other/x.js",            // no entry
        ] {
            assert_eq!(page_specifier("p.html", &[map], spec), None, "{spec}");
        }
        // Two maps, or scopes: left to the browser.
        assert_eq!(
            page_specifier("p.html", &[map, map], "three/addons/c.js"),
            None
        );
        let scoped = r#"{"imports": {"a/": "./a/"}, "scopes": {"/x/": {"a/": "./b/"}}}"#;
        assert_eq!(page_specifier("p.html", &[scoped], "a/c.js"), None);
    }

    #[test]
    fn relative_urls() {
        assert_eq!(relative_url("a/b/c.js", "a/d.js"), "../d.js");
        assert_eq!(relative_url("index.html", "build/x.js"), "./build/x.js");
        assert_eq!(relative_url("a/x.js", "a/y.js"), "./y.js");
        assert_eq!(relative_url("a/x.js", "b c/y#.js"), "../b%20c/y%23.js");
    }
}
