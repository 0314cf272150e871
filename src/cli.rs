//! The command line: parses arguments, calls the library, prints results.
//! Nothing here that a Rust caller could not do through the library.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use sitevault::build::{self, BuildOptions};
use sitevault::channel::{self, record, ChangeOptions, Intent};
use sitevault::clock;
use sitevault::edge::serve::ServeOptions;
use sitevault::publish::{self, PublishOptions};
use sitevault::retention::{self, RetentionOptions};
use sitevault::store::{Store, StoreSpec};
use sitevault::{Config, Error, Result};

const EXIT_CODES: &str = "Exit codes: 0 done, 1 error, 2 usage, 3 conflict (the channel changed under you), 4 integrity failure (missing or corrupt data).";

/// sitevault: build, publish, roll out and roll back static sites.
#[derive(Debug, Parser)]
#[command(name = "sitevault", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// Config file (default: ./store.toml when present, else built-in defaults).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Store URL, overriding [store] url (file://DIR, memory://, s3://bucket/prefix, …).
    #[arg(long, global = true, value_name = "URL")]
    pub store: Option<String>,
    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more detail (warnings in full, timings).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Print the result as JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Parse the command line and stop (used to check scripts and CI workflows).
    #[arg(long, global = true, hide = true)]
    pub check_args: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Minify and fingerprint a site folder into a content-addressed output folder.
    Build(BuildArgs),
    /// Upload a built folder as an immutable version (each file stored once).
    Publish(PublishArgs),
    /// List every version with its time, size and state (hot or archived).
    Versions,
    /// Check that every blob of a version exists and re-hashes to its name.
    Verify(VerifyArgs),
    /// Write a version's files into a folder (verified), to inspect or hand-serve it.
    Pull(PullArgs),
    /// Start, advance, set, promote or abort a canary rollout on a channel.
    Rollout(RolloutArgs),
    /// Remove the canary, or make a previous version stable again (pins the channel).
    Rollback(RollbackArgs),
    /// Pin a channel: rollout changes are refused without --force.
    Pin(PinArgs),
    /// Lift a channel's pin.
    Unpin(UnpinArgs),
    /// What each channel serves: stable, canary and percent, since when, who, pinned.
    Status(StatusArgs),
    /// A channel's change log, newest first, with its hash chain verified.
    History(HistoryArgs),
    /// Serve a channel over HTTP, routing each visitor by the channel manifest.
    Serve(ServeArgs),
    /// Move versions older than [retention] hot_days to the cold store (one verified pack each).
    Archive(DryRunArgs),
    /// Bring an archived version back from the cold store (every blob verified).
    Restore(RestoreArgs),
    /// Delete blobs no hot version references, older than [retention] grace.
    Gc(DryRunArgs),
    /// Print the S3 lifecycle rules matching this configuration.
    Lifecycle,
}

/// `--dry-run` only.
#[derive(Debug, Args)]
pub struct DryRunArgs {
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `sitevault restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Version id.
    pub version: String,
}

/// `sitevault serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Channel whose manifest routes visitors.
    #[arg(long)]
    pub channel: String,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// How often the manifest is re-read (e.g. 5s, 500ms).
    #[arg(long, default_value = "5s")]
    pub ttl: String,
}

/// `sitevault rollout`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("op").args(["version", "advance", "promote", "abort"])))]
pub struct RolloutArgs {
    /// Channel (e.g. production, staging).
    pub channel: String,
    /// Start a canary of this version at the first stage (or --percent).
    pub version: Option<String>,
    /// Canary share: with VERSION, where to start; alone, move the running canary there.
    /// Up to two decimals (0.5, 33.33); 100 promotes.
    #[arg(long)]
    pub percent: Option<f64>,
    /// Move the canary to the next stage ([channels.NAME] stages; 100 promotes).
    #[arg(long)]
    pub advance: bool,
    /// Make the canary stable now.
    #[arg(long)]
    pub promote: bool,
    /// Remove the canary; everyone gets the stable version.
    #[arg(long)]
    pub abort: bool,
    /// Apply even if the channel is pinned (and lift the pin).
    #[arg(long)]
    pub force: bool,
    /// Validate and show the change, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Why (recorded in the log).
    #[arg(long)]
    pub reason: Option<String>,
    /// Who (default: $SITEVAULT_ACTOR, else user@host).
    #[arg(long)]
    pub actor: Option<String>,
}

