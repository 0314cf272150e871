//! Path data (`d`) and number lists (`points`), rewritten without changing a value.
//!
//! The reading follows SVG 1.1's path grammar strictly: anything it does not accept
//! (a comma after a command letter, a stray character, a missing number) leaves the
//! attribute as written, since a renderer draws such a path only up to the error and
//! a rewrite must not draw more. What is rewritten keeps every number's value:
//! - numbers are written in their shortest exact decimal form (`0.50` → `.5`,
//!   `1000` → `1e3`, `+3` → `3`, `-0` → `0`); digits are never rounded;
//! - separators go where two numbers would otherwise run together;
//! - a command letter is left out where the grammar repeats it (`L` after `M`);
//! - a line along an axis becomes `h`/`v`: relative when the other delta is written
//!   as zero, absolute when the other coordinate equals the current point's as
//!   written (tracked exactly, only while it is known without arithmetic).
//!
//! Arc flags are packed (`a5 5 0 1 1 10 0` → `a5 5 0 1110 0`), as the grammar allows
//! and tdewolff's minify does: a flag is always one character.

/// A number in its shortest exact form, or `None` when it is not one.
pub(super) fn number(s: &str) -> Option<String> {
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
    let sci = format!("{digits}e{exp}");
    let mut out = String::from(if negative { "-" } else { "" });
    out.push_str(if exp != 0 && sci.len() < plain.len() {
        &sci
    } else {
        &plain
    });
    Some(out)
}

/// The end of the number starting at `i` (SVG's grammar), or `None`.
fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
    if matches!(b.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut any = i > start;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        any |= i > f;
    }
    if !any {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'-' | b'+')) {
            j += 1;
        }
        let d = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == d {
            return None;
        }
        i = j;
    }
    Some(i)
}

fn is_wsp(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// A reader of path data and number lists.
struct Reader<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Reader<'a> {
    fn wsp(&mut self) {
        let b = self.s.as_bytes();
        while self.i < b.len() && is_wsp(b[self.i]) {
            self.i += 1;
        }
    }

    /// `comma-wsp?`: whether anything was read, and whether it held a comma.
    fn comma_wsp(&mut self) -> (bool, bool) {
        let at = self.i;
        self.wsp();
        let comma = self.s.as_bytes().get(self.i) == Some(&b',');
        if comma {
            self.i += 1;
            self.wsp();
        }
        (self.i > at, comma)
    }

    fn number(&mut self) -> Option<String> {
        let end = number_end(self.s.as_bytes(), self.i)?;
        let n = number(&self.s[self.i..end])?;
        self.i = end;
        Some(n)
    }

    fn flag(&mut self) -> Option<String> {
        match self.s.as_bytes().get(self.i) {
            Some(c @ (b'0' | b'1')) => {
                self.i += 1;
                Some(char::from(*c).to_string())
            }
            _ => None,
        }
    }

    /// True when a number (or flag) can start here.
    fn at_number(&self) -> bool {
        matches!(
            self.s.as_bytes().get(self.i),
            Some(b'0'..=b'9' | b'-' | b'+' | b'.')
        )
    }

    fn done(&self) -> bool {
        self.i >= self.s.len()
    }
}

/// Output with the fewest separators that keep numbers apart.
#[derive(Default)]
struct Writer {
    out: String,
    /// The last thing written was a number with a `.` and no exponent (so a following
    /// `.5` cannot join it), or any number (so a digit needs a separator).
    after: After,
}

#[derive(Default, PartialEq, Clone, Copy)]
enum After {
    #[default]
    Letter,
    Number,
    NumberWithDot,
    Flag,
}

impl Writer {
    fn letter(&mut self, c: u8) {
        self.out.push(char::from(c));
        self.after = After::Letter;
    }

    fn number(&mut self, n: &str) {
        let joins = match self.after {
            After::Letter | After::Flag => true,
            After::Number => n.starts_with('-'),
            After::NumberWithDot => n.starts_with('-') || n.starts_with('.'),
        };
        if !joins {
            self.out.push(' ');
        }
        self.out.push_str(n);
        self.after = if n.contains('.') && !n.contains('e') {
            After::NumberWithDot
        } else {
            After::Number
        };
    }

    fn flag(&mut self, f: &str) {
        // The grammar wants a separator between the rotation and the first flag.
        if matches!(self.after, After::Number | After::NumberWithDot) {
            self.out.push(' ');
        }
        self.out.push_str(f);
        self.after = After::Flag;
    }
}

