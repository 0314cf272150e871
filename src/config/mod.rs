//! `store.toml`: the one configuration file. Every key has a default, unknown keys are
//! refused (naming the key), and relative paths are relative to the file's folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

mod health;
use health::check_health;
pub(crate) use health::check_http_url;
pub use health::{HealthConfig, NotifyConfig, Queries};

/// The whole configuration, with the folder relative paths resolve against.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[store]`: where versions and channels live.
    pub store: StoreConfig,
    /// `[cold]`: where archived versions go.
    pub cold: ColdConfig,
    /// `[build]`: defaults for `sitevault build`.
    pub build: BuildConfig,
    /// `[retention]`: hot days, keep-latest, blob grace period.
    pub retention: RetentionConfig,
    /// `[channels.<name>]`: per-channel rollout stages.
    pub channels: BTreeMap<String, ChannelConfig>,
    /// `[health]`: rollout health gates: thresholds, cadence, metric sources.
    pub health: HealthConfig,
    /// `[notify]`: where rollout gate events are posted.
    pub notify: NotifyConfig,
    /// `[regions.<name>]`: one store per region; a release spans all of them. Without
    /// any, `[store]` is the one store.
    pub regions: BTreeMap<String, RegionConfig>,
    /// Folder that relative paths in the file resolve against (not a key of the file).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            store: StoreConfig::default(),
            cold: ColdConfig::default(),
            build: BuildConfig::default(),
            retention: RetentionConfig::default(),
            channels: BTreeMap::new(),
            health: HealthConfig::default(),
            notify: NotifyConfig::default(),
            regions: BTreeMap::new(),
            base_dir: PathBuf::from("."),
        }
    }
}

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Store URL: `file://DIR`, `memory://`, `s3://bucket/prefix`, `gs://…`, `az://…`.
    pub url: String,
    /// S3 endpoint for S3-compatible servers (MinIO, R2, moto), e.g. `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    /// S3 region.
    pub region: Option<String>,
    /// Allow plain-HTTP endpoints (local test servers).
    pub allow_http: Option<bool>,
    /// Concurrent uploads / downloads.
    pub concurrency: usize,
    /// Longest wait for one request to a remote store (`10s`), so that a region that
    /// is down fails in bounded time instead of stopping a rollback elsewhere.
    pub timeout: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: "file://.sitevault/store".into(),
            endpoint: None,
            region: None,
            allow_http: None,
            concurrency: 16,
            timeout: "10s".into(),
        }
    }
}

impl StoreConfig {
    /// `timeout` as a duration (validated when the config was loaded).
    pub fn timeout(&self) -> std::time::Duration {
        parse_duration(&self.timeout).unwrap_or(std::time::Duration::from_secs(10))
    }
}

/// `[regions.<name>]`: one region's store. `[store]`'s other keys (concurrency,
/// timeout) apply to every region.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegionConfig {
    /// Store URL of this region (required).
    pub url: String,
    /// S3 endpoint.
    pub endpoint: Option<String>,
    /// S3 region.
    pub region: Option<String>,
    /// Allow plain-HTTP endpoints.
    pub allow_http: Option<bool>,
    /// Cold store of this region (default: `[cold] url` + `/<name>`).
    pub cold: Option<String>,
}

/// `[cold]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ColdConfig {
    /// Cold store URL (any store URL).
    pub url: String,
    /// S3 storage class for pack objects (e.g. `GLACIER_IR`).
    pub storage_class: Option<String>,
    /// S3 endpoint for the cold store (defaults to `[store] endpoint`).
    pub endpoint: Option<String>,
    /// S3 region for the cold store (defaults to `[store] region`).
    pub region: Option<String>,
    /// Allow plain HTTP for the cold store (defaults to `[store] allow_http`).
    pub allow_http: Option<bool>,
}

impl Default for ColdConfig {
    fn default() -> Self {
        ColdConfig {
            url: "file://.sitevault/cold".into(),
            storage_class: None,
            endpoint: None,
            region: None,
            allow_http: None,
        }
    }
}

