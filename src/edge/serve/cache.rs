//! The server's shared state: the current manifest (re-read every TTL), the
//! immutable version indexes, and the in-memory cache of small blobs.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use bytes::Bytes;

use super::metrics::Metrics;
use super::ServeOptions;
use crate::channel::record::Manifest;
use crate::error::{Error, Result};
use crate::publish::index;
use crate::schema::FileEntry;

/// A version's files as `serve` looks them up: a hash map, so a request costs the
/// same in a version of 10 files and one of 100,000 (a `BTreeMap` lookup compares
/// ~17 long path strings there). Built once per version by moving the index's map.
pub(super) struct Files(pub(super) HashMap<String, FileEntry>);
use crate::store::{keys, GetIfChanged, Store};

/// The bytes one response sends: a file's, or one of its precompressed variants.
#[derive(Debug, Clone, Copy)]
pub(super) struct Blob<'a> {
    /// blake3 of the bytes (the blob's name, and the response's ETag).
    pub(super) hash: &'a str,
    /// Their size.
    pub(super) size: u64,
}

pub(super) struct Current {
    pub(super) manifest: Arc<Manifest>,
    pub(super) etag: Option<String>,
    pub(super) read_at: Instant,
}

/// The server's shared state.
pub struct Edge {
    pub(super) store: Store,
    pub(super) opts: ServeOptions,
    pub(super) current: RwLock<Option<Current>>,
    pub(super) indexes: RwLock<HashMap<String, Arc<Files>>>,
    pub(super) blobs: RwLock<(HashMap<String, Bytes>, u64)>,
    pub(super) metrics: Metrics,
    /// Large blobs whose whole bytes were hashed and matched (ranges of them are
    /// then served from ranged reads).
    pub(super) verified: RwLock<HashSet<String>>,
}

impl Edge {
    /// A new edge over `store`.
    pub fn new(store: Store, opts: ServeOptions) -> Arc<Edge> {
        Arc::new(Edge {
            store,
            opts,
            current: RwLock::new(None),
            indexes: RwLock::new(HashMap::new()),
            blobs: RwLock::new((HashMap::new(), 0)),
            metrics: Metrics::new(),
            verified: RwLock::new(HashSet::new()),
        })
    }

    /// Re-reads the manifest (conditional GET). Errors keep the last good manifest.
    pub async fn refresh(&self) -> Result<()> {
        let etag = self
            .current
            .read()
            .ok()
            .and_then(|c| c.as_ref().and_then(|c| c.etag.clone()));
        let key = keys::channel_manifest(&self.opts.channel);
        match self.store.get_if_changed(&key, etag.as_deref()).await? {
            GetIfChanged::NotModified => {
                if let Ok(mut c) = self.current.write() {
                    if let Some(c) = c.as_mut() {
                        c.read_at = Instant::now();
                    }
                }
                Ok(())
            }
            GetIfChanged::Missing => Err(Error::input(format!(
                "{key} does not exist: roll a version out on channel {} first",
                self.opts.channel
            ))),
            GetIfChanged::Changed(bytes, etag) => {
                let m: Manifest = crate::schema::parse(&bytes, &key)?;
                self.accept(&m, &key).await?;
                self.metrics.generation.set(m.generation as i64);
                if let Ok(mut c) = self.current.write() {
                    *c = Some(Current {
                        manifest: Arc::new(m),
                        etag,
                        read_at: Instant::now(),
                    });
                }
                Ok(())
            }
        }
    }

    /// Whether a changed manifest may replace the one served: valid, of this
    /// channel, not older (a read never moves traffic back) unless the log says the
    /// one served was never real, and routing to versions whose index loads.
    /// Otherwise the last good one stays.
    async fn accept(&self, m: &Manifest, key: &str) -> Result<()> {
        m.check(key)?;
        if m.channel != self.opts.channel {
            return Err(Error::Integrity(format!(
                "{key}: names channel {:?}: copied from another channel?",
                m.channel
            )));
        }
        let current = self.manifest();
        if let Some(cur) = &current {
            if m.generation < cur.generation && !self.newest_in_log(m).await? {
                return Err(Error::Integrity(format!(
                    "{key}: generation {} is older than generation {} being served; kept the newer \
                     one (`sitevault status {}` shows the channel's log)",
                    m.generation, cur.generation, self.opts.channel
                )));
            }
        }
        // The stable must load. A canary must load too before traffic moves from a
        // manifest already served; with none yet, its visitors get 502s rather than
        // every visitor a 503.
        let canary = m.canary.iter().map(|c| &c.version);
        let must: Vec<&String> = match current {
            Some(_) => m.stable.iter().chain(canary).collect(),
            None => m.stable.iter().collect(),
        };
        for v in must {
            self.index(v).await?;
        }
        Ok(())
    }

