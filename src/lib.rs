//! sitevault: take a static site from source to production and back.
//!
//! A static site release has four steps that other tools spread over several
//! products: minify and fingerprint the files, upload them as an immutable version,
//! move traffic to it gradually, and keep old versions restorable. sitevault does all
//! four against any object store, with one invariant throughout: **what a channel
//! routes to is always a complete, verified version**, and every change to a channel
//! is an append to a hash-chained log, so it can be audited and undone.
//!
//! The modules follow the pipeline (`ARCHITECTURE.md` has the map and the protocols):
//!
//! * [`build`]: `site/` → minified, fingerprinted, content-addressed `dist/`.
//! * [`store`]: one wrapper over `object_store` (file://, memory://, s3://, gs://, az://),
//!   whose only write primitive the protocols rely on is create-only.
//! * [`publish`]: upload `dist/` as an immutable version, each blob stored once.
//! * [`channel`]: rollout / rollback through a create-only log and a manifest projection.
//! * [`edge`]: the routing rule shared with the JS edge worker, and `serve`.
//! * [`regions`]: one release across several stores, and `sync` between them.
//! * [`retention`]: archive old versions to a cold store as verified packs, restore them.
//! * [`schema`]: the documents all of them read and write; [`error`]: what can go wrong,
//!   by kind; [`report`]: how long operations report progress without printing.
//!
//! # Example: the whole pipeline on an in-memory store
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> sitevault::Result<()> {
//! use sitevault::build::{build, BuildOptions};
//! use sitevault::channel::{self, ChangeOptions, Intent};
//! use sitevault::publish::{publish, PublishOptions};
//! use sitevault::store::Store;
//!
//! // Build: a site folder into a fingerprinted output folder.
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::create_dir(dir.path().join("site")).unwrap();
//! std::fs::write(dir.path().join("site/index.html"), "<h1>Hello</h1>").unwrap();
//! let mut opts = BuildOptions::from_config(&sitevault::Config::default());
//! opts.src = dir.path().join("site");
//! opts.out = dir.path().join("dist");
//! opts.cache_dir = None;
//! let built = build(&opts)?;
//! assert_eq!(built.files, 2); // index.html and version.json
//!
//! // Publish: an immutable version in a store (create-only blobs, index last).
//! let store = Store::memory();
//! let published = publish(&store, &opts.out, "v1", &PublishOptions::default()).await?;
//! assert_eq!(published.version, "v1");
//!
//! // Roll out: a channel change is one create-only log record plus the manifest.
//! let change = ChangeOptions { actor: "docs@example".into(), ..Default::default() };
//! channel::change(&store, "production", &Intent::Start { version: "v1".into(), percent: None }, &change).await?;
//! let status = channel::status(&store, "production").await?;
//! assert_eq!(status.state.stable.as_deref(), Some("v1"));
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod build;
pub mod channel;
pub mod clock;
pub mod config;
pub(crate) mod dirstamp;
pub mod edge;
pub mod error;
pub(crate) mod fasthash;
pub mod gate;
pub mod ids;
pub(crate) mod outdir;
pub mod publish;
pub mod regions;
pub mod release;
pub mod report;
pub mod retention;
pub mod schema;
pub mod store;

pub use config::Config;
pub use error::{Error, Result};

/// `sitevault <version>`, recorded in indexes and logs.
pub const TOOL: &str = concat!("sitevault ", env!("CARGO_PKG_VERSION"));
