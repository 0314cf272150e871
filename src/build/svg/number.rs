//! Numbers as SVG writes them: the shortest exact decimal form of a number, and exact
//! decimals for tracking a path's current point ([`Dec`]).

/// A number in its shortest exact form, or `None` when it is not one.
pub(super) fn number(s: &str) -> Option<String> {
    number_in(s, true)
}

/// A number attribute (`x`, `r`, `opacity`…) in its shortest exact form, without an
/// exponent (CSS reads these values too, and older CSS parsers do not take `1e3`),
/// and for a length without `px` (SVG's user unit); `None` when it is not one plain
/// number (another unit, a list, spaces: kept as written).
pub(super) fn attribute_number(s: &str, length: bool) -> Option<String> {
    if s.contains(['e', 'E']) {
        return None;
    }
    let n = match s.strip_suffix("px") {
        Some(n) if length => n,
        _ => s,
    };
    number_in(n, false).filter(|n| n.len() < s.len())
}

/// True when `s` is already a number in its shortest form (most are, in an exported
/// icon): checked without building anything.
fn shortest_already(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |t: &str| t.bytes().all(|c| c.is_ascii_digit());
    if !digits(int) || !frac.is_none_or(digits) {
        return false;
    }
    match frac {
        // `.5`, `12.25`: no leading zero, no trailing zero.
        Some(f) => !f.is_empty() && !f.ends_with('0') && !int.starts_with('0'),
        // `7`, `120` (`1000` is `1e3`); `0` but not `-0`, `07`.
        None => {
            let zeros = int.len() - int.trim_end_matches('0').len();
            (int == "0" && body.len() == s.len())
                || (!int.is_empty() && !int.starts_with('0') && zeros < 3)
        }
    }
}

fn number_in(s: &str, sci: bool) -> Option<String> {
    if shortest_already(s) {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut i = 0;
    let negative = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int = &s[int_start..i];
    let mut frac = "";
    if b.get(i) == Some(&b'.') {
        let f = i + 1;
        i = f;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac = &s[f..i];
        // `1.` is SVG 1.1's grammar, but Blink (and CSS) refuse it: kept as written,
        // since writing `1` would draw what the original does not in Chrome.
        if frac.is_empty() {
            return None;
        }
    }
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut exp: i64 = 0;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let neg = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - e > 6 {
                return None;
            }
            exp = exp * 10 + i64::from(b[i] - b'0');
            i += 1;
        }
        if i == e {
            return None;
        }
        if neg {
            exp = -exp;
        }
        // Blink and WebKit read numbers with their own float arithmetic: an exponent
        // past 38 is an error there, and `1.5e-4` reads one float step away from
        // `.00015`. A number written with an exponent is kept unless it is whole
        // (`2e3`, `1.5e3`), which every reader gets exactly.
        if !(0..=38).contains(&exp) || (exp as usize) < frac.trim_end_matches('0').len() {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    // value = digits × 10^exp, digits an integer without leading or trailing zeros.
    let mut digits = String::with_capacity(int.len() + frac.len());
    digits.push_str(int);
    digits.push_str(frac);
    exp -= frac.len() as i64;
    let lead = digits.bytes().take_while(|&c| c == b'0').count();
    digits.drain(..lead);
    while digits.ends_with('0') {
        digits.pop();
        exp += 1;
    }
    if digits.is_empty() {
        return Some("0".to_string());
    }
    // Beyond any renderer's floats: kept as written rather than spelt out.
    if exp.abs() > 400 {
        return None;
    }
    let n = digits.len() as i64;
    let plain = if exp >= 0 {
        let mut p = digits.clone();
        p.extend(std::iter::repeat_n('0', exp as usize));
        p
    } else if n > -exp {
        let (a, f) = digits.split_at((n + exp) as usize);
        format!("{a}.{f}")
    } else {
        let mut p = String::from(".");
        p.extend(std::iter::repeat_n('0', (-exp - n) as usize));
        p.push_str(&digits);
        p
    };
    let use_sci = sci;
    let sci_form = format!("{digits}e{exp}");
    let mut out = String::from(if negative { "-" } else { "" });
    // An exponent only for whole numbers (`1e3`): every parser reads those exactly,
    // where `15e-5` and `.00015` may round differently in a hand-written one.
    out.push_str(if use_sci && exp > 0 && sci_form.len() < plain.len() {
        &sci_form
    } else {
        &plain
    });
    Some(out)
}

/// An exact decimal, `m / 10^k`, kept normalised (no trailing zero in `m` while
/// `k > 0`) so that equal values compare equal.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) struct Dec {
    pub(super) m: i64,
    pub(super) k: u32,
}

/// Decimal places beyond which a point is no longer tracked.
const MAX_PLACES: u32 = 16;

