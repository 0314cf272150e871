//! Store keys of schema 1 (see DESIGN.md, "Store layout").

/// `blobs/<h0h1>/<hash>`.
pub fn blob(hash: &str) -> String {
    format!("blobs/{}/{}", &hash[..2.min(hash.len())], hash)
}

/// `versions/<v>/index.json`.
pub fn version_index(v: &str) -> String {
    format!("versions/{v}/index.json")
}

/// `versions/<v>/archived.json`.
pub fn version_archived(v: &str) -> String {
    format!("versions/{v}/archived.json")
}

/// `channels/<c>/log/<generation:020>.json`.
pub fn channel_log(c: &str, generation: u64) -> String {
    format!("channels/{c}/log/{generation:020}.json")
}

/// `channels/<c>/log/` prefix.
pub fn channel_log_prefix(c: &str) -> String {
    format!("channels/{c}/log")
}

/// `channels/<c>/manifest.json`.
pub fn channel_manifest(c: &str) -> String {
    format!("channels/{c}/manifest.json")
}

/// `channels/<c>/version.json`.
pub fn channel_version(c: &str) -> String {
    format!("channels/{c}/version.json")
}

/// True for a 64-hex blake3 string.
pub fn is_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
