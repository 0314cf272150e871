//! The build's output: the folder checks, `version.json`, whether OUT already holds this
//! build, and writing to a temporary folder swapped in by [`crate::outdir`].

use super::{compress, kinds};
use crate::schema::{CacheClass, Encodings, FileEntry, FileMap, Variant};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{fingerprint, Input};
use crate::error::{Error, Result};
use crate::outdir::absolute;
use crate::schema::{self, BuildManifest};

/// `version.json`: `built_at` comes from `SOURCE_DATE_EPOCH` when set, else from the
/// newest input modification time, so that rebuilding the same checkout gives the
/// same bytes.
pub(super) fn version_json(
    version: Option<&str>,
    digest: &str,
    files: usize,
    inputs: &[Input],
    src: &Path,
) -> Vec<u8> {
    let built_at = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .or_else(|| {
            // On the pool's threads: one `stat` per input (6,899 on the npm corpus) was
            // a serial stretch of the build's end.
            inputs
                .par_iter()
                .filter_map(|i| std::fs::metadata(src.join(&i.rel)).ok()?.modified().ok())
                .max()
                .map(chrono::DateTime::<chrono::Utc>::from)
        })
        .unwrap_or_else(crate::clock::now);
    let mut v = serde_json::Map::new();
    if let Some(ver) = version {
        v.insert("version".into(), ver.into());
    }
    v.insert("build".into(), digest.into());
    v.insert("built_at".into(), crate::clock::format(built_at).into());
    v.insert("files".into(), files.into());
    serde_json::to_vec(&serde_json::Value::Object(v)).unwrap_or_default()
}

pub(super) fn check_folders(src: &Path, out: &Path) -> Result<()> {
    if !src.is_dir() {
        return Err(Error::input(format!(
            "{}: source folder not found (pass SRC or set [build] src in store.toml)",
            src.display()
        )));
    }
    let s = absolute(src)?;
    let o = absolute(out)?;
    if o.starts_with(&s) {
        return Err(Error::input(format!(
            "output folder {} is inside the source folder {}; choose an output outside it",
            out.display(),
            src.display()
        )));
    }
    if s.starts_with(&o) {
        return Err(Error::input(format!(
            "source folder {} is inside the output folder {}, which the build replaces; choose another output",
            src.display(),
            out.display()
        )));
    }
    Ok(())
}

/// True when OUT already holds exactly this build: the same manifest, and every file
/// with the listed size and not modified after the manifest was written (the
/// make/rsync rule). A no-change rebuild then writes nothing.
pub(super) fn unchanged_output(out: &Path, manifest: &BuildManifest) -> bool {
    let mpath = out.join(schema::MANIFEST_PATH);
    let Ok(meta) = std::fs::metadata(&mpath) else {
        return false;
    };
    let Ok(written) = meta.modified() else {
        return false;
    };
    let Ok(old) = std::fs::read(&mpath) else {
        return false;
    };
    let Ok(old) = serde_json::from_slice::<BuildManifest>(&old) else {
        return false;
    };
    if old.digest != manifest.digest || old.files != manifest.files {
        return false;
    }
    let same = |rel: &str, size: u64| {
        std::fs::metadata(out.join(rel))
            .map(|m| {
                m.is_file()
                    && m.len() == size
                    && m.modified().map(|t| t <= written).unwrap_or(false)
            })
            .unwrap_or(false)
    };
    let listed = manifest.files.par_iter().all(|(p, e)| {
        same(&p[1..], e.size)
            && e.enc
                .iter()
                .all(|(c, v)| same(&format!("{}{}", &p[1..], c.suffix()), v.size))
    });
    let expected: usize = manifest
        .files
        .values()
        .map(|e| 1 + e.enc.iter().count())
        .sum();
    // Nothing else may be there either.
    listed
        && walkdir::WalkDir::new(out)
            .into_iter()
            .filter_entry(|e| e.depth() != 1 || e.file_name() != ".sitevault")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .count()
            == expected
}

