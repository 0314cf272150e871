//! The site's reference graph: which file each local reference points at, and which
//! JS files are modules (imported, `type=module`, import-map targets).

use std::collections::{HashMap, HashSet};

use super::cache::Processed;
use super::fingerprint::{self, Target};
use super::importmap::ImportMaps;
use super::kinds::FileClass;
use super::refs::RefKind;
use super::{BuildOptions, Input};
use crate::error::{Error, Result};

/// The site's files by path, the list of paths, and its import maps, as reference
/// resolution wants them.
fn site_index<'a>(
    inputs: &'a [Input],
    stage1: &'a [Processed],
) -> (HashMap<&'a str, usize>, Vec<String>, ImportMaps) {
    let index = inputs
        .iter()
        .enumerate()
        .map(|(i, f)| (f.rel.as_str(), i))
        .collect();
    let maps = ImportMaps::new(
        inputs
            .iter()
            .zip(stage1)
            .flat_map(|(inp, p)| p.refs.iter().map(move |r| (p.resolves_from(&inp.rel), r))),
    );
    (index, inputs.iter().map(|i| i.rel.clone()).collect(), maps)
}

/// Module detection: `.mjs`, module syntax, and anything imported or loaded as a module.
pub(super) fn module_files(inputs: &[Input], stage1: &[Processed]) -> HashSet<usize> {
    let (index, all, maps) = site_index(inputs, stage1);
    let mut modules: HashSet<usize> = HashSet::new();
    for (i, inp) in inputs.iter().enumerate() {
        if inp.class == FileClass::Js && (inp.rel.ends_with(".mjs") || stage1[i].esm) {
            modules.insert(i);
        }
        let from = stage1[i].resolves_from(&inp.rel);
        for r in &stage1[i].refs {
            match r.kind {
                // A prefix entry (`"three/addons/": "./jsm/"`) makes every file below it
                // importable, not imported: classic scripts live there too (emscripten's
                // glue, loaded as text into a worker, must keep its global names). Those
                // imported are found by their importers' references; exact entries name
                // modules.
                RefKind::ImportMap => modules.extend(fingerprint::mapped_files(
                    from, &r.path, &index, &all, false,
                )),
                RefKind::Import | RefKind::Bare | RefKind::ModuleScript => {
                    if let Target::File(t) = fingerprint::resolve(from, r, &index, &all, &maps) {
                        modules.insert(t);
                    }
                }
                _ => {}
            }
        }
    }
    modules
}

/// Stage 4a: every local reference resolved to a site file; broken ones are warnings,
/// or errors with `--strict`. The processing warnings join the build's here.
pub(super) fn resolve_references(
    opts: &BuildOptions,
    inputs: &[Input],
    stage1: &[Processed],
    warnings: &mut Vec<String>,
) -> Result<Vec<Vec<Target>>> {
    let (index, all, maps) = site_index(inputs, stage1);
    let src_display = |rel: &str| opts.src.join(rel).display().to_string();
    // Each file's references in parallel (a docs site has hundreds of thousands), then
    // its warnings and broken references in file order.
    use rayon::prelude::*;
    let resolved: Vec<(Vec<Target>, Vec<String>)> = inputs
        .par_iter()
        .zip(stage1)
        .map(|(inp, p)| {
            let from = p.resolves_from(&inp.rel);
            let mut broken = Vec::new();
            let ts = p
                .refs
                .iter()
                .map(|r| {
                    let t = fingerprint::resolve(from, r, &index, &all, &maps);
                    if matches!(t, Target::None)
                        && !matches!(r.kind, RefKind::ImportMap | RefKind::Bare)
                    {
                        broken.push(format!(
                            "{}:{}: broken reference {:?} (no such file in the site)",
                            src_display(&inp.rel),
                            r.line,
                            r.path
                        ));
                    }
                    t
                })
                .collect();
            (ts, broken)
        })
        .collect();
    let mut targets_of = Vec::with_capacity(inputs.len());
    let mut broken = Vec::new();
    for ((ts, b), p) in resolved.into_iter().zip(stage1) {
        warnings.extend(p.warnings.iter().cloned());
        broken.extend(b);
        targets_of.push(ts);
    }
    if opts.strict && !broken.is_empty() {
        return Err(Error::input(format!(
            "{}\n{} broken reference(s); fix them or drop --strict",
            broken.join("\n"),
            broken.len()
        )));
    }
    warnings.extend(broken);

    Ok(targets_of)
}
