//! The command line's clap types, and the parsers that settle every argument value
//! before any command runs (an invalid value is a usage error, exit 2).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Exit codes shared by every command.
const EXIT_CODES: &str = "Exit codes: 0 done, 1 error, 2 usage (invalid argument or option value), 3 conflict (the channel changed under you), 4 integrity failure (missing or corrupt data). 7 with [regions.*]: done in some regions, failed in others (named on stderr; `sitevault sync CHANNEL` brings channels together).";

/// Exit codes of commands that only read.
const EXIT_READ: &str = "Exit codes: 0 done, 1 error, 2 usage (invalid argument or option value), 4 integrity failure (missing or corrupt data, broken hash chain). 7 with [regions.*]: some regions answered and others failed, or (status) the regions drift apart.";

/// Exit codes of channel changes.
const EXIT_CHANGE: &str = "Exit codes: 0 applied (or shown, with --dry-run), 1 error (nothing changed; the message says why), 2 usage (invalid argument or option value), 3 conflict: the channel changed under you and nothing was applied — check `sitevault status CHANNEL` and retry, 4 integrity failure (the target's data is missing or corrupt). If the change was applied but its report could not be written, stderr says so and the exit code is 1: check `sitevault status CHANNEL` before retrying (a closed pipe, the reader having left, keeps the exit code and stderr names the change). 7 with [regions.*]: done in some regions, failed in others (named on stderr; `sitevault sync CHANNEL` brings channels together).";

/// Exit codes of rollout (changes, gates, --auto).
const EXIT_ROLLOUT: &str = "Exit codes: 0 applied (or shown, with --dry-run); with --auto: promoted, or advanced one stage with --once. 1 error (nothing changed; the message says why), 2 usage (invalid argument or option value), 3 conflict: the channel changed under you and nothing was applied — check `sitevault status CHANNEL` and retry, 4 integrity failure (the target's data is missing or corrupt), 5 held at a gate: an approval is missing (the message names the role), or with --auto --once / --max-wait the verdict was not a pass (alert, inconclusive) or bake time or approvals were still pending, 6 the health gate rolled the canary back (the channel is now pinned). If a change was applied but its report could not be written, stderr says so and the exit code is 1: check `sitevault status CHANNEL` before retrying (a closed pipe, the reader having left, keeps the exit code and stderr names the change). 7 with [regions.*]: done in some regions, failed in others (named on stderr; `sitevault sync CHANNEL` brings channels together).";

/// Exit codes of sync.
const EXIT_SYNC: &str = "Exit codes: 0 every region now routes like the newest (or would, with --dry-run), 1 error, 2 usage (e.g. fewer than two regions), 3 conflict (a region changed during the sync; run it again), 7 some regions could not be synced (named on stderr; run sync again when they are reachable).";

/// Exit codes of build.
const EXIT_BUILD: &str = "Exit codes: 0 built, 1 error (the previous output folder is left untouched), 2 usage (invalid argument or option value).";

