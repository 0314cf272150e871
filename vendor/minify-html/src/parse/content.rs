use crate::ast::NodeData;
use crate::entity::decode::decode_entities;
use crate::parse::bang::parse_bang;
use crate::parse::comment::parse_comment;
use crate::parse::content::ContentType::*;
use crate::parse::doctype::parse_doctype;
use crate::parse::element::parse_element;
use crate::parse::element::peek_tag_name;
use crate::parse::element::skip_tag;
use crate::parse::end_tag::closes_p;
use crate::parse::end_tag::EndTag;
use crate::parse::instruction::parse_instruction;
use crate::parse::Code;
use aho_corasick::AhoCorasick;
use aho_corasick::AhoCorasickBuilder;
use aho_corasick::MatchKind;
use minify_html_common::spec::tag::ns::Namespace;
use crate::tag::can_omit_as_before;
use crate::tag::can_omit_as_last_node;
use once_cell::sync::Lazy;
use std::borrow::Cow;

#[derive(Copy, Clone, Eq, PartialEq)]
enum ContentType {
  Bang,
  ClosingTag,
  Comment,
  Doctype,
  IgnoredTag,
  Instruction,
  MalformedLeftChevronSlash,
  OmittedClosingTag,
  OpeningTag,
  Text,
  // Pebble, Mustache, Django, Go, Jinja, Twix, Nunjucks, Handlebars, Liquid.
  OpaqueBraceBrace,
  OpaqueBraceHash,
  OpaqueBracePercent,
  // Sailfish, JSP, EJS, ERB.
  OpaqueChevronPercent,
  // sitevault patch 13: an end tag that closes an element further out (`end_tag`); the
  // current element ends here, its end tag left out as in the source, and the tag is left
  // for the levels below.
  ClosedByAncestor,
  // sitevault patch 13: an end tag that closes nothing by the rules `end_tag` follows, kept
  // as written: browsers may act on it where the parser's tree is not theirs (a `</p>` or
  // `</br>` makes an element, a formatting element's ends it, a `<select>` read the 2025
  // way).
  KeptEndTag,
}

fn maybe_ignore_html_head_body(
  code: &mut Code,
  typ: ContentType,
  parent: &[u8],
  name: &[u8],
) -> ContentType {
  match (typ, name, parent) {
    (OpeningTag, b"html", _) => {
      if code.seen_html_open {
        IgnoredTag
      } else {
        code.seen_html_open = true;
        typ
      }
    }
    (OpeningTag, b"head", _) => {
      if code.seen_head_open {
        IgnoredTag
      } else {
        code.seen_head_open = true;
        typ
      }
    }
    (ClosingTag, b"head", _) => {
      if code.seen_head_close {
        IgnoredTag
      } else {
        code.seen_head_close = true;
        typ
      }
    }
    (OmittedClosingTag, _, b"head") => {
      code.seen_head_close = true;
      typ
    }
    (OpeningTag, b"body", _) => {
      if code.seen_body_open {
        IgnoredTag
      } else {
        code.seen_body_open = true;
        typ
      }
    }
    _ => typ,
  }
}

fn build_content_type_matcher(
  with_opaque_brace: bool,
  with_opaque_chevron_percent: bool,
) -> (AhoCorasick, Vec<ContentType>) {
  let mut patterns = Vec::<Vec<u8>>::new();
  let mut types = Vec::<ContentType>::new();

  // Only when the character after a `<` is a letter is the `<` an opening tag (patch 10).
  // Otherwise, the `<` is interpreted literally as part of text.
  // sitevault patch (10): an ASCII letter, as in the HTML standard (see `next_markup`).
  for c in 0u8..128u8 {
    if c.is_ascii_alphabetic() {
      patterns.push(vec![b'<', c]);
      types.push(ContentType::OpeningTag);
    };
  }

  patterns.push(b"</".to_vec());
  types.push(ContentType::ClosingTag);

  patterns.push(b"<?".to_vec());
  types.push(ContentType::Instruction);

  patterns.push(b"<!doctype".to_vec());
  types.push(ContentType::Doctype);

  patterns.push(b"<!".to_vec());
  types.push(ContentType::Bang);

  patterns.push(b"<!--".to_vec());
  types.push(ContentType::Comment);

  if with_opaque_brace {
    patterns.push(b"{{".to_vec());
    types.push(ContentType::OpaqueBraceBrace);

    patterns.push(b"{#".to_vec());
    types.push(ContentType::OpaqueBraceHash);

    patterns.push(b"{%".to_vec());
    types.push(ContentType::OpaqueBracePercent);
  };

  if with_opaque_chevron_percent {
    patterns.push(b"<%".to_vec());
    types.push(ContentType::OpaqueChevronPercent);
  };

  (
    AhoCorasickBuilder::new()
      .ascii_case_insensitive(true)
      .match_kind(MatchKind::LeftmostLongest)
      // Keep in sync with order of CONTENT_TYPE_FROM_PATTERN.
      .build(patterns)
      .unwrap(),
    types,
  )
}

