//! The server's shared state: the current manifest (re-read every TTL), the
//! immutable version indexes, and the in-memory cache of small blobs.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use bytes::Bytes;

use super::metrics::Metrics;
use super::ServeOptions;
use crate::channel::record::Manifest;
use crate::error::{Error, Result};
use crate::publish::index::{self, VersionIndex};
use crate::schema::FileEntry;
use crate::store::{keys, GetIfChanged, Store};

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
    pub(super) indexes: RwLock<HashMap<String, Arc<VersionIndex>>>,
    pub(super) blobs: RwLock<(HashMap<String, Bytes>, u64)>,
    pub(super) metrics: Metrics,
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

    pub(super) fn manifest(&self) -> Option<Arc<Manifest>> {
        self.current
            .read()
            .ok()?
            .as_ref()
            .map(|c| c.manifest.clone())
    }

    pub(super) async fn index(&self, version: &str) -> Result<Arc<VersionIndex>> {
        if let Some(i) = self
            .indexes
            .read()
            .ok()
            .and_then(|m| m.get(version).cloned())
        {
            return Ok(i);
        }
        let idx = Arc::new(index::require(&self.store, version).await?);
        if let Ok(mut m) = self.indexes.write() {
            if m.len() >= 256 {
                m.clear();
            }
            m.insert(version.to_string(), idx.clone());
        }
        Ok(idx)
    }

    pub(super) async fn blob(&self, entry: &FileEntry) -> Result<Bytes> {
        if let Some(b) = self
            .blobs
            .read()
            .ok()
            .and_then(|c| c.0.get(&entry.hash).cloned())
        {
            return Ok(b);
        }
        let key = keys::blob(&entry.hash);
        let b = self
            .store
            .get(&key)
            .await?
            .ok_or_else(|| Error::Integrity(format!("{key} is missing from the store")))?;
        if entry.size <= self.opts.cache_blob_max {
            if let Ok(mut c) = self.blobs.write() {
                if c.1 + entry.size <= self.opts.cache_total {
                    c.1 += entry.size;
                    c.0.insert(entry.hash.clone(), b.clone());
                }
            }
        }
        Ok(b)
    }
}
