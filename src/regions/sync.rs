//! `sync`: bring regions that lag to the newest state of a channel, copying the
//! versions it needs there first.
//!
//! The newest state is the one of the region whose last change is the most recent
//! (`--from` names one instead). A lagging region gets the versions that state routes
//! to (stable, canary, and the previous stables it keeps) copied from the leading
//! region, every blob verified against its hash on the way, the index last, as a
//! publish does; then one `sync` record in its own log sets the same state. Regions
//! that already route alike are left alone.

use std::sync::atomic::AtomicU64;

use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use super::{same_routing, Region, Regions};
use crate::channel::{self, record::ChannelState, ChangeOptions, Intent};
use crate::error::{Error, Result};
use crate::publish::index::VersionIndex;
use crate::schema::BlobRef;
use crate::store::{keys, Store};

/// How to sync.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// The region whose state wins (default: the one changed most recently).
    pub from: Option<String>,
    /// Change only this region (`--region`); the others are still read, to find the
    /// newest state.
    pub only: Option<String>,
    /// Say what would be done, write nothing.
    pub dry_run: bool,
    /// Actor, reason and the channel's settings for the `sync` records.
    pub change: ChangeOptions,
}

/// One region's part of a sync.
#[derive(Debug, Clone, Serialize)]
pub struct RegionSync {
    /// The region.
    pub region: String,
    /// `leader`, `in-sync`, `synced`, `would-sync`, `not-chosen` (another `--region`)
    /// or `failed`.
    pub outcome: String,
    /// Versions copied to it (or that would be).
    pub copied_versions: Vec<String>,
    /// Blobs uploaded to it.
    pub copied_blobs: u64,
    /// Bytes uploaded to it.
    pub copied_bytes: u64,
    /// The generation of its `sync` record.
    pub generation: Option<u64>,
    /// Why it failed.
    pub error: Option<String>,
}

/// What a sync did.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// The channel.
    pub channel: String,
    /// The region whose state was copied.
    pub leader: String,
    /// That state.
    pub state: ChannelState,
    /// Nothing was written.
    pub dry_run: bool,
    /// Every region, in name order.
    pub regions: Vec<RegionSync>,
}

impl SyncReport {
    /// Regions still lagging (their sync failed).
    pub fn failed(&self) -> Vec<&str> {
        self.regions
            .iter()
            .filter(|r| r.outcome == "failed")
            .map(|r| r.region.as_str())
            .collect()
    }
}

/// Brings every region of `regions` to the newest state of `channel`.
pub async fn sync(regions: &Regions, channel: &str, opts: &SyncOptions) -> Result<SyncReport> {
    crate::ids::check_channel(channel)?;
    if let Some(o) = opts
        .only
        .as_ref()
        .filter(|o| !regions.names().contains(&o.as_str()))
    {
        return Err(Error::usage(format!(
            "--region {o}: not one of the regions ({})",
            regions.names().join(", ")
        )));
    }
    if regions.list().len() < 2 {
        return Err(Error::usage(
            "sync needs two or more regions ([regions.*] in store.toml, without --region)",
        ));
    }
    let cmp = super::compare(regions, channel).await;
    let leader = match &opts.from {
        Some(f) => cmp
            .regions
            .iter()
            .find(|r| r.region == *f)
            .ok_or_else(|| {
                Error::usage(format!(
                    "--from {f}: not one of the regions ({})",
                    regions.names().join(", ")
                ))
            })?,
        None => cmp
            .regions
            .iter()
            .filter(|r| r.state.is_some() && r.generation.unwrap_or(0) > 0)
            .max_by(|a, b| (&a.since, a.generation).cmp(&(&b.since, b.generation)))
            .ok_or_else(|| {
                Error::input(format!(
                    "channel {channel}: no region could be read with a release on it: nothing to sync from ({})",
                    cmp.drift.join("; ")
                ))
            })?,
    };
    if leader.generation == Some(0) {
        return Err(Error::input(format!(
            "channel {channel} has no releases in region {}: nothing to sync from",
            leader.region
        )));
    }
    let lead_generation = leader.generation.unwrap_or(0);
    let (Some(state), Some(lead_region)) = (
        leader.state.clone(),
        regions.list().iter().find(|r| r.name == leader.region),
    ) else {
        return Err(Error::input(format!(
            "region {} cannot be read now ({}): sync from another with --from",
            leader.region,
            leader.error.as_deref().unwrap_or("unknown error")
        )));
    };
    let leader_name = lead_region.name.clone();
    // `compare` answers in the order of the regions.
    let sides = regions.list().iter().zip(&cmp.regions);
    let results = futures::future::join_all(sides.map(|(region, side)| {
        let state = &state;
        let leader_name = &leader_name;
        async move {
            if region.name == *leader_name {
                return outcome(&region.name, "leader");
            }
            if let Some(e) = &side.error {
                return failed(&region.name, e.clone());
            }
            if side.state.as_ref().is_some_and(|s| same_routing(s, state)) {
                return outcome(&region.name, "in-sync");
            }
            if opts.only.as_ref().is_some_and(|o| *o != region.name) {
                return outcome(&region.name, "not-chosen");
            }
            let plan = Plan {
                from: lead_region,
                from_generation: lead_generation,
                to: region,
                to_generation: side.generation.unwrap_or(0),
                to_state: side.state.clone().unwrap_or_default(),
            };
            match sync_one(&plan, channel, state, opts).await {
                Ok(r) => r,
                Err(e) => failed(&region.name, e.to_string()),
            }
        }
    }))
    .await;
    Ok(SyncReport {
        channel: channel.to_string(),
        leader: leader_name,
        state,
        dry_run: opts.dry_run,
        regions: results,
    })
}

