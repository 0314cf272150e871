//! The build's output as publish reads it: `dist/.sitevault/manifest.json` checked
//! against the files (paths, hashes, digests, nothing unlisted), and where each
//! blob's bytes are in the folder.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::schema::{self, BlobRef, BuildManifest, Coding};

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
    let (m, walked) = rayon::join(|| parse_manifest(dist), || dist_files(dist, None));
    let m = m?;
    verify_manifest(dist, &m, walked)?;
    schema::check_sizes(&m.files).map_err(|msg| rebuild(dist, &msg))?;
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

/// The build manifest with what must hold before any of its files is read or any
/// store key is made from it: its schema, safe public paths, blake3 hashes (files
/// and variants). [`verify_manifest`] checks the rest.
pub(crate) fn parse_manifest(dist: &Path) -> Result<BuildManifest> {
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
    schema::check_variant_hashes(&m.files)
        .map_err(|msg| Error::input(format!("{}: {msg}", mpath.display())))?;
    Ok(m)
}

/// The rest of the manifest's checks but one: its digests match its files, and the
/// folder (`walked`, from [`dist_files`]) holds nothing it does not list (a listed
/// file's precompressed sidecars are listed with it). That each blob has one size is
/// checked where the blobs are mapped ([`dist_blobs`]), or by [`read_dist`].
pub(crate) fn verify_manifest(
    dist: &Path,
    m: &BuildManifest,
    walked: Result<Vec<String>>,
) -> Result<()> {
    let (digest, enc_digest) = schema::digests(&m.files);
    if digest != m.digest {
        return Err(rebuild(dist, "digest does not match its files"));
    }
    // The variants' hashes were checked by `parse_manifest`.
    if enc_digest != m.enc_digest {
        return Err(rebuild(dist, schema::ENC_DIGEST_MISMATCH));
    }
    // Looked up by hash: paths share long prefixes, which a tree compares again at
    // every level, and a sidecar is looked up three times.
    let files: crate::fasthash::HashMap<&str, &schema::FileEntry> =
        m.files.iter().map(|(p, e)| (p.as_str(), e)).collect();
    let listed = |public: &str| {
        files.contains_key(public)
            || Coding::ALL.iter().any(|c| {
                public
                    .strip_suffix(c.suffix())
                    .and_then(|p| files.get(p))
                    .is_some_and(|e| e.enc.get(*c).is_some())
            })
    };
    if let Some(public) = walked?.into_iter().find(|p| !listed(p)) {
        return Err(Error::input(format!(
            "{}: not in the build manifest (added after the build?); rebuild with `sitevault build`",
            dist.join(&public[1..]).display()
        )));
    }
    Ok(())
}

/// The dist's blobs by hash, each blob with one size (see [`schema::blobs_checked`]).
pub(super) fn dist_blobs<'a>(dist: &Path, m: &'a BuildManifest) -> Result<super::Blobs<'a>> {
    schema::blobs_checked(&m.files).map_err(|msg| rebuild(dist, &msg))
}

/// A fault of the build manifest that a new build repairs.
fn rebuild(dist: &Path, msg: &str) -> Error {
    let mpath = dist.join(schema::MANIFEST_PATH);
    Error::input(format!(
        "{}: {msg}; rebuild with `sitevault build`",
        mpath.display()
    ))
}

/// Where a blob's bytes are in dist/: the file, or its `.br`/`.gz` sidecar.
pub(super) fn blob_path(dist: &Path, public: &str, b: BlobRef<'_>) -> PathBuf {
    match b.coding {
        None => dist.join(&public[1..]),
        Some(c) => dist.join(format!("{}{}", &public[1..], c.suffix())),
    }
}

/// Refuses bytes that are not the blob the manifest names (hash and size).
pub(super) fn check_bytes(path: &Path, data: &[u8], blob: BlobRef<'_>) -> Result<()> {
    if data.len() as u64 != blob.size || blake3::hash(data).to_hex().as_str() != blob.hash {
        return Err(Error::input(format!(
            "{}: does not match the build manifest (changed after the build?); rebuild with `sitevault build`",
            path.display()
        )));
    }
    Ok(())
}

/// Every file under `dist` but its `.sitevault/` folder, as a public path (`/a/b.css`),
/// but those in folders the build recorded (in the record at `dirs_record`) and
/// nothing changed since (see [`crate::dirstamp`]): those hold only what the build
/// wrote, all listed. Each folder's public path is carried down with it: no path is
/// made relative to `dist` again. Links are not followed (a link is neither a file
/// nor a folder here).
pub(crate) fn dist_files(dist: &Path, dirs_record: Option<&Path>) -> Result<Vec<String>> {
    let record = dirs_record
        .map(crate::dirstamp::Record::read)
        .unwrap_or_default();
    let mut out = Vec::new();
    // Folders still to look at, each as a path relative to `dist` (empty for `dist`).
    let mut todo: Vec<String> = vec![String::new()];
    while let Some(rel) = todo.pop() {
        if let Some(children) = record.unchanged(dist, &rel) {
            todo.extend(children.iter().cloned());
            continue;
        }
        let dir = dist.join(&rel);
        let fail = |e: std::io::Error| Error::input(format!("{}: {e}", dir.display()));
        for entry in std::fs::read_dir(&dir).map_err(fail)? {
            let entry = entry.map_err(fail)?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if rel.is_empty() && name == ".sitevault" {
                continue;
            }
            let kind = entry.file_type().map_err(fail)?;
            let mut path = String::with_capacity(rel.len() + 1 + name.len());
            path.push_str(&rel);
            if !rel.is_empty() {
                path.push('/');
            }
            path.push_str(&name);
            if kind.is_dir() {
                todo.push(path);
            } else if kind.is_file() {
                path.insert(0, '/');
                out.push(path);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dist_files_are_public_paths_without_the_top_sitevault_folder() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        for f in [
            "index.html",
            "a/b/c.css",
            ".sitevault/manifest.json",
            "a/.sitevault/x.js",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("index.html"), root.join("a/link.html")).unwrap();
        let mut got = dist_files(root, None).unwrap();
        got.sort();
        assert_eq!(got, ["/a/.sitevault/x.js", "/a/b/c.css", "/index.html"]);
        assert!(dist_files(&root.join("missing"), None).is_err());
    }
}
