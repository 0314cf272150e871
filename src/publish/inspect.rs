//! Reading versions back: `versions` (list), `verify` (every blob re-hashed) and
//! `pull` (materialise a version into a folder).

use std::collections::BTreeMap;
use std::path::Path;

use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use super::index::{self, VersionIndex};
use crate::error::{Error, Result};
use crate::schema::BlobRef;
use crate::store::{keys, Store};

/// One line of `sitevault versions`.
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    /// Version id.
    pub version: String,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// Files.
    pub files: u64,
    /// Bytes.
    pub bytes: u64,
    /// `hot` or `archived`.
    pub state: String,
    /// Where the pack lives, for archived versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pack: Option<String>,
}

/// Every version in the store, oldest first.
pub async fn list_versions(store: &Store) -> Result<Vec<VersionInfo>> {
    let names = store.list_dirs(keys::VERSIONS).await?;
    let infos = futures::stream::iter(names.into_iter().map(|v| async move {
        if let Some(i) = index::load(store, &v).await? {
            return Ok::<_, Error>(Some(VersionInfo {
                version: v,
                created_at: i.created_at,
                files: i.totals.files,
                bytes: i.totals.bytes,
                state: "hot".into(),
                pack: None,
            }));
        }
        if let Some(s) = index::load_stub(store, &v).await? {
            return Ok(Some(VersionInfo {
                version: v,
                created_at: s.created_at,
                files: s.totals.files,
                bytes: s.totals.bytes,
                state: "archived".into(),
                pack: Some(format!("{}/{}", s.cold.trim_end_matches('/'), s.pack)),
            }));
        }
        Ok(None) // a killed publish: blobs only, no index
    }))
    .buffered(store.concurrency())
    .try_collect::<Vec<_>>()
    .await?;
    let mut out: Vec<VersionInfo> = infos.into_iter().flatten().collect();
    out.sort_by(|a, b| {
        a.created_at
            .cmp(&b.created_at)
            .then(a.version.cmp(&b.version))
    });
    Ok(out)
}

/// What `verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Version id.
    pub version: String,
    /// Distinct blobs checked.
    pub blobs: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Blobs that are missing (`hash`, first path using it).
    pub missing: Vec<(String, String)>,
    /// Blobs whose bytes do not hash to their name.
    pub corrupt: Vec<(String, String)>,
}

impl VerifyReport {
    /// True when every blob is present and intact.
    pub fn ok(&self) -> bool {
        self.missing.is_empty() && self.corrupt.is_empty()
    }
}

/// Every blob of a version (variants included) → a path that names it (a variant is
/// named by its sidecar, `/app.js.br`) and its size.
fn distinct_blobs(idx: &VersionIndex) -> BTreeMap<String, (String, u64)> {
    crate::schema::blobs_of(&idx.files)
        .into_iter()
        .map(|(h, (p, b))| {
            let name = match b.coding {
                Some(c) => format!("{p}{}", c.suffix()),
                None => p.to_string(),
            };
            (h.to_string(), (name, b.size))
        })
        .collect()
}

/// Re-hashes every blob of a version (concurrently, streamed).
///
/// A version that a channel references but whose index is gone (neither hot nor
/// archived) is an integrity failure, not "not published": the store lost data.
pub async fn verify(store: &Store, version: &str) -> Result<VerifyReport> {
    crate::ids::check_version(version)?;
    let idx = match index::load(store, version).await? {
        Some(idx) => idx,
        None if index::load_stub(store, version).await?.is_none() => {
            let refs = crate::retention::referenced_by_channels(store).await?;
            if let Some(by) = refs.get(version) {
                return Err(Error::Integrity(format!(
                    "version {version} is the {by} but versions/{version}/index.json is missing from {}: \
                     the store lost data; roll the channel to a healthy version (`sitevault rollback`) \
                     and republish {version} from its dist folder",
                    store.url()
                )));
            }
            index::require(store, version).await?
        }
        None => index::require(store, version).await?,
    };
    verify_index(store, &idx).await
}

