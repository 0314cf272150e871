//! Channels: `rollout`, `rollback`, `pin`, `status`, `history`. Traffic moves by
//! appending a create-only log record and rewriting the manifest the edge reads.
//!
//! Protocol (DESIGN.md): read the newest generation N, apply the intent to its state,
//! validate the target version, create generation N+1. A writer that loses the race
//! re-reads and re-checks its intent: relative changes computed from a stale state
//! (`--advance`) fail with a conflict (exit 3); absolute ones (rollback, abort, pin)
//! are applied again to the new state.

pub mod log;
pub mod record;

use std::time::Instant;

use serde::Serialize;

use crate::config::ChannelConfig;
use crate::error::{Error, Result};
use crate::publish::index;
use crate::store::{keys, Store};
use record::{Canary, ChannelState, LogRecord, Pin};

/// A change someone asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Start a canary of a version (or make it stable on an empty or `[100]` channel).
    Start {
        /// The version.
        version: String,
        /// Start percent (default: the first stage).
        percent: Option<f64>,
    },
    /// Move the canary to the next stage (100 % promotes).
    Advance,
    /// Set the canary's percent (100 promotes).
    Percent(f64),
    /// Make the canary stable now.
    Promote,
    /// Remove the canary.
    Abort,
    /// Remove the canary, or make a previous version stable. Pins the channel.
    Rollback {
        /// Target (default: the newest previous).
        to: Option<String>,
    },
    /// Pin the channel: rollout changes need `--force`.
    Pin,
    /// Lift the pin.
    Unpin,
}

impl Intent {
    /// The action name recorded in the log.
    pub fn action(&self) -> &'static str {
        match self {
            Intent::Start { .. } => "rollout",
            Intent::Advance => "advance",
            Intent::Percent(_) => "percent",
            Intent::Promote => "promote",
            Intent::Abort => "abort",
            Intent::Rollback { .. } => "rollback",
            Intent::Pin => "pin",
            Intent::Unpin => "unpin",
        }
    }

    /// Changes that move traffic forward: refused on a pinned channel without `--force`.
    fn moves_forward(&self) -> bool {
        matches!(
            self,
            Intent::Start { .. } | Intent::Advance | Intent::Percent(_) | Intent::Promote
        )
    }
}

/// Who asks, why, and with what force.
#[derive(Debug, Clone, Default)]
pub struct ChangeOptions {
    /// Who.
    pub actor: String,
    /// Why.
    pub reason: Option<String>,
    /// Apply on a pinned channel (and lift the pin).
    pub force: bool,
    /// Validate and report the change, write nothing.
    pub dry_run: bool,
    /// The channel's settings (stages, previous kept).
    pub config: ChannelConfig,
}

/// What a change did.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeReport {
    /// Channel.
    pub channel: String,
    /// New generation.
    pub generation: u64,
    /// Action recorded.
    pub action: String,
    /// State before.
    pub from: String,
    /// State after.
    pub to: String,
    /// The state after, in full.
    pub state: ChannelState,
    /// Wall time of the change, milliseconds.
    pub elapsed_ms: f64,
    /// Attempts (more than 1 after losing races).
    pub attempts: u32,
    /// Human summary.
    pub message: String,
}

impl ChangeReport {
    /// The report of a change from `before` to `record` (written, or only planned).
    fn new(
        before: &ChannelState,
        record: LogRecord,
        started: Instant,
        attempts: u32,
        dry_run: bool,
    ) -> Self {
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let from = before.summary();
        let to = record.state.summary();
        let (action, generation, channel) = (record.action, record.generation, record.channel);
        let message = if dry_run {
            format!("{channel}: dry run, nothing written — {action} would make {from} → {to} (generation {generation})")
        } else {
            format!(
                "{channel}: {action} — {from} → {to} (generation {generation}, {elapsed_ms:.0} ms)"
            )
        };
        ChangeReport {
            channel,
            generation,
            action,
            from,
            to,
            state: record.state,
            elapsed_ms,
            attempts,
            message,
        }
    }
}

/// Checks a percent: 0–100 with at most two decimals.
pub fn check_percent(p: f64) -> Result<f64> {
    let scaled = p * 100.0;
    if !(0.0..=100.0).contains(&p) || (scaled - scaled.round()).abs() > 1e-6 {
        return Err(Error::input(format!(
            "percent {p} must be between 0 and 100 with at most two decimals (e.g. 0.5, 10, 33.33)"
        )));
    }
    Ok(scaled.round() / 100.0)
}

fn stage_of(stages: &[f64], percent: f64) -> usize {
    stages
        .iter()
        .rposition(|s| *s <= percent + 1e-9)
        .unwrap_or(0)
}