/// How many arguments a command takes, and which of them are flags.
fn arity(c: u8) -> Option<(usize, &'static [usize])> {
    Some(match c.to_ascii_uppercase() {
        b'M' | b'L' | b'T' => (2, &[]),
        b'H' | b'V' => (1, &[]),
        b'C' => (6, &[]),
        b'S' | b'Q' => (4, &[]),
        b'A' => (7, &[3, 4]),
        b'Z' => (0, &[]),
        _ => return None,
    })
}

/// The current point where it is known exactly as a written number.
#[derive(Clone)]
struct Point {
    x: Option<String>,
    y: Option<String>,
}

/// `a + d` when it is exact without arithmetic (one side zero).
fn add(a: &Option<String>, d: &str) -> Option<String> {
    match a.as_deref() {
        _ if d == "0" => a.clone(),
        Some("0") => Some(d.to_string()),
        _ => None,
    }
}

/// Path data rewritten shorter, or `None` to keep it as written.
pub(super) fn path_data(d: &str) -> Option<String> {
    let mut r = Reader { s: d, i: 0 };
    let mut w = Writer::default();
    let zero = || Some("0".to_string());
    let mut cur = Point {
        x: zero(),
        y: zero(),
    };
    let mut start = cur.clone();
    // The command the output's grammar repeats when a letter is left out.
    let mut implied: Option<u8> = None;
    let mut first = true;
    r.wsp();
    if r.done() {
        return None;
    }
    while !r.done() {
        let c = *d.as_bytes().get(r.i)?;
        let (n, flags) = arity(c)?;
        if first && !matches!(c, b'M' | b'm') {
            return None;
        }
        first = false;
        r.i += 1;
        r.wsp();
        if n == 0 {
            w.letter(c);
            implied = None;
            cur = start.clone();
            r.wsp();
            continue;
        }
        let mut cmd = c;
        loop {
            let mut args: Vec<String> = Vec::with_capacity(n);
            for k in 0..n {
                if k > 0 {
                    r.comma_wsp();
                }
                args.push(if flags.contains(&k) {
                    r.flag()?
                } else {
                    r.number()?
                });
            }
            segment(&mut w, &mut cur, &mut start, &mut implied, cmd, &args);
            let (_, comma) = r.comma_wsp();
            if !r.at_number() {
                // A comma must be followed by another argument.
                if comma {
                    return None;
                }
                break;
            }
            // Pairs after a moveto are linetos.
            cmd = match cmd {
                b'M' => b'L',
                b'm' => b'l',
                c => c,
            };
        }
    }
    (w.out.len() < d.len()).then_some(w.out)
}

/// Writes one segment, shortened where exact, and moves the current point.
fn segment(
    w: &mut Writer,
    cur: &mut Point,
    start: &mut Point,
    implied: &mut Option<u8>,
    cmd: u8,
    args: &[String],
) {
    let rel = cmd.is_ascii_lowercase();
    let (mut out_cmd, mut out_args): (u8, &[String]) = (cmd, args);
    if matches!(cmd, b'l' | b'L') {
        let (x, y) = (&args[0], &args[1]);
        let same_x = if rel {
            x == "0"
        } else {
            cur.x.as_ref() == Some(x)
        };
        let same_y = if rel {
            y == "0"
        } else {
            cur.y.as_ref() == Some(y)
        };
        if same_x && !same_y {
            out_cmd = if rel { b'v' } else { b'V' };
            out_args = &args[1..];
        } else if same_y && !same_x {
            out_cmd = if rel { b'h' } else { b'H' };
            out_args = &args[..1];
        }
    }
    if *implied != Some(out_cmd) {
        w.letter(out_cmd);
    }
    *implied = match out_cmd {
        b'M' => Some(b'L'),
        b'm' => Some(b'l'),
        c => Some(c),
    };
    let flags = arity(out_cmd).map(|a| a.1).unwrap_or(&[]);
    for (k, a) in out_args.iter().enumerate() {
        if flags.contains(&k) {
            w.flag(a);
        } else {
            w.number(a);
        }
    }
    // The end point: the last two arguments (one for H and V).
    match cmd.to_ascii_uppercase() {
        b'H' => {
            cur.x = if rel {
                add(&cur.x, &args[0])
            } else {
                Some(args[0].clone())
            }
        }
        b'V' => {
            cur.y = if rel {
                add(&cur.y, &args[0])
            } else {
                Some(args[0].clone())
            }
        }
        _ => {
            let (x, y) = (&args[args.len() - 2], &args[args.len() - 1]);
            if rel {
                cur.x = add(&cur.x, x);
                cur.y = add(&cur.y, y);
            } else {
                cur.x = Some(x.clone());
                cur.y = Some(y.clone());
            }
        }
    }
    if matches!(cmd, b'M' | b'm') {
        *start = cur.clone();
    }
}