fn outcome(region: &str, what: &str) -> RegionSync {
    RegionSync {
        region: region.to_string(),
        outcome: what.to_string(),
        copied_versions: Vec::new(),
        copied_blobs: 0,
        copied_bytes: 0,
        generation: None,
        error: None,
    }
}

fn failed(region: &str, error: String) -> RegionSync {
    RegionSync {
        error: Some(error),
        ..outcome(region, "failed")
    }
}

/// The versions a state needs hot: stable and canary (required), then the previous
/// stables it keeps (copied when the leader still has them hot).
fn needed(state: &ChannelState) -> (Vec<String>, Vec<String>) {
    let mut required: Vec<String> = state.stable.iter().cloned().collect();
    required.extend(state.canary.as_ref().map(|c| c.version.clone()));
    let optional = state
        .previous
        .iter()
        .filter(|v| !required.contains(v))
        .cloned()
        .collect();
    (required, optional)
}

/// One lagging region, as `compare` read it, and the leader.
struct Plan<'a> {
    from: &'a Region,
    from_generation: u64,
    to: &'a Region,
    to_generation: u64,
    to_state: ChannelState,
}

/// Why an automatic sync (no `--from`) must not touch a region: it would undo a
/// rollback there (lift its pin, or, from a state no rollback made, route to a version
/// rolled back there).
fn undoes_rollback(here: &ChannelState, newest: &ChannelState) -> Option<String> {
    if here.pinned.is_some() && newest.pinned.is_none() {
        return Some("it is pinned here and would be unpinned".into());
    }
    if newest.pinned.is_some() {
        // The newest state is itself a rollback (or a pin): a deliberate choice.
        return None;
    }
    let routed = newest
        .stable
        .iter()
        .chain(newest.canary.as_ref().map(|c| &c.version));
    for v in routed {
        if here.rolled_back.contains(v) {
            return Some(format!("{v} was rolled back here"));
        }
    }
    None
}

async fn sync_one(
    plan: &Plan<'_>,
    channel: &str,
    state: &ChannelState,
    opts: &SyncOptions,
) -> Result<RegionSync> {
    let (from, to) = (plan.from, plan.to);
    if opts.from.is_none() {
        if let Some(why) = undoes_rollback(&plan.to_state, state) {
            return Err(Error::Conflict(format!(
                "not synced from {} automatically: {why}. Check `sitevault status {channel}`, then choose the state with `sitevault sync {channel} --from REGION`",
                from.name
            )));
        }
    }
    let mut r = outcome(&to.name, if opts.dry_run { "would-sync" } else { "synced" });
    let (required, optional) = needed(state);
    for (v, must) in required
        .iter()
        .map(|v| (v, true))
        .chain(optional.iter().map(|v| (v, false)))
    {
        let res = if opts.dry_run {
            plan_copy(&from.store, &to.store, v).await
        } else {
            copy_version(&from.store, &to.store, v).await
        };
        match res {
            Ok(c) => {
                if c.copied {
                    r.copied_versions.push(v.clone());
                }
                r.copied_blobs += c.blobs;
                r.copied_bytes += c.bytes;
            }
            Err(e) if must => {
                return Err(Error::input(format!(
                    "cannot copy {v} from {} to {}: {e}",
                    from.name, to.name
                )))
            }
            // A previous stable the leader archived: not needed to serve.
            Err(_) => {}
        }
    }
    if opts.dry_run {
        // The versions are not there yet, so the change itself cannot be checked.
        return Ok(r);
    }
    let change = ChangeOptions {
        reason: opts
            .change
            .reason
            .clone()
            .or_else(|| Some(format!("sync from region {}", from.name))),
        ..opts.change.clone()
    };
    // The leader must still be where it was read: a change there meanwhile (a
    // rollback) is not overwritten with what it was before.
    let lead = channel::log::head(&from.store, channel).await?;
    if lead.generation != plan.from_generation {
        return Err(Error::Conflict(format!(
            "channel {channel} changed in {} while the sync was prepared (generation {} → {}); nothing was applied here. Sync again",
            from.name, plan.from_generation, lead.generation
        )));
    }
    let intent = Intent::Sync {
        state: Box::new(state.clone()),
        expect_generation: Some(plan.to_generation),
    };
    let rep = channel::change(&to.store, channel, &intent, &change).await?;
    r.generation = Some(rep.generation);
    Ok(r)
}

