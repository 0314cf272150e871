//! `sitevault diff A B`: what a release changes, before it goes out. Either side is a
//! published version or a built `dist/` folder; the report lists files added,
//! removed and changed, and what publishing B would upload to the store.

use std::path::PathBuf;

use serde::Serialize;

use super::plan::{diff_files, FileDiff};
use super::{index, present_blobs, read_dist_listed};
use crate::error::{Error, Result};
use crate::schema::FileMap;
use crate::store::Store;

/// One side of a diff.
#[derive(Debug, Clone, PartialEq)]
pub enum Side {
    /// A published version (hot).
    Version(String),
    /// The output folder of `sitevault build`.
    Dist(PathBuf),
}

impl Side {
    fn name(&self) -> String {
        match self {
            Side::Version(v) => v.clone(),
            Side::Dist(p) => p.display().to_string(),
        }
    }
}

/// What `diff` found.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// The first side (a version id or a folder).
    pub from: String,
    /// The second side.
    pub to: String,
    /// Files added, removed, changed and unchanged, and the blobs of `to` that `from`
    /// does not name.
    #[serde(flatten)]
    pub files: FileDiff,
    /// Blobs a publish of `to` would upload: those the store does not hold (0 when
    /// `to` is a published version).
    pub upload_blobs: u64,
    /// Their bytes.
    pub upload_bytes: u64,
    /// Store requests made.
    pub requests: u64,
}

/// Compares `from` with `to` (see the module docs).
pub async fn diff(store: &Store, from: &Side, to: &Side) -> Result<DiffReport> {
    let mut requests = 0;
    let a = load(store, from, &mut requests).await?;
    let b = load(store, to, &mut requests).await?;
    let files = diff_files(&a, &b);
    let (mut upload_blobs, mut upload_bytes) = (0, 0);
    if let Side::Dist(_) = to {
        // Blobs a hot version names are in the store; ask the store about the rest.
        let known = match from {
            Side::Version(_) => crate::schema::blobs_of(&a),
            Side::Dist(_) => Default::default(),
        };
        let mut sizes = std::collections::BTreeMap::new();
        for (h, (_, blob)) in crate::schema::blobs_of(&b) {
            if !known.contains_key(h) {
                sizes.insert(h, blob.size);
            }
        }
        let (present, lookups) =
            present_blobs(store, sizes.iter().map(|(h, n)| (*h, *n)).collect()).await?;
        requests += lookups;
        for (h, size) in sizes {
            if !present.contains(h) {
                upload_blobs += 1;
                upload_bytes += size;
            }
        }
    }
    Ok(DiffReport {
        from: from.name(),
        to: to.name(),
        files,
        upload_blobs,
        upload_bytes,
        requests,
    })
}

async fn load(store: &Store, side: &Side, requests: &mut u64) -> Result<FileMap> {
    match side {
        Side::Version(v) => {
            *requests += 1;
            Ok(index::require(store, v).await?.files)
        }
        Side::Dist(p) => {
            let p = p.clone();
            let m = tokio::task::spawn_blocking(move || read_dist_listed(&p))
                .await
                .map_err(|e| Error::Internal(format!("reading a dist folder: {e}")))??;
            Ok(m.files)
        }
    }
}
