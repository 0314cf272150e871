use crate::parse::end_tag::OpenElements;
use minify_html_common::gen::codepoints::Lookup;

pub mod bang;
pub mod comment;
pub mod content;
pub mod doctype;
pub mod element;
pub mod end_tag;
pub mod instruction;
pub mod script;
pub mod style;
#[cfg(test)]
mod tests;
pub mod textarea;
pub mod title;

#[derive(Default, Clone, Debug)]
pub struct ParseOpts {
  pub treat_brace_as_opaque: bool,
  pub treat_chevron_percent_as_opaque: bool,
}

pub struct Code<'c> {
  code: &'c [u8],
  next: usize,
  pub(crate) opts: ParseOpts,

  pub seen_html_open: bool,
  pub seen_head_open: bool,
  pub seen_head_close: bool,
  pub seen_body_open: bool,
  // sitevault patch 13: the elements open around the current position, the outermost first
  // (`end_tag`).
  pub open: OpenElements<'c>,
  // sitevault patch 13: an end tag that closed elements left open inside its element is on
  // its way down to that element, which writes it whatever the omission rules say.
  pub closes_open: bool,
  // sitevault patch 21: the children of the elements being parsed, innermost last
  // (`parse_content`).
  pub(crate) scratch: Vec<crate::ast::NodeData<'c>>,
}

impl<'c> Code<'c> {
  pub fn new_with_opts(code: &[u8], opts: ParseOpts) -> Code<'_> {
    Code {
      code,
      next: 0,
      opts,
      seen_html_open: false,
      seen_head_open: false,
      seen_head_close: false,
      seen_body_open: false,
      open: OpenElements::default(),
      closes_open: false,
      scratch: Vec::new(),
    }
  }

  pub fn new(code: &[u8]) -> Code<'_> {
    Code::new_with_opts(code, ParseOpts::default())
  }

  pub fn as_slice(&self) -> &[u8] {
    &self.code[self.next..]
  }

  // sitevault patch: the rest of the source, borrowed from the source rather than from
  // `self`, so a name peeked from it outlives the next shift.
  pub fn rest(&self) -> &'c [u8] {
    &self.code[self.next..]
  }

  pub fn at_end(&self) -> bool {
    debug_assert!(self.next <= self.code.len());
    self.next == self.code.len()
  }

  pub fn shift_if_next(&mut self, c: u8) -> bool {
    if self.code.get(self.next).filter(|&&n| n == c).is_some() {
      self.next += 1;
      true
    } else {
      false
    }
  }

  pub fn shift_if_next_seq_case_insensitive(&mut self, seq: &[u8]) -> bool {
    if self
      .code
      .get(self.next..self.next + seq.len())
      .filter(|n| n.eq_ignore_ascii_case(seq))
      .is_some()
    {
      self.next += seq.len();
      true
    } else {
      false
    }
  }

  pub fn shift_if_next_in_lookup(&mut self, lookup: &'static Lookup) -> Option<u8> {
    let c = self.code.get(self.next).filter(|&&n| lookup[n]).copied();
    if c.is_some() {
      self.next += 1;
    };
    c
  }

  pub fn shift_if_next_not_in_lookup(&mut self, lookup: &'static Lookup) -> Option<u8> {
    let c = self.code.get(self.next).filter(|&&n| !lookup[n]).copied();
    if c.is_some() {
      self.next += 1;
    };
    c
  }

  pub fn shift(&mut self, n: usize) {
    self.next += n;
  }

  // sitevault patch: the slices below are borrowed from the source (`'c`), not from `self`,
  // so the AST can keep them; `copy_and_shift` and `copy_and_shift_while_in_lookup` (which
  // copied them) are gone.
  pub fn slice_and_shift(&mut self, n: usize) -> &'c [u8] {
    let code: &'c [u8] = self.code;
    let str = &code[self.next..self.next + n];
    self.next += n;
    str
  }

  // sitevault patch: borrowed, as `slice_and_shift` (was `copy_and_shift_while_in_lookup`).
  pub fn slice_and_shift_while_in_lookup(&mut self, lookup: &'static Lookup) -> &'c [u8] {
    let mut len = 0;
    loop {
      match self.code.get(self.next + len) {
        Some(&c) if lookup[c] => len += 1,
        _ => break,
      };
    }
    self.slice_and_shift(len)
  }

  // sitevault patch: where the next byte is, and the source from `start` to there (an
  // attribute name read in two steps is one slice of the source).
  pub fn pos(&self) -> usize {
    self.next
  }

  pub fn slice_since(&self, start: usize) -> &'c [u8] {
    let code: &'c [u8] = self.code;
    &code[start..self.next]
  }

  pub fn slice_and_shift_while_not_in_lookup(&mut self, lookup: &'static Lookup) -> &'c [u8] {
    let mut len = 0;
    loop {
      match self.code.get(self.next + len) {
        Some(&c) if !lookup[c] => len += 1,
        _ => break,
      };
    }
    self.slice_and_shift(len)
  }

  // Returns the last character matched.
  pub fn shift_while_in_lookup(&mut self, lookup: &'static Lookup) -> Option<u8> {
    let mut last: Option<u8> = None;
    loop {
      match self.code.get(self.next) {
        Some(&c) if lookup[c] => {
          self.next += 1;
          last = Some(c);
        }
        _ => break,
      };
    }
    last
  }

  pub fn rem(&self) -> usize {
    self.code.len() - self.next
  }
}
