//! Fingerprinting: resolve every placeholder to a site file, order files so that
//! dependencies are hashed first (strongly connected components — import cycles —
//! are hashed as one unit), substitute final names, hash the final bytes.

use std::collections::{BTreeMap, HashMap};

use super::cache::Processed;
use super::refs::{fingerprint_name, resolve_path, with_fingerprint, RawRef, RefKind};

/// A file ready for fingerprinting.
pub struct Node {
    /// Source path (no leading slash).
    pub rel: String,
    /// Processed content with placeholders.
    pub processed: Processed,
    /// Whether the file gets a fingerprinted name.
    pub fingerprint: bool,
}

/// The result for one file.
#[derive(Debug, Clone)]
pub struct Output {
    /// Output path (no leading slash), fingerprinted or not.
    pub out: String,
    /// Final bytes.
    pub bytes: bytes::Bytes,
    /// blake3 of `bytes`.
    pub hash: blake3::Hash,
}

/// What a reference resolved to.
#[derive(Debug, Clone)]
pub enum Target {
    /// Not a site file (broken, or left for the browser).
    None,
    /// A site file, by index.
    File(usize),
    /// An import map: for each entry (scope, key) the files it names.
    ImportMap(Vec<usize>),
}

/// Resolves one reference of file `from` against the site's files.
pub fn resolve(from: &str, r: &RawRef, index: &HashMap<&str, usize>, all: &[String]) -> Target {
    match r.kind {
        RefKind::ImportMap => {
            let mut deps = Vec::new();
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&r.path) {
                for_each_import_map_entry(&v, |key, value| {
                    if let Some(p) = local_target(from, value) {
                        if key.ends_with('/') && value.ends_with('/') {
                            deps.extend(
                                files_under(&p, all)
                                    .into_iter()
                                    .filter_map(|f| index.get(f.as_str()).copied()),
                            );
                        } else if let Some(&i) = index.get(p.as_str()) {
                            deps.push(i);
                        }
                    }
                });
            }
            Target::ImportMap(deps)
        }
        _ => match lookup(from, &r.path, index) {
            Some(i) => Target::File(i),
            None => Target::None,
        },
    }
}

fn lookup(from: &str, raw: &str, index: &HashMap<&str, usize>) -> Option<usize> {
    let p = resolve_path(from, raw)?;
    if let Some(&i) = index.get(p.as_str()) {
        return Some(i);
    }
    // `docs` naming a folder: its index.html.
    index.get(format!("{p}/index.html").as_str()).copied()
}

fn local_target(from: &str, value: &str) -> Option<String> {
    let (path, _) = super::refs::split_suffix(value);
    if !super::refs::is_local(path, RefKind::Url) {
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

fn files_under<'a>(dir: &str, all: &'a [String]) -> Vec<&'a String> {
    all.iter()
        .filter(|f| f.starts_with(dir) && f.len() > dir.len())
        .collect()
}

fn for_each_import_map_entry(v: &serde_json::Value, mut f: impl FnMut(&str, &str)) {
    if let Some(m) = v.get("imports").and_then(|m| m.as_object()) {
        for (k, val) in m {
            if let Some(s) = val.as_str() {
                f(k, s);
            }
        }
    }
    if let Some(scopes) = v.get("scopes").and_then(|m| m.as_object()) {
        for (_, m) in scopes {
            if let Some(m) = m.as_object() {
                for (k, val) in m {
                    if let Some(s) = val.as_str() {
                        f(k, s);
                    }
                }
            }
        }
    }
}

