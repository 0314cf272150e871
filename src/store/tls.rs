//! TLS for every HTTP client sitevault builds: object_store's and the health gate's.
//!
//! reqwest and object_store are built without a bundled crypto provider, and ring is
//! installed as the process default before the first client is built. Their default,
//! aws-lc, is a C build that took over a minute of every clean build on 2 cores. A
//! program that embeds sitevault and installed its own default first keeps it.

use std::sync::{Mutex, Once};
use std::time::Duration;

use std::future::Future;

use futures::future::{BoxFuture, FutureExt, Shared};
use object_store::client::{
    ClientOptions, HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpResponse,
    HttpService, ReqwestConnector,
};

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
/// reads and parses the system's trust store (5–10 ms of CPU here, on every command),
/// and a rollback across three regions, or an archive (hot and cold store), built one
/// per store. Keyed by runtime as well: a client's pooled connections belong to the
/// runtime that made them. Options whose debug text differs (a map printed in another
/// order) only miss the sharing.
///
/// The client that verifies certificates is built on a thread of its own
/// ([`Pending`]): a command goes on reading its inputs meanwhile, and only its first
/// request waits. A store reached over plain HTTP (`plain_http`: an S3 endpoint such
/// as `http://127.0.0.1:9000`) sends its `http://` requests through a client without
/// the trust store, built in under a millisecond, and builds the other only if a
/// request goes to an `https://` URL (credentials from STS…). With a proxy set in the
/// environment every request takes the verifying client (the proxy may be reached
/// over TLS).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SharedConnector {
    /// The store's endpoint is `http://`.
    pub(crate) plain_http: bool,
}

impl HttpConnector for SharedConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        static BUILT: Mutex<Vec<(String, HttpClient)>> = Mutex::new(Vec::new());
        install_provider();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return ReqwestConnector::default().connect(options);
        };
        let plain = self.plain_http && !proxied(options);
        let key = format!("{} {plain} {options:?}", runtime.id());
        let mut built = BUILT
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, client)) = built.iter().find(|(k, _)| *k == key) {
            return Ok(client.clone());
        }
        let client = if plain {
            let without = options.clone().with_no_system_certificates(true);
            HttpClient::new(Routed {
                plain: ReqwestConnector::default().connect(&without)?,
                verifying: Pending::on_demand(options),
            })
        } else {
            HttpClient::new(Pending::start(options))
        };
        // A process that makes runtime after runtime (tests) keeps the last few.
        if built.len() >= 8 {
            built.remove(0);
        }
        built.push((key, client.clone()));
        Ok(client)
    }
}

/// Whether requests may go through a proxy: one in the options, or one reqwest takes
/// from the environment.
fn proxied(options: &ClientOptions) -> bool {
    const VARS: [&str; 6] = [
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
    ];
    options
        .get_config_value(&object_store::ClientConfigKey::ProxyUrl)
        .is_some()
        || VARS
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

/// What [`HttpService::call`] returns (the trait is written with `async_trait`).
type Call<'b> =
    std::pin::Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'b>>;

/// The client a request needs: `http://` URLs through `plain`, the others through
/// `verifying`.
#[derive(Debug)]
struct Routed {
    plain: HttpClient,
    verifying: Pending,
}

impl HttpService for Routed {
    fn call<'a, 'b>(&'a self, req: HttpRequest) -> Call<'b>
    where
        'a: 'b,
    {
        if req.uri().scheme_str() == Some("http") {
            Box::pin(self.plain.execute(req))
        } else {
            self.verifying.call(req)
        }
    }
}

/// A client with the system's trust store, being built (or built when a request first
/// needs it); every request waits for it. A build that fails (a proxy URL that does
/// not parse…) fails each request, unretried.
struct Pending(Shared<BoxFuture<'static, Result<HttpClient, String>>>);

impl Pending {
    /// Starts building the client for `options` on a thread of its own.
    fn start(options: &ClientOptions) -> Pending {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let owned = options.clone();
        let spawned = std::thread::Builder::new()
            .name("sitevault-http-client".into())
            .spawn(move || {
                let _ = tx.send(build(&owned));
            });
        if spawned.is_err() {
            return Pending::on_demand(options);
        }
        let ready = rx.map(|r| r.unwrap_or_else(|_| Err("the HTTP client's build stopped".into())));
        Pending(ready.boxed().shared())
    }

    /// Builds the client for `options` when a request first needs it.
    fn on_demand(options: &ClientOptions) -> Pending {
        let owned = options.clone();
        let ready = async move {
            tokio::task::spawn_blocking(move || build(&owned))
                .await
                .unwrap_or_else(|e| Err(format!("building the HTTP client: {e}")))
        };
        Pending(ready.boxed().shared())
    }
}

/// object_store's own client for `options`.
fn build(options: &ClientOptions) -> Result<HttpClient, String> {
    install_provider();
    ReqwestConnector::default()
        .connect(options)
        .map_err(|e| e.to_string())
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending")
    }
}

impl HttpService for Pending {
    fn call<'a, 'b>(&'a self, req: HttpRequest) -> Call<'b>
    where
        'a: 'b,
    {
        let ready = self.0.clone();
        Box::pin(async move {
            let client = ready
                .await
                .map_err(|e| HttpError::new(HttpErrorKind::Unknown, std::io::Error::other(e)))?;
            client.execute(req).await
        })
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

    #[tokio::test]
    async fn a_client_that_cannot_be_built_fails_its_requests_unretried() {
        let bad = ClientOptions::new().with_proxy_url("http://[not a host");
        let client = SharedConnector::default().connect(&bad).unwrap();
        let mut req = HttpRequest::new(object_store::client::HttpRequestBody::empty());
        *req.uri_mut() = "http://127.0.0.1:9/".parse().unwrap();
        let e = client.execute(req).await.unwrap_err();
        assert_eq!(e.kind(), HttpErrorKind::Unknown);
        let why = std::error::Error::source(&e)
            .map(|s| s.to_string())
            .unwrap_or_default();
        assert!(why.contains("proxy") || why.contains("builder"), "{why}");
    }

    /// A request to `url` through `client` (nothing listens on port 9).
    async fn request(client: &dyn HttpService, url: &str) -> HttpError {
        let mut req = HttpRequest::new(object_store::client::HttpRequestBody::empty());
        *req.uri_mut() = url.parse().unwrap();
        client.call(req).await.unwrap_err()
    }

    #[tokio::test]
    async fn plain_http_requests_never_wait_for_the_verifying_client() {
        // A verifying client that cannot be built: only https requests meet it.
        let http = ClientOptions::new().with_allow_http(true);
        let routed = Routed {
            plain: build(&http.clone().with_no_system_certificates(true)).unwrap(),
            verifying: Pending::on_demand(&ClientOptions::new().with_proxy_url("http://[bad")),
        };
        let e = request(&routed, "http://127.0.0.1:9/").await;
        assert_eq!(e.kind(), HttpErrorKind::Connect, "{e:?}");
        assert_eq!(
            request(&routed, "https://127.0.0.1:9/").await.kind(),
            HttpErrorKind::Unknown
        );
    }
}
