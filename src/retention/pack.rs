//! The pack format: one cold-store object per archived version.
//!
//! ```text
//! "SVPACK01"                      8 bytes magic
//! header length                   u32, little endian
//! header                          JSON {"schema":1,"version","digest","index_size","blobs":[{"hash","size"}…]}
//! index                           the version's index.json, byte for byte
//! blob bytes                      each blob, in header order, concatenated
//! checksum                        32 bytes: blake3 of everything above
//! ```
//!
//! Reading verifies the checksum, the header, the index digest and every blob hash.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::publish::index::VersionIndex;

const MAGIC: &[u8; 8] = b"SVPACK01";

/// One blob in a pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackBlob {
    /// blake3 hex.
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
}

/// The pack header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackHeader {
    /// Always 1.
    pub schema: u32,
    /// Version id.
    pub version: String,
    /// The version's digest.
    pub digest: String,
    /// Bytes of index.json that follow the header.
    pub index_size: u64,
    /// Blobs, in the order their bytes follow.
    pub blobs: Vec<PackBlob>,
    /// The version's index was stored as a head and shards (#12): restore writes it
    /// that way again. The pack always carries the index whole.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sharded: bool,
}

/// A pack read back and verified.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The header.
    pub header: PackHeader,
    /// The index bytes (as stored hot).
    pub index_bytes: Vec<u8>,
    /// The parsed index.
    pub index: VersionIndex,
    /// `(hash, bytes)` for every blob.
    pub blobs: Vec<(String, bytes::Bytes)>,
}

/// Writes a pack.
pub fn write(
    index_bytes: &[u8],
    index: &VersionIndex,
    blobs: &[(String, bytes::Bytes)],
) -> Vec<u8> {
    let header = PackHeader {
        schema: 1,
        version: index.version.clone(),
        digest: index.digest.clone(),
        index_size: index_bytes.len() as u64,
        sharded: index.shards.is_some(),
        blobs: blobs
            .iter()
            .map(|(h, b)| PackBlob {
                hash: h.clone(),
                size: b.len() as u64,
            })
            .collect(),
    };
    let header_json = serde_json::to_vec(&header).unwrap_or_default();
    let total = 8
        + 4
        + header_json.len()
        + index_bytes.len()
        + blobs.iter().map(|b| b.1.len()).sum::<usize>()
        + 32;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(header_json.len() as u32).to_le_bytes());
    out.extend_from_slice(&header_json);
    out.extend_from_slice(index_bytes);
    for (_, b) in blobs {
        out.extend_from_slice(b);
    }
    let sum = blake3::hash(&out);
    out.extend_from_slice(sum.as_bytes());
    out
}

/// Reads and verifies a pack; `what` names it in errors.
pub fn read(data: bytes::Bytes, what: &str) -> Result<Pack> {
    let bad =
        |m: &str| Error::Integrity(format!("{what}: corrupt pack ({m}); nothing was restored"));
    if data.len() < 8 + 4 + 32 || &data[..8] != MAGIC {
        return Err(bad("not a sitevault pack"));
    }
    let body_len = data.len() - 32;
    if blake3::hash(&data[..body_len]).as_bytes() != &data[body_len..] {
        return Err(bad("checksum mismatch"));
    }
    let hlen = u32::from_le_bytes([data[8], data[9], data[10], data[11]]) as usize;
    let mut off = 12;
    if hlen > body_len - off {
        return Err(bad("header length"));
    }
    let header: PackHeader =
        serde_json::from_slice(&data[off..off + hlen]).map_err(|e| bad(&format!("header: {e}")))?;
    crate::schema::check_schema(header.schema as u64, what)?;
    off += hlen;
    let isz = usize::try_from(header.index_size).unwrap_or(usize::MAX);
    if isz > body_len - off {
        return Err(bad("index length"));
    }
    let index_bytes = data[off..off + isz].to_vec();
    // The same checks as an index read from the store: clean paths, digests, digest.
    let index = VersionIndex::from_bytes(&index_bytes, "index").map_err(|e| bad(&e.to_string()))?;
    if index.digest != header.digest {
        return Err(bad("index digest"));
    }
    off += isz;
    let mut blobs = Vec::new();
    for b in &header.blobs {
        let size = usize::try_from(b.size).unwrap_or(usize::MAX);
        if size > body_len - off {
            return Err(bad("blob length"));
        }
        let end = off + size;
        let bytes = data.slice(off..end);
        if blake3::hash(&bytes).to_hex().as_str() != b.hash {
            return Err(bad(&format!("blob {} does not match its hash", b.hash)));
        }
        blobs.push((b.hash.clone(), bytes));
        off = end;
    }
    if off != body_len {
        return Err(bad("trailing bytes"));
    }
    let need: Vec<&str> = index.blob_hashes();
    let mut have: Vec<&str> = blobs.iter().map(|b| b.0.as_str()).collect();
    have.sort_unstable();
    if need != have {
        return Err(bad("blobs do not match the index"));
    }
    Ok(Pack {
        header,
        index_bytes,
        index,
        blobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Wraps `body` as a pack with a valid checksum, so parsing gets past it.
    fn sealed(body: &[u8]) -> bytes::Bytes {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(body);
        let sum = blake3::hash(&out);
        out.extend_from_slice(sum.as_bytes());
        bytes::Bytes::from(out)
    }

    fn with_header(header: &str, rest: &[u8]) -> bytes::Bytes {
        let mut body = (header.len() as u32).to_le_bytes().to_vec();
        body.extend_from_slice(header.as_bytes());
        body.extend_from_slice(rest);
        sealed(&body)
    }

    #[test]
    fn huge_sizes_in_a_sealed_header_are_integrity_errors() {
        for h in [
            r#"{"schema":1,"version":"v","digest":"d","index_size":18446744073709551615,"blobs":[]}"#,
            r#"{"schema":1,"version":"v","digest":"d","index_size":0,"blobs":[{"hash":"x","size":18446744073709551615}]}"#,
        ] {
            assert!(
                matches!(read(with_header(h, b""), "p"), Err(Error::Integrity(_))),
                "{h}"
            );
        }
        let mut body = u32::MAX.to_le_bytes().to_vec();
        body.extend_from_slice(b"{}");
        assert!(matches!(read(sealed(&body), "p"), Err(Error::Integrity(_))));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            prop_assert!(read(bytes::Bytes::from(data), "p").is_err());
        }

        #[test]
        fn arbitrary_sealed_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            prop_assert!(read(sealed(&body), "p").is_err());
        }

        #[test]
        fn arbitrary_headers_never_panic(
            index_size in any::<u64>(),
            sizes in proptest::collection::vec(any::<u64>(), 0..4),
            rest in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let blobs: Vec<String> = sizes
                .iter()
                .map(|s| format!(r#"{{"hash":"h","size":{s}}}"#))
                .collect();
            let h = format!(
                r#"{{"schema":1,"version":"v","digest":"d","index_size":{index_size},"blobs":[{}]}}"#,
                blobs.join(",")
            );
            let r = read(with_header(&h, &rest), "p");
            prop_assert!(matches!(r, Err(Error::Integrity(_))), "{:?}", r.err());
        }
    }
}
