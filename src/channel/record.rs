//! Channel documents: the log record (source of truth), the manifest the edge reads
//! (a projection of the newest record) and the public `version.json` summary.

use serde::{Deserialize, Serialize};

/// A running canary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Canary {
    /// Version id of the canary.
    pub version: String,
    /// Share of visitors, 0–100 with up to two decimals.
    pub percent: f64,
    /// Index of the current stage in the channel's stages (the largest stage ≤ percent).
    pub stage: usize,
    /// When this canary started (RFC 3339).
    pub started_at: String,
}

/// Who pinned a channel, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// Who pinned it.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
    /// Why.
    pub reason: String,
}

/// The whole state of a channel after a change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelState {
    /// The version most visitors get.
    pub stable: Option<String>,
    /// The canary, when a rollout runs.
    pub canary: Option<Canary>,
    /// Earlier stables, newest first (rollback targets; skew protection).
    pub previous: Vec<String>,
    /// Set when the channel is pinned.
    pub pinned: Option<Pin>,
    /// Versions a rollback moved away from: they stay in `previous` (their assets keep
    /// being served to open tabs, and retention keeps them) but a rollback without
    /// `--to` skips them, so a repeated rollback never brings a bad release back.
    /// Cleared for a version when it is rolled out again. Log records only; not part
    /// of the manifest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rolled_back: Vec<String>,
}

impl ChannelState {
    /// `rolling`, `stable` or `empty`.
    pub fn phase(&self) -> &'static str {
        match (&self.stable, &self.canary) {
            (_, Some(_)) => "rolling",
            (Some(_), None) => "stable",
            (None, None) => "empty",
        }
    }

    /// One line: `stable v1, canary v2 at 10%`.
    pub fn summary(&self) -> String {
        let stable = self.stable.as_deref().unwrap_or("none");
        match &self.canary {
            Some(c) => format!(
                "stable {stable}, canary {} at {}%",
                c.version,
                fmt_percent(c.percent)
            ),
            None => format!("stable {stable}"),
        }
    }
}

/// `10`, `0.5`, `33.33`.
pub fn fmt_percent(p: f64) -> String {
    let s = format!("{p:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// One log record: `channels/<c>/log/<generation:020>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Always 1.
    pub schema: u32,
    /// Channel name.
    pub channel: String,
    /// Generation (1, 2, …), equal to the key's number.
    pub generation: u64,
    /// blake3 of the previous record's bytes (null for generation 1).
    pub prev: Option<String>,
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What: `rollout`, `advance`, `percent`, `promote`, `abort`, `rollback`, `pin`,
    /// `unpin`, `revert`, `approve` or `gate` (the last two leave the state as it was).
    pub action: String,
    /// Why, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The version the change is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The state after the change.
    pub state: ChannelState,
    /// An `approve` record: who approved which stage of which canary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// The health-gate verdict behind this record (a `gate` record, or a change
    /// made by `rollout --auto`), with its numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateRecord>,
}

/// A go/no-go approval for one stage of one canary (`sitevault approve`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// The role approving (one of `[channels.NAME] approvals`).
    pub role: String,
    /// The canary version approved.
    pub version: String,
    /// The stage index approved (into the channel's stages).
    pub stage: usize,
    /// The canary's percent when approved.
    pub percent: f64,
}

/// What a health gate measured for one version over one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The version measured.
    pub version: String,
    /// Requests in the window (fractional from Prometheus' `increase`).
    pub requests: f64,
    /// 5xx responses in the window.
    pub errors: f64,
    /// p95 latency in milliseconds (`None` without requests).
    pub p95_ms: Option<f64>,
}

impl Sample {
    /// Errors per request (0 without requests).
    pub fn error_rate(&self) -> f64 {
        if self.requests > 0.0 {
            self.errors / self.requests
        } else {
            0.0
        }
    }

    /// `812 req, 0.4% errors, p95 35 ms`.
    pub fn summary(&self) -> String {
        let p95 = self
            .p95_ms
            .map(|p| {
                if p < 10.0 {
                    format!("{p:.1} ms")
                } else {
                    format!("{p:.0} ms")
                }
            })
            .unwrap_or_else(|| "-".into());
        format!(
            "{:.0} req, {:.2}% errors, p95 {p95}",
            self.requests,
            self.error_rate() * 100.0
        )
    }
}

