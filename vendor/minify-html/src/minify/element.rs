use crate::ast::Attrs;
use crate::ast::ElementClosingTag;
use crate::ast::NodeData;
use crate::cfg::Cfg;
use crate::minify::attr::minify_attr;
use crate::minify::attr::AttrMinified;
use crate::minify::content::minify_content;
use crate::parse::end_tag::closes_child;
use minify_html_common::spec::tag::ns::Namespace;
use crate::tag::can_omit_as_before;
use crate::tag::can_omit_as_last_node;

#[allow(clippy::too_many_arguments)]
pub fn minify_element(
  cfg: &Cfg,
  out: &mut Vec<u8>,
  // sitevault patch 15: whether the page is in quirks mode (`quirks::quirks`).
  quirks: bool,
  descendant_of_pre: bool,
  ns: Namespace,
  // Use an empty slice if none.
  parent: &[u8],
  // Use an empty slice if the next element or text sibling node is not an element.
  next_sibling_as_element_tag_name: &[u8],
  // If the last node of the parent is an element and it's this one.
  is_last_child_text_or_element_node: bool,
  tag_name: &[u8],
  // sitevault patch: both borrow from the page.
  attributes: Attrs<'_>,
  closing_tag: ElementClosingTag,
  children: Vec<NodeData<'_>>,
) {
  // Output quoted attributes, followed by unquoted, to optimise space omission between attributes.
  // sitevault patch 22: both in one vector (one allocation per element, not two), quoted
  // ones first, each part sorted by name as before.
  let mut minified = Vec::with_capacity(attributes.len());

  let is_meta_viewport = tag_name == b"meta"
    && attributes
      .get(b"name")
      .filter(|a| a.value.eq_ignore_ascii_case(b"viewport"))
      .is_some();

  for (name, value) in attributes {
    match minify_attr(cfg, ns, tag_name, is_meta_viewport, &name, value.value) {
      AttrMinified::Redundant => {}
      a => {
        debug_assert!(!matches!(&a, AttrMinified::Value(v) if v.len() == 0));
        minified.push((name, a))
      }
    };
  }
  let is_quoted = |a: &AttrMinified| matches!(a, AttrMinified::Value(v) if v.quoted());

  // Determinism. (Names are unique: `Attrs::finish` dropped repeats.)
  minified.sort_unstable_by(|a, b| (!is_quoted(&a.1), &a.0).cmp(&(!is_quoted(&b.1), &b.0)));
  let quoted_len = minified.iter().take_while(|a| is_quoted(&a.1)).count();
  let (quoted, unquoted) = minified.split_at(quoted_len);

  // Attributes list could become empty after minification, so check opening tag omission eligibility after attributes minification.
  // sitevault patch 4: shared with the `<body>` check below.
  let opening_tag_omittable =
    quoted.len() + unquoted.len() == 0 && !cfg.keep_html_and_head_opening_tags;
  let can_omit_opening_tag = (tag_name == b"html" || tag_name == b"head") && opening_tag_omittable;
  // sitevault patch 13: as the last child only where the parent's end tag closes it in
  // browsers (`closes_child`): `<span><p>a</p></span>b` was written `<span><p>a</span>b`,
  // whose `</span>` browsers ignore, putting `b` in the paragraph.
  // sitevault patch 15: in quirks mode a `<table>` does not close a `<p>`: its end tag stays.
  let can_omit_closing_tag = !cfg.keep_closing_tags
    && (can_omit_as_before(tag_name, next_sibling_as_element_tag_name)
      && !(quirks && tag_name == b"p" && next_sibling_as_element_tag_name == b"table")
      || (is_last_child_text_or_element_node
        && can_omit_as_last_node(parent, tag_name)
        && closes_child(parent, tag_name)));

  let opening_at = out.len();
  if !can_omit_opening_tag {
    out.push(b'<');
    out.extend_from_slice(tag_name);

    for (i, (name, value)) in quoted.iter().enumerate() {
      if i == 0 || !cfg.allow_removing_spaces_between_attributes {
        out.push(b' ');
      };
      out.extend_from_slice(name);
      out.push(b'=');
      if let AttrMinified::Value(v) = value {
        debug_assert!(v.quoted());
        v.out(out);
      }
    }
    for (i, (name, value)) in unquoted.iter().enumerate() {
      // Write a space between unquoted attributes,
      // or after the tag name if it wasn't written already during `quoted` processing,
      // or if forced by Cfg.
      if i > 0 || (i == 0 && quoted.is_empty()) || !cfg.allow_removing_spaces_between_attributes {
        out.push(b' ');
      };
      out.extend_from_slice(name);
      if let AttrMinified::Value(v) = value {
        out.push(b'=');
        v.out(out);
      };
    }

    if closing_tag == ElementClosingTag::SelfClosing {
      // Write a space only if the last attribute is unquoted.
      if !unquoted.is_empty() {
        out.push(b' ');
      };
      out.push(b'/');
    };
    out.push(b'>');
  }

  if closing_tag == ElementClosingTag::SelfClosing || closing_tag == ElementClosingTag::Void {
    debug_assert!(children.is_empty());
    return;
  };

  // sitevault patch 17: browsers drop a line feed right after `<pre>` or `<listing>`; one
  // that followed a comment was not dropped (the comment came first), but with the comment
  // left out it now would: `<pre><!-- c -->\nq` lost its first line. Such content gets
  // one more line feed. (A `<textarea>`'s text has no comments.)
  let pre_like = ns == Namespace::Html && (tag_name == b"pre" || tag_name == b"listing");
  let source_dropped_lf = pre_like
    && matches!(
      children.first(),
      Some(NodeData::Text { value }) if value.first() == Some(&b'\n')
    );
  let content_at = out.len();
  minify_content(
    cfg,
    out,
    quirks,
    if tag_name == b"svg" {
      Namespace::Svg
    } else {
      ns
    },
    // sitevault patch 17: a `<listing>`'s spaces and line breaks show, as a `<pre>`'s do
    // (browsers' style sheet); the original collapsed them.
    descendant_of_pre || pre_like,
    tag_name,
    children,
  );
  if pre_like && !source_dropped_lf && out.get(content_at) == Some(&b'\n') {
    out.insert(content_at, b'\n');
  }

  // sitevault patch 4: `<body>` without attributes is left out when what follows it is an
  // element that the parser, meeting it after the head, puts in a body it opens itself
  // (the spec's optional tags: "the first thing inside the body element is not ASCII
  // whitespace or a comment", nor an element the head takes). Decided on what was written,
  // so whitespace, comments and text kept first (and an empty body) keep the tag.
  if tag_name == b"body"
    && ns == Namespace::Html
    && opening_tag_omittable
    && out.get(opening_at..opening_at + 6) == Some(b"<body>".as_slice())
    && opens_body(&out[opening_at + 6..])
  {
    out.drain(opening_at..opening_at + 6);
  }

  // sitevault patch 13: a `Forced` end tag is always written.
  let written = match closing_tag {
    ElementClosingTag::Forced => true,
    ElementClosingTag::Present => !can_omit_closing_tag,
    _ => false,
  };
  if !written {
    return;
  };
  out.extend_from_slice(b"</");
  out.extend_from_slice(tag_name);
  out.push(b'>');
}

// sitevault patch 4: whether `rest` starts with the start tag of an element that, met after the
// head (its end tag left out), makes the parser open the body: any element but those the
// "in head" and "after head" insertion modes take (into the head, or a frameset).
fn opens_body(rest: &[u8]) -> bool {
  const HEAD_TAKES: &[&[u8]] = &[
    b"base",
    b"basefont",
    b"bgsound",
    b"body",
    b"frameset",
    b"head",
    b"html",
    b"link",
    b"meta",
    b"noframes",
    b"noscript",
    b"script",
    b"style",
    b"template",
    b"title",
  ];
  if rest.first() != Some(&b'<') || !rest.get(1).is_some_and(|c| c.is_ascii_alphabetic()) {
    return false;
  }
  let name_len = rest[1..]
    .iter()
    .position(|c| c.is_ascii_whitespace() || matches!(c, b'/' | b'>'))
    .unwrap_or(rest.len() - 1);
  let name = &rest[1..1 + name_len];
  !HEAD_TAKES.iter().any(|h| h.eq_ignore_ascii_case(name))
}
