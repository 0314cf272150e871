//! TLS for every HTTP client sitevault builds: object_store's and the health gate's.
//!
//! reqwest and object_store are built without a bundled crypto provider, and ring is
//! installed as the process default before the first client is built. Their default,
//! aws-lc, is a C build that took over a minute of every clean build on 2 cores. A
//! program that embeds sitevault and installed its own default first keeps it.

use std::sync::{Mutex, Once};
use std::time::Duration;

use object_store::client::{ClientOptions, HttpClient, HttpConnector, ReqwestConnector};

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

/// object_store's HTTP connector for every store sitevault opens: stores opened in
/// one runtime with the same client options share one client. Building a client
/// reads and parses the system's trust store (5–10 ms here), and a rollback across
/// three regions, or an archive (hot and cold store), built one per store. Keyed by
/// runtime as well: a client's pooled connections belong to the runtime that made
/// them. Options whose debug text differs (a map printed in another order) only
/// miss the sharing.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SharedConnector;

impl HttpConnector for SharedConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        static BUILT: Mutex<Vec<(String, HttpClient)>> = Mutex::new(Vec::new());
        install_provider();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return ReqwestConnector::default().connect(options);
        };
        let key = format!("{} {options:?}", runtime.id());
        let mut built = BUILT
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, client)) = built.iter().find(|(k, _)| *k == key) {
            return Ok(client.clone());
        }
        let client = ReqwestConnector::default().connect(options)?;
        // A process that makes runtime after runtime (tests) keeps the last few.
        if built.len() >= 8 {
            built.remove(0);
        }
        built.push((key, client.clone()));
        Ok(client)
    }
}

/// What to do about a server certificate the client refused, when one of `e`'s
/// causes is that refusal (rustls's error, possibly inside an I/O error).
pub(crate) fn certificate_hint(e: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    use rustls::CertificateError as C;
    let mut cause = Some(e);
    while let Some(c) = cause {
        // An I/O error's source() skips the error it wraps (one I/O error may wrap
        // another): look inside each one.
        let mut inner: &(dyn std::error::Error + 'static) = c;
        while let Some(wrapped) = inner
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            inner = wrapped;
        }
        let refused = inner.downcast_ref::<rustls::Error>();
        if let Some(rustls::Error::InvalidCertificate(why)) = refused {
            return Some(match why {
                C::UnknownIssuer => UNTRUSTED,
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    "the server's certificate is not for the host in the endpoint URL: use the name it \
                     was issued for (a bucket with dots in its name needs path-style requests)"
                }
                C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. } => {
                    "the server's certificate is outside its validity period (or this machine's clock is wrong)"
                }
                _ => "the server's TLS certificate was refused",
            });
        }
        cause = c.source();
    }
    None
}

/// `SSL_CERT_FILE` replaces the trust store only where rustls-platform-verifier reads
/// the system's certificate files itself (not on macOS or Windows).
const UNTRUSTED: &str = if cfg!(all(unix, not(target_vendor = "apple"))) {
    "the server's certificate is signed by a CA this machine does not trust: add that CA to the \
     system's trust store, or point SSL_CERT_FILE at a PEM bundle that holds it"
} else {
    "the server's certificate is signed by a CA this machine does not trust: add that CA to the \
     system's trust store"
};

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::CertificateError as C;

    /// A refusal as hyper reports it: an I/O error around an I/O error around rustls's.
    fn nested(why: C) -> std::io::Error {
        let inner = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(why),
        );
        std::io::Error::other(inner)
    }

    #[test]
    fn refusals_inside_io_errors_are_named() {
        let hint = |why| certificate_hint(&nested(why)).unwrap_or("none");
        assert_eq!(hint(C::UnknownIssuer), UNTRUSTED);
        assert!(hint(C::NotValidForName).contains("not for the host"));
        assert!(hint(C::Expired).contains("validity period"));
        assert_eq!(
            hint(C::BadSignature),
            "the server's TLS certificate was refused"
        );
    }

    #[test]
    fn other_errors_get_no_certificate_hint() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(certificate_hint(&refused), None);
        let other = std::io::Error::other(rustls::Error::General("handshake".into()));
        assert_eq!(certificate_hint(&other), None);
    }
}
