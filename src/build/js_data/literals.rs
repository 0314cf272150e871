//! The literals of a data script: strings (their escapes checked, written in the
//! quotes that need fewer escapes) and numbers (in a shorter form of the same value).

use super::{is_ident_part, Bail, Kind, P, R};

impl<'a> P<'a> {
    /// A string literal as written, quotes included, after checking its escapes.
    pub(super) fn string(&mut self) -> R<&'a str> {
        let s: &'a [u8] = self.s;
        let start = self.i;
        let q = s[start];
        let mut j = start + 1;
        loop {
            let k = j + memchr::memchr3(q, b'\\', b'\n', &s[j..]).ok_or(Bail)?;
            // A raw CR ends the line too.
            if s[j..k].contains(&b'\r') {
                return Err(Bail);
            }
            match s[k] {
                b'\\' => j = k + 1 + escape(&s[k + 1..])?,
                b'\n' => return Err(Bail),
                _ => {
                    j = k + 1;
                    break;
                }
            }
        }
        self.i = j;
        let raw = std::str::from_utf8(&s[start..j]).map_err(|_| Bail)?;
        // What would end or open a `<script>` element is swc's to escape.
        if raw.contains("<!--") || raw.contains("-->") || has_script_end(raw.as_bytes()) {
            return Err(Bail);
        }
        Ok(raw)
    }

    /// A string literal (checked by [`P::string`]) in the quotes that need fewer
    /// escapes, and with `\uXXXX` and `\xXX` escapes of printable non-ASCII characters
    /// written as the characters (`"\u00e9"` → `"é"`).
    pub(super) fn push_string(&mut self, raw: &str) {
        let b = raw.as_bytes();
        if memchr::memchr(b'\\', b).is_none() {
            self.out.push_str(raw);
            return;
        }
        let q = b[0];
        let other = if q == b'"' { b'\'' } else { b'"' };
        let body = &raw[1..raw.len() - 1];
        let bb = body.as_bytes();
        let (mut own, mut others, mut i) = (0usize, 0usize, 0);
        while i < bb.len() {
            match bb[i] {
                b'\\' => {
                    own += usize::from(bb.get(i + 1) == Some(&q));
                    i += 2;
                }
                c => {
                    others += usize::from(c == other);
                    i += 1;
                }
            }
        }
        let switch = own > others;
        self.out.push(if switch { other } else { q } as char);
        let (mut last, mut i) = (0, 0);
        while i < bb.len() {
            let (put, skip): (Option<&str>, usize) = match bb[i] {
                b'\\' => match decoded(&bb[i + 1..]) {
                    Some((c, len)) => {
                        self.out.push_str(&body[last..i]);
                        self.out.push(c);
                        (None, len)
                    }
                    None if switch && bb.get(i + 1) == Some(&q) => (Some(&raw[..1]), 2),
                    // Any other escape as written (`\\` too: skip what it escapes; a
                    // multi-byte character's next bytes are no quote or `\`).
                    None => {
                        i += 2;
                        continue;
                    }
                },
                c if switch && c == other => (Some(if q == b'"' { "\\'" } else { "\\\"" }), 1),
                _ => {
                    i += 1;
                    continue;
                }
            };
            if let Some(put) = put {
                self.out.push_str(&body[last..i]);
                self.out.push_str(put);
            }
            i += skip;
            last = i;
        }
        self.out.push_str(&body[last..]);
        self.out.push(if switch { other } else { q } as char);
    }

    /// A numeric literal, written in a shorter form of the same value where it has one.
    pub(super) fn number(&mut self) -> R<Kind> {
        let s: &'a [u8] = self.s;
        let start = self.i;
        let digits = |mut j: usize, ok: fn(u8) -> bool| {
            while s.get(j).copied().is_some_and(ok) {
                j += 1;
            }
            j
        };
        let radix: Option<fn(u8) -> bool> = match (s[start], s.get(start + 1)) {
            (b'0', Some(b'x' | b'X')) => Some(|b| b.is_ascii_hexdigit()),
            (b'0', Some(b'o' | b'O')) => Some(|b| (b'0'..=b'7').contains(&b)),
            (b'0', Some(b'b' | b'B')) => Some(|b| b == b'0' || b == b'1'),
            _ => None,
        };
        let end = if let Some(ok) = radix {
            let j = digits(start + 2, ok);
            if j == start + 2 {
                return Err(Bail);
            }
            j + usize::from(s.get(j) == Some(&b'n'))
        } else {
            // Legacy octal (`017`), `08` and separators are swc's.
            if s[start] == b'0'
                && s.get(start + 1)
                    .is_some_and(|b| b.is_ascii_digit() || *b == b'_')
            {
                return Err(Bail);
            }
            let int_end = digits(start, |b| b.is_ascii_digit());
            let mut j = int_end;
            let mut frac = (j, j);
            if s.get(j) == Some(&b'.') {
                let f = digits(j + 1, |b| b.is_ascii_digit());
                frac = (j + 1, f);
                j = f;
            }
            if j == start || (int_end == start && frac.0 == frac.1) {
                return Err(Bail);
            }
            let mut exp = None;
            if matches!(s.get(j), Some(b'e' | b'E')) {
                let mut k = j + 1;
                let sign = matches!(s.get(k), Some(b'+' | b'-'));
                k += usize::from(sign);
                let e = digits(k, |b| b.is_ascii_digit());
                if e == k {
                    return Err(Bail);
                }
                exp = Some((s[j + 1] == b'-', k, e));
                j = e;
            }
            if s.get(j) == Some(&b'n') && j == int_end {
                // A BigInt, as written.
                j += 1
            } else if s.get(j) == Some(&b'n') {
                return Err(Bail);
            }
            if s.get(j)
                .is_some_and(|&b| is_ident_part(b) || b >= 0x80 || b == b'\\')
            {
                return Err(Bail);
            }
            self.i = j;
            let text = |a: usize, b: usize| std::str::from_utf8(&s[a..b]).unwrap_or("");
            if s[j - 1] == b'n' {
                self.out.push_str(text(start, j));
                return Ok(Kind::Number);
            }
            self.push_decimal(
                text(start, int_end),
                text(frac.0, frac.1),
                exp.map(|(neg, a, b)| (neg, text(a, b))),
            );
            return Ok(Kind::Number);
        };
        if s.get(end)
            .is_some_and(|&b| is_ident_part(b) || b >= 0x80 || b == b'\\')
        {
            return Err(Bail);
        }
        self.i = end;
        self.out
            .push_str(std::str::from_utf8(&s[start..end]).map_err(|_| Bail)?);
        Ok(Kind::Number)
    }

    /// `int.frac e[-]exp` in its shortest plain form: `0.50` → `.5`, `2.0` → `2`,
    /// `1000` → `1e3`, `1e+3` → `1e3`.
    fn push_decimal(&mut self, int: &str, frac: &str, exp: Option<(bool, &str)>) {
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        if int.is_empty() && frac.is_empty() {
            self.out.push('0');
            return;
        }
        match exp {
            None if frac.is_empty() => {
                let zeros = int.len() - int.trim_end_matches('0').len();
                if zeros >= 3 {
                    self.out.push_str(&int[..int.len() - zeros]);
                    self.out.push('e');
                    self.out.push_str(&zeros.to_string());
                } else {
                    self.out.push_str(int);
                }
            }
            _ => {
                self.out.push_str(int);
                if !frac.is_empty() {
                    self.out.push('.');
                    self.out.push_str(frac);
                }
                if let Some((neg, e)) = exp {
                    self.out.push('e');
                    if neg {
                        self.out.push('-');
                    }
                    self.out.push_str(e);
                }
            }
        }
    }
}