/// What copying a version to another store did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CopyReport {
    /// The version was not there and was copied (or would be).
    pub copied: bool,
    /// Blobs uploaded (or that would be).
    pub blobs: u64,
    /// Their bytes.
    pub bytes: u64,
}

async fn load_source(
    from: &Store,
    to: &Store,
    version: &str,
) -> Result<Option<(bytes::Bytes, VersionIndex)>> {
    crate::ids::check_version(version)?;
    if to.head(&keys::version_index(version)).await?.is_some() {
        return Ok(None);
    }
    if to.head(&keys::version_archived(version)).await?.is_some() {
        return Err(Error::input(format!(
            "{version} is archived in {}; restore it there first (`sitevault restore {version} --region …`)",
            to.url()
        )));
    }
    let key = keys::version_index(version);
    let body = from
        .get(&key)
        .await?
        .ok_or_else(|| Error::input(format!("{version} is not hot in {} either", from.url())))?;
    let idx = crate::publish::index::from_head(from, version, &body, &key).await?;
    Ok(Some((body, idx)))
}

/// Unique blobs of an index that `to` lacks, with the entry that names each.
async fn missing_blobs<'a>(to: &Store, idx: &'a VersionIndex) -> Result<Vec<BlobRef<'a>>> {
    let by_hash = crate::schema::blobs_of(&idx.files);
    let wanted = by_hash.iter().map(|(h, (_, b))| (*h, b.size)).collect();
    let (present, _) = crate::publish::present_blobs(to, wanted).await?;
    Ok(by_hash
        .into_values()
        .map(|(_, b)| b)
        .filter(|b| !present.contains(b.hash))
        .collect())
}

async fn plan_copy(from: &Store, to: &Store, version: &str) -> Result<CopyReport> {
    let Some((_, idx)) = load_source(from, to, version).await? else {
        return Ok(CopyReport::default());
    };
    let missing = missing_blobs(to, &idx).await?;
    Ok(CopyReport {
        copied: true,
        blobs: missing.len() as u64,
        bytes: missing.iter().map(|b| b.size).sum(),
    })
}

/// Copies a version from one store to another, as a publish would write it: each
/// missing blob create-only after its blake3 is checked, then the same index bytes.
/// A version `to` already has is left as it is.
pub async fn copy_version(from: &Store, to: &Store, version: &str) -> Result<CopyReport> {
    let Some((body, idx)) = load_source(from, to, version).await? else {
        return Ok(CopyReport::default());
    };
    let missing = missing_blobs(to, &idx).await?;
    let requests = AtomicU64::new(0);
    let bytes: Vec<u64> = futures::stream::iter(missing.iter().map(|blob| {
        let requests = &requests;
        async move {
            let hash = blob.hash;
            let key = keys::blob(hash);
            let data = from.get(&key).await?.ok_or_else(|| {
                Error::Integrity(format!(
                    "{key} of {version} is missing in {}; run `sitevault verify {version}` there",
                    from.url()
                ))
            })?;
            if blake3::hash(&data).to_hex().as_str() != hash {
                return Err(Error::Integrity(format!(
                    "{key} in {} does not hash to its name: not copied; run `sitevault verify {version}` there",
                    from.url()
                )));
            }
            let n = data.len() as u64;
            crate::publish::upload_blob(to, *blob, data, requests).await?;
            Ok::<u64, Error>(n)
        }
    }))
    .buffer_unordered(to.concurrency())
    .try_collect()
    .await?;
    // The same index bytes, after the same shard bytes for a large version.
    if let Some(s) = &idx.shards {
        crate::publish::shards::copy(from, to, version, s).await?;
    }
    crate::publish::index::write(to, &idx, Some(body), &Default::default()).await?;
    Ok(CopyReport {
        copied: true,
        blobs: bytes.len() as u64,
        bytes: bytes.iter().sum(),
    })
}