/// [`verify`] for an index already in hand.
pub async fn verify_index(store: &Store, idx: &VersionIndex) -> Result<VerifyReport> {
    let blobs = distinct_blobs(idx);
    let results = futures::stream::iter(blobs.into_iter().map(|(hash, (path, size))| async move {
        let key = keys::blob(&hash);
        let Some(mut stream) = store.get_stream(&key).await? else {
            return Ok((hash, path, None, 0));
        };
        let mut h = blake3::Hasher::new();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            n += chunk.len() as u64;
            h.update(&chunk);
        }
        // A blob is good when it re-hashes to its name *and* has the size the
        // index promises (a wrong size would make serve cut every response short).
        let size_ok = size == n;
        Ok::<_, Error>((
            hash.clone(),
            path,
            Some(size_ok && h.finalize().to_hex().as_str() == hash),
            n,
        ))
    }))
    .buffer_unordered(store.concurrency())
    .try_collect::<Vec<_>>()
    .await?;
    let mut report = VerifyReport {
        version: idx.version.clone(),
        ..Default::default()
    };
    for (hash, path, ok, n) in results {
        report.blobs += 1;
        report.bytes += n;
        match ok {
            None => report.missing.push((hash, path)),
            Some(false) => report.corrupt.push((hash, path)),
            Some(true) => {}
        }
    }
    report.missing.sort();
    report.corrupt.sort();
    Ok(report)
}

/// Writes every file of a version into `out` (replaced as a whole), verifying each blob.
/// `out` must neither be nor contain the store's folder or any folder in `protect`
/// (the config's other `file://` stores, the build cache): replacing it would delete them.
pub async fn pull(
    store: &Store,
    version: &str,
    out: &Path,
    protect: &[std::path::PathBuf],
) -> Result<(u64, u64)> {
    let idx = index::require(store, version).await?;
    let guarded: Vec<(&Path, &str)> = store
        .local_root()
        .map(|r| (r, "the store's folder"))
        .into_iter()
        .chain(protect.iter().map(|p| {
            (
                p.as_path(),
                "a folder sitevault keeps (a store or the build cache)",
            )
        }))
        .collect();
    let outdir = crate::outdir::check(out, &guarded)?;
    let tmp = outdir.temp()?;
    let result = async {
        for p in idx.files.keys() {
            crate::schema::check_public_path(p)
                .map_err(|m| Error::Integrity(format!("index of {version}: {m}")))?;
        }
        // Each file and its precompressed sidecars, as build wrote them.
        let all: Vec<(String, BlobRef<'_>)> = idx
            .files
            .iter()
            .flat_map(|(p, e)| {
                e.blobs().map(move |b| match b.coding {
                    Some(c) => (format!("{p}{}", c.suffix()), b),
                    None => (p.clone(), b),
                })
            })
            .collect();
        let results = futures::stream::iter(all.iter().map(|(p, b)| {
            let tmp = tmp.clone();
            async move {
                let key = keys::blob(b.hash);
                let data = store.get(&key).await?.ok_or_else(|| {
                    Error::Integrity(format!("{p}: blob {key} is missing from the store; run `sitevault verify {version}`"))
                })?;
                if blake3::hash(&data).to_hex().as_str() != b.hash {
                    return Err(Error::Integrity(format!("{p}: blob {key} is corrupt (hash mismatch)")));
                }
                let dest = crate::outdir::safe_join(&tmp, &p[1..])?;
                if let Some(d) = dest.parent() {
                    tokio::fs::create_dir_all(d).await.map_err(|err| Error::io(d, err))?;
                }
                tokio::fs::write(&dest, &data).await.map_err(|err| Error::io(&dest, err))?;
                Ok::<u64, Error>(data.len() as u64)
            }
        }))
        .buffer_unordered(store.concurrency())
        // Every write runs to its end (tokio's file writes go on in a blocking thread
        // even when their future is dropped): only then can a failed pull remove its
        // temporary folder for good.
        .collect::<Vec<Result<u64>>>()
        .await;
        results.into_iter().sum::<Result<u64>>()
    }
    .await;
    let bytes = match result {
        Ok(b) => b,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    outdir.swap(&tmp)?;
    Ok((idx.files.len() as u64, bytes))
}
