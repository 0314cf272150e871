//! Channels: `rollout`, `rollback`, `pin`, `status`, `history`. Traffic moves by
//! appending a create-only log record and rewriting the manifest the edge reads.
//!
//! Protocol (DESIGN.md): read the newest generation N, apply the intent to its state,
//! validate the target version, create generation N+1. A writer that loses the race
//! re-reads and re-checks its intent: relative changes computed from a stale state
//! (`--advance`) fail with a conflict (exit 3); absolute ones (rollback, abort, pin)
//! are applied again to the new state.

mod apply;
mod change;
pub mod log;
pub mod record;
pub mod stage;
mod targets;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::{keys, Store};
pub use apply::{apply, check_percent, Intent};
pub use change::{change, ChangeOptions, ChangeReport};
pub(crate) use change::{change_read, Read};
use record::ChannelState;
pub use targets::validate_target;

/// `sitevault status` for one channel.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Channel.
    pub channel: String,
    /// Newest log generation.
    pub generation: u64,
    /// What the manifest showed before this read.
    pub manifest_generation: Option<u64>,
    /// The manifest lagged (or was unreadable) and was rewritten.
    pub repaired: bool,
    /// State.
    pub state: ChannelState,
    /// `rolling`, `stable`, `empty`.
    pub phase: String,
    /// Last change: when.
    pub since: Option<String>,
    /// Last change: who.
    pub by: Option<String>,
    /// Last change: what.
    pub action: Option<String>,
}

/// Reads a channel (repairing a manifest that lags its log), and checks that what
/// the manifest routes to is what the log says and is hot: a manifest edited by hand
/// or a stable/canary whose index is gone is an integrity error (exit 4).
pub async fn status(store: &Store, channel: &str) -> Result<Status> {
    crate::ids::check_channel(channel)?;
    let h = log::head(store, channel).await?;
    if let (Some(r), Some(m), false) = (&h.record, &h.manifest, h.repaired) {
        let want = record::Manifest::from_record(r);
        if normalized(m) != normalized(&want) {
            return Err(Error::Integrity(format!(
                "channel {channel}: {} does not match log generation {} (the edge serves {}, the log says {}); \
                 it was edited by hand or corrupted. Re-project it by running any channel change, or fix it from the log",
                keys::channel_manifest(channel),
                r.generation,
                manifest_summary(m),
                r.state.summary()
            )));
        }
    }
    let state = h.state();
    let routed = state
        .stable
        .iter()
        .map(|v| ("stable", v))
        .chain(state.canary.iter().map(|c| ("canary", &c.version)));
    for (role, v) in routed {
        if crate::publish::index::load(store, v).await?.is_none() {
            return Err(Error::Integrity(format!(
                "channel {channel}: its {role} {v} is not hot ({} is missing), so the edge cannot serve it. \
                 Roll the channel to a healthy version (`sitevault rollback {channel} --to VERSION`), \
                 then `sitevault restore {v}` or republish it",
                keys::version_index(v)
            )));
        }
    }
    Ok(Status {
        channel: channel.to_string(),
        generation: h.generation,
        manifest_generation: h.manifest_generation,
        repaired: h.repaired,
        phase: state.phase().to_string(),
        since: h.record.as_ref().map(|r| r.at.clone()),
        by: h.record.as_ref().map(|r| r.actor.clone()),
        action: h.record.as_ref().map(|r| r.action.clone()),
        state,
    })
}

/// A manifest with its percent at the two decimals it carries (JSON float parsing
/// may differ in the last bit).
fn normalized(m: &record::Manifest) -> record::Manifest {
    let mut m = m.clone();
    if let Some(c) = m.canary.as_mut() {
        c.percent = (c.percent * 100.0).round();
    }
    m
}

fn manifest_summary(m: &record::Manifest) -> String {
    ChannelState {
        stable: m.stable.clone(),
        canary: m.canary.clone(),
        previous: m.previous.clone(),
        pinned: None,
        rolled_back: Vec::new(),
    }
    .summary()
}

/// Every channel that has a log.
pub async fn list(store: &Store) -> Result<Vec<String>> {
    store.list_dirs(keys::CHANNELS).await
}
