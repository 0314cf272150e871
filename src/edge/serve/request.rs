//! Parsing what a request carries: its path, cookies, query, Range header.

use std::borrow::Cow;

use http::header;

use crate::schema::FileEntry;

/// A request head as the connection read it, borrowed from its buffer: no copy of
/// a header, no map built per request.
pub(crate) struct Head<'a> {
    pub(crate) method: &'a str,
    /// As sent: origin form (`/path?query`), or absolute form (`http://host/path`).
    pub(crate) target: &'a str,
    pub(crate) headers: &'a [httparse::Header<'a>],
}

impl<'a> Head<'a> {
    /// The target's path: the absolute form's scheme and authority left out.
    pub(crate) fn path(&self) -> &'a str {
        let t = self.target;
        let t = match t.starts_with('/') {
            true => t,
            false => match t.find("://") {
                Some(i) => {
                    let rest = &t[i + 3..];
                    match rest.find(['/', '?']) {
                        Some(j) if rest.as_bytes()[j] == b'/' => &rest[j..],
                        _ => "/",
                    }
                }
                None => t,
            },
        };
        t.split_once('?').map_or(t, |(p, _)| p)
    }

    pub(crate) fn query(&self) -> Option<&'a str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// Every value of the header `name` (any case), in order.
    pub(crate) fn all(&self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        let headers = self.headers;
        headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }

    /// The first value of the header `name`.
    pub(crate) fn get(&self, name: &'a str) -> Option<&'a [u8]> {
        self.all(name).next()
    }

    /// The first value of `name` when it is visible ASCII (as `HeaderValue::to_str`
    /// reads it); `Some(Err(()))` when it is there but is not.
    pub(crate) fn text(&self, name: &'a str) -> Option<Result<&'a str, ()>> {
        self.get(name).map(as_text)
    }

    pub(crate) fn contains(&self, name: &'a str) -> bool {
        self.get(name).is_some()
    }
}

/// A header value as text: visible ASCII, spaces and tabs only.
fn as_text(v: &[u8]) -> Result<&str, ()> {
    if v.iter().all(|&b| b == b'\t' || (0x20..0x7f).contains(&b)) {
        std::str::from_utf8(v).map_err(|_| ())
    } else {
        Err(())
    }
}

/// Decodes and checks a request path: `None` for anything that is not a clean site
/// path (traversal, encoded `..`, `//`, NUL, backslash, over-long, bad UTF-8).
pub fn clean_path(raw: &str) -> Option<String> {
    clean(raw).map(Cow::into_owned)
}

/// [`clean_path`] without a copy when the path has no percent-escapes.
pub(super) fn clean(raw: &str) -> Option<Cow<'_, str>> {
    if raw.len() > 2048 || !raw.starts_with('/') {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()?;
    if decoded.len() > 1024 || decoded.contains(['\0', '\\']) || decoded.contains("//") {
        return None;
    }
    if decoded.split('/').any(|s| s == ".." || s == ".") {
        return None;
    }
    Some(decoded)
}

pub(super) fn cookie<'h>(headers: &Head<'h>, name: &str) -> Option<&'h str> {
    for v in headers.all(header::COOKIE.as_str()) {
        let Ok(s) = as_text(v) else { continue };
        for part in s.split(';') {
            if let Some((k, v)) = part.trim().split_once('=') {
                if k == name && !v.is_empty() && v.len() <= 128 {
                    return Some(v);
                }
            }
        }
    }
    None
}

pub(super) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