/// `[build]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BuildConfig {
    /// Source folder.
    pub src: PathBuf,
    /// Output folder.
    pub out: PathBuf,
    /// Globs (relative to the source folder) left out of the build.
    pub exclude: Vec<String>,
    /// Globs of files that keep their names (never fingerprinted). HTML always keeps its name.
    pub keep_names: Vec<String>,
    /// Browserslist queries for CSS output.
    pub targets: Vec<String>,
    /// Hex characters of the fingerprint in file names (10..=64).
    pub hash_length: usize,
    /// Cache folder for minified results.
    pub cache_dir: PathBuf,
    /// Precompressed variants written beside compressible files: `["br", "gzip"]`
    /// (the default), any subset, or `[]` for none.
    pub compress: Vec<String>,
}

impl BuildConfig {
    /// The codings of `compress`, in order of preference (validated on load).
    pub fn codings(&self) -> Vec<crate::schema::Coding> {
        let mut v: Vec<_> = self
            .compress
            .iter()
            .filter_map(|s| crate::schema::Coding::parse(s))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

impl Default for BuildConfig {
    fn default() -> Self {
        BuildConfig {
            src: "site".into(),
            out: "dist".into(),
            exclude: Vec::new(),
            keep_names: [
                "robots.txt",
                "sitemap.xml",
                "favicon.ico",
                "sw.js",
                "service-worker.js",
                "manifest.webmanifest",
                ".well-known/**",
                "404.html",
            ]
            .map(String::from)
            .to_vec(),
            targets: vec!["defaults".into()],
            hash_length: 10,
            cache_dir: ".sitevault/cache".into(),
            compress: vec!["br".into(), "gzip".into()],
        }
    }
}

/// `[retention]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Days a version stays in the hot store.
    pub hot_days: u32,
    /// The newest N versions are never archived.
    pub keep_latest: usize,
    /// Unreferenced blobs younger than this are never deleted (e.g. `24h`).
    pub grace: String,
    /// Versions that are never archived.
    pub pinned: Vec<String>,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            hot_days: 30,
            keep_latest: 5,
            grace: "24h".into(),
            pinned: Vec::new(),
        }
    }
}

/// `[channels.<name>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelConfig {
    /// Rollout stages in percent, ascending, ending at 100.
    pub stages: Vec<f64>,
    /// Bake time of each stage for `rollout --auto`: one duration for every stage
    /// (`"10m"`) or one per stage below 100 (`["1h", "4h", "8h", "12h"]`).
    pub bake: Bake,
    /// Number of previous stables kept in the manifest.
    pub keep_previous: usize,
    /// Roles that must approve before the canary leaves a stage (`sitevault approve`).
    pub approvals: Vec<String>,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            stages: vec![0.0, 10.0, 25.0, 50.0, 100.0],
            bake: Bake::One("10m".into()),
            keep_previous: 5,
            approvals: Vec::new(),
        }
    }
}

impl ChannelConfig {
    /// The bake time of stage `stage` (an index into `stages`).
    pub fn bake_for(&self, stage: usize) -> std::time::Duration {
        let s = match &self.bake {
            Bake::One(s) => s.as_str(),
            Bake::PerStage(v) => v
                .get(stage)
                .or(v.last())
                .map(String::as_str)
                .unwrap_or("0s"),
        };
        // Validated when the config was loaded.
        parse_duration(s).unwrap_or_default()
    }
}

/// `bake`: one duration, or one per stage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Bake {
    /// The same bake time for every stage.
    One(String),
    /// One bake time per stage below 100 %.
    PerStage(Vec<String>),
}

/// Default config file name, looked up in the current folder.
pub const DEFAULT_FILE: &str = "store.toml";

