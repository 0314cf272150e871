use crate::ast::NodeData;
use crate::ast::RcdataContentType;
use crate::entity::decode::decode_entities;
use crate::parse::content::ParsedContent;
use crate::parse::Code;
use crate::tag::TAG_TITLE_END;

// sitevault patch: the text is borrowed from the source unless it has entities
// (`decode_entities`).
pub fn parse_title_content<'c>(code: &mut Code<'c>) -> ParsedContent<'c> {
  let (len, closing_tag_omitted) = match TAG_TITLE_END.find(code.as_slice()) {
    Some(m) => (m.start(), false),
    None => (code.rem(), true),
  };
  ParsedContent {
    closing_tag_omitted,
    closed_by_ancestor: false, // sitevault patch 13
    children: vec![NodeData::RcdataContent {
      typ: RcdataContentType::Title,
      text: decode_entities(code.slice_and_shift(len), false),
    }],
  }
}
