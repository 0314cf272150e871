//! Scripts that are data, minified without building swc's tree.
//!
//! Search indexes and tables ship as scripts: Sphinx's `Search.setIndex({…})`,
//! Doxygen's `var searchData=[…]`, `window.DATA = {…}`. swc parses, walks and prints
//! them at about 6 MB/s per core (Sphinx's 3.6 MB index took 0.64 s, a third of a
//! docs build), where there is nothing to do but drop white space and comments.
//!
//! [`minify`] reads a small grammar in one pass and writes it back minified: statements
//! of member chains, calls and assignments over literals, objects and arrays, and `var`,
//! `let` and `const` declarations. Anything else (a function, an operator, a template,
//! a regular expression, a keyword, a licence comment, non-ASCII outside strings, a
//! string that could end a `<script>`) returns `None`, and swc minifies the file as
//! before. A file that is code fails at its first function or operator, so trying
//! costs little.
//!
//! What it writes is what swc's data path writes (`js::is_data`): white space and
//! comments dropped, statements joined with `;`, identifier-like keys unquoted, a
//! trailing comma dropped where it means nothing, and numbers in a shorter form of the
//! same value. Strings keep their quotes and escapes. A tests checks both against
//! each other: swc re-minifying this output gives what it gives on the source.

use std::collections::HashMap;

/// Nesting deeper than this is left to swc (and its depth check).
const MAX_DEPTH: u32 = 200;

/// The minified text of `src` when it is a data script in the grammar above.
pub(crate) fn minify(src: &str) -> Option<String> {
    let mut p = P {
        s: src.as_bytes(),
        i: 0,
        out: String::with_capacity(src.len()),
        ws_at: usize::MAX,
        ws_nl: false,
        depth: 0,
        names: HashMap::new(),
    };
    p.program().ok()?;
    Some(p.out)
}

/// Why a file is left to swc: nothing to say, swc says it.
struct Bail;
type R<T> = Result<T, Bail>;

/// What an expression is, for the assignment rules.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Ident,
    Member,
    Number,
    /// `-1`: nothing may follow it (`-1[0]` is `-(1[0])`, never a target).
    Negated,
    Other,
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
    out: String,
    /// Where the last skip of white space ended, and whether it crossed a line end.
    ws_at: usize,
    ws_nl: bool,
    depth: u32,
    /// Declared names, `true` when declared by `let` or `const`.
    names: HashMap<&'a str, bool>,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$'
}

