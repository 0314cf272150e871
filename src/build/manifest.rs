//! The build manifest (`dist/.sitevault/manifest.json`) and the file entry shared
//! with the version index: path → blake3, size, content type, cache class.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where the build manifest lives inside an output folder.
pub const MANIFEST_PATH: &str = ".sitevault/manifest.json";

/// How a file may be cached by browsers and CDNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheClass {
    /// Fingerprinted name: `public, max-age=31536000, immutable`.
    Immutable,
    /// Stable name (HTML, robots.txt…): `public, max-age=0, must-revalidate`.
    Revalidate,
}

impl CacheClass {
    /// The `Cache-Control` header value for this class.
    pub fn header(self) -> &'static str {
        match self {
            CacheClass::Immutable => "public, max-age=31536000, immutable",
            CacheClass::Revalidate => "public, max-age=0, must-revalidate",
        }
    }
}

/// One public file: its blob hash, size, content type and cache class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// blake3 of the bytes, 64 lowercase hex characters.
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
    /// `Content-Type` value.
    #[serde(rename = "type")]
    pub content_type: String,
    /// Cache class.
    pub cache: CacheClass,
}

/// Public path (`/css/site.3f9a1c2b7e.css`) → entry. Sorted, so its JSON is canonical.
pub type FileMap = BTreeMap<String, FileEntry>;

/// The digest of a files map: blake3 of its compact JSON (sorted keys).
pub fn digest(files: &FileMap) -> String {
    let json = serde_json::to_vec(files).unwrap_or_default();
    blake3::hash(&json).to_hex().to_string()
}

/// `dist/.sitevault/manifest.json`, written by `build`, read by `publish`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildManifest {
    /// Schema number (1).
    pub schema: u32,
    /// Tool that wrote it.
    pub tool: String,
    /// Digest of `files` (see [`digest`]).
    pub digest: String,
    /// Every public file.
    pub files: FileMap,
}

/// Checks that a public path is safe to use as a key and a file name: starts with
/// `/`, no empty, `.` or `..` segments, no backslash or NUL, at most 1024 bytes.
pub fn check_public_path(p: &str) -> Result<(), String> {
    let ok = p.starts_with('/')
        && p.len() <= 1024
        && !p.contains(['\\', '\0'])
        && p[1..]
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "path {p:?} is not a clean site path (must start with '/', no '.', '..' or empty segments)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(check_public_path("/a/b.css").is_ok());
        for bad in ["a", "/../x", "/a//b", "/a/./b", "/a\\b", "/"] {
            assert!(check_public_path(bad).is_err(), "{bad}");
        }
    }
}
