use crate::ast::NodeData;
use crate::parse::Code;
use memchr::memchr;
use minify_html_common::gen::codepoints::WHITESPACE;
use std::borrow::Cow;

pub fn parse_doctype<'c>(code: &mut Code<'c>) -> NodeData<'c> {
  debug_assert!(code.as_slice()[..9].eq_ignore_ascii_case(b"<!doctype"));
  let start = code.pos();
  code.shift(9);
  code.shift_while_in_lookup(WHITESPACE);
  // sitevault patch 15: a doctype whose name is not `html` (`<!doctype>`, `<!doctype
  // htmlx>`) puts the page in quirks mode; the original wrote `<!doctype html>` for it,
  // which takes the page out. Kept as written.
  let named_html = code.as_slice().len() >= 4
    && code.as_slice()[..4].eq_ignore_ascii_case(b"html")
    && matches!(
      code.as_slice().get(4),
      None | Some(b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0C')
    );
  if !named_html {
    let len = memchr(b'>', code.as_slice()).map_or(code.rem(), |m| m + 1);
    code.shift(len);
    return NodeData::Opaque {
      raw_source: Cow::Borrowed(code.slice_since(start)),
    };
  }
  code.shift_if_next_seq_case_insensitive(b"html");
  code.shift_while_in_lookup(WHITESPACE);
  let (len, matched) = match memchr(b'>', code.as_slice()) {
    Some(m) => (m, 1),
    None => (code.rem(), 0),
  };
  // sitevault patch: borrowed from the source, not copied.
  let data = Cow::Borrowed(code.slice_and_shift(len));
  // It might be EOF.
  code.shift(matched);
  NodeData::Doctype {
    legacy: data,
    ended: matched > 0,
  }
}