/// sitevault: build, publish, roll out and roll back static sites.
#[derive(Debug, Parser)]
#[command(name = "sitevault", version, about, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// Config file (default: ./store.toml when present, else built-in defaults).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Store URL, overriding [store] url (file://DIR, memory://, s3://bucket/prefix, …).
    #[arg(long, global = true, value_name = "URL")]
    pub store: Option<String>,
    /// Run in this region only ([regions.NAME] in store.toml; default: every region).
    #[arg(long, global = true, value_name = "NAME", value_parser = region_name)]
    pub region: Option<String>,
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
pub(crate) enum Command {
    /// Minify and fingerprint a site folder into a content-addressed output folder.
    #[command(after_help = EXIT_BUILD)]
    Build(BuildArgs),
    /// Upload a built folder as an immutable version (each file stored once).
    #[command(after_help = EXIT_CODES)]
    Publish(PublishArgs),
    /// List every version with its time, size and state (hot or archived).
    #[command(after_help = EXIT_READ)]
    Versions,
    /// What a release changes: files added, removed and changed between two versions or
    /// dist folders, and what publishing the second would upload.
    #[command(after_help = EXIT_READ)]
    Diff(DiffArgs),
    /// Check that every blob of a version exists and re-hashes to its name.
    #[command(
        after_help = "Exit codes: 0 every blob present and intact, 1 error, 2 usage (invalid version id), 4 integrity failure: blobs missing or corrupt (listed on stderr; a republish of that version uploads missing blobs again)."
    )]
    Verify(VerifyArgs),
    /// Write a version's files into a folder (verified), to inspect or hand-serve it.
    #[command(after_help = EXIT_READ)]
    Pull(PullArgs),
    /// Start, advance, set, promote or abort a canary rollout on a channel, or let the
    /// health gate drive it (--auto).
    #[command(after_help = EXIT_ROLLOUT)]
    Rollout(RolloutArgs),
    /// Approve the running canary's current stage for a role ([channels.NAME] approvals).
    #[command(after_help = EXIT_CHANGE)]
    Approve(ApproveArgs),
    /// Remove the canary, or make a previous version stable again (pins the channel).
    #[command(after_help = EXIT_CHANGE)]
    Rollback(RollbackArgs),
    /// Pin a channel: rollout changes are refused without --force.
    #[command(after_help = EXIT_CHANGE)]
    Pin(PinArgs),
    /// Lift a channel's pin.
    #[command(after_help = EXIT_CHANGE)]
    Unpin(UnpinArgs),
    /// What each channel serves: stable, canary and percent, since when, who, pinned.
    #[command(after_help = EXIT_READ)]
    Status(StatusArgs),
    /// Bring regions that lag (e.g. one that was down during a rollback) to the newest
    /// state of a channel, copying the versions it needs there first (--region: change
    /// only that one).
    #[command(after_help = EXIT_SYNC)]
    Sync(SyncArgs),
    /// A channel's change log, newest first, with its hash chain verified.
    #[command(after_help = EXIT_READ)]
    History(HistoryArgs),
    /// Serve a channel over HTTP, routing each visitor by the channel manifest.
    #[command(
        after_help = "Exit codes: 0 stopped by Ctrl-C or SIGTERM, 1 error (e.g. the address is in use), 2 usage (invalid argument or option value)."
    )]
    Serve(ServeArgs),
    /// Move versions older than [retention] hot_days to the cold store (one verified pack each).
    #[command(after_help = EXIT_CODES)]
    Archive(DryRunArgs),
    /// Bring an archived version back from the cold store (every blob verified).
    #[command(after_help = EXIT_CODES)]
    Restore(RestoreArgs),
    /// Delete blobs no hot version references, older than [retention] grace.
    #[command(after_help = EXIT_CODES)]
    Gc(DryRunArgs),
    /// Print the S3 lifecycle rules matching this configuration.
    #[command(after_help = "Exit codes: 0 printed, 1 error (e.g. in store.toml), 2 usage.")]
    Lifecycle,
}

/// `--dry-run` only.
#[derive(Debug, Args)]
pub(crate) struct DryRunArgs {
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `sitevault restore`.
#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// Version id.
    #[arg(value_parser = version_id)]
    pub version: String,
}

/// `sitevault serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Channel whose manifest routes visitors.
    #[arg(long, value_parser = channel_name)]
    pub channel: String,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// How often the manifest is re-read (e.g. 5s, 500ms; 100ms to 24h).
    #[arg(long, default_value = "5s", value_parser = serve_duration)]
    pub ttl: Duration,
    /// Serve Prometheus metrics (`/metrics`) on this address, e.g. 127.0.0.1:9464.
    /// Off when not given; keep it on a private interface.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Close a connection that has not sent its request headers within this time.
    #[arg(long, default_value = "10s", value_parser = serve_duration)]
    pub header_timeout: Duration,
    /// Close a connection on which nothing moves for this long.
    #[arg(long, default_value = "60s", value_parser = serve_duration)]
    pub idle_timeout: Duration,
    /// Abandon a response the client stops reading for this long.
    #[arg(long, default_value = "30s", value_parser = serve_duration)]
    pub body_timeout: Duration,
    /// Open connections at most; more wait in the kernel's queue.
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Drill: make one version fail on purpose, e.g. v2=error:0.05,latency:2500ms
    /// (5 % of its requests answer 503, each waits 2.5 s first). Repeatable; off
    /// unless given. For rehearsing `rollout --auto`, never for production traffic.
    #[arg(long, value_name = "VERSION=FAULTS", value_parser = sitevault::edge::serve::parse_fault)]
    pub fault: Vec<(String, sitevault::edge::serve::Fault)>,
}

