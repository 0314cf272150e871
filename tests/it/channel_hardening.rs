//! Channel hardening through the library: log gaps, manifests that disagree with the
//! log, routes to versions that are not hot, `verify`, no-op rollbacks, and the
//! archive-versus-rollout race on file:// and moto.

use crate::common;

use std::time::Duration;

use bytes::Bytes;
use sitevault::channel::{self, log, Intent};
use sitevault::error::Error;
use sitevault::publish::{self, index, PublishOptions};
use sitevault::retention::{self, RetentionOptions};
use sitevault::store::{keys, Attrs, Store, StoreSpec};

const C: &str = "production";

use common::{change_opts as opts, start};

/// v1 stable on production, v2 published.
async fn setup(s: &Store) {
    let o = PublishOptions::default();
    publish::publish(s, common::example_dist(), "v1", &o)
        .await
        .unwrap();
    publish::publish(s, common::example_dist_v2(), "v2", &o)
        .await
        .unwrap();
    channel::change(s, C, &start("v1", None), &opts())
        .await
        .unwrap();
}

async fn manifest_bytes(s: &Store) -> Bytes {
    s.get(&keys::channel_manifest(C)).await.unwrap().unwrap()
}

fn file_store() -> (tempfile::TempDir, Store) {
    let d = tempfile::tempdir().unwrap();
    let s = Store::open(&StoreSpec {
        url: format!("file://{}", d.path().display()),
        concurrency: 8,
        ..Default::default()
    })
    .unwrap();
    (d, s)
}

#[tokio::test]
async fn a_missing_newest_record_is_an_integrity_error_and_nothing_moves_back() {
    let s = Store::memory();
    setup(&s).await;
    channel::change(&s, C, &start("v2", Some(25.0)), &opts())
        .await
        .unwrap();
    // The manifest shows generation 2 at 25 %; record 2 is lost.
    s.delete(&keys::channel_log(C, 2)).await.unwrap();
    let before = manifest_bytes(&s).await;
    let err = channel::status(&s, C).await.unwrap_err();
    assert!(matches!(err, Error::Integrity(_)), "{err}");
    assert!(err.to_string().contains("record 2"), "{err}");
    assert_eq!(
        manifest_bytes(&s).await,
        before,
        "a read moved the manifest"
    );
    // A write neither reuses generation 2 nor moves the manifest.
    let err = channel::change(&s, C, &Intent::Abort, &opts())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Integrity(_)), "{err}");
    assert!(s.get(&keys::channel_log(C, 2)).await.unwrap().is_none());
    assert_eq!(manifest_bytes(&s).await, before);
}

#[tokio::test]
async fn a_hole_in_the_log_is_found_without_a_manifest_too() {
    let s = Store::memory();
    setup(&s).await;
    channel::change(&s, C, &start("v2", Some(10.0)), &opts())
        .await
        .unwrap();
    channel::change(&s, C, &Intent::Abort, &opts())
        .await
        .unwrap();
    s.delete(&keys::channel_log(C, 2)).await.unwrap();
    s.delete(&keys::channel_manifest(C)).await.unwrap();
    let err = channel::status(&s, C).await.unwrap_err();
    assert!(
        matches!(err, Error::Integrity(_)) && err.to_string().contains("record 2"),
        "{err}"
    );
}

#[tokio::test]
async fn a_newer_record_that_does_not_follow_the_chain_is_refused() {
    let s = Store::memory();
    setup(&s).await;
    let head = log::head(&s, C).await.unwrap();
    let mut rec = head.record.unwrap();
    rec.generation = 2;
    rec.prev = Some("0".repeat(64));
    rec.action = "pin".into();
    assert!(log::append(&s, &rec).await.unwrap());
    let err = channel::status(&s, C).await.unwrap_err();
    assert!(
        matches!(err, Error::Integrity(_)) && err.to_string().contains("generation 2"),
        "{err}"
    );
}

#[tokio::test]
async fn status_reports_a_hand_edited_manifest() {
    let s = Store::memory();
    setup(&s).await;
    channel::change(&s, C, &start("v2", Some(25.0)), &opts())
        .await
        .unwrap();
    let mut m: serde_json::Value = serde_json::from_slice(&manifest_bytes(&s).await).unwrap();
    m["canary"]["percent"] = 90.into();
    s.put_overwrite(
        &keys::channel_manifest(C),
        Bytes::from(serde_json::to_vec(&m).unwrap()),
        &Attrs::default(),
    )
    .await
    .unwrap();
    let err = channel::status(&s, C).await.unwrap_err();
    assert!(
        matches!(err, Error::Integrity(_)) && err.to_string().contains("does not match"),
        "{err}"
    );
}