// sitevault patch: the content matcher's leftmost-longest match without template syntax,
// without the automaton (`build_content_type_matcher(false, false)` is no longer built):
// the first `<` followed by an ASCII letter (an opening tag, patch 10), `/`, `?` or `!` (then
// `<!doctype` in any case, else `<!--`, else a bang, the longest that matches).
fn next_markup(s: &[u8]) -> Option<(usize, ContentType)> {
  let mut from = 0;
  while let Some(p) = memchr::memchr(b'<', &s[from..]) {
    let at = from + p;
    let rest = &s[at..];
    let typ = match rest.get(1) {
      // sitevault patch (10): a start tag opens only with an ASCII letter, as in the HTML
      // standard's tag open state; `<` before anything else is text (`I <3 you`, `a<1`),
      // where the original read a tag (`<3 you`) and rewrote the page's text.
      Some(&c) if c.is_ascii_alphabetic() => Some(OpeningTag),
      Some(b'/') => Some(ClosingTag),
      Some(b'?') => Some(Instruction),
      Some(b'!') => Some(
        if rest.len() >= 9 && rest[..9].eq_ignore_ascii_case(b"<!doctype") {
          Doctype
        } else if rest.starts_with(b"<!--") {
          Comment
        } else {
          Bang
        },
      ),
      _ => None,
    };
    if let Some(typ) = typ {
      return Some((at, typ));
    }
    from = at + 1;
  }
  None
}

static CONTENT_TYPE_MATCHER_OPAQUE_BRACE: Lazy<(AhoCorasick, Vec<ContentType>)> =
  Lazy::new(|| build_content_type_matcher(true, false));
static CONTENT_TYPE_MATCHER_OPAQUE_CP: Lazy<(AhoCorasick, Vec<ContentType>)> =
  Lazy::new(|| build_content_type_matcher(false, true));
static CONTENT_TYPE_MATCHER_OPAQUE_BRACE_CP: Lazy<(AhoCorasick, Vec<ContentType>)> =
  Lazy::new(|| build_content_type_matcher(true, true));

static CLOSING_BRACE_BRACE: Lazy<AhoCorasick> =
  Lazy::new(|| AhoCorasickBuilder::new().build(["}}"]).unwrap());
static CLOSING_BRACE_HASH: Lazy<AhoCorasick> =
  Lazy::new(|| AhoCorasickBuilder::new().build(["#}"]).unwrap());
static CLOSING_BRACE_PERCENT: Lazy<AhoCorasick> =
  Lazy::new(|| AhoCorasickBuilder::new().build(["%}"]).unwrap());
static CLOSING_CHEVRON_PERCENT: Lazy<AhoCorasick> =
  Lazy::new(|| AhoCorasickBuilder::new().build(["%>"]).unwrap());

// sitevault patch: the nodes borrow from the source (`'c`).
pub struct ParsedContent<'c> {
  pub children: Vec<NodeData<'c>>,
  pub closing_tag_omitted: bool,
  // sitevault patch 13: the element's end tag closed elements left open inside it.
  pub closes_open: bool,
}

