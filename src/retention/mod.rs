//! Retention: versions stay hot for `hot_days`, then move to the cold store as one
//! verified pack each; `restore` brings one back; `gc` removes unreferenced blobs
//! after a grace period.
//!
//! Crash safety, step by step: the pack is written and read back before anything
//! hot changes; the stub (`archived.json`) is created before the hot index is
//! deleted; blobs go last, and only those no hot index references and older than
//! the grace period. A version is therefore always hot and complete, or archived
//! and restorable; rerunning finishes an interrupted run.

pub mod pack;
mod restore;

pub use restore::{restore, RestoreReport};

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::publish::index::{self, ArchivedStub, VersionIndex};
use crate::store::{keys, Attrs, Store};

/// Retention settings.
#[derive(Debug, Clone)]
pub struct RetentionOptions {
    /// Days a version stays hot.
    pub hot_days: u32,
    /// Newest N versions are never archived.
    pub keep_latest: usize,
    /// Unreferenced blobs younger than this stay.
    pub grace: Duration,
    /// Versions never archived.
    pub pinned: Vec<String>,
    /// S3 storage class for packs.
    pub storage_class: Option<String>,
    /// Plan only.
    pub dry_run: bool,
}

impl RetentionOptions {
    /// From the config's `[retention]` and `[cold]`.
    pub fn from_config(cfg: &crate::Config) -> Result<Self> {
        Ok(RetentionOptions {
            hot_days: cfg.retention.hot_days,
            keep_latest: cfg.retention.keep_latest,
            grace: crate::config::parse_duration(&cfg.retention.grace).map_err(Error::input)?,
            pinned: cfg.retention.pinned.clone(),
            storage_class: cfg.cold.storage_class.clone(),
            dry_run: false,
        })
    }
}

/// A version that stays hot, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    /// Version.
    pub version: String,
    /// Why it stays.
    pub reason: String,
}

/// A version to archive.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    /// Version.
    pub version: String,
    /// Creation time.
    pub created_at: String,
    /// Files.
    pub files: u64,
    /// Bytes.
    pub bytes: u64,
}

/// What `archive` does (or, with `--dry-run`, would do).
#[derive(Debug, Clone, Serialize, Default)]
pub struct ArchiveReport {
    /// Versions archived (or to archive).
    pub archived: Vec<Planned>,
    /// Versions kept hot, with the reason.
    pub kept: Vec<Kept>,
    /// Interrupted archives finished.
    pub finished: Vec<String>,
    /// Blobs deleted (or to delete).
    pub blobs_deleted: u64,
    /// Shared index shards deleted (or to delete).
    pub shards_deleted: u64,
    /// Bytes freed in the hot store.
    pub bytes_freed: u64,
    /// Bytes written to the cold store.
    pub packed_bytes: u64,
    /// Nothing was changed.
    pub dry_run: bool,
    /// Wall time, milliseconds.
    pub elapsed_ms: u128,
}

/// Versions any channel references (stable, canary, previous).
pub(crate) async fn referenced_by_channels(store: &Store) -> Result<BTreeMap<String, String>> {
    let mut refs = BTreeMap::new();
    for c in crate::channel::list(store).await? {
        let h = crate::channel::log::head(store, &c).await?;
        let s = h.record.map(|r| r.state).unwrap_or_default();
        if let Some(v) = &s.stable {
            refs.entry(v.clone())
                .or_insert(format!("stable of channel {c}"));
        }
        if let Some(k) = &s.canary {
            refs.entry(k.version.clone())
                .or_insert(format!("canary of channel {c}"));
        }
        for v in &s.previous {
            refs.entry(v.clone())
                .or_insert(format!("previous of channel {c}"));
        }
    }
    Ok(refs)
}

