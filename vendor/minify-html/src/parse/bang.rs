use crate::ast::NodeData;
use crate::parse::Code;
use std::borrow::Cow;
use memchr::memchr;

pub fn parse_bang<'c>(code: &mut Code<'c>) -> NodeData<'c> {
  debug_assert!(code.as_slice().starts_with(b"<!"));
  code.shift(2);
  let (len, matched) = match memchr(b'>', code.as_slice()) {
    Some(m) => (m, 1),
    None => (code.rem(), 0),
  };
  // sitevault patch: borrowed from the source, not copied.
  let data = Cow::Borrowed(code.slice_and_shift(len));
  // It might be EOF.
  code.shift(matched);
  NodeData::Bang {
    code: data,
    ended: matched > 0,
  }
}
