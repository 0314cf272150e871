//! `rollout --auto`: drive a canary through its stages. Every `interval` the source
//! gives a verdict over the last `window`; a stage is left once its bake time has
//! passed, the verdict is a pass and every approval is in; a `rollback` verdict
//! rolls back at once. Stage start times, approvals and the failure streak come from
//! the channel log, so a killed and restarted driver continues where it was.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::notify::{self, Event, Notifier};
use super::source::Source;
use super::verdict::{evaluate, Verdict};
use super::waiting_for;
use crate::channel::record::{fmt_percent, Canary, GateRecord};
use crate::channel::{self, log, stage, ChangeOptions, ChangeReport, Intent};
use crate::config::HealthConfig;
use crate::error::{Error, Result};
use crate::report::Handle;
use crate::store::Store;

/// What `rollout --auto` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct AutoOptions {
    /// Start a canary of this version first (or keep driving it if it is the canary).
    pub start: Option<String>,
    /// Evaluate and act once, then stop.
    pub once: bool,
    /// Stop holding after this long past a stage's bake time.
    pub max_wait: Option<Duration>,
    /// Print the verdict and what it would do; write nothing.
    pub dry_run: bool,
    /// Who, why, force, verify and the channel's settings (stages, bake, approvals).
    pub change: ChangeOptions,
    /// Thresholds, cadence and the metric source.
    pub health: HealthConfig,
    /// `[notify] webhook`.
    pub webhook: Option<String>,
    /// The region this driver runs in (named in its notices), with `[regions.*]`.
    pub region: Option<String>,
    /// Where each verdict is reported as it is taken.
    pub reporter: Handle,
}

/// How a run of `rollout --auto` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoOutcome {
    /// The canary is stable now (exit 0).
    Promoted,
    /// `--once` moved it to the next stage (exit 0).
    Advanced,
    /// Held at a gate when `--once` or `--max-wait` ended (exit 5).
    Held,
    /// The gate rolled it back (exit 6).
    RolledBack,
    /// `--dry-run`: nothing written (exit 0).
    DryRun,
}

/// What `rollout --auto` did.
#[derive(Debug, Clone, Serialize)]
pub struct AutoReport {
    /// Channel.
    pub channel: String,
    /// The canary driven.
    pub version: Option<String>,
    /// How it ended.
    pub outcome: AutoOutcome,
    /// The changes written, in order.
    pub changes: Vec<ChangeReport>,
    /// The newest verdict.
    pub last_verdict: Option<GateRecord>,
    /// What the gate waits for, when held.
    pub waiting_for: Vec<String>,
    /// Windows evaluated.
    pub verdicts: u64,
    /// HTTP requests sent to the metric source.
    pub source_requests: u64,
    /// Events the webhook accepted.
    pub notified: Vec<String>,
    /// One line for people.
    pub message: String,
}

/// Drives `channel`'s canary (see the module docs).
pub async fn auto(store: &Store, channel: &str, opts: &AutoOptions) -> Result<AutoReport> {
    let pending = Pending::default();
    let result = drive(store, channel, opts, pending.clone()).await;
    // Notices are posted in the background, so a receiver that hangs never delays the
    // next verdict; they get a bounded time to finish before the run returns.
    let (_, _, timeout) = opts.health.durations();
    let delivered = flush(pending, timeout * notify::ATTEMPTS + Duration::from_secs(2)).await;
    result.map(|mut r| {
        r.notified.extend(delivered);
        r
    })
}

/// Notices being posted: the event and whether the receiver took it.
type Pending = Arc<Mutex<Vec<(String, tokio::task::JoinHandle<bool>)>>>;

async fn flush(pending: Pending, bound: Duration) -> Vec<String> {
    let tasks = std::mem::take(&mut *pending.lock().unwrap_or_else(|p| p.into_inner()));
    let mut delivered = Vec::new();
    let deadline = tokio::time::Instant::now() + bound;
    for (event, task) in tasks {
        if let Ok(Ok(true)) = tokio::time::timeout_at(deadline, task).await {
            delivered.push(event);
        }
    }
    delivered
}