// sitevault patch 17: a token dropped at the start of a `<pre>` or `<listing>` (an end tag
// that closes nothing, `</ x>`) came before the line feed that follows it, which browsers
// therefore keep: an empty opaque node stands in its place, so the minifier knows the
// content's first text did not follow the start tag (`minify::element`).
fn keep_first_line(nodes: &mut Vec<NodeData<'_>>, base: usize, ns: Namespace, parent: &[u8]) {
  if nodes.len() == base && ns == Namespace::Html && matches!(parent, b"pre" | b"listing") {
    nodes.push(NodeData::Opaque {
      raw_source: Cow::Borrowed(&[]),
    });
  }
}

// Use empty slice for `grandparent` or `parent` if none.
pub fn parse_content<'c>(
  code: &mut Code<'c>,
  ns: Namespace,
  grandparent: &[u8],
  parent: &[u8],
) -> ParsedContent<'c> {
  // We assume the closing tag has been omitted until we see one explicitly before EOF (or it has been omitted as per the spec).
  let mut closing_tag_omitted = true;
  let mut closes_open = false;
  // sitevault patch 21: the children are pushed onto the parser's scratch stack and moved
  // into a vector of their exact length at the end (one allocation, no regrowth).
  let base = code.scratch.len();
  // sitevault patch: the automaton only for template syntax (`next_markup` otherwise).
  let matcher = match (
    code.opts.treat_brace_as_opaque,
    code.opts.treat_chevron_percent_as_opaque,
  ) {
    (false, false) => None,
    (true, false) => Some(&CONTENT_TYPE_MATCHER_OPAQUE_BRACE),
    (false, true) => Some(&CONTENT_TYPE_MATCHER_OPAQUE_CP),
    (true, true) => Some(&CONTENT_TYPE_MATCHER_OPAQUE_BRACE_CP),
  };
  loop {
    // sitevault patch: without template syntax every pattern starts with `<`: found by
    // looking at the byte after each `<`, as the automaton's leftmost-longest match would.
    let found = match matcher {
      Some(matcher) => matcher
        .0
        .find(code.as_slice())
        .map(|m| (m.start(), matcher.1[m.pattern()])),
      None => next_markup(code.as_slice()),
    };
    let (text_len, mut typ) = found.unwrap_or((code.rem(), Text));
    // Due to dropped malformed code, it's possible for two or more text nodes to be contiguous. Ensure they always get merged into one.
    // NOTE: Even though bangs/comments/etc. have no effect on layout, they still split text (e.g. `&am<!-- -->p`).
    if text_len > 0 {
      // sitevault patch: the text is borrowed from the source unless it has entities; a text
      // merged into the one before makes that one owned.
      let text = decode_entities(code.slice_and_shift(text_len), false);
      match code.scratch[base..].last_mut() {
        Some(NodeData::Text { value }) => value.to_mut().extend_from_slice(&text),
        _ => code.scratch.push(NodeData::Text { value: text }),
      };
    };
    // Check using Parsing.md tag rules.
    #[allow(clippy::if_same_then_else)] // For readability.
    if typ == OpeningTag || typ == ClosingTag {
      let name = peek_tag_name(code);
      if typ == OpeningTag {
        debug_assert!(!name.is_empty());
        // sitevault patch 13: and the other start tags that close a `<p>` (`closes_p`).
        if can_omit_as_before(parent, &name) || (parent == b"p" && closes_p(&name)) {
          // The upcoming opening tag implicitly closes the current element e.g. `<tr><td>(current position)<td>`.
          typ = OmittedClosingTag;
        };
      } else if name.is_empty() {
        // Malformed code, drop until and including next `>`.
        typ = MalformedLeftChevronSlash;
      } else if parent.is_empty() || parent != &*name {
        // sitevault patch 13: an end tag of another element closes what the standard's rules
        // say it closes (`end_tag`), where the original dropped it (a void element's too),
        // or, for the parent's end tag, closed the current element whenever its end tag may
        // be omitted, also where browsers close nothing (`<svg><desc><p></desc>`: `p` is
        // special).
        typ = match code.open.end_tag(&name) {
          EndTag::Current => ClosingTag,
          // The upcoming closing tag implicitly closes the current element e.g. `<tr><td>(current position)</tr>`.
          EndTag::Ancestor
            if grandparent == &*name && can_omit_as_last_node(grandparent, parent) =>
          {
            OmittedClosingTag
          }
          EndTag::Ancestor => ClosedByAncestor,
          // `</body>` and `</html>` close nothing in browsers either (what follows them goes
          // into the body), nor `</head>` out of the head: dropped, as the original did.
          EndTag::Ignored
            if &*name == b"body"
              || &*name == b"html"
              || (&*name == b"head" && !code.open.in_head()) =>
          {
            IgnoredTag
          }
          EndTag::Ignored => KeptEndTag,
        };
      };
      typ = maybe_ignore_html_head_body(code, typ, parent, &name);
    };
    match typ {
      Text => break,
      OpeningTag => {
        let element = parse_element(code, ns, parent);
        code.scratch.push(element);
      }
      ClosingTag => {
        closing_tag_omitted = false;
        // sitevault patch 13: the end tag closed elements left open in this one.
        closes_open = std::mem::take(&mut code.closes_open);
        break;
      }
      Instruction => {
        let node = parse_instruction(code);
        code.scratch.push(node);
      }
      Bang => {
        let node = parse_bang(code);
        code.scratch.push(node);
      }
      Comment => {
        let node = parse_comment(code);
        code.scratch.push(node);
      }
      Doctype => {
        let node = parse_doctype(code);
        code.scratch.push(node);
      }
      // sitevault patch 19: `</` that ends the page is text to browsers (the tokenizer
      // emits it as written); it was dropped.
      MalformedLeftChevronSlash if code.rem() == 2 => {
        let start = code.pos();
        code.shift(2);
        let raw_source = Cow::Borrowed(code.slice_since(start));
        code.scratch.push(NodeData::Opaque { raw_source });
      }
      MalformedLeftChevronSlash => {
        code.shift(match memchr::memchr(b'>', code.as_slice()) {
          Some(m) => m + 1,
          None => code.rem(),
        });
        keep_first_line(&mut code.scratch, base, ns, parent);
      }
      OmittedClosingTag => {
        closing_tag_omitted = true;
        break;
      }
      ClosedByAncestor => {
        closing_tag_omitted = true;
        code.closes_open = true;
        break;
      }
      // sitevault patch: consumed, not built (it was dropped).
      IgnoredTag => {
        skip_tag(code);
        keep_first_line(&mut code.scratch, base, ns, parent);
      }
      KeptEndTag => {
        let start = code.pos();
        skip_tag(code);
        let raw_source = Cow::Borrowed(code.slice_since(start));
        code.scratch.push(NodeData::Opaque { raw_source });
      }
      e @ (OpaqueBraceBrace | OpaqueBraceHash | OpaqueBracePercent | OpaqueChevronPercent) => {
        let closing_matcher = match e {
          OpaqueBraceBrace => &CLOSING_BRACE_BRACE,
          OpaqueBraceHash => &CLOSING_BRACE_HASH,
          OpaqueBracePercent => &CLOSING_BRACE_PERCENT,
          OpaqueChevronPercent => &CLOSING_CHEVRON_PERCENT,
          _ => unreachable!(),
        };
        // We must skip past opening as otherwise something like `{%}` matches both opening and closing delimiters.
        let len = match closing_matcher.find(&code.as_slice()[2..]) {
          // It's probably safer to assume it's implicitly closed by EOF instead of reinterpreting as literal HTML text and possibly mangling template code.
          Some(m) => m.end(),
          None => code.rem(),
        };
        // sitevault patch: borrowed from the source, not copied.
        let raw_source = Cow::Borrowed(code.slice_and_shift(len));
        code.scratch.push(NodeData::Opaque { raw_source });
      }
    };
  }
  // (`split_off` moves the children with one copy; at 0 it would hand over the whole
  // stack, capacity and all.)
  let children = if base == 0 {
    code.scratch.drain(..).collect()
  } else {
    code.scratch.split_off(base)
  };
  ParsedContent {
    children,
    closing_tag_omitted,
    closes_open,
  }
}
