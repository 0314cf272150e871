//! The edge: the routing rule shared with `edge/worker.js`, and `sitevault serve`, an
//! HTTP server that reads a channel's manifest and serves the routed version's blobs.

pub mod encoding;
pub mod routing;
pub mod serve;