/// One health-gate verdict, as the channel log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRecord {
    /// `pass`, `alert`, `inconclusive` or `rollback`.
    pub verdict: String,
    /// Why, in words (thresholds and numbers).
    pub reason: String,
    /// The canary's numbers, when they could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<Sample>,
    /// The stable version's numbers over the same window, when they could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable: Option<Sample>,
    /// Consecutive windows over the error rate, this one included.
    #[serde(default)]
    pub failures: u32,
    /// The window, seconds.
    pub window_s: f64,
    /// Where the numbers came from (`metrics: 2 endpoints`, `prometheus: URL`).
    pub source: String,
}

impl GateRecord {
    /// `alert: canary 812 req, 1.60% errors, p95 35 ms; stable …`.
    pub fn summary(&self) -> String {
        let side = |s: &Option<Sample>| {
            s.as_ref()
                .map(Sample::summary)
                .unwrap_or_else(|| "no data".into())
        };
        format!(
            "{}: {} (canary {}; stable {})",
            self.verdict,
            self.reason,
            side(&self.canary),
            side(&self.stable)
        )
    }
}

/// Routing settings the edge needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routing {
    /// Cookie holding the visitor id.
    pub cookie: String,
    /// Header naming a version to see (QA).
    pub override_header: String,
}

impl Default for Routing {
    fn default() -> Self {
        Routing {
            cookie: "sv_uid".into(),
            override_header: "x-sitevault-version".into(),
        }
    }
}

/// `channels/<c>/manifest.json`: what the edge reads. Under 2 KB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always 1.
    pub schema: u32,
    /// Channel name.
    pub channel: String,
    /// The log generation this manifest projects.
    pub generation: u64,
    /// Stable version.
    pub stable: Option<String>,
    /// Canary, or null.
    pub canary: Option<Canary>,
    /// Earlier stables, newest first.
    pub previous: Vec<String>,
    /// `rolling`, `stable` or `empty`.
    pub state: String,
    /// Time of the change.
    pub updated_at: String,
    /// Who made it.
    pub updated_by: String,
    /// Routing settings.
    #[serde(default)]
    pub routing: Routing,
}

impl Manifest {
    /// A manifest a change could have written: every version it names is a valid id
    /// (an edge builds store paths from them) and a canary percent is 0–100. `key`
    /// names it in the error.
    pub fn check(&self, key: &str) -> crate::Result<()> {
        let named = self
            .stable
            .iter()
            .chain(self.canary.iter().map(|c| &c.version))
            .chain(&self.previous);
        let bad = |what: String| {
            Err(crate::Error::Integrity(format!(
                "{key}: {what}: edited or corrupt; the next change on channel {} rewrites it from the log",
                self.channel
            )))
        };
        for v in named {
            if crate::ids::check_version(v).is_err() {
                return bad(format!(
                    "it names version {v:?}, which is not a valid version id"
                ));
            }
        }
        if let Some(c) = &self.canary {
            if !c.percent.is_finite() || !(0.0..=100.0).contains(&c.percent) {
                return bad(format!(
                    "canary {} has percent {}, outside 0–100",
                    c.version, c.percent
                ));
            }
        }
        Ok(())
    }

    /// The projection of a log record.
    pub fn from_record(r: &LogRecord) -> Manifest {
        Manifest {
            schema: 1,
            channel: r.channel.clone(),
            generation: r.generation,
            stable: r.state.stable.clone(),
            canary: r.state.canary.clone(),
            previous: r.state.previous.clone(),
            state: r.state.phase().to_string(),
            updated_at: r.at.clone(),
            updated_by: r.actor.clone(),
            routing: Routing::default(),
        }
    }
}

/// `channels/<c>/version.json`: a small public summary, same generation as the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelVersion {
    /// Always 1.
    pub schema: u32,
    /// Channel name.
    pub channel: String,
    /// Generation.
    pub generation: u64,
    /// Stable version.
    pub stable: Option<String>,
    /// Canary version.
    pub canary: Option<String>,
    /// Canary percent (0 without a canary).
    pub percent: f64,
    /// Time of the change.
    pub updated_at: String,
}

impl ChannelVersion {
    /// The summary of a log record.
    pub fn from_record(r: &LogRecord) -> ChannelVersion {
        ChannelVersion {
            schema: 1,
            channel: r.channel.clone(),
            generation: r.generation,
            stable: r.state.stable.clone(),
            canary: r.state.canary.as_ref().map(|c| c.version.clone()),
            percent: r.state.canary.as_ref().map(|c| c.percent).unwrap_or(0.0),
            updated_at: r.at.clone(),
        }
    }
}
