//! The store: one wrapper over `object_store`, opened from a URL, with the few
//! operations the protocols need (create-only put, overwrite, get, head, list,
//! delete). Every backend behaves the same through it; `tests/it/conformance.rs`
//! runs one suite against memory://, file:// and a real S3 server.

pub mod keys;
mod spec;
pub(crate) mod tls;

pub use spec::StoreSpec;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, GetOptions, ObjectMeta, ObjectStore, ObjectStoreExt, PutMode,
    PutOptions, PutPayload,
};

use crate::error::{Error, Result};

/// Which kind of backend a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `file://`: a local folder (no object attributes).
    File,
    /// `memory://`: in the process only.
    Memory,
    /// `s3://`.
    S3,
    /// `gs://`, `az://` and friends.
    Other,
}

/// An opened store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
    backend: Backend,
    display: String,
    concurrency: usize,
    /// A `file://` store's folder (writes are checked to stay inside it).
    root: Option<PathBuf>,
}

/// Result of a create-only write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// This call created the object.
    Created,
    /// The object was already there (nothing written).
    AlreadyExists,
}

/// Object attributes set where the backend supports them.
#[derive(Debug, Clone, Default)]
pub struct Attrs {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Content-Encoding` (a precompressed variant's `br` or `gzip`).
    pub content_encoding: Option<String>,
    /// S3 storage class.
    pub storage_class: Option<String>,
}

impl Store {
    /// Opens a store from its spec. `file://` folders are created when missing.
    pub fn open(spec: &StoreSpec) -> Result<Store> {
        let url = spec.url.trim();
        let concurrency = spec.concurrency.max(1);
        if let Some(rest) = url.strip_prefix("file://") {
            let p = PathBuf::from(rest);
            let relative = !p.is_absolute();
            let dir = if relative { spec.base_dir.join(p) } else { p };
            // A store folder inside the project is created on first use; elsewhere
            // only its last component may be missing, so a mistyped path is an error
            // rather than a new, empty store that says "no versions yet".
            if !dir.exists() {
                let parent_exists = dir.parent().is_some_and(|d| d.is_dir());
                if !relative && !parent_exists {
                    return Err(Error::input(format!(
                        "store folder {} does not exist, nor does its parent: check --store / [store] url, or create it first (mkdir -p {})",
                        dir.display(),
                        dir.display()
                    )));
                }
            }
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            let dir = dir.canonicalize().map_err(|e| Error::io(&dir, e))?;
            let fs = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                .map_err(|e| Error::store(dir.display().to_string(), e))?;
            return Ok(Store {
                inner: Arc::new(fs),
                backend: Backend::File,
                display: format!("file://{}", dir.display()),
                concurrency,
                root: Some(dir),
            });
        }
        if url.starts_with("memory://") {
            return Ok(Store {
                concurrency,
                ..Store::memory()
            });
        }
        let parsed = url::Url::parse(url).map_err(|e| {
            Error::input(format!(
                "store url {url:?}: {e}; use file://DIR, memory://, s3://bucket/prefix, gs://bucket or az://container"
            ))
        })?;
        let prefix = parsed.path().trim_matches('/').to_string();
        let retry = object_store::RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(15),
            backoff: Default::default(),
        };
        // A per-request bound: a store that accepts connections and never answers
        // (a region that is down behind a load balancer) fails in bounded time. A read
        // timeout (reset by every byte received) and a connect timeout, not a whole-
        // request one, so a large pack or blob still transfers. Set key by key, so the
        // client settings the builders took from the environment stay.
        use object_store::ClientConfigKey as K;
        let client: Vec<(K, String)> = match spec.timeout {
            Some(t) => vec![
                (K::ReadTimeout, format!("{}ms", t.as_millis())),
                (
                    K::ConnectTimeout,
                    format!("{}ms", t.min(Duration::from_secs(5)).as_millis()),
                ),
            ],
            None => Vec::new(),
        };
        // Every builder below connects through `tls::SharedConnector`, which installs
        // the TLS provider first.
        let (inner, backend): (Arc<dyn ObjectStore>, Backend) = match parsed.scheme() {
            "s3" | "s3a" => {
                let mut b = object_store::aws::AmazonS3Builder::from_env()
                    .with_url(url)
                    .with_retry(retry);
                for (k, v) in &client {
                    b = b.with_config(object_store::aws::AmazonS3ConfigKey::Client(*k), v);
                }
                if let Some(e) = &spec.endpoint {
                    b = b.with_endpoint(e);
                }
                if let Some(r) = &spec.region {
                    b = b.with_region(r);
                }
                if let Some(h) = spec.allow_http {
                    b = b.with_allow_http(h);
                }
                // The endpoint as set here or in the environment (`AWS_ENDPOINT`).
                let plain_http = b
                    .get_config_value(&object_store::aws::AmazonS3ConfigKey::Endpoint)
                    .is_some_and(|e| e.get(..7).is_some_and(|s| s.eq_ignore_ascii_case("http://")));
                let s = b
                    .with_http_connector(tls::SharedConnector { plain_http })
                    .build()
                    .map_err(|e| Error::store(url, e))?;
                (Arc::new(s), Backend::S3)
            }
            "gs" => {
                let mut b = object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_url(url)
                    .with_retry(retry)
                    .with_http_connector(tls::SharedConnector::default());
                for (k, v) in &client {
                    b = b.with_config(object_store::gcp::GoogleConfigKey::Client(*k), v);
                }
                let s = b
                    .build()
                    .map_err(|e| Error::store(url, e))?;
                (Arc::new(s), Backend::Other)
            }
            "az" | "azure" | "abfs" | "abfss" => {
                let mut b = object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_url(url)
                    .with_retry(retry)
                    .with_http_connector(tls::SharedConnector::default());
                for (k, v) in &client {
                    b = b.with_config(object_store::azure::AzureConfigKey::Client(*k), v);
                }
                let s = b
                    .build()
                    .map_err(|e| Error::store(url, e))?;
                (Arc::new(s), Backend::Other)
            }
            other => {
                return Err(Error::input(format!(
                    "store url {url:?}: unsupported scheme {other:?}; use file://, memory://, s3://, gs:// or az://"
                )))
            }
        };
        let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
            inner
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(
                inner,
                Path::from(prefix.as_str()),
            ))
        };
        Ok(Store {
            inner,
            backend,
            display: url.to_string(),
            concurrency,
            root: None,
        })
    }

    /// A fresh in-memory store (tests, examples).
    pub fn memory() -> Store {
        Store {
            inner: Arc::new(object_store::memory::InMemory::new()),
            backend: Backend::Memory,
            display: "memory://".into(),
            concurrency: 16,
            root: None,
        }
    }

    /// The backend kind.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL for messages (no credentials: they never appear in URLs we accept).
    pub fn url(&self) -> &str {
        &self.display
    }

    /// The folder of a `file://` store.
    pub(crate) fn local_root(&self) -> Option<&std::path::Path> {
        self.root.as_deref()
    }

    /// Bounded concurrency for bulk transfers.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    fn attributes(&self, attrs: &Attrs) -> Attributes {
        let mut a = Attributes::new();
        if matches!(self.backend, Backend::File | Backend::Memory) {
            // The local filesystem rejects attributes; the index is the truth anyway.
            return a;
        }
        if let Some(t) = &attrs.content_type {
            a.insert(Attribute::ContentType, t.clone().into());
        }
        if let Some(c) = &attrs.cache_control {
            a.insert(Attribute::CacheControl, c.clone().into());
        }
        if let Some(e) = &attrs.content_encoding {
            a.insert(Attribute::ContentEncoding, e.clone().into());
        }
        if let Some(s) = &attrs.storage_class {
            if self.backend == Backend::S3 {
                a.insert(Attribute::StorageClass, s.clone().into());
            }
        }
        a
    }

    /// On a `file://` store, refuses to write or delete `key` when a folder on its
    /// way below the store's folder is a symbolic link: the write would land outside
    /// the store. (A link in place of the object itself is replaced, not followed.)
    fn inside(&self, key: &str) -> Result<()> {
        let Some(root) = &self.root else {
            return Ok(());
        };
        let mut path = root.clone();
        let parts: Vec<&str> = key.split('/').filter(|p| !p.is_empty()).collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            path.push(part);
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(Error::Integrity(format!(
                        "{} is a symbolic link inside the store; sitevault writes only inside {}. \
                         Remove the link (move what it points to into the store first if it is needed)",
                        path.display(),
                        root.display()
                    )))
                }
                Ok(_) => {}
                // Missing: the write creates it, as a folder.
                Err(_) => break,
            }
        }
        Ok(())
    }

    /// Writes `key` only if it does not exist yet.
    pub async fn put_create(&self, key: &str, data: Bytes, attrs: &Attrs) -> Result<Created> {
        self.inside(key)?;
        let opts = PutOptions {
            mode: PutMode::Create,
            attributes: self.attributes(attrs),
            ..Default::default()
        };
        match self
            .inner
            .put_opts(&Path::from(key), PutPayload::from(data), opts)
            .await
        {
            Ok(_) => Ok(Created::Created),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(Created::AlreadyExists),
            // Some S3 servers answer a lost create race with 412 Precondition Failed.
            Err(object_store::Error::Precondition { .. }) => Ok(Created::AlreadyExists),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a large body create-only. S3 multipart uploads take no put mode, so the
    /// parts go to a unique temporary key which is then copied create-only.
    pub async fn put_create_large(&self, key: &str, data: Bytes, attrs: &Attrs) -> Result<Created> {
        const PART: usize = 8 * 1024 * 1024;
        if self.backend != Backend::S3 || data.len() <= 2 * PART {
            return self.put_create(key, data, attrs).await;
        }
        if self.head(key).await?.is_some() {
            return Ok(Created::AlreadyExists);
        }
        let tmp = format!("tmp/{}-{}", uuid::Uuid::new_v4(), key.replace('/', "_"));
        let tmp_path = Path::from(tmp.as_str());
        let mut up = self
            .inner
            .put_multipart_opts(
                &tmp_path,
                object_store::PutMultipartOptions {
                    attributes: self.attributes(attrs),
                    ..Default::default()
                },
            )
            .await?;
        let mut off = 0;
        while off < data.len() {
            let end = (off + PART).min(data.len());
            up.put_part(PutPayload::from(data.slice(off..end))).await?;
            off = end;
        }
        up.complete().await?;
        let r = match self
            .inner
            .copy_if_not_exists(&tmp_path, &Path::from(key))
            .await
        {
            Ok(()) => Ok(Created::Created),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(Created::AlreadyExists),
            Err(object_store::Error::NotSupported { .. })
            | Err(object_store::Error::NotImplemented { .. }) => {
                self.inner.copy(&tmp_path, &Path::from(key)).await?;
                Ok(Created::Created)
            }
            Err(e) => Err(e.into()),
        };
        let _ = self.inner.delete(&tmp_path).await;
        r
    }

    /// Writes `key`, replacing what is there.
    pub async fn put_overwrite(&self, key: &str, data: Bytes, attrs: &Attrs) -> Result<()> {
        self.inside(key)?;
        let opts = PutOptions {
            mode: PutMode::Overwrite,
            attributes: self.attributes(attrs),
            ..Default::default()
        };
        self.inner
            .put_opts(&Path::from(key), PutPayload::from(data), opts)
            .await?;
        Ok(())
    }

    /// Reads `key`, or `None` when it does not exist.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        match self.inner.get(&Path::from(key)).await {
            Ok(r) => Ok(Some(r.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads `key` unless its ETag still equals `etag` (`Ok(None)` = not modified or
    /// missing; the bool says which: true = not modified).
    pub async fn get_if_changed(&self, key: &str, etag: Option<&str>) -> Result<GetIfChanged> {
        let opts = GetOptions {
            if_none_match: etag.map(str::to_string),
            ..Default::default()
        };
        match self.inner.get_opts(&Path::from(key), opts).await {
            Ok(r) => {
                let etag = r.meta.e_tag.clone();
                Ok(GetIfChanged::Changed(r.bytes().await?, etag))
            }
            Err(object_store::Error::NotModified { .. }) => Ok(GetIfChanged::NotModified),
            Err(object_store::Error::NotFound { .. }) => Ok(GetIfChanged::Missing),
            Err(e) => Err(e.into()),
        }
    }

    /// Streams `key` in chunks, or `None` when it does not exist: large bodies are
    /// never held in memory whole.
    pub async fn get_stream(
        &self,
        key: &str,
    ) -> Result<Option<futures::stream::BoxStream<'static, Result<Bytes>>>> {
        use futures::StreamExt;
        match self
            .inner
            .get_opts(&Path::from(key), GetOptions::default())
            .await
        {
            Ok(r) => Ok(Some(
                r.into_stream().map(|c| c.map_err(Error::from)).boxed(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The attributes stored with `key` (Content-Type, Cache-Control…), or `None`
    /// when it does not exist. Backends without attributes return an empty set.
    pub async fn stored_attributes(&self, key: &str) -> Result<Option<object_store::Attributes>> {
        match self
            .inner
            .get_opts(&Path::from(key), GetOptions::default())
            .await
        {
            Ok(r) => Ok(Some(r.attributes)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads a byte range of `key`.
    pub async fn get_range(&self, key: &str, range: std::ops::Range<u64>) -> Result<Bytes> {
        Ok(self.inner.get_range(&Path::from(key), range).await?)
    }

    /// Metadata of `key`, or `None`.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        match self.inner.head(&Path::from(key)).await {
            Ok(m) => Ok(Some(m)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every object under `prefix` (recursive), keys relative to the store root.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        let p = Path::from(prefix);
        let prefix = if prefix.is_empty() { None } else { Some(&p) };
        Ok(self.inner.list(prefix).try_collect().await?)
    }

    /// Up to `max` objects under `prefix` whose keys sort after `after`, in key order,
    /// keys relative to the store root. A result shorter than `max` is the end of the
    /// listing.
    ///
    /// On S3 this is one `ListObjectsV2` request with `start-after` for `max` up to
    /// 1,000 (a page): a caller can read one stretch of a large prefix without
    /// listing all of it. Other backends list the prefix and sort it.
    pub async fn list_after(
        &self,
        prefix: &str,
        after: &str,
        max: usize,
    ) -> Result<Vec<ObjectMeta>> {
        let (p, offset) = (Path::from(prefix), Path::from(after));
        let listed = self.inner.list_with_offset(Some(&p), &offset);
        if self.backend == Backend::S3 {
            // S3 answers in key order, a page at a time, fetched as the stream is read.
            return Ok(listed.take(max).try_collect().await?);
        }
        let mut all: Vec<ObjectMeta> = listed.try_collect().await?;
        all.sort_unstable_by(|a, b| a.location.cmp(&b.location));
        all.truncate(max);
        Ok(all)
    }

    /// The immediate sub-folders of `prefix` (names only).
    pub async fn list_dirs(&self, prefix: &str) -> Result<Vec<String>> {
        let p = Path::from(prefix);
        let r = self.inner.list_with_delimiter(Some(&p)).await?;
        Ok(r.common_prefixes
            .iter()
            .filter_map(|c| c.filename().map(str::to_string))
            .collect())
    }

    /// Deletes many keys (batched where the backend can: S3 deletes 1000 per request).
    /// Missing keys are fine.
    pub async fn delete_many(&self, keys: Vec<String>) -> Result<()> {
        for k in &keys {
            self.inside(k)?;
        }
        let paths =
            futures::stream::iter(keys.into_iter().map(|k| Ok(Path::from(k.as_str())))).boxed();
        let mut results = self.inner.delete_stream(paths);
        while let Some(r) = results.next().await {
            match r {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Deletes `key` (missing is fine).
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.inside(key)?;
        match self.inner.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Result of [`Store::get_if_changed`].
#[derive(Debug)]
pub enum GetIfChanged {
    /// New bytes and their ETag.
    Changed(Bytes, Option<String>),
    /// Same ETag as given.
    NotModified,
    /// No such object.
    Missing,
}

impl Store {
    /// True when `err` (from a GET of `key`) means the object exists in a storage
    /// class that must be thawed first: S3 GLACIER / DEEP_ARCHIVE answer 403
    /// InvalidObjectState. A 403 alone could be a missing permission, and the body
    /// that names InvalidObjectState is not always kept, so this confirms with a HEAD:
    /// HeadObject needs the same permission as GetObject and works on frozen objects.
    pub async fn is_frozen(&self, key: &str, err: &Error) -> bool {
        matches!(
            err.store_error(),
            Some(object_store::Error::PermissionDenied { .. })
        ) && matches!(self.head(key).await, Ok(Some(_)))
    }
}
