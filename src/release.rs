//! Release steps that combine two operations: publish a version and roll it out on a
//! channel ([`publish()`]), and roll a channel back, restoring an archived target from
//! cold storage first ([`rollback`]). Each returns a typed report.

use std::path::Path;

use serde::Serialize;

use crate::channel::{self, ChangeOptions, ChangeReport, Intent};
use crate::error::{Error, Result};
use crate::publish::{self, index, PublishOptions, PublishReport};
use crate::retention::{self, RestoreReport};
use crate::store::{Store, StoreSpec};

/// What [`publish()`] did: the publish report, and the channel step when one was asked.
///
/// Serialized as the publish report's fields, with `channel` added when a channel
/// was given (and it was not a dry run).
#[derive(Debug, Clone, Serialize)]
pub struct Released {
    /// The publish.
    #[serde(flatten)]
    pub publish: PublishReport,
    /// The rollout on the channel, or why nothing changed there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelStep>,
}

/// The channel step of [`publish()`].
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ChannelStep {
    /// A rollout was started (or, on a `[100]` channel, the version made stable).
    Changed(Box<ChangeReport>),
    /// The version was already stable or canary there: nothing written.
    AlreadyOn(AlreadyOn),
}

/// The version was already on the channel.
#[derive(Debug, Clone, Serialize)]
pub struct AlreadyOn {
    /// Channel.
    pub channel: String,
    /// Its current generation (unchanged).
    pub generation: u64,
    /// Human summary.
    pub message: String,
}

impl ChannelStep {
    /// Human summary.
    pub fn message(&self) -> &str {
        match self {
            ChannelStep::Changed(r) => &r.message,
            ChannelStep::AlreadyOn(a) => &a.message,
        }
    }

    /// The generation written, when the channel changed.
    pub fn written_generation(&self) -> Option<u64> {
        match self {
            ChannelStep::Changed(r) => Some(r.generation),
            ChannelStep::AlreadyOn(_) => None,
        }
    }
}

/// Publishes `dist` as `version`, then, when `rollout` names a channel (and this is
/// not a dry run), starts a rollout of it there. Publishing the same version again to
/// the same channel changes nothing there, so a pipeline step can be rerun.
pub async fn publish(
    store: &Store,
    dist: &Path,
    version: &str,
    opts: &PublishOptions,
    rollout: Option<(&str, &ChangeOptions)>,
) -> Result<Released> {
    if let Some((c, _)) = rollout {
        crate::ids::check_channel(c)?;
    }
    let report = publish::publish(store, dist, version, opts).await?;
    let channel = match rollout {
        Some((c, change)) if !opts.dry_run => {
            // The publish stands whatever the rollout does: say so in its error.
            let step = roll_out(store, c, version, change).await.map_err(|e| {
                e.after(&format!(
                    "published {version} ({} files), but it was not rolled out on {c}: ",
                    report.files
                ))
            })?;
            Some(step)
        }
        _ => None,
    };
    Ok(Released {
        publish: report,
        channel,
    })
}

/// Starts a rollout of `version` on `channel`, unless it is already there (stable or
/// canary): then nothing changes, so a publish with `--channel` can be run again.
pub async fn roll_out(
    store: &Store,
    channel: &str,
    version: &str,
    opts: &ChangeOptions,
) -> Result<ChannelStep> {
    let st = channel::status(store, channel).await?;
    let on_channel = st.state.stable.as_deref() == Some(version)
        || st.state.canary.as_ref().map(|c| c.version.as_str()) == Some(version);
    if on_channel {
        return Ok(ChannelStep::AlreadyOn(AlreadyOn {
            channel: channel.to_string(),
            generation: st.generation,
            message: format!(
                "{channel}: {version} is already on the channel ({}); nothing changed",
                st.state.summary()
            ),
        }));
    }
    let intent = Intent::Start {
        version: version.to_string(),
        percent: None,
    };
    Ok(ChannelStep::Changed(Box::new(
        channel::change(store, channel, &intent, opts).await?,
    )))
}

/// How [`rollback`] proceeds.
#[derive(Debug, Clone)]
pub struct RollbackOptions {
    /// Target version (default: remove the canary, or the newest previous).
    pub to: Option<String>,
    /// Restore an archived target from cold storage first (else refuse). Default: true.
    pub restore: bool,
    /// Who, why, dry run, the channel's settings.
    pub change: ChangeOptions,
}

impl Default for RollbackOptions {
    fn default() -> Self {
        RollbackOptions {
            to: None,
            restore: true,
            change: ChangeOptions::default(),
        }
    }
}

/// What [`rollback`] did. Serialized as the channel change report, or, for a dry run
/// whose target is archived, as the plan.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RollbackReport {
    /// Dry run with an archived target: nothing restored, nothing written.
    WouldRestore(WouldRestore),
    /// The change (written, or shown by a dry run).
    Changed(Box<RolledBack>),
}

/// A dry-run rollback whose target is archived.
#[derive(Debug, Clone, Serialize)]
pub struct WouldRestore {
    /// Channel.
    pub channel: String,
    /// Always true.
    pub dry_run: bool,
    /// The archived target.
    pub archived: String,
    /// Human summary.
    pub message: String,
}

/// A rollback, with the restore that preceded it.
#[derive(Debug, Clone, Serialize)]
pub struct RolledBack {
    /// The channel change.
    #[serde(flatten)]
    pub change: ChangeReport,
    /// The target was archived and restored first (not serialized: the JSON report is
    /// the change's).
    #[serde(skip)]
    pub restored: Option<RestoreReport>,
}

/// Rolls `channel` back. An archived `--to` target is restored from `cold` first
/// (the cold store is opened only then), unless `opts.restore` is false.
pub async fn rollback(
    store: &Store,
    cold: &StoreSpec,
    channel: &str,
    opts: &RollbackOptions,
) -> Result<RollbackReport> {
    crate::ids::check_channel(channel)?;
    let mut restored = None;
    // The target's index, read once (it tells an archived version, and the change
    // checks the version with it), beside the channel's head.
    let mut read = channel::Read::default();
    if let Some(v) = &opts.to {
        crate::ids::check_version(v)?;
        let (index, head) = tokio::join!(index::load(store, v), channel::log::head(store, channel));
        read.index = index?;
        let archived = read.index.is_none() && index::load_stub(store, v).await?.is_some();
        // A restore takes a while: the head is read again after it (and after a
        // failed read, so the version's own errors are said first).
        read.head = if archived { None } else { head.ok() };
        if archived && opts.change.dry_run {
            return Ok(RollbackReport::WouldRestore(WouldRestore {
                channel: channel.to_string(),
                dry_run: true,
                archived: v.clone(),
                message: format!(
                    "{channel}: dry run, nothing written — {v} is archived: rollback would restore it from cold storage first, then make it stable"
                ),
            }));
        }
        if archived {
            if !opts.restore {
                return Err(Error::input(format!(
                    "{v} is archived in cold storage and --no-restore was given; run `sitevault restore {v}` or drop --no-restore"
                )));
            }
            let cold = Store::open(cold)?;
            restored = Some(retention::restore(store, &cold, v).await?);
        }
    }
    let intent = Intent::Rollback {
        to: opts.to.clone(),
    };
    let change = channel::change_read(store, channel, &intent, &opts.change, read).await?;
    Ok(RollbackReport::Changed(Box::new(RolledBack {
        change,
        restored,
    })))
}
