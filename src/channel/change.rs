//! Applying a change to a channel: validate the target, append the next log record
//! create-only, guard against a concurrent archive, project the manifest.

use std::time::Instant;

use serde::Serialize;

use super::apply::{apply, raises_canary, skips_first_stage, Intent};
use super::log;
use super::record::{Approval, ChannelState, GateRecord, LogRecord};
use super::targets::{check_carried, check_target, guard_targets, new_targets};
use crate::config::ChannelConfig;
use crate::error::{Error, Result};
use crate::publish::index::VersionIndex;
use crate::store::Store;

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
    /// Re-hash every blob of a new target before moving traffic (CLI `--verify`).
    pub verify: bool,
    /// The channel's settings (stages, previous kept, approvals).
    pub config: ChannelConfig,
    /// The health-gate verdict behind this change, recorded with it (`rollout --auto`).
    pub gate: Option<GateRecord>,
    /// Apply only while this is the running canary (same version, stage, percent and
    /// start): a change decided from measurements of one canary never lands on
    /// another (exit 3 instead).
    pub expect_canary: Option<super::record::Canary>,
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
    /// A record was written (false for a dry run or a change that changes nothing).
    pub written: bool,
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
        let what = match (&record.approval, &record.gate) {
            (Some(a), _) => format!(
                "{} approved {} at {}% (stage {})",
                a.role,
                a.version,
                super::record::fmt_percent(a.percent),
                a.stage
            ),
            (None, Some(g)) if action == "gate" => format!("gate verdict {}", g.summary()),
            _ => String::new(),
        };
        let message = if dry_run {
            format!("{channel}: dry run, nothing written — {action} would make {from} → {to} (generation {generation})")
        } else if !what.is_empty() {
            format!("{channel}: {what} (generation {generation}, {elapsed_ms:.0} ms)")
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
            written: !dry_run,
        }
    }

    /// The report of a change that needs no write.
    fn unchanged(
        channel: &str,
        generation: u64,
        intent: &Intent,
        state: &ChannelState,
        started: Instant,
        attempts: u32,
        message: String,
    ) -> Self {
        ChangeReport {
            channel: channel.to_string(),
            generation,
            action: intent.action().to_string(),
            from: state.summary(),
            to: state.summary(),
            state: state.clone(),
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            attempts,
            message,
            written: false,
        }
    }
}

/// `state` without `lost` in front of visitors: a canary of it is dropped, a stable
/// of it goes back to `fallback` (the stable before our change).
pub(crate) fn without(state: &ChannelState, lost: &str, fallback: Option<&str>) -> ChannelState {
    let mut s = state.clone();
    if s.canary.as_ref().is_some_and(|c| c.version == lost) {
        s.canary = None;
    }
    if s.stable.as_deref() == Some(lost) {
        s.stable = fallback.filter(|f| *f != lost).map(str::to_string);
        if let Some(f) = &s.stable {
            s.previous.retain(|p| p != f);
        }
    }
    s.previous.retain(|p| p != lost);
    s
}

/// Our record made `lost` live in the log, but an archive took it: write a `revert`
/// record that removes it again (projected at once), then fail loudly.
async fn revert(
    store: &Store,
    ours: &LogRecord,
    before: &ChannelState,
    lost: &str,
    opts: &ChangeOptions,
) -> Error {
    let channel = &ours.channel;
    let fail = |how: String| {
        Error::Conflict(format!(
            "channel {channel}: your {} lost a race with `sitevault archive`, which archived {lost} meanwhile; {how}. \
             Run `sitevault restore {lost}` and retry",
            ours.action
        ))
    };
    for _ in 0..20 {
        let head = match log::head_unrepaired(store, channel).await {
            Ok(h) => h,
            Err(e) => return e,
        };
        let Some(rec) = head.record else {
            return Error::Internal(format!("channel {channel}: the log vanished"));
        };
        let fixed = without(&rec.state, lost, before.stable.as_deref());
        if fixed == rec.state {
            // Someone else's newer record no longer routes to it.
            return match log::publish_projection(store, &rec).await {
                Ok(()) => fail(format!(
                    "generation {} no longer routes to it",
                    rec.generation
                )),
                Err(e) => e,
            };
        }
        let record = LogRecord {
            schema: 1,
            channel: channel.clone(),
            generation: rec.generation.saturating_add(1),
            prev: head.hash.clone(),
            at: crate::clock::now_string(),
            actor: opts.actor.clone(),
            action: "revert".into(),
            reason: Some(format!(
                "{lost} was archived while generation {} was written",
                ours.generation
            )),
            version: Some(lost.to_string()),
            state: fixed,
            approval: None,
            gate: None,
        };
        match log::append(store, &record).await {
            Ok(true) => {
                return match log::publish_projection(store, &record).await {
                    Ok(()) => fail(format!(
                        "the change was reverted (generation {})",
                        record.generation
                    )),
                    Err(e) => e,
                }
            }
            Ok(false) => continue,
            Err(e) => return e,
        }
    }
    fail("reverting it kept losing races: check `sitevault status` now".into())
}