/// The length of a valid escape after `\` (in `s`); `Bail` for one swc may read
/// differently in some goal (legacy octal, `\8`) or refuse.
fn escape(s: &[u8]) -> R<usize> {
    let hex = |s: &[u8], n: usize| s.len() >= n && s[..n].iter().all(u8::is_ascii_hexdigit);
    match *s.first().ok_or(Bail)? {
        b'x' if hex(&s[1..], 2) => Ok(3),
        b'u' if hex(&s[1..], 4) => Ok(5),
        b'u' if s.get(1) == Some(&b'{') => {
            let close = s.iter().position(|&b| b == b'}').ok_or(Bail)?;
            let h = &s[2..close];
            let ok = !h.is_empty() && h.len() <= 8 && hex(h, h.len());
            let v = std::str::from_utf8(h)
                .ok()
                .and_then(|h| u32::from_str_radix(h, 16).ok());
            if ok && v.is_some_and(|v| v <= 0x10ffff) {
                Ok(close + 1)
            } else {
                Err(Bail)
            }
        }
        b'x' | b'u' | b'1'..=b'9' => Err(Bail),
        b'0' if s.get(1).is_some_and(u8::is_ascii_digit) => Err(Bail),
        b'\r' if s.get(1) == Some(&b'\n') => Ok(2),
        // Any other character stands for itself (a line end continues the line); a
        // multi-byte one is skipped a byte at a time, which no quote or `\` matches.
        _ => Ok(1),
    }
}