impl Config {
    /// Loads the config: an explicit path must exist; without one, `./store.toml` is
    /// used when present and the defaults otherwise.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        match explicit {
            Some(p) => {
                if !p.exists() {
                    return Err(Error::input(format!(
                        "config file {} does not exist (drop --config to use ./store.toml or the defaults)",
                        p.display()
                    )));
                }
                Self::from_file(p)
            }
            None => {
                let p = Path::new(DEFAULT_FILE);
                if p.exists() {
                    Self::from_file(p)
                } else {
                    Ok(Config::default())
                }
            }
        }
    }

    /// Parses one file; relative paths in it resolve against its folder.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let base = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_path_buf()
                }
            })
            .unwrap_or_else(|| PathBuf::from("."));
        Self::from_str_at(&text, &path.display().to_string(), base)
    }

    /// Parses config text; `name` is used in error messages.
    pub fn from_str_at(text: &str, name: &str, base_dir: PathBuf) -> Result<Config> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
            Error::input(format!("{name}:{line}:{col}: {}", e.message()))
        })?;
        cfg.base_dir = base_dir;
        if !cfg.regions.is_empty() {
            // `[store] url` and regions both name "the" store: refuse the ambiguity.
            let table: toml::Table = toml::from_str(text).unwrap_or_default();
            let store = table.get("store").and_then(|s| s.as_table());
            // Keys that name one store would be silently ignored with regions.
            if let Some(key) = ["url", "endpoint", "region", "allow_http"]
                .into_iter()
                .find(|k| store.is_some_and(|s| s.contains_key(*k)))
            {
                return Err(Error::input(format!(
                    "{name}: [store] {key} is set, and so are [regions.*]: with regions, the regions are the stores. \
                     Move {key} into each [regions.NAME] table (keep concurrency and timeout under [store])"
                )));
            }
        }
        cfg.validate(name)?;
        Ok(cfg)
    }

    fn validate(&self, name: &str) -> Result<()> {
        if let Some(bad) = self
            .build
            .compress
            .iter()
            .find(|c| crate::schema::Coding::parse(c).is_none())
        {
            return Err(Error::input(format!(
                "{name}: build.compress: {bad:?} is not a coding sitevault writes; use \"br\", \"gzip\", both, or [] for none"
            )));
        }
        if !(10..=64).contains(&self.build.hash_length) {
            return Err(Error::input(format!(
                "{name}: build.hash_length = {} must be between 10 and 64",
                self.build.hash_length
            )));
        }
        if !(1..=1024).contains(&self.store.concurrency) {
            return Err(Error::input(format!(
                "{name}: store.concurrency = {} must be between 1 and 1024",
                self.store.concurrency
            )));
        }
        if self.retention.hot_days > 36_500 {
            return Err(Error::input(format!(
                "{name}: retention.hot_days = {} must be at most 36500 (100 years)",
                self.retention.hot_days
            )));
        }
        for (ch, c) in &self.channels {
            crate::ids::check_channel(ch)
                .map_err(|e| Error::input(format!("{name}: [channels.{ch}]: {e}")))?;
            let ok = !c.stages.is_empty()
                && c.stages.windows(2).all(|w| w[0] < w[1])
                && c.stages.iter().all(|p| is_exact_percent(*p))
                && c.stages.last() == Some(&100.0);
            if !ok {
                return Err(Error::input(format!(
                    "{name}: channels.{ch}.stages = {:?}: stages must be ascending percentages (0-100, at most two decimals) ending at 100",
                    c.stages
                )));
            }
        }
        for (ch, c) in &self.channels {
            check_channel_gates(name, ch, c)?;
        }
        let h = &self.health;
        if !(h.error_rate.is_finite() && (0.0..=1.0).contains(&h.error_rate)) {
            return Err(Error::input(format!(
                "{name}: health.error_rate = {} must be a fraction between 0 and 1 (e.g. 0.01 for 1 %)",
                h.error_rate
            )));
        }
        if h.p95_alert_ms > h.p95_rollback_ms {
            return Err(Error::input(format!(
                "{name}: health.p95_alert_ms ({}) must not exceed health.p95_rollback_ms ({})",
                h.p95_alert_ms, h.p95_rollback_ms
            )));
        }
        crate::config::parse_duration(&self.retention.grace)
            .map_err(|e| Error::input(format!("{name}: retention.grace: {e}")))?;
        let timeout = parse_duration(&self.store.timeout)
            .map_err(|e| Error::input(format!("{name}: store.timeout: {e}")))?;
        if timeout < std::time::Duration::from_millis(100) {
            return Err(Error::input(format!(
                "{name}: store.timeout = {:?} is too short: use at least 100ms (default 10s)",
                self.store.timeout
            )));
        }
        let mut seen: BTreeMap<(String, Option<String>), &str> = BTreeMap::new();
        for (r, rc) in &self.regions {
            crate::ids::check_region(r)
                .map_err(|e| Error::input(format!("{name}: [regions.{r}]: {e}")))?;
            if rc.url.trim().is_empty() {
                return Err(Error::input(format!(
                    "{name}: [regions.{r}] needs a url (e.g. url = \"s3://site-{r}/prod\")"
                )));
            }
            // Two regions on one store would write each other's logs and count twice.
            let key = (
                rc.url.trim().trim_end_matches('/').to_string(),
                rc.endpoint.clone(),
            );
            // (Each `memory://` store is its own, in one process.)
            if rc.url.trim().starts_with("memory://") {
                continue;
            }
            if let Some(other) = seen.insert(key, r) {
                return Err(Error::input(format!(
                    "{name}: [regions.{other}] and [regions.{r}] name the same store ({}): give each region its own",
                    rc.url.trim()
                )));
            }
        }
        check_health(name, h)?;
        if let Some(w) = &self.notify.webhook {
            check_http_url(w).map_err(|e| Error::input(format!("{name}: notify.webhook: {e}")))?;
        }
        Ok(())
    }

    /// Resolves a path from the config against the config file's folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// The settings of one channel (defaults when it has no section).
    pub fn channel(&self, name: &str) -> ChannelConfig {
        self.channels.get(name).cloned().unwrap_or_default()
    }
}