    /// Whether `m` projects the channel log's newest record: then a manifest served
    /// with a higher generation was none a change wrote (edited, or from another
    /// store), and `m` may replace it.
    async fn newest_in_log(&self, m: &Manifest) -> Result<bool> {
        use crate::channel::log::read_record;
        let channel = &self.opts.channel;
        let (this, next) = tokio::join!(
            read_record(&self.store, channel, m.generation),
            read_record(&self.store, channel, m.generation + 1)
        );
        Ok(match (this?, next?) {
            (Some((r, _, _)), None) => r.state.stable == m.stable && r.state.canary == m.canary,
            _ => false,
        })
    }

    pub(super) fn manifest(&self) -> Option<Arc<Manifest>> {
        self.current
            .read()
            .ok()?
            .as_ref()
            .map(|c| c.manifest.clone())
    }

    pub(super) async fn index(&self, version: &str) -> Result<Arc<Files>> {
        if let Some(i) = self
            .indexes
            .read()
            .ok()
            .and_then(|m| m.get(version).cloned())
        {
            return Ok(i);
        }
        // Boxed: the rare load would otherwise size (and so make every request move)
        // the future of each request.
        Box::pin(self.load_index(version)).await
    }

    async fn load_index(&self, version: &str) -> Result<Arc<Files>> {
        let files = index::require(&self.store, version).await?.files;
        let idx = Arc::new(Files(files.into_iter().collect()));
        if let Ok(mut m) = self.indexes.write() {
            if m.len() >= 256 {
                m.clear();
            }
            m.insert(version.to_string(), idx.clone());
        }
        Ok(idx)
    }

    /// Logs and counts a corrupt blob.
    pub(super) fn corrupt(&self, hash: &str, msg: &str) {
        self.metrics.corrupt_blobs.inc();
        if let Ok(mut v) = self.verified.write() {
            v.remove(hash);
        }
        self.opts.reporter.error(msg);
    }

    /// Logs a blob missing from the store (an integrity error).
    fn missing(&self, key: &str) -> Error {
        let msg = format!("{key} is missing from the store: republish its version to repair it");
        self.opts.reporter.error(&msg);
        Error::Integrity(msg)
    }

    pub(super) fn mark_verified(&self, hash: &str) {
        if let Ok(mut v) = self.verified.write() {
            if v.len() >= 65_536 {
                v.clear();
            }
            v.insert(hash.to_string());
        }
    }

    pub(super) fn is_verified(&self, hash: &str) -> bool {
        self.verified
            .read()
            .map(|v| v.contains(hash))
            .unwrap_or(false)
    }

    /// A small blob's bytes, checked against its blake3 before they are served or
    /// cached: a mismatch is an integrity error, logged and counted.
    /// The bytes always have the entry's size: the cache is keyed by hash alone, and
    /// a response sends the entry's size as its length (another would put the
    /// connection out of step).
    pub(super) async fn blob(&self, entry: Blob<'_>) -> Result<Bytes> {
        if let Some(b) = self
            .blobs
            .read()
            .ok()
            .and_then(|c| c.0.get(entry.hash).cloned())
        {
            if b.len() as u64 != entry.size {
                return Err(Error::Integrity(format!(
                    "blob {} has {} bytes, its entry says {}",
                    entry.hash,
                    b.len(),
                    entry.size
                )));
            }
            return Ok(b);
        }
        Box::pin(self.load_blob(entry)).await
    }

    /// [`Edge::blob`] when it is not in memory: read, check, cache.
    async fn load_blob(&self, entry: Blob<'_>) -> Result<Bytes> {
        let key = keys::blob(entry.hash);
        let b = self
            .store
            .get(&key)
            .await?
            .ok_or_else(|| self.missing(&key))?;
        let got = blake3::hash(&b).to_hex();
        if b.len() as u64 != entry.size || got.as_str() != entry.hash {
            let msg = format!(
                "blob {} is corrupt in the store ({} bytes, blake3 {got}): republish its \
                 version to repair it",
                entry.hash,
                b.len()
            );
            self.corrupt(entry.hash, &msg);
            return Err(Error::Integrity(msg));
        }
        if entry.size <= self.opts.cache_blob_max {
            if let Ok(mut c) = self.blobs.write() {
                if c.1 + entry.size <= self.opts.cache_total {
                    c.1 += entry.size;
                    c.0.insert(entry.hash.to_string(), b.clone());
                }
            }
        }
        Ok(b)
    }

    /// Hashes a large blob as it streams (never held whole) unless it was verified
    /// before; a mismatch is an integrity error, logged and counted.
    pub(super) async fn verify_large(self: &Arc<Self>, entry: Blob<'_>) -> Result<()> {
        use futures::StreamExt;
        if self.is_verified(entry.hash) {
            return Ok(());
        }
        let key = keys::blob(entry.hash);
        let stream = self
            .store
            .get_stream(&key)
            .await?
            .ok_or_else(|| self.missing(&key))?;
        let mut v = super::stream::Verified::new(stream, entry.hash, entry.size, self.clone());
        while let Some(chunk) = v.next().await {
            chunk?;
        }
        Ok(())
    }
}
