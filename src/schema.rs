//! The documents sitevault writes to disk and to the store, in one low-level
//! module that every stage reads: the file entry (path → blob, type, cache class),
//! the files map and its digest, the build manifest, the schema check and the one
//! "parse JSON, check schema, convert" step.
//!
//! Nothing here does I/O or depends on the minifiers, so `publish`, `channel`,
//! `edge` and `retention` can read documents without pulling in `build`.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The newest schema this sitevault writes and understands.
pub const SCHEMA: u32 = 1;

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

/// True for a 64-hex blake3 string.
pub fn is_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Refuses documents written by a newer sitevault.
pub fn check_schema(schema: u64, what: &str) -> Result<()> {
    if schema > u64::from(SCHEMA) {
        return Err(Error::Integrity(format!(
            "{what} has schema {schema}, newer than this sitevault understands ({SCHEMA}); upgrade sitevault"
        )));
    }
    Ok(())
}

/// The one way documents are read: parse JSON, refuse a newer schema, convert.
/// Every failure is an integrity error naming `what` (a store key or a file).
pub fn parse<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    let v: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::Integrity(format!("{what}: not valid JSON ({e})")))?;
    check_schema(v.get("schema").and_then(|s| s.as_u64()).unwrap_or(0), what)?;
    serde_json::from_value(v).map_err(|e| Error::Integrity(format!("{what}: {e}")))
}

/// Serializes a document as compact JSON. Our own types always serialize; a failure
/// would be a bug, so it is an [`Error::Internal`], not the user's input.
pub fn to_json<T: Serialize>(doc: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(doc).map_err(|e| Error::Internal(format!("serializing a document: {e}")))
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

    #[test]
    fn newer_schema_is_refused_and_garbage_is_integrity() {
        let e = parse::<BuildManifest>(br#"{"schema":2}"#, "m").unwrap_err();
        assert!(e.to_string().contains("upgrade sitevault"), "{e}");
        assert!(matches!(
            parse::<BuildManifest>(b"[", "m"),
            Err(Error::Integrity(_))
        ));
        let deep = "[".repeat(100_000);
        assert!(parse::<BuildManifest>(deep.as_bytes(), "m").is_err());
    }
}
