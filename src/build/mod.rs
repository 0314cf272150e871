//! `sitevault build`: a site folder → a minified, fingerprinted `dist/` with a build
//! manifest. Stages: [`walk`] → read → process (minify with placeholders, cached;
//! [`html`], [`css`], [`js`]) → [`fingerprint`] → write to a temporary folder → swap.

pub mod cache;
pub mod css;
mod depth;
pub mod fingerprint;
pub mod html;
pub mod js;
pub mod kinds;
mod output;
mod process;
mod stamp;

pub mod refs;
pub mod walk;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::schema::{self, BuildManifest, CacheClass, FileEntry, FileMap};
use cache::{Cache, Processed};
use fingerprint::{Node, Target};
use kinds::FileClass;
use refs::RefKind;

/// Everything `build` needs to know.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Site folder.
    pub src: PathBuf,
    /// Output folder (replaced as a whole at the end).
    pub out: PathBuf,
    /// Globs left out.
    pub exclude: Vec<String>,
    /// Globs that keep their names.
    pub keep_names: Vec<String>,
    /// Browserslist queries for CSS.
    pub targets: Vec<String>,
    /// Fingerprint length in hex characters.
    pub hash_length: usize,
    /// Cache folder; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Version label written to `version.json`.
    pub version: Option<String>,
    /// Broken local references are errors.
    pub strict: bool,
    /// Files that fail to minify are copied as written (with a warning).
    pub keep_going: bool,
    /// Where progress and warnings go.
    pub reporter: crate::report::Handle,
}

impl BuildOptions {
    /// Options from `[build]` of the config (paths resolved against the config file).
    pub fn from_config(cfg: &Config) -> Self {
        let b = &cfg.build;
        BuildOptions {
            src: cfg.resolve(&b.src),
            out: cfg.resolve(&b.out),
            exclude: b.exclude.clone(),
            keep_names: b.keep_names.clone(),
            targets: b.targets.clone(),
            hash_length: b.hash_length,
            cache_dir: Some(cfg.resolve(&b.cache_dir)),
            version: None,
            strict: false,
            keep_going: false,
            reporter: Default::default(),
        }
    }
}

/// What a build did.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    /// Output folder.
    pub out: PathBuf,
    /// Public files written (including `version.json`).
    pub files: usize,
    /// Bytes read from the site folder.
    pub bytes_in: u64,
    /// Bytes written (public files).
    pub bytes_out: u64,
    /// Files minified.
    pub minified: usize,
    /// Cache hits.
    pub cache_hits: usize,
    /// Digest of the build (`version.json` "build").
    pub build: String,
    /// Warnings (broken references, skipped files).
    pub warnings: Vec<String>,
    /// Wall time in milliseconds.
    pub elapsed_ms: u128,
    /// Milliseconds per stage (walk, read, process, minify-js, fingerprint, write).
    pub stages: Vec<(String, u128)>,
    /// The files that took longest to process (path, milliseconds), slowest first.
    pub slowest: Vec<(String, u128)>,
}

struct Input {
    rel: String,
    class: FileClass,
    bytes: bytes::Bytes,
    /// Copied as written (a text file that is not UTF-8, with `--keep-going`).
    raw: Option<String>,
}

/// Stack of the build's worker threads: parsers and minifiers recurse on nesting, and a
/// deeply nested file must not overflow the stack (virtual memory: cheap until used).
const STACK_SIZE: usize = 256 << 20;

/// Runs a build. On error, the previous output folder is left untouched.
pub fn build(opts: &BuildOptions) -> Result<BuildReport> {
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(STACK_SIZE)
        .thread_name(|i| format!("sitevault-build-{i}"))
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the build's worker threads: {e}")))?;
    pool.install(|| build_in_pool(opts))
}

