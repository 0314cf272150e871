//! Walking the source folder: hidden files skipped (except `.well-known/`), exclude
//! globs applied, symlinks followed only while they stay inside the source folder.

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
/// `warnings`; symlink loops and symlinks leaving `src` are errors.
pub fn walk(src: &Path, exclude: &GlobSet, warnings: &mut Vec<String>) -> Result<Vec<SourceFile>> {
    let root = src.canonicalize().map_err(|e| Error::io(src, e))?;
    let mut files = Vec::new();
    let it = walkdir::WalkDir::new(src)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0 || {
                let name = e.file_name().to_string_lossy();
                !name.starts_with('.') || name == ".well-known"
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
        files.push(SourceFile {
            rel,
            abs: entry.path().to_path_buf(),
        });
    }
    Ok(files)
}