/// Giving the canary more traffic needs one approval per role for this stage of this
/// canary: a missing one holds the change (exit 5), naming who must approve and how.
async fn check_approvals(
    store: &Store,
    channel: &str,
    head: &log::Head,
    roles: &[String],
) -> Result<()> {
    let Some(view) = super::stage::view(store, channel, head).await? else {
        return Ok(());
    };
    let missing = view.missing(roles);
    if missing.is_empty() {
        return Ok(());
    }
    let given = if view.approvals.is_empty() {
        "none yet".to_string()
    } else {
        view.approvals
            .iter()
            .map(|a| format!("{} by {}", a.role, a.actor))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(Error::Held(format!(
        "channel {channel}: {} at {}% (stage {}) needs approval from {} before it gets more traffic (given: {given}). \
         Approve with `sitevault approve {channel} --role {}`",
        view.version,
        super::record::fmt_percent(view.percent),
        view.stage,
        missing.join(" and "),
        missing[0]
    )))
}

/// A test hook for kill tests: with `SITEVAULT_TEST_PAUSE_AFTER_LOG=path`, a change
/// that has written its log record creates `path` and waits until it is removed
/// (a test SIGKILLs the process there, between the log and the manifest write).
async fn pause_after_log() {
    let Some(path) = std::env::var_os("SITEVAULT_TEST_PAUSE_AFTER_LOG") else {
        return;
    };
    let path = std::path::PathBuf::from(path);
    if std::fs::write(&path, b"paused").is_err() {
        return;
    }
    while path.exists() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Applies a change to a channel with the create-only log protocol.
pub async fn change(
    store: &Store,
    channel: &str,
    intent: &Intent,
    opts: &ChangeOptions,
) -> Result<ChangeReport> {
    change_read(store, channel, intent, opts, Read::default()).await
}

/// What a caller of [`change_read`] has just read, so it is not read again.
#[derive(Debug, Default)]
pub(crate) struct Read {
    /// The index of the version the intent names.
    pub index: Option<VersionIndex>,
    /// The channel's head.
    pub head: Option<log::Head>,
}

/// [`change`], given what the caller has just read.
pub(crate) async fn change_read(
    store: &Store,
    channel: &str,
    intent: &Intent,
    opts: &ChangeOptions,
    read: Read,
) -> Result<ChangeReport> {
    crate::ids::check_channel(channel)?;
    let started = Instant::now();
    let mut validated: Vec<String> = Vec::new();
    let mut prefetched = read.head;
    if let Intent::Start { version, .. } | Intent::Rollback { to: Some(version) } = intent {
        // An unknown, archived or incomplete version is the first thing to say. The
        // channel's head is read meanwhile (a rollback at 3 a.m. waits for neither).
        let head = async {
            match prefetched.take() {
                Some(h) => Ok(h),
                None => log::head(store, channel).await,
            }
        };
        let (checked, head) =
            tokio::join!(check_target(store, version, opts.verify, read.index), head);
        checked?;
        validated.push(version.clone());
        prefetched = Some(head?);
    }
    let mut first_seen: Option<(u64, ChannelState)> = None;
    for attempt in 1..=20u32 {
        let head = match prefetched.take() {
            Some(h) => h,
            None => log::head(store, channel).await?,
        };
        let state = head.state();
        if let Some((g, seen)) = &first_seen {
            // Lost a race: re-check the intent against what changed.
            let relative = intent.relative();
            // The whole canary: an abort and a new rollout of the same version at the
            // same percent is another canary (its start time differs).
            let canary_changed = seen.canary != state.canary;
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
        if let Intent::Sync {
            expect_generation: Some(g),
            ..
        } = intent
        {
            if head.generation != *g {
                return Err(Error::Conflict(format!(
                    "channel {channel} changed while the sync was prepared (generation {g} → {}: now {}); nothing was applied. Check `sitevault status {channel}` and sync again",
                    head.generation,
                    state.summary()
                )));
            }
        }
        if let Some(expected) = &opts.expect_canary {
            if state.canary.as_ref() != Some(expected) {
                return Err(Error::Conflict(format!(
                    "channel {channel}: the canary measured was {} at {}% (started {}), but the channel is now {}; nothing was applied",
                    expected.version,
                    super::record::fmt_percent(expected.percent),
                    expected.started_at,
                    state.summary()
                )));
            }
        }
        if let Intent::Rollback { to: Some(v) } = intent {
            if state.canary.is_none() && state.stable.as_ref() == Some(v) {
                return Ok(ChangeReport::unchanged(
                    channel,
                    head.generation,
                    intent,
                    &state,
                    started,
                    attempt,
                    format!("{channel}: {v} is already stable; nothing written"),
                ));
            }
        }
        let now = crate::clock::now_string();
        let next = apply(channel, &state, intent, opts, &now)?;
        // A sync copies a state other regions already approved.
        let synced = matches!(intent, Intent::Sync { .. });
        if !opts.config.approvals.is_empty() && !synced {
            if raises_canary(&state, &next) {
                check_approvals(store, channel, &head, &opts.config.approvals).await?;
            }
            if skips_first_stage(&state, &next, &opts.config.stages) {
                return Err(Error::Held(format!(
                    "channel {channel} needs approval from {} at every stage: start the canary at the first stage \
                     (`sitevault rollout {channel} VERSION`, {}%), then approve each stage",
                    opts.config.approvals.join(" and "),
                    super::record::fmt_percent(opts.config.stages.first().copied().unwrap_or(0.0))
                )));
            }
        }
        let targets = new_targets(&state, &next);
        for v in &targets {
            if !validated.contains(v) {
                check_target(store, v, opts.verify, None).await?;
                validated.push(v.clone());
            }
        }
        check_carried(store, channel, &next, &validated).await?;
        if first_seen.is_none() {
            first_seen = Some((head.generation, state.clone()));
        }
        let generation = head.generation.checked_add(1).ok_or_else(|| {
            Error::Integrity(format!(
                "channel {channel}: generation {} is the last one possible; the log is corrupt",
                head.generation
            ))
        })?;
        let record = LogRecord {
            schema: 1,
            channel: channel.to_string(),
            generation,
            prev: head.hash.clone(),
            at: now,
            actor: opts.actor.clone(),
            action: intent.action().to_string(),
            reason: opts.reason.clone(),
            version: match intent {
                Intent::Start { version, .. } => Some(version.clone()),
                Intent::Rollback { .. } | Intent::Sync { .. } => next.stable.clone(),
                _ => state.canary.as_ref().map(|c| c.version.clone()),
            },
            approval: match (intent, &state.canary) {
                (Intent::Approve { role, .. }, Some(c)) => Some(Approval {
                    role: role.clone(),
                    version: c.version.clone(),
                    stage: c.stage,
                    percent: c.percent,
                }),
                _ => None,
            },
            gate: opts.gate.clone(),
            state: next,
        };
        if opts.dry_run {
            return Ok(ChangeReport::new(&state, record, started, attempt, true));
        }
        if log::append(store, &record).await? {
            pause_after_log().await;
            if let Some(lost) = guard_targets(store, &targets).await? {
                return Err(revert(store, &record, &state, &lost, opts).await);
            }
            log::publish_projection(store, &record).await?;
            return Ok(ChangeReport::new(&state, record, started, attempt, false));
        }
        // Lost the race for this generation: back off a little, jittered and growing,
        // so that writers racing on one channel stop colliding in lockstep.
        let jitter = uuid::Uuid::new_v4().as_u128() as u64 % (u64::from(attempt) * 8 + 1);
        tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
    }
    Err(Error::Conflict(format!(
        "channel {channel}: gave up after 20 attempts; other writers keep changing it"
    )))
}
