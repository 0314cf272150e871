//! serve's own HTTP/1.1 layer (`edge/serve/conn.rs`) on raw sockets: which
//! connections stay open, what is refused, what a HEAD and the absolute form get,
//! and what happens to open connections when the server stops.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::server;
use common::*;

fn site() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("site")).unwrap();
    std::fs::write(
        t.path().join("site/index.html"),
        "<!doctype html><title>home</title><p>hello",
    )
    .unwrap();
    std::fs::write(
        t.path().join("site/about.html"),
        "<!doctype html><title>about</title><p>about us, at some length",
    )
    .unwrap();
    build_and_publish(t.path(), "v1", Some("production"));
    t
}

fn connect(addr: &std::net::SocketAddr) -> TcpStream {
    let c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c
}

/// Reads one response (head and `content-length` bytes of body, none for a HEAD or
/// a 304): `(status, head text, body)`; `None` when the connection closed first.
fn read_response(c: &mut TcpStream, head_request: bool) -> Option<(u16, String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match c.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8(buf).unwrap();
    let status: u16 = head[9..12].parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![
        0u8;
        if head_request || status == 304 {
            0
        } else {
            len
        }
    ];
    c.read_exact(&mut body).ok()?;
    Some((status, head.to_ascii_lowercase(), body))
}

/// Whether the server closed `c` within 5 s: the read ends or the connection is
/// reset (a read that times out is no close).
fn closed(c: &mut TcpStream) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionReset};
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut b = [0u8; 64];
    match c.read(&mut b) {
        Ok(0) => true,
        Err(e) => matches!(e.kind(), ConnectionReset | ConnectionAborted),
        Ok(_) => false,
    }
}

#[test]
fn keep_alive_follows_the_version_and_the_connection_header() {
    let t = site();
    let s = server::start(t.path(), |o| o.header_timeout = Duration::from_secs(1));
    // HTTP/1.1 stays open across requests.
    let mut c = connect(&s.addr);
    for _ in 0..3 {
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nCookie: sv_uid=a\r\n\r\n")
            .unwrap();
        let (status, head, body) = read_response(&mut c, false).unwrap();
        assert_eq!(status, 200);
        assert!(!head.contains("connection: close"), "{head}");
        assert!(head.contains("\r\ndate: "), "{head}");
        assert!(String::from_utf8_lossy(&body).contains("hello"));
    }
    // `Connection: close` is honoured and said back.
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close\r\n\r\n")
        .unwrap();
    let (status, head, _) = read_response(&mut c, false).unwrap();
    assert_eq!(status, 200);
    assert!(head.contains("connection: close"), "{head}");
    assert!(closed(&mut c));
    // HTTP/1.0 closes unless it asks for keep-alive.
    let mut c = connect(&s.addr);
    c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let (status, _, _) = read_response(&mut c, false).unwrap();
    assert_eq!(status, 200);
    assert!(closed(&mut c));
    let mut c = connect(&s.addr);
    for _ in 0..2 {
        c.write_all(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .unwrap();
        let (status, head, _) = read_response(&mut c, false).unwrap();
        assert_eq!(status, 200);
        // Said back: an HTTP/1.0 client assumes a close otherwise.
        assert!(head.contains("connection: keep-alive"), "{head}");
    }
    // An HTTP/1.1 connection left idle is closed after the header timeout (1 s
    // here), as hyper did, not only after the idle timeout (60 s).
    let mut c = connect(&s.addr);
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut c, false).unwrap().0, 200);
    assert!(closed(&mut c), "an idle keep-alive connection stayed open");
}

