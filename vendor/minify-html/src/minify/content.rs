use super::rcdata::minify_rcdata;
use crate::ast::NodeData;
use crate::ast::ScriptOrStyleLang;
use crate::cfg::Cfg;
use crate::entity::encode::encode_entities;
use crate::entity::decode::reference_len;
use crate::entity::encode::encode_entities_into;
use crate::minify::bang::minify_bang;
use crate::minify::comment::minify_comment;
use crate::minify::css::minify_css;
use crate::minify::doctype::minify_doctype;
use crate::minify::element::minify_element;
use crate::minify::instruction::minify_instruction;
use crate::minify::js::minify_js;
use crate::minify::js::TopLevelMode;
// sitevault patch: the trims and collapse on texts that may be borrowed (`Cow`).
use crate::minify::whitespace::collapse_whitespace;
use crate::minify::whitespace::left_trim;
use crate::minify::whitespace::right_trim;
use aho_corasick::AhoCorasickBuilder;
use aho_corasick::MatchKind;
use minify_html_common::gen::codepoints::TAG_NAME_CHAR;
use minify_html_common::pattern::Replacer;
use minify_html_common::spec::tag::ns::Namespace;
use minify_html_common::spec::tag::whitespace::get_whitespace_minification_for_tag;
use minify_html_common::spec::tag::whitespace::WhitespaceMinification;
use minify_html_common::whitespace::is_all_whitespace;
use once_cell::sync::Lazy;
use std::borrow::Cow;

fn build_optimal_chevron_replacer() -> Replacer {
  let mut patterns = Vec::<Vec<u8>>::new();
  let mut replacements = Vec::<Vec<u8>>::new();

  // Replace all `<` with a `&LT` if it's followed by a TAG_NAME_CHAR, `/`, `!`, or `?`.
  for c in 0u8..128u8 {
    // TODO Create single lookup.
    if TAG_NAME_CHAR[c] || c == b'/' || c == b'!' || c == b'?' {
      patterns.push(vec![b'<', c]);
      replacements.push(vec![b'&', b'L', b'T', c]);
    };
  }

  Replacer::new(
    AhoCorasickBuilder::new()
      .match_kind(MatchKind::LeftmostLongest)
      .build(patterns)
      .unwrap(),
    replacements,
  )
}

fn build_whatwg_chevron_replacer() -> Replacer {
  Replacer::new(AhoCorasickBuilder::new().build(["<"]).unwrap(), vec![
    "&lt;".into(),
  ])
}

static OPTIMAL_CHEVRON_REPLACER: Lazy<Replacer> = Lazy::new(|| build_optimal_chevron_replacer());
static WHATWG_CHEVRON_REPLACER: Lazy<Replacer> = Lazy::new(|| build_whatwg_chevron_replacer());

