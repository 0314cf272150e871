use crate::ast::AttrVal;
use crate::ast::Attrs;
use crate::ast::ElementClosingTag;
use crate::ast::NodeData;
use crate::ast::ScriptOrStyleLang;
use crate::entity::decode::decode_entities;
use crate::parse::content::parse_content;
use crate::parse::content::ParsedContent;
use crate::parse::script::parse_script_content;
use crate::parse::style::parse_style_content;
use crate::parse::textarea::parse_textarea_content;
use crate::parse::title::parse_title_content;
use crate::parse::Code;
use crate::tag::text_end;
use minify_html_common::gen::codepoints::ATTR_QUOTE;
use minify_html_common::gen::codepoints::DOUBLE_QUOTE;
use minify_html_common::gen::codepoints::NOT_UNQUOTED_ATTR_VAL_CHAR;
use minify_html_common::gen::codepoints::SINGLE_QUOTE;
use minify_html_common::gen::codepoints::TAG_NAME_CHAR;
use minify_html_common::gen::codepoints::WHITESPACE;
use minify_html_common::gen::codepoints::WHITESPACE_OR_SLASH;
use minify_html_common::gen::codepoints::WHITESPACE_OR_SLASH_OR_EQUALS_OR_RIGHT_CHEVRON;
use minify_html_common::spec::script::JAVASCRIPT_MIME_TYPES;
use minify_html_common::spec::tag::ns::Namespace;
use std::borrow::Cow;
use std::fmt::Debug;
use std::fmt::Formatter;
use std::str::from_utf8;

// sitevault patch: a tag or attribute name as the parser keeps it, lower-cased: borrowed
// from the source unless it has capitals.
fn lowercased(name: &[u8]) -> Cow<'_, [u8]> {
  if name.iter().any(u8::is_ascii_uppercase) {
    Cow::Owned(name.to_ascii_lowercase())
  } else {
    Cow::Borrowed(name)
  }
}

// sitevault patch: borrowed from the source unless it has capitals (`lowercased`).
fn parse_tag_name<'c>(code: &mut Code<'c>) -> Cow<'c, [u8]> {
  debug_assert!(code.as_slice().starts_with(b"<"));
  code.shift(1);
  code.shift_if_next(b'/');
  lowercased(code.slice_and_shift_while_in_lookup(TAG_NAME_CHAR))
}

// sitevault patch: the name is borrowed from the source unless it has capitals (it is
// peeked at every tag; copying it was one allocation per tag).
pub fn peek_tag_name<'c>(code: &Code<'c>) -> Cow<'c, [u8]> {
  let rest = code.rest();
  debug_assert!(rest.starts_with(b"<"));
  let start = if rest.get(1) == Some(&b'/') { 2 } else { 1 };
  let len = rest[start..]
    .iter()
    .position(|&c| !TAG_NAME_CHAR[c])
    .unwrap_or(rest.len() - start);
  // sitevault patch: shared with `parse_tag_name` and attribute names.
  lowercased(&rest[start..start + len])
}

// Derive Eq for testing.
// sitevault patch: the name and attributes borrow from the source (`'c`).
#[derive(Eq, PartialEq)]
pub struct ParsedTag<'c> {
  pub attributes: Attrs<'c>,
  pub name: Cow<'c, [u8]>,
  pub self_closing: bool,
  // sitevault patch 18: the page ended inside the tag (no `>`), which browsers then drop.
  pub cut: bool,
}

impl Debug for ParsedTag<'_> {
  fn fmt(&self, f: &mut Formatter<'_>) -> std::fmt::Result {
    f.write_fmt(format_args!("<{}", from_utf8(&self.name).unwrap()))?;
    let mut attrs = self.attributes.iter().collect::<Vec<_>>();
    attrs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (n, v) in attrs {
      f.write_fmt(format_args!(" {}={:?}", from_utf8(n).unwrap(), v))?;
    }
    if self.self_closing {
      f.write_str(" />")?;
    };
    std::fmt::Result::Ok(())
  }
}

// While not valid, attributes in closing tags still need to be parsed (and then discarded) as attributes e.g. `</div x=">">`, which is why this function is used for both opening and closing tags.
pub fn parse_tag<'c>(code: &mut Code<'c>) -> ParsedTag<'c> {
  read_tag::<true>(code)
}