fn promote(state: &mut ChannelState, version: String, keep: usize) {
    if let Some(old) = state.stable.take() {
        if old != version {
            state.previous.retain(|v| *v != old);
            state.previous.insert(0, old);
        }
    }
    state.previous.retain(|v| *v != version);
    state.previous.truncate(keep.max(1));
    state.stable = Some(version);
    state.canary = None;
}

/// Applies an intent to a state. Errors say why the change makes no sense.
pub fn apply(
    channel: &str,
    state: &ChannelState,
    intent: &Intent,
    opts: &ChangeOptions,
    now: &str,
) -> Result<ChannelState> {
    let mut s = state.clone();
    if let Some(pin) = &state.pinned {
        if intent.moves_forward() && !opts.force {
            return Err(Error::input(format!(
                "channel {channel} is pinned by {} since {}: {:?}. Run `sitevault unpin {channel}` or pass --force",
                pin.by, pin.at, pin.reason
            )));
        }
        if intent.moves_forward() {
            s.pinned = None;
        }
    }
    let stages = &opts.config.stages;
    let keep = opts.config.keep_previous;
    let no_canary = || {
        Error::input(format!(
            "channel {channel} has no canary running ({})",
            state.summary()
        ))
    };
    match intent {
        Intent::Start { version, percent } => {
            if state.stable.as_ref() == Some(version) && state.canary.is_none() {
                return Err(Error::input(format!(
                    "{version} is already the stable version of {channel}"
                )));
            }
            if let Some(c) = &state.canary {
                if c.version == *version {
                    return Err(Error::input(format!(
                        "{version} is already the canary of {channel} at {}%; use --advance, --percent or --promote",
                        record::fmt_percent(c.percent)
                    )));
                }
                return Err(Error::input(format!(
                    "a canary of {} is running on {channel} at {}%; --promote or --abort it first",
                    c.version,
                    record::fmt_percent(c.percent)
                )));
            }
            let p = match percent {
                Some(p) => check_percent(*p)?,
                None => stages.first().copied().unwrap_or(0.0),
            };
            if state.stable.is_none() || p >= 100.0 {
                promote(&mut s, version.clone(), keep);
            } else {
                s.canary = Some(Canary {
                    version: version.clone(),
                    percent: p,
                    stage: stage_of(stages, p),
                    started_at: now.to_string(),
                });
            }
        }
        Intent::Advance => {
            let c = state.canary.as_ref().ok_or_else(no_canary)?;
            let next = stages
                .iter()
                .copied()
                .find(|st| *st > c.percent + 1e-9)
                .unwrap_or(100.0);
            if next >= 100.0 {
                promote(&mut s, c.version.clone(), keep);
            } else if let Some(sc) = s.canary.as_mut() {
                sc.percent = next;
                sc.stage = stage_of(stages, next);
            }
        }
        Intent::Percent(p) => {
            let p = check_percent(*p)?;
            let c = state.canary.as_ref().ok_or_else(no_canary)?;
            if p >= 100.0 {
                promote(&mut s, c.version.clone(), keep);
            } else if let Some(sc) = s.canary.as_mut() {
                sc.percent = p;
                sc.stage = stage_of(stages, p);
            }
        }
        Intent::Promote => {
            let c = state.canary.as_ref().ok_or_else(no_canary)?;
            promote(&mut s, c.version.clone(), keep);
        }
        Intent::Abort => {
            state.canary.as_ref().ok_or_else(no_canary)?;
            s.canary = None;
        }
        Intent::Rollback { to } => {
            if state.stable.is_none() && state.canary.is_none() && to.is_none() {
                return Err(Error::input(format!(
                    "channel {channel} has no releases yet: nothing to roll back (use --to VERSION to set one)"
                )));
            }
            match (to, &state.canary) {
                (None, Some(_)) => s.canary = None,
                (Some(v), Some(c)) if *v == c.version => {
                    return Err(Error::input(format!(
                        "{v} is the canary of {channel}; rolling back to it makes no sense"
                    )))
                }
                (Some(v), _) if state.stable.as_ref() == Some(v) => {
                    // Back to the current stable: just drop a canary, if any.
                    s.canary = None;
                }
                (target, _) => {
                    let target = match target {
                        Some(v) => v.clone(),
                        None => state.previous.first().cloned().ok_or_else(|| {
                            Error::input(format!(
                                "channel {channel} has no previous version to roll back to ({}); use --to VERSION",
                                state.summary()
                            ))
                        })?,
                    };
                    promote(&mut s, target, keep);
                }
            }
            s.pinned = Some(Pin {
                by: opts.actor.clone(),
                at: now.to_string(),
                reason: opts.reason.clone().unwrap_or_else(|| "rollback".into()),
            });
        }
        Intent::Pin => {
            s.pinned = Some(Pin {
                by: opts.actor.clone(),
                at: now.to_string(),
                reason: opts.reason.clone().unwrap_or_default(),
            });
        }
        Intent::Unpin => {
            if state.pinned.is_none() {
                return Err(Error::input(format!("channel {channel} is not pinned")));
            }
            s.pinned = None;
        }
    }
    Ok(s)
}

