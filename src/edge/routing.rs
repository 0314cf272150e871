//! The routing rule (DESIGN.md), identical in Rust and in the JS edge worker:
//!
//! ```text
//! bucket = fnv1a32(utf8(canary.version + ":" + uid)) % 10000
//! serve canary.version iff canary != null and bucket < round(canary.percent * 100)
//! ```
//!
//! An override (header or `?sv-version=`) is honoured only when it names the current
//! stable or canary. No dependencies beyond the manifest type.

use crate::channel::record::Manifest;

/// 32-bit FNV-1a of `bytes`.
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c9dc5;
    for b in bytes {
        h ^= *b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The visitor's bucket (0..10000) for a canary version.
///
/// ```
/// use sitevault::edge::routing::{bucket, in_canary};
/// // From fixtures/routing-vectors.json.
/// assert_eq!(bucket("v1.4.0", "alice"), 3346);
/// assert!(in_canary("v1.4.0", 33.47, "alice"));
/// assert!(!in_canary("v1.4.0", 33.46, "alice"));
/// ```
pub fn bucket(canary_version: &str, uid: &str) -> u32 {
    let mut key = String::with_capacity(canary_version.len() + 1 + uid.len());
    key.push_str(canary_version);
    key.push(':');
    key.push_str(uid);
    fnv1a32(key.as_bytes()) % 10000
}

/// True when a visitor with `uid` is in a canary of `version` at `percent`.
pub fn in_canary(version: &str, percent: f64, uid: &str) -> bool {
    (bucket(version, uid) as f64) < (percent * 100.0).round()
}

/// The version to serve to a visitor. `None` when the channel has no stable and the
/// visitor is not in the canary.
pub fn decide<'m>(m: &'m Manifest, uid: &str, override_version: Option<&str>) -> Option<&'m str> {
    if let Some(o) = override_version {
        if m.stable.as_deref() == Some(o) {
            return m.stable.as_deref();
        }
        if let Some(c) = &m.canary {
            if c.version == o {
                return Some(&c.version);
            }
        }
    }
    if let Some(c) = &m.canary {
        if in_canary(&c.version, c.percent, uid) {
            return Some(&c.version);
        }
    }
    m.stable
        .as_deref()
        .or(m.canary.as_ref().map(|c| c.version.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::record::{Canary, Routing};

    const VECTORS: &str = include_str!("../../fixtures/routing-vectors.json");

    fn manifest(stable: Option<&str>, canary: Option<(&str, f64)>) -> Manifest {
        Manifest {
            schema: 1,
            channel: "production".into(),
            generation: 1,
            stable: stable.map(String::from),
            canary: canary.map(|(v, p)| Canary {
                version: v.into(),
                percent: p,
                stage: 0,
                started_at: String::new(),
            }),
            previous: vec![],
            state: "rolling".into(),
            updated_at: String::new(),
            updated_by: String::new(),
            routing: Routing::default(),
        }
    }

    #[derive(serde::Deserialize)]
    struct Vectors {
        buckets: Vec<BucketVector>,
        routes: Vec<RouteVector>,
        share_at_10_percent_of_20000_sequential_ids: f64,
    }

    #[derive(Debug, serde::Deserialize)]
    struct BucketVector {
        salt: String,
        uid: String,
        fnv1a32: u32,
        bucket: u32,
    }

    #[derive(Debug, serde::Deserialize)]
    struct RouteVector {
        stable: Option<String>,
        canary: Option<String>,
        percent: f64,
        uid: String,
        expect: Option<String>,
    }

    fn vectors() -> Vectors {
        serde_json::from_str(VECTORS).expect("fixtures/routing-vectors.json parses")
    }

    #[test]
    fn bucket_vectors() {
        let v = vectors();
        assert!(v.buckets.len() >= 100);
        for b in &v.buckets {
            let key = format!("{}:{}", b.salt, b.uid);
            assert_eq!(fnv1a32(key.as_bytes()), b.fnv1a32, "{b:?}");
            assert_eq!(bucket(&b.salt, &b.uid), b.bucket, "{b:?}");
        }
    }

    #[test]
    fn route_vectors() {
        for r in &vectors().routes {
            let canary = r.canary.as_deref().map(|c| (c, r.percent));
            let m = manifest(r.stable.as_deref(), canary);
            assert_eq!(decide(&m, &r.uid, None), r.expect.as_deref(), "{r:?}");
        }
    }

    #[test]
    fn share_at_ten_percent() {
        let want = vectors().share_at_10_percent_of_20000_sequential_ids;
        // The vectors' sequential ids: "0".."19999" with the canary "v1.4.0".
        let hits = (0..20000)
            .filter(|i| in_canary("v1.4.0", 10.0, &i.to_string()))
            .count();
        let share = hits as f64 / 20000.0;
        assert!(
            (share - want).abs() < 0.02,
            "share {share}, vectors say {want}"
        );
    }

    #[test]
    fn sticky_and_monotonic() {
        for uid in (0..2000).map(|i| format!("user-{i}")) {
            let at10 = in_canary("v2", 10.0, &uid);
            let at25 = in_canary("v2", 25.0, &uid);
            assert!(!at10 || at25, "{uid} left the canary when it grew");
        }
    }

    #[test]
    fn overrides_only_for_current_versions() {
        let m = manifest(Some("v1"), Some(("v2", 0.0)));
        assert_eq!(decide(&m, "u", Some("v2")), Some("v2"));
        assert_eq!(decide(&m, "u", Some("v1")), Some("v1"));
        assert_eq!(decide(&m, "u", Some("v0")), Some("v1"));
        assert_eq!(decide(&m, "u", None), Some("v1"));
    }
}
