//! The channel log: finding the newest generation, writing the next one create-only,
//! keeping the manifest a faithful projection, and verifying the hash chain.

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use super::record::{ChannelVersion, LogRecord, Manifest};
use crate::error::{Error, Result};
use crate::schema::check_schema;
use crate::store::{keys, Attrs, Created, Store};

/// The newest record of a channel, as read.
#[derive(Debug, Clone)]
pub struct Head {
    /// Newest generation (0 when the channel has no log yet).
    pub generation: u64,
    /// The newest record.
    pub record: Option<LogRecord>,
    /// blake3 of the newest record's bytes.
    pub hash: Option<String>,
    /// Generation the manifest showed before this read (None: missing or unreadable).
    pub manifest_generation: Option<u64>,
    /// The manifest as read before any repair (None: missing or unreadable).
    pub manifest: Option<Manifest>,
    /// The manifest lagged or was unreadable and was rewritten.
    pub repaired: bool,
}

impl Head {
    /// The state after the newest record (empty for a channel without a log).
    pub fn state(&self) -> super::record::ChannelState {
        self.record
            .as_ref()
            .map(|r| r.state.clone())
            .unwrap_or_default()
    }
}

fn parse_record(bytes: &[u8], key: &str) -> Result<LogRecord> {
    let r: LogRecord = crate::schema::parse(bytes, &format!("{key}: corrupt log record"))?;
    check_state(&r, key)?;
    Ok(r)
}

/// A record's state must be one a change could have written: every version it names
/// is a valid id (an edge builds store paths from them), and a canary percent is
/// finite and 0–100. Anything else is corruption, never copied to the manifest.
fn check_state(r: &LogRecord, key: &str) -> Result<()> {
    let st = &r.state;
    let named = st
        .stable
        .iter()
        .chain(st.canary.iter().map(|c| &c.version))
        .chain(&st.previous)
        .chain(&st.rolled_back)
        .chain(&r.version);
    for v in named {
        if crate::ids::check_version(v).is_err() {
            return Err(Error::Integrity(format!(
                "{key}: corrupt log record: it names version {v:?}, which is not a valid version id; \
                 nothing was changed. Inspect `sitevault history {}` and restore the record from a backup",
                r.channel
            )));
        }
    }
    if let Some(c) = &st.canary {
        if !c.percent.is_finite() || !(0.0..=100.0).contains(&c.percent) {
            return Err(Error::Integrity(format!(
                "{key}: corrupt log record: canary {} has percent {}, outside 0–100; \
                 nothing was changed. Inspect `sitevault history {}` and restore the record from a backup",
                c.version, c.percent, r.channel
            )));
        }
    }
    Ok(())
}

/// Reads one log record and its hash (`None` when it does not exist).
pub(crate) async fn read_record(
    store: &Store,
    channel: &str,
    generation: u64,
) -> Result<Option<(LogRecord, String, Bytes)>> {
    let key = keys::channel_log(channel, generation);
    match store.get(&key).await? {
        Some(b) => {
            let r = parse_record(&b, &key)?;
            if r.generation != generation || r.channel != channel {
                return Err(Error::Integrity(format!(
                    "{key}: holds generation {} of channel {} (moved or copied); run `sitevault history {channel}`",
                    r.generation, r.channel
                )));
            }
            let h = blake3::hash(&b).to_hex().to_string();
            Ok(Some((r, h, b)))
        }
        None => Ok(None),
    }
}

/// Every generation number present in the log, ascending.
pub(crate) async fn generations(store: &Store, channel: &str) -> Result<Vec<u64>> {
    let mut gens: Vec<u64> = store
        .list(&keys::channel_log_prefix(channel))
        .await?
        .into_iter()
        .filter_map(|m| m.location.filename()?.strip_suffix(".json")?.parse().ok())
        .collect();
    gens.sort_unstable();
    Ok(gens)
}

/// Reads the manifest: `Ok(None)` when missing, `Err` for a newer schema, and
/// `Ok(Some(None))` when present but unreadable (it will be rebuilt from the log).
async fn read_manifest(store: &Store, channel: &str) -> Result<Option<Option<Manifest>>> {
    let key = keys::channel_manifest(channel);
    let Some(b) = store.get(&key).await? else {
        return Ok(None);
    };
    Ok(Some(parse_manifest(&b, &key)?))
}

