//! Running a command in every region: [`fan_out`] runs it once per region, at once,
//! each region's lines marked `[name]`, and settles one exit code and one JSON report;
//! plus `status` across regions (with drift) and `sync`.

use std::collections::BTreeMap;
use std::future::Future;

use serde_json::{json, Map, Value};
use sitevault::error::exit;
use sitevault::regions::{self as lib, SyncOptions};
use sitevault::Result;

use super::args::{StatusArgs, SyncArgs};
use super::channel::change_options;
use super::output::{escape_controls, human_bytes, stderr_line};
use super::{Ctx, Outcome};

/// Every region's answer to one command.
pub(crate) struct Fanned {
    /// Region → what it answered (its JSON report, or `{"error", "exit_code"}`).
    pub json: BTreeMap<String, Value>,
    /// Region → its outcome, for those that did not fail.
    pub done: BTreeMap<String, Outcome>,
    /// Region → (message, exit code), for those that failed.
    pub failed: BTreeMap<String, (String, i32)>,
}

/// Runs `f` with a [`Ctx`] per selected region; without regions (or with one chosen),
/// simply once.
pub(crate) async fn fan_out<F, Fut>(ctx: &Ctx, f: F) -> Result<Outcome>
where
    F: Fn(Ctx) -> Fut,
    Fut: Future<Output = Result<Outcome>>,
{
    match several(ctx) {
        None => f(ctx.clone()).await,
        Some(names) => Ok(run(ctx, &names, f).await.finish(ctx, Map::new(), false)),
    }
}

/// The regions a command fans out to, when there are several: `[regions.*]` without
/// `--region` or `--store`. Decided from the config alone, so a command whose
/// arguments are refused opens (and creates) no store.
pub(crate) fn several(ctx: &Ctx) -> Option<Vec<String>> {
    let fan = ctx.store_url.is_none() && ctx.region.is_none() && ctx.cfg.regions.len() > 1;
    fan.then(|| ctx.cfg.regions.keys().cloned().collect())
}

/// Runs `f` in every region of `names` at once.
pub(crate) async fn run<F, Fut>(ctx: &Ctx, names: &[String], f: F) -> Fanned
where
    F: Fn(Ctx) -> Fut,
    Fut: Future<Output = Result<Outcome>>,
{
    let answers = futures::future::join_all(names.iter().map(|name| {
        let c = ctx.for_region(name);
        let f = &f;
        async move {
            let res = f(c.clone()).await;
            (name.clone(), res, c.out.take_captured())
        }
    }))
    .await;
    let mut fanned = Fanned {
        json: BTreeMap::new(),
        done: BTreeMap::new(),
        failed: BTreeMap::new(),
    };
    for (region, res, mut captured) in answers {
        match res {
            Ok(o) => {
                let v = match captured.len() {
                    0 => json!({}),
                    1 => captured.remove(0),
                    _ => Value::Array(captured),
                };
                fanned.json.insert(region.clone(), v);
                fanned.done.insert(region, o);
            }
            Err(e) => {
                fanned.json.insert(
                    region.clone(),
                    json!({"error": e.to_string(), "exit_code": e.exit_code()}),
                );
                fanned.failed.insert(region, (e.to_string(), e.exit_code()));
            }
        }
    }
    fanned
}

impl Fanned {
    /// Says which regions failed, prints the JSON report (with `extra` keys), and
    /// settles the exit code: the regions' own when they agree, 7 when some did it and
    /// others failed (or `disagree`).
    pub fn finish(self, ctx: &Ctx, extra: Map<String, Value>, disagree: bool) -> Outcome {
        let out = &ctx.out;
        for (r, (msg, _)) in &self.failed {
            if !out.json {
                stderr_line(&format!("error: [{r}] {msg}"));
            }
        }
        let changed: Vec<String> = self
            .done
            .iter()
            .filter_map(|(r, o)| o.change.as_ref().map(|c| format!("[{r}] {c}")))
            .collect();
        let ok_code = self.done.values().map(|o| o.code).max().unwrap_or(0);
        // Corrupt data (4) and a gate rollback (6) say more than "partial" (7).
        let telling = self
            .done
            .values()
            .map(|o| o.code)
            .chain(self.failed.values().map(|f| f.1))
            .filter(|c| *c == exit::INTEGRITY || *c == exit::ROLLED_BACK)
            .max();
        let code = match (self.done.is_empty(), self.failed.is_empty()) {
            _ if telling.is_some() => telling.unwrap_or(exit::PARTIAL),
            (_, true) if disagree => ok_code.max(exit::PARTIAL),
            (_, true) => ok_code,
            (true, false) => self.failed.values().map(|f| f.1).max().unwrap_or(1),
            (false, false) => exit::PARTIAL,
        };
        if code == exit::PARTIAL && !self.failed.is_empty() && !out.json {
            stderr_line(&format!(
                "error: done in {}; failed in {}. `sitevault status` shows where each region stands; \
                 when they are reachable, `sitevault sync CHANNEL` brings channels together (a publish can simply be run again)",
                join_or_none(self.done.keys()),
                join_or_none(self.failed.keys())
            ));
        }
        if out.json {
            let mut doc = Map::new();
            doc.insert(
                "regions".into(),
                Value::Object(self.json.into_iter().collect()),
            );
            doc.insert(
                "failed".into(),
                Value::Array(self.failed.keys().cloned().map(Value::String).collect()),
            );
            doc.extend(extra);
            out.json_value(&Value::Object(doc));
        }
        Outcome {
            code,
            change: (!changed.is_empty()).then(|| changed.join("; ")),
        }
    }
}