#[test]
fn a_request_body_is_never_read_as_the_next_request() {
    let t = site();
    let s = server::start(t.path(), |_| {});
    // A body smuggling a second request: answered once, then the connection closes.
    for framing in ["Content-Length: 40\r\n", "Transfer-Encoding: chunked\r\n"] {
        let mut c = connect(&s.addr);
        let smuggled = "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
        let body = if framing.starts_with("Transfer") {
            format!("{:x}\r\n{smuggled}\r\n0\r\n\r\n", smuggled.len())
        } else {
            format!("{smuggled:<40}")
        };
        write!(c, "POST / HTTP/1.1\r\nHost: x\r\n{framing}\r\n{body}").unwrap();
        let (status, head, _) = read_response(&mut c, false).unwrap();
        assert_eq!(status, 405, "{framing}");
        assert!(head.contains("connection: close"), "{head}");
        assert!(closed(&mut c), "{framing}: the connection stayed open");
    }
    // Both framings, or two lengths that disagree: 400, closed.
    for bad in [
        "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
        "Content-Length: 3\r\nContent-Length: 4\r\n",
        "Content-Length: -1\r\n",
        "Content-Length: +3\r\n",
    ] {
        let mut c = connect(&s.addr);
        write!(c, "GET / HTTP/1.1\r\nHost: x\r\n{bad}\r\nabc").unwrap();
        let (status, _, _) = read_response(&mut c, false).unwrap();
        assert_eq!(status, 400, "{bad}");
        assert!(closed(&mut c), "{bad}");
    }
    // A zero length is no body: the connection stays open.
    let mut c = connect(&s.addr);
    for _ in 0..2 {
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        assert_eq!(read_response(&mut c, false).unwrap().0, 200);
    }
}

#[test]
fn garbage_heads_and_the_absolute_form() {
    let t = site();
    let s = server::start(t.path(), |_| {});
    for junk in [
        &b"\x00\x01\x02 / HTTP/1.1\r\n\r\n"[..],
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        // Raw bytes outside ASCII in the target (browsers percent-encode them).
        "GET /caf\u{e9} HTTP/1.1\r\n\r\n".as_bytes(),
    ] {
        let mut c = connect(&s.addr);
        c.write_all(junk).unwrap();
        let (status, _, _) = read_response(&mut c, false).unwrap();
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(junk));
        assert!(closed(&mut c));
    }
    let many: String = (0..150).map(|i| format!("X-{i}: y\r\n")).collect();
    let mut c = connect(&s.addr);
    write!(c, "GET / HTTP/1.1\r\n{many}\r\n").unwrap();
    assert_eq!(read_response(&mut c, false).unwrap().0, 431);
    // The absolute form names the same file; a HEAD gets the GET's length, no body,
    // and the connection carries on.
    let mut c = connect(&s.addr);
    c.write_all(b"HEAD http://example.com/about.html?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
        .unwrap();
    let (status, head, _) = read_response(&mut c, true).unwrap();
    assert_eq!(status, 200);
    c.write_all(b"GET http://example.com/about.html HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (status, _, body) = read_response(&mut c, false).unwrap();
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("about us"));
    assert!(
        head.contains(&format!("content-length: {}\r\n", body.len())),
        "{head}"
    );
    // A 404's HEAD: its length, no body.
    c.write_all(b"HEAD /missing HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (status, head, _) = read_response(&mut c, true).unwrap();
    assert_eq!(status, 404);
    assert!(head.contains("content-length: "), "{head}");
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut c, false).unwrap().0, 200);
}

#[test]
fn a_stopping_server_closes_idle_connections_and_finishes_answers() {
    let t = site();
    let s = server::start(t.path(), |o| o.header_timeout = Duration::from_secs(5));
    let addr = s.addr;
    let mut idle = connect(&addr);
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut idle, false).unwrap().0, 200);
    // Half a request head: the server waits for the rest (up to the header timeout).
    let mut half = connect(&addr);
    half.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let stopper = std::thread::spawn(move || drop(s));
    // The idle keep-alive connection is closed at once, not after the idle timeout.
    assert!(closed(&mut idle), "an idle connection stayed open");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The request being read still gets its answer, with `connection: close`.
    half.write_all(b"\r\n").unwrap();
    let (status, head, _) = read_response(&mut half, false).expect("the open request was cut");
    assert_eq!(status, 200);
    assert!(head.contains("connection: close"), "{head}");
    stopper.join().unwrap();
    assert!(
        TcpStream::connect(addr).is_err(),
        "still accepting after the stop"
    );
}
