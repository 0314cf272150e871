//! The command line: parses arguments, calls the library, prints results.
//! Nothing here that a Rust caller could not do through the library.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use sitevault::build::{self, BuildOptions};
use sitevault::{Config, Result};

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
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Minify and fingerprint a site folder into a content-addressed output folder.
    Build(BuildArgs),
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
    let cfg = Config::load(cli.config.as_deref())?;
    match &cli.command {
        Command::Build(a) => cmd_build(&cfg, a, out),
    }
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
    opts.progress = out.progress();
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
