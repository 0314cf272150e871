//! Regions: one release across several stores.
//!
//! With `[regions.NAME]` tables in `store.toml`, every region is a whole, independent
//! store: its own blobs, versions, channel logs (each with its own hash chain) and
//! cold store. Why independent rather than one primary replicated to the others: a
//! region that is down must not stop a rollback anywhere else, so no region ever waits
//! for another. A command runs in every region at once ([`Regions::each`]), each region
//! answers for itself within `[store] timeout`, and [`sync`] later brings a lagging
//! region to the newest state. [`compare`] says whether the regions agree.
//!
//! Without `[regions]`, [`Regions::open`] gives the one `[store]` as a single, unnamed
//! region, so callers need no second code path.
//!
//! # Example: two regions, a rollout in both, then a check that they agree
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> sitevault::Result<()> {
//! use sitevault::channel::{self, ChangeOptions, Intent};
//! use sitevault::regions::{self, Regions};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let cfg = sitevault::Config::from_str_at(
//!     "[regions.eu]\nurl = \"memory://\"\n[regions.us]\nurl = \"memory://\"\n",
//!     "store.toml",
//!     dir.path().to_path_buf(),
//! )?;
//! let regions = Regions::open(&cfg, None, None)?;
//! assert_eq!(regions.names(), ["eu", "us"]);
//! // An empty channel agrees everywhere.
//! let c = regions::compare(&regions, "production").await;
//! assert!(c.agree);
//! # Ok(())
//! # }
//! ```

mod sync;

pub use sync::{copy_version, sync, CopyReport, RegionSync, SyncOptions, SyncReport};

use futures::future::join_all;
use serde::Serialize;

use crate::channel::{self, record::ChannelState};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::{Store, StoreSpec};

/// One region: its name (empty without `[regions]`), hot store and cold store.
#[derive(Debug, Clone)]
pub struct Region {
    /// `[regions.NAME]`'s NAME, or `""` for the one `[store]`.
    pub name: String,
    /// The hot store.
    pub store: Store,
    /// Where its cold store is (opened only by the commands that need it).
    pub cold: StoreSpec,
}

/// The regions a command runs in.
#[derive(Debug, Clone)]
pub struct Regions {
    configured: bool,
    list: Vec<Region>,
}

/// One region's answer.
#[derive(Debug)]
pub struct RegionResult<T> {
    /// The region.
    pub region: String,
    /// What it answered.
    pub result: Result<T>,
}

impl Regions {
    /// The stores a command runs against: `store_override` (`--store`) alone when
    /// given; else every `[regions.*]` (only `only`, with `--region`); else `[store]`.
    pub fn open(cfg: &Config, store_override: Option<&str>, only: Option<&str>) -> Result<Regions> {
        let single = |spec: StoreSpec| -> Result<Regions> {
            Ok(Regions {
                configured: false,
                list: vec![Region {
                    name: String::new(),
                    store: Store::open(&spec)?,
                    cold: StoreSpec::cold(&cfg.cold, &cfg.store, &cfg.base_dir),
                }],
            })
        };
        if let Some(url) = store_override {
            if only.is_some() {
                return Err(Error::usage(
                    "--store and --region both choose a store: give one of them",
                ));
            }
            return single(StoreSpec::hot(&cfg.store, &cfg.base_dir, Some(url)));
        }
        if cfg.regions.is_empty() {
            if let Some(r) = only {
                return Err(Error::usage(format!(
                    "--region {r}: store.toml has no [regions.*] tables, so there is one store ([store] url); drop --region"
                )));
            }
            return single(StoreSpec::hot(&cfg.store, &cfg.base_dir, None));
        }
        if let Some(r) = only {
            if !cfg.regions.contains_key(r) {
                return Err(Error::usage(format!(
                    "--region {r}: no such region in store.toml (regions: {})",
                    cfg.regions.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        let mut list = Vec::new();
        for (name, rc) in &cfg.regions {
            if only.is_some_and(|o| o != name) {
                continue;
            }
            let spec = StoreSpec::region(rc, &cfg.store, &cfg.base_dir);
            let store =
                Store::open(&spec).map_err(|e| Error::input(format!("region {name}: {e}")))?;
            list.push(Region {
                name: name.clone(),
                store,
                cold: StoreSpec::region_cold(name, rc, &cfg.cold, &cfg.store, &cfg.base_dir),
            });
        }
        Ok(Regions {
            configured: true,
            list,
        })
    }

    /// True when `[regions.*]` are configured (even if `--region` chose one of them):
    /// output names the region.
    pub fn configured(&self) -> bool {
        self.configured
    }

    /// The selected regions, in name order.
    pub fn list(&self) -> &[Region] {
        &self.list
    }

    /// Their names.
    pub fn names(&self) -> Vec<&str> {
        self.list.iter().map(|r| r.name.as_str()).collect()
    }

    /// The one selected region; with several, an error asking for `--region`.
    pub fn single(&self) -> Result<&Region> {
        match self.list.as_slice() {
            [one] => Ok(one),
            _ => Err(Error::usage(format!(
                "this command works on one store: choose a region with --region NAME ({})",
                self.names().join(", ")
            ))),
        }
    }

    /// Runs `f` in every selected region at once and returns each region's answer, in
    /// name order. A slow or unreachable region delays only its own answer.
    pub async fn each<'a, T, F, Fut>(&'a self, f: F) -> Vec<RegionResult<T>>
    where
        F: Fn(&'a Region) -> Fut,
        Fut: std::future::Future<Output = Result<T>> + 'a,
    {
        let results = join_all(self.list.iter().map(&f)).await;
        self.list
            .iter()
            .zip(results)
            .map(|(r, result)| RegionResult {
                region: r.name.clone(),
                result,
            })
            .collect()
    }
}

/// What visitors of a region get from a channel, and whether it is pinned: the part
/// of a state regions must agree on. Times and actors differ per region by nature.
fn routing(state: &ChannelState) -> (Option<&str>, Option<(&str, u64)>, bool) {
    (
        state.stable.as_deref(),
        state
            .canary
            .as_ref()
            .map(|c| (c.version.as_str(), (c.percent * 100.0).round() as u64)),
        state.pinned.is_some(),
    )
}

/// True when two states route every visitor alike and agree on the pin.
pub fn same_routing(a: &ChannelState, b: &ChannelState) -> bool {
    routing(a) == routing(b)
}

/// One region's side of a channel.
#[derive(Debug, Clone, Serialize)]
pub struct RegionState {
    /// The region.
    pub region: String,
    /// Newest log generation (0: no releases yet).
    pub generation: Option<u64>,
    /// Its state, when it could be read.
    pub state: Option<ChannelState>,
    /// When its last change was made (RFC 3339).
    pub since: Option<String>,
    /// Why it could not be read.
    pub error: Option<String>,
}

/// Whether the regions agree on a channel.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The channel.
    pub channel: String,
    /// Every region could be read and they all route alike.
    pub agree: bool,
    /// Each region's side.
    pub regions: Vec<RegionState>,
    /// What differs, for people (`us: unreachable: …`, `eu: stable v2; us: stable v1`).
    pub drift: Vec<String>,
}

/// Reads `channel` in every region and says whether they agree.
pub async fn compare(regions: &Regions, channel: &str) -> Comparison {
    let answers = regions
        .each(|r| async move { channel::log::head(&r.store, channel).await })
        .await;
    let mut sides = Vec::new();
    let mut drift = Vec::new();
    for a in answers {
        match a.result {
            Ok(h) => {
                let since = h.record.as_ref().map(|r| r.at.clone());
                sides.push(RegionState {
                    region: a.region,
                    generation: Some(h.generation),
                    state: Some(h.state()),
                    since,
                    error: None,
                });
            }
            Err(e) => {
                drift.push(format!("{}: cannot be read: {e}", a.region));
                sides.push(RegionState {
                    region: a.region,
                    generation: None,
                    state: None,
                    since: None,
                    error: Some(e.to_string()),
                });
            }
        }
    }
    let states: Vec<(&str, &ChannelState)> = sides
        .iter()
        .filter_map(|s| s.state.as_ref().map(|st| (s.region.as_str(), st)))
        .collect();
    if let Some((_, first)) = states.first() {
        if states.iter().any(|(_, s)| !same_routing(first, s)) {
            drift.push(
                states
                    .iter()
                    .map(|(r, s)| {
                        let pin = if s.pinned.is_some() { ", pinned" } else { "" };
                        format!("{r}: {}{pin}", s.summary())
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            );
        }
    }
    Comparison {
        channel: channel.to_string(),
        agree: drift.is_empty(),
        regions: sides,
        drift,
    }
}
