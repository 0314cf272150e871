// sitevault patch 13: which open element an end tag closes, by the HTML standard's tree
// construction rules for end tags ("in body", the table modes, "in select", foreign content
// and the raw text elements), read against the parser's stack of open elements.
//
// The original closed only the current element or (for an omitted end tag) its parent, and
// dropped every other end tag: `<div><span>a</div>`, `<ul><li><p>a</ul>` or
// `<table><tr><td>a</table>` lost the end tag, and the rest of the page went into the open
// element. The elements an end tag closes keep their end tags left out, as in the source,
// and the end tag that closed them is written. Where these rules find nothing to close,
// the parser keeps the tag as written (browsers may act on it where the parser's tree is
// not theirs): a stray `</p>` or `</br>`, the adoption agency's restructuring (a formatting
// element's end tag with a special element open inside it), a `<select>` (whose parsing
// browsers changed in 2025), table parts outside a table; `</body>`, `</html>` and a
// `</head>` outside the head, which close nothing, are dropped.

use minify_html_common::spec::tag::ns::Namespace;
use std::borrow::Cow;

/// How far down the stack an end tag's element is looked for. Past it the tag is kept as
/// written, so a page of deep nesting and many stray end tags stays linear.
const REACH: usize = 64;

/// How browsers read an element that starts: as SVG, as MathML or as HTML.
#[derive(Copy, Clone)]
pub struct Start(Option<Foreign>);

impl Start {
  /// The parser's namespace for the element: SVG for SVG, HTML for the rest (the parser
  /// reads MathML as HTML). The original gave every element inside an `<svg>` the SVG
  /// namespace, also those browsers read as HTML: an HTML element that leaves the SVG
  /// (`<svg><p>`) and what follows it, and the content of `<foreignObject>`, `<desc>` and
  /// `<title>` (so a `<textarea>` there lost its text's spaces).
  pub fn namespace(self) -> Namespace {
    match self.0 {
      Some(Foreign::Svg) => Namespace::Svg,
      _ => Namespace::Html,
    }
  }

  /// Whether browsers read it as SVG or MathML (where `/>` closes an element).
  pub fn foreign(self) -> bool {
    self.0.is_some()
  }
}

/// The stack of open elements, with where its `<select>`s and `ENDED_BY_OWN_TAG` elements
/// are and how many `<head>`s it has (each end tag asks).
#[derive(Default)]
pub struct OpenElements<'c> {
  stack: Vec<Open<'c>>,
  selects: Vec<usize>,
  own_tag: Vec<usize>,
  heads: usize,
  tables: usize,
  /// Open table parts (`<td>`, `<tr>`, `<thead>`…) with no `<table>` open around them:
  /// browsers drop their start tags, the parser makes elements, so the stacks differ and
  /// every end tag is kept as written while one is open.
  phantoms: usize,
}

/// An element on the stack of open elements, as browsers see it.
pub struct Open<'c> {
  /// Lower case.
  name: Cow<'c, [u8]>,
  /// In browsers' foreign content: SVG or MathML (the parser knows only SVG, and keeps an
  /// element that browsers take out of the SVG in it).
  foreign: Option<Foreign>,
  /// A foreign element that browsers have closed: a start tag inside it broke out of the
  /// foreign content (`BREAKS_OUT`). The parser still has it open.
  broken: bool,
}

#[derive(Copy, Clone, Eq, PartialEq)]
enum Foreign {
  Svg,
  MathMl,
}

impl<'c> OpenElements<'c> {
  /// An element named `name` (lower case) starts inside the open ones: whether browsers read
  /// it as SVG (or MathML); a start tag that leaves foreign content (`BREAKS_OUT`) marks the
  /// foreign elements it leaves as closed in browsers.
  /// `font_attrs`: whether it has a `color`, `face` or `size` attribute (a `<font>` with
  /// one leaves foreign content).
  pub fn start(&mut self, name: &[u8], font_attrs: bool) -> Start {
    Start(foreign_of(&mut self.stack, name, font_attrs))
  }

  /// Opens the element that `start` started.
  pub fn push(&mut self, name: Cow<'c, [u8]>, Start(foreign): Start) {
    let open = &mut self.stack;
    if foreign.is_none() {
      match &*name {
        b"select" => self.selects.push(open.len()),
        b"head" => self.heads += 1,
        b"table" => self.tables += 1,
        n if is_in(n, TABLE_PARTS) && self.tables == 0 => self.phantoms += 1,
        n if is_in(n, ENDED_BY_OWN_TAG) => self.own_tag.push(open.len()),
        _ => {}
      }
    }
    open.push(Open {
      name,
      foreign,
      broken: false,
    });
  }

