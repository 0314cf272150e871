//! `sitevault rollout`, `rollback`, `pin`, `unpin`, `status`, `history`.

use sitevault::channel::{self as lib, record, ChangeOptions, ChangeReport, Intent};
use sitevault::release::{self, RollbackOptions, RollbackReport};
use sitevault::{clock, Error, Result};

use super::args::{HistoryArgs, PinArgs, RollbackArgs, RolloutArgs, StatusArgs, UnpinArgs};
use sitevault::gate::GateStatus;

use super::output::{escape_controls, human_bytes, stderr_line};
use super::{Ctx, Outcome};

/// Who and why, with the channel's settings.
pub(crate) fn change_options(
    ctx: &Ctx,
    channel: &str,
    actor: Option<&str>,
    reason: Option<String>,
) -> ChangeOptions {
    ChangeOptions {
        actor: clock::actor(actor),
        reason,
        config: ctx.cfg.channel(channel),
        ..Default::default()
    }
}

pub(crate) async fn rollout(ctx: &Ctx, a: &RolloutArgs) -> Result<Outcome> {
    let intent = match (&a.version, a.percent, a.advance, a.promote, a.abort) {
        (Some(v), p, false, false, false) => Intent::Start {
            version: v.clone(),
            percent: p,
        },
        (None, None, true, false, false) => Intent::Advance,
        (None, Some(p), false, false, false) => Intent::Percent(p),
        (None, None, false, true, false) => Intent::Promote,
        (None, None, false, false, true) => Intent::Abort,
        _ => {
            return Err(Error::usage(
                "rollout needs one of: VERSION [--percent P], --percent P, --advance, --promote, --abort (see `sitevault rollout --help`)",
            ))
        }
    };
    let opts = ChangeOptions {
        force: a.force,
        dry_run: a.dry_run,
        verify: a.verify,
        ..change_options(ctx, &a.channel, a.actor.as_deref(), a.reason.clone())
    };
    change(ctx, &a.channel, intent, opts).await
}

pub(crate) async fn pin(ctx: &Ctx, a: &PinArgs) -> Result<Outcome> {
    let opts = change_options(ctx, &a.channel, a.actor.as_deref(), Some(a.reason.clone()));
    change(ctx, &a.channel, Intent::Pin, opts).await
}

pub(crate) async fn unpin(ctx: &Ctx, a: &UnpinArgs) -> Result<Outcome> {
    let opts = change_options(ctx, &a.channel, a.actor.as_deref(), None);
    change(ctx, &a.channel, Intent::Unpin, opts).await
}

pub(crate) async fn change(
    ctx: &Ctx,
    channel: &str,
    intent: Intent,
    opts: ChangeOptions,
) -> Result<Outcome> {
    let store = ctx.hot()?;
    let r = lib::change(&store, channel, &intent, &opts).await?;
    let outcome = applied(&r, opts.dry_run);
    if ctx.out.json {
        ctx.out.json_value(&r);
    } else {
        ctx.out.line(&r.message);
    }
    Ok(outcome)
}

/// The outcome of a channel change: a change unless it was a dry run.
fn applied(r: &ChangeReport, dry_run: bool) -> Outcome {
    Outcome::changed_if(
        (!dry_run && r.written)
            .then(|| format!("{} applied (generation {})", r.action, r.generation)),
    )
}

pub(crate) async fn rollback(ctx: &Ctx, a: &RollbackArgs) -> Result<Outcome> {
    let out = &ctx.out;
    let store = ctx.hot()?;
    let opts = RollbackOptions {
        to: a.to.clone(),
        restore: !a.no_restore,
        change: ChangeOptions {
            dry_run: a.dry_run,
            verify: a.verify,
            ..change_options(ctx, &a.channel, a.actor.as_deref(), a.reason.clone())
        },
    };
    let report = release::rollback(&store, &ctx.cold_spec()?, &a.channel, &opts).await?;
    let outcome = match &report {
        RollbackReport::WouldRestore(_) => Outcome::done(),
        RollbackReport::Changed(c) => applied(&c.change, a.dry_run),
    };
    if out.json {
        out.json_value(&report);
        return Ok(outcome);
    }
    match &report {
        RollbackReport::WouldRestore(w) => out.line(&w.message),
        RollbackReport::Changed(c) => {
            if let Some(r) = &c.restored {
                out.line(&format!(
                    "{} was archived: restored it from cold storage first ({} blobs, {}, {} ms){}",
                    r.version,
                    r.blobs,
                    human_bytes(r.bytes),
                    r.elapsed_ms,
                    super::retention::repaired(r.repaired)
                ));
            }
            out.line(&c.change.message);
            if !a.dry_run && c.change.written {
                out.line(&format!(
                    "{0} is now pinned; `sitevault unpin {0}` lets rollouts continue",
                    a.channel
                ));
            }
        }
    }
    Ok(outcome)
}

