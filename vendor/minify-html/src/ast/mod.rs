use minify_html_common::spec::tag::ns::Namespace;
use std::borrow::Cow;
use std::fmt::Debug;
use std::fmt::Formatter;
use std::str::from_utf8;

pub mod c14n;

#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum ElementClosingTag {
  Omitted,
  Present,
  // sitevault patch 13: present, and written whatever the omission rules say: it closed
  // elements left open inside (which keep their end tags left out, as in the source).
  Forced,
  SelfClosing,
  Void,
}

#[derive(Copy, Clone, Eq, PartialEq, Debug)]
#[allow(clippy::upper_case_acronyms)]
pub enum ScriptOrStyleLang {
  CSS,
  Data,
  JS,
  JSModule,
}

// sitevault patch: the value is borrowed from the page when it had no entity to decode.
pub struct AttrVal<'a> {
  // For serialisation only, not used for equality or value.
  pub quote: Option<u8>,
  pub value: Cow<'a, [u8]>,
}

impl AttrVal<'_> {
  pub fn as_slice(&self) -> &[u8] {
    &self.value
  }
}

impl Debug for AttrVal<'_> {
  fn fmt(&self, f: &mut Formatter<'_>) -> std::fmt::Result {
    f.write_str(from_utf8(&self.value).unwrap())
  }
}

impl PartialEq for AttrVal<'_> {
  fn eq(&self, other: &Self) -> bool {
    self.value == other.value
  }
}

impl Eq for AttrVal<'_> {}

// sitevault patch: an element's attributes as a list rather than a hash map. Elements have a
// few attributes; hashing, building and iterating a map for each was about a tenth of the
// time. (Patch 11: the first of two attributes of one name is kept, as browsers keep it;
// the map's `insert` kept the last.)
// sitevault patch: names and values borrowed from the page where they are as written
// (a name without capitals, a value without entities).
#[derive(Default)]
pub struct Attrs<'a>(Vec<(Cow<'a, [u8]>, AttrVal<'a>)>);

impl<'a> Attrs<'a> {
  /// Adds an attribute; call `finish` before reading (the first of a name wins).
  pub fn insert(&mut self, name: Cow<'a, [u8]>, value: AttrVal<'a>) {
    self.0.push((name, value));
  }

  /// Keeps the first of each name, as browsers do (patch 11). Linear for the usual few,
  /// `n log n` for many (a tag with thousands of attributes is not quadratic).
  pub fn finish(&mut self) {
    let n = self.0.len();
    if n < 2 {
      return;
    }
    if n <= 16 {
      let mut i = 1;
      while i < self.0.len() {
        if self.0[..i].iter().any(|(k, _)| *k == self.0[i].0) {
          self.0.remove(i);
        } else {
          i += 1;
        }
      }
    } else {
      // A stable sort keeps each name's occurrences in source order, and `dedup_by` keeps
      // the first of a run.
      self.0.sort_by(|a, b| a.0.cmp(&b.0));
      self.0.dedup_by(|a, b| a.0 == b.0);
    }
  }

  pub fn get(&self, name: &[u8]) -> Option<&AttrVal<'a>> {
    self.0.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
  }

  // sitevault patch: names as slices.
  pub fn iter(&self) -> impl Iterator<Item = (&[u8], &AttrVal<'a>)> {
    self.0.iter().map(|(k, v)| (&**k, v))
  }

  pub fn len(&self) -> usize {
    self.0.len()
  }
}

impl<'a> IntoIterator for Attrs<'a> {
  type Item = (Cow<'a, [u8]>, AttrVal<'a>);
  type IntoIter = std::vec::IntoIter<(Cow<'a, [u8]>, AttrVal<'a>)>;

  fn into_iter(self) -> Self::IntoIter {
    self.0.into_iter()
  }
}

// Equal as maps: the same names with the same values, in any order.
impl PartialEq for Attrs<'_> {
  fn eq(&self, other: &Self) -> bool {
    self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
  }
}

impl Eq for Attrs<'_> {}

#[derive(Eq, PartialEq, Debug)]
pub enum RcdataContentType {
  Textarea,
  Title,
}