#[tokio::test]
async fn status_reports_a_stable_whose_index_is_gone() {
    let s = Store::memory();
    setup(&s).await;
    s.delete(&keys::version_index("v1")).await.unwrap();
    let err = channel::status(&s, C).await.unwrap_err();
    assert!(
        matches!(err, Error::Integrity(_)) && err.to_string().contains("v1 is not hot"),
        "{err}"
    );
}

#[tokio::test]
async fn verify_rehashes_the_target_before_moving_traffic() {
    let s = Store::memory();
    setup(&s).await;
    let idx = index::require(&s, "v2").await.unwrap();
    let v1_hashes: Vec<String> = index::require(&s, "v1")
        .await
        .unwrap()
        .files
        .into_values()
        .map(|e| e.hash)
        .collect();
    let (_, e) = idx
        .files
        .iter()
        .find(|(_, e)| !v1_hashes.contains(&e.hash))
        .unwrap();
    let key = keys::blob(&e.hash);
    // Same size, other bytes: only a re-hash finds it (another size is missing).
    let rotten = Bytes::from(vec![b'x'; e.size as usize]);
    s.put_overwrite(&key, rotten, &Attrs::default())
        .await
        .unwrap();
    let mut o = opts();
    o.verify = true;
    let err = channel::change(&s, C, &start("v2", None), &o)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Integrity(_)) && err.to_string().contains("corrupt"),
        "{err}"
    );
    assert_eq!(channel::status(&s, C).await.unwrap().generation, 1);
    // Without verify only presence is checked.
    let mut o = opts();
    o.dry_run = true;
    channel::change(&s, C, &start("v2", None), &o)
        .await
        .unwrap();
}

#[tokio::test]
async fn rollback_to_the_current_stable_writes_nothing() {
    let s = Store::memory();
    setup(&s).await;
    let r = channel::change(
        &s,
        C,
        &Intent::Rollback {
            to: Some("v1".into()),
        },
        &opts(),
    )
    .await
    .unwrap();
    assert!(!r.written && r.generation == 1, "{r:?}");
    assert!(r.message.contains("already stable"), "{}", r.message);
    assert_eq!(log::history(&s, C).await.unwrap().entries.len(), 1);
}

#[tokio::test]
async fn a_generation_at_the_limit_is_refused_not_wrapped() {
    let s = Store::memory();
    setup(&s).await;
    let head = log::head(&s, C).await.unwrap();
    let mut rec = head.record.unwrap();
    rec.generation = u64::MAX;
    let body = serde_json::to_vec(&rec).unwrap();
    s.put_create(
        &keys::channel_log(C, u64::MAX),
        Bytes::from(body),
        &Attrs::default(),
    )
    .await
    .unwrap();
    let mut m: serde_json::Value = serde_json::from_slice(&manifest_bytes(&s).await).unwrap();
    m["generation"] = u64::MAX.into();
    s.put_overwrite(
        &keys::channel_manifest(C),
        Bytes::from(serde_json::to_vec(&m).unwrap()),
        &Attrs::default(),
    )
    .await
    .unwrap();
    let err = channel::change(&s, C, &Intent::Pin, &opts())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Integrity(_)), "{err}");
}

/// Every channel routes only to versions that are hot and complete, and the
/// manifest is the projection of the newest record.
async fn assert_invariant(s: &Store, round: usize) {
    let st = channel::status(s, C)
        .await
        .unwrap_or_else(|e| panic!("round {round}: {e}"));
    for v in st
        .state
        .stable
        .iter()
        .chain(st.state.canary.iter().map(|c| &c.version))
    {
        channel::validate_target(s, v)
            .await
            .unwrap_or_else(|e| panic!("round {round}: routed to {v}: {e}"));
    }
}

