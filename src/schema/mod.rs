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

mod digest;

pub use digest::{check_enc_digest, check_variants, digest, enc_digest};
pub(crate) use digest::{digests, ENC_DIGEST_MISMATCH};

/// The newest schema of every document but version indexes and build manifests.
pub const SCHEMA: u32 = 1;

/// The newest schema of version indexes and build manifests. Those with precompressed
/// variants or shards (#12) are schema 2, so a binary from before them refuses them
/// ("upgrade sitevault") instead of reading them without their variants (its gc would
/// then delete the variant blobs as unreferenced); an index without either is still
/// written as schema 1, byte for byte as before.
///
/// Schema 3 (#14): a sharded head whose shards are stored by hash alone
/// (`shards/<blake3>.json`), shared between versions, so a one-file change to a large
/// version writes one shard instead of all of them. A binary or worker that knows
/// only schema 2 would look for them under `shards/<version>/` and find nothing.
///
/// Schema 4 (#14): a sharded head whose paths are placed by their name without a
/// fingerprint (`stem`) and which carries `version.json` itself (`inline`), so a
/// one-file change writes one shard, not three. A binary or worker that knows only
/// schema 3 would look for a renamed file, and for `version.json`, in the wrong shard.
pub const INDEX_SCHEMA: u32 = 4;

/// The schema a files map is written with (see [`INDEX_SCHEMA`]).
pub fn schema_for(files: &FileMap, sharded: bool) -> u32 {
    if sharded {
        4
    } else if files.values().any(|e| !e.enc.is_empty()) {
        2
    } else {
        1
    }
}

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
    /// Precompressed variants of the same bytes (#12). Absent when there are none,
    /// so entries without variants serialize exactly as before.
    #[serde(default, skip_serializing_if = "Encodings::is_empty")]
    pub enc: Encodings,
}

/// One precompressed variant of a file: its own blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// blake3 of the compressed bytes.
    pub hash: String,
    /// Size of the compressed bytes.
    pub size: u64,
}

/// The content codings a file is stored in besides identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encodings {
    /// `Content-Encoding: br` (brotli).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub br: Option<Variant>,
    /// `Content-Encoding: gzip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gzip: Option<Variant>,
}

impl Encodings {
    /// True when the file has no variant.
    pub fn is_empty(&self) -> bool {
        self.br.is_none() && self.gzip.is_none()
    }

    /// `(coding, variant)` pairs, brotli first.
    pub fn iter(&self) -> impl Iterator<Item = (Coding, &Variant)> {
        [(Coding::Br, &self.br), (Coding::Gzip, &self.gzip)]
            .into_iter()
            .filter_map(|(c, v)| v.as_ref().map(|v| (c, v)))
    }

    /// The variant stored for `coding`.
    pub fn get(&self, coding: Coding) -> Option<&Variant> {
        match coding {
            Coding::Br => self.br.as_ref(),
            Coding::Gzip => self.gzip.as_ref(),
        }
    }

    /// Sets the variant for `coding`.
    pub fn set(&mut self, coding: Coding, v: Variant) {
        match coding {
            Coding::Br => self.br = Some(v),
            Coding::Gzip => self.gzip = Some(v),
        }
    }
}

/// A content coding sitevault precompresses with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Coding {
    /// Brotli, quality 11.
    Br,
    /// gzip, best compression.
    Gzip,
}

impl Coding {
    /// Every coding, in order of preference.
    pub const ALL: [Coding; 2] = [Coding::Br, Coding::Gzip];

    /// The `Content-Encoding` token (`br`, `gzip`).
    pub fn token(self) -> &'static str {
        match self {
            Coding::Br => "br",
            Coding::Gzip => "gzip",
        }
    }

    /// The sidecar suffix in dist/ (`.br`, `.gz`), as nginx's `gzip_static` expects.
    pub fn suffix(self) -> &'static str {
        match self {
            Coding::Br => ".br",
            Coding::Gzip => ".gz",
        }
    }

    /// Parses a config or header token.
    pub fn parse(s: &str) -> Option<Coding> {
        match s {
            "br" => Some(Coding::Br),
            "gzip" => Some(Coding::Gzip),
            _ => None,
        }
    }
}

/// One blob a file needs, with what its stored object should say about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobRef<'a> {
    /// blake3 of the blob's bytes.
    pub hash: &'a str,
    /// Its size.
    pub size: u64,
    /// The file's `Content-Type` (a variant keeps its original's).
    pub content_type: &'a str,
    /// `Some` for a precompressed variant: its `Content-Encoding`.
    pub coding: Option<Coding>,
}