fn build_in_pool(opts: &BuildOptions) -> Result<BuildReport> {
    let started = Instant::now();
    output::check_folders(&opts.src, &opts.out)?;
    let outdir = crate::outdir::check(&opts.out, &[&opts.src])?;
    let targets = css::targets(&opts.targets).map_err(Error::input)?;
    let exclude = walk::globs(&opts.exclude, "build.exclude")?;
    let keep = walk::globs(&opts.keep_names, "build.keep_names")?;
    let mut warnings = Vec::new();
    let mut laps = Laps::new();

    // 1. Walk, and stop when nothing changed since the last build into OUT.
    let files = walk::walk(&opts.src, &exclude, &mut warnings)?;
    for f in &files {
        crate::outdir::check_rel(&f.rel)
            .and_then(|()| check_site_name(&f.rel))
            .map_err(|m| Error::input(format!("{}: {m}", f.abs.display())))?;
    }
    laps.mark("walk");
    // Same inputs by size and mtime, same options, OUT intact: the make/ninja rule. The
    // walk's warnings are part of the key: a warning about a link that is gone must not
    // be replayed from the stamp.
    let stamp_key = opts
        .cache_dir
        .as_ref()
        .map(|_| stamp::stamp_key(opts, &files, &warnings));
    if let Some(key) = &stamp_key {
        if let Some(report) = stamp::up_to_date(opts, key, started) {
            return Ok(report);
        }
    }
    let pb = opts.reporter.task(
        "building",
        files.len() as u64 * 2,
        crate::report::Unit::Items,
    );

    // 2. Read.
    pb.stage("reading");
    let inputs = read_inputs(opts, &files, &mut warnings)?;
    laps.mark("read");
    let bytes_in: u64 = inputs.iter().map(|i| i.bytes.len() as u64).sum();

    // 3. Minify, with placeholders for local references, through the content cache.
    pb.stage("minifying");
    let cache = Cache::new(opts.cache_dir.clone());
    let ctx = Minify {
        opts,
        cache: &cache,
        options_key: format!("{:?}|{}", opts.targets, opts.keep_going),
        targets,
        pb: &*pb,
        timings: std::sync::Mutex::new(Vec::new()),
    };
    let processed = ctx.minify(&inputs, &mut laps)?;

    // 4. Resolve references, then fingerprint dependencies-first.
    pb.stage("fingerprinting");
    let targets_of = resolve_references(opts, &inputs, &processed, &mut warnings)?;
    let minified = inputs
        .iter()
        .filter(|i| matches!(i.class, FileClass::Html | FileClass::Css | FileClass::Js))
        .count();
    let nodes: Vec<Node> = inputs
        .iter()
        .zip(processed)
        .map(|(inp, processed)| Node {
            fingerprint: inp.class != FileClass::Html && !keep.is_match(&inp.rel),
            rel: inp.rel.clone(),
            processed,
        })
        .collect();
    let outputs = fingerprint::fingerprint(&nodes, &targets_of, opts.hash_length);
    laps.mark("fingerprint");

    // 5. The files map, version.json and the manifest; write and swap OUT.
    let (manifest, version_json, build_digest) = manifest_of(opts, &inputs, &outputs, &nodes)?;
    pb.stage("writing");
    let bytes_out =
        outputs.iter().map(|o| o.bytes.len() as u64).sum::<u64>() + version_json.len() as u64;
    if !output::unchanged_output(&opts.out, &manifest) {
        output::write_output(&outdir, &outputs, &version_json, &manifest)?;
    }
    cache.flush();
    if let Some(key) = &stamp_key {
        stamp::write_stamp(
            opts,
            &stamp::Stamp {
                key: key.clone(),
                build: build_digest.clone(),
                bytes_in,
                minified,
                warnings: warnings.clone(),
            },
        );
    }
    laps.mark("write");
    pb.finish();
    Ok(BuildReport {
        out: opts.out.clone(),
        files: manifest.files.len(),
        bytes_in,
        bytes_out,
        minified,
        cache_hits: cache.hits(),
        build: build_digest,
        warnings,
        elapsed_ms: started.elapsed().as_millis(),
        stages: laps.stages,
        slowest: {
            let mut t = ctx.timings.into_inner().unwrap_or_default();
            t.sort_by_key(|e| std::cmp::Reverse(e.1));
            t.truncate(10);
            t
        },
    })
}

