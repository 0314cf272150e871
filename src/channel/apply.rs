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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ChannelConfig;

    fn canary(v: &str, percent: f64) -> Option<Canary> {
        Some(Canary {
            version: v.into(),
            percent,
            stage: 0,
            started_at: "t0".into(),
        })
    }

    fn state(stable: Option<&str>, canary: Option<Canary>, previous: &[&str]) -> ChannelState {
        ChannelState {
            stable: stable.map(str::to_string),
            canary,
            previous: previous.iter().map(|s| s.to_string()).collect(),
            pinned: None,
        }
    }

    fn pinned(mut s: ChannelState) -> ChannelState {
        s.pinned = Some(Pin {
            by: "ops".into(),
            at: "t0".into(),
            reason: "why".into(),
        });
        s
    }

    /// `(stable, canary version, canary percent, previous, pinned)` of a state.
    type Shape = (Option<String>, Option<(String, f64)>, Vec<String>, bool);

    fn shape(s: &ChannelState) -> Shape {
        (
            s.stable.clone(),
            s.canary.as_ref().map(|c| (c.version.clone(), c.percent)),
            s.previous.clone(),
            s.pinned.is_some(),
        )
    }

    fn want(stable: Option<&str>, canary: Option<(&str, f64)>, prev: &[&str], pin: bool) -> Shape {
        (
            stable.map(str::to_string),
            canary.map(|(v, p)| (v.to_string(), p)),
            prev.iter().map(|s| s.to_string()).collect(),
            pin,
        )
    }

    /// (name, state, intent, force, the new shape or part of the error message)
    type Row = (
        &'static str,
        ChannelState,
        Intent,
        bool,
        Result<Shape, &'static str>,
    );

    #[test]
    fn every_action_in_every_relevant_state() {
        let empty = state(None, None, &[]);
        let stable = state(Some("v1"), None, &["v0"]);
        let rolling = state(Some("v1"), canary("v2", 10.0), &["v0"]);
        let start = |v: &str, p: Option<f64>| Intent::Start {
            version: v.into(),
            percent: p,
        };
        let back = |to: Option<&str>| Intent::Rollback {
            to: to.map(str::to_string),
        };
        // (name, state, intent, force, Ok(shape) or Err(part of the message))
        let table: Vec<Row> = vec![
            (
                "start on empty is stable",
                empty.clone(),
                start("v1", None),
                false,
                Ok(want(Some("v1"), None, &[], false)),
            ),
            (
                "start at first stage",
                stable.clone(),
                start("v2", None),
                false,
                Ok(want(Some("v1"), Some(("v2", 0.0)), &["v0"], false)),
            ),
            (
                "start at percent",
                stable.clone(),
                start("v2", Some(25.0)),
                false,
                Ok(want(Some("v1"), Some(("v2", 25.0)), &["v0"], false)),
            ),
            (
                "start at 100 promotes",
                stable.clone(),
                start("v2", Some(100.0)),
                false,
                Ok(want(Some("v2"), None, &["v1", "v0"], false)),
            ),
            (
                "start the stable",
                stable.clone(),
                start("v1", None),
                false,
                Err("already the stable"),
            ),
            (
                "start the canary",
                rolling.clone(),
                start("v2", None),
                false,
                Err("already the canary"),
            ),
            (
                "start over a canary",
                rolling.clone(),
                start("v3", None),
                false,
                Err("--promote or --abort"),
            ),
            (
                "start bad percent",
                stable.clone(),
                start("v2", Some(33.333)),
                false,
                Err("two decimals"),
            ),
            (
                "start pinned",
                pinned(stable.clone()),
                start("v2", None),
                false,
                Err("pinned by ops"),
            ),
            (
                "start pinned forced unpins",
                pinned(stable.clone()),
                start("v2", Some(10.0)),
                true,
                Ok(want(Some("v1"), Some(("v2", 10.0)), &["v0"], false)),
            ),
            (
                "advance",
                rolling.clone(),
                Intent::Advance,
                false,
                Ok(want(Some("v1"), Some(("v2", 25.0)), &["v0"], false)),
            ),
            (
                "advance past the last stage promotes",
                state(Some("v1"), canary("v2", 50.0), &[]),
                Intent::Advance,
                false,
                Ok(want(Some("v2"), None, &["v1"], false)),
            ),
            (
                "advance without canary",
                stable.clone(),
                Intent::Advance,
                false,
                Err("no canary"),
            ),
            (
                "advance pinned",
                pinned(rolling.clone()),
                Intent::Advance,
                false,
                Err("pinned"),
            ),
            (
                "percent",
                rolling.clone(),
                Intent::Percent(33.33),
                false,
                Ok(want(Some("v1"), Some(("v2", 33.33)), &["v0"], false)),
            ),
            (
                "percent 100 promotes",
                rolling.clone(),
                Intent::Percent(100.0),
                false,
                Ok(want(Some("v2"), None, &["v1", "v0"], false)),
            ),
            (
                "percent out of range",
                rolling.clone(),
                Intent::Percent(101.0),
                false,
                Err("between 0 and 100"),
            ),
            (
                "percent without canary",
                stable.clone(),
                Intent::Percent(5.0),
                false,
                Err("no canary"),
            ),
            (
                "promote",
                rolling.clone(),
                Intent::Promote,
                false,
                Ok(want(Some("v2"), None, &["v1", "v0"], false)),
            ),
            (
                "promote without canary",
                stable.clone(),
                Intent::Promote,
                false,
                Err("no canary"),
            ),
            (
                "abort",
                rolling.clone(),
                Intent::Abort,
                false,
                Ok(want(Some("v1"), None, &["v0"], false)),
            ),
            (
                "abort pinned is allowed",
                pinned(rolling.clone()),
                Intent::Abort,
                false,
                Ok(want(Some("v1"), None, &["v0"], true)),
            ),
            (
                "abort without canary",
                stable.clone(),
                Intent::Abort,
                false,
                Err("no canary"),
            ),
            (
                "rollback drops the canary",
                rolling.clone(),
                back(None),
                false,
                Ok(want(Some("v1"), None, &["v0"], true)),
            ),
            (
                "rollback to previous",
                stable.clone(),
                back(None),
                false,
                Ok(want(Some("v0"), None, &["v1"], true)),
            ),
            (
                "rollback to a version",
                stable.clone(),
                back(Some("v9")),
                false,
                Ok(want(Some("v9"), None, &["v1", "v0"], true)),
            ),
            (
                "rollback to the canary",
                rolling.clone(),
                back(Some("v2")),
                false,
                Err("makes no sense"),
            ),
            (
                "rollback to stable drops canary",
                rolling.clone(),
                back(Some("v1")),
                false,
                Ok(want(Some("v1"), None, &["v0"], true)),
            ),
            (
                "rollback without previous",
                state(Some("v1"), None, &[]),
                back(None),
                false,
                Err("no previous"),
            ),
            (
                "rollback on empty",
                empty.clone(),
                back(None),
                false,
                Err("no releases"),
            ),
            (
                "rollback on empty with --to",
                empty.clone(),
                back(Some("v1")),
                false,
                Ok(want(Some("v1"), None, &[], true)),
            ),
            (
                "pin",
                stable.clone(),
                Intent::Pin,
                false,
                Ok(want(Some("v1"), None, &["v0"], true)),
            ),
            (
                "unpin",
                pinned(stable.clone()),
                Intent::Unpin,
                false,
                Ok(want(Some("v1"), None, &["v0"], false)),
            ),
            (
                "unpin unpinned",
                stable.clone(),
                Intent::Unpin,
                false,
                Err("not pinned"),
            ),
        ];
        for (name, st, intent, force, expected) in table {
            let opts = ChangeOptions {
                actor: "ops".into(),
                force,
                config: ChannelConfig::default(),
                ..Default::default()
            };
            match (apply("production", &st, &intent, &opts, "t1"), expected) {
                (Ok(s), Ok(w)) => assert_eq!(shape(&s), w, "{name}"),
                (Err(e), Err(part)) => {
                    assert!(e.to_string().contains(part), "{name}: {e}")
                }
                (got, w) => panic!("{name}: got {got:?}, want {w:?}"),
            }
        }
    }

    #[test]
    fn previous_is_kept_to_the_configured_length() {
        let mut opts = ChangeOptions::default();
        opts.config.keep_previous = 2;
        let st = state(Some("v3"), canary("v4", 10.0), &["v2", "v1"]);
        let s = apply("c", &st, &Intent::Promote, &opts, "t").unwrap();
        assert_eq!(s.previous, vec!["v3".to_string(), "v2".to_string()]);
    }
}
