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
    let channel = a.channel.clone();
    let url = store.url().to_string();
    let announce = out.clone();
    // A stdout that cannot be written does not stop the server: the error is kept
    // and decides the exit code when it stops.
    lib::serve(store, opts, shutdown(), move |addr| {
        if announce.json {
            announce.print(
                &serde_json::json!({"listening": format!("http://{addr}"), "channel": channel})
                    .to_string(),
            );
        } else if !announce.quiet {
            announce.print(&format!(
                "serving channel {channel} from {url} on http://{addr} (Ctrl-C stops)"
            ));
        }
    })
    .await?;
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
