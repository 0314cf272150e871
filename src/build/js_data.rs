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

mod literals;

use literals::spells_proto;

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

    /// After an item of a list that ends at `close`: its comma (dropped when `close`
    /// follows) or `close` itself (true, not consumed).
    fn after_item(&mut self, close: u8) -> R<bool> {
        self.ws()?;
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                self.ws()?;
                if self.peek() != Some(close) {
                    self.out.push(',');
                }
                Ok(false)
            }
            Some(b) if b == close => Ok(true),
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
            if self.after_item(close)? {
                break;
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
            if self.after_item(b']')? {
                break;
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
                        if is_identifier_name(text) || super::js::canonical_index(text).is_some() {
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
            if self.after_item(b'}')? {
                break;
            }
        }
        self.i += 1;
        self.out.push('}');
        Ok(())
    }
}

fn is_licence(comment: &[u8]) -> bool {
    comment.starts_with(b"/*!")
        || comment.starts_with(b"//!")
        || memchr::memmem::find(comment, b"@license").is_some()
        || memchr::memmem::find(comment, b"@preserve").is_some()
}

pub(super) fn is_identifier_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if is_ident_start(c)) && b.all(is_ident_part)
}

#[cfg(test)]
mod tests;
