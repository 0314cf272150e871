//! `sitevault serve`.

use sitevault::edge::serve::{self as lib, ServeOptions};
use sitevault::Result;

use super::args::ServeArgs;
use super::output::stderr_line;
use super::{Ctx, Outcome};

pub(crate) async fn serve(ctx: &Ctx, a: &ServeArgs) -> Result<Outcome> {
    let out = ctx.out.clone();
    let store = ctx.hot()?;
    let mut opts = ServeOptions::new(&a.channel);
    opts.listen = a.listen;
    opts.reporter = out.reporter();
    opts.ttl = a.ttl;
    opts.metrics_listen = a.metrics_listen;
    opts.header_timeout = a.header_timeout;
    opts.idle_timeout = a.idle_timeout;
    opts.body_timeout = a.body_timeout;
    opts.max_connections = a.max_connections as usize;
    opts.faults = a.fault.iter().cloned().collect();
    for (v, f) in &opts.faults {
        out.reporter().warn(&format!(
            "drill: {v} answers 503 to {:.1} % of its requests, {} ms late (--fault)",
            f.error * 100.0,
            f.latency.as_millis()
        ));
    }
    let channel = a.channel.clone();
    let url = store.url().to_string();
    let bound = lib::bind(store, opts).await?;
    let addr = bound.addr()?;
    let metrics = bound.metrics_addr();
    // A stdout that cannot be written does not stop the server: the error is kept
    // and decides the exit code when it stops.
    if out.json {
        let mut v = serde_json::json!({"listening": format!("http://{addr}"), "channel": channel});
        if let Some(m) = metrics {
            v["metrics"] = format!("http://{m}/metrics").into();
        }
        out.print(&v.to_string());
    } else if !out.quiet {
        out.print(&format!(
            "serving channel {channel} from {url} on http://{addr} (Ctrl-C stops)"
        ));
        if let Some(m) = metrics {
            out.print(&format!("metrics on http://{m}/metrics"));
        }
    }
    bound.run(shutdown()).await?;
    if !out.quiet && !out.json {
        stderr_line("stopped");
    }
    Ok(Outcome::done())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
