//! The build cache: minified results keyed by input bytes + options + tool version,
//! under `.sitevault/cache`. An unchanged file is never minified twice.
//!
//! Entries live in a few segment files (`seg-*.bin`) rather than one file each:
//! creating thousands of small files costs more than the minification it saves on
//! some filesystems. A build reads every segment once, appends its new entries as
//! one new segment, and compacts to a single segment of live entries when the
//! folder holds more than a few segments or mostly entries this build did not use.
//! The segment is started on a thread of its own once the files are minified, while
//! references are resolved and names fingerprinted (on the docs site, 30–40 ms of a
//! 0.55 s build were spent writing it after everything else); it is renamed into place
//! only when the build succeeds.
//!
//! Segment format, repeated: `u32 key length, key, u32 header length, header JSON,
//! u64 body length, body, blake3 of the three` (little endian). An entry whose bytes
//! do not hash to its sum is a miss; a segment cut short ends where it is cut.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::refs::RawRef;

thread_local! {
    /// Set when this thread's last lookup was a hit (see [`took_hit`]).
    static HIT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread found a cached result since the last call: a file served from
/// the cache says nothing about the minifiers' speed.
pub(super) fn took_hit() -> bool {
    HIT.with(|h| h.replace(false))
}

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
    /// How its `import()` calls with a computed specifier start (`""`: unknown).
    #[serde(default)]
    pub computed_imports: Vec<String>,
    /// Names it uses that the build cannot rewrite: the files they name keep their
    /// source names (`originals.rs`).
    #[serde(default)]
    pub kept: Vec<super::originals::KeptName>,
    /// A page whose `<base href>` names a folder of the site: its relative references
    /// resolve as if written in this file (the folder's `index.html`).
    #[serde(default)]
    pub base: Option<String>,
    /// Warnings produced while processing (e.g. `--keep-going`).
    pub warnings: Vec<String>,
    /// The bytes (not stored in the header).
    #[serde(skip)]
    pub body: bytes::Bytes,
}

impl Processed {
    /// Where the references of this file (at `rel`) resolve from: the page's
    /// `<base href>` folder when it has one (import maps included, as in browsers).
    pub fn resolves_from<'a>(&'a self, rel: &'a str) -> &'a str {
        self.base.as_deref().unwrap_or(rel)
    }
}

const MAX_SEGMENTS: usize = 4;

/// Bumped when what a cached entry means changes within one tool version
/// (2: bare import specifiers are references; 3: minified JS escapes `</script`,
/// `<!--` and `-->`, HTML keeps the spaces between inline elements; entries carry a
/// checksum; 4: relative computed `import()` starts and the names in code copied as
/// written are kept, `<base href>` is followed; 5: scripts that are data are minified
/// without swc, strings as written; 6: a classic script's globals declared in blocks
/// keep their names, exported declarations are joined, `<body>` is left out where the
/// spec allows, a page's bare specifiers through a prefix entry are rewritten; 7: JS
/// minified by oxc; 8: a classic script's top-level names bound by shorthand patterns keep
/// their names and `typeof` of its functions is not folded, `import(D)` of a shadowed `D`
/// is computed (or only starts with the constant's text), an inline script's references
/// carry the page's lines; keys are made from the content's digest).
pub(super) const FORMAT: &str = "8";

/// The on-disk cache (or none).
#[derive(Debug)]
pub struct Cache {
    dir: Option<PathBuf>,
    loaded: HashMap<String, Processed>,
    segments: Vec<PathBuf>,
    used: Mutex<HashSet<String>>,
    /// This build's new entries, as the segment will hold them (made on the thread
    /// that minified each).
    fresh: Mutex<Vec<Piece>>,
    hits: AtomicUsize,
    /// This build's segment while a thread of its own writes the entries made so far
    /// ([`Cache::write_ahead`]), and the file once it is done.
    ahead: Mutex<Option<std::thread::JoinHandle<Option<Segment>>>>,
}

/// A segment being written: its temporary file (renamed by [`Cache::flush`]).
#[derive(Debug)]
struct Segment {
    tmp: PathBuf,
    name: String,
    out: std::io::BufWriter<std::fs::File>,
}

impl Segment {
    fn create(dir: &std::path::Path) -> Option<Self> {
        std::fs::create_dir_all(dir).ok()?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!("seg-{stamp:032}-{}.bin", std::process::id());
        let tmp = dir.join(format!("{name}.tmp"));
        let out = std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(&tmp).ok()?);
        Some(Segment { tmp, name, out })
    }

    fn write(&mut self, pieces: &[Piece]) -> std::io::Result<()> {
        for piece in pieces {
            self.out.write_all(&piece.head)?;
            self.out.write_all(&piece.body)?;
            self.out.write_all(&piece.sum)?;
        }
        Ok(())
    }

    /// Flushes and closes the file, then gives it its name: a segment the next build
    /// reads. Removed instead if either fails.
    fn finish(mut self) -> bool {
        let flushed = self.out.flush().is_ok();
        let Segment { tmp, name, out } = self;
        drop(out);
        let done = flushed
            && tmp
                .parent()
                .is_some_and(|dir| std::fs::rename(&tmp, dir.join(&name)).is_ok());
        if !done {
            let _ = std::fs::remove_file(&tmp);
        }
        done
    }

    /// Closes and removes the file: nothing of it is kept.
    fn discard(self) {
        let Segment { tmp, out, .. } = self;
        drop(out);
        let _ = std::fs::remove_file(&tmp);
    }
}

