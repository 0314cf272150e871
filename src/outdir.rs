//! The output folder of `build` and `pull`: decide whether it may be replaced, write into
//! a temporary folder next to it, then swap. Only a folder that is absent, empty, or
//! carries sitevault's marker is ever replaced; the source folder, the working directory,
//! their parents and store folders never are.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// The marker file, written by both `build` and `pull` into every output folder.
pub(crate) const MARKER: &str = ".sitevault/output";
/// What the marker says.
const MARKER_TEXT: &str =
    "This folder was written by sitevault (build or pull); the next build or pull into it replaces it.\n";

/// An output folder checked for replacement.
#[derive(Debug, Clone)]
pub(crate) struct OutDir {
    /// The folder, absolute.
    pub(crate) abs: PathBuf,
    /// As the user named it.
    shown: PathBuf,
}

/// An absolute path for `p`, following symlinks in the parts that exist.
pub(crate) fn absolute(p: &Path) -> Result<PathBuf> {
    if let Ok(c) = p.canonicalize() {
        return Ok(c);
    }
    let name = p
        .file_name()
        .ok_or_else(|| Error::input(format!("{}: not a folder name", p.display())))?;
    let parent = match p.parent() {
        Some(x) if !x.as_os_str().is_empty() => x.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok(absolute(&parent)?.join(name))
}

/// True when `dir` was written by sitevault (marker, or the build manifest of older builds).
fn has_marker(dir: &Path) -> bool {
    dir.join(MARKER).is_file() || dir.join(crate::schema::MANIFEST_PATH).is_file()
}

fn looks_like_store(dir: &Path) -> bool {
    ["blobs", "versions", "channels", "packs"]
        .iter()
        .any(|d| dir.join(d).is_dir())
}

/// Checks that `out` may be replaced. `protect` are folders it must neither be nor
/// contain, each with what it is (the source folder, a store's folder); the working
/// directory is always protected.
pub(crate) fn check(out: &Path, protect: &[(&Path, &str)]) -> Result<OutDir> {
    // A regular file on the way to OUT: name it.
    let mut p = PathBuf::new();
    for c in out.components() {
        p.push(c);
        if let Ok(m) = std::fs::metadata(&p) {
            if !m.is_dir() {
                return Err(Error::input(format!(
                    "{}: is a file, not a folder, so output folder {} cannot be created there; choose another output folder",
                    p.display(),
                    out.display()
                )));
            }
        }
    }
    let abs = absolute(out)?;
    if abs.parent().is_none() {
        return Err(refuse(out, "is the root of the filesystem"));
    }
    let mut guarded: Vec<(PathBuf, &str)> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        guarded.push((absolute(&cwd).unwrap_or(cwd), "the working directory"));
    }
    for (p, what) in protect {
        if let Ok(a) = absolute(p) {
            guarded.push((a, what));
        }
    }
    for (g, what) in &guarded {
        if g.starts_with(&abs) {
            let how = if g == &abs {
                format!("is {what}")
            } else {
                format!("contains {what} {}", g.display())
            };
            return Err(refuse(out, &how));
        }
    }
    match std::fs::symlink_metadata(&abs) {
        Err(_) => {}
        Ok(m) if m.file_type().is_symlink() => {
            return Err(refuse(out, "is a symbolic link"));
        }
        Ok(_) => {
            let empty = std::fs::read_dir(&abs)
                .map_err(|e| Error::io(&abs, e))?
                .next()
                .is_none();
            if !empty {
                if looks_like_store(&abs) && !abs.join(crate::schema::MANIFEST_PATH).is_file() {
                    return Err(refuse(out, "looks like a sitevault store folder"));
                }
                if !has_marker(&abs) {
                    return Err(refuse(
                        out,
                        "is not empty and was not written by sitevault build or pull",
                    ));
                }
            }
        }
    }
    Ok(OutDir {
        abs,
        shown: out.to_path_buf(),
    })
}

fn refuse(out: &Path, why: &str) -> Error {
    Error::input(format!(
        "refusing to replace output folder {}: it {why}; choose an empty or new folder (or remove it yourself)",
        out.display()
    ))
}

