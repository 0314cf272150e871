//! Fingerprinting: resolve every placeholder to a site file, order files so that
//! dependencies are hashed first (strongly connected components — import cycles —
//! are hashed as one unit), substitute final names, hash the final bytes.

use std::collections::HashMap;

use super::cache::Processed;
use super::importmap::{self, ImportMaps, Needs};
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

/// The site files an import map (`json`, in file `from`) names: its exact entries' targets,
/// and with `prefixes` every file below a prefix entry's folder.
pub(super) fn mapped_files(
    from: &str,
    json: &str,
    index: &HashMap<&str, usize>,
    all: &[String],
    prefixes: bool,
) -> Vec<usize> {
    let mut files = Vec::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(json) {
        importmap::for_each_entry(&v, |key, value| {
            if let Some(p) = importmap::local_target(from, value) {
                if key.ends_with('/') && value.ends_with('/') {
                    if prefixes {
                        files.extend(
                            importmap::files_under(&p, all)
                                .into_iter()
                                .filter_map(|f| index.get(f.as_str()).copied()),
                        );
                    }
                } else if let Some(&i) = index.get(p.as_str()) {
                    files.push(i);
                }
            }
        });
    }
    files
}

/// Resolves one reference of file `from` against the site's files and import maps.
pub fn resolve(
    from: &str,
    r: &RawRef,
    index: &HashMap<&str, usize>,
    all: &[String],
    maps: &ImportMaps,
) -> Target {
    match r.kind {
        RefKind::ImportMap => Target::ImportMap(mapped_files(from, &r.path, index, all, true)),
        RefKind::Bare => match maps
            .resolve(from, &r.path)
            .and_then(|p| index.get(p.as_str()))
        {
            Some(&i) => Target::File(i),
            None => Target::None,
        },
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

/// Computes every file's final name and bytes.
pub fn fingerprint(nodes: &[Node], targets: &[Vec<Target>], hash_len: usize) -> Vec<Output> {
    let n = nodes.len();
    let all: Vec<String> = nodes.iter().map(|n| n.rel.clone()).collect();
    let site = Site {
        nodes,
        index: all
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_str(), i))
            .collect(),
        all: &all,
        needs: needs(nodes, targets),
    };
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
    // Files whose names do not change (pages) and that are in no cycle: no other file's
    // name depends on their bytes, so they are substituted and hashed in parallel once
    // every fingerprinted name is known (on the docs site, 50 MB of pages went one after
    // another).
    let mut stable: Vec<usize> = Vec::new();
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
                let bytes = substitute(&nodes[m], &targets[m], &site, &hashes);
                let hash = blake3::hash(&bytes);
                outputs[m] = Some(finish(&nodes[m], bytes, hash, hashes[m].clone()));
            }
        } else if !nodes[scc[0]].fingerprint {
            stable.push(scc[0]);
        } else {
            let m = scc[0];
            let bytes = substitute(&nodes[m], &targets[m], &site, &hashes);
            let hash = pre[m].unwrap_or_else(|| blake3::hash(&bytes));
            hashes[m] = Some(hash.to_hex()[..hash_len].to_string());
            outputs[m] = Some(finish(&nodes[m], bytes, hash, hashes[m].clone()));
        }
    }
    let stable: Vec<(usize, Output)> = {
        use rayon::prelude::*;
        stable
            .par_iter()
            .map(|&m| {
                let bytes = substitute(&nodes[m], &targets[m], &site, &hashes);
                let hash = pre[m].unwrap_or_else(|| blake3::hash(&bytes));
                (m, finish(&nodes[m], bytes, hash, None))
            })
            .collect()
    };
    for (m, output) in stable {
        outputs[m] = Some(output);
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

/// What substitution needs to know about the whole site.
struct Site<'a> {
    nodes: &'a [Node],
    all: &'a [String],
    index: HashMap<&'a str, usize>,
    needs: Needs,
}