async fn archive_races_rollout(hot: Store, cold: Store, rounds: usize) {
    setup(&hot).await;
    let ropts = RetentionOptions {
        hot_days: 0,
        keep_latest: 0,
        grace: Duration::ZERO,
        pinned: vec![],
        storage_class: None,
        dry_run: false,
    };
    // How long an archive of v2 takes on this store, alone: the rollouts below start
    // at even steps across that time.
    let t = std::time::Instant::now();
    retention::archive(&hot, &cold, &ropts).await.unwrap();
    let spread_ms = (t.elapsed().as_millis() as u64).max(1);
    retention::restore(&hot, &cold, "v2").await.unwrap();
    assert_invariant(&hot, 0).await;
    let mut outcomes = (0, 0);
    for round in 0..rounds {
        let (h, c, o) = (hot.clone(), cold.clone(), ropts.clone());
        let archive = tokio::spawn(async move { retention::archive(&h, &c, &o).await });
        let h = hot.clone();
        let rollout = tokio::spawn(async move {
            // Spread the rollouts evenly over the archive's steps (refs read, pack
            // written, stub created, heads re-read, index deleted).
            let delay = round as u64 * spread_ms / rounds as u64;
            tokio::time::sleep(Duration::from_millis(delay)).await;
            channel::change(&h, C, &start("v2", Some(10.0)), &opts()).await
        });
        let (a, r) = (archive.await.unwrap(), rollout.await.unwrap());
        a.unwrap_or_else(|e| panic!("round {round}: archive failed: {e}"));
        assert_invariant(&hot, round).await;
        if r.is_ok() {
            outcomes.0 += 1;
        } else {
            outcomes.1 += 1;
        }
        // Back to v1 stable, v2 hot.
        let st = channel::status(&hot, C).await.unwrap();
        if st.state.canary.is_some() {
            channel::change(&hot, C, &Intent::Abort, &opts())
                .await
                .unwrap();
        }
        retention::restore(&hot, &cold, "v2").await.unwrap();
        assert_invariant(&hot, round).await;
    }
    eprintln!("rollout won {} rounds, archive {}", outcomes.0, outcomes.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn archive_racing_rollout_never_leaves_a_route_to_a_cold_version_on_file_store() {
    let (_h, hot) = file_store();
    let (_c, cold) = file_store();
    archive_races_rollout(hot, cold, 40).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn archive_racing_rollout_never_leaves_a_route_to_a_cold_version_on_s3() {
    let Some(endpoint) = common::s3::endpoint() else {
        return;
    };
    let open = |tag: &str| {
        let bucket = common::s3::bucket(&endpoint, tag);
        Store::open(&StoreSpec {
            url: format!("s3://{bucket}/root"),
            endpoint: Some(endpoint.clone()),
            region: Some("us-east-1".into()),
            allow_http: Some(true),
            concurrency: 8,
            ..Default::default()
        })
        .unwrap()
    };
    archive_races_rollout(open("racehot"), open("racecold"), 12).await;
}

/// Writer A pauses after its log write (generation 3, 50 %); writer B aborts
/// (generation 4) and projects; A resumes: its projection must not move the
/// manifest or version.json back to generation 3.
#[test]
fn a_slow_writer_never_moves_the_manifest_back() {
    let t = common::example_site();
    let d = t.path();
    std::fs::write(d.join("store.toml"), "").unwrap();
    common::build_and_publish(d, "v1", Some(C));
    let idx = d.join("site/index.html");
    let html = std::fs::read_to_string(&idx)
        .unwrap()
        .replace("Fresh beans", "Fresher beans");
    std::fs::write(&idx, html).unwrap();
    common::build_and_publish(d, "v2", None);
    common::ok(common::sv(d).args(["rollout", C, "v2", "--percent", "25"]));

    let (mut a, flag) = common::paused_after_log(d, &["rollout", C, "--percent", "50"]);
    let out = common::ok(common::sv(d).args(["rollout", C, "--abort"]));
    assert!(out.contains("generation 4"), "{out}");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(
            &std::fs::read(d.join(format!(".sitevault/store/channels/{C}/{name}"))).unwrap(),
        )
        .unwrap()
    };
    std::fs::remove_file(&flag).unwrap();
    // While A projects, the manifest never shows its older generation.
    loop {
        let done = a.try_wait().unwrap();
        assert_eq!(read("manifest.json")["generation"], 4, "moved back");
        if let Some(st) = done {
            assert!(st.success(), "A: {st}");
            break;
        }
    }

    let m = read("manifest.json");
    assert_eq!(m["generation"], 4, "{m}");
    assert!(m["canary"].is_null(), "{m}");
    assert_eq!(read("version.json")["generation"], 4);
    common::ok(common::sv(d).args(["status", C]));
}

#[tokio::test]
async fn projecting_an_older_record_writes_nothing() {
    let s = Store::memory();
    setup(&s).await;
    channel::change(&s, C, &start("v2", Some(50.0)), &opts())
        .await
        .unwrap();
    let older = log::head(&s, C).await.unwrap().record.unwrap();
    channel::change(&s, C, &Intent::Abort, &opts())
        .await
        .unwrap();
    let (m, v) = (
        manifest_bytes(&s).await,
        s.get(&keys::channel_version(C)).await.unwrap().unwrap(),
    );
    log::project(&s, &older).await.unwrap();
    assert_eq!(manifest_bytes(&s).await, m, "the manifest moved back");
    assert_eq!(
        s.get(&keys::channel_version(C)).await.unwrap().unwrap(),
        v,
        "version.json moved back"
    );
    assert_eq!(channel::status(&s, C).await.unwrap().generation, 3);
}

#[tokio::test]
async fn a_hole_just_below_the_newest_record_is_found_by_reads_and_writes() {
    let s = Store::memory();
    setup(&s).await;
    channel::change(&s, C, &start("v2", Some(10.0)), &opts())
        .await
        .unwrap();
    channel::change(&s, C, &Intent::Abort, &opts())
        .await
        .unwrap();
    // The manifest is at 3 (the fast path); record 2 is lost.
    let two = s.get(&keys::channel_log(C, 2)).await.unwrap().unwrap();
    s.delete(&keys::channel_log(C, 2)).await.unwrap();
    let err = channel::status(&s, C).await.unwrap_err();
    assert!(
        matches!(err, Error::Integrity(_)) && err.to_string().contains("record 2"),
        "{err}"
    );
    let err = channel::change(&s, C, &start("v2", Some(10.0)), &opts())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Integrity(_)), "{err}");
    assert!(s.get(&keys::channel_log(C, 4)).await.unwrap().is_none());
    // Record 2 back, but edited: record 3 no longer links to it.
    let mut r: serde_json::Value = serde_json::from_slice(&two).unwrap();
    r["actor"] = "mallory".into();
    s.put_overwrite(
        &keys::channel_log(C, 2),
        Bytes::from(serde_json::to_vec(&r).unwrap()),
        &Attrs::default(),
    )
    .await
    .unwrap();
    let err = channel::status(&s, C).await.unwrap_err();
    assert!(
        matches!(err, Error::Integrity(_)) && err.to_string().contains("generation 3"),
        "{err}"
    );
    let err = channel::change(&s, C, &Intent::Pin, &opts())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Integrity(_)), "{err}");
    assert!(s.get(&keys::channel_log(C, 4)).await.unwrap().is_none());
    // Restored as it was: everything works again.
    s.put_overwrite(&keys::channel_log(C, 2), two, &Attrs::default())
        .await
        .unwrap();
    assert_eq!(channel::status(&s, C).await.unwrap().generation, 3);
}