/// Milliseconds per stage, for `build -v` and `--json`.
struct Laps {
    stages: Vec<(String, u128)>,
    lap: Instant,
}

impl Laps {
    fn new() -> Self {
        Laps {
            stages: Vec::new(),
            lap: Instant::now(),
        }
    }

    fn mark(&mut self, name: &str) {
        self.stages
            .push((name.to_string(), self.lap.elapsed().as_millis()));
        self.lap = Instant::now();
    }
}

/// Stage 2: read every file; text must be UTF-8 (with `--keep-going` a file that is
/// not is copied as written). A file that vanished since the walk is skipped.
fn read_inputs(
    opts: &BuildOptions,
    files: &[walk::SourceFile],
    warnings: &mut Vec<String>,
) -> Result<Vec<Input>> {
    let read: Vec<std::result::Result<Option<Input>, Error>> = files
        .par_iter()
        .map(|f| {
            let bytes = match std::fs::read(&f.abs) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(Error::io(&f.abs, e)),
            };
            let mut class = FileClass::of(&f.rel);
            if class == FileClass::Js && kinds::looks_minified(&bytes) {
                // Already minified (a bundle, emscripten output): minifying again costs much
                // and gains little; it is treated like `*.min.js` (references still rewritten).
                class = FileClass::JsMin;
            }
            let mut raw = None;
            if class.is_text() {
                if let Err(e) = std::str::from_utf8(&bytes) {
                    let valid = &bytes[..e.valid_up_to()];
                    let text = String::from_utf8_lossy(valid);
                    let (line, col) = crate::config::line_col(&text, text.len());
                    let msg = format!(
                        "{}:{line}:{col}: not valid UTF-8 text; save the file as UTF-8",
                        f.abs.display()
                    );
                    if !opts.keep_going {
                        return Err(Error::input(msg));
                    }
                    raw = Some(format!("{msg} (copied as written)"));
                }
            }
            Ok(Some(Input {
                rel: f.rel.clone(),
                class,
                bytes: bytes.into(),
                raw,
            }))
        })
        .collect();
    let mut inputs = Vec::with_capacity(read.len());
    for (r, f) in read.into_iter().zip(files) {
        match r? {
            Some(i) => {
                warnings.extend(i.raw.clone());
                inputs.push(i)
            }
            None => warnings.push(format!(
                "{}: vanished while the build was reading it; skipped",
                f.abs.display()
            )),
        }
    }
    if inputs.iter().any(|i| i.rel == "version.json") {
        return Err(Error::input(format!(
            "{}: version.json is written by sitevault build; rename or exclude the site's own",
            opts.src.join("version.json").display()
        )));
    }
    Ok(inputs)
}

/// Stage 3's shared state: options, the cache, progress and per-file timings.
struct Minify<'a> {
    opts: &'a BuildOptions,
    cache: &'a Cache,
    options_key: String,
    targets: lightningcss::targets::Targets,
    pb: &'a dyn crate::report::Task,
    timings: std::sync::Mutex<Vec<(String, u128)>>,
}

