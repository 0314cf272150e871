//! `sitevault publish`, `versions`, `verify`, `pull`.

use sitevault::channel::ChangeOptions;
use sitevault::publish::{self as lib, inspect, PublishOptions};
use sitevault::{clock, release, Error, Result};

use super::args::{DiffArgs, PublishArgs, PullArgs, VerifyArgs};
use super::output::{escape_controls, human_bytes, stderr_line};
use super::{Ctx, Outcome};
use serde_json::Value;

/// `publish`: in every region at once. With `--channel`, the rollout follows only
/// once every region has the version, so no region routes to a version another lacks.
pub(crate) async fn publish_regions(ctx: &Ctx, a: &PublishArgs) -> Result<Outcome> {
    let channel = a.channel.as_deref();
    let Some(regions) = super::regions::several(ctx) else {
        return publish(ctx, a, channel).await;
    };
    let mut published =
        super::regions::run(ctx, &regions, |c| async move { publish(&c, a, None).await }).await;
    let (Some(channel), true) = (channel, published.failed.is_empty()) else {
        if let (Some(ch), false) = (channel, published.failed.is_empty()) {
            stderr_line(&format!(
                "error: not rolled out on {ch}: {} is not published in every region",
                a.version
            ));
        }
        return Ok(published.finish(ctx, Default::default(), false));
    };
    if a.dry_run {
        return Ok(published.finish(ctx, Default::default(), false));
    }
    let rolled = super::regions::run(ctx, &regions, |c| async move {
        let opts = ChangeOptions {
            actor: clock::actor(a.actor.as_deref()),
            config: c.cfg.channel(channel),
            ..Default::default()
        };
        // Already on the channel (a rerun after a region was down): nothing to do there.
        let step = release::roll_out(&c.hot()?, channel, &a.version, &opts).await?;
        if c.out.json {
            c.out.json_value(&step);
        } else {
            c.out.line(step.message());
        }
        Ok(Outcome::changed_if(step.written_generation().map(|g| {
            format!("its rollout on {channel} applied (generation {g})")
        })))
    })
    .await;
    // One report per region: the publish, with its rollout under "channel".
    for (r, v) in rolled.json {
        if let Some(Value::Object(m)) = published.json.get_mut(&r) {
            m.insert("channel".into(), v);
        }
    }
    for (r, o) in rolled.done {
        let p = published.done.entry(r).or_default();
        p.code = p.code.max(o.code);
        p.change = match (p.change.take(), o.change) {
            (Some(a), Some(b)) => Some(format!("{a} and {b}")),
            (a, b) => a.or(b),
        };
    }
    for (r, f) in rolled.failed {
        published.done.remove(&r);
        published.failed.insert(r, f);
    }
    Ok(published.finish(ctx, Default::default(), false))
}

