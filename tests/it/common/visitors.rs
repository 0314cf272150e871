//! Simulated visitors for end-to-end tests: threads that GET a path from a running
//! `sitevault serve`, each request as a new random visitor (its own `sv_uid` cookie),
//! counting responses by the `x-sitevault-version` they got and their status.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Responses seen, by (version, status).
pub type Counts = BTreeMap<(String, u16), u64>;

/// Visitors hitting a server until dropped.
pub struct Traffic {
    stop: Arc<AtomicBool>,
    counts: Arc<Mutex<Counts>>,
    threads: Vec<JoinHandle<()>>,
}

impl Traffic {
    /// `threads` visitors, as fast as the server answers.
    pub fn start(addr: SocketAddr, threads: usize, path: &str) -> Traffic {
        Self::start_rate(addr, threads, path, 0)
    }

    /// `threads` visitors, each at most `per_second` requests a second (0: no limit).
    pub fn start_rate(addr: SocketAddr, threads: usize, path: &str, per_second: u32) -> Traffic {
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(Mutex::new(Counts::new()));
        let threads = (0..threads)
            .map(|t| {
                let (stop, counts, path) = (stop.clone(), counts.clone(), path.to_string());
                std::thread::spawn(move || {
                    let gap = (per_second > 0).then(|| Duration::from_secs(1) / per_second);
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let started = Instant::now();
                        n += 1;
                        if let Some(key) = visit(addr, &path, &format!("t{t}-{n}-{}", uuid())) {
                            *counts.lock().unwrap().entry(key).or_default() += 1;
                        }
                        if let Some(g) = gap {
                            std::thread::sleep(g.saturating_sub(started.elapsed()));
                        }
                    }
                })
            })
            .collect();
        Traffic {
            stop,
            counts,
            threads,
        }
    }

    /// Responses so far.
    pub fn counts(&self) -> Counts {
        self.counts.lock().unwrap().clone()
    }

    /// Responses so far, in all.
    pub fn total(&self) -> u64 {
        self.counts().values().sum()
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn uuid() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    h.finish()
}

/// One request as visitor `uid`: `(version, status)`, or `None` when it failed.
fn visit(addr: SocketAddr, path: &str, uid: &str) -> Option<(String, u16)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: test\r\ncookie: sv_uid={uid}\r\nconnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let head = text.split("\r\n\r\n").next()?;
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let version = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("x-sitevault-version")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    Some((version, status))
}
