//! `sitevault rollout --auto` and `sitevault approve`.

use sitevault::channel::{ChangeOptions, Intent};
use sitevault::error::exit;
use sitevault::gate::{self as lib, AutoOptions, AutoOutcome};
use sitevault::Result;

use super::args::{ApproveArgs, RolloutArgs};
use super::channel::{change, change_options};
use super::output::escape_controls;
use super::{Ctx, Outcome};

pub(crate) async fn auto(ctx: &Ctx, a: &RolloutArgs) -> Result<Outcome> {
    let out = &ctx.out;
    let store = ctx.hot()?;
    let opts = AutoOptions {
        start: a.version.clone(),
        once: a.once,
        max_wait: a.max_wait,
        dry_run: a.dry_run,
        change: ChangeOptions {
            force: a.force,
            verify: a.verify,
            ..change_options(ctx, &a.channel, a.actor.as_deref(), a.reason.clone())
        },
        health: ctx.cfg.health.clone(),
        webhook: ctx.cfg.notify.webhook.clone(),
        region: ctx.region.clone(),
        reporter: out.reporter(),
    };
    let r = lib::auto(&store, &a.channel, &opts).await?;
    if out.json {
        out.json_value(&r);
    } else {
        out.line(&escape_controls(&r.message, false));
        if r.outcome == AutoOutcome::Held {
            for w in &r.waiting_for {
                out.line(&format!("  waiting for {}", escape_controls(w, false)));
            }
        }
    }
    let written = r.changes.iter().filter(|c| c.written).count();
    let change = (written > 0).then(|| format!("{written} change(s) written by the health gate"));
    let code = match r.outcome {
        AutoOutcome::Promoted | AutoOutcome::Advanced | AutoOutcome::DryRun => exit::OK,
        AutoOutcome::Held => exit::HELD,
        AutoOutcome::RolledBack => exit::ROLLED_BACK,
    };
    Ok(Outcome::changed_if(change).with_code(code))
}

pub(crate) async fn approve(ctx: &Ctx, a: &ApproveArgs) -> Result<Outcome> {
    let opts = ChangeOptions {
        dry_run: a.dry_run,
        ..change_options(ctx, &a.channel, a.actor.as_deref(), a.reason.clone())
    };
    let intent = Intent::Approve {
        role: a.role.clone(),
        version: a.version.clone(),
    };
    change(ctx, &a.channel, intent, opts).await
}
