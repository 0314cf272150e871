//! Health-gated rollouts: `rollout --auto` watches the canary and holds, advances,
//! promotes or rolls back on its own; approvals gate every stage.
//!
//! Why it is built this way:
//! - **The log is the memory.** Stage start times, approvals and the newest verdict
//!   are read back from the channel log ([`crate::channel::stage`]), so a driver
//!   that is killed and restarted — or a `--once` run from a scheduled CI job —
//!   continues where the last one stopped, and `status` can say what the gate
//!   waits for without any other state.
//! - **No data is never a pass.** An unreadable source, a missing series, or fewer
//!   than `min_requests` canary requests is `inconclusive`: the rollout holds, and
//!   never rolls back on it either ([`verdict`]).
//! - **Canary and stable are read from the same source, in the same window, by
//!   version label**, and both are recorded, so a verdict can be checked later.
//!
//! Data flow: `source` (scrape `sitevault serve`'s `/metrics`, or PromQL) →
//! [`verdict::evaluate`] → [`drive::auto`] (a channel change with the verdict
//! attached, via [`crate::channel::change`]) → [`notify`] (webhook).

pub mod drive;
mod expo;
pub mod notify;
mod source;
pub mod verdict;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::channel::record::GateRecord;
use crate::channel::stage::{self, StageView};
use crate::channel::{log, record};
use crate::config::ChannelConfig;
use crate::error::Result;
use crate::store::Store;
pub use drive::{auto, AutoOptions, AutoOutcome, AutoReport};
pub use verdict::{evaluate, Verdict};

/// What the gate of a running canary waits for (`sitevault status`).
#[derive(Debug, Clone, Serialize)]
pub struct GateStatus {
    /// The current stage, with its approvals and newest verdict.
    pub stage: StageView,
    /// The stage's bake time, seconds.
    pub bake_s: f64,
    /// Bake time left, seconds.
    pub bake_left_s: f64,
    /// Roles that must approve each stage.
    pub approvals_required: Vec<String>,
    /// Roles that have not approved this stage yet.
    pub approvals_missing: Vec<String>,
    /// Everything that holds the canary in this stage (empty: it may advance).
    pub waiting_for: Vec<String>,
}

/// The gate of `channel`'s canary (`None` without a canary).
pub async fn status(
    store: &Store,
    channel: &str,
    cfg: &ChannelConfig,
) -> Result<Option<GateStatus>> {
    let head = log::head(store, channel).await?;
    let Some(view) = stage::view(store, channel, &head).await? else {
        return Ok(None);
    };
    let now = crate::clock::now();
    let last = view.last_gate.as_ref().map(|(_, g)| g);
    let gate_ok = match last {
        Some(g) => {
            g.verdict == Verdict::Pass.as_str()
                || (view.percent == 0.0 && g.verdict == Verdict::Inconclusive.as_str())
        }
        None => view.percent == 0.0,
    };
    let waits = waiting_for(channel, cfg, &view, last, gate_ok, now);
    Ok(Some(GateStatus {
        bake_s: cfg.bake_for(view.stage).as_secs_f64(),
        bake_left_s: bake_left(cfg, &view, now).as_secs_f64(),
        approvals_required: cfg.approvals.clone(),
        approvals_missing: view.missing(&cfg.approvals),
        waiting_for: waits,
        stage: view,
    }))
}

/// Bake time left in the current stage (zero once baked).
pub(crate) fn bake_left(cfg: &ChannelConfig, view: &StageView, now: DateTime<Utc>) -> Duration {
    let entered = DateTime::parse_from_rfc3339(&view.entered_at)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let elapsed = (now - entered).to_std().unwrap_or_default();
    cfg.bake_for(view.stage).saturating_sub(elapsed)
}

/// Everything that holds the canary in its stage, in words.
pub(crate) fn waiting_for(
    channel: &str,
    cfg: &ChannelConfig,
    view: &StageView,
    verdict: Option<&GateRecord>,
    gate_ok: bool,
    now: DateTime<Utc>,
) -> Vec<String> {
    let mut w = Vec::new();
    let left = bake_left(cfg, view, now);
    if !left.is_zero() {
        w.push(format!(
            "bake time: {} left of {} at {}%",
            human(left),
            human(cfg.bake_for(view.stage)),
            record::fmt_percent(view.percent)
        ));
    }
    if !gate_ok {
        w.push(match verdict {
            Some(g) => format!("a passing health verdict (last: {})", g.summary()),
            None => format!("a first health verdict (run `sitevault rollout {channel} --auto`)"),
        });
    }
    let missing = view.missing(&cfg.approvals);
    if !missing.is_empty() {
        w.push(format!(
            "approval from {} (`sitevault approve {channel} --role {}`)",
            missing.join(" and "),
            missing[0]
        ));
    }
    w
}

/// `4m 10s`, `2h 5m`, `900ms`.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{}ms", d.as_millis()),
        1..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, s % 3600 / 60),
    }
}