/// Which bare specifiers the import maps must still resolve for the browser.
fn needs(nodes: &[Node], targets: &[Vec<Target>]) -> Needs {
    let mut needs = Needs::default();
    for (node, ts) in nodes.iter().zip(targets) {
        needs
            .computed
            .extend(node.processed.computed_imports.iter().cloned());
        if importmap::is_page(&node.rel) {
            continue;
        }
        for (r, t) in node.processed.refs.iter().zip(ts) {
            if r.kind == RefKind::Bare && matches!(t, Target::None) {
                needs.unresolved.insert(r.path.clone());
            }
        }
    }
    needs
}

/// The final text of each placeholder of a node.
fn replacements(
    node: &Node,
    targets: &[Target],
    site: &Site<'_>,
    hashes: &[Option<String>],
) -> Vec<String> {
    let page_maps: Vec<&str> = node
        .processed
        .refs
        .iter()
        .filter(|r| r.kind == RefKind::ImportMap)
        .map(|r| r.path.as_str())
        .collect();
    node.processed
        .refs
        .iter()
        .zip(targets)
        .map(|(r, t)| match t {
            Target::File(i) => {
                // A bare specifier becomes a relative URL of the file its maps name; in
                // a page, the URL its own map's prefix entry gives.
                let from = node.processed.resolves_from(&node.rel);
                let path = match r.kind {
                    RefKind::Bare if importmap::is_page(from) => {
                        importmap::page_specifier(from, &page_maps, &r.path)
                            .map_or_else(|| r.path.clone(), |(_, url)| url)
                    }
                    RefKind::Bare => importmap::relative_url(from, &site.nodes[*i].rel),
                    _ => r.path.clone(),
                };
                match &hashes[*i] {
                    Some(h) => context_safe(&with_fingerprint(&path, h)),
                    None => context_safe(&path),
                }
            }
            // Written back as it was: a bare specifier sits in a quoted JS string, and
            // percent-encoding would make it another specifier.
            Target::None if r.kind == RefKind::Bare => r.path.clone(),
            Target::None => context_safe(&r.path),
            Target::ImportMap(_) => {
                // The page's own bare specifiers (its inline scripts) left to its map.
                let own: Vec<&str> = node
                    .processed
                    .refs
                    .iter()
                    .zip(targets)
                    .filter(|(r, t)| r.kind == RefKind::Bare && !matches!(t, Target::File(_)))
                    .map(|(r, _)| r.path.as_str())
                    .collect();
                importmap::rewrite(
                    node.processed.resolves_from(&node.rel),
                    &r.path,
                    &site.index,
                    hashes,
                    site.all,
                    &site.needs,
                    &own,
                )
            }
        })
        .collect()
}

/// Placeholders are substituted after minification, which may have dropped the quotes
/// around a URL (`url(a.png)`, `src=a.png`): characters that need quoting there are
/// percent-encoded, which means the same URL. A tab, line feed or carriage return is
/// left out, as a URL parser leaves it out (an unquoted value would end there, #13 hunt).
fn context_safe(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '\t' | '\n' | '\r' => {}
            '\x0c' => out.push_str("%0C"),
            ' ' => out.push_str("%20"),
            '"' => out.push_str("%22"),
            '\'' => out.push_str("%27"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '`' => out.push_str("%60"),
            c => out.push(c),
        }
    }
    out
}

fn substitute(
    node: &Node,
    targets: &[Target],
    site: &Site<'_>,
    hashes: &[Option<String>],
) -> bytes::Bytes {
    let p = &node.processed;
    if p.refs.is_empty() {
        return p.body.clone();
    }
    let reps = replacements(node, targets, site, hashes);
    let prefix = p.prefix.as_bytes();
    let body = &p.body;
    // Room for names longer than their placeholders: regrowing copied whole pages. (The
    // slack stays with the output until it is written: untouched pages of a large one
    // cost no memory, a small one's slack does, and peak RSS fell this session anyway.)
    let mut out = Vec::with_capacity(body.len() + body.len() / 4 + 64);
    let mut i = 0;
    let finder = memchr::memmem::Finder::new(prefix);
    while let Some(off) = finder.find(&body[i..]) {
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
        // What a URL parser strips is left out; a form feed is percent-encoded.
        assert_eq!(context_safe("s\n.css\t?a=\r1\x0c"), "s.css?a=1%0C");
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
