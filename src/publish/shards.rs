//! Sharded version indexes (#12): how a version of 100,000 files stays cheap to
//! serve from an edge that cannot hold its whole index.
//!
//! A version of more than [`SHARD_ABOVE`] files keeps its files map in shards:
//! `shards/<blake3>.json`, each `{"schema":1,"files":{…}}` holding the paths whose
//! `fnv1a32(shard_key(path)) % of` is its number. The version's `index.json` is then a
//! small head: every field but `files`, and
//! `"shards": {"of": N, "keys": [<blake3 of shard 0>, …], "shared": true, "stem": true,
//! "inline": {"/version.json": {…}}}`. So:
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
//!   are read, synced and archived as before;
//! - a path's shard is chosen by its name without its fingerprint (`stem`, schema 4,
//!   [`shard_key`]), and `version.json`, which every build changes, is carried by the
//!   head itself (`inline`, [`IN_HEAD`]): a one-file change writes one shard, not the
//!   one a renamed file leaves, the one it enters and `version.json`'s. Heads of
//!   schema 3 place paths by their whole name and have no `inline`.
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shards {
    /// How many shards (a power of two).
    pub of: u32,
    /// blake3 of each shard's bytes, by shard number.
    pub keys: Vec<String>,
    /// Stored by hash alone, shared between versions (`shards/<blake3>.json`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
    /// A path's shard is chosen by its name without its fingerprint (schema 4, see
    /// [`shard_key`]): a changed fingerprinted file stays in the shard it was in.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stem: bool,
    /// Files the head carries itself, in no shard (schema 4): those of
    /// [`IN_HEAD`], which change with every build.
    #[serde(default, skip_serializing_if = "FileMap::is_empty")]
    pub inline: FileMap,
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

    /// The shard number of `path` under this head.
    pub fn number(&self, path: &str) -> u32 {
        shard_number(path, self.of, self.stem)
    }
}

/// Paths a head carries itself rather than in a shard: the build's `version.json`
/// changes with every build (it names the build), so in a shard it would cost every
/// publish one more shard written.
pub const IN_HEAD: &[&str] = &["/version.json"];

/// The name a path is sharded by under a schema-4 head: the path with the
/// fingerprint taken out of its file name (`/a/app.3f2c9e01ab.js` → `/a/app.js`,
/// `/LICENSE.3f2c9e01ab` → `/LICENSE`), a fingerprint being 10 to 64 lowercase hex
/// digits between dots, before the last one or at the end. Every other path is its
/// own key. A changed fingerprinted file is renamed, not moved to another shard, so
/// a one-file change writes one shard of it instead of two. The edge worker has the
/// same function (`shardKey`); `fixtures/routing-vectors.json` holds cases both pass.
pub fn shard_key(path: &str) -> std::borrow::Cow<'_, str> {
    let is_fingerprint = |s: &str| {
        (10..=64).contains(&s.len()) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let start = path.rfind('/').map_or(0, |i| i + 1);
    let name = &path[start..];
    let Some(dot) = name.rfind('.') else {
        return path.into();
    };
    if let Some(d2) = name[..dot].rfind('.') {
        if is_fingerprint(&name[d2 + 1..dot]) {
            return format!("{}{}", &path[..start + d2], &name[dot..]).into();
        }
    }
    if dot > 0 && is_fingerprint(&name[dot + 1..]) {
        return path[..start + dot].into();
    }
    path.into()
}

