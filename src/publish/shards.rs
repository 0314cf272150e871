//! Sharded version indexes (#12): how a version of 100,000 files stays cheap to
//! serve from an edge that cannot hold its whole index.
//!
//! A version of more than [`SHARD_ABOVE`] files keeps its files map in shards:
//! `shards/<blake3>.json`, each `{"schema":1,"files":{…}}` holding the paths whose
//! `fnv1a32(path) % of` is its number. The version's `index.json` is then a small
//! head: every field but `files`, and
//! `"shards": {"of": N, "keys": [<blake3 of shard 0>, …], "shared": true}`. So:
//!
//! - an edge reads the head (a few KB), then only the shard of the path asked for
//!   (the worker fetches and caches shards on demand and never holds them all);
//! - the head is still the one create-only object that makes a version visible,
//!   written last; shards are content-addressed (their name is their hash, which the
//!   head lists), so a shard left by a killed publish can never be mistaken for
//!   another version's content;
//! - `digest` and `enc_digest` keep their meaning (the whole files map), checked
//!   when the shards are read back together ([`crate::publish::index::load`]);
//! - a shard is stored once for every version that has it (`shared`, schema 3): a
//!   one-file change writes one shard, and publish skips the shards its base version
//!   names, as it skips its blobs. Archive leaves shared shards alone; gc deletes
//!   those no hot head names, past the same grace period as blobs. Heads of schema 2
//!   (no `shared`) name one copy per version, `shards/<version>/<blake3>.json`, and
//!   are read, synced and archived as before.
//!
//! Why FNV-1a: the edge worker already computes it for routing (both sides pass the
//! same vectors), and the split only needs to be even, not secret.

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::schema::{self, FileMap};
use crate::store::{keys, Attrs, Created, Store};

/// Versions with more files than this are sharded.
pub const SHARD_ABOVE: usize = 2_000;
/// Files per shard, at most, before the count doubles.
const PER_SHARD: usize = 1_000;
/// The most shards a head may name (a hostile head cannot ask for more).
const MAX_SHARDS: u32 = 65_536;

/// The `shards` field of a sharded index head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shards {
    /// How many shards (a power of two).
    pub of: u32,
    /// blake3 of each shard's bytes, by shard number.
    pub keys: Vec<String>,
    /// Stored by hash alone, shared between versions (`shards/<blake3>.json`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

