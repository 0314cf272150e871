//! Which blobs the store holds, in as few requests and round trips as the backend
//! allows. A few hashes: one HEAD each, all at once (one round trip). On S3, more
//! than that: the stretch of `blobs/` they span is listed, 1,000 keys a request, in
//! key order (a blob's key sorts as its hash), and listing stops where HEADs for the
//! rest would be faster — so a rollback to a version of 40 blobs in a small store
//! costs one request, and in a store of millions of blobs no more than its HEADs
//! and one listing. Elsewhere (local stores, where requests are cheap): HEADs, or
//! one whole listing for many.

use crate::fasthash::{HashMap, HashSet};

use futures::{StreamExt, TryStreamExt};

use crate::error::{Error, Result};
use crate::schema;
use crate::store::{keys, Backend, Store};

/// Keys per listing request on S3.
const PAGE: usize = 1000;

/// Off S3, below this many blobs HEAD requests are cheaper than listing the blob store.
const HEAD_LIMIT: usize = 64;

/// Which of `wanted` (hash, size) the store holds — under the blob's own key and
/// with that size (a truncated or padded blob is as good as missing) — and how many
/// requests it took.
pub(crate) async fn present_blobs(
    store: &Store,
    wanted: Vec<(&str, u64)>,
) -> Result<(HashSet<String>, u64)> {
    if wanted.len() <= store.concurrency() {
        return heads(store, wanted).await;
    }
    if store.backend() == Backend::S3 {
        return ranged(store, wanted).await;
    }
    if wanted.len() <= HEAD_LIMIT {
        return heads(store, wanted).await;
    }
    let listed = store.list(keys::BLOBS).await?;
    let pages = listed.len() as u64 / PAGE as u64 + 1;
    let wanted: HashMap<&str, u64> = wanted.into_iter().collect();
    // A blob counts only under its own key (not a copy under another fan folder).
    let present = listed
        .iter()
        .filter_map(|meta| {
            let name = meta.location.filename()?;
            let ok =
                wanted.get(name) == Some(&meta.size) && meta.location.as_ref() == keys::blob(name);
            ok.then_some(name)
        })
        .map(str::to_string)
        .collect();
    Ok((present, pages))
}

/// One HEAD per blob, at the store's concurrency.
async fn heads(store: &Store, wanted: Vec<(&str, u64)>) -> Result<(HashSet<String>, u64)> {
    let owned: Vec<(String, u64)> = wanted
        .into_iter()
        .map(|(h, n)| (h.to_string(), n))
        .collect();
    let found = futures::stream::iter(owned.into_iter().map(|(h, size)| {
        let store = store.clone();
        async move {
            let meta = store.head(&keys::blob(&h)).await?;
            Ok::<_, Error>((h, meta.is_some_and(|m| m.size == size)))
        }
    }))
    .buffer_unordered(store.concurrency())
    .try_collect::<Vec<_>>()
    .await?;
    let n = found.len() as u64;
    let present = found
        .into_iter()
        .filter(|(_, held)| *held)
        .map(|(h, _)| h)
        .collect();
    Ok((present, n))
}