fn join_or_none<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = names.map(String::as_str).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// `status`: each region's channels, then whether the regions agree (exit 7 when
/// they do not).
pub(crate) async fn status(ctx: &Ctx, a: &StatusArgs) -> Result<Outcome> {
    let Some(names) = several(ctx) else {
        return super::channel::status(ctx, a).await;
    };
    let fanned = run(ctx, &names, |c| async move {
        super::channel::status(&c, a).await
    })
    .await;
    let regions = ctx.regions()?;
    let channels = match &a.channel {
        Some(c) => vec![c.clone()],
        None => {
            let mut all = std::collections::BTreeSet::new();
            for r in regions.list() {
                if let Ok(list) = sitevault::channel::list(&r.store).await {
                    all.extend(list);
                }
            }
            all.into_iter().collect()
        }
    };
    // Every channel at once: a frozen region costs one timeout, not one per channel.
    let comparisons =
        futures::future::join_all(channels.iter().map(|c| lib::compare(&regions, c))).await;
    let out = &ctx.out;
    for c in &comparisons {
        if c.agree {
            out.line(&format!(
                "{}: the {} regions agree",
                c.channel,
                c.regions.len()
            ));
        } else {
            out.line(&format!(
                "{}: the regions DRIFT: {}",
                c.channel,
                escape_controls(&c.drift.join("; "), false)
            ));
            out.line(&format!(
                "  when every region is reachable, `sitevault sync {}` brings them to the newest state",
                c.channel
            ));
        }
    }
    let disagree = comparisons.iter().any(|c| !c.agree);
    let mut extra = Map::new();
    extra.insert(
        "drift".into(),
        serde_json::to_value(&comparisons).unwrap_or_default(),
    );
    Ok(fanned.finish(ctx, extra, disagree))
}

/// `sync CHANNEL`.
pub(crate) async fn sync(ctx: &Ctx, a: &SyncArgs) -> Result<Outcome> {
    let out = &ctx.out;
    // Every region is read to find the newest state; --region limits what is changed.
    let regions = sitevault::regions::Regions::open(&ctx.cfg, ctx.store_url.as_deref(), None)?;
    let opts = SyncOptions {
        only: ctx.region.clone(),
        from: a.from.clone(),
        dry_run: a.dry_run,
        change: change_options(ctx, &a.channel, a.actor.as_deref(), a.reason.clone()),
    };
    let r = lib::sync(&regions, &a.channel, &opts).await?;
    let failed = r.failed();
    let synced: Vec<&str> = r
        .regions
        .iter()
        .filter(|x| x.outcome == "synced")
        .map(|x| x.region.as_str())
        .collect();
    let outcome = Outcome {
        code: if failed.is_empty() {
            exit::OK
        } else {
            exit::PARTIAL
        },
        change: (!synced.is_empty()).then(|| format!("{} synced {}", a.channel, synced.join(", "))),
    };
    if out.json {
        out.json_value(&r);
        return Ok(outcome);
    }
    out.line(&format!(
        "{}: newest state is {}'s: {}",
        r.channel,
        r.leader,
        r.state.summary()
    ));
    for x in &r.regions {
        let copied = if x.copied_versions.is_empty() {
            String::new()
        } else {
            format!(
                "; {} {} ({} blobs, {})",
                if r.dry_run { "would copy" } else { "copied" },
                x.copied_versions.join(", "),
                x.copied_blobs,
                human_bytes(x.copied_bytes)
            )
        };
        let gen = x
            .generation
            .map(|g| format!(" (generation {g})"))
            .unwrap_or_default();
        match x.outcome.as_str() {
            "failed" => stderr_line(&format!(
                "error: [{}] not synced: {}",
                x.region,
                x.error.as_deref().unwrap_or("unknown error")
            )),
            o => out.line(&format!("[{}] {o}{gen}{copied}", x.region)),
        }
    }
    if !failed.is_empty() {
        stderr_line(&format!(
            "error: {} still lag; run `sitevault sync {}` again when they are reachable",
            failed.join(", "),
            a.channel
        ));
    }
    Ok(outcome)
}