/// Computes every file's final name and bytes.
pub fn fingerprint(nodes: &[Node], targets: &[Vec<Target>], hash_len: usize) -> Vec<Output> {
    let n = nodes.len();
    let all: Vec<String> = nodes.iter().map(|n| n.rel.clone()).collect();
    // Edges to fingerprinted files only: a stable name never changes.
    let edges: Vec<Vec<usize>> = targets
        .iter()
        .map(|ts| {
            let mut e: Vec<usize> = ts
                .iter()
                .flat_map(|t| match t {
                    Target::File(i) => vec![*i],
                    Target::ImportMap(v) => v.clone(),
                    Target::None => vec![],
                })
                .filter(|&i| nodes[i].fingerprint)
                .collect();
            e.sort_unstable();
            e.dedup();
            e
        })
        .collect();
    let sccs = tarjan(n, &edges);
    // Files without references are final already: hash them in parallel up front.
    let pre: Vec<Option<blake3::Hash>> = {
        use rayon::prelude::*;
        nodes
            .par_iter()
            .map(|n| {
                n.processed
                    .refs
                    .is_empty()
                    .then(|| blake3::hash(&n.processed.body))
            })
            .collect()
    };
    let mut hashes: Vec<Option<String>> = vec![None; n];
    let mut outputs: Vec<Option<Output>> = vec![None; n];
    for scc in sccs {
        let cyclic = scc.len() > 1 || edges[scc[0]].contains(&scc[0]);
        if cyclic {
            // One hash for the whole component: members' bytes with placeholders and
            // the final names of everything outside it.
            let mut members = scc.clone();
            members.sort_by(|a, b| nodes[*a].rel.cmp(&nodes[*b].rel));
            let mut h = blake3::Hasher::new();
            for &m in &members {
                h.update(nodes[m].rel.as_bytes());
                h.update(&[0]);
                h.update(&nodes[m].processed.body);
                h.update(&[0]);
                for t in &targets[m] {
                    if let Target::File(i) = t {
                        if members.contains(i) {
                            h.update(b"@");
                            h.update(nodes[*i].rel.as_bytes());
                        } else if let Some(hh) = &hashes[*i] {
                            h.update(hh.as_bytes());
                        }
                    }
                    h.update(&[0]);
                }
            }
            let unit = h.finalize();
            for &m in &members {
                if nodes[m].fingerprint {
                    let mut hm = blake3::Hasher::new();
                    hm.update(unit.as_bytes());
                    hm.update(nodes[m].rel.as_bytes());
                    hashes[m] = Some(hm.finalize().to_hex()[..hash_len].to_string());
                }
            }
            for &m in &members {
                let bytes = substitute(&nodes[m], &targets[m], nodes, &hashes, &all);
                let hash = blake3::hash(&bytes);
                outputs[m] = Some(finish(&nodes[m], bytes, hash, hashes[m].clone()));
            }
        } else {
            let m = scc[0];
            let bytes = substitute(&nodes[m], &targets[m], nodes, &hashes, &all);
            let hash = pre[m].unwrap_or_else(|| blake3::hash(&bytes));
            if nodes[m].fingerprint {
                hashes[m] = Some(hash.to_hex()[..hash_len].to_string());
            }
            outputs[m] = Some(finish(&nodes[m], bytes, hash, hashes[m].clone()));
        }
    }
    outputs
        .into_iter()
        .map(|o| o.expect("every node is in one component"))
        .collect()
}

fn finish(
    node: &Node,
    bytes: bytes::Bytes,
    hash: blake3::Hash,
    name_hash: Option<String>,
) -> Output {
    let out = match name_hash {
        Some(h) => {
            let (dir, name) = match node.rel.rfind('/') {
                Some(i) => node.rel.split_at(i + 1),
                None => ("", node.rel.as_str()),
            };
            format!("{dir}{}", fingerprint_name(name, &h))
        }
        None => node.rel.clone(),
    };
    Output { out, bytes, hash }
}

/// The final text of each placeholder of a node.
fn replacements(
    node: &Node,
    targets: &[Target],
    nodes: &[Node],
    hashes: &[Option<String>],
    all: &[String],
) -> Vec<String> {
    node.processed
        .refs
        .iter()
        .zip(targets)
        .map(|(r, t)| match t {
            Target::File(i) => match &hashes[*i] {
                Some(h) => context_safe(&with_fingerprint(&r.path, h)),
                None => context_safe(&r.path),
            },
            Target::None => context_safe(&r.path),
            Target::ImportMap(_) => rewrite_import_map(&node.rel, &r.path, nodes, hashes, all),
        })
        .collect()
}

/// Placeholders are substituted after minification, which may have dropped the quotes
/// around a URL (`url(a.png)`, `src=a.png`): characters that need quoting there are
/// percent-encoded, which means the same URL.
fn context_safe(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '"' => out.push_str("%22"),
            '\'' => out.push_str("%27"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '`' => out.push_str("%60"),
            '\t' => out.push_str("%09"),
            c => out.push(c),
        }
    }
    out
}

