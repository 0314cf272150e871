//! sitevault: take a static site from source to production and back.
//!
//! The library follows the release pipeline; the `sitevault` binary is a thin
//! command-line layer over it (see `src/cli.rs`). Start reading at
//! `ARCHITECTURE.md`.
//!
//! * [`build`]: `site/` → minified, fingerprinted, content-addressed `dist/`.
//! * [`store`]: one wrapper over `object_store` (file://, memory://, s3://, gs://, az://).
//! * [`publish`]: upload `dist/` as an immutable version, each blob stored once.
//! * [`channel`]: rollout / rollback through a create-only log and a manifest projection.
//! * [`edge`]: the routing rule shared with the JS edge worker.

#![forbid(unsafe_code)]

pub mod build;
pub mod channel;
pub mod clock;
pub mod config;
pub mod edge;
pub mod error;
pub mod ids;
pub mod publish;
pub mod release;
pub mod report;
pub mod retention;
pub mod schema;
pub mod store;

pub use config::Config;
pub use error::{Error, Result};

/// `sitevault <version>`, recorded in indexes and logs.
pub const TOOL: &str = concat!("sitevault ", env!("CARGO_PKG_VERSION"));
