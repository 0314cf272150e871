//! One conformance suite, run against every backend: memory://, file:// and a real
//! S3 server (moto). Same tests, same expectations.
//!
//! Each capability is one small named function (object_store's `integration.rs`
//! style); `conformance!` turns every capability into a test per backend, so a
//! failure reads `s3::create_only_writes_once`, not "the suite failed somewhere".

use crate::channel_suite;
use crate::common;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use sitevault::publish::{self, PublishOptions};
use sitevault::store::{keys, Attrs, Created, GetIfChanged, Store, StoreSpec};

fn text_attrs() -> Attrs {
    Attrs {
        content_type: Some("text/plain".into()),
        cache_control: Some("public, max-age=0, must-revalidate".into()),
        ..Default::default()
    }
}

async fn missing_keys_read_as_none(s: &Store) {
    assert_eq!(s.get("x/missing").await.unwrap(), None);
    assert!(s.head("x/missing").await.unwrap().is_none());
    assert!(s.get_stream("x/missing").await.unwrap().is_none());
    assert!(s.stored_attributes("x/missing").await.unwrap().is_none());
    assert!(matches!(
        s.get_if_changed("x/missing", None).await.unwrap(),
        GetIfChanged::Missing
    ));
}

async fn create_only_writes_once(s: &Store) {
    let a = text_attrs();
    assert_eq!(
        s.put_create("x/a", Bytes::from_static(b"one"), &a)
            .await
            .unwrap(),
        Created::Created
    );
    assert_eq!(
        s.put_create("x/a", Bytes::from_static(b"two"), &a)
            .await
            .unwrap(),
        Created::AlreadyExists
    );
    assert_eq!(
        s.get("x/a").await.unwrap().unwrap(),
        Bytes::from_static(b"one")
    );
}

async fn overwrite_replaces(s: &Store) {
    let a = text_attrs();
    s.put_overwrite("x/b", Bytes::from_static(b"first"), &a)
        .await
        .unwrap();
    s.put_overwrite("x/b", Bytes::from_static(b"second"), &a)
        .await
        .unwrap();
    assert_eq!(
        s.get("x/b").await.unwrap().unwrap(),
        Bytes::from_static(b"second")
    );
    assert_eq!(s.head("x/b").await.unwrap().unwrap().size, 6);
}

async fn list_and_list_dirs(s: &Store) {
    let a = text_attrs();
    for k in ["x/a", "x/b", "x/sub/c", "y/d"] {
        s.put_overwrite(k, Bytes::from_static(b"c"), &a)
            .await
            .unwrap();
    }
    let mut listed: Vec<String> = s
        .list("x")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.location.to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, vec!["x/a", "x/b", "x/sub/c"]);
    assert_eq!(s.list_dirs("x").await.unwrap(), vec!["sub".to_string()]);
}

async fn list_after_reads_a_stretch_in_key_order(s: &Store) {
    let a = text_attrs();
    for k in ["k/e", "k/b/2", "k/a", "k/d", "k/b/1", "k/c", "l/a"] {
        s.put_overwrite(k, Bytes::from_static(b"c"), &a)
            .await
            .unwrap();
    }
    let page = |after: &'static str, max| async move {
        s.list_after("k", after, max)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.location.to_string())
            .collect::<Vec<_>>()
    };
    // Keys after `after` (not the key itself), sorted, at most `max`, relative to the
    // store's root (an S3 store here lives under a prefix).
    assert_eq!(page("k/b", 3).await, ["k/b/1", "k/b/2", "k/c"]);
    assert_eq!(page("k/b/2", 2).await, ["k/c", "k/d"]);
    // A short page is the end; nothing of the next prefix leaks in.
    assert_eq!(page("k/d", 5).await, ["k/e"]);
    assert!(page("k/e", 5).await.is_empty());
    assert_eq!(page("k/0", 1).await, ["k/a"]);
    // Across a real page of the backend (S3 answers 1,000 keys a request): a full
    // page, then the rest.
    let keys: Vec<String> = (0..1_005).map(|i| format!("p/{i:05}")).collect();
    futures::stream::iter(keys.iter().map(|k| s.put_overwrite(k, Bytes::new(), &a)))
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await
        .unwrap();
    let first: Vec<String> = s
        .list_after("p", "p/", 1_000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.location.to_string())
        .collect();
    assert_eq!(first, keys[..1_000]);
    let rest: Vec<String> = s
        .list_after("p", &keys[999], 1_000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.location.to_string())
        .collect();
    assert_eq!(rest, keys[1_000..]);
}

