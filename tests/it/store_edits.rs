//! A store edited by hand (or by something other than sitevault): an index copied
//! under another id, log records naming ids that cannot be or versions that are gone,
//! an archive stub beside missing blobs. Each is refused, and nothing moves.

use crate::common;

use bytes::Bytes;
use sitevault::channel::{self, Intent};
use sitevault::error::Error;
use sitevault::publish::{self, index, PublishOptions};
use sitevault::store::{keys, Attrs, Store};

const C: &str = "production";

use common::{change_opts as opts, start};

/// v1 stable on production (generation 1), v2 published, in memory.
async fn setup() -> Store {
    setup_in(Store::memory()).await
}

/// A `file://` store in `dir`.
fn file_store(dir: &std::path::Path) -> Store {
    Store::open(&sitevault::store::StoreSpec {
        url: format!("file://{}", dir.display()),
        concurrency: 8,
        ..Default::default()
    })
    .unwrap()
}

/// [`setup`] in `s`.
async fn setup_in(s: Store) -> Store {
    let o = PublishOptions::default();
    publish::publish(&s, common::example_dist(), "v1", &o)
        .await
        .unwrap();
    publish::publish(&s, common::example_dist_v2(), "v2", &o)
        .await
        .unwrap();
    channel::change(&s, C, &start("v1", None), &opts())
        .await
        .unwrap();
    s
}

async fn manifest(s: &Store) -> Bytes {
    s.get(&keys::channel_manifest(C)).await.unwrap().unwrap()
}

/// Starts v2 on the channel, which must fail: returns the error, after checking that
/// neither the manifest nor the log moved.
async fn refused_start_of_v2(s: &Store) -> Error {
    let before = manifest(s).await;
    let err = channel::change(s, C, &start("v2", Some(10.0)), &opts())
        .await
        .unwrap_err();
    assert_eq!(manifest(s).await, before, "the manifest moved: {err}");
    assert!(s.get(&keys::channel_log(C, 2)).await.unwrap().is_none());
    err
}

/// Replaces one of v2's blobs with 3 bytes (another size than its index gives).
async fn cut_a_blob_of_v2(s: &Store) {
    let idx = index::require(s, "v2").await.unwrap();
    let hash = idx.blob_hashes()[0];
    s.put_overwrite(
        &keys::blob(hash),
        Bytes::from_static(b"cut"),
        &Attrs::default(),
    )
    .await
    .unwrap();
}

/// Rewrites the newest record (generation 1) with `edit` applied to its JSON.
async fn edit_record(s: &Store, edit: impl FnOnce(&mut serde_json::Value)) {
    let key = keys::channel_log(C, 1);
    let mut v: serde_json::Value =
        serde_json::from_slice(&s.get(&key).await.unwrap().unwrap()).unwrap();
    edit(&mut v);
    s.put_overwrite(&key, Bytes::from(v.to_string()), &Attrs::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn an_index_copied_under_another_id_makes_no_version() {
    let s = setup().await;
    let v2 = s.get(&keys::version_index("v2")).await.unwrap().unwrap();
    s.put_overwrite(&keys::version_index("v9"), v2, &Attrs::default())
        .await
        .unwrap();
    let before = manifest(&s).await;
    let err = index::load(&s, "v9").await.unwrap_err();
    assert!(matches!(err, Error::Integrity(_)), "{err}");
    assert!(err.to_string().contains("holds version \"v2\""), "{err}");
    assert!(
        err.to_string().contains("Delete versions/v9/index.json"),
        "{err}"
    );
    let err = channel::change(&s, C, &start("v9", None), &opts())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Integrity(_)), "{err}");
    assert!(publish::inspect::verify(&s, "v9").await.is_err());
    assert_eq!(manifest(&s).await, before);
    assert!(s.get(&keys::channel_log(C, 2)).await.unwrap().is_none());
}

#[tokio::test]
async fn a_record_naming_an_impossible_id_is_corrupt_for_reads_and_writes() {
    let fields: [fn(&mut serde_json::Value, &str); 4] = [
        |r, v| r["state"]["stable"] = v.into(),
        |r, v| r["state"]["previous"] = serde_json::json!([v]),
        |r, v| r["state"]["rolled_back"] = serde_json::json!([v]),
        |r, v| r["version"] = v.into(),
    ];
    let cases = ["../../../tmp/evil", "", "a b", "v1/../v2"]
        .into_iter()
        .flat_map(|bad| fields.iter().map(move |f| (bad, f)));
    for (bad, field) in cases {
        let s = setup().await;
        edit_record(&s, |r| field(r, bad)).await;
        let err = channel::status(&s, C).await.unwrap_err();
        assert!(matches!(err, Error::Integrity(_)), "{bad:?}: {err}");
        let err = refused_start_of_v2(&s).await;
        assert!(matches!(err, Error::Integrity(_)), "{bad:?}: {err}");
        assert!(err.to_string().contains("not a valid version id"), "{err}");
    }
}

