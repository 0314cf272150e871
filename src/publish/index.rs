//! The version index (`versions/<v>/index.json`): path → blob, the truth for content
//! type and cache class. Written create-only, last, by publish.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::schema::{parse, parse_max, FileMap};
use crate::store::{keys, Created, Store};
use bytes::Bytes;

/// Where a version came from.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Source {
    /// Git commit, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<String>,
}

/// File and byte counts.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Totals {
    /// Number of files.
    pub files: u64,
    /// Sum of file sizes.
    pub bytes: u64,
}

/// `versions/<v>/index.json`, schema 1.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VersionIndex {
    /// Always 1.
    pub schema: u32,
    /// The version id.
    pub version: String,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// Who published it.
    pub created_by: String,
    /// Source control information.
    #[serde(default)]
    pub source: Source,
    /// Tool that wrote it.
    pub tool: String,
    /// Digest of `files` (see [`crate::schema::digest`]).
    pub digest: String,
    /// Totals.
    pub totals: Totals,
    /// Digest of `files` with their precompressed variants (#12); absent when no
    /// file has one (see [`crate::schema::enc_digest`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc_digest: Option<String>,
    /// Public path → blob. Empty in the stored head of a sharded index (see
    /// [`super::shards`]); [`load`] fills it from the shards.
    #[serde(default, deserialize_with = "crate::schema::files_in_bulk")]
    pub files: FileMap,
    /// Where the files map lives when the version is large (#12); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<super::shards::Shards>,
}

/// `versions/<v>/archived.json`: what is left in the hot store of an archived version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArchivedStub {
    /// Always 1.
    pub schema: u32,
    /// The version id.
    pub version: String,
    /// Digest of the version's files map.
    pub digest: String,
    /// When it was archived.
    pub archived_at: String,
    /// Key of the pack in the cold store.
    pub pack: String,
    /// The cold store's URL (for people; restore uses the configured cold store).
    #[serde(default)]
    pub cold: String,
    /// Totals of the archived version.
    pub totals: Totals,
    /// Creation time of the version.
    #[serde(default)]
    pub created_at: String,
}

impl VersionIndex {
    /// Parses and checks an index read from `what` (a key or a file): every path is
    /// a clean site path, every hash a blake3 digest, and the digest matches the
    /// files. A store can hold anything; nothing unchecked reaches a file name,
    /// a store key or a visitor.
    ///
    /// A sharded head is refused here: read it with [`load`], which fetches its shards.
    pub fn from_bytes(bytes: &[u8], what: &str) -> Result<VersionIndex> {
        let idx: VersionIndex = parse_max(bytes, crate::schema::INDEX_SCHEMA, what)?;
        if idx.shards.is_some() {
            return Err(Error::Integrity(format!(
                "{what}: a sharded index head, read without its shards"
            )));
        }
        idx.check(what)?;
        Ok(idx)
    }

    /// The checks of [`VersionIndex::from_bytes`] on a whole files map.
    fn check(&self, what: &str) -> Result<()> {
        let idx = self;
        for (p, e) in &idx.files {
            crate::schema::check_public_path(p)
                .map_err(|m| Error::Integrity(format!("{what}: {m}")))?;
            // A variant's sidecar name must not be a listed file too (pull writes both).
            if let Some((c, _)) = e
                .enc
                .iter()
                .find(|(c, _)| idx.files.contains_key(&format!("{p}{}", c.suffix())))
            {
                return Err(Error::Integrity(format!(
                    "{what}: {p}{} is both a file and {p}'s {} variant",
                    c.suffix(),
                    c.token()
                )));
            }
            let header_safe = !e.content_type.is_empty()
                && e.content_type.len() <= 255
                && e.content_type.bytes().all(|b| (b' '..=b'~').contains(&b));
            if !header_safe {
                return Err(Error::Integrity(format!(
                    "{what}: {p}: content type {:?} is not a valid header value",
                    e.content_type
                )));
            }
            if !crate::schema::is_hash(&e.hash) {
                return Err(Error::Integrity(format!(
                    "{what}: {p}: {:?} is not a blake3 digest",
                    e.hash
                )));
            }
        }
        let (digest, enc_digest) = crate::schema::digests(&idx.files);
        if digest != idx.digest {
            return Err(Error::Integrity(format!(
                "{what}: the digest does not match its files (edited or corrupt)"
            )));
        }
        crate::schema::check_variant_hashes(&idx.files)
            .and_then(|()| match enc_digest == idx.enc_digest {
                true => Ok(()),
                false => Err(crate::schema::ENC_DIGEST_MISMATCH.to_string()),
            })
            .and_then(|()| crate::schema::check_sizes(&idx.files))
            .map_err(|m| Error::Integrity(format!("{what}: {m}")))?;
        Ok(())
    }