/// `sitevault rollout`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("op").args(["version", "advance", "promote", "abort"])))]
#[command(group(clap::ArgGroup::new("manual").args(["percent", "advance", "promote", "abort"]).conflicts_with("auto")))]
pub(crate) struct RolloutArgs {
    /// Channel (e.g. production, staging).
    #[arg(value_parser = channel_name)]
    pub channel: String,
    /// Start a canary of this version at the first stage (or --percent).
    #[arg(value_parser = version_id)]
    pub version: Option<String>,
    /// Canary share: with VERSION, where to start; alone, move the running canary there.
    /// 0-100 with up to two decimals (0.5, 33.33); 100 promotes.
    #[arg(long, value_parser = percent)]
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
    /// Let the health gate drive the canary (started with VERSION, or the running one):
    /// every [health] interval a verdict over the last [health] window; a stage is left
    /// once baked ([channels.NAME] bake), passing and approved; a failing canary is
    /// rolled back. Needs [health] metrics or [health] prometheus.
    #[arg(long)]
    pub auto: bool,
    /// With --auto: evaluate and act once, then exit (for a scheduled job).
    #[arg(long, requires = "auto")]
    pub once: bool,
    /// With --auto: stop holding after this long past a stage's bake time (exit 5).
    #[arg(long, requires = "auto", value_name = "D", value_parser = gate_duration)]
    pub max_wait: Option<Duration>,
    /// Apply even if the channel is pinned (and lift the pin).
    #[arg(long)]
    pub force: bool,
    /// Validate and show the change, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Re-hash every blob of the target version before moving traffic to it.
    #[arg(long)]
    pub verify: bool,
    /// Why (recorded in the log).
    #[arg(long, value_parser = text_field)]
    pub reason: Option<String>,
    /// Who (default: $SITEVAULT_ACTOR, else user@host).
    #[arg(long, value_parser = text_field)]
    pub actor: Option<String>,
}

/// `sitevault approve`.
#[derive(Debug, Args)]
pub(crate) struct ApproveArgs {
    /// Channel.
    #[arg(value_parser = channel_name)]
    pub channel: String,
    /// The role approving (one of [channels.NAME] approvals, e.g. qa, lead).
    #[arg(long, value_parser = role_name)]
    pub role: String,
    /// The canary version you checked: refused (exit 3) if another canary runs by now.
    #[arg(long = "version", value_name = "V", value_parser = version_id)]
    pub version: Option<String>,
    /// Why (recorded in the log).
    #[arg(long, value_parser = text_field)]
    pub reason: Option<String>,
    /// Who (default: $SITEVAULT_ACTOR, else user@host).
    #[arg(long, value_parser = text_field)]
    pub actor: Option<String>,
    /// Validate and show the approval, write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `sitevault rollback`.
#[derive(Debug, Args)]
pub(crate) struct RollbackArgs {
    /// Channel.
    #[arg(value_parser = channel_name)]
    pub channel: String,
    /// Version to make stable (default: remove the canary, or the newest previous).
    #[arg(long, value_parser = version_id)]
    pub to: Option<String>,
    /// Why (recorded in the log and in the pin).
    #[arg(long, value_parser = text_field)]
    pub reason: Option<String>,
    /// Who (default: $SITEVAULT_ACTOR, else user@host).
    #[arg(long, value_parser = text_field)]
    pub actor: Option<String>,
    /// Refuse (instead of restoring first) when the target version is archived.
    #[arg(long)]
    pub no_restore: bool,
    /// Validate and show the change, write nothing (an archived target is not restored).
    #[arg(long)]
    pub dry_run: bool,
    /// Re-hash every blob of the target version before moving traffic to it.
    #[arg(long)]
    pub verify: bool,
}

/// `sitevault pin`.
#[derive(Debug, Args)]
pub(crate) struct PinArgs {
    /// Channel.
    #[arg(value_parser = channel_name)]
    pub channel: String,
    /// Why (shown to whoever tries to roll out).
    #[arg(long, value_parser = text_field)]
    pub reason: String,
    /// Who (default: $SITEVAULT_ACTOR, else user@host).
    #[arg(long, value_parser = text_field)]
    pub actor: Option<String>,
}

/// `sitevault unpin`.
#[derive(Debug, Args)]
pub(crate) struct UnpinArgs {
    /// Channel.
    #[arg(value_parser = channel_name)]
    pub channel: String,
    /// Who (default: $SITEVAULT_ACTOR, else user@host).
    #[arg(long, value_parser = text_field)]
    pub actor: Option<String>,
}

/// `sitevault status`.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Channel (default: every channel in the store).
    #[arg(value_parser = channel_name)]
    pub channel: Option<String>,
}

/// `sitevault sync`.
#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// Channel.
    #[arg(value_parser = channel_name)]
    pub channel: String,
    /// Copy this region's state (default: the region changed most recently).
    #[arg(long, value_name = "REGION", value_parser = region_name)]
    pub from: Option<String>,
    /// Print what would be copied and changed, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Why (recorded in each region's log).
    #[arg(long, value_parser = text_field)]
    pub reason: Option<String>,
    /// Who (default: $SITEVAULT_ACTOR, else user@host).
    #[arg(long, value_parser = text_field)]
    pub actor: Option<String>,
}

/// `sitevault history`.
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// Channel.
    #[arg(value_parser = channel_name)]
    pub channel: String,
    /// Show at most N entries.
    #[arg(long)]
    pub limit: Option<usize>,
}

