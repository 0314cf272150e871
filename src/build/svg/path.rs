//! Path data (`d`) and number lists (`points`), rewritten without changing a value.
//!
//! The reading follows SVG 1.1's path grammar strictly: anything it does not accept
//! (a comma after a command letter, a stray character, a missing number) leaves the
//! attribute as written, since a renderer draws such a path only up to the error and
//! a rewrite must not draw more. What is rewritten keeps every point where it was, in
//! exact decimal arithmetic:
//! - numbers are written in their shortest exact decimal form (`0.50` → `.5`,
//!   `1000` → `1e3`, `+3` → `3`, `-0` → `0`); digits are never rounded;
//! - each segment but an arc is written absolute or relative, whichever is shorter,
//!   where a renderer's floats hold every number involved exactly (see [`Coord`]), and
//!   a line along an axis becomes `H`/`V`;
//! - separators go only where two numbers would otherwise run together, and a command
//!   letter is left out where the grammar repeats it (`L` after `M`);
//! - arc flags are packed (`a5 5 0 1 1 10 0` → `a5 5 0 1110 0`), as the grammar
//!   allows and tdewolff's minify does: a flag is always one character.
//!
//! Why the float rule: a renderer adds relative coordinates in floating point, and
//! its rasteriser samples edges on a sub-pixel grid, so a point one rounding error
//! away can flip a sample. Rewriting `0.1`-style values freely moved pixels in 77 of
//! 8,058 corpus icons under resvg (up to 64/255 in one channel); with the rule, none.

use super::number::{exact_in_floats, number, Dec};

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