fn is_ident_part(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// Words that are not a plain name where a value starts (keywords, names with a
/// meaning in some goal, and `importScripts`, whose argument is a reference).
const NOT_A_NAME: &[&str] = &[
    "arguments",
    "async",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "importScripts",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

impl<'a> P<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn at(&self, k: usize) -> Option<u8> {
        self.s.get(self.i + k).copied()
    }

    /// Skips white space and comments; whether a line ended on the way. Calling it
    /// again at the same place gives the same answer.
    fn ws(&mut self) -> R<bool> {
        if self.ws_at == self.i {
            return Ok(self.ws_nl);
        }
        let mut nl = false;
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | 0x0b | 0x0c => self.i += 1,
                b'\n' | b'\r' => {
                    nl = true;
                    self.i += 1;
                }
                b'/' if self.at(1) == Some(b'/') => {
                    let end = memchr::memchr2(b'\n', b'\r', &self.s[self.i..]);
                    let text = &self.s[self.i..self.i + end.unwrap_or(self.s.len() - self.i)];
                    // U+2028 and U+2029 end a line too; a licence is swc's to keep.
                    if !text.is_ascii() || is_licence(text) {
                        return Err(Bail);
                    }
                    self.i += text.len();
                }
                b'/' if self.at(1) == Some(b'*') => {
                    let end = memchr::memmem::find(&self.s[self.i + 2..], b"*/").ok_or(Bail)?;
                    let text = &self.s[self.i..self.i + 2 + end + 2];
                    if !text.is_ascii() || is_licence(text) {
                        return Err(Bail);
                    }
                    nl |= text.contains(&b'\n') || text.contains(&b'\r');
                    self.i += text.len();
                }
                _ => break,
            }
        }
        self.ws_at = self.i;
        self.ws_nl = nl;
        Ok(nl)
    }

    fn expect(&mut self, b: u8) -> R<()> {
        self.ws()?;
        if self.peek() != Some(b) {
            return Err(Bail);
        }
        self.i += 1;
        self.out.push(b as char);
        Ok(())
    }

    /// An ASCII word at the current place (no following non-ASCII or escape, which
    /// would continue it).
    fn word(&mut self) -> R<&'a str> {
        let s: &'a [u8] = self.s;
        let start = self.i;
        if !s.get(start).copied().is_some_and(is_ident_start) {
            return Err(Bail);
        }
        let mut j = start + 1;
        while s.get(j).copied().is_some_and(is_ident_part) {
            j += 1;
        }
        if s.get(j).is_some_and(|&b| b >= 0x80 || b == b'\\') {
            return Err(Bail);
        }
        self.i = j;
        // ASCII, so UTF-8.
        std::str::from_utf8(&s[start..j]).map_err(|_| Bail)
    }

    fn program(&mut self) -> R<()> {
        // Still in the directive prologue: an empty statement there ends it, and
        // dropping it would make a later `"use strict"` a directive.
        let mut prologue = true;
        loop {
            self.ws()?;
            match self.peek() {
                None => break,
                Some(b';') if prologue => return Err(Bail),
                Some(b';') => {
                    self.i += 1;
                    continue;
                }
                Some(b) => prologue &= b == b'"' || b == b'\'',
            }
            self.statement()?;
            let nl = self.ws()?;
            match self.peek() {
                None => break,
                Some(b';') => self.i += 1,
                // A line end ends the statement only where the next token cannot
                // continue it (no `-`, `/`, `.`, `` ` ``…: those would join the lines).
                Some(b)
                    if nl
                        && (is_ident_start(b) || b.is_ascii_digit() || b == b'"' || b == b'\'') => {
                }
                _ => return Err(Bail),
            }
            self.out.push(';');
        }
        if self.out.ends_with(';') {
            self.out.pop();
        }
        Ok(())
    }

    fn statement(&mut self) -> R<()> {
        if self.peek() == Some(b'{') {
            return Err(Bail); // a block
        }
        let save = self.i;
        if let Ok(w) = self.word() {
            if matches!(w, "var" | "let" | "const") {
                self.ws()?;
                if self.peek().is_some_and(is_ident_start) {
                    return self.declaration(w);
                }
            }
        }
        self.i = save;
        self.assign().map(|_| ())
    }

    fn declaration(&mut self, keyword: &'a str) -> R<()> {
        let lexical = keyword != "var";
        self.out.push_str(keyword);
        self.out.push(' ');
        loop {
            self.ws()?;
            let name = self.word()?;
            if NOT_A_NAME.contains(&name) || matches!(name, "true" | "false" | "null") {
                return Err(Bail);
            }
            // A name declared twice with `let` or `const` on either side is an error.
            if let Some(was) = self.names.insert(name, lexical) {
                if was || lexical {
                    return Err(Bail);
                }
            }
            self.out.push_str(name);
            self.ws()?;
            if self.peek() == Some(b'=') && !matches!(self.at(1), Some(b'=' | b'>')) {
                self.i += 1;
                self.out.push('=');
                self.assign()?;
            } else if keyword == "const" {
                return Err(Bail);
            }
            self.ws()?;
            if self.peek() != Some(b',') {
                return Ok(());
            }
            self.i += 1;
            self.out.push(',');
        }
    }

    /// `target = value`, or a member chain.
    fn assign(&mut self) -> R<Kind> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Bail);
        }
        let kind = self.postfix()?;
        self.ws()?;
        let kind = if self.peek() == Some(b'=') {
            if matches!(self.at(1), Some(b'=' | b'>'))
                || !matches!(kind, Kind::Ident | Kind::Member)
            {
                return Err(Bail);
            }
            self.i += 1;
            self.out.push('=');
            self.assign()?;
            Kind::Other
        } else {
            kind
        };
        self.depth -= 1;
        Ok(kind)
    }

    fn postfix(&mut self) -> R<Kind> {
        let mut kind = self.primary()?;
        loop {
            self.ws()?;
            match self.peek() {
                Some(b'.' | b'[' | b'(') if kind == Kind::Negated => return Err(Bail),
                Some(b'.') if kind != Kind::Number => {
                    self.i += 1;
                    self.ws()?;
                    let name = self.word()?;
                    self.out.push('.');
                    self.out.push_str(name);
                    kind = Kind::Member;
                }
                Some(b'[') => {
                    self.i += 1;
                    self.out.push('[');
                    self.assign()?;
                    self.expect(b']')?;
                    kind = Kind::Member;
                }
                Some(b'(') => {
                    self.i += 1;
                    self.out.push('(');
                    self.list(b')')?;
                    kind = Kind::Other;
                }
                Some(b'.') => return Err(Bail), // `1.x`: left to swc
                _ => return Ok(kind),
            }
        }
    }

    fn primary(&mut self) -> R<Kind> {
        self.ws()?;
        match self.peek().ok_or(Bail)? {
            b'{' => self.object().map(|_| Kind::Other),
            b'[' => {
                self.i += 1;
                self.out.push('[');
                self.array().map(|_| Kind::Other)
            }
            b'(' => {
                self.i += 1;
                self.out.push('(');
                self.assign()?;
                self.expect(b')')?;
                Ok(Kind::Other)
            }
            b'"' | b'\'' => {
                let raw = self.string()?;
                self.push_string(raw);
                Ok(Kind::Other)
            }
            b'-' => {
                self.i += 1;
                self.ws()?;
                let b = self.peek().ok_or(Bail)?;
                if !(b.is_ascii_digit() || b == b'.') {
                    return Err(Bail);
                }
                self.out.push('-');
                self.number().map(|_| Kind::Negated)
            }
            b'0'..=b'9' | b'.' => self.number(),
            b if is_ident_start(b) => {
                let w = self.word()?;
                if NOT_A_NAME.contains(&w) {
                    return Err(Bail);
                }
                self.out.push_str(w);
                Ok(if matches!(w, "true" | "false" | "null") {
                    Kind::Other
                } else {
                    Kind::Ident
                })
            }
            _ => Err(Bail),
        }
    }

    /// Call arguments up to `close`, a trailing comma dropped.
    fn list(&mut self, close: u8) -> R<()> {
        loop {
            self.ws()?;
            if self.peek() == Some(close) {
                break;
            }
            if self.peek() == Some(b'.') && self.at(1) == Some(b'.') {
                return Err(Bail); // spread
            }
            self.assign()?;
            self.ws()?;
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws()?;
                    if self.peek() != Some(close) {
                        self.out.push(',');
                    }
                }
                Some(b) if b == close => break,
                _ => return Err(Bail),
            }
        }
        self.i += 1;
        self.out.push(close as char);
        Ok(())
    }

    /// After `[`: elements, holes kept, a trailing comma after an element dropped.
    fn array(&mut self) -> R<()> {
        loop {
            self.ws()?;
            match self.peek() {
                Some(b']') => break,
                Some(b',') => {
                    self.i += 1;
                    self.out.push(',');
                    continue;
                }
                Some(b'.') if self.at(1) == Some(b'.') => return Err(Bail),
                _ => {}
            }
            self.assign()?;
            self.ws()?;
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws()?;
                    if self.peek() != Some(b']') {
                        self.out.push(',');
                    }
                }
                Some(b']') => break,
                _ => return Err(Bail),
            }
        }
        self.i += 1;
        self.out.push(']');
        Ok(())
    }

    fn object(&mut self) -> R<()> {
        self.i += 1;
        self.out.push('{');
        let mut proto = false;
        loop {
            self.ws()?;
            let key = match self.peek().ok_or(Bail)? {
                b'}' => break,
                b'"' | b'\'' => {
                    let raw = self.string()?;
                    let text = &raw[1..raw.len() - 1];
                    if !text.contains('\\') {
                        if is_identifier_name(text) || canonical_index(text) {
                            self.out.push_str(text);
                        } else {
                            self.out.push_str(raw);
                        }
                        text
                    } else {
                        self.push_string(raw);
                        if spells_proto(text) {
                            "__proto__"
                        } else {
                            ""
                        }
                    }
                }
                b'0'..=b'9' | b'.' => {
                    self.number()?;
                    ""
                }
                _ => {
                    let w = self.word()?;
                    self.out.push_str(w);
                    w
                }
            };
            // `__proto__` twice is an error (either spelling).
            if key == "__proto__" {
                if proto {
                    return Err(Bail);
                }
                proto = true;
            }
            self.expect(b':')?;
            self.assign()?;
            self.ws()?;
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws()?;
                    if self.peek() != Some(b'}') {
                        self.out.push(',');
                    }
                }
                Some(b'}') => break,
                _ => return Err(Bail),
            }
        }
        self.i += 1;
        self.out.push('}');
        Ok(())
    }

    /// A string literal as written, quotes included, after checking its escapes.
    fn string(&mut self) -> R<&'a str> {
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
    fn push_string(&mut self, raw: &str) {
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
    fn number(&mut self) -> R<Kind> {
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
fn spells_proto(text: &str) -> bool {
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

fn is_licence(comment: &[u8]) -> bool {
    comment.starts_with(b"/*!")
        || comment.starts_with(b"//!")
        || memchr::memmem::find(comment, b"@license").is_some()
        || memchr::memmem::find(comment, b"@preserve").is_some()
}

/// `</script` in any case.
fn has_script_end(s: &[u8]) -> bool {
    memchr::memmem::find_iter(s, b"</")
        .any(|i| s.len() >= i + 8 && s[i + 2..i + 8].eq_ignore_ascii_case(b"script"))
}

fn is_identifier_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if is_ident_start(c)) && b.all(is_ident_part)
}

/// `"3"` and `3` name the same property when 3 prints back as "3".
fn canonical_index(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'))
}

#[cfg(test)]
mod tests {
    use super::minify;

    #[test]
    fn data_scripts_are_minified() {
        let cases = [
            (
                "Search.setIndex({\"docnames\": [\"a\", \"b\"], \"0\": 1.50, 'x-y': [0.0, 1000, -2e+3]})",
                "Search.setIndex({docnames:[\"a\",\"b\"],0:1.5,'x-y':[0,1e3,-2e3]})",
            ),
            (
                "var searchData=\n[\n  ['a',['b',['../x.html#y',1,'']]],\n];\n",
                "var searchData=[['a',['b',['../x.html#y',1,'']]]]",
            ),
            ("window.a = window.b = {k: [1,,2,,]} // note\n/* x */ c = 2\n", "window.a=window.b={k:[1,,2,,]};c=2"),
            ("const A = 1, B = 'x'\nlet C = [A, B]\n;;", "const A=1,B='x';let C=[A,B]"),
            (
                r#"x = ["a\"b\"", 'it\'s', "a\"b'c", "\\", "\"\u00e9'\\\"", "\\\'"]"#,
                r#"x=['a"b"',"it's","a\"b'c","\\",'"é\'\\"',"\\\'"]"#,
            ),
            (
                "x = {'\\u0142ukasz': '\\u00e9\\\\u00e9\\ud83d\\u2028\\xe9\\x41', 'lo\\u00efc': 2, '\\u005f_proto__': 3}",
                "x={'łukasz':'é\\\\u00e9\\ud83d\\u2028é\\x41','loïc':2,'\\u005f_proto__':3}",
            ),
            ("x = '\\u200b\\u202e\\u00ad\\ue000\\u00e9'", "x='\\u200b\\u202e\\u00ad\\ue000é'"),
            ("x = 1;;\"use strict\";y = -1", "x=1;\"use strict\";y=-1"),
            ("f(1,)(2)[\"k\"].m(\n0x1F, 10n, .5)", "f(1)(2)[\"k\"].m(0x1F,10n,.5)"),
        ];
        for (src, want) in cases {
            assert_eq!(minify(src).as_deref(), Some(want), "{src}");
        }
    }

    #[test]
    fn what_is_not_data_is_left_to_swc() {
        for src in [
            "(function(){})()",
            "a\n-1",
            "a\n(b)\n/x/g",
            "x = `t`",
            "a = 1 + 2",
            "/*! licence */ a = 1",
            "// @license MIT\na = 1",
            "{a: 1}",
            "a: 1",
            "x = {a}",
            "x = {get a() {}}",
            "x = [...y]",
            "f(...y)",
            "let a = 1; let a = 2",
            "var a; const a = 1",
            "const a",
            "x = {__proto__: 1, '__proto__': 2}",
            "x = {__proto__: 1, '\\u005f_proto__': 2}",
            "x = {'\\x5f_proto__': 1, \"__pro\\\nto__\": 2}",
            "x = '</script>'",
            "x = '<!--'",
            "x = 017",
            "x = 08",
            "x = 1_000",
            "x = '\\01'",
            "x = '\\8'",
            "x = '\\x4'",
            "x = '\\u{110000}'",
            "x = 'open",
            "x = \"a\nb\"",
            "x = 1.toString",
            "x = 1..toString()",
            "x = 3in y",
            "importScripts('a.js')",
            "import('a.js')",
            "x = new URL('a', import.meta.url)",
            "x = this",
            "(a) = 1",
            "f() = 1",
            "[a] = b",
            "a == b",
            "a => b",
            "x = é",
            "x = a\u{2028}y = 2",
            "\u{feff}x = 1",
            "#!/usr/bin/env node\nx = 1",
            "let\n[a] = b",
            "x = a ? b : c",
            ";\"use strict\";x=1",
            "\"a\";;\"use strict\";x=1",
            "-1[0]=2",
            "x = -1[0] = 2",
            "-5.[0]=1",
            "-1n[0]=1",
            "x = -1(2)",
            "//! (c) Foo\nx=1",
            "x = a?.b",
        ] {
            assert_eq!(minify(src), None, "{src:?}");
        }
    }

    #[test]
    fn every_spelling_of_proto_counts() {
        for key in [
            "__proto__",
            "\\u005f_proto__",
            "\\x5f_proto__",
            "\\u{00005F}_proto__",
            "__pro\\\nto__",
            "__pro\\\r\nto__",
            "\\_\\_proto__",
        ] {
            assert!(super::spells_proto(key), "{key}");
        }
        for key in [
            "\\u017f",
            "\\u212a",
            "__\\p\\roto__",
            "__proto_",
            "__proto__\\0",
            "\\u{110000}_proto__",
        ] {
            assert!(!super::spells_proto(key), "{key}");
        }
        assert!(minify("x = {'\\u017f': 1, '\\u212a': 2}").is_some());
    }

    #[test]
    fn deep_nesting_is_left_to_swc() {
        let deep = format!("x = {}1{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(minify(&deep), None);
        let ok = format!("x = {}1{}", "[".repeat(50), "]".repeat(50));
        assert_eq!(minify(&ok), Some(ok.replace(' ', "")));
    }
}