#[allow(clippy::too_many_arguments)]
pub fn minify_content(
  cfg: &Cfg,
  out: &mut Vec<u8>,
  // sitevault patch 15: whether the page is in quirks mode (`quirks::quirks`).
  quirks: bool,
  ns: Namespace,
  descendant_of_pre: bool,
  // Use empty slice if none.
  parent: &[u8],
  // sitevault patch: the nodes borrow from the page.
  mut nodes: Vec<NodeData<'_>>,
) {
  let &WhitespaceMinification {
    collapse,
    destroy_whole,
    trim,
  } = get_whitespace_minification_for_tag(
    // sitevault patch 17: inside a `<pre>` an SVG element's text keeps its spaces too (it
    // inherits `white-space: pre`); the original collapsed and trimmed them.
    if descendant_of_pre { Namespace::Html } else { ns },
    parent,
    descendant_of_pre,
  );

  // TODO Document or fix: even though bangs/comments/etc. don't affect layout, we don't collapse/destroy-whole/trim combined text nodes across bangs/comments/etc., as that's too complex and is ambiguous about which nodes should whitespace be deleted from.
  let mut found_first_text_or_elem = false;
  let mut index_of_last_nonempty_text_or_elem: isize = -1;
  let mut index_of_last_text_or_elem: isize = -1;
  for i in 0..nodes.len() {
    match &mut nodes[i] {
      // sitevault patch: an element's next sibling's name is looked up when the element is
      // written (`next_sibling_name`), not copied into it here (an allocation each).
      NodeData::Element { .. } => {
        found_first_text_or_elem = true;
        index_of_last_nonempty_text_or_elem = i as isize;
        index_of_last_text_or_elem = i as isize;
      }
      // sitevault patch 13: an end tag kept as written (or template syntax) is content: an
      // element before it is not the last (its end tag stays, and the kept tag reads as it
      // did in the source).
      NodeData::Opaque { .. } => {
        index_of_last_nonempty_text_or_elem = i as isize;
      }
      NodeData::Text { value } => {
        if !found_first_text_or_elem {
          // This is the first element or text node, and it's a text node.
          found_first_text_or_elem = true;
          if trim {
            left_trim(value);
          };
        };
        // Our parser is guaranteed to output contiguous text as a single node,
        // so the adjacent nodes to a text node (not counting comments/bangs/etc.) should be elements.
        // TODO debug_assert this and add tests.
        if destroy_whole && is_all_whitespace(value) {
          // sitevault patch: emptied without copying (`value` may be borrowed).
          *value = Cow::Borrowed(&[]);
        } else if collapse {
          collapse_whitespace(value);
        };
        // Set AFTER processing.
        index_of_last_text_or_elem = i as isize;
        if !value.is_empty() {
          index_of_last_nonempty_text_or_elem = i as isize;
        };
      }
      _ => {}
    };
  }
  if trim && index_of_last_text_or_elem > -1 {
    if let NodeData::Text { value } = nodes.get_mut(index_of_last_text_or_elem as usize).unwrap() {
      right_trim(value);
    };
  }

  for i in 0..nodes.len() {
    // sitevault patch: the placeholder is an empty borrowed text.
    let c = std::mem::replace(&mut nodes[i], NodeData::Text {
      value: Cow::Borrowed(&[]),
    });
    match c {
      NodeData::Bang { code, ended } => minify_bang(cfg, out, &code, ended),
      NodeData::Comment { code, ended } => minify_comment(cfg, out, &code, ended),
      NodeData::Doctype { legacy, ended } => minify_doctype(cfg, out, &legacy, ended),
      NodeData::Element {
        attributes,
        children,
        closing_tag,
        name,
        namespace: child_ns,
      } => minify_element(
        cfg,
        out,
        quirks,
        descendant_of_pre,
        child_ns,
        parent,
        next_sibling_name(&nodes[i + 1..]),
        (i as isize) == index_of_last_nonempty_text_or_elem,
        &name,
        attributes,
        closing_tag,
        children,
      ),
      NodeData::Instruction { code, ended } => minify_instruction(cfg, out, &code, ended),
      NodeData::RcdataContent { typ, text } => minify_rcdata(cfg, out, typ, &text),
      NodeData::ScriptOrStyleContent { code, lang: _ } if code.is_empty() => {}
      NodeData::ScriptOrStyleContent { code, lang } => match lang {
        ScriptOrStyleLang::CSS => minify_css(cfg, out, &code),
        ScriptOrStyleLang::Data => out.extend_from_slice(&code),
        ScriptOrStyleLang::JS => minify_js(cfg, TopLevelMode::Global, out, &code),
        ScriptOrStyleLang::JSModule => minify_js(cfg, TopLevelMode::Module, out, &code),
      },
      NodeData::Text { value } => {
        let at = out.len();
        // sitevault patch: both replacers below only replace at a `<`, and encoding
        // neither adds nor removes one: text without one is encoded straight into `out`.
        if memchr::memchr(b'<', &value).is_none() {
          encode_entities_into(out, &value, false, !cfg.allow_optimal_entities);
        } else {
          let min = encode_entities(&value, false, !cfg.allow_optimal_entities);
          let min = if cfg.allow_optimal_entities {
            OPTIMAL_CHEVRON_REPLACER.replace_all(&min)
          } else {
            WHATWG_CHEVRON_REPLACER.replace_all(&min)
          };
          out.extend_from_slice(&min);
        }
        keep_references_apart(out, at);
      }
      NodeData::Opaque { raw_source } => out.extend_from_slice(&raw_source),
    };
  }
}