/// Parses manifest bytes: `Err` only for a newer schema, `None` when unreadable.
pub(crate) fn parse_manifest(bytes: &[u8], key: &str) -> Result<Option<Manifest>> {
    let v: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(_) => return Ok(None),
    };
    check_schema(v.get("schema").and_then(|s| s.as_u64()).unwrap_or(0), key)?;
    Ok(serde_json::from_value(v).ok())
}

fn gap(channel: &str, missing: u64, seen: &str) -> Error {
    Error::Integrity(format!(
        "channel {channel}: log record {missing} is missing ({seen}); the log lost a record. \
         Nothing was changed: restore {} from a backup, or inspect `sitevault history {channel}`",
        keys::channel_log(channel, missing)
    ))
}

/// Checks that `next` (read at generation `g`) follows the record whose hash is `prev_hash`.
fn check_link(channel: &str, g: u64, next: &LogRecord, prev_hash: &str) -> Result<()> {
    if next.prev.as_deref() != Some(prev_hash) {
        return Err(Error::Integrity(format!(
            "channel {channel}: generation {g} does not follow generation {} (previous-record hash differs: edited or reordered); \
             run `sitevault history {channel}`",
            g.saturating_sub(1)
        )));
    }
    Ok(())
}

/// Reads forward from a record known to exist, checking each link of the chain.
/// Then checks the newest record's own link: generation N > 1 needs N-1 to exist
/// and N's `prev` to be its hash (one extra read when the probe did not walk that
/// link already), so a hole just below the head is found by reads and writes alike.
async fn probe_forward(
    store: &Store,
    channel: &str,
    mut newest: (LogRecord, String),
) -> Result<(LogRecord, String)> {
    let mut linked = false;
    while let Some(next) = newest.0.generation.checked_add(1) {
        match read_record(store, channel, next).await? {
            Some((r, h, _)) => {
                check_link(channel, next, &r, &newest.1)?;
                newest = (r, h);
                linked = true;
            }
            None => break,
        }
    }
    let g = newest.0.generation;
    if !linked && g > 1 {
        match read_record(store, channel, g - 1).await? {
            Some((_, h, _)) => check_link(channel, g, &newest.0, &h)?,
            None => {
                return Err(gap(
                    channel,
                    g - 1,
                    &format!("generation {g} exists and names it as its previous record"),
                ))
            }
        }
    }
    Ok(newest)
}

/// Finds the newest record. Fast path: the manifest's generation, then probe the
/// next ones; without a usable manifest, list the log. A lagging or unreadable
/// manifest is rewritten forward (every command that reads a channel repairs it);
/// a manifest ahead of the log, or a hole in the log, is an integrity error: reads
/// never move a manifest back.
pub async fn head(store: &Store, channel: &str) -> Result<Head> {
    read_head(store, channel, true).await
}

/// [`head`] without rewriting the manifest.
pub(crate) async fn head_unrepaired(store: &Store, channel: &str) -> Result<Head> {
    read_head(store, channel, false).await
}

async fn read_head(store: &Store, channel: &str, repair: bool) -> Result<Head> {
    let manifest = read_manifest(store, channel).await?;
    let manifest_doc = manifest.clone().flatten();
    let manifest_generation = manifest_doc.as_ref().map(|m| m.generation);
    let mut newest: Option<(LogRecord, String)> = None;
    if let Some(g) = manifest_generation.filter(|g| *g > 0) {
        // The record the manifest names, the one after it (usually none) and the one
        // before it (to check the link): read at once, one round trip instead of three.
        let (cur, next, prev) = tokio::join!(
            read_record(store, channel, g),
            read_record(store, channel, g.saturating_add(1)),
            async {
                match g {
                    1 => Ok(None),
                    _ => read_record(store, channel, g - 1).await,
                }
            }
        );
        let (cur, next, prev) = (cur?, next?, prev?);
        match cur {
            Some((r, h, _)) => {
                newest = Some(match (next, prev) {
                    (Some((n, nh, _)), _) => {
                        check_link(channel, g.saturating_add(1), &n, &h)?;
                        probe_forward(store, channel, (n, nh)).await?
                    }
                    (None, Some((_, ph, _))) => {
                        check_link(channel, g, &r, &ph)?;
                        (r, h)
                    }
                    (None, None) if g == 1 => (r, h),
                    (None, None) => {
                        return Err(gap(
                            channel,
                            g - 1,
                            &format!("generation {g} exists and names it as its previous record"),
                        ))
                    }
                })
            }
            None => {
                let last = generations(store, channel).await?.last().copied();
                let seen = match last {
                    Some(l) => {
                        format!("the manifest is at generation {g}, the log's newest is {l}")
                    }
                    None => format!("the manifest is at generation {g}, the log is empty"),
                };
                return Err(gap(channel, g, &seen));
            }
        }
    }
    if newest.is_none() {
        let gens = generations(store, channel).await?;
        for (i, g) in gens.iter().enumerate() {
            let want = i as u64 + 1;
            if *g != want {
                return Err(gap(
                    channel,
                    want,
                    &format!("the log jumps to generation {g}"),
                ));
            }
        }
        if let Some(&g) = gens.last() {
            if let Some((r, h, _)) = read_record(store, channel, g).await? {
                newest = Some(probe_forward(store, channel, (r, h)).await?);
            }
        }
    }
    let Some((record, hash)) = newest else {
        return Ok(Head {
            generation: 0,
            record: None,
            hash: None,
            manifest_generation,
            manifest: manifest_doc,
            repaired: false,
        });
    };
    let mut repaired = false;
    if repair && manifest_generation != Some(record.generation) {
        project(store, &record).await?;
        repaired = true;
    }
    Ok(Head {
        generation: record.generation,
        record: Some(record),
        hash: Some(hash),
        manifest_generation,
        manifest: manifest_doc,
        repaired,
    })
}

