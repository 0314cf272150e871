//! Which folders of a build's output are still as the build left them, so that
//! `publish` need not list them again to find files added after the build.
//!
//! Listing every folder of a 15,000-file output took ~20 ms of kernel time here
//! (ext4 reads each name), a sixth of a one-file publish's CPU. `build` writes its
//! output into a folder of its own, so it knows what each folder holds; just before
//! moving the output into place it records each folder's device, inode and change
//! time (ctime) in its cache folder (`<cache>/dirs/<hash of the output's path>`, not
//! in the output, which stays byte-identical from build to build). Adding, removing
//! or renaming an entry sets a folder's ctime to the current time, and no program
//! can set it back (`touch`, `tar` and `rsync -a` set mtime, which sets ctime to
//! now). So a folder whose device, inode and ctime are the recorded ones holds what
//! the build wrote.
//!
//! A folder changed within [`SETTLED`] of the recording is marked unsettled (a
//! later change could fall in the same clock tick: file times come from a clock
//! that advances a tick at a time) and is always listed, as is the output's top
//! folder (moved into place after the recording). A missing or malformed record (a
//! build without a cache, another configuration, another machine), or another
//! system than Unix, means every folder is listed, as before.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const MAGIC: &str = "sitevault-dirs 1";
/// How long before the recording a folder's last change must be for it to count.
pub(crate) const SETTLED: Duration = Duration::from_millis(20);

/// A folder's identity and change time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    ctime: i64,
    ctime_ns: i64,
}

#[cfg(unix)]
fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(path).ok()?;
    m.is_dir().then(|| Stamp {
        dev: m.dev(),
        ino: m.ino(),
        ctime: m.ctime(),
        ctime_ns: m.ctime_nsec(),
    })
}

#[cfg(not(unix))]
fn stamp(_: &Path) -> Option<Stamp> {
    None
}

/// Where the record of the output folder `out` (absolute) is kept in the build
/// cache `cache`.
pub(crate) fn location(cache: &Path, out: &Path) -> PathBuf {
    let key = blake3::hash(out.as_os_str().as_encoded_bytes()).to_hex();
    cache.join("dirs").join(&key.as_str()[..32])
}

/// Writes to `dest` the record of the folders `dirs` (relative paths, `a/b`, each
/// folder once) under `root`, which hold only what the build wrote. Best effort:
/// without a record, publish lists every folder.
pub(crate) fn record(root: &Path, dirs: &[String], dest: &Path) {
    let now = SystemTime::now();
    let cutoff = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_sub(SETTLED);
    let mut text = format!("{MAGIC}\n");
    for d in dirs {
        let Some(s) = stamp(&root.join(d)) else {
            continue;
        };
        let changed = Duration::new(
            s.ctime.max(0) as u64,
            s.ctime_ns.clamp(0, 999_999_999) as u32,
        );
        let settled = changed < cutoff;
        text.push_str(&format!(
            "{} {} {} {} {} {d}\n",
            u8::from(settled),
            s.dev,
            s.ino,
            s.ctime,
            s.ctime_ns
        ));
    }
    let Some(parent) = dest.parent() else {
        return;
    };
    let tmp = dest.with_extension(format!("{}.tmp", std::process::id()));
    let written = std::fs::create_dir_all(parent)
        .and_then(|()| std::fs::write(&tmp, text))
        .and_then(|()| std::fs::rename(&tmp, dest));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// The record read back: each recorded folder (`a/b`) with its stamp (for a settled
/// one) and its child folders.
#[derive(Debug, Default)]
pub(crate) struct Record {
    settled: HashMap<String, Stamp>,
    children: HashMap<String, Vec<String>>,
}

impl Record {
    /// The record at `path`, or an empty one (every folder listed).
    pub(crate) fn read(path: &Path) -> Record {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Record::default();
        };
        Record::parse(&text).unwrap_or_default()
    }

    fn parse(text: &str) -> Option<Record> {
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return None;
        }
        let mut r = Record::default();
        for line in lines {
            let mut f = line.splitn(6, ' ');
            let settled = f.next()? == "1";
            let s = Stamp {
                dev: f.next()?.parse().ok()?,
                ino: f.next()?.parse().ok()?,
                ctime: f.next()?.parse().ok()?,
                ctime_ns: f.next()?.parse().ok()?,
            };
            let dir = f.next()?;
            if crate::outdir::check_rel(dir).is_err() {
                return None;
            }
            let parent = dir.rsplit_once('/').map_or("", |(p, _)| p);
            r.children
                .entry(parent.to_string())
                .or_default()
                .push(dir.to_string());
            if settled {
                r.settled.insert(dir.to_string(), s);
            }
        }
        Some(r)
    }

    /// The child folders of `dir` (`""` for the top) when `dir` (under `root`) is
    /// recorded, settled and unchanged since: then its entries need no listing.
    pub(crate) fn unchanged(&self, root: &Path, dir: &str) -> Option<&[String]> {
        let recorded = self.settled.get(dir)?;
        (stamp(&root.join(dir)).as_ref() == Some(recorded))
            .then(|| self.children.get(dir).map_or(&[][..], Vec::as_slice))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_folder_changed_after_the_record_is_listed_again() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        for dir in ["a/b", "a/c", ".sitevault"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::thread::sleep(SETTLED * 2);
        let dirs: Vec<String> = ["a", "a/b", "a/c"].map(String::from).to_vec();
        let dest = location(&root.join("cache"), root);
        record(root, &dirs, &dest);
        let r = Record::read(&dest);
        assert_eq!(r.unchanged(root, "a"), Some(&dirs[1..]));
        assert_eq!(r.unchanged(root, "a/b"), Some(&[][..]));
        assert_eq!(r.unchanged(root, ""), None, "the top is never recorded");
        std::fs::write(root.join("a/b/new.txt"), "x").unwrap();
        assert_eq!(r.unchanged(root, "a/b"), None, "an added file");
        std::fs::remove_dir(root.join("a/c")).unwrap();
        assert_eq!(r.unchanged(root, "a"), None, "a removed folder");
    }

    #[test]
    fn a_folder_changed_just_before_the_record_is_unsettled() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::create_dir_all(root.join(".sitevault")).unwrap();
        let dest = root.join("cache/dirs/x");
        record(root, &["a".to_string()], &dest);
        assert!(dest.exists());
        assert_eq!(Record::read(&dest).unchanged(root, "a"), None);
    }

    #[test]
    fn a_bad_record_is_no_record() {
        for text in [
            "",
            "sitevault-dirs 2\n",
            "sitevault-dirs 1\n1 2 3 4\n",
            "sitevault-dirs 1\n1 1 1 1 1 ../x\n",
        ] {
            let r = Record::parse(text).unwrap_or_default();
            assert!(r.settled.is_empty(), "{text:?}");
        }
    }
}
