//! Walking the source folder: hidden files skipped (except `.well-known/`), exclude
//! globs applied, symlinks followed only while they stay inside the source folder.

use rayon::prelude::*;

use super::kinds::{self, FileClass};
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::{Error, Result};

/// One file of the site.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the source folder, `/`-separated, no leading slash.
    pub rel: String,
    /// Path on disk.
    pub abs: PathBuf,
}

/// Builds a glob set; patterns without `/` match a file name at any depth.
pub fn globs(patterns: &[String], what: &str) -> Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let pat = if p.contains('/') {
            p.clone()
        } else {
            format!("**/{p}")
        };
        let g = Glob::new(&pat)
            .map_err(|e| Error::input(format!("{what}: invalid glob {p:?}: {e}")))?;
        b.add(g);
        if !p.contains('/') {
            b.add(
                Glob::new(p)
                    .map_err(|e| Error::input(format!("{what}: invalid glob {p:?}: {e}")))?,
            );
        }
    }
    b.build().map_err(|e| Error::input(format!("{what}: {e}")))
}

/// Lists the site's files in a stable order. Warnings (files that vanished) go to
/// `warnings`; symlink loops and symlinks leaving `src` are errors. Folders in `skip`
/// (the build cache, when it lies inside the site) are not walked.
pub fn walk(
    src: &Path,
    exclude: &GlobSet,
    skip: &[PathBuf],
    warnings: &mut Vec<String>,
) -> Result<Vec<SourceFile>> {
    let root = src.canonicalize().map_err(|e| Error::io(src, e))?;
    // The skipped folders as the walk spells them: under `src` as given.
    let skip: Vec<PathBuf> = skip
        .iter()
        .filter_map(|d| Some(src.join(d.canonicalize().ok()?.strip_prefix(&root).ok()?)))
        .collect();
    let mut files = Vec::new();
    let it = walkdir::WalkDir::new(src)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0 || {
                let name = e.file_name().to_string_lossy();
                (!name.starts_with('.') || name == ".well-known")
                    && !skip.iter().any(|s| s == e.path())
            }
        });
    for entry in it {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                if let Some(anc) = e.loop_ancestor() {
                    return Err(Error::input(format!(
                        "{path}: symlink loop (points back to {}); remove the link or add it to build.exclude",
                        anc.display()
                    )));
                }
                let dangling = e.path().and_then(|p| {
                    let meta = std::fs::symlink_metadata(p).ok()?;
                    meta.file_type()
                        .is_symlink()
                        .then(|| std::fs::read_link(p).ok())?
                });
                if let Some(target) = dangling {
                    warnings.push(format!(
                        "{path}: dangling symlink (points to {}, which does not exist); skipped",
                        target.display()
                    ));
                    continue;
                }
                if e.io_error().map(|io| io.kind()) == Some(std::io::ErrorKind::NotFound) {
                    warnings.push(format!(
                        "{path}: vanished while the build was reading the folder; skipped"
                    ));
                    continue;
                }
                return Err(Error::input(format!("{path}: {e}")));
            }
        };
        if entry.path_is_symlink() {
            // A link to a file or a folder must stay inside the source folder.
            match entry.path().canonicalize() {
                Ok(real) if real.starts_with(&root) => {}
                Ok(real) => {
                    return Err(Error::input(format!(
                        "{}: symlink leaves the source folder (points to {}); copy the file into the site instead",
                        entry.path().display(),
                        real.display()
                    )))
                }
                Err(e) => {
                    warnings.push(format!("{}: {e}; skipped", entry.path().display()));
                    continue;
                }
            }
        }
        if entry.file_type().is_dir() {
            continue;
        }
        let rel_path = entry.path().strip_prefix(src).unwrap_or(entry.path());
        // Only Windows separates folders with a backslash; elsewhere it is part of a name
        // (refused later by the path check, never turned into a separator).
        let Some(rel) = rel_path.to_str().map(|s| {
            if cfg!(windows) {
                s.replace('\\', "/")
            } else {
                s.to_string()
            }
        }) else {
            return Err(Error::input(format!(
                "{}: file name is not valid UTF-8; rename it",
                entry.path().display()
            )));
        };
        if exclude.is_match(&rel) {
            continue;
        }
        if !entry.file_type().is_file() {
            // A named pipe would block the read forever; a socket or device is no
            // site file either (through a symlink: what it points to).
            warnings.push(format!(
                "{}: not a regular file (a named pipe, socket or device); skipped",
                entry.path().display()
            ));
            continue;
        }
        files.push(SourceFile {
            rel,
            abs: entry.path().to_path_buf(),
        });
    }
    Ok(files)
}

/// Stage 2: read every file; text must be UTF-8 (with `--keep-going` a file that is
/// not is copied as written). A file that vanished since the walk is skipped.
pub(super) fn read_inputs(
    opts: &super::BuildOptions,
    files: &[SourceFile],
    warnings: &mut Vec<String>,
) -> Result<Vec<super::Input>> {
    let read: Vec<std::result::Result<Option<super::Input>, Error>> = files
        .par_iter()
        .map(|f| {
            let bytes = match std::fs::read(&f.abs) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(Error::io(&f.abs, e)),
            };
            let mut class = FileClass::of(&f.rel);
            if class == FileClass::Js && kinds::is_asm_js(&bytes) {
                // asm.js: a minifier prints `+0.0` as `+0`, which makes it ordinary JS that
                // runs several times slower. Copied, like `*.min.js`.
                class = FileClass::JsMin;
            }
            // Minified already (a bundle, emscripten output): compressing again costs much
            // and gains little, but names may still be long (js::Effort::Light). A large
            // one whose names are short is copied.
            let mut packed = class == FileClass::Js && kinds::looks_minified(&bytes);
            if packed && bytes.len() > kinds::PACKED_TRY_MAX && !kinds::renaming_pays(&bytes) {
                class = FileClass::JsMin;
                packed = false;
            }
            let mut raw = None;
            if class.is_text() {
                if let Err(e) = std::str::from_utf8(&bytes) {
                    let valid = &bytes[..e.valid_up_to()];
                    let text = String::from_utf8_lossy(valid);
                    let (line, col) = crate::config::line_col(&text, text.len());
                    let msg = format!(
                        "{}:{line}:{col}: not valid UTF-8 text; save the file as UTF-8",
                        f.abs.display()
                    );
                    if !opts.keep_going {
                        return Err(Error::input(msg));
                    }
                    raw = Some(format!("{msg} (copied as written)"));
                }
            }
            Ok(Some(super::Input {
                rel: f.rel.clone(),
                class,
                bytes: bytes.into(),
                raw,
                packed,
            }))
        })
        .collect();
    let mut inputs = Vec::with_capacity(read.len());
    for (r, f) in read.into_iter().zip(files) {
        match r? {
            Some(i) => {
                warnings.extend(i.raw.clone());
                inputs.push(i)
            }
            None => warnings.push(format!(
                "{}: vanished while the build was reading it; skipped",
                f.abs.display()
            )),
        }
    }
    if inputs.iter().any(|i| i.rel == "version.json") {
        return Err(Error::input(format!(
            "{}: version.json is written by sitevault build; rename or exclude the site's own",
            opts.src.join("version.json").display()
        )));
    }
    Ok(inputs)
}