// sitevault patch: consumes a tag as `parse_tag` does, keeping nothing (closing and ignored
// tags, whose parse was dropped: a name, a map and its entries for each).
pub fn skip_tag(code: &mut Code) {
  read_tag::<false>(code);
}

// sitevault patch: `parse_tag`'s body, building the name and attributes only with `KEEP`
// (both read the same bytes).
// sitevault patch: names and values are borrowed from the source where they are as written
// (no capitals in a name, no entity in a value).
fn read_tag<'c, const KEEP: bool>(code: &mut Code<'c>) -> ParsedTag<'c> {
  let elem_name = if KEEP {
    parse_tag_name(code)
  } else {
    code.shift(1);
    code.shift_if_next(b'/');
    code.shift_while_in_lookup(TAG_NAME_CHAR);
    Cow::Borrowed(&[][..])
  };
  let mut attributes = Attrs::default();
  let self_closing;
  let cut;
  loop {
    // At the beginning of this loop, the last parsed unit was either the tag name or an attribute (including its value, if it had one).
    let last = code.shift_while_in_lookup(WHITESPACE_OR_SLASH);
    let at_end = code.at_end();
    if at_end || code.shift_if_next(b'>') {
      cut = at_end;
      self_closing = last.filter(|&c| c == b'/').is_some();
      // End of tag.
      break;
    };
    // sitevault patch: the name is the source's bytes from `name_start` (the first byte and
    // the rest were read one after the other), lower-cased (`lowercased`).
    let name_start = code.pos();
    // An attribute name can start with `=`, but ends at the next whitespace, `=`, `/`, or `>`.
    code.shift_if_next_not_in_lookup(WHITESPACE_OR_SLASH);
    code.slice_and_shift_while_not_in_lookup(WHITESPACE_OR_SLASH_OR_EQUALS_OR_RIGHT_CHEVRON);
    let attr_name = if KEEP {
      lowercased(code.slice_since(name_start))
    } else {
      Cow::Borrowed(&[][..])
    };
    debug_assert!(!KEEP || !attr_name.is_empty());
    // See comment for WHITESPACE_OR_SLASH in codepoints.ts for details of complex attr parsing.
    code.shift_while_in_lookup(WHITESPACE);
    let has_value = code.shift_if_next(b'=');
    code.shift_while_in_lookup(WHITESPACE);
    // sitevault patch: values borrowed unless decoded (`decode_entities`).
    let attr_value = if !has_value {
      AttrVal {
        quote: None,
        value: Cow::Borrowed(&[][..]),
      }
    } else {
      // TODO Replace ATTR_QUOTE with direct comparison.
      let attr_delim = code.shift_if_next_in_lookup(ATTR_QUOTE);
      // It seems that for unquoted attribute values, if it's the last value in a tag and is immediately followed by `>`, any trailing `/` is NOT interpreted as a self-closing indicator and is always included as part of the value, even for SVG self-closable elements.
      let attr_delim_pred = match attr_delim {
        Some(b'"') => DOUBLE_QUOTE,
        Some(b'\'') => SINGLE_QUOTE,
        None => NOT_UNQUOTED_ATTR_VAL_CHAR,
        _ => unreachable!(),
      };
      let raw = code.slice_and_shift_while_not_in_lookup(attr_delim_pred);
      let attr_value = if KEEP {
        decode_entities(raw, true)
      } else {
        Cow::Borrowed(&[][..])
      };
      if let Some(c) = attr_delim {
        // It might not be next if EOF (i.e. attribute value not closed).
        code.shift_if_next(c);
      };
      AttrVal {
        quote: attr_delim,
        value: attr_value,
      }
    };
    if KEEP {
      attributes.insert(attr_name, attr_value);
    }
  }
  attributes.finish();
  ParsedTag {
    attributes,
    name: elem_name,
    self_closing,
    cut,
  }
}

