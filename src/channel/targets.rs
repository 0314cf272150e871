//! What a change may route visitors to: a new target is hot, not being archived and
//! complete (every blob there, with its size; re-hashed with `--verify`); a version
//! the new state keeps routing to is still hot; and after the log write, the guard
//! against an archive that took a target meanwhile.

use crate::error::{Error, Result};
use crate::publish::index::{self, VersionIndex};
use crate::store::{keys, Store};

use super::record::ChannelState;

/// Checks a version can serve traffic: its index is in the hot store, no archive of it
/// is under way, and every blob it names exists with the size the index gives.
pub async fn validate_target(store: &Store, version: &str) -> Result<()> {
    check_target(store, version, false, None).await
}

/// [`validate_target`], and with `verify` every blob is re-hashed too. `loaded`: the
/// version's index, when the caller has just read it (not read again).
pub(crate) async fn check_target(
    store: &Store,
    version: &str,
    verify: bool,
    loaded: Option<VersionIndex>,
) -> Result<()> {
    let archived = keys::version_archived(version);
    // The index, then its blobs, while the archive stub is looked for.
    let blobs = async {
        let idx = match loaded {
            Some(idx) => idx,
            None => index::require(store, version).await?,
        };
        let present = crate::publish::present_blobs(store, idx.blob_sizes()).await;
        Ok::<_, Error>((idx, present))
    };
    let (read, stub) = tokio::join!(blobs, store.head(&archived));
    let (idx, present) = read?;
    if stub?.is_some() {
        return Err(Error::Conflict(format!(
            "version {version} is being archived ({} exists): an archive is running or was interrupted. \
             Run `sitevault restore {version}` to make it fully hot again, then retry",
            archived
        )));
    }
    let hashes: Vec<&str> = idx.blob_hashes();
    let total = hashes.len();
    let (present, _) = present?;
    let missing: Vec<&str> = hashes
        .into_iter()
        .filter(|h| !present.contains(*h))
        .collect();
    if let Some(first) = missing.first() {
        return Err(Error::Integrity(format!(
            "version {version} is incomplete: {} of {total} blobs are missing or not the size its index gives (e.g. {first}); republish it or run `sitevault verify {version}`",
            missing.len(),
        )));
    }
    if verify {
        let r = crate::publish::inspect::verify_index(store, &idx).await?;
        if !r.ok() {
            let (what, (hash, path)) = match (r.corrupt.first(), r.missing.first()) {
                (Some(c), _) => ("corrupt", c),
                (None, Some(m)) => ("missing", m),
                (None, None) => return Err(Error::Internal("verify failed without a blob".into())),
            };
            return Err(Error::Integrity(format!(
                "version {version} failed verification: {} corrupt and {} missing of {} blobs (e.g. {what} {hash} for {path}); \
                 traffic was not moved. Republish {version} from its dist folder",
                r.corrupt.len(),
                r.missing.len(),
                r.blobs
            )));
        }
    }
    Ok(())
}

/// Versions the new state keeps routing to (its stable and canary, when not new
/// targets checked above) must still be hot: the log's newest record is the truth a
/// change starts from, and a record edited by hand could name a version that is
/// gone. One HEAD of each index, at once.
pub(super) async fn check_carried(
    store: &Store,
    channel: &str,
    next: &ChannelState,
    validated: &[String],
) -> Result<()> {
    let carried: Vec<&String> = next
        .stable
        .iter()
        .chain(next.canary.iter().map(|c| &c.version))
        .filter(|v| !validated.contains(v))
        .collect();
    let heads = futures::future::try_join_all(
        carried
            .iter()
            .map(|v| async move { store.head(&keys::version_index(v)).await }),
    )
    .await?;
    match carried.iter().zip(heads).find(|(_, h)| h.is_none()) {
        Some((v, _)) => Err(Error::Integrity(format!(
            "channel {channel}: the log's newest record routes to {v}, which is not hot ({} is missing); \
             nothing was changed. Roll the channel to a healthy version (`sitevault rollback {channel} --to VERSION`)",
            keys::version_index(v)
        ))),
        None => Ok(()),
    }
}

/// The versions a state newly puts in front of visitors.
pub(crate) fn new_targets(before: &ChannelState, after: &ChannelState) -> Vec<String> {
    let mut v = Vec::new();
    if after.stable != before.stable {
        v.extend(after.stable.clone());
    }
    if let Some(c) = &after.canary {
        if before.canary.as_ref().map(|b| &b.version) != Some(&c.version) {
            v.push(c.version.clone());
        }
    }
    v
}

/// How long a change waits for a concurrent archive to decide (50 ms polls).
const GUARD_POLLS: u32 = 600;

/// The archive guard, run after our record is in the log and before the manifest
/// is projected. An archive creates its stub, re-reads every channel head, then
/// either backs out (deletes the stub) or deletes the index. If our record came
/// after that re-read, the stub is visible to us now: wait for the archive's
/// decision. Returns the target that was (or may be) archived under us.
pub(super) async fn guard_targets(store: &Store, targets: &[String]) -> Result<Option<String>> {
    for v in targets {
        let mut polls = 0;
        loop {
            let (archived, index) = (keys::version_archived(v), keys::version_index(v));
            let (stub, hot) = tokio::join!(store.head(&archived), store.head(&index));
            let (stub, hot) = (stub?.is_some(), hot?.is_some());
            match (hot, stub) {
                (true, false) => break,
                (false, _) => return Ok(Some(v.clone())),
                (true, true) if polls >= GUARD_POLLS => return Ok(Some(v.clone())),
                (true, true) => {
                    polls += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }
    Ok(None)
}
