//! `sitevault build`.

use sitevault::build::{self as lib, BuildOptions};
use sitevault::Result;

use super::args::BuildArgs;
use super::output::human_bytes;
use super::{Ctx, Outcome};

pub(crate) fn build(ctx: &Ctx, a: &BuildArgs) -> Result<Outcome> {
    let out = &ctx.out;
    let mut opts = BuildOptions::from_config(&ctx.cfg);
    opts.protect = sitevault::store::StoreSpec::local_dirs(&ctx.cfg, ctx.store_url.as_deref());
    if let Some(s) = &a.src {
        opts.src = s.clone();
    }
    if let Some(o) = &a.out {
        opts.out = o.clone();
    }
    if let Some(v) = &a.version {
        opts.version = Some(v.clone());
    }
    if a.no_cache {
        opts.cache_dir = None;
    }
    if a.no_compress {
        opts.compress.clear();
    }
    opts.strict = a.strict;
    opts.keep_going = a.keep_going;
    opts.reporter = out.reporter();
    let r = lib::build(&opts)?;
    let outcome = Outcome::changed(format!("the build was written to {}", r.out.display()));
    if out.json {
        out.json_value(&r);
        return Ok(outcome);
    }
    let limit = if out.verbose { usize::MAX } else { 20 };
    for w in r.warnings.iter().take(limit) {
        out.warn(w);
    }
    if r.warnings.len() > limit {
        out.warn(&format!(
            "… and {} more warnings (-v shows all)",
            r.warnings.len() - limit
        ));
    }
    out.line(&format!(
        "built {} files into {}: {} → {} ({:.1}%), {} precompressed variants, {} cache hits, {} ms",
        r.files,
        r.out.display(),
        human_bytes(r.bytes_in),
        human_bytes(r.bytes_out),
        if r.bytes_in > 0 {
            r.bytes_out as f64 * 100.0 / r.bytes_in as f64
        } else {
            100.0
        },
        r.variants,
        r.cache_hits,
        r.elapsed_ms
    ));
    if out.verbose {
        let stages: Vec<String> = r
            .stages
            .iter()
            .map(|(n, ms)| format!("{n} {ms} ms"))
            .collect();
        out.line(&format!("stages: {}", stages.join(", ")));
        // The minifiers' speed per kind of file, on one core (time summed over threads).
        let speeds: Vec<String> = r
            .throughput
            .iter()
            .map(|t| {
                let speed = t.mb_per_core_second();
                format!(
                    "{} {} in {} file{} at {speed:.prec$} MB/s",
                    t.kind,
                    human_bytes(t.bytes),
                    t.files,
                    if t.files == 1 { "" } else { "s" },
                    prec = if speed < 100.0 { 1 } else { 0 },
                )
            })
            .collect();
        if !speeds.is_empty() {
            out.line(&format!("per core: {}", speeds.join(", ")));
        }
        for (f, ms) in &r.slowest {
            out.line(&format!("  slow: {f} {ms} ms"));
        }
    }
    Ok(outcome)
}
