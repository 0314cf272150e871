//! Every integration test in one binary: each file below is a module (by the part of
//! the pipeline it drives), `common` holds the helpers they share (the CLI, moto,
//! workerd, Prometheus, an HTTP client), `channel_suite` the channel tests that
//! `conformance` runs against every backend.
//!
//! Why one binary: each test binary links the whole dependency stack (swc,
//! lightningcss, object_store…), so twenty-one of them cost minutes of CI linking,
//! and their tests could not overlap. Run one file's tests with
//! `cargo test --test it publish::` (or any part of a test's name).

mod channel_suite;
mod common;

mod build;
mod build_js_node;
mod build_nesting;
mod build_outdir;
mod build_props;
mod build_refs;
mod build_svg;
mod channel_hardening;
mod channel_kill;
mod channel_props;
mod channels;
mod cli_args;
mod cli_output;
mod cli_release;
mod conformance;
mod edge;
mod edge_edits;
mod edge_hardening;
mod edge_http;
mod gate;
mod parsers;
mod publish;
mod regions;
mod retention;
mod serve_fault;
mod store_edits;
mod tls;