/// Overwrites `manifest.json` and `version.json` with the projection of `record`,
/// but never with an older generation: each document is re-read right before its
/// write, and the write is skipped when the stored one is newer, or the same
/// generation with the same bytes. (A slow writer projecting its own record after a
/// faster one projected a newer generation must not move live state backwards.)
///
/// The read and the write are two requests, so a window remains; it is kept to one
/// round trip, and `publish_projection` re-probes newer generations afterwards.
pub async fn project(store: &Store, record: &LogRecord) -> Result<()> {
    let attrs = Attrs {
        content_type: Some("application/json".into()),
        cache_control: Some("public, max-age=0, must-revalidate".into()),
        ..Default::default()
    };
    let m = Bytes::from(crate::schema::to_json(&Manifest::from_record(record))?);
    let v = Bytes::from(crate::schema::to_json(&ChannelVersion::from_record(
        record,
    ))?);
    // Two independent documents, each guarded by its own re-read: written at once.
    let write = |key: String, body: Bytes| {
        let attrs = &attrs;
        async move {
            if !newer_or_same(store, &key, record.generation, &body).await? {
                store.put_overwrite(&key, body, attrs).await?;
            }
            Ok::<(), Error>(())
        }
    };
    let (a, b) = tokio::join!(
        write(keys::channel_manifest(&record.channel), m),
        write(keys::channel_version(&record.channel), v)
    );
    a.and(b)
}

/// Whether the document at `key` already shows a generation newer than `generation`,
/// or exactly `ours`. A missing or unreadable document is neither (it is rewritten).
async fn newer_or_same(store: &Store, key: &str, generation: u64, ours: &Bytes) -> Result<bool> {
    let Some(stored) = store.get(key).await? else {
        return Ok(false);
    };
    if stored == *ours {
        return Ok(true);
    }
    let stored_generation = serde_json::from_slice::<serde_json::Value>(&stored)
        .ok()
        .and_then(|v| v.get("generation").and_then(|g| g.as_u64()));
    Ok(stored_generation.is_some_and(|g| g > generation))
}

/// Writes `record` as its generation, create-only. `Ok(false)`: another writer took
/// that generation first.
///
/// The answer of the create alone is not trusted: the record is read back and must be
/// ours, byte for byte. A create whose response was lost and whose retry then found
/// the key (our own first attempt) is a win; a create that a store reported as ours
/// while another writer's bytes ended up there (a store whose conditional writes are
/// not atomic) is a loss. Either way no change is applied twice or claimed by two.
pub async fn append(store: &Store, record: &LogRecord) -> Result<bool> {
    let body = Bytes::from(crate::schema::to_json(record)?);
    let key = keys::channel_log(&record.channel, record.generation);
    let attrs = Attrs {
        content_type: Some("application/json".into()),
        ..Default::default()
    };
    let created = store.put_create(&key, body.clone(), &attrs).await? == Created::Created;
    match store.get(&key).await? {
        Some(stored) => Ok(stored == body),
        None if created => Err(Error::Integrity(format!(
            "{key}: written, then not found on read-back; check the store"
        ))),
        None => Ok(false),
    }
}

