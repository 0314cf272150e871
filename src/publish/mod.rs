//! `sitevault publish`: upload a built `dist/` as an immutable version. Each blob is
//! stored once (create-only, content-addressed); the version index is written last,
//! create-only, so a version is either fully visible or not at all.

mod diff;
pub mod index;
pub mod inspect;
mod plan;
pub mod shards;

pub use diff::{diff, DiffReport, Side};
pub use plan::{FileChange, FileDiff, IndexCache};

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::schema::{self, BlobRef, BuildManifest, CacheClass};
use crate::store::{keys, Attrs, Created, Store};
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
    /// The hot version this publish was compared with (the newest one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Files added, removed and changed since `base`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<FileDiff>,
}

/// Reads and checks `dist/.sitevault/manifest.json` against the files: every listed
/// file exists with the listed hash and size, and nothing unlisted is there.
pub fn read_dist(dist: &Path) -> Result<BuildManifest> {
    check_dist(dist, true)
}

/// [`read_dist`] without reading the files: `publish` re-hashes each file it uploads,
/// and never reads one whose blob the store already holds (that blob, verified when
/// it was uploaded, is what the version serves). Unlisted files are still refused.
pub(crate) fn read_dist_listed(dist: &Path) -> Result<BuildManifest> {
    check_dist(dist, false)
}

fn check_dist(dist: &Path, rehash: bool) -> Result<BuildManifest> {
    // The folder is walked while the manifest is parsed and checked.
    let (m, walked) = rayon::join(|| parse_dist_manifest(dist, rehash), || dist_files(dist));
    let m = m?;
    // Nothing unlisted (a listed file's precompressed sidecars are listed with it).
    let sidecars: HashSet<String> = m
        .files
        .iter()
        .flat_map(|(p, e)| e.enc.iter().map(move |(c, _)| format!("{p}{}", c.suffix())))
        .collect();
    for (rel, path) in walked? {
        let public = format!("/{rel}");
        if !m.files.contains_key(&public) && !sidecars.contains(&public) {
            return Err(Error::input(format!(
                "{}: not in the build manifest (added after the build?); rebuild with `sitevault build`",
                path.display()
            )));
        }
    }
    Ok(m)
}

/// The build manifest, checked (paths, hashes, digest; with `rehash`, every file).
fn parse_dist_manifest(dist: &Path, rehash: bool) -> Result<BuildManifest> {
    let mpath = dist.join(schema::MANIFEST_PATH);
    let text = std::fs::read(&mpath).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::input(format!(
                "{}: no build manifest; run `sitevault build` first (publish takes the output folder of build)",
                mpath.display()
            ))
        } else {
            Error::io(&mpath, e)
        }
    })?;
    let m: BuildManifest = serde_json::from_slice(&text).map_err(|e| {
        Error::input(format!(
            "{}:{}:{}: corrupt build manifest: {e}",
            mpath.display(),
            e.line(),
            e.column()
        ))
    })?;
    schema::check_schema_max(
        m.schema as u64,
        schema::INDEX_SCHEMA,
        &mpath.display().to_string(),
    )?;
    for (p, e) in &m.files {
        schema::check_public_path(p)
            .map_err(|msg| Error::input(format!("{}: {msg}", mpath.display())))?;
        if !schema::is_hash(&e.hash) {
            return Err(Error::input(format!(
                "{}: {p}: hash {:?} is not a blake3 hex digest",
                mpath.display(),
                e.hash
            )));
        }
    }
    if schema::digest(&m.files) != m.digest {
        return Err(Error::input(format!(
            "{}: digest does not match its files; rebuild with `sitevault build`",
            mpath.display()
        )));
    }
    schema::check_variants(&m.files, m.enc_digest.as_deref()).map_err(|msg| {
        Error::input(format!(
            "{}: {msg}; rebuild with `sitevault build`",
            mpath.display()
        ))
    })?;
    // Every file is there with its hash (when asked: `publish` re-hashes what it
    // uploads instead, and never reads the others).
    if rehash {
        let all: Vec<(PathBuf, BlobRef<'_>)> = m
            .files
            .iter()
            .flat_map(|(p, e)| e.blobs().map(move |b| (blob_path(dist, p, b), b)))
            .collect();
        all.par_iter().try_for_each(|(path, b)| {
            let bytes = std::fs::read(path).map_err(|err| {
                Error::input(format!(
                    "{}: listed in the build manifest but unreadable ({err}); rebuild",
                    path.display()
                ))
            })?;
            check_bytes(path, &bytes, *b)
        })?;
    }
    Ok(m)
}