  /// Closes the current element.
  pub fn pop(&mut self) {
    let at = self.stack.len().saturating_sub(1);
    if let Some(e) = self.stack.pop() {
      if e.foreign.is_none() {
        match &*e.name {
          b"select" => drop(self.selects.pop()),
          b"head" => self.heads -= 1,
          b"table" => self.tables -= 1,
          n if is_in(n, TABLE_PARTS) && self.tables == 0 => self.phantoms -= 1,
          _ => {}
        }
        if self.own_tag.last() == Some(&at) {
          self.own_tag.pop();
        }
      }
    }
  }

  /// What the end tag `name` does at the parser's current level (the top of the stack).
  pub fn end_tag(&self, name: &[u8]) -> EndTag {
    if self.phantoms > 0 {
      return EndTag::Ignored;
    }
    let open = &self.stack;
    match target(open, self.selects.last().copied(), &self.own_tag, name) {
      Some(i) if i + 1 == open.len() => EndTag::Current,
      Some(_) => EndTag::Ancestor,
      None => EndTag::Ignored,
    }
  }

  /// Whether a `<head>` is open.
  pub fn in_head(&self) -> bool {
    self.heads > 0
  }
}

/// Whether the end tag of `parent` (an HTML element) closes its child `child` as browsers
/// read it, so the child's end tag may be left out before it: `</div>` closes a `<p>`,
/// `</span>` does not (browsers ignore it, and what follows goes into the paragraph). At
/// the end of the page (no parent) and of `<body>` and `<html>` (whose end tags close
/// nothing, but nothing the page shows comes after them) it may be left out.
pub fn closes_child(parent: &[u8], child: &[u8]) -> bool {
  if matches!(parent, b"" | b"body" | b"html") {
    return true;
  }
  let open = [
    Open {
      name: Cow::Borrowed(parent),
      foreign: None,
      broken: false,
    },
    Open {
      name: Cow::Borrowed(child),
      foreign: None,
      broken: false,
    },
  ];
  target(&open, None, &[], parent) == Some(0)
}

/// Whether browsers read an element named `name` opened inside `open` as SVG or MathML;
/// marks the foreign elements it breaks out of.
fn foreign_of(open: &mut [Open], name: &[u8], font_attrs: bool) -> Option<Foreign> {
  match open.last() {
    Some(parent) if parent.foreign.is_some() && !parent.broken && !integration_point(parent) => {
      if is_in(name, BREAKS_OUT) && (name != b"font" || font_attrs) {
        for e in open
          .iter_mut()
          .rev()
          .take_while(|e| e.foreign.is_some() && !integration_point(e))
        {
          e.broken = true;
        }
        None
      } else if name == b"svg" {
        Some(Foreign::Svg)
      } else {
        parent.foreign
      }
    }
    _ => match name {
      b"svg" => Some(Foreign::Svg),
      b"math" => Some(Foreign::MathMl),
      _ => None,
    },
  }
}

/// A foreign element whose content browsers read as HTML.
fn integration_point(e: &Open) -> bool {
  match e.foreign {
    Some(Foreign::Svg) => is_in(&e.name, &[b"foreignobject", b"desc", b"title"]),
    Some(Foreign::MathMl) => is_in(&e.name, MATHML_TEXT),
    None => false,
  }
}

/// What an end tag does, for the parser's current level.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum EndTag {
  /// Closes the current element (the top of the stack), which consumes the tag.
  Current,
  /// Closes an element further down the stack: the current element ends here, implied,
  /// and the tag is left for the levels below.
  Ancestor,
  /// Closes nothing here (the parser keeps the tag as written: `</p>` and `</br>` without
  /// an open paragraph make elements in browsers, and they make the same from the tag).
  Ignored,
}

fn is_in(name: &[u8], list: &[&[u8]]) -> bool {
  list.contains(&name)
}