/// Checks a version can serve traffic: its index is in the hot store and every blob
/// it names exists.
pub async fn validate_target(store: &Store, version: &str) -> Result<()> {
    let idx = index::require(store, version).await?;
    let hashes: Vec<&str> = {
        let mut v: Vec<&str> = idx.files.values().map(|e| e.hash.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let total = hashes.len();
    let (present, _) = crate::publish::present_blobs(store, hashes.clone()).await?;
    let missing: Vec<&str> = hashes
        .into_iter()
        .filter(|h| !present.contains(*h))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Integrity(format!(
            "version {version} is incomplete: {} of {total} blobs are missing (e.g. {}); republish it or run `sitevault verify {version}`",
            missing.len(),
            missing[0]
        )));
    }
    Ok(())
}

/// The versions a state newly puts in front of visitors.
fn new_targets(before: &ChannelState, after: &ChannelState) -> Vec<String> {
    let mut v = Vec::new();
    if after.stable != before.stable {
        v.extend(after.stable.clone());
    }
    if let Some(c) = &after.canary {
        if before.canary.as_ref().map(|b| &b.version) != Some(&c.version) {
            v.push(c.version.clone());
        }
    }
    v
}

/// Applies a change to a channel with the create-only log protocol.
pub async fn change(
    store: &Store,
    channel: &str,
    intent: &Intent,
    opts: &ChangeOptions,
) -> Result<ChangeReport> {
    crate::ids::check_channel(channel)?;
    let started = Instant::now();
    let mut validated: Vec<String> = Vec::new();
    if let Intent::Start { version, .. } | Intent::Rollback { to: Some(version) } = intent {
        // An unknown, archived or incomplete version is the first thing to say.
        validate_target(store, version).await?;
        validated.push(version.clone());
    }
    let mut first_seen: Option<(u64, ChannelState)> = None;
    for attempt in 1..=20u32 {
        let head = log::head(store, channel).await?;
        let state = head
            .record
            .as_ref()
            .map(|r| r.state.clone())
            .unwrap_or_default();
        if let Some((g, seen)) = &first_seen {
            // Lost a race: re-check the intent against what changed.
            let relative = matches!(
                intent,
                Intent::Advance | Intent::Start { .. } | Intent::Promote
            );
            let canary_changed = seen.canary.as_ref().map(|c| (&c.version, c.percent))
                != state.canary.as_ref().map(|c| (&c.version, c.percent));
            if relative && (canary_changed || seen.stable != state.stable) {
                let by = head
                    .record
                    .as_ref()
                    .map(|r| format!("{} ({}, generation {})", r.actor, r.action, r.generation))
                    .unwrap_or_default();
                return Err(Error::Conflict(format!(
                    "channel {channel} changed under you (generation {g} → {}) by {by}: now {}; your {} was computed from {} and was not applied. Check `sitevault status {channel}` and retry",
                    head.generation,
                    state.summary(),
                    intent.action(),
                    seen.summary()
                )));
            }
        }
        let now = crate::clock::now_string();
        let next = apply(channel, &state, intent, opts, &now)?;
        for v in new_targets(&state, &next) {
            if !validated.contains(&v) {
                validate_target(store, &v).await?;
                validated.push(v);
            }
        }
        if first_seen.is_none() {
            first_seen = Some((head.generation, state.clone()));
        }
        let record = LogRecord {
            schema: 1,
            channel: channel.to_string(),
            generation: head.generation + 1,
            prev: head.hash.clone(),
            at: now,
            actor: opts.actor.clone(),
            action: intent.action().to_string(),
            reason: opts.reason.clone(),
            version: match intent {
                Intent::Start { version, .. } => Some(version.clone()),
                Intent::Rollback { .. } => next.stable.clone(),
                _ => state.canary.as_ref().map(|c| c.version.clone()),
            },
            state: next,
        };
        if opts.dry_run {
            return Ok(ChangeReport::new(&state, record, started, attempt, true));
        }
        if log::append(store, &record).await? {
            log::publish_projection(store, &record).await?;
            return Ok(ChangeReport::new(&state, record, started, attempt, false));
        }
    }
    Err(Error::Conflict(format!(
        "channel {channel}: gave up after 20 attempts; other writers keep changing it"
    )))
}

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

/// Reads a channel (repairing a lagging manifest).
pub async fn status(store: &Store, channel: &str) -> Result<Status> {
    crate::ids::check_channel(channel)?;
    let h = log::head(store, channel).await?;
    let state = h
        .record
        .as_ref()
        .map(|r| r.state.clone())
        .unwrap_or_default();
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

/// Every channel that has a log.
pub async fn list(store: &Store) -> Result<Vec<String>> {
    store.list_dirs(keys::CHANNELS).await
}