pub(super) fn write_output(
    outdir: &crate::outdir::OutDir,
    outputs: &[fingerprint::Output],
    variants: &[compress::Variants],
    version_json: &[u8],
    manifest: &BuildManifest,
    dirs_record: Option<&Path>,
) -> Result<()> {
    let previous = outdir.previous();
    let tmp = outdir.temp()?;
    let result = (|| -> Result<()> {
        let mut dirs: Vec<PathBuf> = Vec::with_capacity(outputs.len());
        for o in outputs {
            let p = crate::outdir::safe_join(&tmp, &o.out)?;
            if let Some(d) = p.parent() {
                dirs.push(d.to_path_buf());
            }
        }
        dirs.sort();
        dirs.dedup();
        for d in &dirs {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
        }
        outputs.par_iter().zip(variants).try_for_each(|(o, vs)| {
            let p = crate::outdir::safe_join(&tmp, &o.out)?;
            previous
                .place(&p, &o.out, &o.bytes)
                .map_err(|e| Error::io(&p, e))?;
            // Sidecars (`app.js.br`, `app.js.gz`) for the variants the manifest kept,
            // so nginx's gzip_static/brotli_static can serve dist/ as it is.
            let entry = manifest.files.get(&format!("/{}", o.out));
            for (c, bytes) in vs {
                if entry.and_then(|e| e.enc.get(*c)).is_none() {
                    continue;
                }
                let name = format!("{}{}", o.out, c.suffix());
                let p = crate::outdir::safe_join(&tmp, &name)?;
                previous
                    .place(&p, &name, bytes)
                    .map_err(|e| Error::io(&p, e))?;
            }
            Ok::<_, Error>(())
        })?;
        let vj = tmp.join("version.json");
        crate::outdir::write_new(&vj, version_json).map_err(|e| Error::io(&vj, e))?;
        let mp = tmp.join(schema::MANIFEST_PATH);
        let mut json =
            serde_json::to_vec_pretty(manifest).map_err(|e| Error::input(e.to_string()))?;
        json.push(b'\n');
        crate::outdir::write_new(&mp, &json).map_err(|e| Error::io(&mp, e))?;
        // Every folder this build made holds only what it wrote: recorded (in the
        // cache) so that publish lists only the folders changed since (`dirstamp`).
        if let Some(dest) = dirs_record {
            let mut folders: Vec<String> = outputs
                .iter()
                .flat_map(|o| {
                    let out = o.out.as_str();
                    out.match_indices('/')
                        .map(move |(i, _)| out[..i].to_string())
                })
                .collect();
            folders.sort_unstable();
            folders.dedup();
            crate::dirstamp::record(&tmp, &folders, dest);
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    outdir.swap(&tmp)
}

/// Stage 5: the files map (each output's hash, size, type and cache class), then
/// `version.json` and the manifest that lists both.
pub(super) fn manifest_of(
    opts: &super::BuildOptions,
    inputs: &[Input],
    outputs: &[fingerprint::Output],
    nodes: &[super::fingerprint::Node],
    variants: &[compress::Variants],
) -> Result<(BuildManifest, Vec<u8>, String)> {
    let mut files_map = FileMap::new();
    let lower: std::collections::HashSet<String> =
        outputs.iter().map(|o| o.out.to_lowercase()).collect();
    for ((o, n), vs) in outputs.iter().zip(nodes).zip(variants) {
        let key = format!("/{}", o.out);
        let mut enc = Encodings::default();
        for (c, bytes) in vs {
            // A site file already named like the sidecar wins (compared without case,
            // for case-insensitive file systems), and a sidecar name must fit in 255 bytes.
            let side = format!("{}{}", o.out, c.suffix());
            let base = side.rsplit('/').next().unwrap_or(&side);
            if lower.contains(side.to_lowercase().as_str()) || base.len() > 255 {
                continue;
            }
            enc.set(
                *c,
                Variant {
                    hash: blake3::hash(bytes).to_hex().to_string(),
                    size: bytes.len() as u64,
                },
            );
        }
        let entry = FileEntry {
            hash: o.hash.to_hex().to_string(),
            size: o.bytes.len() as u64,
            content_type: kinds::content_type(&o.out),
            cache: if n.fingerprint {
                CacheClass::Immutable
            } else {
                CacheClass::Revalidate
            },
            enc,
        };
        if files_map.insert(key.clone(), entry).is_some() {
            return Err(Error::input(format!(
                "{key}: two site files end up with the same output name; rename one of them"
            )));
        }
    }
    let build_digest = schema::digest(&files_map);
    let version_json = version_json(
        opts.version.as_deref(),
        &build_digest,
        files_map.len() + 1,
        inputs,
        &opts.src,
    );
    files_map.insert(
        "/version.json".into(),
        FileEntry {
            hash: blake3::hash(&version_json).to_hex().to_string(),
            size: version_json.len() as u64,
            content_type: "application/json".into(),
            cache: CacheClass::Revalidate,
            enc: Encodings::default(),
        },
    );
    check_file_folder_clashes(&files_map)?;
    let (digest, enc_digest) = schema::digests(&files_map);
    let manifest = BuildManifest {
        schema: schema::schema_for(&files_map, false),
        tool: crate::TOOL.to_string(),
        digest,
        enc_digest,
        files: files_map,
    };
    Ok((manifest, version_json, build_digest))
}

/// A name that is both a file and a folder of other files cannot be written: a site
/// folder named `version.json/`, or `app.js.gz/` beside `app.js`'s gzip sidecar, or
/// `a.3f9a1c2b7e.css/` beside the fingerprinted `a.css`.
fn check_file_folder_clashes(files: &schema::FileMap) -> Result<()> {
    let mut names: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (p, e) in files {
        names.insert(p.clone());
        for (c, _) in e.enc.iter() {
            names.insert(format!("{p}{}", c.suffix()));
        }
    }
    for n in &names {
        let mut at = 0;
        while let Some(i) = n[at + 1..].find('/') {
            let folder = &n[..at + 1 + i];
            if names.contains(folder) {
                return Err(Error::input(format!(
                    "{folder}: the build writes a file of this name and a folder of it holds {n}; \
                     rename the site folder"
                )));
            }
            at += 1 + i;
        }
    }
    Ok(())
}