/// A shard's document: `files` is a [`FileMap`] when read, a map of references when
/// written.
#[derive(Serialize, Deserialize)]
struct ShardDoc<F = FileMap> {
    schema: u32,
    files: F,
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

/// A shard document: the blake3 hex of its bytes, and the bytes.
pub(crate) type Doc = (String, Vec<u8>);

/// The shard that holds `path` among `of`: `fnv1a32` of the path, or with `stem`
/// (schema 4) of its [`shard_key`].
pub fn shard_number(path: &str, of: u32, stem: bool) -> u32 {
    let key = if stem { shard_key(path) } else { path.into() };
    crate::edge::routing::fnv1a32(key.as_bytes()) % of.max(1)
}

/// Splits a files map into `of` shard documents, `(blake3 hex, bytes)` by number
/// (paths placed by [`shard_key`]), and the files of [`IN_HEAD`] the head carries.
pub(crate) fn split(files: &FileMap, of: u32) -> Result<(Vec<Doc>, FileMap)> {
    // Borrowed: a map of references serializes as the map (same keys, same order).
    let mut parts: Vec<std::collections::BTreeMap<&str, &schema::FileEntry>> =
        vec![Default::default(); of as usize];
    let mut inline = FileMap::new();
    for (p, e) in files {
        if IN_HEAD.contains(&p.as_str()) {
            inline.insert(p.clone(), e.clone());
        } else {
            parts[shard_number(p, of, true) as usize].insert(p, e);
        }
    }
    // Serialized and hashed in parallel (the order of the result is the shards').
    let shards = parts
        .into_par_iter()
        .map(|files| {
            let bytes = schema::to_json(&ShardDoc { schema: 1, files })?;
            Ok((blake3::hash(&bytes).to_hex().to_string(), bytes))
        })
        .collect::<Result<_>>()?;
    Ok((shards, inline))
}

/// Checks a head's `shards` field before anything is fetched.
pub(crate) fn check(s: &Shards, files_in_head: usize, what: &str) -> Result<()> {
    let ok = s.of.is_power_of_two()
        && s.of <= MAX_SHARDS
        && s.keys.len() == s.of as usize
        && s.keys.iter().all(|k| schema::is_hash(k))
        && s.inline.keys().all(|p| IN_HEAD.contains(&p.as_str()))
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
    known: &crate::fasthash::HashSet<String>,
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
    let (of, stem) = (s.of, s.stem);
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
        if let Some(p) = doc.files.keys().find(|p| shard_number(p, of, stem) as usize != n) {
            return Err(Error::Integrity(format!("{key}: {p} does not belong in shard {n}")));
        }
        Ok::<FileMap, Error>(doc.files)
    }))
    .buffered(store.concurrency())
    .try_collect()
    .await?;
    let mut files: FileMap = s.inline.clone();
    for (p, e) in parts.into_iter().flatten() {
        if files.insert(p, e).is_some() {
            return Err(Error::Integrity(format!(
                "version {version}'s index names a file both in its head and in a shard (edited or corrupt)"
            )));
        }
    }
    Ok(files)
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
    fn shard_keys_drop_the_fingerprint() {
        let fp = "3f2c9e01ab";
        for (path, key) in [
            (format!("/a/app.{fp}.js"), "/a/app.js"),
            (format!("/LICENSE.{fp}"), "/LICENSE"),
            (format!("/x.tar.{fp}.gz"), "/x.tar.gz"),
            (format!("/a.{fp}/b.js"), "/a.3f2c9e01ab/b.js"),
            (format!("/.{fp}"), "/.3f2c9e01ab"),
            ("/app.3F2C9E01AB.js".to_string(), "/app.3F2C9E01AB.js"),
            ("/app.3f2c9e01a.js".to_string(), "/app.3f2c9e01a.js"),
            ("/index.html".to_string(), "/index.html"),
            ("/ž/app.0123456789abcdef.css".to_string(), "/ž/app.css"),
        ] {
            assert_eq!(shard_key(&path), key, "{path}");
        }
        // Every fingerprint of a file lands in the shard of its unfingerprinted name.
        for fp in ["0123456789", "ffffffffffffffff", &"a".repeat(64)] {
            assert_eq!(
                shard_number(&format!("/img/logo.{fp}.svg"), 8, true),
                shard_number("/img/logo.svg", 8, true)
            );
        }
    }

    /// The vectors the edge worker's `shardKey` passes too (inside workerd).
    #[test]
    fn shard_key_vectors() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../fixtures/routing-vectors.json")).unwrap();
        let cases = v["shard_keys"].as_array().unwrap();
        assert!(cases.len() >= 20);
        for c in cases {
            let path = c["path"].as_str().unwrap();
            assert_eq!(shard_key(path), c["key"].as_str().unwrap(), "{path}");
            assert_eq!(
                Some(shard_number(path, 8, true) as u64),
                c["shard_of_8"].as_u64(),
                "{path}"
            );
        }
    }

    #[test]
    fn version_json_goes_in_the_head() {
        let mut f = files(3_000);
        let e = f.values().next().unwrap().clone();
        f.insert("/version.json".into(), e);
        let (parts, inline) = split(&f, 4).unwrap();
        assert_eq!(inline.keys().collect::<Vec<_>>(), ["/version.json"]);
        let in_shards: usize = parts
            .iter()
            .map(|(_, b)| serde_json::from_slice::<ShardDoc>(b).unwrap().files.len())
            .sum();
        assert_eq!(in_shards, 3_000);
        let other = Shards {
            of: 1,
            keys: vec!["a".repeat(64)],
            shared: true,
            stem: true,
            inline: f
                .iter()
                .take(1)
                .map(|(p, e)| (p.clone(), e.clone()))
                .collect(),
        };
        assert!(
            check(&other, 0, "i").is_err(),
            "only IN_HEAD paths may be inline"
        );
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
        let (parts, inline) = split(&f, 8).unwrap();
        assert!(inline.is_empty());
        assert_eq!(parts.len(), 8);
        for (hash, bytes) in &parts {
            assert_eq!(&blake3::hash(bytes).to_hex().to_string(), hash);
            let doc: ShardDoc = serde_json::from_slice(bytes).unwrap();
            let n = doc.files.len();
            assert!((400..=850).contains(&n), "uneven shard: {n}");
        }
        assert_eq!(split(&f, 8).unwrap().0, parts, "deterministic");
    }

    #[test]
    fn malformed_heads_are_refused() {
        let k = "a".repeat(64);
        for bad in [
            Shards {
                of: 3,
                keys: vec![k.clone(); 3],
                shared: true,
                ..Default::default()
            },
            Shards {
                of: 2,
                keys: vec![k.clone()],
                shared: true,
                ..Default::default()
            },
            Shards {
                of: 1,
                keys: vec!["x".into()],
                shared: true,
                ..Default::default()
            },
            Shards {
                of: 0,
                keys: vec![],
                shared: true,
                ..Default::default()
            },
        ] {
            assert!(check(&bad, 0, "i").is_err(), "{bad:?}");
        }
        assert!(check(
            &Shards {
                of: 1,
                keys: vec![k.clone()],
                shared: true,
                ..Default::default()
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
                ..Default::default()
            },
            0,
            "i"
        )
        .is_ok());
    }
}
