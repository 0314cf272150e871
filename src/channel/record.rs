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
    /// What: `rollout`, `advance`, `percent`, `promote`, `abort`, `rollback`, `pin`, `unpin`.
    pub action: String,
    /// Why, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The version the change is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The state after the change.
    pub state: ChannelState,
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