impl Drop for Cache {
    /// A segment started and never finished (the build failed) is removed.
    fn drop(&mut self) {
        let ahead = self.ahead.get_mut().ok().and_then(|a| a.take());
        if let Some(seg) = ahead.and_then(|h| h.join().ok()).flatten() {
            seg.discard();
        }
    }
}

impl Cache {
    /// A cache in `dir` (its segments are read now), or a disabled one.
    pub fn new(dir: Option<PathBuf>) -> Self {
        let mut loaded = HashMap::new();
        let mut segments = Vec::new();
        if let Some(d) = &dir {
            remove_stale_segments(d);
            if let Ok(rd) = std::fs::read_dir(d) {
                let mut paths: Vec<PathBuf> = rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .map(|n| n.starts_with("seg-") && n.ends_with(".bin"))
                            .unwrap_or(false)
                    })
                    .collect();
                paths.sort();
                for p in paths {
                    if let Ok(data) = std::fs::read(&p) {
                        read_segment(&bytes::Bytes::from(data), &mut loaded);
                    }
                    segments.push(p);
                }
            }
        }
        Cache {
            dir,
            loaded,
            segments,
            used: Mutex::new(HashSet::new()),
            fresh: Mutex::new(Vec::new()),
            hits: AtomicUsize::new(0),
            ahead: Mutex::new(None),
        }
    }

    /// Number of hits so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }

    /// The key of a processing step.
    pub fn key(stage: &str, options: &str, rel: &str, content: &[u8]) -> String {
        Self::key_of_digest(stage, options, rel, blake3::hash(content).as_bytes())
    }

    /// [`key`](Self::key) from the content's blake3 digest, for a caller that needs the
    /// digest too (a page's placeholder nonce): the content is hashed once.
    pub fn key_of_digest(stage: &str, options: &str, rel: &str, digest: &[u8; 32]) -> String {
        let mut h = blake3::Hasher::new();
        for part in [
            crate::TOOL.as_bytes(),
            FORMAT.as_bytes(),
            stage.as_bytes(),
            options.as_bytes(),
            rel.as_bytes(),
        ] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part);
        }
        h.update(digest);
        h.finalize().to_hex().to_string()
    }

    /// A cached result, if present.
    pub fn get(&self, key: &str) -> Option<Processed> {
        let p = self.loaded.get(key)?;
        if let Ok(mut u) = self.used.lock() {
            u.insert(key.to_string());
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        HIT.with(|h| h.set(true));
        Some(p.clone())
    }

    /// Remembers a result; it is written by [`Cache::flush`].
    pub fn put(&self, key: &str, p: &Processed) {
        if self.dir.is_none() {
            return;
        }
        let Some(piece) = Piece::of(key, p) else {
            return;
        };
        if let Ok(mut f) = self.fresh.lock() {
            f.push(piece);
        }
    }

    /// Starts writing the entries made so far to this build's segment, on a thread of
    /// its own, while the build goes on (its last stages leave a core idle part of the
    /// time); [`Cache::flush`] adds the rest and finishes the segment. `still_to_write`:
    /// about what the build writes after this (its output). Unless the disk has room for
    /// both twice over, the segment waits for [`Cache::flush`], after the output: the
    /// cache must never take the space the build's output needed.
    pub fn write_ahead(&self, still_to_write: u64) {
        let Some(dir) = self.dir.clone() else { return };
        let Ok(mut fresh) = self.fresh.lock() else {
            return;
        };
        let segment: u64 = fresh
            .iter()
            .map(|p| (p.head.len() + p.body.len() + p.sum.len()) as u64)
            .sum();
        if fresh.is_empty() || !room_for(&dir, 2 * (segment + still_to_write)) {
            return;
        }
        let Ok(mut ahead) = self.ahead.lock() else {
            return;
        };
        if ahead.is_some() {
            // Once per build: the entries wait for `flush`.
            return;
        }
        let fresh = std::mem::take(&mut *fresh);
        *ahead = Some(std::thread::spawn(move || {
            let mut seg = Segment::create(&dir)?;
            match seg.write(&fresh) {
                Ok(()) => Some(seg),
                Err(_) => {
                    seg.discard();
                    None
                }
            }
        }));
    }

    /// Writes this build's new entries as one segment, compacting when the folder
    /// holds too many segments or mostly unused entries. Failures only cost future
    /// cache misses.
    pub fn flush(&self) {
        let Some(dir) = &self.dir else { return };
        let ahead = self.ahead.lock().ok().and_then(|mut a| a.take());
        // `None` inside: started and failed (nothing of this build is kept).
        let ahead: Option<Option<Segment>> = ahead.map(|h| h.join().ok().flatten());
        let fresh = self
            .fresh
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default();
        let used = self.used.lock().map(|u| u.clone()).unwrap_or_default();
        let compact = self.segments.len() + 1 > MAX_SEGMENTS || used.len() * 2 < self.loaded.len();
        if fresh.is_empty() && !compact && ahead.is_none() {
            return;
        }
        let mut kept: Vec<(&str, &Processed)> = Vec::new();
        if compact {
            for k in &used {
                if let Some(p) = self.loaded.get(k) {
                    kept.push((k, p));
                }
            }
        }
        // Headers and sums are made on the build's threads; the bodies go to the file
        // from where they are, not copied into one buffer first (60 MB on the docs
        // corpus, grown by doubling: a tenth of a cold build's wall time went there).
        let mut pieces: Vec<Piece> = kept
            .par_iter()
            .filter_map(|(k, p)| Piece::of(k, p))
            .collect();
        pieces.extend(fresh);
        let seg = match ahead {
            Some(Some(seg)) => Some(seg),
            Some(None) => None,
            None => Segment::create(dir),
        };
        let Some(mut seg) = seg else { return };
        if seg.write(&pieces).is_err() {
            return seg.discard();
        }
        if !seg.finish() {
            return;
        }
        if compact {
            for s in &self.segments {
                let _ = std::fs::remove_file(s);
            }
        }
    }
}