/// `sitevault publish`.
#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// Output folder of `sitevault build` (default: [build] out).
    pub dist: Option<PathBuf>,
    /// Version id: 1-64 of A-Z a-z 0-9 . _ - (e.g. v1.4.0 or a git tag).
    #[arg(long = "version", value_name = "V", value_parser = version_id)]
    pub version: String,
    /// Roll the new version out on this channel right after publishing.
    #[arg(long, value_parser = channel_name)]
    pub channel: Option<String>,
    /// Print the plan (blobs and bytes to upload) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Who publishes (default: $SITEVAULT_ACTOR, else user@host).
    #[arg(long, value_parser = text_field)]
    pub actor: Option<String>,
}

/// `sitevault diff`.
#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// From: a published version id, or a dist folder (the output of `sitevault build`).
    pub from: String,
    /// To: a published version id, or a dist folder.
    pub to: String,
}

/// `sitevault verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Version id.
    #[arg(value_parser = version_id)]
    pub version: String,
}

/// `sitevault pull`.
#[derive(Debug, Args)]
pub(crate) struct PullArgs {
    /// Version id.
    #[arg(value_parser = version_id)]
    pub version: String,
    /// Folder to write (replaced as a whole).
    #[arg(short, long)]
    pub out: PathBuf,
}

/// `sitevault build`.
#[derive(Debug, Args)]
pub(crate) struct BuildArgs {
    /// Site folder (default: [build] src).
    pub src: Option<PathBuf>,
    /// Output folder (default: [build] out); replaced as a whole when the build succeeds.
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Version label written into version.json.
    #[arg(long = "version", value_name = "V", value_parser = version_id)]
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
    /// Write no precompressed `.br`/`.gz` variants (overrides `[build] compress`).
    #[arg(long)]
    pub no_compress: bool,
}

/// A version id, checked by [`sitevault::ids::check_version`].
pub(crate) fn version_id(s: &str) -> Result<String, String> {
    sitevault::ids::check_version(s)
        .map(|()| s.to_string())
        .map_err(|e| e.to_string())
}

/// A free-text field recorded in the log (`--reason`, `--actor`): 1-1000 characters,
/// no control characters (they would forge lines or colours in `history`).
pub(crate) fn text_field(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("must not be empty (say who or why in a few words)".into());
    }
    if s.chars().count() > 1000 {
        return Err("is longer than 1000 characters".into());
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters (newlines, escapes, tabs)".into());
    }
    Ok(s.to_string())
}

/// A channel name, checked by [`sitevault::ids::check_channel`].
pub(crate) fn channel_name(s: &str) -> Result<String, String> {
    sitevault::ids::check_channel(s)
        .map(|()| s.to_string())
        .map_err(|e| e.to_string())
}

/// A region name.
pub(crate) fn region_name(s: &str) -> Result<String, String> {
    sitevault::ids::check_region(s)
        .map(|()| s.to_string())
        .map_err(|e| e.to_string())
}

/// An approval role.
pub(crate) fn role_name(s: &str) -> Result<String, String> {
    sitevault::ids::check_role(s)
        .map(|()| s.to_string())
        .map_err(|e| e.to_string())
}

/// A wait for `--max-wait`: 1 s to 30 days.
pub(crate) fn gate_duration(s: &str) -> Result<Duration, String> {
    let d = sitevault::config::parse_duration(s)?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(30 * 86_400) {
        return Err(format!("{s:?} must be between 1s and 30d"));
    }
    Ok(d)
}

/// A percent: 0–100 with at most two decimals.
pub(crate) fn percent(s: &str) -> Result<f64, String> {
    let p: f64 = s.trim().parse().map_err(|_| {
        format!("{s:?} is not a number: use 0-100 with at most two decimals (e.g. 0.5, 10, 33.33)")
    })?;
    sitevault::channel::check_percent(p).map_err(|e| e.to_string())
}

/// A manifest refresh interval: a duration of at least 1 ms.
/// A serve interval or timeout: 100ms to 24h (the library's own range).
pub(crate) fn serve_duration(s: &str) -> Result<Duration, String> {
    let d = sitevault::config::parse_duration(s)?;
    if d < Duration::from_millis(100) || d > Duration::from_secs(86_400) {
        return Err(format!(
            "{s:?} is out of range: give between 100ms and 24h (e.g. 5s, 500ms)"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percents() {
        for (s, p) in [("0", 0.0), ("0.5", 0.5), ("33.33", 33.33), ("100", 100.0)] {
            assert_eq!(percent(s), Ok(p), "{s}");
        }
        for bad in ["33.333", "-1", "100.01", "abc", "", "NaN", "inf"] {
            assert!(percent(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ttls() {
        assert_eq!(serve_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(serve_duration("500ms"), Ok(Duration::from_millis(500)));
        for bad in [
            "0s",
            "0",
            "0ms",
            "abc",
            "",
            "-1s",
            "0.0000001s",
            "50ms",
            "2d",
        ] {
            assert!(serve_duration(bad).is_err(), "{bad}");
        }
    }
}