// Derive Eq for testing.
// sitevault patch: every byte string is borrowed from the page where it is as written
// (`'a`): text and attribute values without entities, names without capitals, and the
// others (comments, script and style contents, ...) always; merged or decoded text, and
// lower-cased names, are owned.
#[derive(Eq, PartialEq)]
pub enum NodeData<'a> {
  Bang {
    code: Cow<'a, [u8]>,
    // If the source unexpectedly ended before `>`, we can't add it, as otherwise output could be longer than source.
    ended: bool,
  },
  Comment {
    code: Cow<'a, [u8]>,
    // If the source unexpectedly ended before `-->`, we can't add it, as otherwise output could be longer than source.
    ended: bool,
  },
  Doctype {
    legacy: Cow<'a, [u8]>,
    // If the source unexpectedly ended before `>`, we can't add it, as otherwise output could be longer than source.
    ended: bool,
  },
  Element {
    attributes: Attrs<'a>,
    children: Vec<NodeData<'a>>,
    // If the source doesn't have a closing tag, then we can't add one, as otherwise output could be longer than source.
    closing_tag: ElementClosingTag,
    name: Cow<'a, [u8]>,
    namespace: Namespace,
    // sitevault patch: no `next_sibling_element_name`; minification looks the next sibling
    // up (`next_sibling_name` in `src/minify/content.rs`).
  },
  Instruction {
    code: Cow<'a, [u8]>,
    // If the source unexpectedly ended before `?>`, we can't add it, as otherwise output could be longer than source.
    ended: bool,
  },
  // <title> or <textarea> element contents.
  RcdataContent {
    typ: RcdataContentType,
    text: Cow<'a, [u8]>,
  },
  // Entities should not be decoded in ScriptOrStyleContent.
  ScriptOrStyleContent {
    code: Cow<'a, [u8]>,
    lang: ScriptOrStyleLang,
  },
  Text {
    value: Cow<'a, [u8]>,
  },
  // Usually templating syntax, including any opening and closing delimiters.
  Opaque {
    raw_source: Cow<'a, [u8]>,
  },
}

impl Debug for NodeData<'_> {
  fn fmt(&self, f: &mut Formatter<'_>) -> std::fmt::Result {
    match self {
      NodeData::Bang { code, ended } => f
        .debug_struct("Bang")
        .field("code", &from_utf8(code).unwrap().to_string())
        .field("ended", ended)
        .finish(),
      NodeData::Comment { code, ended } => f
        .debug_struct("Comment")
        .field("code", &from_utf8(code).unwrap().to_string())
        .field("ended", ended)
        .finish(),
      NodeData::Doctype { legacy, ended } => f
        .debug_struct("Doctype")
        .field("legacy", &from_utf8(legacy).unwrap().to_string())
        .field("ended", ended)
        .finish(),
      NodeData::Element {
        attributes,
        children,
        closing_tag,
        name,
        namespace,
      } => f
        .debug_struct("Element")
        .field("tag", &{
          let mut out = format!("{:?}:{}", namespace, from_utf8(name).unwrap());
          for (n, v) in attributes.iter() {
            out.push_str(format!(" {}={:?}", from_utf8(n).unwrap(), v).as_str());
          }
          out
        })
        .field("children", children)
        .field("closing_tag", closing_tag)
        .finish(),
      NodeData::Instruction { code, ended } => f
        .debug_struct("Instruction")
        .field("code", &from_utf8(code).unwrap().to_string())
        .field("ended", ended)
        .finish(),
      NodeData::RcdataContent { typ, text } => f
        .debug_struct("RcdataContent")
        .field("typ", typ)
        .field("text", &from_utf8(text).unwrap().to_string())
        .finish(),
      NodeData::ScriptOrStyleContent { code, lang } => f
        .debug_struct("ScriptOrStyleContent")
        .field("code", &from_utf8(code).unwrap().to_string())
        .field("lang", lang)
        .finish(),
      NodeData::Text { value } => f.write_str(from_utf8(value).unwrap()),
      NodeData::Opaque { raw_source } => f
        .debug_struct("Opaque")
        .field("raw_source", &from_utf8(raw_source).unwrap().to_string())
        .finish(),
    }
  }
}