    /// The index as one document, files inline (how a pack carries it).
    pub(crate) fn whole(&self) -> VersionIndex {
        VersionIndex {
            shards: None,
            ..self.clone()
        }
    }
}

impl VersionIndex {
    /// Every blob the version needs (bytes and precompressed variants), each once,
    /// sorted. gc, archive, sync and a channel's target check all count these.
    pub fn blob_hashes(&self) -> Vec<&str> {
        crate::schema::blobs_of(&self.files).into_keys().collect()
    }

    /// Every distinct blob the version names, with its size.
    pub(crate) fn blob_sizes(&self) -> Vec<(&str, u64)> {
        crate::schema::blobs_of(&self.files)
            .into_iter()
            .map(|(h, (_, b))| (h, b.size))
            .collect()
    }

    /// The shared shards the version's head names (schema 3), by hash.
    pub fn shared_shards(&self) -> &[String] {
        match &self.shards {
            Some(s) if s.shared => &s.keys,
            _ => &[],
        }
    }

    /// What gc must keep for this version: its blobs and its shared shards.
    pub(crate) fn kept_hashes(&self) -> impl Iterator<Item = String> + '_ {
        self.blob_hashes()
            .into_iter()
            .chain(self.shared_shards().iter().map(String::as_str))
            .map(str::to_string)
    }
}

/// Reads a version's index from the hot store (`None` when it is not there): the
/// whole files map, read from its shards when the version is sharded, and checked.
pub async fn load(store: &Store, version: &str) -> Result<Option<VersionIndex>> {
    let key = keys::version_index(version);
    match store.get(&key).await? {
        Some(b) => Ok(Some(from_head(store, version, &b, &key).await?)),
        None => Ok(None),
    }
}

/// Parses index bytes read from `store`; a sharded head gets its shards read.
pub(crate) async fn from_head(
    store: &Store,
    version: &str,
    bytes: &[u8],
    what: &str,
) -> Result<VersionIndex> {
    let mut idx: VersionIndex = parse_max(bytes, crate::schema::INDEX_SCHEMA, what)?;
    // An index copied (or linked) under another id must not make that id routable.
    if idx.version != version {
        return Err(Error::Integrity(format!(
            "{what} holds version {:?}, not {version}: a copy made by hand, not a version. \
             Delete {what} (the version it names is untouched)",
            idx.version
        )));
    }
    if let Some(s) = &idx.shards {
        super::shards::check(s, idx.files.len(), what)?;
        idx.files = super::shards::read_all(store, version, s).await?;
    }
    idx.check(what)?;
    Ok(idx)
}

/// Writes a version's index create-only, as the last step of making it visible.
/// `whole`: the exact bytes to store (a restore of an index stored whole, a sync);
/// otherwise the index is encoded here, a large version's shards written first and
/// its head after them (see [`super::shards`]); shards in `known` are named by a hot
/// head and not written again.
pub(crate) async fn write(
    store: &Store,
    idx: &VersionIndex,
    whole: Option<Bytes>,
    known: &crate::fasthash::HashSet<String>,
) -> Result<Written> {
    let split = match whole {
        Some(_) => None,
        None => split(&idx.files)?,
    };
    write_split(store, idx, whole, split.as_ref(), known).await
}

/// A large version's files map cut into shards (see [`super::shards`]).
pub(crate) struct Split {
    of: u32,
    /// `(blake3, bytes)` of each shard, in routing order.
    pub(crate) shards: Vec<(String, Vec<u8>)>,
    /// The files the head carries itself (see [`super::shards::IN_HEAD`]).
    inline: crate::schema::FileMap,
}

