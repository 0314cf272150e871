//! A real S3-compatible server for tests: moto, started by `.ci/run` (shared, via
//! `SITEVAULT_TEST_S3_ENDPOINT`) or by a test itself (`SITEVAULT_TEST_MOTO_SERVER`).
//! Without either, S3 tests print why they are skipped — unless
//! `SITEVAULT_TEST_REQUIRE_S3=1` (set by `.ci/run`), which makes that a failure.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn required() -> bool {
    std::env::var("SITEVAULT_TEST_REQUIRE_S3")
        .map(|v| v == "1")
        .unwrap_or(false)
}

fn skip(why: &str) {
    if required() {
        panic!("S3 tests are required (SITEVAULT_TEST_REQUIRE_S3=1) but {why}");
    }
    eprintln!("skipped S3 part: {why} (set SITEVAULT_TEST_S3_ENDPOINT or run .ci/run)");
}

/// Credentials moto accepts; set in this process and passed to child processes.
pub fn set_aws_env() {
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_REGION", "us-east-1");
    std::env::remove_var("AWS_ENDPOINT");
    std::env::remove_var("AWS_SESSION_TOKEN");
}

/// The shared server's endpoint, or None (skipped, with the reason printed).
pub fn endpoint() -> Option<String> {
    match std::env::var("SITEVAULT_TEST_S3_ENDPOINT") {
        Ok(e) if !e.is_empty() => {
            set_aws_env();
            Some(e)
        }
        _ => {
            skip("no S3 server is configured");
            None
        }
    }
}

fn http(endpoint: &str, method: &str, path: &str) -> std::io::Result<u16> {
    let addr = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf)?;
    let head = String::from_utf8_lossy(&buf[..n]);
    Ok(head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0))
}

/// Creates a fresh bucket with a unique name and returns it.
pub fn bucket(endpoint: &str, tag: &str) -> String {
    let name = format!(
        "sv-{}-{}",
        tag.to_ascii_lowercase().replace('_', "-"),
        &uuid_like()[..12]
    );
    let code = http(endpoint, "PUT", &format!("/{name}")).expect("create bucket");
    assert!(code == 200, "creating bucket {name}: HTTP {code}");
    name
}

fn uuid_like() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let h = blake3::hash(
        format!(
            "{t}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        )
        .as_bytes(),
    );
    h.to_hex().to_string()
}

/// The moto_server binary tests may start (None, with the reason printed, when unset).
pub fn moto_bin() -> Option<PathBuf> {
    match std::env::var("SITEVAULT_TEST_MOTO_SERVER") {
        Ok(b) if !b.is_empty() => Some(PathBuf::from(b)),
        _ => {
            skip("no moto_server binary is configured (SITEVAULT_TEST_MOTO_SERVER)");
            None
        }
    }
}

/// A moto server this test owns; killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    port: u16,
}

impl Moto {
    /// Starts moto on a free port (None, with the reason printed, when unavailable).
    pub fn start() -> Option<Moto> {
        let bin = moto_bin()?;
        set_aws_env();
        Self::start_on(&bin, super::free_port())
    }

    fn start_on(bin: &PathBuf, port: u16) -> Option<Moto> {
        Moto::spawn(bin, port, &[]).ready(|m| {
            http(&m.endpoint, "GET", "/moto-api/")
                .map(|c| c == 200)
                .unwrap_or(false)
        })
    }

    /// Starts moto serving https with `cert`/`key` (PEM), on a free port; `endpoint`
    /// is `https://127.0.0.1:PORT`. Ready once `curl --cacert ca` gets an answer.
    pub fn start_tls(
        cert: &std::path::Path,
        key: &std::path::Path,
        ca: &std::path::Path,
    ) -> Option<Moto> {
        let bin = moto_bin()?;
        set_aws_env();
        Moto::spawn(&bin, super::free_port(), &[cert, key])
            .ready(|m| m.curl_tls(ca, "GET", "/moto-api/") == 200)
    }

    /// moto_server on `port`; with `[cert, key]`, over https.
    fn spawn(bin: &PathBuf, port: u16, tls: &[&std::path::Path]) -> Moto {
        let mut c = Command::new(bin);
        c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        if let [cert, key] = tls {
            c.arg("-c").arg(cert).arg("-k").arg(key);
        }
        let child = c
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let scheme = if tls.is_empty() { "http" } else { "https" };
        Moto {
            child,
            endpoint: format!("{scheme}://127.0.0.1:{port}"),
            port,
        }
    }

    /// This server once `answers` says so (within 30 s; a panic otherwise).
    fn ready(self, answers: impl Fn(&Moto) -> bool) -> Option<Moto> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if answers(&self) {
                return Some(self);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto did not become ready on {}", self.endpoint);
    }

    /// An https request to this server with curl trusting `ca`: the HTTP status.
    pub fn curl_tls(&self, ca: &std::path::Path, method: &str, path: &str) -> u16 {
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method])
            .arg("--cacert")
            .arg(ca)
            .arg(format!("{}{path}", self.endpoint))
            .output()
            .expect("run curl");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0)
    }

    fn resume_quietly(&self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
    }

    /// Stops the server (the port stays reserved for [`Moto::restart`]).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Freezes the server (SIGSTOP): it still accepts connections but never answers,
    /// as a region does that is down behind a load balancer. Its data is kept.
    pub fn pause(&self) {
        signal(self.child.id(), "-STOP");
    }

    /// Lets a paused server answer again (SIGCONT).
    pub fn resume(&self) {
        signal(self.child.id(), "-CONT");
    }

    /// Starts it again on the same port (moto keeps no data across restarts).
    pub fn restart(&mut self) {
        let bin = PathBuf::from(std::env::var("SITEVAULT_TEST_MOTO_SERVER").unwrap());
        *self = Self::start_on(&bin, self.port).unwrap();
    }
}

fn signal(pid: u32, sig: &str) {
    let st = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(st.success(), "kill {sig} {pid}");
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.resume_quietly();
        self.stop();
    }
}

/// A store.toml pointing at `bucket` on `endpoint`.
pub fn store_toml(endpoint: &str, bucket: &str, extra: &str) -> String {
    format!(
        "[store]\nurl = \"s3://{bucket}/site\"\nendpoint = \"{endpoint}\"\nregion = \"us-east-1\"\nallow_http = true\n{extra}"
    )
}