/// A segment a build started and never finished (it was killed while the segment was
/// written beside its last stages) is removed once it is an hour old: another build
/// writing one now is not disturbed, and such files do not pile up.
fn remove_stale_segments(dir: &std::path::Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let hour = std::time::Duration::from_secs(3600);
    for e in rd.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let stale = name.starts_with("seg-")
            && name.ends_with(".bin.tmp")
            && e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > hour));
        if stale {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Whether the file system that holds `dir` (or would: its nearest existing folder) has
/// `bytes` free for this user (unknown: no).
fn room_for(dir: &std::path::Path, bytes: u64) -> bool {
    #[cfg(unix)]
    {
        let Some(existing) = dir.ancestors().find(|d| d.is_dir()) else {
            return false;
        };
        rustix::fs::statvfs(existing)
            .is_ok_and(|st| st.f_bavail.saturating_mul(st.f_frsize) >= bytes)
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, bytes);
        false
    }
}

/// One entry as a segment holds it: lengths, key and header, the body, then the sum.
#[derive(Debug)]
struct Piece {
    head: Vec<u8>,
    body: bytes::Bytes,
    sum: [u8; 32],
}

impl Piece {
    fn of(key: &str, p: &Processed) -> Option<Self> {
        let header = serde_json::to_vec(p).ok()?;
        let mut head = Vec::with_capacity(16 + key.len() + header.len());
        head.extend_from_slice(&(key.len() as u32).to_le_bytes());
        head.extend_from_slice(key.as_bytes());
        head.extend_from_slice(&(header.len() as u32).to_le_bytes());
        head.extend_from_slice(&header);
        head.extend_from_slice(&(p.body.len() as u64).to_le_bytes());
        Some(Piece {
            head,
            body: p.body.clone(),
            sum: *entry_sum(key.as_bytes(), &header, &p.body).as_bytes(),
        })
    }
}

/// What an entry's last 32 bytes must be: blake3 of its key, header and body, so
/// that bytes changed on disk (by hand, or by the disk) are a miss, never output.
fn entry_sum(key: &[u8], header: &[u8], body: &[u8]) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    for part in [key, header, body] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize()
}

fn read_segment(data: &bytes::Bytes, into: &mut HashMap<String, Processed>) {
    let mut off = 0usize;
    let take = |off: &mut usize, n: usize| -> Option<&[u8]> {
        let s = data.get(*off..off.checked_add(n)?)?;
        *off += n;
        Some(s)
    };
    loop {
        let Some(kl) = take(&mut off, 4) else { return };
        let kl = u32::from_le_bytes([kl[0], kl[1], kl[2], kl[3]]) as usize;
        let Some(key) = take(&mut off, kl).and_then(|k| std::str::from_utf8(k).ok()) else {
            return;
        };
        let key = key.to_string();
        let Some(hl) = take(&mut off, 4) else { return };
        let hl = u32::from_le_bytes([hl[0], hl[1], hl[2], hl[3]]) as usize;
        let Some(header) = take(&mut off, hl) else {
            return;
        };
        let Some(bl) = take(&mut off, 8) else { return };
        let bl =
            u64::from_le_bytes([bl[0], bl[1], bl[2], bl[3], bl[4], bl[5], bl[6], bl[7]]) as usize;
        let start = off;
        let Some(body) = take(&mut off, bl) else {
            return;
        };
        let Some(sum) = take(&mut off, 32) else {
            return;
        };
        if entry_sum(key.as_bytes(), header, body).as_bytes() != sum {
            // Changed on disk: this entry is a miss; the lengths still lead to the next.
            continue;
        }
        let Ok(mut p) = serde_json::from_slice::<Processed>(header) else {
            continue;
        };
        p.body = data.slice(start..off - 32);
        into.insert(key, p);
    }
}

#[cfg(test)]
mod tests;
