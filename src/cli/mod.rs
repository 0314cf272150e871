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
mod retention;
mod serve;

use std::io::ErrorKind;

use clap::Parser;

use sitevault::error::exit;
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

/// What every command gets: the configuration, the store override and the output.
pub(crate) struct Ctx {
    pub cfg: Config,
    pub store_url: Option<String>,
    pub out: Out,
}

impl Ctx {
    /// The hot store (`--store`, else `[store] url`).
    pub fn hot(&self) -> Result<Store> {
        Store::open(&StoreSpec::hot(
            &self.cfg.store,
            &self.cfg.base_dir,
            self.store_url.as_deref(),
        ))
    }

    /// Where the cold store is (`[cold]`).
    pub fn cold_spec(&self) -> StoreSpec {
        StoreSpec::cold(&self.cfg.cold, &self.cfg.store, &self.cfg.base_dir)
    }

    /// The cold store.
    pub fn cold(&self) -> Result<Store> {
        Store::open(&self.cold_spec())
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
        out: out.clone(),
    };
    let command = match cli.command {
        Command::Build(a) => return build::build(&ctx, &a),
        other => other,
    };
    runtime()?.block_on(async {
        match command {
            Command::Build(_) => Err(Error::Internal("build reached the async dispatcher".into())),
            Command::Publish(a) => publish::publish(&ctx, &a).await,
            Command::Versions => publish::versions(&ctx).await,
            Command::Verify(a) => publish::verify(&ctx, &a).await,
            Command::Diff(a) => publish::diff(&ctx, &a).await,
            Command::Pull(a) => publish::pull(&ctx, &a).await,
            Command::Rollout(a) if a.auto => gate::auto(&ctx, &a).await,
            Command::Rollout(a) => channel::rollout(&ctx, &a).await,
            Command::Approve(a) => gate::approve(&ctx, &a).await,
            Command::Rollback(a) => channel::rollback(&ctx, &a).await,
            Command::Pin(a) => channel::pin(&ctx, &a).await,
            Command::Unpin(a) => channel::unpin(&ctx, &a).await,
            Command::Status(a) => channel::status(&ctx, &a).await,
            Command::History(a) => channel::history(&ctx, &a).await,
            Command::Serve(a) => serve::serve(&ctx, &a).await,
            Command::Archive(a) => retention::archive(&ctx, &a).await,
            Command::Restore(a) => retention::restore(&ctx, &a).await,
            Command::Gc(a) => retention::gc(&ctx, &a).await,
            Command::Lifecycle => retention::lifecycle(&ctx),
        }
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))
}

/// The one place that decides the exit code. A broken pipe on stdout ends quietly
/// with the command's own code; any other output error is said on stderr, naming the
/// change that was made, and exits 1 (or the command's error code).
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
        Some(e) if e.kind() == ErrorKind::BrokenPipe => code,
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
