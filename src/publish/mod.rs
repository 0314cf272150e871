//! `sitevault publish`: upload a built `dist/` as an immutable version. Each blob is
//! stored once (create-only, content-addressed); the version index is written last,
//! create-only, so a version is either fully visible or not at all.

mod diff;
mod dist;
mod from_record;
mod git;
pub mod index;
pub mod inspect;
mod plan;
mod presence;
pub mod shards;
mod upload;

pub use diff::{diff, DiffReport, Side};
pub use dist::read_dist;
pub(crate) use dist::read_dist_listed;
pub use git::detect_git;
pub use plan::{FileChange, FileDiff, IndexCache};
pub(crate) use presence::present_blobs;
pub(crate) use upload::{put_verified_blob, upload_blob};

use dist::{blob_path, check_bytes};
use from_record::{from_record, joined, Listing, Verify};
use upload::upload_all;

use crate::fasthash::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::schema::{self, BlobRef, BuildManifest};
use crate::store::{keys, Created, Store};
use index::{Source, Totals, VersionIndex};

/// How to publish.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// Print the plan, write nothing.
    pub dry_run: bool,
    /// Where progress goes.
    pub reporter: crate::report::Handle,
    /// Who publishes (`created_by`).
    pub actor: String,
    /// Git commit, when known.
    pub git: Option<String>,
    /// Without `git`, find it with [`detect_git`] (in the background, while the
    /// publish runs).
    pub detect_git: bool,
    /// Local record of the blobs of versions this machine published or read (saves
    /// reading the base version's index).
    pub index_cache: Option<IndexCache>,
    /// The build's cache folder, where `build` records the output folders it wrote:
    /// folders unchanged since need no listing to find files added after the build.
    pub build_cache: Option<PathBuf>,
}

/// What a publish did (or, with `--dry-run`, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PublishReport {
    /// The version id.
    pub version: String,
    /// Files in the version.
    pub files: u64,
    /// Bytes in the version.
    pub bytes: u64,
    /// Blobs this publish created (or, with `--dry-run`, would upload). A blob that a
    /// concurrent publish created first is counted there, not here.
    pub uploaded_blobs: u64,
    /// Bytes of those blobs.
    pub uploaded_bytes: u64,
    /// Blobs already in the store.
    pub skipped_blobs: u64,
    /// Store requests made.
    pub requests: u64,
    /// The same version was already published with the same content: no index written.
    pub already_published: bool,
    /// Blobs of an already published version that were missing from the store and
    /// were uploaded again (a republish mends what gc or a lost write removed).
    pub repaired_blobs: u64,
    /// Nothing was written.
    pub dry_run: bool,
    /// Digest of the version's files map.
    pub digest: String,
    /// The hot version this publish was compared with: the newest one, or the one
    /// this machine published or read last (from its local record, confirmed hot).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Files added, removed and changed since `base`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<FileDiff>,
}

/// Every blob of the dist by hash, with the public path of a file that has it (its
/// bytes are that file's, or a precompressed sidecar's: see [`blob_path`]).
type Blobs<'a> = crate::fasthash::HashMap<&'a str, (&'a str, BlobRef<'a>)>;

/// `hashes` of the dist's blobs, with their sizes.
fn sized<'a>(blobs: &Blobs<'a>, hashes: &[&'a str]) -> Vec<(&'a str, u64)> {
    hashes
        .iter()
        .filter_map(|h| blobs.get(h).map(|(_, b)| (*h, b.size)))
        .collect()
}

/// The `git rev-parse` running beside the publish, when asked for.
type GitTask = Option<tokio::task::JoinHandle<Option<String>>>;