// `<` must be next. `parent` should be an empty slice if it doesn't exist.
// sitevault patch: the element borrows from the source (`'c`); its name is a `Cow`.
// sitevault patch 13: `_ns`, the parent's namespace, is no longer read: the element's is the
// one browsers give it (`Start::namespace`).
pub fn parse_element<'c>(code: &mut Code<'c>, _ns: Namespace, parent: &[u8]) -> NodeData<'c> {
  let at = code.pos();
  let ParsedTag {
    name: elem_name,
    attributes,
    self_closing,
    cut,
  } = parse_tag(code);
  // sitevault patch 18: a start tag the page ends in makes no element in browsers (the
  // tokenizer drops it at the end of the file): it is kept as written, the last bytes of
  // the output, where the original wrote it whole (`<div><p class=x` became
  // `<div><p class=x>`, a paragraph the page did not have).
  if cut {
    return NodeData::Opaque {
      raw_source: Cow::Borrowed(code.slice_since(at)),
    };
  }

  // sitevault patch 13: the namespace browsers give the element (`Start::namespace`), where
  // the original gave an `<svg>` and everything in it the SVG namespace.
  let font_attrs = [&b"color"[..], b"face", b"size"]
    .iter()
    .any(|a| attributes.get(a).is_some());
  let start = code.open.start(&elem_name, font_attrs);
  let ns = start.namespace();

  // Only foreign elements can be self closed.
  // sitevault patch 13: MathML's too (`<mspace/>`), which the parser reads as HTML.
  if self_closing && start.foreign() {
    return NodeData::Element {
      attributes,
      children: Vec::new(),
      closing_tag: ElementClosingTag::SelfClosing,
      name: elem_name,
      namespace: ns,
    };
  };
  // sitevault patch 22: a match, not a hash lookup (`crate::tag::is_void`).
  if crate::tag::is_void(&elem_name) {
    return NodeData::Element {
      attributes,
      children: Vec::new(),
      closing_tag: ElementClosingTag::Void,
      name: elem_name,
      namespace: ns,
    };
  };

  let ParsedContent {
    closing_tag_omitted,
    closes_open,
    children,
  } = match (ns, &*elem_name) {
    (_, b"script") => match attributes.get(b"type") {
      Some(typ) if typ.as_slice() == b"module" => {
        parse_script_content(code, ScriptOrStyleLang::JSModule)
      }
      Some(mime) if !JAVASCRIPT_MIME_TYPES.contains(mime.as_slice()) => {
        parse_script_content(code, ScriptOrStyleLang::Data)
      }
      _ => parse_script_content(code, ScriptOrStyleLang::JS),
    },
    (_, b"style") => parse_style_content(code),
    (Namespace::Html, b"textarea") => parse_textarea_content(code),
    // sitevault patch 19: raw text in browsers (the tokenizer's RAWTEXT state): its
    // content is one text node, with no elements and no references, kept as written. The
    // original read it as markup: `<iframe>x&amp;y</iframe>`'s text `x&amp;y` became `x&y`,
    // spaces were collapsed, and tags in it were rewritten.
    (Namespace::Html, b"iframe" | b"noembed" | b"noframes" | b"xmp") => {
      let (len, closing_tag_omitted) = match text_end(code.as_slice(), &elem_name) {
        Some(m) => (m, false),
        None => (code.rem(), true),
      };
      let raw = code.slice_and_shift(len);
      ParsedContent {
        closing_tag_omitted,
        closes_open: false,
        children: if raw.is_empty() {
          Vec::new()
        } else {
          vec![NodeData::Opaque {
            raw_source: Cow::Borrowed(raw),
          }]
        },
      }
    }
    (Namespace::Html, b"title") => parse_title_content(code),
    _ => {
      // sitevault patch 13: open while its content is read (`end_tag`).
      code.open.push(elem_name.clone(), start);
      let content = parse_content(code, ns, parent, &elem_name);
      code.open.pop();
      content
    }
  };

  if !closing_tag_omitted {
    // sitevault patch: consumed, not built (it was dropped). Patch 13: `</h2>` closes an
    // `<h1>`, so the name may differ.
    skip_tag(code);
  };

  NodeData::Element {
    attributes,
    children,
    // sitevault patch 13: an element that an outer element's end tag closed keeps its end
    // tag left out, as in the source (writing it would change what browsers build where
    // the parser's tree is not theirs: a formatting element they open again, an element a
    // start tag closed); the outer element's end tag is then always written (`Forced`).
    closing_tag: if closing_tag_omitted {
      ElementClosingTag::Omitted
    } else if closes_open {
      ElementClosingTag::Forced
    } else {
      ElementClosingTag::Present
    },
    name: elem_name,
    namespace: ns,
  }
}
