//! `sitevault::release` through the library: publish then roll out, and the JSON
//! shape the CLI prints (the publish report's fields, then `channel`).

use crate::common;

use common::*;
use sitevault::channel::ChangeOptions;
use sitevault::publish::PublishOptions;
use sitevault::release::{self, ChannelStep, RollbackOptions, RollbackReport};
use sitevault::store::{Store, StoreSpec};

fn keys(v: &serde_json::Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn publish_then_rollout_is_typed_and_keeps_the_json_shape() {
    let store = Store::memory();
    let opts = PublishOptions {
        actor: "test@sitevault".into(),
        ..Default::default()
    };
    let change = ChangeOptions {
        actor: "test@sitevault".into(),
        ..Default::default()
    };
    let r = release::publish(
        &store,
        example_dist(),
        "v1",
        &opts,
        Some(("production", &change)),
    )
    .await
    .unwrap();
    let Some(ChannelStep::Changed(c)) = &r.channel else {
        panic!("no rollout: {r:?}")
    };
    assert_eq!(c.generation, 1);
    let json = serde_json::to_value(&r).unwrap();
    let mut want = keys(&serde_json::to_value(&r.publish).unwrap());
    want.push("channel".into());
    assert_eq!(keys(&json), want);
    assert_eq!(json["channel"]["generation"], 1);
    // Again: already on the channel, nothing written.
    let again = release::publish(
        &store,
        example_dist(),
        "v1",
        &opts,
        Some(("production", &change)),
    )
    .await
    .unwrap();
    let Some(ChannelStep::AlreadyOn(a)) = &again.channel else {
        panic!("{again:?}")
    };
    assert_eq!(a.generation, 1);
    assert_eq!(
        keys(&serde_json::to_value(&again).unwrap()["channel"]),
        ["channel", "generation", "message"]
    );
    // No channel: no `channel` key.
    let plain = release::publish(&store, example_dist_v2(), "v2", &opts, None)
        .await
        .unwrap();
    assert!(serde_json::to_value(&plain)
        .unwrap()
        .get("channel")
        .is_none());
    // Rollback to v2 through the library: the change report's JSON.
    let rb = RollbackOptions {
        to: Some("v2".into()),
        change: change.clone(),
        ..Default::default()
    };
    let report = release::rollback(&store, &StoreSpec::default(), "production", &rb)
        .await
        .unwrap();
    let RollbackReport::Changed(c) = &report else {
        panic!("{report:?}")
    };
    assert!(c.restored.is_none());
    assert_eq!(c.change.state.stable.as_deref(), Some("v2"));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(keys(&json), keys(&serde_json::to_value(&c.change).unwrap()));
}
