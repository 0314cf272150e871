//! Channel conformance, run on every backend by `tests/conformance.rs`
//! (`#[path]`-included there; `tests/common` keeps only helpers).
#![allow(dead_code)]

use bytes::Bytes;
use sitevault::channel::{self, log, record::Manifest, ChangeOptions, Intent};
use sitevault::config::ChannelConfig;
use sitevault::publish::{self, PublishOptions};
use sitevault::store::{keys, Attrs, Store};

fn opts(actor: &str) -> ChangeOptions {
    ChangeOptions {
        actor: actor.into(),
        reason: None,
        force: false,
        dry_run: false,
        verify: false,
        config: ChannelConfig::default(),
        gate: None,
        expect_canary: None,
    }
}

async fn manifest(s: &Store, c: &str) -> Manifest {
    serde_json::from_slice(&s.get(&keys::channel_manifest(c)).await.unwrap().unwrap()).unwrap()
}

async fn published(s: &Store) {
    let o = PublishOptions::default();
    for (v, d) in [
        ("v1", crate::common::example_dist()),
        ("v2", crate::common::example_dist_v2()),
    ] {
        publish::publish(s, d, v, &o).await.unwrap();
    }
}

/// Channel tests run on every backend.
pub async fn conformance(s: &Store) {
    published(s).await;
    let c = "production";
    let start = |v: &str| Intent::Start {
        version: v.into(),
        percent: None,
    };
    // Empty channel: the first version becomes stable directly.
    let r = channel::change(s, c, &start("v1"), &opts("alice"))
        .await
        .unwrap();
    assert_eq!(r.generation, 1);
    assert_eq!(r.state.stable.as_deref(), Some("v1"));
    // Canary through the default stages 0 → 10 → 25 → 50 → 100.
    channel::change(s, c, &start("v2"), &opts("alice"))
        .await
        .unwrap();
    let mut percents = vec![];
    for _ in 0..4 {
        let r = channel::change(s, c, &Intent::Advance, &opts("alice"))
            .await
            .unwrap();
        percents.push(r.state.canary.as_ref().map(|c| c.percent).unwrap_or(100.0));
    }
    assert_eq!(percents, vec![10.0, 25.0, 50.0, 100.0]);
    let m = manifest(s, c).await;
    assert_eq!(
        (m.stable.as_deref(), m.canary.is_none(), m.previous.clone()),
        (Some("v2"), true, vec!["v1".to_string()])
    );
    assert_eq!(m.generation, 6);
    assert!(serde_json::to_vec(&m).unwrap().len() < 2048);
    let v: serde_json::Value =
        serde_json::from_slice(&s.get(&keys::channel_version(c)).await.unwrap().unwrap()).unwrap();
    assert_eq!(v["generation"], 6);
    assert_eq!(v["stable"], "v2");
    // Rollback: v1 stable again, pinned, recorded with its reason.
    let mut o = opts("ops");
    o.reason = Some("checkout broken".into());
    let r = channel::change(s, c, &Intent::Rollback { to: None }, &o)
        .await
        .unwrap();
    assert_eq!(r.state.stable.as_deref(), Some("v1"));
    assert_eq!(r.state.previous.first().map(String::as_str), Some("v2"));
    let pin = r.state.pinned.clone().unwrap();
    assert_eq!(
        (pin.by.as_str(), pin.reason.as_str()),
        ("ops", "checkout broken")
    );
    // A pinned channel refuses rollouts, naming who pinned it and why.
    let err = channel::change(s, c, &start("v2"), &opts("ci"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("pinned by ops") && err.contains("checkout broken"),
        "{err}"
    );
    let mut forced = opts("ci");
    forced.force = true;
    let r = channel::change(
        s,
        c,
        &Intent::Start {
            version: "v2".into(),
            percent: Some(0.5),
        },
        &forced,
    )
    .await
    .unwrap();
    assert!(r.state.pinned.is_none());
    assert_eq!(r.state.canary.as_ref().unwrap().percent, 0.5);
    // Abort, unknown version, bad percent, incomplete version.
    channel::change(s, c, &Intent::Abort, &opts("ci"))
        .await
        .unwrap();
    let err = channel::change(s, c, &start("v9"), &opts("ci"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("v9 is not published"), "{err}");
    assert!(channel::change(s, c, &Intent::Percent(10.0), &opts("ci"))
        .await
        .unwrap_err()
        .to_string()
        .contains("no canary"));
    assert!(channel::check_percent(33.333).is_err() && channel::check_percent(101.0).is_err());
    let idx2 = publish::index::require(s, "v2").await.unwrap();
    let (_, e) = idx2
        .files
        .iter()
        .find(|(p, _)| p.ends_with("hello.html"))
        .unwrap();
    let blob = s.get(&keys::blob(&e.hash)).await.unwrap().unwrap();
    s.delete(&keys::blob(&e.hash)).await.unwrap();
    let err = channel::change(s, c, &start("v2"), &opts("ci"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("incomplete") && err.contains("1 of"), "{err}");
    s.put_create(&keys::blob(&e.hash), blob, &Attrs::default())
        .await
        .unwrap();
    let gen_before = channel::status(s, c).await.unwrap().generation;

    // A corrupt manifest is rebuilt from the log by the next read.
    s.put_overwrite(
        &keys::channel_manifest(c),
        Bytes::from_static(b"{not json"),
        &Attrs::default(),
    )
    .await
    .unwrap();
    let st = channel::status(s, c).await.unwrap();
    assert!(st.repaired);
    assert_eq!(manifest(s, c).await.generation, gen_before);
    // A writer that died between the log write and the manifest rewrite: repaired too.
    let head = log::head(s, c).await.unwrap();
    let mut rec = head.record.clone().unwrap();
    rec.generation += 1;
    rec.prev = head.hash.clone();
    rec.action = "pin".into();
    rec.state.pinned = Some(sitevault::channel::record::Pin {
        by: "crashed".into(),
        at: rec.at.clone(),
        reason: "x".into(),
    });
    assert!(log::append(s, &rec).await.unwrap());
    assert_eq!(manifest(s, c).await.generation, gen_before);
    let st = channel::status(s, c).await.unwrap();
    assert!(st.repaired && st.generation == gen_before + 1);
    assert_eq!(manifest(s, c).await.generation, gen_before + 1);
    assert!(!channel::status(s, c).await.unwrap().repaired);
    channel::change(s, c, &Intent::Unpin, &opts("ops"))
        .await
        .unwrap();

    // The chain verifies; history has every change, newest first.
    let h = log::history(s, c).await.unwrap();
    assert!(h.chain_error.is_none(), "{:?}", h.chain_error);
    assert_eq!(h.entries.first().unwrap().action, "unpin");
    assert_eq!(h.entries.last().unwrap().generation, 1);

    // Concurrent writers: every success has its own generation, none is lost.
    channel::change(s, c, &start("v2"), &opts("ci"))
        .await
        .unwrap();
    let before = channel::status(s, c).await.unwrap().generation;
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut ok = vec![];
                for i in 0..5 {
                    let p = (w * 10 + i) as f64 + 0.25;
                    if channel::change(
                        &s,
                        "production",
                        &Intent::Percent(p),
                        &opts(&format!("w{w}")),
                    )
                    .await
                    .is_ok()
                    {
                        ok.push(p);
                    }
                }
                ok
            })
        })
        .collect();
    let mut applied = vec![];
    for t in tasks {
        applied.extend(t.await.unwrap());
    }
    let h = log::history(s, c).await.unwrap();
    assert!(h.chain_error.is_none(), "{:?}", h.chain_error);
    let newer: Vec<_> = h.entries.iter().filter(|e| e.generation > before).collect();
    assert_eq!(
        newer.len(),
        applied.len(),
        "a successful change is missing from the log"
    );
    let m = manifest(s, c).await;
    assert_eq!(
        m.generation, h.entries[0].generation,
        "manifest is not the newest record"
    );

    // Tampering is reported where it happens.
    let g3 = keys::channel_log(c, 3);
    let mut b = s.get(&g3).await.unwrap().unwrap().to_vec();
    let pos = b.windows(5).position(|w| w == b"alice").unwrap();
    b[pos] = b'A';
    s.put_overwrite(&g3, Bytes::from(b), &Attrs::default())
        .await
        .unwrap();
    let h = log::history(s, c).await.unwrap();
    let e = h.chain_error.unwrap();
    assert!(e.contains("generation 4"), "{e}");

    // A newer schema is refused, not guessed at.
    s.put_overwrite(
        &keys::channel_manifest("other"),
        Bytes::from_static(br#"{"schema":2,"generation":1}"#),
        &Attrs::default(),
    )
    .await
    .unwrap();
    let err = channel::status(s, "other").await.unwrap_err().to_string();
    assert!(err.contains("schema 2") && err.contains("upgrade"), "{err}");
    // Bad names never reach the store.
    assert!(channel::status(s, "Bad Name")
        .await
        .unwrap_err()
        .to_string()
        .contains("invalid channel name"));
}
