//! One conformance suite, run against every backend: memory://, file:// and a real
//! S3 server (moto). Same tests, same expectations.

#[path = "channel_suite/mod.rs"]
mod channel_suite;
mod common;

use bytes::Bytes;
use sitevault::publish::{self, PublishOptions};
use sitevault::store::{keys, Attrs, Created, GetIfChanged, Store, StoreSpec};

async fn store_basics(s: &Store) {
    let a = Attrs {
        content_type: Some("text/plain".into()),
        cache_control: Some("public, max-age=0, must-revalidate".into()),
        ..Default::default()
    };
    assert_eq!(s.get("x/missing").await.unwrap(), None);
    assert!(s.head("x/missing").await.unwrap().is_none());
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
    s.put_overwrite("x/sub/c", Bytes::from_static(b"c"), &a)
        .await
        .unwrap();
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
    assert_eq!(
        s.get_range("x/b", 1..4).await.unwrap(),
        Bytes::from_static(b"eco")
    );
    // Conditional reads.
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
    assert!(matches!(
        s.get_if_changed("x/zz", None).await.unwrap(),
        GetIfChanged::Missing
    ));
    s.delete("x/a").await.unwrap();
    s.delete("x/a").await.unwrap();
    assert_eq!(s.get("x/a").await.unwrap(), None);
    // Large bodies (multipart on S3), still create-only.
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
    s.delete_many(vec!["x/big".into(), "x/b".into(), "x/missing".into()])
        .await
        .unwrap();
    assert!(s.head("x/big").await.unwrap().is_none() && s.head("x/b").await.unwrap().is_none());
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
    assert!(r2.uploaded_blobs >= 3 && r2.uploaded_blobs <= 6, "{r2:?}");
    assert_eq!(r2.skipped_blobs + r2.uploaded_blobs, {
        let m = publish::read_dist(v2).unwrap();
        m.files
            .values()
            .map(|e| e.hash.clone())
            .collect::<std::collections::HashSet<_>>()
            .len() as u64
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
    publish::inspect::pull(s, "v1", &out.path().join("v1"))
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
    assert!(publish::inspect::pull(s, "v1", &out.path().join("again"))
        .await
        .is_err());
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

async fn suite(make: impl Fn() -> Store) {
    store_basics(&make()).await;
    create_only_has_one_winner(&make()).await;
    publish_flow(&make()).await;
    sitevault_channels_conformance(&make()).await;
}

async fn sitevault_channels_conformance(s: &Store) {
    channel_suite::conformance(s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_backend() {
    suite(Store::memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_backend() {
    let dirs = std::sync::Mutex::new(Vec::new());
    suite(|| {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(&StoreSpec {
            url: format!("file://{}", d.path().display()),
            concurrency: 8,
            ..Default::default()
        })
        .unwrap();
        dirs.lock().unwrap().push(d);
        s
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_backend() {
    let Some(endpoint) = common::s3::endpoint() else {
        return;
    };
    suite(|| {
        let bucket = common::s3::bucket(&endpoint, "conf");
        Store::open(&StoreSpec {
            url: format!("s3://{bucket}/root"),
            endpoint: Some(endpoint.clone()),
            region: Some("us-east-1".into()),
            allow_http: Some(true),
            concurrency: 8,
            ..Default::default()
        })
        .unwrap()
    })
    .await;
}