/// Removes the temporary folders of builds and pulls into `name` that were killed
/// (`kill -9`, a power cut) before they could: named for a process that is no longer
/// running, and carrying sitevault's marker. Only where running processes can be
/// told (`/proc`); elsewhere they stay.
fn remove_leftovers(parent: &Path, name: &str) {
    if !cfg!(target_os = "linux") || !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(file) = file.to_str() else { continue };
        let pid = file
            .strip_prefix('.')
            .and_then(|f| f.strip_prefix(name))
            .and_then(|f| f.strip_prefix(".sitevault-tmp-"))
            .and_then(|f| f.parse::<u32>().ok());
        let Some(pid) = pid else { continue };
        let gone = pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists();
        let path = e.path();
        let real_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if gone && real_dir && has_marker(&path) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Joins a checked relative path under `root`, refusing anything that could leave it:
/// empty parts, `..`, `.`, backslashes, NUL, drive letters, absolute paths.
pub(crate) fn safe_join(root: &Path, rel: &str) -> Result<PathBuf> {
    check_rel(rel).map_err(|m| Error::input(format!("{rel:?}: {m}")))?;
    Ok(root.join(rel))
}

/// Why `rel` is not a safe relative path made of plain names, if it is not.
pub(crate) fn check_rel(rel: &str) -> std::result::Result<(), String> {
    if rel.is_empty() {
        return Err("empty path".into());
    }
    if rel.contains('\\') {
        return Err("a backslash in a file name is refused (on Windows it separates folders); rename the file".into());
    }
    if rel.contains('\0') {
        return Err("a NUL character in a file name is refused; rename the file".into());
    }
    if rel.starts_with('/') {
        return Err("absolute path refused".into());
    }
    for part in rel.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(format!(
                "path part {part:?} refused (it could leave the output folder); rename the file"
            ));
        }
        let b = part.as_bytes();
        if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
            return Err(
                "a drive letter (like C:) in a file name is refused; rename the file".into(),
            );
        }
    }
    if Path::new(rel)
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err("not a plain relative path".into());
    }
    Ok(())
}

/// The files of the output folder's current contents that a new build may share with
/// a hard link instead of writing them again: regular files reached without symlinks,
/// linked nowhere else. A shared file is compared byte for byte first, so the new folder
/// holds exactly the bytes it would have been written with; the old folder is then
/// removed, which for a shared file only drops a name (no inode or blocks to free).
/// A shared file keeps the old one's mtime, permissions and owner (the content is the
/// same); something rewriting OUT's files in place during a build would reach the new
/// folder too, which the next build's byte comparison undoes.
#[derive(Debug, Default)]
pub(crate) struct Previous {
    root: PathBuf,
    /// Relative path → (inode, size).
    files: std::collections::HashMap<PathBuf, (u64, u64)>,
}

impl Previous {
    /// Places `bytes` at `dest` (inside the new folder) for the output named `rel`:
    /// a link to the previous build's identical file, else a new file.
    pub(crate) fn place(&self, dest: &Path, rel: &str, bytes: &[u8]) -> std::io::Result<()> {
        if self.link_same(dest, rel, bytes) {
            return Ok(());
        }
        write_new(dest, bytes)
    }

    #[cfg(unix)]
    fn link_same(&self, dest: &Path, rel: &str, bytes: &[u8]) -> bool {
        use std::os::unix::fs::MetadataExt;
        let Some(&(ino, size)) = self.files.get(Path::new(rel)) else {
            return false;
        };
        if size != bytes.len() as u64 || bytes.is_empty() {
            return false;
        }
        let old = self.root.join(rel);
        let same = || -> std::io::Result<bool> {
            let mut f = std::fs::File::open(&old)?;
            let m = f.metadata()?;
            if !m.is_file() || m.ino() != ino || m.nlink() != 1 || m.len() != size {
                return Ok(false);
            }
            equal_contents(&mut f, bytes)
        };
        if !matches!(same(), Ok(true)) || std::fs::hard_link(&old, dest).is_err() {
            return false;
        }
        // The name linked is the file compared (not one put in its place meanwhile).
        match std::fs::symlink_metadata(dest) {
            Ok(m) if m.is_file() && m.ino() == ino => true,
            _ => {
                let _ = std::fs::remove_file(dest);
                false
            }
        }
    }

    #[cfg(not(unix))]
    fn link_same(&self, _: &Path, _: &str, _: &[u8]) -> bool {
        false
    }
}

/// Writes `bytes` to a new file at `dest`. A name already there (two outputs meeting on a
/// case-insensitive disk) is removed first rather than written through: it may be a link
/// to the output folder being replaced. Two such outputs written at once may make the
/// second creation fail ("File exists"): an error, where writing both into one file
/// would have left either's bytes, or a mix.
pub(crate) fn write_new(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    // Created exclusively (`O_EXCL`: never through a link), so the usual case, a name
    // not there yet, costs no lookup of its own.
    let create = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dest)
    };
    let mut f = match create() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(dest)?;
            create()?
        }
        f => f?,
    };
    f.write_all(bytes)
}

/// True when `f` holds exactly `bytes`, read in blocks (no larger than the file: most
/// are small, and a zeroed 64 KiB per file adds up over thousands).
fn equal_contents(f: &mut std::fs::File, mut bytes: &[u8]) -> std::io::Result<bool> {
    use std::io::Read;
    let mut buf = vec![0u8; bytes.len().clamp(1, 64 << 10)];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(bytes.is_empty());
        }
        if n > bytes.len() || buf[..n] != bytes[..n] {
            return Ok(false);
        }
        bytes = &bytes[n..];
    }
}