async fn hot_indexes(store: &Store) -> Result<Vec<(VersionIndex, bool)>> {
    let names = store.list_dirs(keys::VERSIONS).await?;
    let found = futures::stream::iter(names.into_iter().map(|v| {
        let store = store.clone();
        async move {
            let idx = index::load(&store, &v).await?;
            let stub = match idx {
                Some(_) => store.head(&keys::version_archived(&v)).await?.is_some(),
                None => false,
            };
            Ok::<_, Error>(idx.map(|i| (i, stub)))
        }
    }))
    .buffered(store.concurrency())
    .try_collect::<Vec<_>>()
    .await?;
    let mut out: Vec<(VersionIndex, bool)> = found.into_iter().flatten().collect();
    out.sort_by(|a, b| {
        a.0.created_at
            .cmp(&b.0.created_at)
            .then(a.0.version.cmp(&b.0.version))
    });
    Ok(out)
}

/// Archives every version older than `hot_days` that nothing protects.
pub async fn archive(hot: &Store, cold: &Store, opts: &RetentionOptions) -> Result<ArchiveReport> {
    let started = Instant::now();
    let now = crate::clock::now();
    let cutoff = now - chrono::Duration::days(opts.hot_days as i64);
    let refs = referenced_by_channels(hot).await?;
    let versions = hot_indexes(hot).await?;
    let newest: HashSet<String> = versions
        .iter()
        .rev()
        .take(opts.keep_latest)
        .map(|v| v.0.version.clone())
        .collect();
    let mut report = ArchiveReport {
        dry_run: opts.dry_run,
        ..Default::default()
    };
    let mut to_archive = Vec::new();
    for (idx, has_stub) in &versions {
        let v = &idx.version;
        let reason = if let Some(r) = refs.get(v) {
            Some(r.clone())
        } else if opts.pinned.contains(v) {
            Some("pinned in [retention] pinned".into())
        } else if newest.contains(v) {
            Some(format!("among the newest {}", opts.keep_latest))
        } else {
            let created = chrono::DateTime::parse_from_rfc3339(&idx.created_at)
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or(now);
            (created > cutoff).then(|| format!("younger than {} days", opts.hot_days))
        };
        match reason {
            Some(reason) => {
                if *has_stub && !opts.dry_run {
                    // An interrupted archive of a version that is protected now: keep it hot.
                    hot.delete(&keys::version_archived(v)).await?;
                }
                report.kept.push(Kept {
                    version: v.clone(),
                    reason,
                });
            }
            None => to_archive.push((idx.clone(), *has_stub)),
        }
    }
    for (idx, _) in &to_archive {
        report.archived.push(Planned {
            version: idx.version.clone(),
            created_at: idx.created_at.clone(),
            files: idx.totals.files,
            bytes: idx.totals.bytes,
        });
    }
    // Blobs that only archived versions use.
    let keep_blobs: HashSet<String> = versions
        .iter()
        .filter(|(i, _)| !to_archive.iter().any(|(a, _)| a.version == i.version))
        .flat_map(|(i, _)| i.kept_hashes())
        .collect();
    if opts.dry_run {
        let c = gc_candidates(hot, &keep_blobs, opts.grace).await?;
        report.blobs_deleted = c.blobs;
        report.shards_deleted = c.shards;
        report.bytes_freed = c.bytes;
        report.elapsed_ms = started.elapsed().as_millis();
        return Ok(report);
    }
    for (idx, has_stub) in &to_archive {
        let v = &idx.version;
        if !has_stub {
            report.packed_bytes += write_pack(hot, cold, idx, opts).await?;
            let stub = ArchivedStub {
                schema: 1,
                version: v.clone(),
                digest: idx.digest.clone(),
                archived_at: crate::clock::now_string(),
                pack: keys::pack(v),
                cold: cold.url().to_string(),
                totals: idx.totals,
                created_at: idx.created_at.clone(),
            };
            let body = crate::schema::to_json(&stub)?;
            hot.put_create(&keys::version_archived(v), Bytes::from(body), &json_attrs())
                .await?;
        } else {
            report.finished.push(v.clone());
        }
        // The stub exists: re-read every channel head. A channel change that wrote
        // its record before this read is seen here and wins (we back out); one that
        // writes after it sees the stub in its guard (channel/change.rs) and waits
        // for this decision.
        let refs_now = referenced_by_channels(hot).await?;
        if let Some(by) = refs_now.get(v) {
            hot.delete(&keys::version_archived(v)).await?;
            report.archived.retain(|p| p.version != *v);
            report.finished.retain(|f| f != v);
            report.kept.push(Kept {
                version: v.clone(),
                reason: format!("{by} (became referenced while archiving; backed out)"),
            });
            continue;
        }
        hot.delete(&keys::version_index(v)).await?;
        if let Some(s) = &idx.shards {
            crate::publish::shards::delete(hot, v, s).await?;
        }
    }
    // Blobs of every index hot now (a backed-out version's, a new publish's) stay.
    let keep_blobs = kept_by_hot(hot).await?;
    let c = gc_candidates(hot, &keep_blobs, opts.grace).await?;
    delete_blobs(hot, &c.keys).await?;
    report.blobs_deleted = c.blobs;
    report.shards_deleted = c.shards;
    report.bytes_freed = c.bytes;
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

pub(crate) fn json_attrs() -> Attrs {
    Attrs {
        content_type: Some("application/json".into()),
        ..Default::default()
    }
}

async fn write_pack(
    hot: &Store,
    cold: &Store,
    idx: &VersionIndex,
    opts: &RetentionOptions,
) -> Result<u64> {
    let v = &idx.version;
    // The pack carries the index whole (a large version's shards folded back in).
    let index_bytes = match &idx.shards {
        Some(_) => crate::schema::to_json(&idx.whole())?.into(),
        None => hot.get(&keys::version_index(v)).await?.ok_or_else(|| {
            Error::Integrity(format!("versions/{v}/index.json vanished while archiving"))
        })?,
    };
    let hashes: Vec<String> = idx.blob_hashes().into_iter().map(str::to_string).collect();
    let blobs: Vec<(String, Bytes)> = futures::stream::iter(hashes.into_iter().map(|h| {
        let hot = hot.clone();
        async move {
            let key = keys::blob(&h);
            let b = hot.get(&key).await?.ok_or_else(|| {
                Error::Integrity(format!(
                    "{v}: blob {key} is missing; cannot archive an incomplete version"
                ))
            })?;
            Ok::<_, Error>((h, b))
        }
    }))
    .buffered(hot.concurrency())
    .try_collect()
    .await?;
    let data = pack::write(&index_bytes, idx, &blobs);
    let size = data.len() as u64;
    let attrs = Attrs {
        content_type: Some("application/octet-stream".into()),
        storage_class: opts.storage_class.clone(),
        ..Default::default()
    };
    let key = keys::pack(v);
    cold.put_overwrite(&key, Bytes::from(data), &attrs).await?;
    // Read it back and verify before anything hot changes.
    match cold.get(&key).await {
        Ok(Some(back)) => {
            pack::read(back, &format!("{}/{key}", cold.url()))?;
        }
        Ok(None) => {
            return Err(Error::Integrity(format!(
                "{}/{key}: written but not found on read-back",
                cold.url()
            )))
        }
        // A storage class that cannot be read back at once (GLACIER): check the size.
        Err(e) if cold.is_frozen(&key, &e).await => match cold.head(&key).await? {
            Some(m) if m.size == size => {}
            _ => {
                return Err(Error::Integrity(format!(
                    "{}/{key}: size mismatch on read-back",
                    cold.url()
                )))
            }
        },
        Err(e) => return Err(e),
    }
    Ok(size)
}

/// Blobs and shared shards that every hot index needs (gc keeps them).
async fn kept_by_hot(hot: &Store) -> Result<HashSet<String>> {
    Ok(hot_indexes(hot)
        .await?
        .iter()
        .flat_map(|(i, _)| i.kept_hashes().collect::<Vec<_>>())
        .collect())
}

/// What gc would delete.
struct Candidates {
    keys: Vec<String>,
    blobs: u64,
    shards: u64,
    bytes: u64,
}

/// Blobs, and shared shards (`shards/<blake3>.json`), that `keep` does not name and
/// that are older than `grace`. A schema-2 shard (`shards/<version>/…`) is its
/// version's own and goes when that version is archived, never here.
async fn gc_candidates(hot: &Store, keep: &HashSet<String>, grace: Duration) -> Result<Candidates> {
    let limit = crate::clock::now() - chrono::Duration::from_std(grace).unwrap_or_default();
    let mut c = Candidates {
        keys: Vec::new(),
        blobs: 0,
        shards: 0,
        bytes: 0,
    };
    for m in hot.list(keys::BLOBS).await? {
        let Some(name) = m.location.filename() else {
            continue;
        };
        if keep.contains(name) || m.last_modified > limit {
            continue;
        }
        c.bytes += m.size;
        c.blobs += 1;
        c.keys.push(m.location.to_string());
    }
    for m in hot.list(keys::SHARDS).await? {
        let key = m.location.to_string();
        let Some(hash) = crate::publish::shards::shared_hash(&key) else {
            continue;
        };
        if keep.contains(hash) || m.last_modified > limit {
            continue;
        }
        c.bytes += m.size;
        c.shards += 1;
        c.keys.push(key);
    }
    Ok(c)
}

async fn delete_blobs(hot: &Store, keys: &[String]) -> Result<()> {
    hot.delete_many(keys.to_vec()).await
}

/// What `gc` did.
#[derive(Debug, Clone, Serialize)]
pub struct GcReport {
    /// Blobs deleted (or to delete).
    pub blobs_deleted: u64,
    /// Shared index shards deleted (or to delete): no hot version names them.
    pub shards_deleted: u64,
    /// Bytes freed.
    pub bytes_freed: u64,
    /// Nothing was changed.
    pub dry_run: bool,
}

/// Deletes blobs that no hot index references and that are older than the grace period.
pub async fn gc(hot: &Store, grace: Duration, dry_run: bool) -> Result<GcReport> {
    let keep = kept_by_hot(hot).await?;
    let c = gc_candidates(hot, &keep, grace).await?;
    if !dry_run {
        delete_blobs(hot, &c.keys).await?;
    }
    Ok(GcReport {
        blobs_deleted: c.blobs,
        shards_deleted: c.shards,
        bytes_freed: c.bytes,
        dry_run,
    })
}

/// The S3 lifecycle rule equivalent to the configuration (for buckets that should
/// also enforce it): aborts stale multipart uploads and expires `tmp/`.
pub fn lifecycle_json(opts: &RetentionOptions) -> serde_json::Value {
    serde_json::json!({
        "Rules": [
            {
                "ID": "sitevault-abort-incomplete-multipart",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}
            },
            {
                "ID": "sitevault-expire-tmp",
                "Status": "Enabled",
                "Filter": {"Prefix": "tmp/"},
                "Expiration": {"Days": 1}
            },
            {
                "ID": "sitevault-packs-storage-class",
                "Status": if opts.storage_class.is_some() { "Enabled" } else { "Disabled" },
                "Filter": {"Prefix": format!("{}/", keys::PACKS)},
                "Transitions": [{"Days": 0, "StorageClass": opts.storage_class.clone().unwrap_or_else(|| "GLACIER_IR".into())}]
            }
        ],
        "Note": format!(
            "sitevault archives versions older than {} days itself (keeping channel references, the newest {} and pinned versions); a bucket rule cannot see those references, so it only covers multipart leftovers, tmp/ and the packs' storage class",
            opts.hot_days, opts.keep_latest
        )
    })
}