impl Minify<'_> {
    fn display(&self, rel: &str) -> String {
        self.opts.src.join(rel).display().to_string()
    }

    /// Everything but JS is minified and JS scanned (stage 1); the import graph then
    /// decides module vs classic script, and only JS whose first guess was wrong is
    /// minified again (stage 2).
    fn minify(&self, inputs: &[Input], laps: &mut Laps) -> Result<Vec<Processed>> {
        let mut stage1 = self.first_pass(inputs)?;
        laps.mark("process");
        let modules = module_files(inputs, &stage1);
        self.second_pass(inputs, &mut stage1, &modules)?;
        laps.mark("minify-js");
        Ok(stage1)
    }

    fn first_pass(&self, inputs: &[Input]) -> Result<Vec<Processed>> {
        let (cache, options_key, targets, opts, pb, timings) = (
            self.cache,
            &self.options_key,
            self.targets,
            self.opts,
            self.pb,
            &self.timings,
        );
        let src_display = |rel: &str| self.display(rel);
        // Largest files first, one at a time per thread: a big bundle picked up last would
        // otherwise leave the other cores idle at the end.
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(inputs[i].bytes.len()));
        let mut stage1: Vec<(usize, Result<Processed>)> = order
            .par_iter()
            .with_max_len(1)
            .map(|&i| {
                let inp = &inputs[i];
                let t = Instant::now();
                let r = process::process_stage1(
                    inp,
                    cache,
                    options_key,
                    targets,
                    opts.keep_going,
                    &src_display(&inp.rel),
                );
                pb.inc(1);
                note_time(timings, &inp.rel, t);
                (i, r)
            })
            .collect();
        stage1.sort_unstable_by_key(|(i, _)| *i);
        let stage1: Vec<Result<Processed>> = stage1.into_iter().map(|(_, r)| r).collect();
        stage1.into_iter().collect::<Result<Vec<_>>>()
    }

    fn second_pass(
        &self,
        inputs: &[Input],
        stage1: &mut [Processed],
        modules: &HashSet<usize>,
    ) -> Result<()> {
        let (cache, options_key, opts, pb, timings) = (
            self.cache,
            &self.options_key,
            self.opts,
            self.pb,
            &self.timings,
        );
        let src_display = |rel: &str| self.display(rel);
        // Stage 2: JS minification, now that module vs classic script is known.
        let stage2: Vec<Result<Option<Processed>>> = inputs
            .par_iter()
            .enumerate()
            .map(|(i, inp)| {
                let t = Instant::now();
                // Re-minify only the JS files whose first guess (module syntax or not) was wrong.
                let r = if inp.class == FileClass::Js && inp.raw.is_none() {
                    let want = if modules.contains(&i) && !inp.rel.ends_with(".cjs") {
                        js::JsKind::Module
                    } else {
                        js::JsKind::Script
                    };
                    if (want == js::JsKind::Module) != stage1[i].module {
                        process::process_js(
                            inp,
                            Some(want),
                            cache,
                            options_key,
                            opts.keep_going,
                            &src_display(&inp.rel),
                        )
                        .map(Some)
                    } else {
                        Ok(None)
                    }
                } else {
                    Ok(None)
                };
                pb.inc(1);
                note_time(timings, &inp.rel, t);
                r
            })
            .collect();
        for (i, r) in stage2.into_iter().enumerate() {
            if let Some(p) = r? {
                stage1[i] = p;
            }
        }
        Ok(())
    }
}

/// The site's files by path, and the list of paths, as reference resolution wants them.
fn site_index(inputs: &[Input]) -> (HashMap<&str, usize>, Vec<String>) {
    let index = inputs
        .iter()
        .enumerate()
        .map(|(i, f)| (f.rel.as_str(), i))
        .collect();
    (index, inputs.iter().map(|i| i.rel.clone()).collect())
}

/// Module detection: `.mjs`, module syntax, and anything imported or loaded as a module.
fn module_files(inputs: &[Input], stage1: &[Processed]) -> HashSet<usize> {
    let (index, all) = site_index(inputs);
    let mut modules: HashSet<usize> = HashSet::new();
    for (i, inp) in inputs.iter().enumerate() {
        if inp.class == FileClass::Js && (inp.rel.ends_with(".mjs") || stage1[i].esm) {
            modules.insert(i);
        }
        for r in &stage1[i].refs {
            match (r.kind, fingerprint::resolve(&inp.rel, r, &index, &all)) {
                (RefKind::Import | RefKind::ModuleScript, Target::File(t)) => {
                    modules.insert(t);
                }
                (RefKind::ImportMap, Target::ImportMap(ts)) => modules.extend(ts),
                _ => {}
            }
        }
    }
    modules
}

