//! What the store already holds, found cheaply: one listing of `versions/` says which
//! versions exist, which are archived and which is the newest hot one. A publish diffs
//! its files against that newest hot version's index (immutable, one GET): every blob
//! a hot index names is in the store, because an index is written only after all of
//! its blobs and gc and archive never delete a blob a hot index names. Only the other
//! blobs are uploaded — create-only, so a blob a killed publish already left is found
//! by the store's "already exists" answer, and one that gc deleted is uploaded again.

use std::collections::BTreeMap;

use crate::fasthash::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::schema::FileEntry;
use crate::store::{keys, Store};

/// Objects per listing page on S3 (for counting requests).
const PAGE: u64 = 1000;

/// The versions in the store, from one listing.
#[derive(Debug, Default)]
pub(crate) struct StoreVersions {
    /// Hot versions (an index exists), with the index's time and size.
    hot: HashMap<String, (DateTime<Utc>, u64)>,
    /// Versions with an `archived.json` stub (archived, or an archive under way).
    stubs: HashSet<String>,
    /// Requests the listing took.
    pub(crate) requests: u64,
}

impl StoreVersions {
    /// Lists `versions/`.
    pub(crate) async fn read(store: &Store) -> Result<StoreVersions> {
        let listed = store.list(keys::VERSIONS).await?;
        let mut v = StoreVersions {
            requests: listed.len() as u64 / PAGE + 1,
            ..Default::default()
        };
        for meta in listed {
            let mut parts = meta.location.parts();
            let (Some(_), Some(version), Some(file)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            match file.as_ref() {
                "index.json" => {
                    v.hot.insert(
                        version.as_ref().to_string(),
                        (meta.last_modified, meta.size),
                    );
                }
                "archived.json" => {
                    v.stubs.insert(version.as_ref().to_string());
                }
                _ => {}
            }
        }
        Ok(v)
    }

    /// The version's index exists.
    pub(crate) fn is_hot(&self, version: &str) -> bool {
        self.hot.contains_key(version)
    }

    /// The version has an archive stub.
    pub(crate) fn has_stub(&self, version: &str) -> bool {
        self.stubs.contains(version)
    }

    /// The newest hot version other than `except` that no archive is touching: the
    /// base a publish diffs against.
    pub(crate) fn newest_base(&self, except: &str) -> Option<&str> {
        self.hot
            .iter()
            .filter(|(v, _)| v.as_str() != except && !self.stubs.contains(*v))
            .max_by(|a, b| a.1 .0.cmp(&b.1 .0).then_with(|| a.0.cmp(b.0)))
            .map(|(v, _)| v.as_str())
    }

    /// The size of a hot version's index, as listed.
    pub(crate) fn index_size(&self, version: &str) -> Option<u64> {
        self.hot.get(version).map(|(_, size)| *size)
    }
}

/// A local record of which blobs each version names (`[build] cache_dir`/
/// `indexes/<store>/<version>.hashes`), kept when a publish writes or reads an index.
/// An index is immutable, so the record stays right for as long as the version
/// exists; it is used only when the index size it was made from equals the size the
/// listing shows and its checksum holds — otherwise the index is read again.
#[derive(Debug, Clone)]
pub struct IndexCache {
    dir: PathBuf,
}

/// First word of a record (2: shared shards are recorded too, as `s <hash>`).
const MAGIC: &str = "sitevault-index-hashes-2";

/// What a hot version's index names, known present in the store.
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// Blobs, by hash.
    pub blobs: HashSet<String>,
    /// Shared shards, by hash.
    pub shards: HashSet<String>,
}

/// One version's record.
#[derive(Debug)]
pub(crate) struct Record {
    /// The version.
    pub version: String,
    /// The size of the index it was made from (checked against the listing).
    pub size: u64,
    /// What its index names.
    pub known: Known,
}

impl IndexCache {
    /// The cache for `store_url` under `cache_dir`.
    pub fn new(cache_dir: &Path, store_url: &str) -> IndexCache {
        let key = blake3::hash(store_url.as_bytes()).to_hex();
        IndexCache {
            dir: cache_dir.join("indexes").join(&key.as_str()[..16]),
        }
    }

    fn path(&self, version: &str) -> Option<PathBuf> {
        // Version ids are checked before they get here; refuse anything else anyway.
        crate::ids::check_version(version).ok()?;
        Some(self.dir.join(format!("{version}.hashes")))
    }

    /// The blobs and shared shards `version` names, when the record matches an index
    /// of `size` bytes.
    pub(crate) fn get(&self, version: &str, size: u64) -> Option<Known> {
        self.read(version)
            .filter(|r| r.size == size)
            .map(|r| r.known)
    }

    /// Whether there is a record of `version`.
    pub(crate) fn has(&self, version: &str) -> bool {
        self.path(version).is_some_and(|p| p.exists())
    }

    /// The record written last: the version this machine published or read last,
    /// which a publish takes as its base before the listing confirms it.
    pub(crate) fn latest(&self) -> Option<Record> {
        let (_, version) = std::fs::read_dir(&self.dir)
            .ok()?
            .filter_map(|e| {
                let e = e.ok()?;
                let name = e.file_name().into_string().ok()?;
                let version = name.strip_suffix(".hashes")?.to_string();
                Some((e.metadata().ok()?.modified().ok()?, version))
            })
            .max()?;
        self.read(&version)
    }