async fn ranged_and_streamed_reads(s: &Store) {
    s.put_overwrite("x/b", Bytes::from_static(b"second"), &text_attrs())
        .await
        .unwrap();
    assert_eq!(
        s.get_range("x/b", 1..4).await.unwrap(),
        Bytes::from_static(b"eco")
    );
    use futures::TryStreamExt;
    let chunks: Vec<Bytes> = s
        .get_stream("x/b")
        .await
        .unwrap()
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(chunks.concat(), b"second");
}

async fn conditional_reads(s: &Store) {
    s.put_overwrite("x/b", Bytes::from_static(b"second"), &text_attrs())
        .await
        .unwrap();
    let etag = match s.get_if_changed("x/b", None).await.unwrap() {
        GetIfChanged::Changed(b, etag) => {
            assert_eq!(b, Bytes::from_static(b"second"));
            etag
        }
        other => panic!("{other:?}"),
    };
    if let Some(etag) = etag {
        assert!(matches!(
            s.get_if_changed("x/b", Some(&etag)).await.unwrap(),
            GetIfChanged::NotModified
        ));
    }
}

async fn delete_is_idempotent(s: &Store) {
    s.put_overwrite("x/a", Bytes::from_static(b"a"), &text_attrs())
        .await
        .unwrap();
    s.delete("x/a").await.unwrap();
    s.delete("x/a").await.unwrap();
    assert_eq!(s.get("x/a").await.unwrap(), None);
}

async fn large_bodies_are_create_only(s: &Store) {
    // Large bodies go through multipart on S3; still create-only, nothing staged left.
    let a = text_attrs();
    let big = Bytes::from(
        (0..17 * 1024 * 1024u32)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>(),
    );
    assert_eq!(
        s.put_create_large("x/big", big.clone(), &a).await.unwrap(),
        Created::Created
    );
    assert_eq!(
        s.put_create_large("x/big", big.clone(), &a).await.unwrap(),
        Created::AlreadyExists
    );
    assert_eq!(s.get("x/big").await.unwrap().unwrap(), big);
    assert!(
        s.list("tmp").await.unwrap().is_empty(),
        "multipart staging left behind"
    );
}

async fn delete_many_in_batches(s: &Store) {
    let a = text_attrs();
    let keys: Vec<String> = (0..1100).map(|i| format!("many/{i}")).collect();
    futures::future::join_all(
        keys.iter()
            .take(3)
            .map(|k| s.put_overwrite(k, Bytes::from_static(b"x"), &a)),
    )
    .await;
    let mut all = keys.clone();
    all.push("many/missing".into());
    s.delete_many(all).await.unwrap();
    assert!(s.list("many").await.unwrap().is_empty());
}