/// The character a `uXXXX` or `xXX` escape (after its `\\`) stands for, and the
/// escape's length with its `\\`, when it is a printable non-ASCII character that may
/// be written as it is.
fn decoded(e: &[u8]) -> Option<(char, usize)> {
    let n = match e.first()? {
        b'u' => 4,
        b'x' => 2,
        _ => return None,
    };
    let v = u32::from_str_radix(std::str::from_utf8(e.get(1..1 + n)?).ok()?, 16).ok()?;
    // Not the invisible ones (soft hyphen, zero widths, bidi controls, private use…):
    // the value is the same either way, but the escape shows what is there.
    let printable = v >= 0xa0
        && !matches!(
            v,
            0xad | 0x34f
                | 0x61c
                | 0x115f..=0x1160
                | 0x17b4..=0x17b5
                | 0x180b..=0x180f
                | 0x200b..=0x200f
                | 0x2028..=0x202e
                | 0x2060..=0x206f
                | 0x3164
                | 0xd800..=0xf8ff
                | 0xfdd0..=0xfdef
                | 0xfe00..=0xfe0f
                | 0xfeff..
        );
    Some((char::from_u32(v).filter(|_| printable)?, n + 2))
}

/// Whether a string key's text (checked by [`P::string`]) reads `__proto__`.
pub(super) fn spells_proto(text: &str) -> bool {
    let mut out = String::new();
    let mut it = text.chars();
    while let Some(c) = it.next() {
        if out.len() > 9 {
            return false;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |it: &mut std::str::Chars, n: usize| {
            let h: String = it.by_ref().take(n).collect();
            u32::from_str_radix(&h, 16).ok().and_then(char::from_u32)
        };
        let e = match it.next() {
            Some('x') => hex(&mut it, 2),
            Some('u') if it.as_str().starts_with('{') => {
                let rest = it.as_str();
                let close = rest.find('}').unwrap_or(rest.len());
                let v = u32::from_str_radix(&rest[1..close], 16)
                    .ok()
                    .and_then(char::from_u32);
                it = rest[(close + 1).min(rest.len())..].chars();
                v
            }
            Some('u') => hex(&mut it, 4),
            // A line continuation is nothing; `\r\n` is one.
            Some('\r') => {
                if it.as_str().starts_with('\n') {
                    it.next();
                }
                continue;
            }
            Some('\n' | '\u{2028}' | '\u{2029}') => continue,
            // `\n`, `\t`… are control characters, `\_` is `_`.
            Some(c) if "nrtbfv0".contains(c) => Some('\0'),
            c => c,
        };
        out.push(e.unwrap_or('\0'));
    }
    out == "__proto__"
}

/// `</script` in any case.
fn has_script_end(s: &[u8]) -> bool {
    memchr::memmem::find_iter(s, b"</")
        .any(|i| s.len() >= i + 8 && s[i + 2..i + 8].eq_ignore_ascii_case(b"script"))
}