/// Lists `blobs/` from the first wanted key on, a page at a time, while the pages
/// still to read (estimated from how much of the hash space the pages so far
/// covered) take no more round trips than HEADs for the hashes not reached yet;
/// then HEADs those. A listing out of key order, or not after the key asked for
/// (S3 Express lists in no order, and ignores `start-after`), proves nothing about
/// what it did not show: every hash not found by then gets a HEAD.
async fn ranged(store: &Store, mut wanted: Vec<(&str, u64)>) -> Result<(HashSet<String>, u64)> {
    wanted.sort_unstable();
    wanted.dedup_by(|a, b| a.0 == b.0);
    if wanted.is_empty() || !wanted.iter().all(|(h, _)| schema::is_hash(h)) {
        return heads(store, wanted).await;
    }
    // In the same order as `wanted`: a blob's key sorts as its hash.
    let wanted_keys: Vec<String> = wanted.iter().map(|(h, _)| keys::blob(h)).collect();
    let mut present = HashSet::default();
    let mut requests = 0u64;
    // Just before the first wanted key: that key without its last (hex) digit.
    let first = &wanted_keys[0];
    let mut after = first[..first.len() - 1].to_string();
    let start = position(wanted[0].0);
    let mut listed = 0usize;
    // Index of the first wanted key the listing has not reached.
    let mut reached = 0usize;
    let rest: Vec<(&str, u64)> = loop {
        let page = store.list_after(keys::BLOBS, &after, PAGE).await?;
        requests += 1;
        listed += page.len();
        if !in_key_order(&after, page.iter().map(|m| m.location.as_ref())) {
            break unfound(&wanted, &present);
        }
        for m in &page {
            if let Ok(i) = wanted_keys.binary_search_by(|k| k.as_str().cmp(m.location.as_ref())) {
                if wanted[i].1 == m.size {
                    present.insert(wanted[i].0.to_string());
                }
            }
        }
        // A short page is the end of the listing: every wanted key was reached.
        let Some(last) = page.last().filter(|_| page.len() == PAGE) else {
            break Vec::new();
        };
        let last_key = last.location.as_ref();
        reached += wanted_keys[reached..].partition_point(|k| k.as_str() <= last_key);
        let Some((furthest, _)) = wanted.get(reached..).and_then(|r| r.last()) else {
            break Vec::new();
        };
        let pages_left = match last.location.filename().and_then(position_of) {
            Some(r) if r > start => {
                let per_unit = listed as f64 / (r - start);
                (per_unit * (position(furthest) - r) / PAGE as f64).ceil()
            }
            _ => f64::INFINITY,
        };
        let head_rounds = (wanted.len() - reached).div_ceil(store.concurrency()) as f64;
        if pages_left > head_rounds {
            break wanted[reached..].to_vec();
        }
        after = last_key.to_string();
    };
    let (found, heads) = heads(store, rest).await?;
    present.extend(found);
    Ok((present, requests + heads))
}

/// Whether `keys` come in strictly increasing order, all after `after`.
fn in_key_order<'a>(after: &'a str, mut keys: impl Iterator<Item = &'a str>) -> bool {
    keys.try_fold(after, |prev, key| (key > prev).then_some(key))
        .is_some()
}

/// The blobs of `wanted` not in `present`.
fn unfound<'a>(wanted: &[(&'a str, u64)], present: &HashSet<String>) -> Vec<(&'a str, u64)> {
    wanted
        .iter()
        .copied()
        .filter(|(h, _)| !present.contains(*h))
        .collect()
}

/// Where a hash lies in the hash space, from 0 to 1: its first 16 hex digits.
fn position(hash: &str) -> f64 {
    position_of(hash).unwrap_or(0.0)
}