pub(super) fn is_fingerprinted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split('.').any(|seg| {
        seg.len() >= 10
            && seg
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

pub(super) fn lookup<'i>(
    idx: &'i super::cache::Files,
    path: &str,
) -> Option<(&'i String, &'i FileEntry)> {
    let files = &idx.0;
    // In order: the path itself, its folder's index.html, then path.html.
    if path.ends_with('/') {
        return files.get_key_value(&format!("{path}index.html"));
    }
    files
        .get_key_value(path)
        .or_else(|| files.get_key_value(&format!("{path}/index.html")))
        .or_else(|| files.get_key_value(&format!("{path}.html")))
}

pub(super) fn parse_range(h: &Head<'_>, size: u64) -> Option<Result<(u64, u64), ()>> {
    let v = h.text(header::RANGE.as_str())?.ok()?;
    let spec = v.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None; // multiple ranges: serve the whole file
    }
    let (a, b) = spec.split_once('-')?;
    let r = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            if n == 0 {
                return Some(Err(()));
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        (a, "") => (a.parse().ok()?, size.saturating_sub(1)),
        (a, b) => {
            let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
            if a > b {
                return None; // an invalid range is ignored (RFC 9110 14.2)
            }
            (a, b.min(size.saturating_sub(1)))
        }
    };
    if r.0 > r.1 || r.0 >= size {
        return Some(Err(()));
    }
    Some(Ok(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn with<T>(headers: &[(&str, &str)], f: impl FnOnce(&Head<'_>) -> T) -> T {
        let hs: Vec<httparse::Header<'_>> = headers
            .iter()
            .map(|(name, value)| httparse::Header {
                name,
                value: value.as_bytes(),
            })
            .collect();
        f(&Head {
            method: "GET",
            target: "/",
            headers: &hs,
        })
    }

    fn range_of(v: &str, size: u64) -> Option<Result<(u64, u64), ()>> {
        with(&[("Range", v)], |h| parse_range(h, size))
    }

    proptest! {
        #[test]
        fn any_path_is_clean_or_refused(raw in "(/|%2[eEfF]|%00|%5[cC]|\\\\|\\.|[a-z]|%[0-9a-fA-F]{2}|%){0,40}") {
            if let Some(p) = clean_path(&raw) {
                prop_assert!(p.starts_with('/'));
                prop_assert!(!p.contains('\0') && !p.contains('\\') && !p.contains("//"));
                prop_assert!(!p.split('/').any(|s| s == ".." || s == "."));
            }
        }

        #[test]
        fn any_bytes_as_path_never_panic(raw in any::<String>()) {
            let _ = clean_path(&raw);
            let _ = clean_path(&format!("/{raw}"));
            let _ = is_fingerprinted(&raw);
        }

        #[test]
        fn any_range_is_inside_the_file_or_refused(
            spec in "(bytes=)?[0-9 ]{0,25}-?[0-9 ]{0,25}(,[0-9]{0,5}-[0-9]{0,5})?",
            size in 0u64..10_000,
        ) {
            if let Some(Ok((a, b))) = range_of(&spec, size) {
                prop_assert!(a <= b && b < size, "{spec} {size} -> {a}-{b}");
            }
        }

        #[test]
        fn any_cookie_header_never_panics(v in "[ -~]{0,300}", name in "[a-z_]{1,8}") {
            let c = with(&[("cookie", &v)], |h| cookie(h, &name).map(str::to_string));
            if let Some(c) = c {
                prop_assert!(!c.is_empty() && c.len() <= 128 && !c.contains(';'));
            }
        }

        #[test]
        fn any_query_never_panics(q in any::<String>()) {
            let _ = query_param(Some(&q), "sv-version");
        }
    }

    #[test]
    fn paths() {
        assert_eq!(clean_path("/a/b%20c.html").as_deref(), Some("/a/b c.html"));
        for bad in [
            "/../etc/passwd",
            "/a/%2e%2e/b",
            "//x",
            "/a%00",
            "/a\\b",
            "x",
            "/%ff",
        ] {
            assert!(clean_path(bad).is_none(), "{bad}");
        }
        assert!(clean_path(&format!("/{}", "a".repeat(3000))).is_none());
    }

    #[test]
    fn heads_read_their_target_and_headers() {
        let hs = [
            httparse::Header {
                name: "Cookie",
                value: b"a=1",
            },
            httparse::Header {
                name: "X-Bin",
                value: b"\xff",
            },
            httparse::Header {
                name: "cookie",
                value: b"b=2",
            },
        ];
        let head = |target| Head {
            method: "GET",
            target,
            headers: &hs,
        };
        for (target, path, query) in [
            ("/a/b?x=1", "/a/b", Some("x=1")),
            ("/", "/", None),
            ("http://h:8/a?q", "/a", Some("q")),
            ("http://h", "/", None),
            ("http://h?q", "/", Some("q")),
            ("*", "*", None),
        ] {
            assert_eq!(head(target).path(), path, "{target}");
            assert_eq!(head(target).query(), query, "{target}");
        }
        let h = head("/");
        assert_eq!(h.all("COOKIE").collect::<Vec<_>>(), [&b"a=1"[..], b"b=2"]);
        assert_eq!(h.text("x-bin"), Some(Err(())));
        assert_eq!(h.text("cookie"), Some(Ok("a=1")));
        assert!(h.contains("x-BIN") && !h.contains("range"));
    }

    #[test]
    fn fingerprints() {
        assert!(is_fingerprinted("/js/app.3f9a1c2b7e.js"));
        assert!(!is_fingerprinted("/index.html"));
        assert!(!is_fingerprinted("/js/app.js"));
    }

    #[test]
    fn ranges() {
        assert_eq!(range_of("bytes=0-9", 100), Some(Ok((0, 9))));
        assert_eq!(range_of("bytes=-10", 100), Some(Ok((90, 99))));
        assert_eq!(range_of("bytes=200-", 100), Some(Err(())));
        assert_eq!(range_of("bytes=-0", 100), Some(Err(())));
        assert_eq!(range_of("bytes=9-3", 100), None);
        assert_eq!(range_of("bytes=0-1,5-9", 100), None);
        assert_eq!(range_of("bytes=0-", 0), Some(Err(())));
        assert_eq!(range_of("bytes=99999999999999999999999-", 100), None);
    }
}
