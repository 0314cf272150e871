//! An S3 store over https: the TLS stack sitevault is built with (rustls with ring)
//! verifies the server against the system's trust store, which `SSL_CERT_FILE`
//! replaces, and refuses a server it cannot verify, saying why.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{self, s3, sv};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl (Debian package openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`<ca>.pem`, `<ca>.key`) made in `dir`.
fn ca(dir: &Path, ca: &str) -> PathBuf {
    let (cert, key, subj) = (
        format!("{ca}.pem"),
        format!("{ca}.key"),
        format!("/CN={ca}"),
    );
    openssl(
        dir,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", &subj,
            "-keyout", &key, "-out", &cert,
        ],
    );
    dir.join(cert)
}

/// A server certificate for 127.0.0.1 signed by the CA `ca`: (cert, key).
fn server_cert(dir: &Path, ca: &str) -> (PathBuf, PathBuf) {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    let (ca_cert, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-days",
            "2",
            "-CA",
            &ca_cert,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    );
    (dir.join("server.pem"), dir.join("server.key"))
}

#[test]
fn publish_and_verify_over_https_trusting_a_private_ca() {
    if s3::moto_bin().is_none() {
        return;
    }
    let t = common::example_site();
    let cert = ca(t.path(), "ca");
    let other = ca(t.path(), "other-ca");
    let (server, key) = server_cert(t.path(), "ca");
    let Some(moto) = s3::Moto::start_tls(&server, &key, &cert) else {
        return;
    };
    assert_eq!(moto.curl_tls(&cert, "PUT", "/tls"), 200, "create bucket");
    std::fs::write(
        t.path().join("store.toml"),
        format!(
            "[store]\nurl = \"s3://tls/site\"\nendpoint = \"{}\"\nregion = \"us-east-1\"\n",
            moto.endpoint
        ),
    )
    .unwrap();
    common::ok(sv(t.path()).args(["build", "site", "-o", "dist", "-q"]));

    // Trusting another CA only: refused, and the message names the cause.
    let out = sv(t.path())
        .args(["publish", "dist", "--version", "v1"])
        .env("SSL_CERT_FILE", &other)
        .env_remove("SSL_CERT_DIR")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "published to an unverified server");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("UnknownIssuer"), "{err}");
    assert!(err.contains("a CA this machine does not trust"), "{err}");

    // Trusted through SSL_CERT_FILE: published, then every blob read back and re-hashed.
    let trusted = |c: &mut Command| {
        c.env("SSL_CERT_FILE", &cert).env_remove("SSL_CERT_DIR");
    };
    let mut publish = sv(t.path());
    publish.args(["publish", "dist", "--version", "v1", "-q"]);
    trusted(&mut publish);
    common::ok(&mut publish);
    let mut verify = sv(t.path());
    verify.args(["verify", "v1"]);
    trusted(&mut verify);
    let out = common::ok(&mut verify);
    assert!(out.contains("v1"), "{out}");
}