    /// A record whose checksum holds.
    fn read(&self, version: &str) -> Option<Record> {
        let text = std::fs::read_to_string(self.path(version)?).ok()?;
        let (header, body) = text.split_once('\n')?;
        let mut h = header.split(' ');
        if h.next() != Some(MAGIC) {
            return None;
        }
        let size: u64 = h.next()?.parse().ok()?;
        if h.next() != Some(blake3::hash(body.as_bytes()).to_hex().as_str()) {
            return None;
        }
        let mut known = Known {
            blobs: HashSet::with_capacity_and_hasher(body.len() / 65 + 1, Default::default()),
            shards: HashSet::default(),
        };
        for line in body.lines() {
            let (set, h) = match line.strip_prefix("s ") {
                Some(h) => (&mut known.shards, h),
                None => (&mut known.blobs, line),
            };
            if !crate::schema::is_hash(h) {
                return None;
            }
            set.insert(h.to_string());
        }
        Some(Record {
            version: version.to_string(),
            size,
            known,
        })
    }

    /// Records the blobs of `version`, whose index has `size` bytes (best effort: a
    /// cache that cannot be written only makes the next publish read the index).
    pub(crate) fn put<'a>(
        &self,
        version: &str,
        size: u64,
        blobs: impl Iterator<Item = &'a str>,
        shards: &[String],
    ) {
        let Some(path) = self.path(version) else {
            return;
        };
        // The blobs in the order given (a reader puts them in a set; a hash given
        // twice only repeats a line), then the shards as `s ` lines.
        let mut body = String::with_capacity((blobs.size_hint().0 + shards.len()) * 67);
        for h in blobs {
            body.push_str(h);
            body.push('\n');
        }
        for h in shards {
            body.push_str("s ");
            body.push_str(h);
            body.push('\n');
        }
        if body.is_empty() {
            body.push('\n');
        }
        let text = format!(
            "{MAGIC} {size} {}\n{body}",
            blake3::hash(body.as_bytes()).to_hex()
        );
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let tmp = self
            .dir
            .join(format!(".{version}.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, text).is_err() || std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// One file's change between two file maps.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    /// Public path.
    pub path: String,
    /// Size before (absent for an added file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_size: Option<u64>,
    /// Size after (absent for a removed file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_size: Option<u64>,
}

/// Files added, removed and changed from one file map to another.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileDiff {
    /// Files only in the second.
    pub added: Vec<FileChange>,
    /// Files only in the first.
    pub removed: Vec<FileChange>,
    /// Files in both with other content.
    pub changed: Vec<FileChange>,
    /// Files in both with the same content.
    pub unchanged: u64,
    /// Blobs of the second that the first does not name.
    pub new_blobs: u64,
    /// Their bytes.
    pub new_bytes: u64,
}

/// Compares two file maps by path and content hash.
pub(crate) fn diff_files(
    from: &BTreeMap<String, FileEntry>,
    to: &BTreeMap<String, FileEntry>,
) -> FileDiff {
    let mut d = FileDiff::default();
    for (p, e) in to {
        match from.get(p) {
            None => d.added.push(FileChange {
                path: p.clone(),
                from_size: None,
                to_size: Some(e.size),
            }),
            Some(old) if old.hash != e.hash => d.changed.push(FileChange {
                path: p.clone(),
                from_size: Some(old.size),
                to_size: Some(e.size),
            }),
            Some(_) => d.unchanged += 1,
        }
    }
    for (p, e) in from {
        if !to.contains_key(p) {
            d.removed.push(FileChange {
                path: p.clone(),
                from_size: Some(e.size),
                to_size: None,
            });
        }
    }
    let known: HashSet<&str> = crate::schema::blobs_of(from).into_keys().collect();
    for (h, (_, b)) in crate::schema::blobs_of(to) {
        if !known.contains(h) {
            d.new_blobs += 1;
            d.new_bytes += b.size;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(hash: char, size: u64) -> FileEntry {
        FileEntry {
            hash: hash.to_string().repeat(64),
            size,
            content_type: "text/plain".into(),
            cache: crate::schema::CacheClass::Revalidate,
            enc: Default::default(),
        }
    }

    #[test]
    fn diffs_by_path_and_hash() {
        let a: BTreeMap<String, FileEntry> = [
            ("/a", entry('a', 1)),
            ("/b", entry('b', 2)),
            ("/c", entry('c', 3)),
        ]
        .into_iter()
        .map(|(p, e)| (p.to_string(), e))
        .collect();
        let b: BTreeMap<String, FileEntry> = [
            ("/a", entry('a', 1)),
            ("/b", entry('d', 5)),
            ("/e", entry('d', 5)),
            ("/f", entry('c', 3)),
        ]
        .into_iter()
        .map(|(p, e)| (p.to_string(), e))
        .collect();
        let d = diff_files(&a, &b);
        let paths = |v: &[FileChange]| v.iter().map(|c| c.path.clone()).collect::<Vec<_>>();
        assert_eq!(paths(&d.added), ["/e", "/f"]);
        assert_eq!(paths(&d.removed), ["/c"]);
        assert_eq!(paths(&d.changed), ["/b"]);
        assert_eq!(d.unchanged, 1);
        // One new blob (d…), named twice; c… is known from /c.
        assert_eq!((d.new_blobs, d.new_bytes), (1, 5));
    }
}