#[tokio::test]
async fn a_record_with_a_percent_out_of_range_is_an_integrity_error() {
    for bad in [150.0, -5.0] {
        let s = Store::memory();
        setup(&s).await;
        channel::change(&s, C, &start("v2", Some(10.0)), &opts())
            .await
            .unwrap();
        let key = keys::channel_log(C, 2);
        let mut r: serde_json::Value =
            serde_json::from_slice(&s.get(&key).await.unwrap().unwrap()).unwrap();
        r["state"]["canary"]["percent"] = bad.into();
        s.put_overwrite(
            &key,
            Bytes::from(serde_json::to_vec(&r).unwrap()),
            &Attrs::default(),
        )
        .await
        .unwrap();
        s.delete(&keys::channel_manifest(C)).await.unwrap();
        let err = channel::status(&s, C).await.unwrap_err();
        assert!(
            matches!(err, Error::Integrity(_))
                && err.to_string().contains(&key)
                && err.to_string().contains("percent"),
            "{bad}: {err}"
        );
        assert!(
            s.get(&keys::channel_manifest(C)).await.unwrap().is_none(),
            "{bad}: the bad state was projected"
        );
    }
}

#[tokio::test]
async fn a_negative_zero_percent_is_written_as_zero() {
    let s = Store::memory();
    setup(&s).await;
    channel::change(&s, C, &start("v2", Some(-0.0)), &opts())
        .await
        .unwrap();
    let rec = s.get(&keys::channel_log(C, 2)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&rec);
    assert!(text.contains("\"percent\":0.0"), "{text}");
    let m = manifest_bytes(&s).await;
    let m = String::from_utf8_lossy(&m);
    assert!(m.contains("\"percent\":0.0"), "{m}");
}
