//! The pure channel state machine: an [`Intent`] applied to a [`ChannelState`] gives
//! the next state or says why the change makes no sense. No I/O here.

use super::record::{self, Canary, ChannelState, Pin};
use super::ChangeOptions;
use crate::error::{Error, Result};

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
    /// Approve the running canary's current stage for a role (state unchanged).
    Approve {
        /// One of the channel's `approvals` roles.
        role: String,
        /// The canary version the approver looked at: refused (exit 3) when another
        /// canary runs by now.
        version: Option<String>,
    },
    /// Record a health-gate verdict (state unchanged; the verdict is in
    /// [`ChangeOptions::gate`]).
    Gate,
    /// Set the state another region has (`sitevault sync`): its versions were copied
    /// here first. Needs no `--force` on a pinned channel; the pin is copied too.
    Sync {
        /// The state to set.
        state: Box<ChannelState>,
        /// The generation the region was read at when the sync was planned: if it moved
        /// (a rollback meanwhile), nothing is applied (exit 3).
        expect_generation: Option<u64>,
    },
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
            Intent::Approve { .. } => "approve",
            Intent::Gate => "gate",
            Intent::Sync { .. } => "sync",
        }
    }

    /// Changes computed from the canary as it was read: when the channel changed
    /// under them they fail with a conflict instead of being applied again.
    pub(crate) fn relative(&self) -> bool {
        matches!(
            self,
            Intent::Advance
                | Intent::Start { .. }
                | Intent::Promote
                | Intent::Approve { .. }
                | Intent::Gate
                | Intent::Sync { .. }
        )
    }

    /// Changes that move traffic forward: refused on a pinned channel without `--force`.
    pub(crate) fn moves_forward(&self) -> bool {
        matches!(
            self,
            Intent::Start { .. } | Intent::Advance | Intent::Percent(_) | Intent::Promote
        )
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
    // `+ 0.0` turns -0 into 0: a log record never says `-0.0`.
    Ok(scaled.round() / 100.0 + 0.0)
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

/// True when going from `before` to `after` gives the running canary more traffic: a
/// later stage, a higher percent within its stage, or stable. With approvals
/// configured, that needs the current stage's approvals.
pub(crate) fn raises_canary(before: &ChannelState, after: &ChannelState) -> bool {
    let Some(c) = &before.canary else {
        return false;
    };
    match &after.canary {
        Some(n) => n.version == c.version && (n.stage > c.stage || n.percent > c.percent),
        None => after.stable.as_deref() == Some(c.version.as_str()),
    }
}

/// True when a rollout starts a canary above the first stage, or makes a version
/// stable at once, on a channel that has a stable version: with approvals
/// configured, that would skip them.
pub(crate) fn skips_first_stage(
    before: &ChannelState,
    after: &ChannelState,
    stages: &[f64],
) -> bool {
    if before.stable.is_none() || before.canary.is_some() {
        return false;
    }
    let first = stages.first().copied().unwrap_or(0.0);
    match &after.canary {
        Some(n) => n.percent > first + 1e-9,
        None => after.stable != before.stable,
    }
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
                        // The newest previous that no rollback moved away from.
                        None => state
                            .previous
                            .iter()
                            .find(|v| !state.rolled_back.contains(v))
                            .cloned()
                            .ok_or_else(|| {
                                Error::input(format!(
                                    "channel {channel} has no previous version to roll back to ({}; rolled back from: {}); use --to VERSION",
                                    state.summary(),
                                    if state.rolled_back.is_empty() { "none".to_string() } else { state.rolled_back.join(", ") }
                                ))
                            })?,
                    };
                    // The version rolled back from stays in `previous` (skew protection,
                    // retention) but is marked: a second rollback must not bring it back.
                    // It stays reachable with `rollback --to` or a new rollout.
                    if let Some(from) = &state.stable {
                        if *from != target && !s.rolled_back.contains(from) {
                            s.rolled_back.insert(0, from.clone());
                        }
                    }
                    s.rolled_back.retain(|v| *v != target);
                    promote(&mut s, target, keep);
                    let kept = s.previous.clone();
                    s.rolled_back.retain(|v| kept.contains(v));
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
        Intent::Approve { role, version } => {
            let c = state.canary.as_ref().ok_or_else(no_canary)?;
            if let Some(v) = version.as_ref().filter(|v| **v != c.version) {
                return Err(Error::Conflict(format!(
                    "channel {channel}: you approve {v}, but the canary is {} at {}% now; nothing was recorded",
                    c.version,
                    record::fmt_percent(c.percent)
                )));
            }
            let roles = &opts.config.approvals;
            if roles.is_empty() {
                return Err(Error::input(format!(
                    "channel {channel} needs no approvals ([channels.{channel}] approvals is empty in store.toml)"
                )));
            }
            if !roles.contains(role) {
                return Err(Error::usage(format!(
                    "role {role:?} is not one of channel {channel}'s approvals ({}); use --role {}",
                    roles.join(", "),
                    roles.join(" or --role ")
                )));
            }
        }
        Intent::Gate => {}
        Intent::Sync { state: to, .. } => {
            if to.stable.is_none() && (to.canary.is_some() || state.stable.is_some()) {
                return Err(Error::input(format!(
                    "channel {channel}: the state to sync has no stable version; syncing it would leave visitors nothing to get here ({})",
                    state.summary()
                )));
            }
            s = (**to).clone();
        }
    }
    if let Intent::Start { version, .. } = intent {
        // Rolled out again on purpose: no longer a version rollbacks skip.
        s.rolled_back.retain(|v| v != version);
    }
    Ok(s)
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
