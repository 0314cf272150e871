//! `sitevault build`: a site folder → a minified, fingerprinted `dist/` with a build
//! manifest. Stages: `walk` → read → process (minify with placeholders, cached;
//! [`html`], [`css`], [`js`]) → [`fingerprint`] → write to a temporary folder → swap.

pub(crate) mod cache;
mod compress;
pub mod css;
mod css_pieces;
mod depth;
pub mod fingerprint;
mod graph;
pub mod html;
mod html_chunks;
mod html_rewrite;
mod html_scan;
mod html_space;
mod html_tags;
pub mod importmap;
pub mod js;
mod js_data;
mod js_refs;
pub(crate) mod kinds;
mod originals;
mod output;
mod process;
mod stamp;
mod svg;

pub mod refs;
pub(crate) mod walk;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::schema;
use cache::Cache;
use fingerprint::Node;
use kinds::FileClass;

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
    /// Precompressed variants to write beside compressible files (`[build] compress`).
    pub compress: Vec<crate::schema::Coding>,
    /// Folders the output folder must neither be nor contain, besides the source and
    /// the cache: the `file://` stores of the config (replacing the output folder would
    /// delete them).
    pub protect: Vec<PathBuf>,
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
            compress: b.codings(),
            protect: crate::store::StoreSpec::local_dirs(cfg, None),
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
    /// Precompressed variants written (`.br` and `.gz` files).
    pub variants: usize,
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
    /// Minification per kind of file (cache hits left out).
    pub throughput: Vec<KindThroughput>,
}

/// The minifiers' work on one kind of file: bytes in and the time spent, summed over
/// the worker threads, so `bytes / busy_ms` is the speed of one core.
#[derive(Debug, Clone, Serialize)]
pub struct KindThroughput {
    /// `html`, `css`, `js`, `json`, or `css (min)`/`js (min)` (references rewritten only).
    pub kind: String,
    /// Files minified.
    pub files: usize,
    /// Their bytes in.
    pub bytes: u64,
    /// Milliseconds spent on them, summed over threads.
    pub busy_ms: f64,
}

impl KindThroughput {
    /// Megabytes (10⁶ bytes) per second of one core.
    pub fn mb_per_core_second(&self) -> f64 {
        self.bytes as f64 / 1e3 / self.busy_ms.max(1e-3)
    }
}

pub(super) struct Input {
    pub(super) rel: String,
    pub(super) class: FileClass,
    pub(super) bytes: bytes::Bytes,
    /// Copied as written (a text file that is not UTF-8, with `--keep-going`).
    pub(super) raw: Option<String>,
    /// JS minified already but not named `*.min.js` (`kinds::looks_minified`): mangled,
    /// not compressed (`js::Effort::Light`).
    pub(super) packed: bool,
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
    let mut protect: Vec<(&Path, &str)> = vec![(&opts.src, "the source folder")];
    if let Some(c) = &opts.cache_dir {
        protect.push((c, "the build cache"));
    }
    protect.extend(
        opts.protect
            .iter()
            .map(|p| (p.as_path(), "a store's folder")),
    );
    let outdir = crate::outdir::check(&opts.out, &protect)?;
    let targets = css::targets(&opts.targets).map_err(Error::input)?;
    let exclude = walk::globs(&opts.exclude, "build.exclude")?;
    let keep = walk::globs(&opts.keep_names, "build.keep_names")?;
    let mut warnings = Vec::new();
    let mut laps = Laps::new();

    // 1. Walk, and stop when nothing changed since the last build into OUT.
    // A cache folder inside the site is not part of it.
    let skip: Vec<PathBuf> = opts.cache_dir.iter().cloned().collect();
    let files = walk::walk(&opts.src, &exclude, &skip, &mut warnings)?;
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
    let mut inputs = walk::read_inputs(opts, &files, &mut warnings)?;
    laps.mark("read");
    let bytes_in: u64 = inputs.iter().map(|i| i.bytes.len() as u64).sum();

    // 3. Minify, with placeholders for local references, through the content cache.
    pb.stage("minifying");
    let cache = Cache::new(opts.cache_dir.clone());
    let ctx = process::Minify {
        opts,
        cache: &cache,
        options_key: format!("{:?}|{}", opts.targets, opts.keep_going),
        targets,
        pb: &*pb,
        timings: std::sync::Mutex::new(Vec::new()),
        busy: Default::default(),
    };
    let processed = ctx.minify(&inputs, &mut laps)?;
    // The entries made so far go to the cache's segment while the build goes on (the
    // output is about the size of the input).
    cache.write_ahead(bytes_in);
    // A page's source is not read again once minified: its memory goes back to the
    // allocator for the outputs that follow (fresh pages cost a fault and zeroing each,
    // about a tenth of the docs build's CPU).
    for inp in inputs.iter_mut().filter(|i| i.class == FileClass::Html) {
        inp.bytes = bytes::Bytes::new();
    }

    // 4. Resolve references, then fingerprint dependencies-first.
    pb.stage("fingerprinting");
    let targets_of = graph::resolve_references(opts, &inputs, &processed, &mut warnings)?;
    let minified = inputs
        .iter()
        .filter(|i| matches!(i.class, FileClass::Html | FileClass::Css | FileClass::Js))
        .count();
    // Names the build cannot rewrite keep working: the files they name keep their source
    // names, as `build.keep_names` would (originals.rs).
    let kept = originals::kept_files(&inputs, &processed);
    let nodes: Vec<Node> = inputs
        .iter()
        .zip(processed)
        .enumerate()
        .map(|(i, (inp, processed))| Node {
            fingerprint: inp.class != FileClass::Html
                && !keep.is_match(&inp.rel)
                && !kept.contains(&i),
            rel: inp.rel.clone(),
            processed,
        })
        .collect();
    let outputs = fingerprint::fingerprint(&nodes, &targets_of, opts.hash_length);
    laps.mark("fingerprint");

    // 5. Precompressed variants of compressible files, through the same cache.
    if !opts.compress.is_empty() {
        pb.stage("compressing");
    }
    let bodies: Vec<&[u8]> = outputs.iter().map(|o| &o.bytes[..]).collect();
    let variants = compress::variants(
        &bodies,
        |i| compress::wanted(&outputs[i].out, &kinds::content_type(&outputs[i].out)),
        &opts.compress,
        &cache,
    );
    laps.mark("compress");

    // 6. The files map, version.json and the manifest; write and swap OUT.
    let (manifest, version_json, build_digest) =
        output::manifest_of(opts, &inputs, &outputs, &nodes, &variants)?;
    pb.stage("writing");
    let bytes_out =
        outputs.iter().map(|o| o.bytes.len() as u64).sum::<u64>() + version_json.len() as u64;
    if !output::unchanged_output(&opts.out, &manifest) {
        let dirs_record = opts
            .cache_dir
            .as_ref()
            .map(|c| crate::dirstamp::location(c, &outdir.abs));
        output::write_output(
            &outdir,
            &outputs,
            &variants,
            &version_json,
            &manifest,
            dirs_record.as_deref(),
        )?;
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
        variants: manifest.files.values().map(|e| e.enc.iter().count()).sum(),
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
        throughput: ctx.busy.report(),
    })
}

/// Milliseconds per stage, for `build -v` and `--json`.
pub(super) struct Laps {
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

    pub(super) fn mark(&mut self, name: &str) {
        self.stages
            .push((name.to_string(), self.lap.elapsed().as_millis()));
        self.lap = Instant::now();
    }
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
