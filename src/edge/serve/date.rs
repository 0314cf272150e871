//! The `date` header of every response (RFC 9110 6.6.1), formatted once a second
//! per thread rather than once per response.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    /// The second it was formatted for, and the header line.
    static LINE: RefCell<(u64, Vec<u8>)> = const { RefCell::new((u64::MAX, Vec::new())) };
}

/// Appends `date: <IMF-fixdate>\r\n` to `out`.
pub(super) fn append(out: &mut Vec<u8>) {
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    LINE.with(|line| {
        let mut line = line.borrow_mut();
        if line.0 != secs {
            line.1.clear();
            line.1.extend_from_slice(b"date: ");
            line.1
                .extend_from_slice(httpdate::fmt_http_date(now).as_bytes());
            line.1.extend_from_slice(b"\r\n");
            line.0 = secs;
        }
        out.extend_from_slice(&line.1);
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_date_line_is_an_imf_fixdate() {
        let mut out = Vec::new();
        super::append(&mut out);
        let s = String::from_utf8(out).unwrap();
        let v = s
            .strip_prefix("date: ")
            .unwrap()
            .strip_suffix("\r\n")
            .unwrap();
        assert!(httpdate::parse_http_date(v).is_ok(), "{v}");
        assert!(v.ends_with(" GMT") && v.len() == 29, "{v}");
    }
}
