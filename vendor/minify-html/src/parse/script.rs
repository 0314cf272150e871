use crate::ast::NodeData;
use crate::ast::ScriptOrStyleLang;
use crate::parse::content::ParsedContent;
use crate::parse::Code;
use crate::tag::script_end;
use std::borrow::Cow;

pub fn parse_script_content<'c>(code: &mut Code<'c>, lang: ScriptOrStyleLang) -> ParsedContent<'c> {
  // sitevault patch 14: the end tag as the tokenizer reads it (`script_end`).
  let (len, closing_tag_omitted) = match script_end(code.as_slice()) {
    Some(m) => (m, false),
    None => (code.rem(), true),
  };
  ParsedContent {
    closing_tag_omitted,
    closes_open: false, // sitevault patch 13
    children: vec![NodeData::ScriptOrStyleContent {
      // sitevault patch: borrowed from the source, not copied.
      code: Cow::Borrowed(code.slice_and_shift(len)),
      lang,
    }],
  }
}
