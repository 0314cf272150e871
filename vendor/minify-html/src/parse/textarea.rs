use crate::ast::NodeData;
use crate::ast::RcdataContentType;
use crate::entity::decode::decode_entities;
use crate::parse::content::ParsedContent;
use crate::parse::Code;
use crate::tag::text_end;

// sitevault patch: the text is borrowed from the source unless it has entities
// (`decode_entities`).
pub fn parse_textarea_content<'c>(code: &mut Code<'c>) -> ParsedContent<'c> {
  // sitevault patch 14: the end tag as the tokenizer reads it (`text_end`).
  let (len, closing_tag_omitted) = match text_end(code.as_slice(), b"textarea") {
    Some(m) => (m, false),
    None => (code.rem(), true),
  };
  ParsedContent {
    closing_tag_omitted,
    closes_open: false, // sitevault patch 13
    children: vec![NodeData::RcdataContent {
      typ: RcdataContentType::Textarea,
      text: decode_entities(code.slice_and_shift(len), false),
    }],
  }
}