async fn drive(
    store: &Store,
    channel: &str,
    opts: &AutoOptions,
    pending: Pending,
) -> Result<AutoReport> {
    crate::ids::check_channel(channel)?;
    let mut source = Source::from_config(&opts.health)?;
    let (interval, window, timeout) = opts.health.durations();
    let notifier = Notifier::new(opts.webhook.clone(), timeout, opts.reporter.clone());
    let mut run = Run {
        store,
        channel,
        opts,
        notifier,
        pending,
        report: AutoReport {
            channel: channel.to_string(),
            version: opts.start.clone(),
            outcome: AutoOutcome::Held,
            changes: Vec::new(),
            last_verdict: None,
            waiting_for: Vec::new(),
            verdicts: 0,
            source_requests: 0,
            notified: Vec::new(),
            message: String::new(),
        },
    };
    if let Some(done) = run.start().await? {
        return Ok(done);
    }
    let mut streak: Option<((String, usize), u32)> = None;
    let mut held_since: Option<((String, usize), Instant)> = None;
    let mut hold_notified: Option<(String, usize)> = None;
    let mut noted: Option<Instant> = None;
    loop {
        let tick = Instant::now();
        let head = log::head(store, channel).await?;
        let state = head.state();
        let Some(c) = state.canary.clone() else {
            return run.canary_gone(&head).await;
        };
        match &run.report.version {
            Some(v) if *v != c.version => {
                return Err(Error::Conflict(format!(
                    "channel {channel}: the canary is now {} (it was {v}); this run stops. Check `sitevault status {channel}`",
                    c.version
                )))
            }
            _ => run.report.version = Some(c.version.clone()),
        }
        if source.needs_warmup() {
            source.observe(&[]).await;
            tokio::time::sleep(interval.saturating_sub(tick.elapsed())).await;
            continue;
        }
        let view = stage::view(store, channel, &head)
            .await?
            .ok_or_else(|| Error::Internal("canary without a stage".into()))?;
        let key = (c.version.clone(), c.stage);
        let before = match &streak {
            Some((k, n)) if *k == key => *n,
            _ => view
                .last_gate
                .as_ref()
                .map(|(_, g)| g.failures)
                .unwrap_or(0),
        };
        let mut versions = vec![c.version.as_str()];
        versions.extend(state.stable.as_deref());
        let (readings, covered) = source.observe(&versions).await;
        run.report.source_requests = source.requests_sent();
        let no_stable = Err("the channel has no stable version".to_string());
        let stable = readings.get(1).unwrap_or(&no_stable);
        let (verdict, record) = evaluate(
            &opts.health,
            &readings[0],
            stable,
            before,
            covered,
            &source.describe(),
        );
        streak = Some((key.clone(), record.failures));
        run.report.verdicts += 1;
        run.report.last_verdict = Some(record.clone());
        opts.reporter.info(&format!(
            "{channel}: {} at {}% (stage {}): {}",
            c.version,
            fmt_percent(c.percent),
            c.stage,
            record.summary()
        ));
        if verdict == Verdict::Rollback {
            return run.roll_back(&c, record).await;
        }
        // A changed verdict goes into the log, where status and history show it. An
        // alert (and the recovery from one) is written at once; other changes at most
        // once a window, so a canary flapping between pass and inconclusive at the
        // edge of min_requests does not flood the log.
        let logged = view
            .last_gate
            .as_ref()
            .map(|(_, g)| (g.verdict.as_str(), g.failures));
        // A changed failure streak is written at once too: a restarted driver reads
        // it back, and must not resume a streak that had ended.
        let alerting = verdict == Verdict::Alert
            || logged.is_some_and(|(v, f)| v == "alert" || f != record.failures);
        let due = alerting || noted.is_none_or(|t| t.elapsed() >= window);
        if !opts.dry_run && due && logged != Some((record.verdict.as_str(), record.failures)) {
            match run.note(&record, &c).await {
                Ok(generation) => {
                    noted = Some(Instant::now());
                    if verdict == Verdict::Alert {
                        run.notify("alert", &c, Some(&record), generation);
                    }
                }
                Err(Error::Conflict(_)) => {
                    // The canary changed meanwhile: look again after a pause.
                    tokio::time::sleep(interval.saturating_sub(tick.elapsed())).await;
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        // A 0 % stage has no traffic share: missing data does not hold it.
        let gate_ok =
            verdict == Verdict::Pass || (c.percent == 0.0 && verdict == Verdict::Inconclusive);
        let now = crate::clock::now();
        let waits = waiting_for(
            channel,
            &opts.change.config,
            &view,
            Some(&record),
            gate_ok,
            now,
        );
        if waits.is_empty() {
            if opts.dry_run {
                return Ok(run.end(
                    AutoOutcome::DryRun,
                    format!(
                    "{channel}: dry run, nothing written — the gate would advance {} from {}% ({})",
                    c.version,
                    fmt_percent(c.percent),
                    record.summary()
                ),
                ));
            }
            if let (Some(p), false) = (&state.pinned, opts.change.force) {
                // Pinned while the canary runs: it is still measured (and rolled back
                // if it fails); only moving it forward waits for the pin.
                return Err(Error::input(format!(
                    "channel {channel} is pinned by {} since {}: {:?}; the gate cannot advance it. Run `sitevault unpin {channel}` (or pass --force) and start again",
                    p.by, p.at, p.reason
                )));
            }
            let reason = format!("health gate: {}", record.reason);
            match run
                .change(Intent::Advance, Some(record.clone()), reason, &c)
                .await
            {
                Ok(r) => {
                    let promoted = r.state.canary.is_none();
                    let generation = r.generation;
                    run.report.changes.push(r);
                    if promoted {
                        run.notify("promote", &c, Some(&record), Some(generation));
                        return Ok(run.end(
                            AutoOutcome::Promoted,
                            format!(
                                "{channel}: {} promoted to stable by the health gate",
                                c.version
                            ),
                        ));
                    }
                    if opts.once {
                        return Ok(run.end(
                            AutoOutcome::Advanced,
                            format!("{channel}: {} advanced by the health gate", c.version),
                        ));
                    }
                }
                Err(Error::Conflict(_)) => continue,
                Err(Error::Held(m)) if opts.once => {
                    // The change re-checked the approvals against a newer log and found one missing.
                    run.report.waiting_for = vec![m];
                    return Ok(run.held(&c));
                }
                Err(Error::Held(m)) => run.report.waiting_for = vec![m],
                Err(e) => return Err(e),
            }
        } else {
            run.report.waiting_for = waits;
            let baked = super::bake_left(&opts.change.config, &view, now).is_zero();
            if baked {
                // A hold is timed per stage: a stage entered meanwhile starts afresh.
                if held_since.as_ref().is_none_or(|(k, _)| *k != key) {
                    held_since = Some((key.clone(), Instant::now()));
                }
                let since = held_since.as_ref().map(|(_, t)| *t).unwrap_or(tick);
                if hold_notified.as_ref() != Some(&key) && !opts.dry_run {
                    hold_notified = Some(key.clone());
                    run.notify("hold", &c, Some(&record), None);
                }
                if opts.max_wait.is_some_and(|m| since.elapsed() >= m) {
                    return Ok(run.held(&c));
                }
            }
            if opts.dry_run {
                return Ok(run.end(AutoOutcome::DryRun, format!(
                    "{channel}: dry run, nothing written — the gate would hold {} at {}%: waiting for {}",
                    c.version,
                    fmt_percent(c.percent),
                    run.report.waiting_for.join("; ")
                )));
            }
            if opts.once {
                return Ok(run.held(&c));
            }
        }
        tokio::time::sleep(interval.saturating_sub(tick.elapsed())).await;
    }
}

/// One run's context and report.
struct Run<'a> {
    store: &'a Store,
    channel: &'a str,
    opts: &'a AutoOptions,
    notifier: Notifier,
    pending: Pending,
    report: AutoReport,
}

impl Run<'_> {
    /// Starts the canary when asked to. `Some` when the run is already over.
    async fn start(&mut self) -> Result<Option<AutoReport>> {
        let Some(v) = self.opts.start.clone() else {
            return Ok(None);
        };
        let head = log::head(self.store, self.channel).await?;
        let running = head
            .record
            .as_ref()
            .and_then(|r| r.state.canary.as_ref())
            .is_some_and(|c| c.version == v);
        if running {
            return Ok(None);
        }
        let intent = Intent::Start {
            version: v.clone(),
            percent: None,
        };
        let opts = ChangeOptions {
            dry_run: self.opts.dry_run,
            ..self.opts.change.clone()
        };
        let r = channel::change(self.store, self.channel, &intent, &opts).await?;
        if self.opts.dry_run {
            let msg = r.message.clone();
            self.report.changes.push(r);
            return Ok(Some(self.end(AutoOutcome::DryRun, msg)));
        }
        let promoted = r.state.canary.is_none();
        self.report.changes.push(r);
        if promoted {
            // An empty channel (or stages [100]): the version went straight to stable.
            return Ok(Some(self.end(
                AutoOutcome::Promoted,
                format!(
                    "{}: {v} is stable (the channel had no stable version to compare it with)",
                    self.channel
                ),
            )));
        }
        Ok(None)
    }

    /// The canary disappeared: promoted or removed by someone else.
    async fn canary_gone(&mut self, head: &log::Head) -> Result<AutoReport> {
        let channel = self.channel;
        let Some(v) = self.report.version.clone() else {
            return Err(Error::input(format!(
                "channel {channel} has no canary running; start one with `sitevault rollout {channel} VERSION --auto`"
            )));
        };
        let rec = head.record.as_ref();
        if rec.and_then(|r| r.state.stable.as_deref()) == Some(v.as_str()) {
            return Ok(self.end(AutoOutcome::Promoted, format!("{channel}: {v} is stable")));
        }
        let by = rec
            .map(|r| format!("{} ({}, generation {})", r.actor, r.action, r.generation))
            .unwrap_or_default();
        Err(Error::Conflict(format!(
            "channel {channel}: the canary {v} was removed by {by}; nothing left to drive. Check `sitevault status {channel}`"
        )))
    }

    async fn roll_back(&mut self, c: &Canary, record: GateRecord) -> Result<AutoReport> {
        let channel = self.channel;
        if self.opts.dry_run {
            return Ok(self.end(
                AutoOutcome::DryRun,
                format!(
                    "{channel}: dry run, nothing written — the gate would roll back {}: {}",
                    c.version,
                    record.summary()
                ),
            ));
        }
        let reason = format!("health gate: {}", record.reason);
        let r = self
            .change(
                Intent::Rollback { to: None },
                Some(record.clone()),
                reason,
                c,
            )
            .await?;
        let generation = r.generation;
        self.report.changes.push(r);
        // The rollback is written: notifying can no longer delay it.
        self.notify("rollback", c, Some(&record), Some(generation));
        Ok(self.end(
            AutoOutcome::RolledBack,
            format!(
                "{channel}: rolled back {} (generation {generation}): {}; the channel is pinned (`sitevault unpin {channel}` once fixed)",
                c.version,
                record.summary()
            ),
        ))
    }

    async fn change(
        &self,
        intent: Intent,
        gate: Option<GateRecord>,
        reason: String,
        measured: &Canary,
    ) -> Result<ChangeReport> {
        let opts = ChangeOptions {
            reason: Some(match &self.opts.change.reason {
                Some(r) => format!("{r}; {reason}"),
                None => reason,
            }),
            gate,
            expect_canary: Some(measured.clone()),
            ..self.opts.change.clone()
        };
        channel::change(self.store, self.channel, &intent, &opts).await
    }

    /// Writes a `gate` record (state unchanged); returns its generation.
    async fn note(&mut self, record: &GateRecord, measured: &Canary) -> Result<Option<u64>> {
        let r = self
            .change(
                Intent::Gate,
                Some(record.clone()),
                format!("health gate: {}", record.reason),
                measured,
            )
            .await?;
        let g = r.written.then_some(r.generation);
        self.report.changes.push(r);
        Ok(g)
    }

    /// Posts a notice in the background (see [`auto`]).
    fn notify(
        &mut self,
        event: &str,
        c: &Canary,
        verdict: Option<&GateRecord>,
        generation: Option<u64>,
    ) {
        let what = match event {
            "rollback" => "rolled back",
            "promote" => "promoted",
            "hold" => "held",
            _ => "alert",
        };
        let text = format!(
            "sitevault: {} {what} on {}{} at {}%{}",
            c.version,
            self.channel,
            self.opts
                .region
                .as_deref()
                .map(|r| format!(" in region {r}"))
                .unwrap_or_default(),
            fmt_percent(c.percent),
            verdict
                .map(|v| format!(" — {}", v.summary()))
                .unwrap_or_default()
        );
        let e = Event {
            text,
            event: event.to_string(),
            channel: self.channel.to_string(),
            region: self.opts.region.clone(),
            version: c.version.clone(),
            percent: c.percent,
            stage: c.stage,
            verdict: verdict.cloned(),
            generation,
        };
        let notifier = self.notifier.clone();
        let task = tokio::spawn(async move { notifier.send(&e).await });
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((event.to_string(), task));
    }

    fn held(&self, c: &Canary) -> AutoReport {
        let msg = format!(
            "{}: {} held at {}% (stage {}); exit 5",
            self.channel,
            c.version,
            fmt_percent(c.percent),
            c.stage
        );
        self.end(AutoOutcome::Held, msg)
    }

    /// The report, ended with `outcome`.
    fn end(&self, outcome: AutoOutcome, message: String) -> AutoReport {
        let mut r = self.report.clone();
        r.outcome = outcome;
        r.message = message;
        r
    }
}