fn check_channel_gates(name: &str, ch: &str, c: &ChannelConfig) -> Result<()> {
    let below_100 = c.stages.iter().filter(|p| **p < 100.0).count();
    let bakes: Vec<&String> = match &c.bake {
        Bake::One(s) => vec![s],
        Bake::PerStage(v) => {
            if v.len() != below_100 {
                return Err(Error::input(format!(
                    "{name}: channels.{ch}.bake has {} durations but the channel has {below_100} stages below 100 ({:?}): give one per stage, or one duration for all",
                    v.len(),
                    c.stages
                )));
            }
            v.iter().collect()
        }
    };
    for b in bakes {
        parse_duration(b).map_err(|e| Error::input(format!("{name}: channels.{ch}.bake: {e}")))?;
    }
    for (i, role) in c.approvals.iter().enumerate() {
        if crate::ids::check_role(role).is_err() || c.approvals[..i].contains(role) {
            return Err(Error::input(format!(
                "{name}: channels.{ch}.approvals: {role:?} must be a unique role name of letters, digits, - and _ (e.g. \"qa\", \"lead\")"
            )));
        }
    }
    Ok(())
}

/// Parses `90s`, `10m`, `24h`, `7d` (or a bare number of seconds).
pub fn parse_duration(s: &str) -> std::result::Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (use e.g. 90s, 10m, 24h, 7d)"))?;
    let mult = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => {
            return Err(format!(
                "{s:?}: unknown unit {unit:?} (use ms, s, m, h or d)"
            ))
        }
    };
    // Up to 100 years: larger values are typos, and would overflow time arithmetic.
    const MAX_SECS: f64 = 100.0 * 365.0 * 86400.0;
    let secs = n * mult;
    if !secs.is_finite() || !(0.0..=MAX_SECS).contains(&secs) {
        return Err(format!("{s:?} is out of range (at most 100 years)"));
    }
    std::time::Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

/// True for a percentage sitevault can route exactly: 0–100 with at most two decimals
/// (the routing rule compares against `round(percent × 100)` of 10,000 buckets).
pub fn is_exact_percent(p: f64) -> bool {
    let scaled = p * 100.0;
    (0.0..=100.0).contains(&p) && (scaled - scaled.round()).abs() <= 1e-6
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let upto = &text[..offset];
    let line = upto.matches('\n').count() + 1;
    let col = upto.rfind('\n').map(|i| offset - i).unwrap_or(offset + 1);
    (line, col)
}

#[cfg(test)]
mod tests;
