//! Channel conformance (filled in with the channel module).
#![allow(dead_code)]

use sitevault::store::Store;

/// Channel tests run on every backend.
pub async fn conformance(_s: &Store) {}