impl FileEntry {
    /// Every blob this file needs: its bytes, then its variants.
    pub fn blobs(&self) -> impl Iterator<Item = BlobRef<'_>> {
        let plain = BlobRef {
            hash: &self.hash,
            size: self.size,
            content_type: &self.content_type,
            coding: None,
        };
        std::iter::once(plain).chain(self.enc.iter().map(|(c, v)| BlobRef {
            hash: &v.hash,
            size: v.size,
            content_type: &self.content_type,
            coding: Some(c),
        }))
    }
}

/// Every blob a files map needs, each once (the first file naming it describes it).
pub fn blobs_of(files: &FileMap) -> BTreeMap<&str, (&str, BlobRef<'_>)> {
    // Built from a sorted list (one bulk build, not a tree insert per blob). Of equal
    // keys the map keeps the last, so the list runs backwards: the first file wins.
    let mut all: Vec<(&str, (&str, BlobRef<'_>))> = files
        .iter()
        .flat_map(|(p, e)| e.blobs().map(move |b| (b.hash, (p.as_str(), b))))
        .collect();
    all.reverse();
    all.into_iter().collect()
}

/// [`blobs_of`] in a hash map (for `publish`, which needs no order), with the check of
/// [`check_sizes`] made on the way: one pass over the blobs for both.
pub(crate) fn blobs_checked(
    files: &FileMap,
) -> Result<crate::fasthash::HashMap<&str, (&str, BlobRef<'_>)>, String> {
    use std::collections::hash_map::Entry;
    let mut blobs =
        crate::fasthash::HashMap::with_capacity_and_hasher(files.len() * 2, Default::default());
    for (p, e) in files {
        for b in e.blobs() {
            match blobs.entry(b.hash) {
                Entry::Vacant(v) => {
                    v.insert((p.as_str(), b));
                }
                Entry::Occupied(o) => {
                    let known = o.get().1.size;
                    if known != b.size {
                        return Err(size_conflict(p, b, known));
                    }
                }
            }
        }
    }
    Ok(blobs)
}

/// Reads a files map in one bulk build: the maps sitevault writes are sorted, and a
/// tree built from a sorted list skips the path comparisons of an insert per file
/// (long shared prefixes, compared again at every level). A path given twice keeps
/// its last entry, as inserting would.
pub(crate) fn files_in_bulk<'de, D: serde::Deserializer<'de>>(d: D) -> Result<FileMap, D::Error> {
    struct Entries;
    impl<'de> serde::de::Visitor<'de> for Entries {
        type Value = FileMap;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of public paths to files")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<FileMap, A::Error> {
            let mut all = Vec::with_capacity(a.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(entry) = a.next_entry::<String, FileEntry>()? {
                all.push(entry);
            }
            Ok(all.into_iter().collect())
        }
    }
    d.deserialize_map(Entries)
}

/// Public path (`/css/site.3f9a1c2b7e.css`) → entry. Sorted, so its JSON is canonical.
pub type FileMap = BTreeMap<String, FileEntry>;

/// Checks that every variant's hash is a blake3 digest (the first half of
/// [`check_variants`]: what must hold before a hash names a store key or a file).
pub fn check_variant_hashes(files: &FileMap) -> Result<(), String> {
    for (p, e) in files {
        for (c, v) in e.enc.iter() {
            if !is_hash(&v.hash) {
                return Err(format!(
                    "{p}: its {} variant's hash {:?} is not a blake3 digest",
                    c.token(),
                    v.hash
                ));
            }
        }
    }
    Ok(())
}

/// Checks that each blob has one size: files (or variants) that share a hash share
/// their bytes, so an entry giving another size is edited or corrupt. `serve` takes
/// a response's length from the entry; a size the blob does not have would make the
/// body disagree with its `Content-Length`.
pub fn check_sizes(files: &FileMap) -> Result<(), String> {
    let mut sizes: crate::fasthash::HashMap<&str, u64> = Default::default();
    for (p, e) in files {
        for b in e.blobs() {
            let known = *sizes.entry(b.hash).or_insert(b.size);
            if known != b.size {
                return Err(size_conflict(p, b, known));
            }
        }
    }
    Ok(())
}

/// What [`check_sizes`] says of a blob listed at `p` with another size than `known`.
fn size_conflict(p: &str, b: BlobRef<'_>, known: u64) -> String {
    format!(
        "{p}: blob {} is listed with {} bytes here and {known} bytes elsewhere (edited or corrupt)",
        b.hash, b.size
    )
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
    /// Digest of `files` with their precompressed variants (see [`enc_digest`]);
    /// absent when no file has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc_digest: Option<String>,
    /// Every public file.
    #[serde(deserialize_with = "files_in_bulk")]
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
    check_schema_max(schema, SCHEMA, what)
}

/// [`check_schema`] against `max`.
pub fn check_schema_max(schema: u64, max: u32, what: &str) -> Result<()> {
    if schema > u64::from(max) {
        return Err(Error::Integrity(format!(
            "{what} has schema {schema}, newer than this sitevault understands ({max}); upgrade sitevault"
        )));
    }
    Ok(())
}

/// The one way documents are read: parse JSON, refuse a newer schema, convert.
/// Every failure is an integrity error naming `what` (a store key or a file).
pub fn parse<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    parse_max(bytes, SCHEMA, what)
}

/// [`parse`] for a document kind whose newest schema is `max`.
pub fn parse_max<T: DeserializeOwned>(bytes: &[u8], max: u32, what: &str) -> Result<T> {
    let v: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::Integrity(format!("{what}: not valid JSON ({e})")))?;
    check_schema_max(
        v.get("schema").and_then(|s| s.as_u64()).unwrap_or(0),
        max,
        what,
    )?;
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

    /// Each blob once, described by the first file (in path order) that names it.
    #[test]
    fn blobs_of_keeps_the_first_file_of_a_blob() {
        let entry = |hash: &str| FileEntry {
            hash: hash.repeat(64),
            size: 1,
            content_type: "text/plain".into(),
            cache: CacheClass::Revalidate,
            enc: Default::default(),
        };
        let files: FileMap = [("/c", "a"), ("/a", "b"), ("/b", "a"), ("/d", "b")]
            .into_iter()
            .map(|(p, h)| (p.to_string(), entry(h)))
            .collect();
        let blobs = blobs_of(&files);
        let named: Vec<(&str, &str)> = blobs.iter().map(|(h, (p, _))| (&h[..1], *p)).collect();
        assert_eq!(named, [("a", "/b"), ("b", "/a")]);
        let hashed = blobs_checked(&files).unwrap();
        assert_eq!(hashed.len(), 2);
        assert_eq!(hashed[blobs.keys().next().unwrap()].0, "/b");
        assert_eq!(hashed[blobs.keys().nth(1).unwrap()].0, "/a");
    }

    #[test]
    fn a_files_map_read_in_bulk_is_the_map_inserted() {
        // Unsorted and with a path given twice: the last entry wins, as with inserts.
        let text = r#"{"/b": {"hash": "1", "size": 1, "type": "t", "cache": "revalidate"},
            "/a": {"hash": "2", "size": 2, "type": "t", "cache": "revalidate"},
            "/b": {"hash": "3", "size": 3, "type": "t", "cache": "revalidate"}}"#;
        #[derive(Deserialize)]
        struct Doc {
            #[serde(deserialize_with = "files_in_bulk")]
            files: FileMap,
        }
        let bulk: Doc = serde_json::from_str(&format!(r#"{{"files": {text}}}"#)).unwrap();
        let inserted: FileMap = serde_json::from_str(text).unwrap();
        assert_eq!(bulk.files.keys().collect::<Vec<_>>(), ["/a", "/b"]);
        assert_eq!(bulk.files["/b"].hash, "3");
        assert_eq!(
            serde_json::to_string(&bulk.files).unwrap(),
            serde_json::to_string(&inserted).unwrap()
        );
        let not_a_map = serde_json::from_str::<Doc>(r#"{"files": [1]}"#);
        assert!(not_a_map.is_err());
    }

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

    /// Two entries sharing a blob must agree on its size (serve sends the entry's
    /// size as the length); a variant counts as a blob too.
    #[test]
    fn a_blob_listed_with_two_sizes_is_refused() {
        let h = "a".repeat(64);
        let g = "b".repeat(64);
        let files = |a: u64, b: u64, v: u64| -> FileMap {
            serde_json::from_value(serde_json::json!({
                "/a.txt": {"hash": h, "size": a, "type": "text/plain", "cache": "revalidate"},
                "/b.txt": {"hash": h, "size": b, "type": "text/plain", "cache": "revalidate",
                           "enc": {"gzip": {"hash": g, "size": v}}},
                "/c.txt": {"hash": g, "size": 7, "type": "text/plain", "cache": "revalidate"},
            }))
            .unwrap()
        };
        assert!(check_sizes(&files(10, 10, 7)).is_ok());
        let e = check_sizes(&files(10, 20, 7)).unwrap_err();
        assert!(e.contains(&h) && e.contains("20 bytes"), "{e}");
        assert!(check_sizes(&files(10, 10, 8)).is_err());
        // The same check, made while the blobs are mapped.
        assert!(blobs_checked(&files(10, 10, 7)).is_ok());
        assert_eq!(blobs_checked(&files(10, 20, 7)).unwrap_err(), e);
        assert!(blobs_checked(&files(10, 10, 8)).is_err());
    }
}
