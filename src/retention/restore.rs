//! `restore`: bring an archived version back from its pack, verified, create-only.

use std::time::Instant;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use super::pack;
use crate::error::{Error, Result};
use crate::publish::index;
use crate::store::{keys, Store};

/// What `restore` did.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    /// Version.
    pub version: String,
    /// Blobs uploaded.
    pub blobs: u64,
    /// Bytes of the pack.
    pub bytes: u64,
    /// Wall time, milliseconds.
    pub elapsed_ms: u128,
    /// The version was already hot (an interrupted restore was finished, or nothing to do).
    pub already_hot: bool,
    /// Blobs already in the hot store that did not hold their bytes (corrupt, or
    /// planted with the right size), replaced by the pack's verified ones.
    #[serde(skip_serializing_if = "is_zero")]
    pub repaired: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Restores an archived version: read the pack, verify every blob, upload blobs
/// create-only, write the index create-only, then remove the stub.
pub async fn restore(hot: &Store, cold: &Store, version: &str) -> Result<RestoreReport> {
    crate::ids::check_version(version)?;
    let started = Instant::now();
    let stub = index::load_stub(hot, version).await?;
    let hot_idx = index::load(hot, version).await?;
    let Some(stub) = stub else {
        return match hot_idx {
            Some(_) => Ok(RestoreReport {
                version: version.into(),
                blobs: 0,
                bytes: 0,
                elapsed_ms: started.elapsed().as_millis(),
                already_hot: true,
                repaired: 0,
            }),
            None => Err(Error::input(format!(
                "version {version} is neither hot nor archived in {}",
                hot.url()
            ))),
        };
    };
    if hot_idx.is_some() {
        // An interrupted restore (or archive): the version is hot; finish by removing the stub.
        hot.delete(&keys::version_archived(version)).await?;
        return Ok(RestoreReport {
            version: version.into(),
            blobs: 0,
            bytes: 0,
            elapsed_ms: started.elapsed().as_millis(),
            already_hot: true,
            repaired: 0,
        });
    }
    let where_ = format!("{}/{}", cold.url(), stub.pack);
    let data = match cold.get(&stub.pack).await {
        Ok(Some(d)) => d,
        Ok(None) => return Err(Error::Integrity(format!("{where_}: pack not found in the cold store; check [cold] url"))),
        Err(e) if cold.is_frozen(&stub.pack, &e).await => {
            return Err(Error::input(format!(
                "{where_} is in a storage class that must be thawed before it can be read (S3 answered InvalidObjectState). \
                 Thaw it with: aws s3api restore-object --bucket BUCKET --key {} --restore-request 'Days=2,GlacierJobParameters={{Tier=Standard}}' \
                 and run `sitevault restore {version}` again when the restore completes (minutes for GLACIER_IR/Expedited, hours for DEEP_ARCHIVE)",
                stub.pack
            )))
        }
        Err(e) => return Err(e),
    };
    let bytes = data.len() as u64;
    let p = pack::read(data, &where_)?;
    if p.index.version != version || p.index.digest != stub.digest {
        return Err(Error::Integrity(format!(
            "{where_}: pack holds {} ({}), not {version}",
            p.index.version, p.index.digest
        )));
    }
    // Each blob goes back as publish writes it (with the file's type and a variant's
    // Content-Encoding on stores that keep attributes). The pack's bytes are verified;
    // a blob already in the hot store is trusted only if it holds exactly them (it
    // may be another version's, or left corrupt), and replaced otherwise.
    let refs = crate::schema::blobs_of(&p.index.files);
    let n = p.blobs.len() as u64;
    let requests = std::sync::atomic::AtomicU64::new(0);
    let replaced = futures::stream::iter(p.blobs.iter().map(|(h, b)| {
        let requests = &requests;
        let blob = refs.get(h.as_str()).map(|r| r.1);
        async move {
            let blob = blob.ok_or_else(|| {
                Error::Integrity(format!("pack of {version}: blob {h} is not in its index"))
            })?;
            crate::publish::put_verified_blob(hot, blob, b.clone(), requests).await
        }
    }))
    .buffer_unordered(hot.concurrency())
    .try_collect::<Vec<bool>>()
    .await?;
    // The index last (a large version's shards, then its head).
    // An index stored whole goes back byte for byte; a sharded one is split again
    // (its shards and head are a function of the files map).
    let whole = (!p.header.sharded).then(|| Bytes::from(p.index_bytes.clone()));
    index::write(hot, &p.index, whole, &Default::default()).await?;
    hot.delete(&keys::version_archived(version)).await?;
    Ok(RestoreReport {
        version: version.into(),
        blobs: n,
        bytes,
        elapsed_ms: started.elapsed().as_millis(),
        already_hot: false,
        repaired: replaced.iter().filter(|r| **r).count() as u64,
    })
}
