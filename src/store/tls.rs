//! TLS for every HTTP client sitevault builds: object_store's and the health gate's.
//!
//! reqwest and object_store are built without a bundled crypto provider, and ring is
//! installed as the process default before the first client is built. Their default,
//! aws-lc, is a C build that took over a minute of every clean build on 2 cores. A
//! program that embeds sitevault and installed its own default first keeps it.

use std::sync::Once;
use std::time::Duration;

/// Installs ring as the process's rustls provider, once, unless one is installed.
pub(crate) fn install_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // An error means a default is already installed: that one stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// An HTTP client whose every request gives up after `timeout`.
pub(crate) fn http_client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    install_provider();
    reqwest::Client::builder().timeout(timeout).build()
}
