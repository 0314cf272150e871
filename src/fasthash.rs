//! Hash sets and maps for the keys publish handles by the thousand: blob and shard
//! hashes (blake3 digests) and the public paths of the user's own build. std's
//! SipHash resists collision attacks that need attacker-chosen keys; these keys are
//! digests or the user's own file names, and SipHash took ~15 ms of the ~0.2 s of
//! CPU a one-file publish of a 15,000-blob version used. foldhash is what hashbrown
//! itself defaults to.

/// A hash set with foldhash's fast hasher.
pub(crate) type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

/// A hash map with foldhash's fast hasher.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
