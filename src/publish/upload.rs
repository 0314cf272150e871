//! Blobs into the store: create-only uploads (the store's "already exists" is the
//! presence check).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};

use super::dist::check_bytes;
use super::PublishOptions;
use crate::error::{Error, Result};
use crate::schema::{BlobRef, CacheClass};
use crate::store::{keys, Attrs, Created, Store};

/// Uploads `missing` create-only, at the store's concurrency, with a progress bar;
/// the sizes of the blobs it created (one a concurrent publish created first is
/// not counted). The first failure stops it: in-flight uploads are dropped.
pub(super) async fn upload_all(
    store: &Store,
    missing: Vec<(PathBuf, BlobRef<'_>)>,
    opts: &PublishOptions,
    requests: &AtomicU64,
) -> Result<Vec<u64>> {
    let total = missing.iter().map(|m| m.1.size).sum();
    let pb: Arc<dyn crate::report::Task> = Arc::from(opts.reporter.task(
        "uploading",
        total,
        crate::report::Unit::Bytes,
    ));
    let results = futures::stream::iter(missing.into_iter().map(|(path, blob)| {
        let pb = pb.clone();
        async move {
            let data = tokio::fs::read(&path)
                .await
                .map_err(|e| Error::io(&path, e))?;
            check_bytes(&path, &data, blob)?;
            let created = upload_blob(store, blob, Bytes::from(data), requests).await?;
            pb.inc(blob.size);
            Ok::<_, Error>((created, blob.size))
        }
    }))
    .buffer_unordered(store.concurrency())
    .try_collect::<Vec<(Created, u64)>>()
    .await;
    pb.finish();
    Ok(results?
        .into_iter()
        .filter(|(c, _)| *c == Created::Created)
        .map(|(_, size)| size)
        .collect())
}

/// Writes `data`, which the caller has checked hashes to `blob.hash` (a restore's
/// verified pack), as that blob: created, or an existing object checked byte for
/// byte and replaced when it does not hold those bytes (a corrupt blob, or one of
/// the right size and the wrong content). True when it replaced one.
pub(crate) async fn put_verified_blob(
    store: &Store,
    blob: BlobRef<'_>,
    data: Bytes,
    requests: &AtomicU64,
) -> Result<bool> {
    let key = keys::blob(blob.hash);
    let attrs = blob_attrs(blob);
    requests.fetch_add(1, Ordering::Relaxed);
    if store.put_create_large(&key, data.clone(), &attrs).await? == Created::Created {
        return Ok(false);
    }
    requests.fetch_add(1, Ordering::Relaxed);
    if store.get(&key).await?.is_some_and(|held| held == data) {
        return Ok(false);
    }
    requests.fetch_add(1, Ordering::Relaxed);
    store.put_overwrite(&key, data, &attrs).await?;
    Ok(true)
}

/// The attributes a blob is stored with (see [`upload_blob`]).
fn blob_attrs(blob: BlobRef<'_>) -> Attrs {
    Attrs {
        content_type: Some(blob.content_type.to_string()),
        cache_control: Some(CacheClass::Immutable.header().into()),
        content_encoding: blob.coding.map(|c| c.token().to_string()),
        ..Default::default()
    }
}

/// Uploads one blob create-only; an existing blob is accepted after a size check.
/// `data` is always bytes the caller checked against `blob.hash` (a dist file, a
/// blob read from another region), so an existing object of another size is not
/// that blob: it is replaced with them (reported as created), which is how a
/// republish or a sync mends a truncated blob. On stores with attributes (S3…), the
/// object carries the file's `Content-Type`, an immutable `Cache-Control` and, for
/// a variant, its `Content-Encoding`, so a CDN in front of the bucket can serve it
/// as it is.
pub(crate) async fn upload_blob(
    store: &Store,
    blob: BlobRef<'_>,
    data: Bytes,
    requests: &AtomicU64,
) -> Result<Created> {
    let key = keys::blob(blob.hash);
    let attrs = blob_attrs(blob);
    let size = data.len() as u64;
    requests.fetch_add(1, Ordering::Relaxed);
    match store.put_create_large(&key, data.clone(), &attrs).await? {
        Created::Created => Ok(Created::Created),
        Created::AlreadyExists => {
            requests.fetch_add(1, Ordering::Relaxed);
            match store.head(&key).await? {
                Some(m) if m.size == size => Ok(Created::AlreadyExists),
                Some(_) => {
                    requests.fetch_add(1, Ordering::Relaxed);
                    store.put_overwrite(&key, data, &attrs).await?;
                    Ok(Created::Created)
                }
                None => Err(Error::Conflict(format!(
                    "{key}: reported as existing, then not found (a gc running at the same time?); retry the publish"
                ))),
            }
        }
    }
}