/// Where a blob's bytes are in dist/: the file, or its `.br`/`.gz` sidecar.
fn blob_path(dist: &Path, public: &str, b: BlobRef<'_>) -> PathBuf {
    match b.coding {
        None => dist.join(&public[1..]),
        Some(c) => dist.join(format!("{}{}", &public[1..], c.suffix())),
    }
}

/// Refuses bytes that are not the blob the manifest names (hash and size).
fn check_bytes(path: &Path, data: &[u8], blob: BlobRef<'_>) -> Result<()> {
    if data.len() as u64 != blob.size || blake3::hash(data).to_hex().as_str() != blob.hash {
        return Err(Error::input(format!(
            "{}: does not match the build manifest (changed after the build?); rebuild with `sitevault build`",
            path.display()
        )));
    }
    Ok(())
}

/// Every file under `dist` but its `.sitevault/` folder: `(relative path, path)`.
fn dist_files(dist: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dist) {
        let entry = entry.map_err(|e| Error::input(format!("{}: {e}", dist.display())))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dist)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        if !rel.starts_with(".sitevault/") {
            out.push((rel, entry.into_path()));
        }
    }
    Ok(out)
}

/// Below this many blobs, HEAD requests are cheaper than listing the blob store.
const HEAD_LIMIT: usize = 64;