impl Dec {
    /// From a number as [`number`] writes it; `None` when it does not fit.
    pub(super) fn parse(n: &str) -> Option<Dec> {
        let (neg, n) = match n.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, n),
        };
        let (mant, exp) = match n.split_once('e') {
            Some((a, e)) => (a, e.parse::<i64>().ok()?),
            None => (n, 0),
        };
        let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
        if int.len() + frac.len() > 18 {
            return None;
        }
        let mut m: i64 = 0;
        for c in int.bytes().chain(frac.bytes()) {
            m = m * 10 + i64::from(c - b'0');
        }
        let places = frac.len() as i64 - exp;
        let d = if places >= 0 {
            if places > i64::from(MAX_PLACES) {
                return None;
            }
            Dec {
                m,
                k: places as u32,
            }
        } else {
            let scale = 10i64.checked_pow(u32::try_from(-places).ok()?)?;
            Dec {
                m: m.checked_mul(scale)?,
                k: 0,
            }
        };
        Some(d.neg_if(neg).norm())
    }

    fn neg_if(self, neg: bool) -> Dec {
        if neg {
            Dec {
                m: -self.m,
                k: self.k,
            }
        } else {
            self
        }
    }

    fn norm(mut self) -> Dec {
        while self.k > 0 && self.m % 10 == 0 {
            self.m /= 10;
            self.k -= 1;
        }
        self
    }

    pub(super) fn add(self, o: Dec) -> Option<Dec> {
        let k = self.k.max(o.k);
        let a = self.m.checked_mul(10i64.checked_pow(k - self.k)?)?;
        let b = o.m.checked_mul(10i64.checked_pow(k - o.k)?)?;
        Some(
            Dec {
                m: a.checked_add(b)?,
                k,
            }
            .norm(),
        )
    }

    pub(super) fn sub(self, o: Dec) -> Option<Dec> {
        self.add(o.neg_if(true))
    }

    /// Its shortest written form, as [`number`] writes it.
    pub(super) fn text(self) -> String {
        let digits = self.m.unsigned_abs().to_string();
        let (len, k) = (digits.len(), self.k as usize);
        let mut out = String::with_capacity(len + 3);
        if self.m < 0 {
            out.push('-');
        }
        if k == 0 {
            // A whole number: three or more trailing zeros are shorter as an exponent.
            let kept = digits.trim_end_matches('0').len();
            if len - kept >= 3 && kept > 0 {
                out.push_str(&digits[..kept]);
                out.push('e');
                out.push_str(&(len - kept).to_string());
            } else {
                out.push_str(&digits);
            }
        } else if len > k {
            out.push_str(&digits[..len - k]);
            out.push('.');
            out.push_str(&digits[len - k..]);
        } else {
            out.push('.');
            out.extend(std::iter::repeat_n('0', k - len));
            out.push_str(&digits);
        }
        out
    }
}

/// True when a renderer holds the value exactly in a 32-bit float (a binary fraction
/// of at most 24 bits): sums of such values are then exact in any renderer.
pub(super) fn exact_in_floats(d: Dec) -> bool {
    let Some(p) = 5i64.checked_pow(d.k) else {
        return false;
    };
    d.m % p == 0 && (d.m / p).unsigned_abs() < 1 << 24
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_take_their_shortest_exact_form() {
        for (i, o) in [
            ("0", "0"),
            ("-0", "0"),
            ("+0.0", "0"),
            ("0.5", ".5"),
            ("-0.50", "-.5"),
            ("10", "10"),
            ("100", "100"),
            ("1000", "1e3"),
            ("-12000", "-12e3"),
            ("1.250e2", "125"),
            ("0.0001", ".0001"),
            ("0.00015", ".00015"),
            ("0.0015", ".0015"),
            ("1E+02", "100"),
            ("007.70", "7.7"),
            ("123.456", "123.456"),
        ] {
            assert_eq!(number(i).as_deref(), Some(o), "{i}");
        }
        for bad in [
            "",
            "-",
            ".",
            "e5",
            "1e",
            "1e+",
            "1.2.3",
            "1x",
            "1e9999999",
            "1.",
            "1e39",
            "5e-1",
            "1.5e-4",
            "1.25e1",
        ] {
            assert_eq!(number(bad), None, "{bad}");
        }
    }

    #[test]
    fn shortcuts_agree_with_the_full_reading() {
        for n in [
            "0", "-0", "7", "-7", "120", "1000", "-12000", "07", ".5", "-.5", "0.5", "12.25",
            "12.250", "-.0", "+1", "100000", "0.0015", "-15.5",
        ] {
            // The full reading, without the shortcut: a leading zero added.
            let (sign, rest) = n.split_at(n.find(|c: char| c != '-' && c != '+').unwrap_or(0));
            let full = number(&format!("{sign}0{rest}"));
            assert_eq!(number(n), full, "{n}");
            if let Some(v) = full.as_deref().and_then(Dec::parse) {
                assert_eq!(v.text(), full.clone().unwrap(), "{n}");
            }
        }
    }

    #[test]
    fn attribute_numbers_are_plain() {
        assert_eq!(attribute_number("0.50", true).as_deref(), Some(".5"));
        assert_eq!(attribute_number("-0.1", false).as_deref(), Some("-.1"));
        assert_eq!(attribute_number("1000.0", true).as_deref(), Some("1000"));
        assert_eq!(attribute_number("16px", true).as_deref(), Some("16"));
        // Only a length takes `px`: on a number it is an error, kept.
        assert_eq!(attribute_number("0.5px", false), None);
        for keep in [
            "1000", "1e3", "12em", "50%", "1 2", " 1", "auto", ".5", "px", "1 px",
        ] {
            assert_eq!(attribute_number(keep, true), None, "{keep}");
        }
    }
}