/// The standard's special elements (a `match`, not a list: it is asked for every element an
/// end tag passes).
fn special_name(name: &[u8]) -> bool {
  #[rustfmt::skip]
  let special = matches!(
    name,
    b"address" | b"applet" | b"area" | b"article" | b"aside" | b"base" | b"basefont" |
    b"bgsound" | b"blockquote" | b"body" | b"br" | b"button" | b"caption" | b"center" |
    b"col" | b"colgroup" | b"dd" | b"details" | b"dir" | b"div" | b"dl" | b"dt" | b"embed" |
    b"fieldset" | b"figcaption" | b"figure" | b"footer" | b"form" | b"frame" | b"frameset" |
    b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6" | b"head" | b"header" | b"hgroup" | b"hr" |
    b"html" | b"iframe" | b"img" | b"input" | b"keygen" | b"li" | b"link" | b"listing" |
    b"main" | b"marquee" | b"menu" | b"meta" | b"nav" | b"noembed" | b"noframes" |
    b"noscript" | b"object" | b"ol" | b"p" | b"param" | b"plaintext" | b"pre" | b"script" |
    b"search" | b"section" | b"select" | b"source" | b"style" | b"summary" | b"table" |
    b"tbody" | b"td" | b"template" | b"textarea" | b"tfoot" | b"th" | b"thead" | b"title" |
    b"tr" | b"track" | b"ul" | b"wbr" | b"xmp"
  );
  special
}

/// End tags closed up to the element "in scope" (the standard's list for `</address>` …
/// `</ul>`, with `dd`, `dt`, `applet`, `marquee`, `object`).
#[rustfmt::skip]
const CLOSED_IN_SCOPE: &[&[u8]] = &[
  b"address", b"article", b"aside", b"blockquote", b"button", b"center", b"details", b"dialog",
  b"dir", b"div", b"dl", b"fieldset", b"figcaption", b"figure", b"footer", b"header",
  b"hgroup", b"listing", b"main", b"menu", b"nav", b"ol", b"pre", b"search", b"section",
  b"summary", b"ul", b"dd", b"dt", b"applet", b"marquee", b"object",
];

/// The elements whose end tags browsers imply ("generate implied end tags").
const IMPLIED: &[&[u8]] = &[
  b"dd",
  b"dt",
  b"li",
  b"optgroup",
  b"option",
  b"p",
  b"rb",
  b"rp",
  b"rt",
  b"rtc",
];

/// Start tags that close an open `<p>` in browsers besides those after which the standard
/// lets a `<p>`'s end tag be left out (which the parser knows): a `<p>` followed by one of
/// these in the source ends there.
const CLOSE_P: &[&[u8]] = &[
  b"center",
  b"dialog",
  b"dir",
  b"listing",
  b"search",
  b"summary",
  b"xmp",
  b"plaintext",
  b"li",
  b"dd",
  b"dt",
];

/// Whether the start tag `name` closes the current element, a `<p>` (`CLOSE_P`).
pub fn closes_p(name: &[u8]) -> bool {
  is_in(name, CLOSE_P)
}

const TABLE: &[&[u8]] = &[
  b"table",
  b"tbody",
  b"thead",
  b"tfoot",
  b"tr",
  b"td",
  b"th",
  b"caption",
  b"colgroup",
];

/// Table parts whose start tags browsers drop outside a table.
const TABLE_PARTS: &[&[u8]] = &[
  b"caption",
  b"col",
  b"colgroup",
  b"tbody",
  b"td",
  b"tfoot",
  b"th",
  b"thead",
  b"tr",
];

const HEADINGS: &[&[u8]] = &[b"h1", b"h2", b"h3", b"h4", b"h5", b"h6"];

/// Elements whose content browsers read as text up to their end tag (scripting on for
/// `noscript`), and `template`, whose content has rules of its own that this does not
/// follow: the parser reads their content as markup; only their own end tag acts inside.
const ENDED_BY_OWN_TAG: &[&[u8]] = &[
  b"iframe",
  b"noembed",
  b"noframes",
  b"noscript",
  b"xmp",
  b"template",
];

#[derive(Copy, Clone)]
enum Scope {
  Default,
  ListItem,
  Button,
  Table,
}

/// MathML's text integration points (and `annotation-xml`), special elements and scope
/// boundaries.
const MATHML_TEXT: &[&[u8]] = &[b"mi", b"mo", b"mn", b"ms", b"mtext", b"annotation-xml"];

/// Start tags that leave foreign content: browsers close the `<svg>` (or `<math>`) and open
/// an HTML element, where the parser keeps the element inside the SVG (`font` only with a
/// `color`, `face` or `size` attribute: `OpenElements::start`).
#[rustfmt::skip]
const BREAKS_OUT: &[&[u8]] = &[
  b"b", b"big", b"blockquote", b"body", b"br", b"center", b"code", b"dd", b"div", b"dl", b"dt",
  b"em", b"embed", b"font", b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"head", b"hr", b"i",
  b"img", b"li", b"listing", b"menu", b"meta", b"nobr", b"ol", b"p", b"pre", b"ruby", b"s",
  b"small", b"span", b"strong", b"strike", b"sub", b"sup", b"table", b"tt", b"u", b"ul", b"var",
];