pub(crate) async fn publish(ctx: &Ctx, a: &PublishArgs, channel: Option<&str>) -> Result<Outcome> {
    let (cfg, out) = (&ctx.cfg, &ctx.out);
    let store = ctx.hot()?;
    let dist = a
        .dist
        .clone()
        .unwrap_or_else(|| cfg.resolve(&cfg.build.out));
    let opts = PublishOptions {
        dry_run: a.dry_run,
        reporter: out.reporter(),
        actor: clock::actor(a.actor.as_deref()),
        git: None,
        detect_git: true,
        index_cache: Some(lib::IndexCache::new(
            &cfg.resolve(&cfg.build.cache_dir),
            store.url(),
        )),
        build_cache: Some(cfg.resolve(&cfg.build.cache_dir)),
    };
    let change = channel.map(|c| ChangeOptions {
        actor: clock::actor(a.actor.as_deref()),
        config: cfg.channel(c),
        ..Default::default()
    });
    let rollout = channel.zip(change.as_ref());
    let released = release::publish(&store, &dist, &a.version, &opts, rollout).await?;
    let r = &released.publish;
    let mut changed = Vec::new();
    if !r.dry_run && (!r.already_published || r.repaired_blobs > 0) {
        changed.push(format!("{} was published", r.version));
    }
    if let (Some(c), Some(g)) = (
        channel,
        released
            .channel
            .as_ref()
            .and_then(|s| s.written_generation()),
    ) {
        changed.push(format!("its rollout on {c} applied (generation {g})"));
    }
    let outcome = Outcome::changed_if((!changed.is_empty()).then(|| changed.join(" and ")));
    if out.json {
        out.json_value(&released);
        return Ok(outcome);
    }
    if r.already_published && r.repaired_blobs > 0 {
        out.line(&format!(
            "{} is already published with the same content; {} missing blobs ({}) uploaded again",
            r.version,
            r.repaired_blobs,
            human_bytes(r.uploaded_bytes)
        ));
    } else if r.already_published && r.dry_run && r.uploaded_blobs > 0 {
        out.line(&format!(
            "dry run: {} is already published; {} of its blobs are missing and would be uploaded again",
            r.version, r.uploaded_blobs
        ));
    } else if r.already_published {
        out.line(&format!(
            "{} is already published with the same content ({} files); nothing written",
            r.version, r.files
        ));
    } else if r.dry_run {
        out.line(&format!(
            "dry run: {} would upload {} blobs ({}), {} already in {}; {} files, {} in all",
            r.version,
            r.uploaded_blobs,
            human_bytes(r.uploaded_bytes),
            r.skipped_blobs,
            store.url(),
            r.files,
            human_bytes(r.bytes)
        ));
        if let (Some(base), Some(plan)) = (&r.base, &r.plan) {
            out.line(&format!(
                "compared with {base}, the newest published version:"
            ));
            print_file_diff(out, plan);
        }
    } else {
        out.line(&format!(
            "published {} to {}: {} files ({}), uploaded {} blobs ({}), {} already stored, {} requests",
            r.version,
            store.url(),
            r.files,
            human_bytes(r.bytes),
            r.uploaded_blobs,
            human_bytes(r.uploaded_bytes),
            r.skipped_blobs,
            r.requests
        ));
    }
    if let Some(c) = &released.channel {
        out.line(c.message());
    }
    Ok(outcome)
}

/// Files shown per kind before "… N more".
const SHOWN: usize = 50;

/// `+ /new.html (1.2 KB)`, `- /old.css (3 KB)`, `~ /index.html (2 KB → 2.1 KB)`, with
/// counts; `--json` lists every file.
fn print_file_diff(out: &super::output::Out, d: &lib::FileDiff) {
    out.line(&format!(
        "  {} added, {} removed, {} changed, {} unchanged",
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        d.unchanged
    ));
    let size = |s: Option<u64>| s.map(human_bytes).unwrap_or_default();
    for (mark, list) in [("+", &d.added), ("-", &d.removed), ("~", &d.changed)] {
        for c in list.iter().take(SHOWN) {
            let sizes = match (c.from_size, c.to_size) {
                (Some(a), Some(b)) => format!("{} → {}", human_bytes(a), human_bytes(b)),
                (a, b) => size(a.or(b)),
            };
            out.line(&format!(
                "  {mark} {} ({sizes})",
                escape_controls(&c.path, false)
            ));
        }
        if list.len() > SHOWN {
            out.line(&format!(
                "  {mark} … {} more (--json lists all)",
                list.len() - SHOWN
            ));
        }
    }
}

pub(crate) async fn diff(ctx: &Ctx, a: &DiffArgs) -> Result<Outcome> {
    let out = &ctx.out;
    let store = ctx.hot()?;
    let side = |s: &str| -> Result<lib::Side> {
        let p = std::path::Path::new(s);
        if p.is_dir() {
            return Ok(lib::Side::Dist(p.to_path_buf()));
        }
        sitevault::ids::check_version(s).map_err(|_| {
            Error::usage(format!(
                "{s:?} is neither a folder nor a version id (give a published version, e.g. v1.4.0, or a dist folder)"
            ))
        })?;
        Ok(lib::Side::Version(s.to_string()))
    };
    let r = lib::diff(&store, &side(&a.from)?, &side(&a.to)?).await?;
    if out.json {
        out.json_value(&r);
        return Ok(Outcome::done());
    }
    out.line(&format!(
        "{} → {}",
        escape_controls(&r.from, false),
        escape_controls(&r.to, false)
    ));
    print_file_diff(out, &r.files);
    if let lib::Side::Dist(_) = side(&a.to)? {
        out.line(&format!(
            "publishing {} would upload {} blobs ({}) to {}",
            escape_controls(&r.to, false),
            r.upload_blobs,
            human_bytes(r.upload_bytes),
            store.url()
        ));
    }
    Ok(Outcome::done())
}

