use super::*;

#[test]
fn round_trip_and_compaction() {
    let d = tempfile::tempdir().unwrap();
    let p = Processed {
        prefix: "x".into(),
        body: bytes::Bytes::from_static(b"hello"),
        ..Default::default()
    };
    for round in 0..6 {
        let c = Cache::new(Some(d.path().to_path_buf()));
        if round > 0 {
            assert_eq!(&c.get("k0").unwrap().body[..], b"hello");
        }
        c.put(&format!("k{round}"), &p);
        c.flush();
    }
    let segs = std::fs::read_dir(d.path()).unwrap().count();
    assert!(segs <= MAX_SEGMENTS, "{segs} segments");
    // A damaged segment only costs misses.
    for e in std::fs::read_dir(d.path()).unwrap() {
        std::fs::write(e.unwrap().path(), b"\x05\x00\x00\x00ab").unwrap();
    }
    assert!(Cache::new(Some(d.path().to_path_buf())).get("k0").is_none());
}

/// A body changed on disk (same length) is a miss, never output; the entries
/// after it in the segment are still read (hunt, #13).
#[test]
fn an_entry_changed_on_disk_is_a_miss() {
    let d = tempfile::tempdir().unwrap();
    let c = Cache::new(Some(d.path().to_path_buf()));
    for (k, body) in [("a", "<p>hi"), ("b", "<p>yo")] {
        let p = Processed {
            body: bytes::Bytes::from(body),
            ..Default::default()
        };
        c.put(k, &p);
    }
    c.flush();
    let seg = std::fs::read_dir(d.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let data = std::fs::read(&seg).unwrap();
    let at = data.windows(5).position(|w| w == b"<p>hi").unwrap();
    let mut edited = data.clone();
    edited[at + 3..at + 5].copy_from_slice(b"HI");
    std::fs::write(&seg, edited).unwrap();
    let c = Cache::new(Some(d.path().to_path_buf()));
    assert!(c.get("a").is_none(), "an edited entry was served");
    assert_eq!(&c.get("b").unwrap().body[..], b"<p>yo");
}

fn entry(body: &'static str) -> Processed {
    Processed {
        body: bytes::Bytes::from(body),
        ..Default::default()
    }
}

fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

/// Entries written ahead and those made after are one segment, and each reads back.
#[test]
fn entries_written_ahead_and_after_are_one_segment() {
    let d = tempfile::tempdir().unwrap();
    let c = Cache::new(Some(d.path().to_path_buf()));
    c.put("a", &entry("<p>a"));
    c.put("b", &entry("<p>b"));
    c.write_ahead(0);
    c.put("c", &entry("<p>c"));
    c.write_ahead(0);
    c.put("d", &entry("<p>d"));
    c.flush();
    let names = names_in(d.path());
    assert!(
        names.len() == 1 && names[0].starts_with("seg-") && names[0].ends_with(".bin"),
        "{names:?}"
    );
    let c = Cache::new(Some(d.path().to_path_buf()));
    for k in ["a", "b", "c", "d"] {
        assert_eq!(c.get(k).unwrap().body, format!("<p>{k}").as_bytes(), "{k}");
    }
}

/// A build that fails after the cache started writing leaves no part of a segment.
#[test]
fn a_segment_never_flushed_is_removed() {
    let d = tempfile::tempdir().unwrap();
    let c = Cache::new(Some(d.path().to_path_buf()));
    c.put("a", &entry("<p>a"));
    c.write_ahead(0);
    assert!(c.ahead.lock().unwrap().is_some(), "not started");
    drop(c);
    assert_eq!(names_in(d.path()), Vec::<String>::new());
    assert!(Cache::new(Some(d.path().to_path_buf())).get("a").is_none());
}

/// Without room on the disk for the output and the segment, the segment waits for
/// the end of the build (the output is written first), and keeps every entry.
#[test]
fn without_room_the_segment_waits_for_the_output() {
    let d = tempfile::tempdir().unwrap();
    let c = Cache::new(Some(d.path().join("cache")));
    c.put("a", &entry("<p>a"));
    c.write_ahead(u64::MAX / 4);
    assert!(c.ahead.lock().unwrap().is_none(), "started without room");
    assert!(!d.path().join("cache").exists());
    c.flush();
    let c = Cache::new(Some(d.path().join("cache")));
    assert_eq!(c.get("a").unwrap().body, &b"<p>a"[..]);
}

/// A segment left by a killed build is removed once an hour old; one being written
/// now is left to its build.
#[test]
fn segments_left_by_killed_builds_are_removed() {
    let d = tempfile::tempdir().unwrap();
    let old = d.path().join("seg-1-1.bin.tmp");
    let new = d.path().join("seg-2-2.bin.tmp");
    for p in [&old, &new] {
        std::fs::write(p, b"x").unwrap();
    }
    let two_hours = std::time::Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - two_hours)
        .unwrap();
    drop(Cache::new(Some(d.path().to_path_buf())));
    assert_eq!(names_in(d.path()), ["seg-2-2.bin.tmp"]);
}