impl OutDir {
    /// What a new build may share with the folder's current contents (nothing when the
    /// folder is absent or is not sitevault's).
    pub(crate) fn previous(&self) -> Previous {
        if !has_marker(&self.abs) {
            return Previous::default();
        }
        #[cfg(not(unix))]
        let files = Default::default();
        #[cfg(unix)]
        let files = {
            use std::os::unix::fs::MetadataExt;
            let mut files = std::collections::HashMap::new();
            let walk = walkdir::WalkDir::new(&self.abs)
                .into_iter()
                .filter_entry(|e| e.depth() != 1 || e.file_name() != ".sitevault");
            for e in walk.filter_map(|e| e.ok()) {
                if !e.file_type().is_file() {
                    continue;
                }
                let (Ok(m), Ok(rel)) = (e.metadata(), e.path().strip_prefix(&self.abs)) else {
                    continue;
                };
                if m.nlink() == 1 {
                    files.insert(rel.to_path_buf(), (m.ino(), m.len()));
                }
            }
            files
        };
        Previous {
            root: self.abs.clone(),
            files,
        }
    }

    /// A fresh temporary folder next to the output folder (removed first if left over).
    pub(crate) fn temp(&self) -> Result<PathBuf> {
        let parent = self
            .abs
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let name = self
            .abs
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "out".into());
        remove_leftovers(&parent, &name);
        let tmp = parent.join(format!(".{name}.sitevault-tmp-{}", std::process::id()));
        if tmp.exists() {
            // Ours from an earlier run with this process id (containers run as PID 1):
            // replaced only when it carries the marker, like any output folder.
            if !has_marker(&tmp) {
                return Err(refuse(
                    &tmp,
                    "is in the way of the build's temporary folder",
                ));
            }
            std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        std::fs::create_dir_all(tmp.join(".sitevault")).map_err(|e| Error::io(&tmp, e))?;
        let m = tmp.join(MARKER);
        std::fs::write(&m, MARKER_TEXT).map_err(|e| Error::io(&m, e))?;
        Ok(tmp)
    }

    /// Replaces the output folder by `tmp` (written completely). Checks again right before.
    pub(crate) fn swap(&self, tmp: &Path) -> Result<()> {
        let again = check(&self.shown, &[]);
        if let Err(e) = again {
            let _ = std::fs::remove_dir_all(tmp);
            return Err(e);
        }
        let abs = &self.abs;
        if abs.exists() {
            let name = abs
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| "out".into());
            let parent = abs.parent().unwrap_or(Path::new("."));
            let old = parent.join(format!(".{name}.sitevault-old-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&old);
            std::fs::rename(abs, &old).map_err(|e| Error::io(abs, e))?;
            if let Err(e) = std::fs::rename(tmp, abs) {
                let _ = std::fs::rename(&old, abs);
                let _ = std::fs::remove_dir_all(tmp);
                return Err(Error::io(abs, e));
            }
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(tmp, abs).map_err(|e| Error::io(abs, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_refused() {
        for bad in [
            "x\\..\\..\\evil.txt",
            "../a",
            "a/../../b",
            "/etc/passwd",
            "C:/x",
            "c:x",
            "a\0b",
            "",
            "a//b",
            "./a",
        ] {
            assert!(check_rel(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "a/b.html", ".well-known/x", "a..b"] {
            assert!(check_rel(good).is_ok(), "{good:?}");
        }
    }

    /// A name already there is replaced, never written through: a link to a file outside
    /// (the folder being replaced, or anything else) keeps its bytes.
    #[cfg(unix)]
    #[test]
    fn a_new_file_replaces_a_name_and_writes_through_no_link() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, b"keep")?;
        let linked = dir.path().join("linked.txt");
        std::os::unix::fs::symlink(&outside, &linked)?;
        let hard = dir.path().join("hard.txt");
        std::fs::hard_link(&outside, &hard)?;
        let plain = dir.path().join("plain.txt");
        std::fs::write(&plain, b"old")?;
        let fresh = dir.path().join("fresh.txt");
        for dest in [&linked, &hard, &plain, &fresh] {
            write_new(dest, b"new")?;
            assert_eq!(std::fs::read(dest)?, b"new");
            assert!(std::fs::symlink_metadata(dest)?.is_file());
        }
        assert_eq!(std::fs::read(&outside)?, b"keep");
        // A folder in the way is an error, not replaced.
        let folder = dir.path().join("folder");
        std::fs::create_dir(&folder)?;
        assert!(write_new(&folder, b"x").is_err());
        assert!(folder.is_dir());
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn checked_paths_stay_inside(rel in "[a-zA-Z0-9./\\\\:\\x00-\\x1f ]{0,30}") {
            if check_rel(&rel).is_ok() {
                let root = Path::new("/root/out");
                let p = safe_join(root, &rel).unwrap();
                proptest::prop_assert!(p.starts_with(root));
                proptest::prop_assert!(p.components().count() > root.components().count());
                proptest::prop_assert!(!rel.contains(['\\', '\0']));
                proptest::prop_assert!(!rel.split('/').any(|s| s.is_empty() || s == "." || s == ".."));
            } else {
                proptest::prop_assert!(safe_join(Path::new("o"), &rel).is_err());
            }
        }

        #[test]
        fn any_text_is_checked_without_panic(rel in ".{0,40}") {
            let _ = check_rel(&rel);
        }
    }
}
