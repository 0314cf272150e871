//! How to reach a store ([`StoreSpec`]), from the config's `[store]`, `[regions.*]`
//! and `[cold]` tables.

use std::path::{Path as FsPath, PathBuf};
use std::time::Duration;

use crate::config::{ColdConfig, RegionConfig, StoreConfig};

/// How to reach a store: URL plus S3 options.
#[derive(Debug, Clone, Default)]
pub struct StoreSpec {
    /// Store URL.
    pub url: String,
    /// S3 endpoint override.
    pub endpoint: Option<String>,
    /// S3 region.
    pub region: Option<String>,
    /// Allow plain HTTP.
    pub allow_http: Option<bool>,
    /// Folder relative `file://` paths resolve against.
    pub base_dir: PathBuf,
    /// Bounded concurrency for bulk transfers.
    pub concurrency: usize,
    /// Longest wait for one request to a remote store (`None`: the client's default).
    pub timeout: Option<Duration>,
}

impl StoreSpec {
    /// The hot store from `[store]`, with an optional `--store` override.
    pub fn hot(cfg: &StoreConfig, base_dir: &FsPath, url_override: Option<&str>) -> Self {
        StoreSpec {
            url: url_override.unwrap_or(&cfg.url).to_string(),
            endpoint: cfg.endpoint.clone(),
            region: cfg.region.clone(),
            allow_http: cfg.allow_http,
            base_dir: base_dir.to_path_buf(),
            concurrency: cfg.concurrency,
            timeout: Some(cfg.timeout()),
        }
    }

    /// The hot store of one `[regions.NAME]` table (`[store]` gives concurrency and
    /// timeout).
    pub fn region(r: &RegionConfig, hot: &StoreConfig, base_dir: &FsPath) -> Self {
        StoreSpec {
            url: r.url.clone(),
            endpoint: r.endpoint.clone(),
            region: r.region.clone(),
            allow_http: r.allow_http,
            base_dir: base_dir.to_path_buf(),
            concurrency: hot.concurrency,
            timeout: Some(hot.timeout()),
        }
    }

    /// The cold store of region `name`: its `cold` key, else `[cold] url` + `/<name>`
    /// (S3 options from `[cold]`, else the region's).
    pub fn region_cold(
        name: &str,
        r: &RegionConfig,
        cold: &ColdConfig,
        hot: &StoreConfig,
        base_dir: &FsPath,
    ) -> Self {
        let url = match &r.cold {
            Some(u) => u.clone(),
            None => format!("{}/{name}", cold.url.trim_end_matches('/')),
        };
        StoreSpec {
            url,
            endpoint: cold.endpoint.clone().or_else(|| r.endpoint.clone()),
            region: cold.region.clone().or_else(|| r.region.clone()),
            allow_http: cold.allow_http.or(r.allow_http),
            base_dir: base_dir.to_path_buf(),
            concurrency: hot.concurrency,
            timeout: Some(hot.timeout()),
        }
    }

    /// The folder of a `file://` store (relative paths resolved), else `None`.
    pub fn local_dir(&self) -> Option<PathBuf> {
        let rest = self.url.trim().strip_prefix("file://")?;
        let p = PathBuf::from(rest);
        Some(if p.is_absolute() {
            p
        } else {
            self.base_dir.join(p)
        })
    }

    /// Every `file://` folder `cfg` names: `[store]` (or `url_override`), `[cold]`
    /// and each region's hot and cold stores. An output folder must never hold one.
    pub fn local_dirs(cfg: &crate::config::Config, url_override: Option<&str>) -> Vec<PathBuf> {
        let base = &cfg.base_dir;
        let mut specs = vec![
            StoreSpec::hot(&cfg.store, base, url_override),
            StoreSpec::hot(&cfg.store, base, None),
            StoreSpec::cold(&cfg.cold, &cfg.store, base),
        ];
        for (name, r) in &cfg.regions {
            specs.push(StoreSpec::region(r, &cfg.store, base));
            specs.push(StoreSpec::region_cold(name, r, &cfg.cold, &cfg.store, base));
        }
        let mut dirs: Vec<PathBuf> = specs.iter().filter_map(StoreSpec::local_dir).collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// The cold store from `[cold]` (S3 options default to `[store]`'s).
    pub fn cold(cold: &ColdConfig, hot: &StoreConfig, base_dir: &FsPath) -> Self {
        StoreSpec {
            url: cold.url.clone(),
            endpoint: cold.endpoint.clone().or_else(|| hot.endpoint.clone()),
            region: cold.region.clone().or_else(|| hot.region.clone()),
            allow_http: cold.allow_http.or(hot.allow_http),
            base_dir: base_dir.to_path_buf(),
            concurrency: hot.concurrency,
            timeout: Some(hot.timeout()),
        }
    }
}
