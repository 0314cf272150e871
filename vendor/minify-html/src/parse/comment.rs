use crate::ast::NodeData;
use crate::parse::Code;
use std::borrow::Cow;
use aho_corasick::AhoCorasick;
use aho_corasick::AhoCorasickBuilder;
use once_cell::sync::Lazy;

// sitevault patch (12): a comment ends where the HTML standard ends it: at the first `-->` or
// `--!>` (the original ran past a `--!>` to the next `-->`, taking the markup between).
static COMMENT_END: Lazy<AhoCorasick> =
  Lazy::new(|| AhoCorasickBuilder::new().build(["-->", "--!>"]).unwrap());

pub fn parse_comment<'c>(code: &mut Code<'c>) -> NodeData<'c> {
  debug_assert!(code.as_slice().starts_with(b"<!--"));
  code.shift(4);
  let rest = code.as_slice();
  // sitevault patch (12): `<!-->` and `<!--->` are empty comments, ended at once.
  let (len, matched) = if rest.starts_with(b">") {
    (0, 1)
  } else if rest.starts_with(b"->") {
    (0, 2)
  } else {
    match COMMENT_END.find(rest) {
      Some(m) => (m.start(), m.end() - m.start()),
      None => (code.rem(), 0),
    }
  };
  // sitevault patch: borrowed from the source, not copied.
  let data = Cow::Borrowed(code.slice_and_shift(len));
  // It might be EOF.
  code.shift(matched);
  NodeData::Comment {
    code: data,
    ended: matched > 0,
  }
}