pub(crate) async fn status(ctx: &Ctx, a: &StatusArgs) -> Result<Outcome> {
    let out = &ctx.out;
    let store = ctx.hot()?;
    let channels = match &a.channel {
        Some(c) => vec![c.clone()],
        None => lib::list(&store).await?,
    };
    let mut all = Vec::new();
    for c in &channels {
        let s = lib::status(&store, c).await?;
        let gate = match &s.state.canary {
            Some(_) => sitevault::gate::status(&store, c, &ctx.cfg.channel(c)).await?,
            None => None,
        };
        all.push((s, gate));
    }
    if out.json {
        let with_gate = |(s, g): &(lib::Status, Option<GateStatus>)| {
            let mut v = serde_json::to_value(s).unwrap_or_default();
            if let (Some(obj), Some(g)) = (v.as_object_mut(), g) {
                obj.insert("gate".into(), serde_json::to_value(g).unwrap_or_default());
            }
            v
        };
        match (&a.channel, all.first()) {
            (Some(_), Some(one)) => out.json_value(&with_gate(one)),
            _ => out.json_value(&all.iter().map(with_gate).collect::<Vec<_>>()),
        }
        return Ok(Outcome::done());
    }
    if all.is_empty() {
        out.line("no channels yet (start one with `sitevault rollout CHANNEL VERSION`)");
    }
    for (s, gate) in all {
        if s.generation == 0 {
            out.line(&format!(
                "{0}: no releases yet (start one with `sitevault rollout {0} VERSION`)",
                s.channel
            ));
            continue;
        }
        out.line(&format!("{}: {}", s.channel, s.state.summary()));
        if let Some(c) = &s.state.canary {
            out.line(&format!(
                "  canary    {} at {}% (stage {}), since {}",
                c.version,
                record::fmt_percent(c.percent),
                c.stage,
                c.started_at
            ));
        }
        if !s.state.previous.is_empty() {
            out.line(&format!("  previous  {}", s.state.previous.join(", ")));
        }
        out.line(&format!(
            "  last      {} by {} at {}",
            s.action.as_deref().unwrap_or("-"),
            escape_controls(s.by.as_deref().unwrap_or("-"), false),
            s.since.as_deref().unwrap_or("-")
        ));
        match &s.state.pinned {
            Some(p) => out.line(&format!(
                "  pinned    by {} at {}: {}",
                escape_controls(&p.by, false),
                p.at,
                escape_controls(&p.reason, false)
            )),
            None => out.line("  pinned    no"),
        }
        let mg = s
            .manifest_generation
            .map(|g| g.to_string())
            .unwrap_or_else(|| "missing".into());
        let note = if s.repaired {
            " (manifest was behind the log: repaired)"
        } else {
            ""
        };
        out.line(&format!(
            "  generation log {} / manifest {mg}{note}",
            s.generation
        ));
        if let Some(g) = gate {
            print_gate(out, &s.channel, &g);
        }
    }
    Ok(Outcome::done())
}

/// The gate lines of `status`: the stage, its verdict, approvals, what it waits for.
fn print_gate(out: &super::output::Out, channel: &str, g: &GateStatus) {
    out.line(&format!(
        "  stage     {} entered at {} (generation {})",
        g.stage.stage, g.stage.entered_at, g.stage.entered_generation
    ));
    if let Some((gen, v)) = &g.stage.last_gate {
        out.line(&format!(
            "  verdict   {} (generation {gen})",
            escape_controls(&v.summary(), false)
        ));
    }
    if !g.approvals_required.is_empty() {
        let given: Vec<String> = g
            .stage
            .approvals
            .iter()
            .map(|a| format!("{} by {}", a.role, escape_controls(&a.actor, false)))
            .collect();
        out.line(&format!(
            "  approvals {} given; {} missing",
            if given.is_empty() {
                "none".into()
            } else {
                given.join(", ")
            },
            if g.approvals_missing.is_empty() {
                "none".into()
            } else {
                g.approvals_missing.join(", ")
            }
        ));
    }
    if g.waiting_for.is_empty() {
        out.line(&format!(
            "  gate      ready to advance (`sitevault rollout {channel} --auto` moves it)"
        ));
    }
    for w in &g.waiting_for {
        out.line(&format!("  waiting   for {}", escape_controls(w, false)));
    }
}

pub(crate) async fn history(ctx: &Ctx, a: &HistoryArgs) -> Result<Outcome> {
    let out = &ctx.out;
    let store = ctx.hot()?;
    let mut h = lib::log::history(&store, &a.channel).await?;
    if h.entries.is_empty() {
        return Err(Error::input(format!(
            "channel {} has no history in {} (`sitevault status` lists the channels there; is --store right?)",
            a.channel,
            store.url()
        )));
    }
    if let Some(n) = a.limit {
        h.entries.truncate(n);
    }
    if out.json {
        out.json_value(&h);
    } else {
        for e in &h.entries {
            let reason = e
                .reason
                .as_ref()
                .map(|r| format!(" — {}", escape_controls(r, false)))
                .unwrap_or_default();
            out.line(&format!(
                "{:>5}  {}  {:<18} {:<9} {} → {}{reason}",
                e.generation,
                e.at,
                escape_controls(&e.actor, false),
                e.action,
                e.from,
                e.to
            ));
            if let Some(ap) = &e.approval {
                out.line(&format!(
                    "       approved: {} for {} at {}% (stage {})",
                    ap.role,
                    ap.version,
                    record::fmt_percent(ap.percent),
                    ap.stage
                ));
            }
            if let Some(g) = &e.gate {
                out.line(&format!(
                    "       verdict: {} [{}]",
                    escape_controls(&g.summary(), false),
                    escape_controls(&g.source, false)
                ));
            }
        }
        match &h.chain_error {
            None => out.line(&format!(
                "hash chain verified ({} records)",
                h.entries.len()
            )),
            Some(e) => stderr_line(&format!("error: hash chain broken: {e}")),
        }
    }
    Ok(match h.chain_error {
        None => Outcome::done(),
        Some(_) => Outcome::code(sitevault::error::exit::INTEGRITY),
    })
}
