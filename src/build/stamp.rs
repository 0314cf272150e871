//! The up-to-date stamp: `make`'s rule for a whole build. When every input has the size,
//! mtime and (on Unix) inode change time the last build into OUT recorded, and OUT is
//! intact, the build stops early.

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::output::unchanged_output;
use super::{walk, BuildOptions, BuildReport};
use crate::outdir::absolute;
use crate::schema::{self, BuildManifest};

/// `<cache>/stamps/<hash of OUT's path>.json`: what the last build into OUT read and
/// reported. Kept in the cache folder so that OUT holds only what the build produces.
#[derive(Debug, Serialize, serde::Deserialize)]
pub(super) struct Stamp {
    pub(super) key: String,
    pub(super) build: String,
    pub(super) bytes_in: u64,
    pub(super) minified: usize,
    pub(super) warnings: Vec<String>,
}

fn stamp_path(opts: &BuildOptions) -> Option<PathBuf> {
    let out = absolute(&opts.out).ok()?;
    let name = blake3::hash(out.to_string_lossy().as_bytes()).to_hex();
    Some(
        opts.cache_dir
            .as_ref()?
            .join("stamps")
            .join(format!("{}.json", &name[..32])),
    )
}

/// A key over everything a build's result depends on: tool, options, the
/// environment that reaches `version.json`, and every input's path, size and mtime.
pub(super) fn stamp_key(
    opts: &BuildOptions,
    files: &[walk::SourceFile],
    walked: &[String],
) -> String {
    // Size, mtime and, on Unix, the inode's change time and number: an edit that
    // keeps size and mtime (`cp -p`, `rsync -t`, tar, `touch -d`) still moves the
    // change time, which no call can set.
    let stats: Vec<(u64, u128, u128)> = files
        .par_iter()
        .map(|f| {
            std::fs::metadata(&f.abs)
                .map(|m| {
                    let t = m
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map(|d| d.as_nanos())
                        .unwrap_or(0);
                    (m.len(), t, changed(&m))
                })
                .unwrap_or((u64::MAX, 0, 0))
        })
        .collect();
    let mut h = blake3::Hasher::new();
    let settings = format!(
        "{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{:?}|{}|{}|{:?}|{}",
        crate::TOOL,
        super::cache::FORMAT,
        opts.compress,
        opts.targets,
        opts.exclude,
        opts.keep_names,
        opts.version,
        opts.hash_length,
        std::env::var("SOURCE_DATE_EPOCH").ok(),
        opts.strict,
        opts.keep_going,
        absolute(&opts.src).unwrap_or_default(),
        files.len()
    );
    h.update(settings.as_bytes());
    for w in walked {
        h.update(w.as_bytes());
        h.update(&[0]);
    }
    for (f, (size, mtime, changed)) in files.iter().zip(stats) {
        h.update(f.rel.as_bytes());
        h.update(&[0]);
        h.update(&size.to_le_bytes());
        h.update(&mtime.to_le_bytes());
        h.update(&changed.to_le_bytes());
    }
    h.finalize().to_hex().to_string()
}

/// The inode's change time (ns) and number, folded into one value.
#[cfg(unix)]
fn changed(m: &std::fs::Metadata) -> u128 {
    use std::os::unix::fs::MetadataExt;
    let ctime = (m.ctime() as i128 * 1_000_000_000 + m.ctime_nsec() as i128) as u128;
    ctime ^ ((m.ino() as u128) << 64)
}

#[cfg(not(unix))]
fn changed(_: &std::fs::Metadata) -> u128 {
    0
}

pub(super) fn up_to_date(opts: &BuildOptions, key: &str, started: Instant) -> Option<BuildReport> {
    let stamp: Stamp = serde_json::from_slice(&std::fs::read(stamp_path(opts)?).ok()?).ok()?;
    if stamp.key != key {
        return None;
    }
    let m: BuildManifest =
        serde_json::from_slice(&std::fs::read(opts.out.join(schema::MANIFEST_PATH)).ok()?).ok()?;
    if schema::digest(&m.files) != m.digest || !unchanged_output(&opts.out, &m) {
        return None;
    }
    Some(BuildReport {
        out: opts.out.clone(),
        files: m.files.len(),
        bytes_in: stamp.bytes_in,
        bytes_out: m.files.values().map(|e| e.size).sum(),
        minified: stamp.minified,
        variants: m.files.values().map(|e| e.enc.iter().count()).sum(),
        cache_hits: stamp.minified,
        build: stamp.build,
        warnings: stamp.warnings,
        elapsed_ms: started.elapsed().as_millis(),
        stages: vec![("up-to-date".into(), started.elapsed().as_millis())],
        slowest: Vec::new(),
        throughput: Vec::new(),
    })
}

pub(super) fn write_stamp(opts: &BuildOptions, stamp: &Stamp) {
    let Some(path) = stamp_path(opts) else { return };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if let Ok(data) = serde_json::to_vec(stamp) {
        if std::fs::write(&tmp, data).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
}
