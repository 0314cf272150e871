//! The command line: parses arguments, calls the library, prints results.
//! Nothing here that a Rust caller could not do through the library.
//!
//! [`run`] is the whole flow: parse ([`args`]), check the environment, dispatch to one
//! command module (one tokio runtime, created once), and decide the exit code in one
//! place ([`finish`]) from the command's outcome, its error kind, and whether its
//! report could be written.

mod args;
mod build;
mod channel;
mod gate;
mod output;
mod publish;
mod regions;
mod retention;
mod serve;

use std::io::ErrorKind;

use clap::Parser;

use sitevault::error::exit;
use sitevault::regions::Regions;
use sitevault::store::{Store, StoreSpec};
use sitevault::{Config, Error, Result};

use args::{Cli, Command};
use output::{stderr_line, Out};

/// How a command ended, when it did not fail.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Exit code (0, or e.g. 4 for a history whose hash chain is broken).
    code: i32,
    /// What the command changed, for people ("rollout applied (generation 7)"); said on
    /// stderr when the report of that change could not be written.
    change: Option<String>,
}

impl Outcome {
    /// Done, nothing changed.
    pub fn done() -> Self {
        Outcome::default()
    }

    /// Done, and something changed.
    pub fn changed(what: impl Into<String>) -> Self {
        Outcome {
            code: exit::OK,
            change: Some(what.into()),
        }
    }

    /// Done when `what` is `Some` (a change), else nothing changed.
    pub fn changed_if(what: Option<String>) -> Self {
        Outcome {
            code: exit::OK,
            change: what,
        }
    }

    /// Ended with this exit code.
    pub fn code(code: i32) -> Self {
        Outcome { code, change: None }
    }

    /// The same outcome with another exit code (e.g. a rollback that was written).
    pub fn with_code(self, code: i32) -> Self {
        Outcome { code, ..self }
    }
}

/// What every command gets: the configuration, the store or region chosen, and the
/// output.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub cfg: Config,
    pub store_url: Option<String>,
    pub region: Option<String>,
    pub out: Out,
}

impl Ctx {
    /// The stores this command runs against (`--store`, `--region`, `[regions]`,
    /// `[store]`).
    pub fn regions(&self) -> Result<Regions> {
        Regions::open(&self.cfg, self.store_url.as_deref(), self.region.as_deref())
    }

    /// The hot store of a command that works on one store (with several regions, an
    /// error asking for `--region`).
    pub fn hot(&self) -> Result<Store> {
        Ok(self.regions()?.single()?.store.clone())
    }

    /// Where that store's cold store is.
    pub fn cold_spec(&self) -> Result<StoreSpec> {
        Ok(self.regions()?.single()?.cold.clone())
    }

    /// The cold store.
    pub fn cold(&self) -> Result<Store> {
        Store::open(&self.cold_spec()?)
    }

    /// The same command in one region, its output marked with the region's name.
    pub fn for_region(&self, name: &str) -> Ctx {
        Ctx {
            cfg: self.cfg.clone(),
            store_url: None,
            region: Some(name.to_string()),
            out: self.out.for_region(name),
        }
    }
}

/// Runs the command line and returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(&e),
    };
    let out = Out::new(cli.json, cli.quiet, cli.verbose);
    let result = dispatch(cli, &out);
    finish(result, &out)
}

/// Help, version, or an argument error: print it as clap does, without panicking.
fn clap_exit(e: &clap::Error) -> i32 {
    let code = e.exit_code();
    match e.print() {
        Err(w) if w.kind() != ErrorKind::BrokenPipe => {
            stderr_line(&format!("error: cannot write the help: {w}"));
            code.max(exit::ERROR)
        }
        _ => code,
    }
}

fn dispatch(cli: Cli, out: &Out) -> Result<Outcome> {
    if cli.check_args {
        out.print(&format!("{:?}", cli.command));
        return Ok(Outcome::done());
    }
    sitevault::clock::check_env()?;
    let ctx = Ctx {
        cfg: Config::load(cli.config.as_deref())?,
        store_url: cli.store,
        region: cli.region,
        out: out.clone(),
    };
    let command = match cli.command {
        Command::Build(a) => return build::build(&ctx, &a),
        other => other,
    };
    let ctx = &ctx;
    // Commands that change or read every region run once per region, at once
    // (`regions::fan_out`); the others work on one store.
    runtime()?.block_on(async {
        use regions::fan_out;
        match &command {
            Command::Build(_) => Err(Error::Internal("build reached the async dispatcher".into())),
            Command::Publish(a) => publish::publish_regions(ctx, a).await,
            Command::Versions => fan_out(ctx, |c| async move { publish::versions(&c).await }).await,
            Command::Verify(a) => {
                fan_out(ctx, |c| async move { publish::verify(&c, a).await }).await
            }
            Command::Diff(a) => publish::diff(ctx, a).await,
            Command::Pull(a) => publish::pull(ctx, a).await,
            // One driver per region, all reading the same [health] source by version.
            Command::Rollout(a) if a.auto => {
                fan_out(ctx, |c| async move { gate::auto(&c, a).await }).await
            }
            Command::Rollout(a) => {
                fan_out(ctx, |c| async move { channel::rollout(&c, a).await }).await
            }
            Command::Approve(a) => {
                fan_out(ctx, |c| async move { gate::approve(&c, a).await }).await
            }
            Command::Rollback(a) => {
                fan_out(ctx, |c| async move { channel::rollback(&c, a).await }).await
            }
            Command::Pin(a) => fan_out(ctx, |c| async move { channel::pin(&c, a).await }).await,
            Command::Unpin(a) => fan_out(ctx, |c| async move { channel::unpin(&c, a).await }).await,
            Command::Status(a) => regions::status(ctx, a).await,
            Command::Sync(a) => regions::sync(ctx, a).await,
            Command::History(a) => {
                fan_out(ctx, |c| async move { channel::history(&c, a).await }).await
            }
            Command::Serve(a) => serve::serve(ctx, a).await,
            Command::Archive(a) => {
                fan_out(ctx, |c| async move { retention::archive(&c, a).await }).await
            }
            Command::Restore(a) => {
                fan_out(ctx, |c| async move { retention::restore(&c, a).await }).await
            }
            Command::Gc(a) => fan_out(ctx, |c| async move { retention::gc(&c, a).await }).await,
            Command::Lifecycle => retention::lifecycle(ctx),
        }
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))
}

/// The one place that decides the exit code. A broken pipe on stdout (the reader
/// left) ends with the command's own code, quietly after a read; after a change,
/// stderr names the change, so it never goes unseen. Any other output error is said
/// on stderr, naming the change that was made, and exits 1 (or the command's error
/// code).
fn finish(result: Result<Outcome>, out: &Out) -> i32 {
    let (code, change) = match result {
        Ok(o) => (o.code, o.change),
        Err(e) => {
            if out.json {
                out.print(
                    &serde_json::json!({"error": e.to_string(), "exit_code": e.exit_code()})
                        .to_string(),
                );
            }
            stderr_line(&format!("error: {e}"));
            (e.exit_code(), None)
        }
    };
    match out.write_error() {
        None => code,
        Some(e) if e.kind() == ErrorKind::BrokenPipe => {
            if let Some(c) = change {
                stderr_line(&format!("note: {c}; stdout was closed before its report"));
            }
            code
        }
        Some(e) => {
            match change {
                Some(c) => stderr_line(&format!(
                    "error: {c} but its report could not be written: {e}"
                )),
                None => stderr_line(&format!("error: cannot write to stdout: {e}")),
            }
            code.max(exit::ERROR)
        }
    }
}