async fn create_only_has_one_winner(s: &Store) {
    for round in 0..5 {
        let key = format!("race/{round}");
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let s = s.clone();
                let key = key.clone();
                tokio::spawn(async move {
                    s.put_create(&key, Bytes::from(format!("writer {i}")), &Attrs::default())
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for t in tasks {
            if t.await.unwrap() == Created::Created {
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "round {round}");
    }
}

async fn publish_flow(s: &Store) {
    let dist = common::example_dist();
    let opts = PublishOptions {
        actor: "ci@test".into(),
        ..Default::default()
    };
    // Dry run writes nothing.
    let dry = publish::publish(
        s,
        dist,
        "v1",
        &PublishOptions {
            dry_run: true,
            ..opts.clone()
        },
    )
    .await
    .unwrap();
    assert!(dry.dry_run && dry.uploaded_blobs > 20);
    assert!(s.list("blobs").await.unwrap().is_empty());
    assert!(s.list("versions").await.unwrap().is_empty());
    // First publish uploads every distinct blob.
    let r = publish::publish(s, dist, "v1", &opts).await.unwrap();
    assert_eq!(r.uploaded_blobs, dry.uploaded_blobs);
    assert_eq!(r.skipped_blobs, 0);
    let idx = publish::index::require(s, "v1").await.unwrap();
    assert_eq!(idx.files.len() as u64, r.files);
    assert_eq!(idx.digest, r.digest);
    assert_eq!(idx.created_by, "ci@test");
    // Same content again: already published, nothing written.
    let again = publish::publish(s, dist, "v1", &opts).await.unwrap();
    assert!(again.already_published);
    assert_eq!(again.uploaded_blobs, 0);
    // Another version sharing most files uploads only what changed.
    let v2 = common::example_dist_v2();
    let r2 = publish::publish(s, v2, "v2", &opts).await.unwrap();
    // index.html and blog.css, each with its precompressed variants, and version.json.
    assert!(r2.uploaded_blobs >= 3 && r2.uploaded_blobs <= 10, "{r2:?}");
    assert_eq!(r2.skipped_blobs + r2.uploaded_blobs, {
        let m = publish::read_dist(v2).unwrap();
        sitevault::schema::blobs_of(&m.files).len() as u64
    });
    // Different content under an existing id is refused, nothing changes.
    let before = s.list("").await.unwrap().len();
    let err = publish::publish(s, v2, "v1", &opts)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("already published with different content"),
        "{err}"
    );
    assert_eq!(s.list("").await.unwrap().len(), before);
    // Listing, verification, pull.
    let versions = publish::inspect::list_versions(s).await.unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| v.version.as_str())
            .collect::<Vec<_>>(),
        ["v1", "v2"]
    );
    let rep = publish::inspect::verify(s, "v1").await.unwrap();
    assert!(rep.ok() && rep.blobs > 20);
    let out = tempfile::tempdir().unwrap();
    publish::inspect::pull(s, "v1", &out.path().join("v1"), &[])
        .await
        .unwrap();
    for (p, e) in &idx.files {
        let b = std::fs::read(out.path().join("v1").join(&p[1..])).unwrap();
        assert_eq!(blake3::hash(&b).to_hex().to_string(), e.hash);
    }
    // A corrupt blob is found by verify.
    let (h, p) = idx
        .files
        .iter()
        .map(|(p, e)| (e.hash.clone(), p.clone()))
        .find(|(_, p)| p.ends_with(".svg"))
        .unwrap();
    s.delete(&keys::blob(&h)).await.unwrap();
    s.put_overwrite(
        &keys::blob(&h),
        Bytes::from_static(b"tampered"),
        &Attrs::default(),
    )
    .await
    .unwrap();
    let rep = publish::inspect::verify(s, "v1").await.unwrap();
    assert_eq!(rep.corrupt.len(), 1);
    assert!(rep.corrupt.iter().any(|(_, q)| *q == p) || rep.corrupt[0].0 == h);
    s.delete(&keys::blob(&h)).await.unwrap();
    let rep = publish::inspect::verify(s, "v1").await.unwrap();
    assert_eq!(rep.missing.len(), 1);
    assert!(
        publish::inspect::pull(s, "v1", &out.path().join("again"), &[])
            .await
            .is_err()
    );
    assert!(!out.path().join("again").exists());
    // Unknown versions and bad ids.
    assert!(publish::index::require(s, "v9")
        .await
        .unwrap_err()
        .to_string()
        .contains("not published"));
    assert!(publish::publish(s, dist, "../x", &opts)
        .await
        .unwrap_err()
        .to_string()
        .contains("invalid version id"));
}

async fn channel_protocol(s: &Store) {
    channel_suite::conformance(s).await;
}

/// One test per (backend, capability).
macro_rules! conformance {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;
            conformance!(@each $make;
                missing_keys_read_as_none, create_only_writes_once, overwrite_replaces,
                list_and_list_dirs, list_after_reads_a_stretch_in_key_order, ranged_and_streamed_reads, conditional_reads,
                delete_is_idempotent, large_bodies_are_create_only, delete_many_in_batches,
                create_only_has_one_winner, publish_flow, channel_protocol);
        }
    };
    (@each $make:expr; $($cap:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $cap() {
                let Some((store, _guard)) = $make else { return };
                super::$cap(&store).await;
            }
        )*
    };
}

/// A fresh `file://` store in a temporary folder (kept as long as the guard).
fn file_store() -> Option<(Store, Option<tempfile::TempDir>)> {
    let d = tempfile::tempdir().unwrap();
    let s = Store::open(&StoreSpec {
        url: format!("file://{}", d.path().display()),
        concurrency: 8,
        ..Default::default()
    })
    .unwrap();
    Some((s, Some(d)))
}

/// A fresh bucket on the test S3 server, or `None` (skipped, said why) without one.
fn s3_store() -> Option<(Store, Option<tempfile::TempDir>)> {
    let endpoint = common::s3::endpoint()?;
    let bucket = common::s3::bucket(&endpoint, "conf");
    let s = Store::open(&StoreSpec {
        url: format!("s3://{bucket}/root"),
        endpoint: Some(endpoint),
        region: Some("us-east-1".into()),
        allow_http: Some(true),
        concurrency: 8,
        ..Default::default()
    })
    .unwrap();
    Some((s, None))
}

conformance!(memory, Some((Store::memory(), None::<tempfile::TempDir>)));
conformance!(file, file_store());
conformance!(s3, s3_store());
