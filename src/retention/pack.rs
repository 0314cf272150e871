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
    if off + hlen > body_len {
        return Err(bad("header length"));
    }
    let header: PackHeader =
        serde_json::from_slice(&data[off..off + hlen]).map_err(|e| bad(&format!("header: {e}")))?;
    crate::schema::check_schema(header.schema as u64, what)?;
    off += hlen;
    let isz = header.index_size as usize;
    if off + isz > body_len {
        return Err(bad("index length"));
    }
    let index_bytes = data[off..off + isz].to_vec();
    let index: VersionIndex =
        serde_json::from_slice(&index_bytes).map_err(|e| bad(&format!("index: {e}")))?;
    if crate::schema::digest(&index.files) != index.digest || index.digest != header.digest {
        return Err(bad("index digest"));
    }
    off += isz;
    let mut blobs = Vec::with_capacity(header.blobs.len());
    for b in &header.blobs {
        let end = off + b.size as usize;
        if end > body_len {
            return Err(bad("blob length"));
        }
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
    let mut need: Vec<&str> = index.files.values().map(|e| e.hash.as_str()).collect();
    need.sort_unstable();
    need.dedup();
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