#[tokio::test]
async fn a_change_never_carries_a_route_to_a_version_that_is_gone() {
    let s = setup().await;
    edit_record(&s, |r| r["state"]["stable"] = "nope".into()).await;
    // A canary beside a stable that is not hot: refused, nothing written.
    let err = refused_start_of_v2(&s).await;
    assert!(matches!(err, Error::Integrity(_)), "{err}");
    assert!(err.to_string().contains("nope, which is not hot"), "{err}");
    // The way out the message names: a rollback to a healthy version.
    let r = channel::change(
        &s,
        C,
        &Intent::Rollback {
            to: Some("v2".into()),
        },
        &opts(),
    )
    .await
    .unwrap();
    assert_eq!(r.state.stable.as_deref(), Some("v2"));
    assert!(r.state.canary.is_none());
}

#[tokio::test]
async fn a_version_being_archived_is_a_conflict_even_with_blobs_gone() {
    let s = setup().await;
    let idx = index::require(&s, "v2").await.unwrap();
    let gone = idx.blob_hashes()[0].to_string();
    s.delete(&keys::blob(&gone)).await.unwrap();
    s.put_create(
        &keys::version_archived("v2"),
        Bytes::from_static(b"{}"),
        &Attrs::default(),
    )
    .await
    .unwrap();
    let err = refused_start_of_v2(&s).await;
    assert!(matches!(err, Error::Conflict(_)), "{err}");
    assert!(err.to_string().contains("being archived"), "{err}");
}

#[tokio::test]
async fn a_blob_of_the_wrong_size_keeps_traffic_away() {
    let s = setup().await;
    cut_a_blob_of_v2(&s).await;
    let err = refused_start_of_v2(&s).await;
    assert!(matches!(err, Error::Integrity(_)), "{err}");
    assert!(err.to_string().contains("1 of"), "{err}");
}

#[tokio::test]
async fn history_says_when_the_manifest_is_ahead_of_the_log() {
    let s = setup().await;
    channel::change(&s, C, &start("v2", Some(10.0)), &opts())
        .await
        .unwrap();
    assert!(channel::log::history(&s, C)
        .await
        .unwrap()
        .chain_error
        .is_none());
    // The newest record is lost; the manifest still shows generation 2.
    s.delete(&keys::channel_log(C, 2)).await.unwrap();
    let h = channel::log::history(&s, C).await.unwrap();
    let e = h.chain_error.unwrap_or_default();
    assert!(e.contains("the log ends at 1"), "{e}");
}

#[tokio::test]
async fn a_symlinked_folder_inside_a_file_store_is_never_written_through() {
    let d = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let s = setup_in(file_store(d.path())).await;
    let o = PublishOptions::default();
    // The channel's folder moved elsewhere and linked back.
    let ch = d.path().join("channels").join(C);
    let moved = outside.path().join("production");
    std::fs::rename(&ch, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &ch).unwrap();
    let before = common::tree(outside.path());
    let err = channel::change(&s, C, &start("v2", Some(10.0)), &opts())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Integrity(_)), "{err}");
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(
        common::tree(outside.path()),
        before,
        "written through the link"
    );
    // A version folder linked out: publish refuses to write its index there.
    let vdir = d.path().join("versions").join("v7");
    std::os::unix::fs::symlink(outside.path(), &vdir).unwrap();
    let err = publish::publish(&s, common::example_dist_v2(), "v7", &o)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Integrity(_)), "{err}");
    assert_eq!(common::tree(outside.path()), before);
}

#[tokio::test]
async fn a_republish_mends_a_blob_of_the_wrong_size() {
    let s = setup().await;
    cut_a_blob_of_v2(&s).await;
    // The message says to republish; that works, and the rollout then goes through.
    let r = publish::publish(
        &s,
        common::example_dist_v2(),
        "v2",
        &PublishOptions::default(),
    )
    .await
    .unwrap();
    assert!(r.already_published && r.repaired_blobs == 1, "{r:?}");
    channel::change(&s, C, &start("v2", None), &opts())
        .await
        .unwrap();
    assert!(publish::inspect::verify(&s, "v2").await.unwrap().ok());
}

#[tokio::test]
async fn no_store_operation_writes_or_deletes_through_a_symlinked_folder() {
    let d = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("keep.json"), b"mine").unwrap();
    let s = file_store(d.path());
    std::fs::create_dir_all(d.path().join("channels")).unwrap();
    std::os::unix::fs::symlink(outside.path(), d.path().join("channels/production")).unwrap();
    let key = "channels/production/keep.json";
    let refused = |r: sitevault::Result<()>| {
        let e = r.unwrap_err();
        assert!(
            matches!(e, Error::Integrity(_)) && e.to_string().contains("symbolic link"),
            "{e}"
        );
    };
    refused(
        s.put_overwrite(key, Bytes::from_static(b"x"), &Attrs::default())
            .await,
    );
    refused(
        s.put_create(
            "channels/production/new.json",
            Bytes::new(),
            &Attrs::default(),
        )
        .await
        .map(|_| ()),
    );
    refused(s.delete(key).await);
    refused(s.delete_many(vec![key.to_string()]).await);
    assert_eq!(
        std::fs::read(outside.path().join("keep.json")).unwrap(),
        b"mine"
    );
    assert!(!outside.path().join("new.json").exists());
    // Reads through it are still reads (nothing sitevault did not create is changed).
    assert!(s.get(key).await.unwrap().is_some());
}
