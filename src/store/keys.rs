//! Store keys of schema 1 (see DESIGN.md, "Store layout"): every key and prefix
//! sitevault reads or writes is spelled here and nowhere else.

/// Prefix of every blob.
pub const BLOBS: &str = "blobs";
/// Prefix of every version folder.
pub const VERSIONS: &str = "versions";
/// Prefix of every channel folder.
pub const CHANNELS: &str = "channels";
/// Prefix of the shards of large version indexes (#12).
pub const SHARDS: &str = "shards";
/// Prefix of every pack in the cold store.
pub const PACKS: &str = "packs";

/// `blobs/<h0h1>/<hash>`. Callers pass a checked hash ([`crate::schema::is_hash`]);
/// anything else still yields a key (never a panic) that simply does not exist.
pub fn blob(hash: &str) -> String {
    let fan = hash.get(..2).unwrap_or(hash);
    format!("{BLOBS}/{fan}/{hash}")
}

/// `versions/<v>/index.json`.
pub fn version_index(v: &str) -> String {
    format!("{VERSIONS}/{v}/index.json")
}

/// `versions/<v>/archived.json`.
pub fn version_archived(v: &str) -> String {
    format!("{VERSIONS}/{v}/archived.json")
}

/// `shards/<v>/<blake3>.json`: one shard of a large version's files map, as heads of
/// schema 2 name them (one copy per version).
pub fn shard(v: &str, hash: &str) -> String {
    format!("{SHARDS}/{v}/{hash}.json")
}

/// `shards/<blake3>.json`: one shard, shared by every version whose files map has
/// that shard (heads of schema 3).
pub fn shared_shard(hash: &str) -> String {
    format!("{SHARDS}/{hash}.json")
}

/// `channels/<c>/log/<generation:020>.json`.
pub fn channel_log(c: &str, generation: u64) -> String {
    format!("{CHANNELS}/{c}/log/{generation:020}.json")
}

/// `channels/<c>/log/` prefix.
pub fn channel_log_prefix(c: &str) -> String {
    format!("{CHANNELS}/{c}/log")
}

/// `channels/<c>/manifest.json`.
pub fn channel_manifest(c: &str) -> String {
    format!("{CHANNELS}/{c}/manifest.json")
}

/// `channels/<c>/version.json`.
pub fn channel_version(c: &str) -> String {
    format!("{CHANNELS}/{c}/version.json")
}

/// cold: `packs/<v>.svpack`.
pub fn pack(v: &str) -> String {
    format!("{PACKS}/{v}.svpack")
}
