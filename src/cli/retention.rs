//! `sitevault archive`, `restore`, `gc`, `lifecycle`.

use sitevault::retention::{self as lib, RetentionOptions};
use sitevault::Result;

use super::args::{DryRunArgs, RestoreArgs};
use super::output::human_bytes;
use super::{Ctx, Outcome};

pub(crate) async fn archive(ctx: &Ctx, a: &DryRunArgs) -> Result<Outcome> {
    let out = &ctx.out;
    let hot = ctx.hot()?;
    let cold = ctx.cold()?;
    let mut opts = RetentionOptions::from_config(&ctx.cfg)?;
    opts.dry_run = a.dry_run;
    let r = lib::archive(&hot, &cold, &opts).await?;
    let outcome = Outcome::changed_if(
        (!r.dry_run && (!r.archived.is_empty() || r.blobs_deleted > 0)).then(|| {
            format!(
                "archive moved {} versions to {} and deleted {} blobs",
                r.archived.len(),
                cold.url(),
                r.blobs_deleted
            )
        }),
    );
    if out.json {
        out.json_value(&r);
        return Ok(outcome);
    }
    let verb = if r.dry_run {
        "would archive"
    } else {
        "archived"
    };
    for v in &r.archived {
        out.line(&format!(
            "{verb} {} (created {}, {} files, {})",
            v.version,
            v.created_at,
            v.files,
            human_bytes(v.bytes)
        ));
    }
    if out.verbose {
        for k in &r.kept {
            out.line(&format!("kept {}: {}", k.version, k.reason));
        }
    }
    out.line(&format!(
        "{}: {} versions to {}, {} kept hot, {} blobs ({}) {} from {}",
        if r.dry_run { "plan" } else { "done" },
        r.archived.len(),
        cold.url(),
        r.kept.len(),
        r.blobs_deleted,
        human_bytes(r.bytes_freed),
        if r.dry_run { "to delete" } else { "deleted" },
        hot.url()
    ));
    Ok(outcome)
}

pub(crate) async fn restore(ctx: &Ctx, a: &RestoreArgs) -> Result<Outcome> {
    let out = &ctx.out;
    let hot = ctx.hot()?;
    let r = lib::restore(&hot, &ctx.cold()?, &a.version).await?;
    let outcome =
        Outcome::changed_if((!r.already_hot).then(|| format!("{} was restored", r.version)));
    if out.json {
        out.json_value(&r);
    } else if r.already_hot {
        out.line(&format!("{} is hot (nothing to restore)", r.version));
    } else {
        out.line(&format!(
            "restored {}: {} blobs verified and uploaded from a {} pack in {} ms{}",
            r.version,
            r.blobs,
            human_bytes(r.bytes),
            r.elapsed_ms,
            repaired(r.repaired)
        ));
    }
    Ok(outcome)
}

/// What a restore says about blobs it found corrupt in the hot store and replaced.
pub(crate) fn repaired(n: u64) -> String {
    match n {
        0 => String::new(),
        n => format!(
            "; {n} blob{} already in the hot store did not hold {} bytes and {} replaced (run `sitevault verify` on the other hot versions)",
            if n == 1 { "" } else { "s" },
            if n == 1 { "its" } else { "their" },
            if n == 1 { "was" } else { "were" }
        ),
    }
}

pub(crate) async fn gc(ctx: &Ctx, a: &DryRunArgs) -> Result<Outcome> {
    let out = &ctx.out;
    let hot = ctx.hot()?;
    let opts = RetentionOptions::from_config(&ctx.cfg)?;
    let r = lib::gc(&hot, opts.grace, a.dry_run).await?;
    let outcome = Outcome::changed_if(
        (!r.dry_run && r.blobs_deleted > 0)
            .then(|| format!("gc deleted {} blobs", r.blobs_deleted)),
    );
    if out.json {
        out.json_value(&r);
    } else {
        let shards = match r.shards_deleted {
            0 => String::new(),
            n => format!(" and {n} index shards"),
        };
        out.line(&format!(
            "{} {} unreferenced blobs{shards} ({}) older than {}",
            if r.dry_run { "would delete" } else { "deleted" },
            r.blobs_deleted,
            human_bytes(r.bytes_freed),
            ctx.cfg.retention.grace
        ));
    }
    Ok(outcome)
}

pub(crate) fn lifecycle(ctx: &Ctx) -> Result<Outcome> {
    let opts = RetentionOptions::from_config(&ctx.cfg)?;
    ctx.out.json_value(&lib::lifecycle_json(&opts));
    Ok(Outcome::done())
}