/// Publishes `dist` as `version`.
pub async fn publish(
    store: &Store,
    dist: &Path,
    version: &str,
    opts: &PublishOptions,
) -> Result<PublishReport> {
    crate::ids::check_version(version)?;
    let git = match (&opts.git, opts.detect_git) {
        (None, true) => Some(tokio::task::spawn_blocking(detect_git)),
        _ => None,
    };
    // The dist check (local) and the listing of versions (one request) overlap.
    let owned = dist.to_path_buf();
    let (m, versions) = tokio::join!(
        tokio::task::spawn_blocking(move || read_dist_listed(&owned)),
        plan::StoreVersions::read(store)
    );
    let m = m.map_err(|e| Error::Internal(format!("dist check: {e}")))??;
    let versions = versions?;
    let mut report = PublishReport {
        version: version.to_string(),
        files: m.files.len() as u64,
        bytes: m.files.values().map(|e| e.size).sum(),
        dry_run: opts.dry_run,
        digest: m.digest.clone(),
        ..Default::default()
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
            return Ok(report);
        }
    }

    // One source file per blob (a file's bytes, or a precompressed sidecar).
    let blobs: BTreeMap<String, (PathBuf, BlobRef<'_>)> = schema::blobs_of(&m.files)
        .into_iter()
        .map(|(h, (p, b))| (h.to_string(), (blob_path(dist, p, b), b)))
        .collect();
    // Blobs the newest hot version names are in the store (see `plan`). A repair
    // checks every blob instead: finding what is missing is its job.
    let base = match existing {
        Some(_) => None,
        None => versions.newest_base(version).map(str::to_string),
    };
    let mut known: HashSet<String> = HashSet::new();
    let mut known_shards: HashSet<String> = HashSet::new();
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
        .map(String::as_str)
        .filter(|h| !known.contains(*h))
        .collect();
    // Without a base (a first publish, a repair) or for a dry run, ask the store;
    // otherwise upload create-only: the store's "already exists" is the check.
    let present = if existing.is_some() || opts.dry_run {
        let (present, lookups) = present_blobs(store, candidates.clone()).await?;
        report.requests += lookups;
        present
    } else {
        HashSet::new()
    };
    let missing: Vec<(PathBuf, BlobRef<'_>)> = candidates
        .iter()
        .filter(|h| !present.contains(**h))
        .filter_map(|h| blobs.get(*h).cloned())
        .collect();
    report.skipped_blobs = (blobs.len() - missing.len()) as u64;
    report.uploaded_blobs = missing.len() as u64;
    report.uploaded_bytes = missing.iter().map(|m| m.1.size).sum();
    if opts.dry_run {
        return Ok(report);
    }

    let pb: Arc<dyn crate::report::Task> = Arc::from(opts.reporter.task(
        "uploading",
        report.uploaded_bytes,
        crate::report::Unit::Bytes,
    ));
    let requests = Arc::new(AtomicU64::new(0));
    let results = futures::stream::iter(missing.into_iter().map(|(path, blob)| {
        let store = store.clone();
        let requests = requests.clone();
        let pb = pb.clone();
        async move {
            let data = tokio::fs::read(&path)
                .await
                .map_err(|e| Error::io(&path, e))?;
            check_bytes(&path, &data, blob)?;
            let created = upload_blob(&store, blob, Bytes::from(data), &requests).await?;
            pb.inc(blob.size);
            Ok::<_, Error>((created, blob.size))
        }
    }))
    .buffer_unordered(store.concurrency())
    // The first failure stops the publish: in-flight uploads are dropped.
    .try_collect::<Vec<(Created, u64)>>()
    .await;
    pb.finish();
    report.requests += requests.swap(0, Ordering::Relaxed);
    let created: Vec<u64> = results?
        .into_iter()
        .filter(|(c, _)| *c == Created::Created)
        .map(|(_, size)| size)
        .collect();
    report.uploaded_blobs = created.len() as u64;
    report.uploaded_bytes = created.iter().sum();
    // Blobs the store turned out to hold already (found by a create-only upload).
    report.skipped_blobs = blobs.len() as u64 - report.uploaded_blobs;
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
            let (present, lookups) = present_blobs(store, unsupplied.clone()).await?;
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
            let skipped: Vec<&str> = blobs
                .keys()
                .map(String::as_str)
                .filter(|h| known.contains(*h))
                .collect();
            let (present, lookups) = present_blobs(store, skipped.clone()).await?;
            report.requests += lookups;
            for h in skipped.into_iter().filter(|h| !present.contains(*h)) {
                if let Some((path, blob)) = blobs.get(h) {
                    let data = tokio::fs::read(path)
                        .await
                        .map_err(|e| Error::io(path, e))?;
                    check_bytes(path, &data, *blob)?;
                    let c = upload_blob(store, *blob, Bytes::from(data), &requests).await?;
                    if c == Created::Created {
                        report.uploaded_blobs += 1;
                        report.uploaded_bytes += blob.size;
                        report.skipped_blobs = report.skipped_blobs.saturating_sub(1);
                    }
                }
            }
            report.requests += requests.swap(0, Ordering::Relaxed);
        }
    }

    // The index, last and create-only.
    let idx = VersionIndex {
        schema: schema::schema_for(&m.files, false),
        version: version.to_string(),
        created_at: crate::clock::now_string(),
        created_by: opts.actor.clone(),
        source: Source {
            git: match git {
                Some(task) => task.await.ok().flatten(),
                None => opts.git.clone(),
            },
        },
        tool: crate::TOOL.to_string(),
        digest: m.digest.clone(),
        totals: Totals {
            files: report.files,
            bytes: report.bytes,
        },
        enc_digest: m.enc_digest.clone(),
        files: m.files.clone(),
        shards: None,
    };
    // Shards of a large version the base does not share (each one request), then
    // the index.
    let written = index::write(store, &idx, None, &known_shards).await?;
    report.requests += 1 + written.shard_puts;
    match written.created {
        Created::Created => {
            if let Some(c) = &opts.index_cache {
                // Immutable once written: the next publish need not read it.
                c.put(
                    version,
                    written.size,
                    blobs.keys().map(String::as_str),
                    &written.shards,
                );
            }
            Ok(report)
        }
        Created::AlreadyExists => {
            // Someone published the same version at the same time.
            report.requests += 1;
            let existing = index::require(store, version).await?;
            check_same(version, &existing.digest, &m.digest)?;
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

/// Which of `hashes` the store already has, and how many requests it took.
pub(crate) async fn present_blobs(
    store: &Store,
    hashes: Vec<&str>,
) -> Result<(HashSet<String>, u64)> {
    let mut present = HashSet::new();
    if hashes.len() <= HEAD_LIMIT {
        let owned: Vec<String> = hashes.into_iter().map(str::to_string).collect();
        let found = futures::stream::iter(owned.into_iter().map(|h| {
            let store = store.clone();
            async move {
                let meta = store.head(&keys::blob(&h)).await?;
                Ok::<_, Error>((h, meta))
            }
        }))
        .buffer_unordered(store.concurrency())
        .try_collect::<Vec<_>>()
        .await?;
        let n = found.len() as u64;
        for (h, meta) in found {
            if meta.is_some() {
                present.insert(h);
            }
        }
        return Ok((present, n));
    }
    let listed = store.list(keys::BLOBS).await?;
    let pages = listed.len() as u64 / 1000 + 1;
    let wanted: HashSet<&str> = hashes.into_iter().collect();
    for meta in listed {
        if let Some(name) = meta.location.filename() {
            if wanted.contains(name) {
                present.insert(name.to_string());
            }
        }
    }
    Ok((present, pages))
}

/// Uploads one blob create-only; an existing blob is accepted after a size check.
/// On stores with attributes (S3…), the object carries the file's `Content-Type`,
/// an immutable `Cache-Control` and, for a variant, its `Content-Encoding`, so a
/// CDN in front of the bucket can serve it as it is.
pub(crate) async fn upload_blob(
    store: &Store,
    blob: BlobRef<'_>,
    data: Bytes,
    requests: &AtomicU64,
) -> Result<Created> {
    let key = keys::blob(blob.hash);
    let attrs = Attrs {
        content_type: Some(blob.content_type.to_string()),
        cache_control: Some(CacheClass::Immutable.header().into()),
        content_encoding: blob.coding.map(|c| c.token().to_string()),
        ..Default::default()
    };
    let size = data.len() as u64;
    requests.fetch_add(1, Ordering::Relaxed);
    match store.put_create_large(&key, data, &attrs).await? {
        Created::Created => Ok(Created::Created),
        Created::AlreadyExists => {
            requests.fetch_add(1, Ordering::Relaxed);
            match store.head(&key).await? {
                Some(m) if m.size == size => Ok(Created::AlreadyExists),
                Some(m) => Err(Error::Integrity(format!(
                    "{key} exists with size {} but should have {size} bytes; run `sitevault verify` and `sitevault gc`",
                    m.size
                ))),
                None => Err(Error::Conflict(format!(
                    "{key}: reported as existing, then not found (a gc running at the same time?); retry the publish"
                ))),
            }
        }
    }
}

/// The git commit to record: `SITEVAULT_GIT_SHA`, CI variables, or `git rev-parse HEAD`.
pub fn detect_git() -> Option<String> {
    for v in ["SITEVAULT_GIT_SHA", "GITHUB_SHA", "CI_COMMIT_SHA"] {
        if let Ok(s) = std::env::var(v) {
            if !s.is_empty() {
                return Some(s);
            }
        }
    }
    let o = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| s.len() >= 7)
}