impl Shards {
    /// The store key of shard `hash` of `version` under this head's layout.
    pub fn key(&self, version: &str, hash: &str) -> String {
        if self.shared {
            keys::shared_shard(hash)
        } else {
            keys::shard(version, hash)
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ShardDoc {
    schema: u32,
    files: FileMap,
}

/// How many shards a version of `files` files gets (0: not sharded).
pub fn count_for(files: usize) -> u32 {
    if files <= SHARD_ABOVE {
        return 0;
    }
    files
        .div_ceil(PER_SHARD)
        .next_power_of_two()
        .min(MAX_SHARDS as usize) as u32
}

/// The shard that holds `path` among `of`.
pub fn shard_of(path: &str, of: u32) -> u32 {
    crate::edge::routing::fnv1a32(path.as_bytes()) % of.max(1)
}

/// Splits a files map into `of` shard documents: `(blake3 hex, bytes)` by number.
pub(crate) fn split(files: &FileMap, of: u32) -> Result<Vec<(String, Vec<u8>)>> {
    let mut parts: Vec<FileMap> = vec![FileMap::new(); of as usize];
    for (p, e) in files {
        parts[shard_of(p, of) as usize].insert(p.clone(), e.clone());
    }
    // Serialized and hashed in parallel (the order of the result is the shards').
    parts
        .into_par_iter()
        .map(|files| {
            let bytes = schema::to_json(&ShardDoc { schema: 1, files })?;
            Ok((blake3::hash(&bytes).to_hex().to_string(), bytes))
        })
        .collect()
}

/// Checks a head's `shards` field before anything is fetched.
pub(crate) fn check(s: &Shards, files_in_head: usize, what: &str) -> Result<()> {
    let ok = s.of.is_power_of_two()
        && s.of <= MAX_SHARDS
        && s.keys.len() == s.of as usize
        && s.keys.iter().all(|k| schema::is_hash(k))
        && files_in_head == 0;
    if ok {
        Ok(())
    } else {
        Err(Error::Integrity(format!(
            "{what}: its shards field is malformed (edited or corrupt)"
        )))
    }
}

/// Writes shard documents create-only under their shared names, except those in
/// `known` (named by a hot head, so present); a shard already there with the same
/// name holds the same bytes, its name being their hash. Returns how many it wrote.
pub(crate) async fn write(
    store: &Store,
    shards: &[(String, Vec<u8>)],
    known: &std::collections::HashSet<String>,
) -> Result<u64> {
    let attrs = immutable_json();
    let todo: Vec<&(String, Vec<u8>)> = shards.iter().filter(|(h, _)| !known.contains(h)).collect();
    let n = todo.len() as u64;
    futures::stream::iter(todo.into_iter().map(|(hash, bytes)| {
        let attrs = attrs.clone();
        async move {
            let key = keys::shared_shard(hash);
            put_shard(store, &key, hash, bytes.clone(), &attrs).await
        }
    }))
    .buffer_unordered(store.concurrency())
    .try_collect::<Vec<()>>()
    .await?;
    Ok(n)
}

/// Attributes of the immutable JSON documents of a version: its index and its shards.
pub(crate) fn immutable_json() -> Attrs {
    Attrs {
        content_type: Some("application/json".into()),
        cache_control: Some(schema::CacheClass::Immutable.header().into()),
        ..Default::default()
    }
}

/// Writes one shard. A shared shard (`shards/<hash>.json`) is written whether it
/// is there or not, in one request: its name is the hash of its bytes, so every
/// writer writes the same bytes; one left corrupt is mended, and one that no hot
/// head names and that is past gc's grace period becomes young again, so a gc
/// running before the new head exists leaves it alone. A version's own shard
/// (`shards/<version>/…`, schema 2) is created once; one already there (a killed
/// publish's) is read back and must hash to its name.
async fn put_shard(
    store: &Store,
    key: &str,
    hash: &str,
    bytes: Vec<u8>,
    attrs: &Attrs,
) -> Result<()> {
    let bytes = Bytes::from(bytes);
    if shared_hash(key).is_some() {
        return store.put_overwrite(key, bytes, attrs).await;
    }
    if store.put_create(key, bytes, attrs).await? == Created::Created {
        return Ok(());
    }
    match store.get(key).await? {
        Some(b) if blake3::hash(&b).to_hex().as_str() == hash => Ok(()),
        _ => Err(Error::Integrity(format!(
            "{key} exists with other bytes than its name says: delete it and retry"
        ))),
    }
}

/// Copies the shards a head names from one store to another, each checked against
/// its name on the way (a sync of a large version).
pub(crate) async fn copy(from: &Store, to: &Store, version: &str, s: &Shards) -> Result<()> {
    let attrs = immutable_json();
    for hash in &s.keys {
        let key = s.key(version, hash);
        let bytes = from
            .get(&key)
            .await?
            .filter(|b| blake3::hash(b).to_hex().as_str() == hash)
            .ok_or_else(|| {
                Error::Integrity(format!(
                    "{key} is missing or corrupt in {}: not copied; run `sitevault verify {version}` there",
                    from.url()
                ))
            })?;
        put_shard(to, &key, hash, bytes.to_vec(), &attrs).await?;
    }
    Ok(())
}

/// Reads every shard a head names (each checked against its hash, and each path
/// against its shard number) and returns the whole files map.
pub(crate) async fn read_all(store: &Store, version: &str, s: &Shards) -> Result<FileMap> {
    // Owned inputs: the futures must be `Send` for any lifetime (serve reads
    // indexes from inside its request handlers).
    let of = s.of;
    let jobs: Vec<(usize, String, Store, String, String)> = s
        .keys
        .iter()
        .enumerate()
        .map(|(n, h)| {
            (
                n,
                h.clone(),
                store.clone(),
                version.to_string(),
                s.key(version, h),
            )
        })
        .collect();
    let parts: Vec<FileMap> = futures::stream::iter(jobs.into_iter().map(|(n, hash, store, version, key)| async move {
        let bytes = store.get(&key).await?.ok_or_else(|| {
            Error::Integrity(format!(
                "{key} is missing: version {version}'s index is incomplete; republish it from its dist folder"
            ))
        })?;
        if blake3::hash(&bytes).to_hex().as_str() != hash {
            return Err(Error::Integrity(format!(
                "{key} does not hash to its name (corrupt); republish {version} from its dist folder"
            )));
        }
        let doc: ShardDoc = schema::parse(&bytes, &key)?;
        if let Some(p) = doc.files.keys().find(|p| shard_of(p, of) as usize != n) {
            return Err(Error::Integrity(format!("{key}: {p} does not belong in shard {n}")));
        }
        Ok::<FileMap, Error>(doc.files)
    }))
    .buffered(store.concurrency())
    .try_collect()
    .await?;
    Ok(parts.into_iter().flatten().collect())
}

/// Deletes the shards of an archived version of schema 2 (its own copies; best
/// effort: what is left is unreferenced and written again by a restore). Shared
/// shards stay: other versions may name them, and gc removes them when none does.
pub(crate) async fn delete(store: &Store, version: &str, s: &Shards) -> Result<()> {
    if s.shared {
        return Ok(());
    }
    for hash in &s.keys {
        store.delete(&keys::shard(version, hash)).await?;
    }
    Ok(())
}

/// The hash a shared shard's key names (`shards/<blake3>.json`), or `None` for any
/// other key under `shards/` (a schema-2 copy, something sitevault did not write).
pub(crate) fn shared_hash(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(keys::SHARDS)?.strip_prefix('/')?;
    let hash = rest.strip_suffix(".json")?;
    schema::is_hash(hash).then_some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{CacheClass, FileEntry};

    fn files(n: usize) -> FileMap {
        (0..n)
            .map(|i| {
                let e = FileEntry {
                    hash: format!("{:064x}", i),
                    size: i as u64,
                    content_type: "text/html".into(),
                    cache: CacheClass::Revalidate,
                    enc: Default::default(),
                };
                (format!("/p/{i}.html"), e)
            })
            .collect()
    }

    #[test]
    fn shared_shard_keys() {
        let h = "b".repeat(64);
        assert_eq!(shared_hash(&keys::shared_shard(&h)), Some(h.as_str()));
        assert_eq!(shared_hash(&keys::shard("v1", &h)), None);
        assert_eq!(shared_hash("shards/notahash.json"), None);
    }

    #[test]
    fn counts_and_an_even_split() {
        assert_eq!(count_for(10), 0);
        assert_eq!(count_for(2_000), 0);
        assert_eq!(count_for(2_001), 4);
        assert_eq!(count_for(100_000), 128);
        let f = files(5_000);
        let parts = split(&f, 8).unwrap();
        assert_eq!(parts.len(), 8);
        for (hash, bytes) in &parts {
            assert_eq!(&blake3::hash(bytes).to_hex().to_string(), hash);
            let doc: ShardDoc = serde_json::from_slice(bytes).unwrap();
            let n = doc.files.len();
            assert!((400..=850).contains(&n), "uneven shard: {n}");
        }
        assert_eq!(split(&f, 8).unwrap(), parts, "deterministic");
    }

    #[test]
    fn malformed_heads_are_refused() {
        let k = "a".repeat(64);
        for bad in [
            Shards {
                of: 3,
                keys: vec![k.clone(); 3],
                shared: true,
            },
            Shards {
                of: 2,
                keys: vec![k.clone()],
                shared: true,
            },
            Shards {
                of: 1,
                keys: vec!["x".into()],
                shared: true,
            },
            Shards {
                of: 0,
                keys: vec![],
                shared: true,
            },
        ] {
            assert!(check(&bad, 0, "i").is_err(), "{bad:?}");
        }
        assert!(check(
            &Shards {
                of: 1,
                keys: vec![k.clone()],
                shared: true,
            },
            1,
            "i"
        )
        .is_err());
        assert!(check(
            &Shards {
                of: 1,
                keys: vec![k],
                shared: true,
            },
            0,
            "i"
        )
        .is_ok());
    }
}