// sitevault patch (8): text written at `at` right after other text (a comment between them
// removed: `&am<!-- -->p;`) must not run into a `&` the output ends with and make a character
// reference the page did not have (`&amp;`, which shows `&`), nor lengthen one it ends with
// (`&lt` then `;`, or `&#6` then `5`). Such a `&` is written `&amp;`, such a reference is
// ended with `;`: each then reads as it did on its own.
fn keep_references_apart(out: &mut Vec<u8>, at: usize) {
  let name = |c: &u8| c.is_ascii_alphanumeric() || *c == b'#';
  if !out.get(at).is_some_and(|c| name(c) || *c == b';') {
    return;
  }
  let run = out[..at].iter().rev().take_while(|c| name(c)).count();
  let Some(amp) = at.checked_sub(run + 1) else {
    return;
  };
  if out[amp] != b'&' {
    return;
  }
  let alone = reference_len(&out[amp..at]);
  // A name is at most 32 bytes with its `;`; a number that goes on shows in one more.
  let end = out.len().min(at + 33);
  match (alone, reference_len(&out[amp..end])) {
    (None, None) => {}
    (None, Some(_)) => {
      out.splice(amp + 1..amp + 1, *b"amp;");
    }
    (Some(len), joined) if joined != Some(len) => {
      out.insert(amp + len, b';');
    }
    _ => {}
  }
}

// sitevault patch: the name of the element that follows, when the next element or non-empty
// text after `rest`'s start (comments, bangs and the like skipped) is an element; else empty.
// Texts are already trimmed and collapsed, as the original's first pass saw them; the last
// one's right trim cannot change an answer, as no element follows it. (Patch 5: the name is
// borrowed from the node, which borrows from the page.)
fn next_sibling_name<'n>(rest: &'n [NodeData<'_>]) -> &'n [u8] {
  for n in rest {
    match n {
      NodeData::Element { name, .. } => return name,
      NodeData::Text { value } if !value.is_empty() => return b"",
      // sitevault patch 13: as text (see `minify_content`).
      NodeData::Opaque { .. } => return b"",
      _ => {}
    }
  }
  b""
}

// sitevault patch (8): a reference the output ends with is ended before text that would
// lengthen it; a `&` of its own before text that would make it one is written `&amp;`.
#[cfg(test)]
mod keep_references_apart_tests {
  use super::keep_references_apart;

  fn joined(before: &[u8], after: &[u8]) -> String {
    let mut out = before.to_vec();
    out.extend_from_slice(after);
    keep_references_apart(&mut out, before.len());
    String::from_utf8(out).unwrap()
  }

  #[test]
  fn references_are_kept_apart() {
    assert_eq!(joined(b"x &#6", b"5;"), "x &#6;5;");
    assert_eq!(joined(b"x &lt", b";"), "x &lt;;");
    assert_eq!(joined(b"x &am", b"p;"), "x &amp;amp;");
    assert_eq!(joined(b"x &", b"#x41"), "x &amp;#x41");
    // Nothing to keep apart.
    assert_eq!(joined(b"x &ltfoo", b"bar"), "x &ltfoobar");
    assert_eq!(joined(b"x &lt;", b"b"), "x &lt;b");
    assert_eq!(joined(b"<b>", b"amp;"), "<b>amp;");
    assert_eq!(joined(b"", b"amp;"), "amp;");
    assert_eq!(joined(b"&xyz", b" q"), "&xyz q");
  }
}