pub(crate) async fn versions(ctx: &Ctx) -> Result<Outcome> {
    let out = &ctx.out;
    let store = ctx.hot()?;
    let list = inspect::list_versions(&store).await?;
    if out.json {
        out.json_value(&list);
        return Ok(Outcome::done());
    }
    if list.is_empty() {
        out.line(&format!(
            "no versions in {} yet (publish one with `sitevault publish --version V`)",
            store.url()
        ));
        return Ok(Outcome::done());
    }
    out.line(&format!(
        "{:<24} {:<21} {:>7} {:>10}  state",
        "version", "created", "files", "size"
    ));
    for v in list {
        let state = match &v.pack {
            Some(p) => format!("{} ({p})", v.state),
            None => v.state.clone(),
        };
        out.line(&format!(
            "{:<24} {:<21} {:>7} {:>10}  {state}",
            v.version,
            v.created_at,
            v.files,
            human_bytes(v.bytes)
        ));
    }
    Ok(Outcome::done())
}

pub(crate) async fn verify(ctx: &Ctx, a: &VerifyArgs) -> Result<Outcome> {
    let out = &ctx.out;
    let store = ctx.hot()?;
    let r = inspect::verify(&store, &a.version).await?;
    if out.json {
        out.json_value(&serde_json::json!({
            "version": r.version, "blobs": r.blobs, "bytes": r.bytes, "ok": r.ok(),
            "missing": r.missing.iter().map(|(h, p)| serde_json::json!({"hash": h, "path": p})).collect::<Vec<_>>(),
            "corrupt": r.corrupt.iter().map(|(h, p)| serde_json::json!({"hash": h, "path": p})).collect::<Vec<_>>(),
        }));
    } else {
        for (h, p) in &r.missing {
            stderr_line(&format!("missing: {p} (blob {h})"));
        }
        for (h, p) in &r.corrupt {
            stderr_line(&format!(
                "corrupt: {p} (blob {h} does not hash to its name)"
            ));
        }
        if r.ok() {
            out.line(&format!(
                "{}: all {} blobs present and intact ({})",
                r.version,
                r.blobs,
                human_bytes(r.bytes)
            ));
        }
    }
    if r.ok() {
        Ok(Outcome::done())
    } else {
        Err(Error::Integrity(format!(
            "{}: {} missing and {} corrupt blobs out of {}",
            r.version,
            r.missing.len(),
            r.corrupt.len(),
            r.blobs
        )))
    }
}

pub(crate) async fn pull(ctx: &Ctx, a: &PullArgs) -> Result<Outcome> {
    let out = &ctx.out;
    let store = ctx.hot()?;
    let mut protect = sitevault::store::StoreSpec::local_dirs(&ctx.cfg, ctx.store_url.as_deref());
    protect.push(ctx.cfg.resolve(&ctx.cfg.build.cache_dir));
    let (files, bytes) = inspect::pull(&store, &a.version, &a.out, &protect).await?;
    let outcome = Outcome::changed(format!("{} was pulled into {}", a.version, a.out.display()));
    if out.json {
        out.json_value(&serde_json::json!({"version": a.version, "out": a.out, "files": files, "bytes": bytes}));
    } else {
        out.line(&format!(
            "pulled {} into {}: {files} files, {} (verified)",
            a.version,
            a.out.display(),
            human_bytes(bytes)
        ));
    }
    Ok(outcome)
}
