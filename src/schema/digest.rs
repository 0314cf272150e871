//! The digests of a files map: `digest` (what a version serves) and `enc_digest`
//! (its precompressed variants too), each the blake3 of the map's compact JSON.

use serde::Serialize;

use super::{check_variant_hashes, CacheClass, FileEntry, FileMap};

/// The digest of a files map: blake3 of its compact JSON (sorted keys), **without**
/// the precompressed variants. So a version's digest is the digest of what it serves
/// (the same with compression on or off), and binaries older than #12, which drop
/// the `enc` field they do not know, compute the same digest and still serve the
/// identity bytes. The variants are covered by [`enc_digest`].
pub fn digest(files: &FileMap) -> String {
    /// The map serialized as it is (already sorted), each entry without `enc`.
    struct PlainMap<'a>(&'a FileMap);
    impl Serialize for PlainMap<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|(p, e)| (p, Plain::of(e))))
        }
    }
    hash_json(&PlainMap(files))
}

/// A file entry without its variants, as [`digest`] hashes it.
#[derive(Serialize)]
struct Plain<'a> {
    hash: &'a str,
    size: u64,
    #[serde(rename = "type")]
    content_type: &'a str,
    cache: CacheClass,
}

impl<'a> Plain<'a> {
    fn of(e: &'a FileEntry) -> Plain<'a> {
        Plain {
            hash: &e.hash,
            size: e.size,
            content_type: &e.content_type,
            cache: e.cache,
        }
    }
}

/// [`digest`] and [`enc_digest`] in one pass over the map: each entry is serialized
/// once without its variants (what `digest` hashes), and for `enc_digest` its
/// variants are appended to those bytes (serde writes `enc` last and skips it when
/// empty, so they are the bytes of the whole entry).
pub(crate) fn digests(files: &FileMap) -> (String, Option<String>) {
    const BATCH: usize = 64 * 1024;
    let any_enc = files.values().any(|e| !e.enc.is_empty());
    let (mut plain, mut full) = (blake3::Hasher::new(), blake3::Hasher::new());
    let (mut p_buf, mut f_buf) = (Vec::with_capacity(2 * BATCH), Vec::with_capacity(2 * BATCH));
    // Writing to a Vec cannot fail, and these values always serialize.
    for (i, (path, e)) in files.iter().enumerate() {
        let sep = if i == 0 { b'{' } else { b',' };
        p_buf.push(sep);
        let start = p_buf.len();
        let _ = serde_json::to_writer(&mut p_buf, path);
        p_buf.push(b':');
        let _ = serde_json::to_writer(&mut p_buf, &Plain::of(e));
        if any_enc {
            f_buf.push(sep);
            if e.enc.is_empty() {
                f_buf.extend_from_slice(&p_buf[start..]);
            } else {
                f_buf.extend_from_slice(&p_buf[start..p_buf.len() - 1]);
                f_buf.extend_from_slice(b",\"enc\":");
                let _ = serde_json::to_writer(&mut f_buf, &e.enc);
                f_buf.push(b'}');
            }
        }
        if p_buf.len() >= BATCH {
            plain.update(&p_buf);
            p_buf.clear();
        }
        if f_buf.len() >= BATCH {
            full.update(&f_buf);
            f_buf.clear();
        }
    }
    if files.is_empty() {
        p_buf.push(b'{');
    }
    p_buf.push(b'}');
    f_buf.push(b'}');
    plain.update(&p_buf);
    full.update(&f_buf);
    let hex = |h: blake3::Hasher| h.finalize().to_hex().to_string();
    (hex(plain), any_enc.then(|| hex(full)))
}

/// blake3 of a value's compact JSON, streamed into the hasher (no copy of the JSON).
fn hash_json<T: Serialize>(value: &T) -> String {
    let mut hasher = blake3::Hasher::new();
    {
        let mut w = std::io::BufWriter::with_capacity(64 * 1024, &mut hasher);
        // Writing to a hasher cannot fail, and these values always serialize.
        let _ = serde_json::to_writer(&mut w, value);
        let _ = std::io::Write::flush(&mut w);
    }
    hasher.finalize().to_hex().to_string()
}

/// The digest of a files map with its variants (blake3 of the whole map's compact
/// JSON), or `None` when no file has one: documents without variants carry no
/// `enc_digest` and read exactly as before.
pub fn enc_digest(files: &FileMap) -> Option<String> {
    if files.values().all(|e| e.enc.is_empty()) {
        return None;
    }
    Some(hash_json(files))
}

/// Checks the variants of a files map: every hash a blake3 digest and, when any
/// file has variants, `stated` (the document's `enc_digest`) matching them.
pub fn check_variants(files: &FileMap, stated: Option<&str>) -> Result<(), String> {
    check_variant_hashes(files)?;
    check_enc_digest(files, stated)
}

/// What [`check_enc_digest`] says of a document whose variants do not match.
pub(crate) const ENC_DIGEST_MISMATCH: &str =
    "the digest of its precompressed variants does not match (edited or corrupt)";

/// Checks that `stated` (a document's `enc_digest`) is the digest of the files'
/// variants (the second half of [`check_variants`]).
pub fn check_enc_digest(files: &FileMap, stated: Option<&str>) -> Result<(), String> {
    if enc_digest(files).as_deref() != stated {
        return Err(ENC_DIGEST_MISMATCH.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Encodings, Variant};

    #[test]
    fn digests_in_one_pass_are_the_digests() {
        let entry = |n: u64, enc: bool| FileEntry {
            hash: format!("{n:064x}"),
            size: n,
            content_type: "text/html; charset=\"utf-8\"".into(),
            cache: if n.is_multiple_of(2) {
                CacheClass::Immutable
            } else {
                CacheClass::Revalidate
            },
            enc: Encodings {
                br: enc.then(|| Variant {
                    hash: format!("{:064x}", n + 100),
                    size: n / 2,
                }),
                gzip: (enc && n.is_multiple_of(3)).then(|| Variant {
                    hash: format!("{:064x}", n + 200),
                    size: n / 3,
                }),
            },
        };
        for with_enc in [false, true] {
            let mut files = FileMap::new();
            assert_eq!(digests(&files), (digest(&files), enc_digest(&files)));
            // Enough entries to cross the hashers' batches, paths that need escaping.
            for n in 0..3000u64 {
                files.insert(
                    format!("/d/\u{e9}\"{n}\\.html"),
                    entry(n, with_enc && n % 5 != 0),
                );
            }
            let (d, e) = digests(&files);
            assert_eq!(d, digest(&files));
            assert_eq!(e, enc_digest(&files));
            assert_eq!(e.is_some(), with_enc);
        }
    }
}