/// XML's white space (a form feed, path grammar white space, is not a character XML
/// allows: such a file is copied before it gets here).
fn is_wsp(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
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

/// One coordinate of the current point: its exact value (`None` once it no longer
/// fits), and whether the renderer's float is that value as it would read it written
/// out (`false` once the renderer has added numbers that floats do not hold exactly:
/// its float then depends on the order of its additions, which a rewrite must keep).
#[derive(Clone, Copy)]
struct Coord {
    v: Option<Dec>,
    read: bool,
}

impl Coord {
    /// Exact in the renderer's floats: a segment may switch form around it.
    fn exact(self) -> bool {
        self.read && self.v.is_some_and(exact_in_floats)
    }

    /// After a command moves it: to `a` as written (absolute) or by `a` (relative).
    fn moved(self, a: &str, rel: bool) -> Coord {
        let d = Dec::parse(a);
        if !rel {
            return Coord { v: d, read: true };
        }
        let zero = Some(Dec { m: 0, k: 0 });
        let v = d.zip(self.v).and_then(|(d, v)| v.add(d));
        // `x + 0` and `0 + d` (from a true zero) are exact in any arithmetic.
        let read = if d == zero || self.v == zero {
            self.read
        } else {
            self.exact() && d.is_some_and(exact_in_floats) && v.is_some_and(exact_in_floats)
        };
        Coord { v, read }
    }
}

/// The current point.
#[derive(Clone, Copy)]
struct Point {
    x: Coord,
    y: Coord,
}

/// Path data rewritten shorter, or `None` to keep it as written.
pub(super) fn path_data(d: &str) -> Option<String> {
    let mut r = Reader { s: d, i: 0 };
    let mut w = Writer::default();
    let zero = Coord {
        v: Some(Dec { m: 0, k: 0 }),
        read: true,
    };
    let origin = Point { x: zero, y: zero };
    // The current point, the subpath's start, the command the output's grammar repeats
    // when a letter is left out, and whether the first moveto is still to come.
    let mut state = (origin, origin, None, true);
    r.wsp();
    if r.done() {
        return None;
    }
    while !r.done() {
        let c = *d.as_bytes().get(r.i)?;
        let (n, flags) = arity(c)?;
        // Path data starts with a moveto (`state.3` stays true until one is written).
        if state.3 && !matches!(c, b'M' | b'm') {
            return None;
        }
        r.i += 1;
        r.wsp();
        if n == 0 {
            w.letter(c);
            state.2 = None;
            state.0 = state.1;
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
            segment(&mut w, &mut state, cmd, &args);
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

/// The argument positions that are x and y coordinates (moved by a relative command).
fn coordinate(up: u8, k: usize) -> Option<bool> {
    match (up, k) {
        (b'H', 0) => Some(true),
        (b'V', 0) => Some(false),
        (b'A', 5) => Some(true),
        (b'A', 6) => Some(false),
        (b'A', _) => None,
        (_, k) => Some(k % 2 == 0),
    }
}

/// Writes one segment in its shortest exact form (absolute or relative; a line along
/// an axis as `H`/`V`) and moves the current point.
fn segment(w: &mut Writer, state: &mut (Point, Point, Option<u8>, bool), cmd: u8, args: &[String]) {
    let (cur, start, implied, first) = state;
    let rel = cmd.is_ascii_lowercase();
    let up = cmd.to_ascii_uppercase();
    // The arguments in the other form, when the renderer would compute the same floats
    // from it: every coordinate and the current point exact in floats.
    let switches = !*first && up != b'A';
    let other: Option<Vec<String>> = switches.then_some(()).and_then(|()| {
        args.iter()
            .enumerate()
            .map(|(k, a)| match coordinate(up, k) {
                None => Some(a.clone()),
                Some(is_x) => {
                    let base = if is_x { cur.x } else { cur.y };
                    let v = Dec::parse(a).filter(|v| base.exact() && exact_in_floats(*v))?;
                    let o = if rel {
                        v.add(base.v?)?
                    } else {
                        v.sub(base.v?)?
                    };
                    exact_in_floats(o).then(|| o.text())
                }
            })
            .collect()
    });
    let (abs, relative) = match (&other, rel) {
        (Some(o), true) => (Some(o.as_slice()), Some(args)),
        (Some(o), false) => (Some(args), Some(o.as_slice())),
        (None, true) => (None, Some(args)),
        (None, false) => (Some(args), None),
    };
    // A line along an axis: the coordinate that stays is left out (`H`, `V`), when the
    // renderer's float for it is the current point's.
    let stays = |k: usize, c: Coord| {
        if rel {
            args[k] == "0"
        } else {
            c.read && c.v.is_some() && Dec::parse(&args[k]) == c.v
        }
    };
    let (keep_x, keep_y) = if up == b'L' {
        (stays(0, cur.x), stays(1, cur.y))
    } else {
        (false, false)
    };
    // The first moveto is absolute whatever its letter: kept as written. An arc keeps
    // its form too: renderers turn arcs into curves with sines and cosines, and resvg
    // does it before adding a relative arc's start, so the same arc written absolute
    // lands a rounding error away (measured: pixels of the Merck logo moved).
    let forms: &[bool] = if switches { &[rel, !rel] } else { &[rel] };
    // The first form is written in place; a second one, when there is one, beside it,
    // and it replaces the first when shorter.
    let mark = (w.out.len(), w.after);
    let mut chosen = None;
    let mut scratch = Writer::default();
    for &as_rel in forms {
        let Some(vals) = (if as_rel { relative } else { abs }) else {
            continue;
        };
        let mut letter = if as_rel { up.to_ascii_lowercase() } else { up };
        let mut vals: &[String] = vals;
        if keep_y && !keep_x {
            letter = if as_rel { b'h' } else { b'H' };
            vals = &vals[..1];
        } else if keep_x && !keep_y {
            letter = if as_rel { b'v' } else { b'V' };
            vals = &vals[1..];
        }
        let target = if chosen.is_none() {
            &mut *w
        } else {
            &mut scratch
        };
        target.after = mark.1;
        if *implied != Some(letter) {
            target.letter(letter);
        }
        let flags = arity(letter).map(|a| a.1).unwrap_or(&[]);
        for (k, a) in vals.iter().enumerate() {
            if flags.contains(&k) {
                target.flag(a);
            } else {
                target.number(a);
            }
        }
        match chosen {
            None => chosen = Some(letter),
            Some(_) if scratch.out.len() < w.out.len() - mark.0 => {
                w.out.truncate(mark.0);
                w.out.push_str(&scratch.out);
                w.after = scratch.after;
                chosen = Some(letter);
            }
            Some(_) => {}
        }
    }
    if let Some(letter) = chosen {
        *implied = match letter {
            b'M' => Some(b'L'),
            b'm' => Some(b'l'),
            c => Some(c),
        };
    }
    // The new current point, as the renderer computes it from the path as written.
    match up {
        b'H' => cur.x = cur.x.moved(&args[0], rel),
        b'V' => cur.y = cur.y.moved(&args[0], rel),
        _ => {
            cur.x = cur.x.moved(&args[args.len() - 2], rel);
            cur.y = cur.y.moved(&args[args.len() - 1], rel);
        }
    }
    if up == b'M' {
        *start = *cur;
    }
    *first = false;
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
    fn path_data_is_shortened_without_changing_a_value() {
        for (i, o) in [
            // Font Awesome's shapes: axis lines, repeated commands, zeros.
            (
                "M128 0C92.7 0 64 28.7 64 64l0 96 64 0 0-96 226.7 0L384 93.3z",
                "M128 0C92.7 0 64 28.7 64 64v96h64V64h226.7L384 93.3z",
            ),
            ("M 10,10 L 20,10 L 20,20 Z", "M10 10H20V20Z"),
            ("M0.5 0.5 L 0.5 1.5", "M.5.5v1"),
            ("m10 10 20 0 0 20", "m10 10h20v20"),
            ("M10 10 20 20 30 30", "M10 10 20 20 30 30"),
            ("M1 2 L 3 4 L 5 6", "M1 2 3 4 5 6"),
            (
                "M1 2C1 2 3 4 5 6 7 8 9 10 11 12",
                "M1 2C1 2 3 4 5 6c2 2 4 4 6 6",
            ),
            ("M1,2 a 25,25 0 1,1 0,48", "M1 2a25 25 0 110 48"),
            ("M 1 2 a 25 25 0 1148 0", "M1 2a25 25 0 1148 0"),
            (
                "M1 2a1 1 0 0 1-.5.5 1 1 0 0 0 .5.5",
                "M1 2a1 1 0 01-.5.5 1 1 0 00.5.5",
            ),
            ("M1-2-3-4", "M1-2-3-4"),
            ("M1.5.5.5", "M1.5.5.5"),
            ("M1e3 0 L 2000 0", "M1e3 0H2e3"),
            // Numbers floats do not hold exactly (0.1) never change form: a renderer's
            // `.1 + .2` is not `.3`.
            ("M0.1 0 L 0.2 0 L 0.3 0", "M.1 0H.2.3"),
            ("m0.1 0 l 0.2 0 L 0.3 5", "m.1 0h.2L.3 5"),
            ("m0.1 0 l 0.2 0 L 0.3 0", "m.1 0h.2H.3"),
            ("M0.5 0 l 0.25 0 L 0.75 0 L 1.75 10", "M.5 0h.25l0 0 1 10"),
            // Arcs keep their form.
            ("M12 12 a 6 6 0 0 1 -6 -6", "M12 12a6 6 0 01-6-6"),
            ("M12 12 A 6 6 0 0 1 6 6", "M12 12A6 6 0 016 6"),
            // After a close path the current point is the subpath's start again.
            ("M5 5 L 9 9 Z L 5 20", "M5 5 9 9ZV20"),
            // A relative move from the origin is known; after that only zero deltas.
            ("m5 5 L 5 20 l 3 3 L 8 40", "m5 5V20l3 3V40"),
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