/// Publishes `dist` as `version`.
pub async fn publish(
    store: &Store,
    dist: &Path,
    version: &str,
    opts: &PublishOptions,
) -> Result<PublishReport> {
    crate::ids::check_version(version)?;
    let mut git = match (&opts.git, opts.detect_git) {
        (None, true) => Some(tokio::task::spawn_blocking(detect_git)),
        _ => None,
    };
    // A release machine holds a record of the version it published (or read) last:
    // then the listing of versions runs beside the uploads and confirms that base
    // afterwards (see `from_record`). Without one, the listing comes first and names
    // the base. Either way it starts now, beside the dist check and the reading of
    // the record: it needs only the store.
    let owned = dist.to_path_buf();
    let read = tokio::task::spawn_blocking(move || dist::parse_manifest(&owned));
    let owned = dist.to_path_buf();
    let record = opts.build_cache.as_ref().and_then(|c| {
        let abs = crate::outdir::absolute(dist).ok()?;
        Some(crate::dirstamp::location(c, &abs))
    });
    let walk = tokio::task::spawn_blocking(move || dist::dist_files(&owned, record.as_deref()));
    let listing: Listing = {
        let store = store.clone();
        tokio::spawn(async move {
            let listed = plan::StoreVersions::read(&store).await;
            (listed, std::time::Instant::now())
        })
    };
    // A version this machine already published or read is listed first: a republish
    // is checked (and refused, or repaired) before anything is uploaded.
    let record = match (&opts.index_cache, opts.dry_run) {
        (Some(c), false) => {
            let (c, v) = (c.clone(), version.to_string());
            tokio::task::spawn_blocking(move || (!c.has(&v)).then(|| c.latest()).flatten())
                .await
                .ok()
                .flatten()
        }
        _ => None,
    };
    let (m, listed, record) = match record {
        Some(rec) => (read.await, None, Some((rec, listing))),
        None => {
            let (m, (v, _)) = tokio::join!(read, joined(listing));
            (m, Some(v), None)
        }
    };
    let m = Arc::new(m.map_err(|e| Error::Internal(format!("dist check: {e}")))??);
    // The rest of the dist check (digests, one size per blob, nothing unlisted in the
    // folder). Without a record it comes before anything else; from a record it runs
    // beside the uploads, which re-hash every file they send and need only what
    // `parse_manifest` checked, and it must pass before the index is written.
    let verify: Verify = {
        let (m, dist) = (m.clone(), dist.to_path_buf());
        Box::pin(async move {
            let walked = walk
                .await
                .map_err(|e| Error::Internal(format!("dist walk: {e}")))?;
            tokio::task::spawn_blocking(move || dist::verify_manifest(&dist, &m, walked))
                .await
                .map_err(|e| Error::Internal(format!("dist check: {e}")))?
        })
    };
    let record = match record {
        Some((rec, listing)) => Some((rec, listing, verify)),
        None => {
            verify.await?;
            None
        }
    };
    let mut report = PublishReport {
        version: version.to_string(),
        files: m.files.len() as u64,
        bytes: m.files.values().map(|e| e.size).sum(),
        dry_run: opts.dry_run,
        digest: m.digest.clone(),
        ..Default::default()
    };
    let blobs = dist::dist_blobs(dist, &m)?;
    // Blobs a publish from a record created before handing over (see `Fallback`).
    let mut created_before: Vec<u64> = Vec::new();
    let versions = match (listed, record) {
        (Some(listed), _) => listed?,
        (None, Some((rec, listing, verify))) => {
            match from_record(
                store,
                dist,
                &m,
                &blobs,
                rec,
                listing,
                verify,
                opts,
                &mut git,
                &mut report,
            )
            .await?
            {
                None => return Ok(report),
                Some(f) => {
                    created_before = f.created;
                    f.versions
                }
            }
        }
        (None, None) => unreachable!("without a record the versions are listed first"),
    };
    let add_created_before = |report: &mut PublishReport| {
        report.uploaded_blobs += created_before.len() as u64;
        report.uploaded_bytes += created_before.iter().sum::<u64>();
        report.skipped_blobs = report
            .skipped_blobs
            .saturating_sub(created_before.len() as u64);
    };
    // The listing says whether this id exists (hot or archived) and which hot
    // version to diff against.
    report.requests += versions.requests;
    // Immutable: another digest under this id is refused. The same digest is published
    // already; a hot one still gets its missing blobs uploaded again (a repair).
    let mut existing = None;
    if versions.is_hot(version) {
        report.requests += 1;
        existing = index::load(store, version).await?;
    }
    if let Some(existing) = &existing {
        check_same(version, &existing.digest, &m.digest)?;
        report.already_published = true;
    } else if versions.has_stub(version) {
        report.requests += 1;
        if let Some(stub) = index::load_stub(store, version).await? {
            check_same(version, &stub.digest, &m.digest)?;
            // Archived: its blobs live in the pack; `sitevault restore` brings them back.
            report.already_published = true;
            add_created_before(&mut report);
            return Ok(report);
        }
    }

    // Blobs the newest hot version names are in the store (see `plan`). A repair
    // checks every blob instead: finding what is missing is its job.
    let base = match existing {
        Some(_) => None,
        None => versions.newest_base(version).map(str::to_string),
    };
    let mut known: HashSet<String> = HashSet::default();
    let mut known_shards: HashSet<String> = HashSet::default();
    if let Some(b) = &base {
        let size = versions.index_size(b).unwrap_or(0);
        // A dry run reads the base index for its file plan; a publish uses the local
        // record of its blobs when there is one.
        let cached = match (&opts.index_cache, opts.dry_run) {
            (Some(c), false) => c.get(b, size),
            _ => None,
        };
        match cached {
            Some(k) => {
                known = k.blobs;
                known_shards = k.shards;
            }
            None => {
                report.requests += 1;
                if let Some(idx) = index::load(store, b).await? {
                    report.requests += idx.shards.as_ref().map_or(0, |s| s.keys.len() as u64);
                    let hashes = idx.blob_hashes();
                    if let Some(c) = &opts.index_cache {
                        c.put(b, size, hashes.iter().copied(), idx.shared_shards());
                    }
                    known = hashes.into_iter().map(str::to_string).collect();
                    known_shards = idx.shared_shards().iter().cloned().collect();
                    if opts.dry_run {
                        report.plan = Some(plan::diff_files(&idx.files, &m.files));
                    }
                }
            }
        }
        report.base = Some(b.clone());
    }
    let candidates: Vec<&str> = blobs
        .keys()
        .copied()
        .filter(|h| !known.contains(*h))
        .collect();
    // Without a base (a first publish, a repair) or for a dry run, ask the store;
    // otherwise upload create-only: the store's "already exists" is the check.
    let present = if existing.is_some() || opts.dry_run {
        let (present, lookups) = present_blobs(store, sized(&blobs, &candidates)).await?;
        report.requests += lookups;
        present
    } else {
        HashSet::default()
    };
    let missing: Vec<(PathBuf, BlobRef<'_>)> = candidates
        .iter()
        .filter(|h| !present.contains(**h))
        .filter_map(|h| blobs.get(*h).map(|(p, b)| (blob_path(dist, p, *b), *b)))
        .collect();
    report.skipped_blobs = (blobs.len() - missing.len()) as u64;
    report.uploaded_blobs = missing.len() as u64;
    report.uploaded_bytes = missing.iter().map(|m| m.1.size).sum();
    if opts.dry_run {
        return Ok(report);
    }

    let requests = AtomicU64::new(0);
    let created = upload_all(store, missing, opts, &requests).await;
    report.requests += requests.swap(0, Ordering::Relaxed);
    count_uploads(&mut report, &created?, blobs.len());
    add_created_before(&mut report);
    if let Some(existing) = &existing {
        report.repaired_blobs = report.uploaded_blobs;
        // The published index may name variants this dist does not have (built with
        // other compression settings): those cannot be repaired from here.
        let unsupplied: Vec<&str> = existing
            .blob_hashes()
            .into_iter()
            .filter(|h| !blobs.contains_key(*h))
            .collect();
        if !unsupplied.is_empty() {
            let wanted = existing
                .blob_sizes()
                .into_iter()
                .filter(|(h, _)| !blobs.contains_key(*h))
                .collect();
            let (present, lookups) = present_blobs(store, wanted).await?;
            report.requests += lookups;
            if let Some(h) = unsupplied.iter().find(|h| !present.contains(**h)) {
                return Err(Error::Integrity(format!(
                    "version {version} names blob {h} (a precompressed variant), which is missing from the store \
                     and not in this dist (built with other compression settings?); rebuild with the settings \
                     it was published with and publish again, or run `sitevault verify {version}`"
                )));
            }
        }
        return Ok(report);
    }
    if let Some(b) = &base {
        // The base must still be hot: an archive that took it meanwhile may have
        // deleted blobs we skipped. Then check those the slow way.
        report.requests += 1;
        if store.head(&keys::version_index(b)).await?.is_none() {
            // Its shards may go with it too (gc): write every shard, checked.
            known_shards.clear();
            recheck_skipped(store, dist, &blobs, &known, &mut report).await?;
        }
    }
    let split = index::split(&m.files)?;
    let git = resolve_git(git.take(), opts).await;
    write_index(
        store,
        &m,
        &blobs,
        split.as_ref(),
        &known_shards,
        git,
        opts,
        report,
    )
    .await
}

/// The commit to record: given, or found by the task started with the publish.
async fn resolve_git(task: GitTask, opts: &PublishOptions) -> Option<String> {
    match task {
        Some(task) => task.await.ok().flatten(),
        None => opts.git.clone(),
    }
}

/// Fills the report's blob counts from the sizes of the blobs created.
fn count_uploads(report: &mut PublishReport, created: &[u64], blobs: usize) {
    report.uploaded_blobs = created.len() as u64;
    report.uploaded_bytes = created.iter().sum();
    // Blobs the store turned out to hold already (found by a create-only upload).
    report.skipped_blobs = blobs as u64 - report.uploaded_blobs;
}

/// Checks the blobs a publish skipped because a base version named them, when that
/// base turned out not to be hot: each one missing from the store is uploaded.
async fn recheck_skipped(
    store: &Store,
    dist: &Path,
    blobs: &Blobs<'_>,
    known: &HashSet<String>,
    report: &mut PublishReport,
) -> Result<()> {
    let skipped: Vec<&str> = blobs
        .keys()
        .copied()
        .filter(|h| known.contains(*h))
        .collect();
    let (present, lookups) = present_blobs(store, sized(blobs, &skipped)).await?;
    report.requests += lookups;
    let requests = AtomicU64::new(0);
    for h in skipped.into_iter().filter(|h| !present.contains(*h)) {
        if let Some((public, blob)) = blobs.get(h) {
            let path = blob_path(dist, public, *blob);
            let data = tokio::fs::read(&path)
                .await
                .map_err(|e| Error::io(&path, e))?;
            check_bytes(&path, &data, *blob)?;
            if upload_blob(store, *blob, Bytes::from(data), &requests).await? == Created::Created {
                report.uploaded_blobs += 1;
                report.uploaded_bytes += blob.size;
                report.skipped_blobs = report.skipped_blobs.saturating_sub(1);
            }
        }
    }
    report.requests += requests.load(Ordering::Relaxed);
    Ok(())
}

/// The last step: the version's index, create-only (a large version's shards not
/// in `known_shards` first). A new index is recorded in the local cache; one found
/// there already is someone publishing the same version at the same time.
#[allow(clippy::too_many_arguments)]
async fn write_index(
    store: &Store,
    m: &BuildManifest,
    blobs: &Blobs<'_>,
    split: Option<&index::Split>,
    known_shards: &HashSet<String>,
    git: Option<String>,
    opts: &PublishOptions,
    mut report: PublishReport,
) -> Result<PublishReport> {
    let version = report.version.clone();
    let idx = VersionIndex {
        schema: schema::schema_for(&m.files, false),
        version: version.clone(),
        created_at: crate::clock::now_string(),
        created_by: opts.actor.clone(),
        source: Source { git },
        tool: crate::TOOL.to_string(),
        digest: m.digest.clone(),
        totals: Totals {
            files: report.files,
            bytes: report.bytes,
        },
        enc_digest: m.enc_digest.clone(),
        // A sharded head carries no files map (its shards are cut already): no copy.
        files: match split {
            Some(_) => Default::default(),
            None => m.files.clone(),
        },
        shards: None,
    };
    let written = index::write_split(store, &idx, None, split, known_shards).await?;
    report.requests += 1 + written.shard_puts;
    match written.created {
        Created::Created => {
            if let Some(c) = &opts.index_cache {
                // Immutable once written: the next publish need not read it.
                c.put(
                    &version,
                    written.size,
                    blobs.keys().copied(),
                    &written.shards,
                );
            }
            Ok(report)
        }
        Created::AlreadyExists => {
            report.requests += 1;
            let existing = index::require(store, &version).await?;
            check_same(&version, &existing.digest, &m.digest)?;
            report.already_published = true;
            Ok(report)
        }
    }
}

/// Refuses a second, different content under one version id.
fn check_same(version: &str, existing: &str, digest: &str) -> Result<()> {
    if existing == digest {
        return Ok(());
    }
    Err(Error::Input(format!(
        "version {version} is already published with different content (digest {}… ≠ {}…); versions are immutable: publish under a new version id",
        existing.chars().take(12).collect::<String>(),
        digest.chars().take(12).collect::<String>()
    )))
}