fn is_special(e: &Open) -> bool {
  match e.foreign {
    None => special_name(&e.name),
    Some(_) => integration_point(e),
  }
}

fn bounds(e: &Open, scope: Scope) -> bool {
  if e.foreign.is_some() {
    return is_special(e);
  }
  match scope {
    Scope::Table => is_in(&e.name, &[b"html", b"table", b"template"]),
    _ => {
      is_in(
        &e.name,
        &[
          b"applet",
          b"caption",
          b"html",
          b"table",
          b"td",
          b"th",
          b"marquee",
          b"object",
          b"template",
        ],
      ) || matches!(scope, Scope::ListItem if is_in(&e.name, &[b"ol", b"ul"]))
        || matches!(scope, Scope::Button if &*e.name == b"button")
    }
  }
}

/// The topmost HTML element named in `names` that is in `scope`.
fn in_scope(open: &[Open], names: &[&[u8]], scope: Scope) -> Option<usize> {
  for (i, e) in open.iter().enumerate().rev().take(REACH) {
    if e.foreign.is_none() && is_in(&e.name, names) {
      return Some(i);
    }
    if bounds(e, scope) {
      return None;
    }
  }
  None
}

/// The element the end tag `name` closes: its index in `open` (bottom first), or `None`.
/// `select` is where the topmost open `<select>` is, `own_tag` where the elements of
/// `ENDED_BY_OWN_TAG` are.
fn target(open: &[Open], select: Option<usize>, own_tag: &[usize], name: &[u8]) -> Option<usize> {
  // Foreign content: the end tag closes the nearest foreign element of its name above the
  // first HTML element; otherwise the HTML rules apply. Foreign elements that browsers closed
  // (`broken`) are open in the parser only: the tag is kept as written.
  for (i, e) in open.iter().enumerate().rev().take(REACH) {
    if e.foreign.is_none() {
      break;
    }
    if e.broken {
      return None;
    }
    if &*e.name == name {
      return Some(i);
    }
  }
  // In a `<select>`, browsers before 2025 drop every end tag but `</select>`, `</option>` and
  // `</optgroup>` (those that close the current element are read before this); since, they
  // read them as in the body: kept as written.
  if let Some(select) = select {
    let n = open.len();
    return match name {
      b"select" => Some(select),
      b"optgroup" if n >= 2 && &*open[n - 1].name == b"option" && &*open[n - 2].name == name => {
        Some(n - 2)
      }
      _ => None,
    };
  }
  // Inside an element browsers read as text (`<xmp>`, `<noscript>`…; `<template>`, whose
  // content the parser reads without its rules), only its own end tag closes anything.
  if let Some(&i) = own_tag.last() {
    return (&*open[i].name == name).then_some(i);
  }
  if is_in(name, CLOSED_IN_SCOPE) {
    return in_scope(open, &[name], Scope::Default);
  }
  if is_in(name, HEADINGS) {
    return in_scope(open, HEADINGS, Scope::Default);
  }
  if is_in(name, TABLE) {
    return in_scope(open, &[name], Scope::Table);
  }
  match name {
    // `</form>` takes the form out of the stack, wherever it is, after the elements whose
    // end tags are implied: it closes the form when only such elements are open in it.
    // (Browsers find the form by their form element pointer, which the parser does not
    // keep: a `<form>` inside a form is dropped.)
    b"form" => {
      return in_scope(open, &[name], Scope::Default).filter(|&i| {
        open[i + 1..]
          .iter()
          .all(|e| e.foreign.is_none() && is_in(&e.name, IMPLIED))
      })
    }
    b"li" => return in_scope(open, &[name], Scope::ListItem),
    b"p" => return in_scope(open, &[name], Scope::Button),
    // Close nothing here: `</body>`, `</html>` and a `</head>` outside the head are dropped,
    // `</br>` (a `<br>` in browsers) is kept as written (`parse_content`).
    b"body" | b"html" | b"head" | b"br" => return None,
    _ => {}
  }
  // A formatting element's end tag and "any other end tag": the nearest element of the name,
  // unless a special element is open above it (for a formatting element, the adoption
  // agency would then move elements: kept as written).
  for (i, e) in open.iter().enumerate().rev().take(REACH) {
    if e.foreign.is_none() && &*e.name == name {
      return Some(i);
    }
    if is_special(e) {
      return None;
    }
  }
  None
}
