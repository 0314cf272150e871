//! A publish from this machine's record of the version it published (or read)
//! last: uploads, shards and the rest of the dist check run beside the listing of
//! versions, which then confirms the base (see [`from_record`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{
    blob_path, count_uploads, index, plan, recheck_skipped, resolve_git, shards, upload_all,
    write_index, Blobs, GitTask, PublishOptions, PublishReport,
};
use crate::error::{Error, Result};
use crate::schema::{BlobRef, BuildManifest};
use crate::store::{keys, Store};

/// A publish from the local record of a base version: the blobs the record does not
/// name are uploaded (create-only) and a large version's shards cut and written while
/// the versions are listed (`listing`, started with the publish) and the dist check
/// finishes (`verify`); then the listing must show the base still hot, with the index
/// size the record was made from and no archive stub, for the skipped blobs and
/// shards to count as present. One round trip for all of that, one for the
/// index. When the uploads outlast the listing by more than [`RECONFIRM_AFTER`], a
/// HEAD of the base's index confirms it again just before the index is written (an
/// archive that took it meanwhile may have deleted what was skipped).
///
/// Returns [`Fallback`] when this cannot finish the publish: the version id turns
/// out to exist (hot or archived), or the base is not hot. The caller goes on as a
/// publish that listed first (diffed against the newest hot version; the same
/// content "already published", other content refused, a hot one repaired). What
/// was written by then is content-addressed and named by no index: it changes
/// nothing, and the blobs it created are counted in the report.
#[allow(clippy::too_many_arguments)]
pub(super) async fn from_record(
    store: &Store,
    dist: &Path,
    m: &Arc<BuildManifest>,
    blobs: &Blobs<'_>,
    rec: plan::Record,
    listing: Listing,
    verify: Verify,
    opts: &PublishOptions,
    git: &mut GitTask,
    report: &mut PublishReport,
) -> Result<Option<Fallback>> {
    let missing: Vec<(PathBuf, BlobRef<'_>)> = blobs
        .iter()
        .filter(|(h, _)| !rec.known.blobs.contains(**h))
        .map(|(_, (p, b))| (blob_path(dist, p, *b), *b))
        .collect();
    let requests = AtomicU64::new(0);
    // The shards are cut (CPU) and written while the blobs upload.
    let shards = async {
        let files = m.clone();
        let split = tokio::task::spawn_blocking(move || index::split(&files.files))
            .await
            .map_err(|e| Error::Internal(format!("cutting shards: {e}")))??;
        let puts = match &split {
            Some(s) => shards::write(store, &s.shards, &rec.known.shards).await?,
            None => 0,
        };
        Ok::<_, Error>((split, puts))
    };
    let (checked, created, (versions, listed_at), shards) = tokio::join!(
        verify,
        upload_all(store, missing, opts, &requests),
        joined(listing),
        shards
    );
    report.requests += requests.swap(0, Ordering::Relaxed);
    // The dist check's error first (the cause of any other), then an upload's (a
    // dist file changed after the build…), then the listing's.
    checked?;
    let created = created?;
    let (split, shard_puts) = shards?;
    report.requests += shard_puts;
    let versions = versions?;
    let base_hot =
        versions.index_size(&rec.version) == Some(rec.size) && !versions.has_stub(&rec.version);
    let taken = versions.is_hot(&report.version) || versions.has_stub(&report.version);
    if taken || !base_hot {
        return Ok(Some(Fallback { versions, created }));
    }
    report.requests += versions.requests;
    count_uploads(report, &created, blobs.len());
    report.base = Some(rec.version.clone());
    let mut base_gone = false;
    if listed_at.elapsed() > RECONFIRM_AFTER {
        report.requests += 1;
        if store
            .head(&keys::version_index(&rec.version))
            .await?
            .is_none()
        {
            // Gone meanwhile: what it named may be gone too, shards included.
            recheck_skipped(store, dist, blobs, &rec.known.blobs, report).await?;
            base_gone = true;
        }
    }
    // The shards written above are in the store, and those the record names while
    // its version is hot: the index write adds the others (if any), then the head.
    let written: crate::fasthash::HashSet<String> = split
        .iter()
        .flat_map(|s| s.shards.iter().map(|(h, _)| h))
        .filter(|h| !(base_gone && rec.known.shards.contains(*h)))
        .cloned()
        .collect();
    let git = resolve_git(git.take(), opts).await;
    let r = std::mem::take(report);
    *report = write_index(store, m, blobs, split.as_ref(), &written, git, opts, r).await?;
    Ok(None)
}

/// How long after the listing a publish from a record trusts it: uploads that end
/// later get the base confirmed again (one HEAD), as a publish that listed first does.
const RECONFIRM_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// The listing of versions a publish starts with, and when it ended.
pub(super) type Listing =
    tokio::task::JoinHandle<(Result<plan::StoreVersions>, std::time::Instant)>;

/// The dist check that a publish from a record runs beside its uploads.
pub(super) type Verify = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send>>;

/// The listing's result (a task that failed to run is an error like a failed listing).
pub(super) async fn joined(listing: Listing) -> (Result<plan::StoreVersions>, std::time::Instant) {
    listing.await.unwrap_or_else(|e| {
        let failed = Error::Internal(format!("listing versions: {e}"));
        (Err(failed), std::time::Instant::now())
    })
}

/// Where [`from_record`] hands over to the publish that lists first.
pub(super) struct Fallback {
    /// Its listing of versions (not counted in the report yet).
    pub(super) versions: plan::StoreVersions,
    /// Sizes of the blobs it created.
    pub(super) created: Vec<u64>,
}