/// After a successful append: project it, then re-read and re-project while newer
/// generations exist, so concurrent writers converge on the newest.
pub(crate) async fn publish_projection(store: &Store, record: &LogRecord) -> Result<()> {
    project(store, record).await?;
    let mut g = record.generation;
    loop {
        let mut newest = None;
        while let Some((r, _, _)) = read_record(store, &record.channel, g.saturating_add(1)).await?
        {
            if r.generation <= g {
                break;
            }
            g = r.generation;
            newest = Some(r);
        }
        match newest {
            Some(r) => project(store, &r).await?,
            None => return Ok(()),
        }
    }
}

/// One entry of `sitevault history`.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// Generation.
    pub generation: u64,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// State before (summary).
    pub from: String,
    /// State after (summary).
    pub to: String,
    /// Why.
    pub reason: Option<String>,
    /// The approval an `approve` record gave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<super::record::Approval>,
    /// The health-gate verdict behind the record, with its numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<super::record::GateRecord>,
}

/// The log, newest first, and where the hash chain breaks (if it does).
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// Channel.
    pub channel: String,
    /// Entries, newest first.
    pub entries: Vec<HistoryEntry>,
    /// `None` when the chain verifies; otherwise what is wrong, naming the generation.
    pub chain_error: Option<String>,
}

/// Reads the whole log and verifies its hash chain.
pub async fn history(store: &Store, channel: &str) -> Result<History> {
    // The manifest first: it never gets ahead of a record that already exists, so a
    // change landing while the log is read cannot look like a missing record.
    let manifest = read_manifest(store, channel).await?;
    let gens = generations(store, channel).await?;
    let records: Vec<(u64, Option<Bytes>)> =
        futures::stream::iter(gens.into_iter().map(|g| async move {
            Ok::<_, Error>((g, store.get(&keys::channel_log(channel, g)).await?))
        }))
        .buffered(store.concurrency())
        .try_collect()
        .await?;
    let mut entries = Vec::new();
    let mut chain_error: Option<String> = None;
    let mut prev_hash: Option<String> = None;
    let mut prev_state: Option<super::record::ChannelState> = None;
    let mut expected = 1u64;
    for (g, bytes) in records {
        let Some(bytes) = bytes else { continue };
        let key = keys::channel_log(channel, g);
        let note = |e: String, chain_error: &mut Option<String>| {
            if chain_error.is_none() {
                *chain_error = Some(e);
            }
        };
        if g != expected {
            note(
                format!("generation {expected} is missing (next is {g})"),
                &mut chain_error,
            );
        }
        expected = g.saturating_add(1);
        let hash = blake3::hash(&bytes).to_hex().to_string();
        match parse_record(&bytes, &key) {
            Ok(r) => {
                if r.generation != g {
                    note(
                        format!(
                            "generation {g}: record says generation {} (moved or reordered)",
                            r.generation
                        ),
                        &mut chain_error,
                    );
                }
                if r.prev != prev_hash {
                    note(format!("generation {g}: previous-record hash does not match generation {} (edited or reordered)", g.saturating_sub(1)), &mut chain_error);
                }
                let from = prev_state
                    .as_ref()
                    .map(|s| s.summary())
                    .unwrap_or_else(|| "empty".into());
                entries.push(HistoryEntry {
                    generation: g,
                    at: r.at.clone(),
                    actor: r.actor.clone(),
                    action: r.action.clone(),
                    from,
                    to: r.state.summary(),
                    reason: r.reason.clone(),
                    approval: r.approval.clone(),
                    gate: r.gate.clone(),
                });
                prev_state = Some(r.state);
            }
            Err(e) => {
                note(format!("generation {g}: {e}"), &mut chain_error);
                entries.push(HistoryEntry {
                    generation: g,
                    at: String::new(),
                    actor: String::new(),
                    action: "corrupt".into(),
                    from: String::new(),
                    to: String::new(),
                    reason: None,
                    approval: None,
                    gate: None,
                });
            }
        }
        prev_hash = Some(hash);
    }
    // A manifest ahead of the log: the records it was projected from are gone.
    let newest = expected.saturating_sub(1);
    if let Some(Some(m)) = manifest {
        if m.generation > newest && chain_error.is_none() {
            chain_error = Some(format!(
                "{} is at generation {}, but the log ends at {newest}: records are missing",
                keys::channel_manifest(channel),
                m.generation
            ));
        }
    }
    entries.reverse();
    Ok(History {
        channel: channel.to_string(),
        entries,
        chain_error,
    })
}