/// `sitevault rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Channel.
    pub channel: String,
    /// Version to make stable (default: remove the canary, or the newest previous).
    #[arg(long)]
    pub to: Option<String>,
    /// Why (recorded in the log and in the pin).
    #[arg(long)]
    pub reason: Option<String>,
    /// Who (default: $SITEVAULT_ACTOR, else user@host).
    #[arg(long)]
    pub actor: Option<String>,
    /// Refuse (instead of restoring first) when the target version is archived.
    #[arg(long)]
    pub no_restore: bool,
    /// Validate and show the change, write nothing (an archived target is not restored).
    #[arg(long)]
    pub dry_run: bool,
}

/// `sitevault pin`.
#[derive(Debug, Args)]
pub struct PinArgs {
    /// Channel.
    pub channel: String,
    /// Why (shown to whoever tries to roll out).
    #[arg(long)]
    pub reason: String,
    /// Who (default: $SITEVAULT_ACTOR, else user@host).
    #[arg(long)]
    pub actor: Option<String>,
}

/// `sitevault unpin`.
#[derive(Debug, Args)]
pub struct UnpinArgs {
    /// Channel.
    pub channel: String,
    /// Who (default: $SITEVAULT_ACTOR, else user@host).
    #[arg(long)]
    pub actor: Option<String>,
}

/// `sitevault status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Channel (default: every channel in the store).
    pub channel: Option<String>,
}

/// `sitevault history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Channel.
    pub channel: String,
    /// Show at most N entries.
    #[arg(long)]
    pub limit: Option<usize>,
}

/// `sitevault publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Output folder of `sitevault build` (default: [build] out).
    pub dist: Option<PathBuf>,
    /// Version id: 1-64 of A-Z a-z 0-9 . _ - (e.g. v1.4.0 or a git tag).
    #[arg(long = "version", value_name = "V")]
    pub version: String,
    /// Roll the new version out on this channel right after publishing.
    #[arg(long)]
    pub channel: Option<String>,
    /// Print the plan (blobs and bytes to upload) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Who publishes (default: $SITEVAULT_ACTOR, else user@host).
    #[arg(long)]
    pub actor: Option<String>,
}

/// `sitevault verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Version id.
    pub version: String,
}

/// `sitevault pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// Version id.
    pub version: String,
    /// Folder to write (replaced as a whole).
    #[arg(short, long)]
    pub out: PathBuf,
}

/// `sitevault build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Site folder (default: [build] src).
    pub src: Option<PathBuf>,
    /// Output folder (default: [build] out); replaced as a whole when the build succeeds.
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Version label written into version.json.
    #[arg(long = "version", value_name = "V")]
    pub version: Option<String>,
    /// Treat broken local references as errors.
    #[arg(long)]
    pub strict: bool,
    /// Copy files that fail to minify as they are, with a warning, instead of failing.
    #[arg(long)]
    pub keep_going: bool,
    /// Do not read or write the build cache.
    #[arg(long)]
    pub no_cache: bool,
}

/// Progress bars and messages on stderr, as `-q`/`--json` allow.
struct CliReporter {
    progress: bool,
    quiet: bool,
}

struct Bar(indicatif::ProgressBar);

impl sitevault::report::Task for Bar {
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
    fn stage(&self, name: &str) {
        self.0.set_message(name.to_string());
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl sitevault::report::Reporter for CliReporter {
    fn task(
        &self,
        label: &str,
        total: u64,
        unit: sitevault::report::Unit,
    ) -> Box<dyn sitevault::report::Task> {
        if !self.progress {
            return Box::new(sitevault::report::Silent);
        }
        let template = match unit {
            sitevault::report::Unit::Bytes => "{spinner} {msg:14} [{bar:30}] {bytes}/{total_bytes}",
            sitevault::report::Unit::Items => "{spinner} {msg:14} [{bar:30}] {pos}/{len}",
        };
        let pb = indicatif::ProgressBar::new(total);
        pb.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb.set_message(label.to_string());
        Box::new(Bar(pb))
    }
    fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("warning: {message}");
        }
    }
    fn error(&self, message: &str) {
        eprintln!("error: {message}");
    }
}

/// How results are printed.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    /// JSON on stdout.
    pub json: bool,
    /// Errors only.
    pub quiet: bool,
    /// More detail.
    pub verbose: bool,
}

impl Out {
    fn progress(&self) -> bool {
        !self.quiet && !self.json && std::io::stderr().is_terminal()
    }