/// Stage 4a: every local reference resolved to a site file; broken ones are warnings,
/// or errors with `--strict`. The processing warnings join the build's here.
fn resolve_references(
    opts: &BuildOptions,
    inputs: &[Input],
    stage1: &[Processed],
    warnings: &mut Vec<String>,
) -> Result<Vec<Vec<Target>>> {
    let (index, all) = site_index(inputs);
    let src_display = |rel: &str| opts.src.join(rel).display().to_string();
    let mut targets_of = Vec::with_capacity(inputs.len());
    let mut broken = Vec::new();
    for (i, inp) in inputs.iter().enumerate() {
        warnings.extend(stage1[i].warnings.iter().cloned());
        let ts: Vec<Target> = stage1[i]
            .refs
            .iter()
            .map(|r| {
                let t = fingerprint::resolve(&inp.rel, r, &index, &all);
                if matches!(t, Target::None) && r.kind != RefKind::ImportMap {
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

/// Stage 5: the files map (each output's hash, size, type and cache class), then
/// `version.json` and the manifest that lists both.
fn manifest_of(
    opts: &BuildOptions,
    inputs: &[Input],
    outputs: &[fingerprint::Output],
    nodes: &[Node],
) -> Result<(BuildManifest, Vec<u8>, String)> {
    let mut files_map = FileMap::new();
    for (o, n) in outputs.iter().zip(nodes) {
        let key = format!("/{}", o.out);
        let entry = FileEntry {
            hash: o.hash.to_hex().to_string(),
            size: o.bytes.len() as u64,
            content_type: kinds::content_type(&o.out),
            cache: if n.fingerprint {
                CacheClass::Immutable
            } else {
                CacheClass::Revalidate
            },
        };
        if files_map.insert(key.clone(), entry).is_some() {
            return Err(Error::input(format!(
                "{key}: two site files end up with the same output name; rename one of them"
            )));
        }
    }
    let build_digest = schema::digest(&files_map);
    let version_json = output::version_json(
        opts.version.as_deref(),
        &build_digest,
        files_map.len() + 1,
        inputs,
        &opts.src,
    );
    files_map.insert(
        "/version.json".into(),
        FileEntry {
            hash: blake3::hash(&version_json).to_hex().to_string(),
            size: version_json.len() as u64,
            content_type: "application/json".into(),
            cache: CacheClass::Revalidate,
        },
    );
    let manifest = BuildManifest {
        schema: 1,
        tool: crate::TOOL.to_string(),
        digest: schema::digest(&files_map),
        files: files_map,
    };
    Ok((manifest, version_json, build_digest))
}

/// A site path must also be a good public path: no control characters (they would
/// end up in URLs and headers), at most 1023 bytes (publish's limit with the '/').
fn check_site_name(rel: &str) -> std::result::Result<(), String> {
    if rel.chars().any(char::is_control) {
        return Err(
            "a control character (newline, tab, ...) in a file name is refused; rename the file"
                .into(),
        );
    }
    if rel.len() > 1023 {
        return Err("path longer than 1023 bytes; shorten the name or its folders".into());
    }
    schema::check_public_path(&format!("/{rel}"))
}

/// Keeps the slowest files' processing times (ten at most, ties included).
fn note_time(timings: &std::sync::Mutex<Vec<(String, u128)>>, rel: &str, started: Instant) {
    let ms = started.elapsed().as_millis();
    if ms < 5 {
        return;
    }
    if let Ok(mut t) = timings.lock() {
        t.push((rel.to_string(), ms));
        if t.len() > 64 {
            t.sort_by_key(|e| std::cmp::Reverse(e.1));
            t.truncate(10);
        }
    }
}
