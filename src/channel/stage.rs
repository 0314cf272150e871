//! The current stage of a running canary, read back from the log: when it was
//! entered (bake time counts from there, so a restarted `rollout --auto` continues
//! where it was), the approvals given for it, and the newest gate verdict.
//!
//! Only records of *this* stage of *this* canary count: a record whose canary has
//! another version, another stage or another start time ends the scan, so approvals
//! of an earlier stage or an earlier rollout of the same version never count.

use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use super::log::{self, Head};
use super::record::{Approval, GateRecord};
use crate::error::Result;
use crate::store::Store;

/// Records read back at most (a stage with more records than this counts from the
/// oldest one read).
const MAX_SCAN: u64 = 10_000;

/// Records read per round trip while scanning back.
const BATCH: u64 = 16;

/// One approval of the current stage.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalSeen {
    /// The role.
    pub role: String,
    /// Who approved.
    pub actor: String,
    /// When.
    pub at: String,
    /// Why, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The generation of the `approve` record.
    pub generation: u64,
}

/// The running canary's current stage, as the log tells it.
#[derive(Debug, Clone, Serialize)]
pub struct StageView {
    /// The canary version.
    pub version: String,
    /// The stage index.
    pub stage: usize,
    /// The canary's percent.
    pub percent: f64,
    /// The generation that entered this stage.
    pub entered_generation: u64,
    /// When the stage was entered (RFC 3339).
    pub entered_at: String,
    /// Approvals given for this stage, oldest first.
    pub approvals: Vec<ApprovalSeen>,
    /// The newest gate verdict of this stage, and its generation.
    pub last_gate: Option<(u64, GateRecord)>,
}

impl StageView {
    /// The roles of `required` that have not approved this stage yet.
    pub fn missing(&self, required: &[String]) -> Vec<String> {
        required
            .iter()
            .filter(|r| !self.approvals.iter().any(|a| a.role == **r))
            .cloned()
            .collect()
    }
}

/// The current stage of `head`'s canary (`None` without a canary).
pub async fn view(store: &Store, channel: &str, head: &Head) -> Result<Option<StageView>> {
    let Some(rec) = &head.record else {
        return Ok(None);
    };
    let Some(c) = &rec.state.canary else {
        return Ok(None);
    };
    let mut v = StageView {
        version: c.version.clone(),
        stage: c.stage,
        percent: c.percent,
        entered_generation: rec.generation,
        entered_at: rec.at.clone(),
        approvals: Vec::new(),
        last_gate: None,
    };
    let lowest = head.generation.saturating_sub(MAX_SCAN).max(1);
    let mut top = head.generation;
    'scan: while top >= lowest {
        let bottom = top.saturating_sub(BATCH - 1).max(lowest);
        let batch: Vec<_> = futures::stream::iter((bottom..=top).rev())
            .map(|g| async move { log::read_record(store, channel, g).await })
            .buffered(BATCH as usize)
            .try_collect()
            .await?;
        for (g, r) in (bottom..=top).rev().zip(batch) {
            // A gap ends the scan; `head` already verified the newest links.
            let Some((r, _, _)) = r else { break 'scan };
            let same = r.state.canary.as_ref().is_some_and(|rc| {
                rc.version == c.version && rc.stage == c.stage && rc.started_at == c.started_at
            });
            if !same {
                break 'scan;
            }
            v.entered_generation = g;
            v.entered_at = r.at.clone();
            if let Some(Approval {
                role,
                version,
                stage,
                ..
            }) = &r.approval
            {
                if *version == c.version && *stage == c.stage {
                    v.approvals.push(ApprovalSeen {
                        role: role.clone(),
                        actor: r.actor.clone(),
                        at: r.at.clone(),
                        reason: r.reason.clone(),
                        generation: g,
                    });
                }
            }
            // Only `gate` records: a change's verdict (an advance) belongs to the stage
            // it left.
            if v.last_gate.is_none() && r.action == "gate" {
                if let Some(gate) = &r.gate {
                    v.last_gate = Some((g, gate.clone()));
                }
            }
        }
        if bottom == lowest {
            break;
        }
        top = bottom - 1;
    }
    v.approvals.reverse();
    Ok(Some(v))
}
