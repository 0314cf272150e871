//! The build cache: minified results keyed by input bytes + options + tool version,
//! under `.sitevault/cache`. An unchanged file is never minified twice.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use super::refs::RawRef;

/// A processed file: minified bytes with placeholders, and what they stand for.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Processed {
    /// Placeholder prefix used in `body` (empty when there are no references).
    pub prefix: String,
    /// References, indexed by placeholder number.
    pub refs: Vec<RawRef>,
    /// For JS: the file uses module syntax.
    pub esm: bool,
    /// For JS: it was minified as a module (top-level names mangled).
    #[serde(default)]
    pub module: bool,
    /// Warnings produced while processing (e.g. `--keep-going`).
    pub warnings: Vec<String>,
    /// The bytes (not stored in the header).
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// The on-disk cache (or none).
#[derive(Debug)]
pub struct Cache {
    dir: Option<PathBuf>,
    hits: AtomicUsize,
}

impl Cache {
    /// A cache in `dir`, or a disabled one.
    pub fn new(dir: Option<PathBuf>) -> Self {
        Cache {
            dir,
            hits: AtomicUsize::new(0),
        }
    }

    /// Number of hits so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }

    /// The key of a processing step.
    pub fn key(stage: &str, options: &str, rel: &str, content: &[u8]) -> String {
        let mut h = blake3::Hasher::new();
        for part in [
            crate::TOOL.as_bytes(),
            stage.as_bytes(),
            options.as_bytes(),
            rel.as_bytes(),
        ] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part);
        }
        h.update(content);
        h.finalize().to_hex().to_string()
    }

    fn path(&self, key: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(&key[..2]).join(key))
    }

    /// A cached result, if present and readable.
    pub fn get(&self, key: &str) -> Option<Processed> {
        let data = std::fs::read(self.path(key)?).ok()?;
        let nl = data.iter().position(|&b| b == b'\n')?;
        let mut p: Processed = serde_json::from_slice(&data[..nl]).ok()?;
        p.body = data[nl + 1..].to_vec();
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(p)
    }

    /// Stores a result; failures only cost a future cache miss.
    pub fn put(&self, key: &str, p: &Processed) {
        let Some(path) = self.path(key) else { return };
        let Ok(mut data) = serde_json::to_vec(p) else {
            return;
        };
        data.push(b'\n');
        data.extend_from_slice(&p.body);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, &data).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
}