/// A list of numbers (`points`) rewritten shorter, or `None` to keep it as written.
/// An odd count is an error a renderer stops at, so it is kept too.
pub(super) fn number_list(s: &str) -> Option<String> {
    let mut r = Reader { s, i: 0 };
    let mut w = Writer::default();
    let mut count = 0;
    r.wsp();
    while !r.done() {
        if count > 0 {
            r.comma_wsp();
        }
        w.number(&r.number()?);
        count += 1;
        r.wsp();
    }
    (count % 2 == 0 && count > 0 && w.out.len() < s.len()).then_some(w.out)
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
            ("1.", "1"),
            ("1.250e2", "125"),
            ("5e-1", ".5"),
            ("0.0001", "1e-4"),
            ("0.00015", "15e-5"),
            ("0.0015", ".0015"),
            ("1E+02", "100"),
            ("007.70", "7.7"),
            ("123.456", "123.456"),
        ] {
            assert_eq!(number(i).as_deref(), Some(o), "{i}");
        }
        for bad in ["", "-", ".", "e5", "1e", "1e+", "1.2.3", "1x", "1e9999999"] {
            assert_eq!(number(bad), None, "{bad}");
        }
    }

    #[test]
    fn path_data_is_shortened_without_changing_a_value() {
        for (i, o) in [
            // Font Awesome's shapes: axis lines, repeated commands, zeros.
            (
                "M128 0C92.7 0 64 28.7 64 64l0 96 64 0 0-96 226.7 0L384 93.3z",
                "M128 0C92.7 0 64 28.7 64 64v96h64v-96h226.7L384 93.3z",
            ),
            ("M 10,10 L 20,10 L 20,20 Z", "M10 10H20V20Z"),
            ("M0.5 0.5 L 0.5 1.5", "M.5.5V1.5"),
            ("m10 10 20 0 0 20", "m10 10h20v20"),
            ("M10 10 20 20 30 30", "M10 10 20 20 30 30"),
            ("M1 2 L 3 4 L 5 6", "M1 2 3 4 5 6"),
            (
                "M1 2C1 2 3 4 5 6 7 8 9 10 11 12",
                "M1 2C1 2 3 4 5 6 7 8 9 10 11 12",
            ),
            ("M1,2 a 25,25 0 1,1 0,48", "M1 2a25 25 0 110 48"),
            ("M 1 2 a 25 25 0 1148 0", "M1 2a25 25 0 1148 0"),
            ("M1 2a1 1 0 0 1-.5.5 1 1 0 0 0 .5.5", "M1 2a1 1 0 01-.5.5 1 1 0 00.5.5"),
            ("M1-2-3-4", "M1-2-3-4"),
            ("M1.5.5.5", "M1.5.5.5"),
            ("M1e3 0 L 2000 0", "M1e3 0H2e3"),
            // After a close path the current point is the subpath's start again.
            ("M5 5 L 9 9 Z L 5 20", "M5 5 9 9ZV20"),
            // A relative move from the origin is known; after that only zero deltas.
            ("m5 5 L 5 20 l 3 3 L 8 40", "m5 5V20l3 3L8 40"),
        ] {
            let got = path_data(i).unwrap_or_else(|| i.to_string());
            assert_eq!(got, o, "{i}");
        }
    }

    #[test]
    fn path_data_with_an_error_is_kept_as_written() {
        for bad in [
            "",
            "   ",
            "L10 10",
            "M,10 10",
            "M10 10,",
            "M10 10, L 20 20",
            "M10 10 L",
            "M10 10 L 20",
            "M10 10 X 20 20",
            "M10 10 A 5 5 0 2 1 20 20",
            "M10 10 L 20 20 &#10;",
            "M10 10 L 20 20 30",
            "M10 10L1e",
        ] {
            assert_eq!(path_data(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn number_lists() {
        assert_eq!(
            number_list("0, 0  10, 0  10, 10").as_deref(),
            Some("0 0 10 0 10 10")
        );
        assert_eq!(
            number_list(" 0.5 , -0.5 1000 2 ").as_deref(),
            Some(".5-.5 1e3 2")
        );
        assert_eq!(number_list("1 2 3"), None);
        assert_eq!(number_list("1 2,, 3 4"), None);
        assert_eq!(number_list("1 2 x"), None);
        assert_eq!(number_list(""), None);
    }
}