fn position_of(name: &str) -> Option<f64> {
    let head = name.get(..16)?;
    u64::from_str_radix(head, 16)
        .ok()
        .map(|v| v as f64 / 18_446_744_073_709_551_616.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Attrs;

    fn hash(i: usize) -> String {
        blake3::hash(&i.to_le_bytes()).to_hex().to_string()
    }

    /// A store holding the blobs `0..n` (and a stray key a listing must skip).
    async fn store_with(n: usize) -> Store {
        let s = Store::memory();
        for i in 0..n {
            let key = keys::blob(&hash(i));
            s.put_create(&key, bytes::Bytes::from_static(b"x"), &Attrs::default())
                .await
                .unwrap();
        }
        let stray = format!("{}/80/not-a-hash", keys::BLOBS);
        s.put_create(&stray, bytes::Bytes::new(), &Attrs::default())
            .await
            .unwrap();
        s
    }

    /// Each hash with the size every test blob has.
    fn sized(hashes: &[String]) -> Vec<(&str, u64)> {
        hashes.iter().map(|h| (h.as_str(), 1)).collect()
    }

    /// `ranged` against the truth, and its requests.
    async fn check(s: &Store, wanted: &[String], held: usize) -> u64 {
        let refs = sized(wanted);
        let (present, requests) = ranged(s, refs).await.unwrap();
        let truth: HashSet<String> = (0..held).map(hash).collect();
        for h in wanted {
            assert_eq!(present.contains(h), truth.contains(h), "{h}");
        }
        assert!(present.iter().all(|h| wanted.contains(h)));
        requests
    }

    #[test]
    fn a_listing_must_come_in_key_order_after_the_key_asked_for() {
        assert!(in_key_order("b", ["c", "d"].into_iter()));
        assert!(in_key_order("b", std::iter::empty()));
        assert!(!in_key_order("b", ["a", "c"].into_iter()));
        assert!(!in_key_order("b", ["b"].into_iter()));
        assert!(!in_key_order("b", ["d", "c"].into_iter()));
        assert!(!in_key_order("b", ["c", "c"].into_iter()));
    }

    #[tokio::test]
    async fn page_boundaries_strays_and_misplaced_copies() {
        let s = store_with(2_500).await;
        let mut held: Vec<String> = (0..2_500).map(hash).collect();
        held.sort();
        // The first and last keys of pages (strays sort among them), and neighbours.
        let mut wanted: Vec<String> = [0, 998, 999, 1_000, 1_001, 1_998, 1_999, 2_000, 2_499]
            .iter()
            .map(|&i| held[i].clone())
            .collect();
        wanted.extend((2_500..2_530).map(hash));
        check(&s, &wanted, 2_500).await;
        for start in [1, 500, 999, 1_000, 1_500] {
            check(&s, &held[start..start + 40], 2_500).await;
        }
        // A blob's bytes under another fan folder are not that blob.
        let lost = hash(9_999);
        let wrong = format!("{}/zz/{lost}", keys::BLOBS);
        s.put_create(&wrong, bytes::Bytes::from_static(b"x"), &Attrs::default())
            .await
            .unwrap();
        let mut some = sized(&held[..100]);
        some.push((&lost, 1));
        let (present, _) = ranged(&s, some.clone()).await.unwrap();
        assert!(!present.contains(&lost) && present.len() == 100);
        let (present, _) = present_blobs(&s, some).await.unwrap();
        assert!(!present.contains(&lost) && present.len() == 100);
        // A blob of another size than the index gives it is as good as missing, by
        // listing and by HEAD.
        let mut resized = sized(&held[..100]);
        resized[7].1 = 2;
        for (present, _) in [
            ranged(&s, resized.clone()).await.unwrap(),
            present_blobs(&s, resized.clone()).await.unwrap(),
            heads(&s, resized.clone()).await.unwrap(),
        ] {
            assert!(!present.contains(resized[7].0) && present.len() == 99);
        }
        // Not hashes: one HEAD each, no panic.
        let (present, requests) = ranged(&s, vec![("abé", 1), ("", 1), ("x", 1)])
            .await
            .unwrap();
        assert!(present.is_empty() && requests == 3);
    }

    #[tokio::test]
    async fn a_ranged_check_finds_what_is_held_and_what_is_not() {
        let s = store_with(2_500).await;
        // Many hashes over the whole space, a third missing: listed to the end (3
        // pages) rather than 900 HEADs.
        let many: Vec<String> = (0..900).map(|i| hash(i * 3)).collect();
        assert_eq!(check(&s, &many, 2_500).await, 3);
        // A few spread hashes: one page, then HEADs for those it did not reach.
        let few: Vec<String> = (0..40).map(|i| hash(i * 61 + 7)).collect();
        let requests = check(&s, &few, 2_500).await;
        assert!(requests > 1 && requests < 40, "{requests}");
        // Hashes packed in one stretch: one page covers them.
        let mut packed: Vec<String> = (0..2_600).map(hash).collect();
        packed.sort();
        let packed: Vec<String> = packed[1_000..1_040].to_vec();
        assert_eq!(check(&s, &packed, 2_500).await, 1);
        // A small store: one page is all of it.
        let small = store_with(50).await;
        let some: Vec<String> = (0..60).map(hash).collect();
        assert_eq!(check(&small, &some, 50).await, 1);
        // Duplicates count once.
        let twice: Vec<String> = some.iter().chain(some.iter()).cloned().collect();
        assert_eq!(check(&small, &twice, 50).await, 1);
    }

    #[test]
    fn positions_follow_the_hash_order() {
        assert_eq!(position(&"0".repeat(64)), 0.0);
        assert!((position(&format!("8{}", "0".repeat(63))) - 0.5).abs() < 1e-12);
        assert!(position(&"f".repeat(64)) <= 1.0);
        assert_eq!(position_of("not-a-hash-at-all"), None);
        assert_eq!(position_of("abc"), None);
    }
}