    /// The library's reporter for this output: progress bars on a terminal, warnings
    /// and logged errors on stderr unless `-q`.
    fn reporter(&self) -> sitevault::report::Handle {
        sitevault::report::Handle::new(CliReporter {
            progress: self.progress(),
            quiet: self.quiet,
        })
    }

    fn json_value(&self, v: &impl serde::Serialize) {
        println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    }

    fn line(&self, s: &str) {
        if !self.quiet && !self.json {
            println!("{s}");
        }
    }

    fn warn(&self, s: &str) {
        if !self.quiet {
            eprintln!("warning: {s}");
        }
    }
}

/// Runs the command line and returns the exit code.
pub fn run() -> i32 {
    let cli = Cli::parse();
    let out = Out {
        json: cli.json,
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    match dispatch(&cli, out) {
        Ok(code) => code,
        Err(e) => {
            if out.json {
                println!(
                    "{}",
                    serde_json::json!({"error": e.to_string(), "exit_code": e.exit_code()})
                );
            }
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

fn dispatch(cli: &Cli, out: Out) -> Result<i32> {
    if cli.check_args {
        println!("{:?}", cli.command);
        return Ok(0);
    }
    let cfg = Config::load(cli.config.as_deref())?;
    match &cli.command {
        Command::Build(a) => cmd_build(&cfg, a, out),
        Command::Publish(a) => runtime()?.block_on(cmd_publish(cli, &cfg, a, out)),
        Command::Versions => runtime()?.block_on(cmd_versions(cli, &cfg, out)),
        Command::Verify(a) => runtime()?.block_on(cmd_verify(cli, &cfg, a, out)),
        Command::Pull(a) => runtime()?.block_on(cmd_pull(cli, &cfg, a, out)),
        Command::Rollout(a) => runtime()?.block_on(cmd_rollout(cli, &cfg, a, out)),
        Command::Rollback(a) => runtime()?.block_on(cmd_rollback(cli, &cfg, a, out)),
        Command::Pin(a) => runtime()?.block_on(cmd_change(
            cli,
            &cfg,
            &a.channel,
            Intent::Pin,
            change_options(a.actor.as_deref(), Some(a.reason.clone())),
            out,
        )),
        Command::Unpin(a) => runtime()?.block_on(cmd_change(
            cli,
            &cfg,
            &a.channel,
            Intent::Unpin,
            change_options(a.actor.as_deref(), None),
            out,
        )),
        Command::Status(a) => runtime()?.block_on(cmd_status(cli, &cfg, a, out)),
        Command::History(a) => runtime()?.block_on(cmd_history(cli, &cfg, a, out)),
        Command::Serve(a) => runtime()?.block_on(cmd_serve(cli, &cfg, a, out)),
        Command::Archive(a) => runtime()?.block_on(cmd_archive(cli, &cfg, a, out)),
        Command::Restore(a) => runtime()?.block_on(cmd_restore(cli, &cfg, a, out)),
        Command::Gc(a) => runtime()?.block_on(cmd_gc(cli, &cfg, a, out)),
        Command::Lifecycle => {
            out.json_value(&retention::lifecycle_json(&RetentionOptions::from_config(
                &cfg,
            )?));
            Ok(0)
        }
    }
}

fn open_cold(cfg: &Config) -> Result<Store> {
    Store::open(&StoreSpec::cold(&cfg.cold, &cfg.store, &cfg.base_dir))
}

async fn cmd_rollback(cli: &Cli, cfg: &Config, a: &RollbackArgs, out: Out) -> Result<i32> {
    sitevault::ids::check_channel(&a.channel)?;
    if let Some(v) = &a.to {
        sitevault::ids::check_version(v)?;
        let store = open_store(cli, cfg)?;
        let archived = publish::index::load(&store, v).await?.is_none()
            && publish::index::load_stub(&store, v).await?.is_some();
        if archived && a.dry_run {
            let msg = format!(
                "{}: dry run, nothing written — {v} is archived: rollback would restore it from cold storage first, then make it stable",
                a.channel
            );
            if out.json {
                out.json_value(&serde_json::json!({"channel": a.channel, "dry_run": true, "archived": v, "message": msg}));
            } else {
                out.line(&msg);
            }
            return Ok(0);
        }
        if archived {
            if a.no_restore {
                return Err(Error::input(format!(
                    "{v} is archived in cold storage and --no-restore was given; run `sitevault restore {v}` or drop --no-restore"
                )));
            }
            let r = retention::restore(&store, &open_cold(cfg)?, v).await?;
            if !out.json {
                out.line(&format!(
                    "{v} was archived: restored it from cold storage first ({} blobs, {}, {} ms)",
                    r.blobs,
                    human_bytes(r.bytes),
                    r.elapsed_ms
                ));
            }
        }
    }
    let intent = Intent::Rollback { to: a.to.clone() };
    let opts = ChangeOptions {
        dry_run: a.dry_run,
        ..change_options(a.actor.as_deref(), a.reason.clone())
    };
    cmd_change(cli, cfg, &a.channel, intent, opts, out).await
}

async fn cmd_archive(cli: &Cli, cfg: &Config, a: &DryRunArgs, out: Out) -> Result<i32> {
    let hot = open_store(cli, cfg)?;
    let cold = open_cold(cfg)?;
    let mut opts = RetentionOptions::from_config(cfg)?;
    opts.dry_run = a.dry_run;
    let r = retention::archive(&hot, &cold, &opts).await?;
    if out.json {
        out.json_value(&r);
        return Ok(0);
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
    Ok(0)
}

async fn cmd_restore(cli: &Cli, cfg: &Config, a: &RestoreArgs, out: Out) -> Result<i32> {
    let hot = open_store(cli, cfg)?;
    let r = retention::restore(&hot, &open_cold(cfg)?, &a.version).await?;
    if out.json {
        out.json_value(&r);
    } else if r.already_hot {
        out.line(&format!("{} is hot (nothing to restore)", r.version));
    } else {
        out.line(&format!(
            "restored {}: {} blobs verified and uploaded from a {} pack in {} ms",
            r.version,
            r.blobs,
            human_bytes(r.bytes),
            r.elapsed_ms
        ));
    }
    Ok(0)
}

async fn cmd_gc(cli: &Cli, cfg: &Config, a: &DryRunArgs, out: Out) -> Result<i32> {
    let hot = open_store(cli, cfg)?;
    let opts = RetentionOptions::from_config(cfg)?;
    let r = retention::gc(&hot, opts.grace, a.dry_run).await?;
    if out.json {
        out.json_value(&r);
    } else {
        out.line(&format!(
            "{} {} unreferenced blobs ({}) older than {}",
            if r.dry_run { "would delete" } else { "deleted" },
            r.blobs_deleted,
            human_bytes(r.bytes_freed),
            cfg.retention.grace
        ));
    }
    Ok(0)
}

async fn cmd_serve(cli: &Cli, cfg: &Config, a: &ServeArgs, out: Out) -> Result<i32> {
    sitevault::ids::check_channel(&a.channel)?;
    let store = open_store(cli, cfg)?;
    let mut opts = ServeOptions::new(&a.channel);
    opts.listen = a.listen;
    opts.reporter = out.reporter();
    opts.ttl = sitevault::config::parse_duration(&a.ttl)
        .map_err(|e| Error::input(format!("--ttl: {e}")))?;
    let shutdown = async {
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(_) => return,
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
    };
    let channel = a.channel.clone();
    let url = store.url().to_string();
    sitevault::edge::serve::serve(store, opts, shutdown, move |addr| {
        if out.json {
            println!(
                "{}",
                serde_json::json!({"listening": format!("http://{addr}"), "channel": channel})
            );
        } else if !out.quiet {
            println!("serving channel {channel} from {url} on http://{addr} (Ctrl-C stops)");
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
    })
    .await?;
    if !out.quiet && !out.json {
        eprintln!("stopped");
    }
    Ok(0)
}

async fn cmd_rollout(cli: &Cli, cfg: &Config, a: &RolloutArgs, out: Out) -> Result<i32> {
    let intent = match (&a.version, a.percent, a.advance, a.promote, a.abort) {
        (Some(v), p, false, false, false) => Intent::Start { version: v.clone(), percent: p },
        (None, None, true, false, false) => Intent::Advance,
        (None, Some(p), false, false, false) => Intent::Percent(p),
        (None, None, false, true, false) => Intent::Promote,
        (None, None, false, false, true) => Intent::Abort,
        _ => {
            return Err(Error::input(
                "rollout needs one of: VERSION [--percent P], --percent P, --advance, --promote, --abort",
            ))
        }
    };
    let opts = ChangeOptions {
        force: a.force,
        dry_run: a.dry_run,
        ..change_options(a.actor.as_deref(), a.reason.clone())
    };
    cmd_change(cli, cfg, &a.channel, intent, opts, out).await
}

/// Who and why, for a channel change (the channel's settings are added later).
fn change_options(actor: Option<&str>, reason: Option<String>) -> ChangeOptions {
    ChangeOptions {
        actor: clock::actor(actor),
        reason,
        ..Default::default()
    }
}

async fn cmd_change(
    cli: &Cli,
    cfg: &Config,
    channel: &str,
    intent: Intent,
    opts: ChangeOptions,
    out: Out,
) -> Result<i32> {
    sitevault::ids::check_channel(channel)?;
    let store = open_store(cli, cfg)?;
    let opts = ChangeOptions {
        config: cfg.channel(channel),
        ..opts
    };
    let r = channel::change(&store, channel, &intent, &opts).await?;
    if out.json {
        out.json_value(&r);
    } else {
        out.line(&r.message);
        if matches!(intent, Intent::Rollback { .. }) && !opts.dry_run {
            out.line(&format!(
                "{channel} is now pinned; `sitevault unpin {channel}` lets rollouts continue"
            ));
        }
    }
    Ok(0)
}

async fn cmd_status(cli: &Cli, cfg: &Config, a: &StatusArgs, out: Out) -> Result<i32> {
    let store = open_store(cli, cfg)?;
    let channels = match &a.channel {
        Some(c) => vec![c.clone()],
        None => channel::list(&store).await?,
    };
    let mut all = Vec::new();
    for c in &channels {
        all.push(channel::status(&store, c).await?);
    }
    if out.json {
        if a.channel.is_some() {
            out.json_value(&all[0]);
        } else {
            out.json_value(&all);
        }
        return Ok(0);
    }
    if all.is_empty() {
        out.line("no channels yet (start one with `sitevault rollout CHANNEL VERSION`)");
    }
    for s in all {
        if s.generation == 0 {
            out.line(&format!("{}: no releases yet", s.channel));
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
            s.by.as_deref().unwrap_or("-"),
            s.since.as_deref().unwrap_or("-")
        ));
        match &s.state.pinned {
            Some(p) => out.line(&format!(
                "  pinned    by {} at {}: {}",
                p.by, p.at, p.reason
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
    }
    Ok(0)
}

async fn cmd_history(cli: &Cli, cfg: &Config, a: &HistoryArgs, out: Out) -> Result<i32> {
    sitevault::ids::check_channel(&a.channel)?;
    let store = open_store(cli, cfg)?;
    let mut h = channel::log::history(&store, &a.channel).await?;
    if h.entries.is_empty() {
        return Err(Error::input(format!(
            "channel {} has no history in {}",
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
                .map(|r| format!(" — {r}"))
                .unwrap_or_default();
            out.line(&format!(
                "{:>5}  {}  {:<18} {:<9} {} → {}{reason}",
                e.generation, e.at, e.actor, e.action, e.from, e.to
            ));
        }
        match &h.chain_error {
            None => out.line(&format!(
                "hash chain verified ({} records)",
                h.entries.len()
            )),
            Some(e) => eprintln!("error: hash chain broken: {e}"),
        }
    }
    match h.chain_error {
        None => Ok(0),
        Some(_) => Ok(4),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::input(format!("cannot start the async runtime: {e}")))
}

fn open_store(cli: &Cli, cfg: &Config) -> Result<Store> {
    Store::open(&StoreSpec::hot(
        &cfg.store,
        &cfg.base_dir,
        cli.store.as_deref(),
    ))
}

async fn cmd_publish(cli: &Cli, cfg: &Config, a: &PublishArgs, out: Out) -> Result<i32> {
    sitevault::ids::check_version(&a.version)?;
    if let Some(c) = &a.channel {
        sitevault::ids::check_channel(c)?;
    }
    let store = open_store(cli, cfg)?;
    let dist = a
        .dist
        .clone()
        .unwrap_or_else(|| cfg.resolve(&cfg.build.out));
    let opts = PublishOptions {
        dry_run: a.dry_run,
        reporter: out.reporter(),
        actor: clock::actor(a.actor.as_deref()),
        git: publish::detect_git(),
    };
    let r = publish::publish(&store, &dist, &a.version, &opts).await?;
    let channel = match (&a.channel, a.dry_run) {
        (Some(c), false) => {
            Some(publish_rollout(cli, cfg, &store, c, &a.version, a.actor.as_deref()).await?)
        }
        _ => None,
    };
    if out.json {
        let mut v = serde_json::to_value(&r).unwrap_or_default();
        if let Some(c) = channel {
            v["channel"] = c;
        }
        out.json_value(&v);
        return Ok(0);
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
    if let Some(c) = channel {
        out.line(c["message"].as_str().unwrap_or_default());
    }
    Ok(0)
}

async fn cmd_versions(cli: &Cli, cfg: &Config, out: Out) -> Result<i32> {
    let store = open_store(cli, cfg)?;
    let list = publish::inspect::list_versions(&store).await?;
    if out.json {
        out.json_value(&list);
        return Ok(0);
    }
    if list.is_empty() {
        out.line(&format!(
            "no versions in {} yet (publish one with `sitevault publish --version V`)",
            store.url()
        ));
        return Ok(0);
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
    Ok(0)
}

async fn cmd_verify(cli: &Cli, cfg: &Config, a: &VerifyArgs, out: Out) -> Result<i32> {
    let store = open_store(cli, cfg)?;
    let r = publish::inspect::verify(&store, &a.version).await?;
    if out.json {
        out.json_value(&serde_json::json!({
            "version": r.version, "blobs": r.blobs, "bytes": r.bytes, "ok": r.ok(),
            "missing": r.missing.iter().map(|(h, p)| serde_json::json!({"hash": h, "path": p})).collect::<Vec<_>>(),
            "corrupt": r.corrupt.iter().map(|(h, p)| serde_json::json!({"hash": h, "path": p})).collect::<Vec<_>>(),
        }));
    } else {
        for (h, p) in &r.missing {
            eprintln!("missing: {p} (blob {h})");
        }
        for (h, p) in &r.corrupt {
            eprintln!("corrupt: {p} (blob {h} does not hash to its name)");
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
        Ok(0)
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

async fn cmd_pull(cli: &Cli, cfg: &Config, a: &PullArgs, out: Out) -> Result<i32> {
    let store = open_store(cli, cfg)?;
    let (files, bytes) = publish::inspect::pull(&store, &a.version, &a.out).await?;
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
    Ok(0)
}

fn cmd_build(cfg: &Config, a: &BuildArgs, out: Out) -> Result<i32> {
    let mut opts = BuildOptions::from_config(cfg);
    if let Some(s) = &a.src {
        opts.src = s.clone();
    }
    if let Some(o) = &a.out {
        opts.out = o.clone();
    }
    if let Some(v) = &a.version {
        sitevault::ids::check_version(v)?;
        opts.version = Some(v.clone());
    }
    if a.no_cache {
        opts.cache_dir = None;
    }
    opts.strict = a.strict;
    opts.keep_going = a.keep_going;
    opts.reporter = out.reporter();
    let r = build::build(&opts)?;
    if out.json {
        out.json_value(&r);
        return Ok(0);
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
        "built {} files into {}: {} → {} ({:.1}%), {} cache hits, {} ms",
        r.files,
        r.out.display(),
        human_bytes(r.bytes_in),
        human_bytes(r.bytes_out),
        if r.bytes_in > 0 {
            r.bytes_out as f64 * 100.0 / r.bytes_in as f64
        } else {
            100.0
        },
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
        for (f, ms) in &r.slowest {
            out.line(&format!("  slow: {f} {ms} ms"));
        }
    }
    Ok(0)
}

/// `1.2 MB`-style sizes.
pub fn human_bytes(n: u64) -> String {
    const U: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < U.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

async fn publish_rollout(
    _cli: &Cli,
    cfg: &Config,
    store: &Store,
    channel: &str,
    version: &str,
    actor: Option<&str>,
) -> Result<serde_json::Value> {
    let opts = ChangeOptions {
        config: cfg.channel(channel),
        ..change_options(actor, None)
    };
    // Publishing the same version again to the same channel is a no-op, so a
    // pipeline step can be rerun.
    let st = channel::status(store, channel).await?;
    let on_channel = st.state.stable.as_deref() == Some(version)
        || st.state.canary.as_ref().map(|c| c.version.as_str()) == Some(version);
    if on_channel {
        return Ok(serde_json::json!({
            "channel": channel,
            "generation": st.generation,
            "message": format!("{channel}: {version} is already on the channel ({}); nothing changed", st.state.summary()),
        }));
    }
    let intent = Intent::Start {
        version: version.to_string(),
        percent: None,
    };
    let r = channel::change(store, channel, &intent, &opts).await?;
    Ok(serde_json::to_value(&r).unwrap_or_default())
}