fn substitute(
    node: &Node,
    targets: &[Target],
    nodes: &[Node],
    hashes: &[Option<String>],
    all: &[String],
) -> bytes::Bytes {
    let p = &node.processed;
    if p.refs.is_empty() {
        return p.body.clone();
    }
    let reps = replacements(node, targets, nodes, hashes, all);
    let prefix = p.prefix.as_bytes();
    let body = &p.body;
    let mut out = Vec::with_capacity(body.len() + 64);
    let mut i = 0;
    let finder = memmem(prefix);
    while let Some(off) = finder(&body[i..]) {
        let start = i + off;
        let mut j = start + prefix.len();
        let num_start = j;
        while j < body.len() && body[j].is_ascii_digit() {
            j += 1;
        }
        let idx = std::str::from_utf8(&body[num_start..j])
            .ok()
            .and_then(|s| s.parse::<usize>().ok());
        if let (Some(idx), true) = (idx, j < body.len() && body[j] == b'x') {
            if let Some(rep) = reps.get(idx) {
                out.extend_from_slice(&body[i..start]);
                out.extend_from_slice(rep.as_bytes());
                i = j + 1;
                continue;
            }
        }
        out.extend_from_slice(&body[i..num_start]);
        i = num_start;
    }
    out.extend_from_slice(&body[i..]);
    out.into()
}

fn memmem(needle: &[u8]) -> impl Fn(&[u8]) -> Option<usize> + '_ {
    move |hay: &[u8]| {
        if needle.is_empty() || hay.len() < needle.len() {
            return None;
        }
        let first = needle[0];
        let mut i = 0;
        while i + needle.len() <= hay.len() {
            match hay[i..hay.len() - needle.len() + 1]
                .iter()
                .position(|&b| b == first)
            {
                Some(p) => {
                    let s = i + p;
                    if &hay[s..s + needle.len()] == needle {
                        return Some(s);
                    }
                    i = s + 1;
                }
                None => return None,
            }
        }
        None
    }
}

/// Rewrites an import map: exact entries get fingerprinted targets; a prefix entry
/// (`"lib/": "/vendor/lib/"`) is kept and expanded into one exact entry per file
/// under it, since fingerprinting changes the names below the prefix.
fn rewrite_import_map(
    from: &str,
    json: &str,
    nodes: &[Node],
    hashes: &[Option<String>],
    all: &[String],
) -> String {
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(json) else {
        return json.to_string();
    };
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.rel.as_str(), i))
        .collect();
    let rewrite_map = |m: &mut serde_json::Map<String, serde_json::Value>| {
        let mut out: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        let entries: Vec<(String, serde_json::Value)> =
            m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (k, val) in entries {
            let Some(s) = val.as_str() else {
                out.insert(k, val);
                continue;
            };
            let (path, suffix) = super::refs::split_suffix(s);
            if k.ends_with('/') && s.ends_with('/') {
                if let Some(dir) = local_target(from, s) {
                    for f in files_under(&dir, all) {
                        let i = index[f.as_str()];
                        if let Some(h) = &hashes[i] {
                            let sub = &f[dir.len()..];
                            out.insert(
                                format!("{k}{sub}"),
                                format!("{s}{}", with_fingerprint(sub, h)).into(),
                            );
                        }
                    }
                }
                out.insert(k, val);
                continue;
            }
            let new = lookup(from, path, &index)
                .filter(|_| super::refs::is_local(path, RefKind::Url))
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
        for (_, m) in scopes.iter_mut() {
            if let Some(m) = m.as_object_mut() {
                rewrite_map(m);
            }
        }
    }
    v.to_string().replace("</", "<\\/")
}

/// Tarjan's algorithm, iterative; components come out dependencies first.
fn tarjan(n: usize, edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&mut (v, ref mut ei)) = call.last_mut() {
            if *ei == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if *ei < edges[v].len() {
                let w = edges[v][*ei];
                *ei += 1;
                if index[w] == usize::MAX {
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            call.pop();
            if let Some(&(parent, _)) = call.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(comp);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoted_contexts_stay_valid() {
        assert_eq!(
            context_safe("img/my logo (1).png"),
            "img/my%20logo%20%281%29.png"
        );
        assert_eq!(context_safe("a%20b.png?x=1"), "a%20b.png?x=1");
    }

    #[test]
    fn tarjan_orders_dependencies_first() {
        // 0 -> 1 -> 2 -> 1, 3 alone
        let edges = vec![vec![1], vec![2], vec![1], vec![]];
        let sccs = tarjan(4, &edges);
        let pos = |x: usize| sccs.iter().position(|c| c.contains(&x)).unwrap();
        assert_eq!(sccs.iter().find(|c| c.contains(&1)).unwrap().len(), 2);
        assert!(pos(1) < pos(0));
    }
}