/// The shards of a version with `files`, or `None` when it is small enough to be
/// stored whole.
pub(crate) fn split(files: &crate::schema::FileMap) -> Result<Option<Split>> {
    let of = super::shards::count_for(files.len());
    if of == 0 {
        return Ok(None);
    }
    let (shards, inline) = super::shards::split(files, of)?;
    Ok(Some(Split { of, shards, inline }))
}

/// [`write`] with the shards already cut (by [`split`] of the same index): the
/// shards not in `known`, then the head. With `split`, `idx.files` is not read (it
/// may be empty: the head does not carry it).
pub(crate) async fn write_split(
    store: &Store,
    idx: &VersionIndex,
    whole: Option<Bytes>,
    split: Option<&Split>,
    known: &crate::fasthash::HashSet<String>,
) -> Result<Written> {
    let mut shard_puts = 0;
    let body = match (whole, split) {
        (Some(b), _) => b,
        (None, None) => {
            let doc = VersionIndex {
                schema: crate::schema::schema_for(&idx.files, false),
                shards: None,
                ..idx.clone()
            };
            Bytes::from(crate::schema::to_json(&doc)?)
        }
        (None, Some(split)) => {
            shard_puts = super::shards::write(store, &split.shards, known).await?;
            head(idx, split)?
        }
    };
    let size = body.len() as u64;
    let created = store
        .put_create(
            &keys::version_index(&idx.version),
            body,
            &super::shards::immutable_json(),
        )
        .await?;
    Ok(Written {
        created,
        size,
        shards: split
            .map(|s| s.shards.iter().map(|(h, _)| h.clone()).collect())
            .unwrap_or_default(),
        shard_puts,
    })
}

/// What [`write`] did.
pub(crate) struct Written {
    /// Whether `index.json` was created (or was there already).
    pub created: Created,
    /// Size of `index.json`.
    pub size: u64,
    /// The shards the head names (empty for an index stored whole).
    pub shards: Vec<String>,
    /// How many shards were written.
    pub shard_puts: u64,
}

/// The bytes of a large version's `index.json`: every field but `files`, and the
/// names of its shards. A head has no `files` field at all: an edge worker from
/// before shards then fails loudly (a 5xx the health gate sees) instead of
/// answering 404 for every path.
fn head(idx: &VersionIndex, split: &Split) -> Result<Bytes> {
    let head = VersionIndex {
        schema: crate::schema::schema_for(&idx.files, true),
        version: idx.version.clone(),
        created_at: idx.created_at.clone(),
        created_by: idx.created_by.clone(),
        source: idx.source.clone(),
        tool: idx.tool.clone(),
        digest: idx.digest.clone(),
        totals: idx.totals,
        enc_digest: idx.enc_digest.clone(),
        files: Default::default(),
        shards: Some(super::shards::Shards {
            of: split.of,
            keys: split.shards.iter().map(|(h, _)| h.clone()).collect(),
            shared: true,
            stem: true,
            inline: split.inline.clone(),
        }),
    };
    let mut value = serde_json::to_value(&head)
        .map_err(|e| Error::Internal(format!("serializing an index head: {e}")))?;
    if let Some(o) = value.as_object_mut() {
        o.remove("files");
    }
    Ok(Bytes::from(crate::schema::to_json(&value)?))
}

/// Reads a version's archive stub (`None` when it is not archived).
pub async fn load_stub(store: &Store, version: &str) -> Result<Option<ArchivedStub>> {
    let key = keys::version_archived(version);
    match store.get(&key).await? {
        Some(b) => Ok(Some(parse(&b, &key)?)),
        None => Ok(None),
    }
}

/// Reads a version's index, with a message saying what to do when it is missing.
pub async fn require(store: &Store, version: &str) -> Result<VersionIndex> {
    crate::ids::check_version(version)?;
    if let Some(i) = load(store, version).await? {
        return Ok(i);
    }
    if load_stub(store, version).await?.is_some() {
        return Err(Error::input(format!(
            "version {version} is archived in cold storage; run `sitevault restore {version}` first"
        )));
    }
    Err(Error::input(format!(
        "version {version} is not published in {} (see `sitevault versions`)",
        store.url()
    )))
}
